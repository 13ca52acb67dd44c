//! The GPU set-up steps every model's kernels share: creating buffers (initialised or
//! empty, padded to what wgpu binds), compiling a model's kernels in one go, and the
//! record set of a batch (spike bits, voltage rows, their staging buffer). LIF and HV
//! set-ups both go through here, so a new model's set-up is its own buffers and bind
//! groups only.

use std::borrow::Cow;

use wgpu::util::DeviceExt;

use super::batch::RecordSet;
use super::pipelines::Kernel;
use crate::error::Result;

/// Bytes of `data`, zero-padded to at least 64 bytes (a binding must hold one element of
/// the largest struct, and wgpu rejects empty bindings); large arrays are not copied.
pub(super) fn padded(data: &[u8]) -> Cow<'_, [u8]> {
    if data.len() >= 64 && data.len().is_multiple_of(4) {
        return Cow::Borrowed(data);
    }
    let mut v = data.to_vec();
    v.resize(v.len().max(64).next_multiple_of(16), 0);
    Cow::Owned(v)
}

/// The size a buffer of `bytes` is created with (see [`padded`]).
pub(super) fn padded_size(bytes: u64) -> u64 {
    bytes.max(64).next_multiple_of(16)
}

/// Creates the buffers of one set-up on one device.
#[derive(Clone, Copy)]
pub(super) struct Uploader<'a> {
    pub(super) device: &'a wgpu::Device,
}

impl Uploader<'_> {
    /// A buffer holding `data` (padded).
    pub(super) fn init(&self, label: &str, data: &[u8], usage: wgpu::BufferUsages) -> wgpu::Buffer {
        self.device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: &padded(data),
                usage,
            })
    }

    /// An uninitialised buffer of `bytes` (padded).
    pub(super) fn empty(&self, label: &str, bytes: u64, usage: wgpu::BufferUsages) -> wgpu::Buffer {
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: padded_size(bytes),
            usage,
            mapped_at_creation: false,
        })
    }

    /// The buffers of one record set (`tag` "A" or "B"): spike bits and voltage rows of
    /// `batch` steps, and a staging buffer of `staging_bytes` for their readback; `ext`
    /// holds the model's own buffers and bind groups of the set.
    pub(super) fn record_set<X>(
        &self,
        tag: &str,
        batch: u64,
        words: u64,
        probes: u64,
        staging_bytes: u64,
        ext: impl FnOnce(&wgpu::Buffer, &wgpu::Buffer) -> X,
    ) -> RecordSet<X> {
        use wgpu::BufferUsages as U;
        let rec = |what: &str, bytes: u64| {
            self.empty(
                &format!("{what} {tag}"),
                bytes,
                U::STORAGE | U::COPY_SRC | U::COPY_DST,
            )
        };
        let spike_bits = rec("spike_bits", batch * words * 4);
        let volt = rec("volt", batch * probes * 4);
        let staging = self.empty(
            &format!("staging {tag}"),
            staging_bytes,
            U::MAP_READ | U::COPY_DST,
        );
        let ext = ext(&spike_bits, &volt);
        RecordSet {
            spike_bits,
            volt,
            staging,
            ext,
        }
    }
}

/// Compiles a model's kernels; the first error (a shader the device rejects) wins.
pub(super) fn compile<const K: usize>(kernels: [Result<Kernel>; K]) -> Result<[Kernel; K]> {
    let mut out = Vec::with_capacity(K);
    for k in kernels {
        out.push(k?);
    }
    Ok(out.try_into().unwrap_or_else(|_| unreachable!("K kernels")))
}
