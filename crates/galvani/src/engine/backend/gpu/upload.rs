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

/// What a record set holds: spike bits and voltage rows of `batch` steps (`words` words
/// and `probes` values a step), and with `lists` the spike lists too (a header of
/// `1 + batch` words and as many ids as the bit rows have words).
#[derive(Clone, Copy, Debug)]
pub(super) struct RecordShape {
    pub batch: u64,
    pub words: u64,
    pub probes: u64,
    pub lists: bool,
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

    /// The buffers of one record set (`tag` "A" or "B") of the given shape, and a
    /// staging buffer of `staging_bytes` for their readback; `ext` holds the model's own
    /// buffers and bind groups of the set, given (spike bits, voltage rows, spike lists).
    pub(super) fn record_set<X>(
        &self,
        tag: &str,
        shape: RecordShape,
        staging_bytes: u64,
        ext: impl FnOnce(&wgpu::Buffer, &wgpu::Buffer, Option<&wgpu::Buffer>) -> X,
    ) -> RecordSet<X> {
        use wgpu::BufferUsages as U;
        let RecordShape {
            batch,
            words,
            probes,
            lists,
        } = shape;
        let rec = |what: &str, bytes: u64| {
            self.empty(
                &format!("{what} {tag}"),
                bytes,
                U::STORAGE | U::COPY_SRC | U::COPY_DST,
            )
        };
        let spike_bits = rec("spike_bits", batch * words * 4);
        let spike_rec = lists.then(|| rec("spike_rec", spike_rec_bytes(batch, words)));
        let volt = rec("volt", batch * probes * 4);
        let staging = self.empty(
            &format!("staging {tag}"),
            staging_bytes,
            U::MAP_READ | U::COPY_DST,
        );
        let ext = ext(&spike_bits, &volt, spike_rec.as_ref());
        RecordSet {
            spike_bits,
            spike_rec,
            volt,
            staging,
            ext,
        }
    }
}

/// Bytes of a record set's spike lists for batches of `batch` steps with `words` words
/// per bit row: the total, a count per row, and as many ids as the bit rows hold words.
pub fn spike_rec_bytes(batch: u64, words: u64) -> u64 {
    (1 + batch + batch * words) * 4
}

/// Compiles a model's kernels; the first error (a shader the device rejects) wins.
pub(super) fn compile<const K: usize>(kernels: [Result<Kernel>; K]) -> Result<[Kernel; K]> {
    let mut out = Vec::with_capacity(K);
    for k in kernels {
        out.push(k?);
    }
    Ok(out.try_into().unwrap_or_else(|_| unreachable!("K kernels")))
}
