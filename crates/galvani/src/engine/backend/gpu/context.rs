//! Opening a wgpu adapter and device, and turning wgpu's asynchronous error reports into
//! [`Error::Gpu`] instead of panics.

use std::sync::{Arc, Mutex};

use super::pipelines::{Kernel, KernelSpec};
use crate::error::{Error, Result};

/// The environment variable that picks an adapter: a case-insensitive substring of the
/// adapter's description as `galvani devices` prints it ("llvmpipe (LLVM 15.0.6, 256
/// bits) via Vulkan (Cpu)"), so it can select by name, by API ("via gl") or by type.
pub const ADAPTER_ENV: &str = "GALVANI_ADAPTER";

/// A wgpu device and queue, shared cheaply (`Clone` is an `Arc` clone).
#[derive(Clone)]
pub struct GpuContext {
    inner: Arc<Inner>,
}

struct Inner {
    // The instance must outlive the adapter and device on some backends (GL).
    _instance: wgpu::Instance,
    adapter: wgpu::Adapter,
    device: wgpu::Device,
    queue: wgpu::Queue,
    describe: String,
    /// Errors wgpu reported outside any error scope (validation, out of memory, device
    /// loss), oldest first; drained by [`GpuContext::take_error`].
    errors: Arc<Mutex<Vec<String>>>,
    /// The kernels compiled on this device, by (entry point, source, runtime checks):
    /// every backend built on the context reuses them ([`GpuContext::kernel`]).
    kernels: Mutex<KernelCache>,
}

type KernelCache = std::collections::HashMap<(&'static str, String, String), Kernel>;

impl std::fmt::Debug for GpuContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuContext")
            .field("adapter", &self.inner.describe)
            .finish_non_exhaustive()
    }
}

/// Set to `0` to keep the kernels off 64-bit integers even where the adapter has them
/// (the 16-bit-halves products of `shaders/shared/mulhilo.wgsl`; the same results).
pub const INT64_ENV: &str = "GALVANI_GPU_INT64";

fn instance() -> wgpu::Instance {
    // Backends and flags honour WGPU_BACKEND, WGPU_VALIDATION, … (wgpu's own variables).
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    // wgpu's indirect-call validation runs an extra compute pass before every indirect
    // dispatch (propagate's, once a step) to turn invalid arguments into no-ops. Ours
    // cannot be invalid, so it stays off unless WGPU_VALIDATION_INDIRECT_CALL asks:
    // - the only indirect dispatch is propagate's, whose arguments lie in the `counts`
    //   buffer: x = min(row blocks, max_groups) by construction (atomicMax of values
    //   already clamped, reset to 0 by lif_step), max_groups being the adapter's
    //   max_compute_workgroups_per_dimension, and y = z = 1, written at creation
    //   (layout::counts_init) and on every restore, and never written by a kernel;
    // - no kernel reads num_workgroups in an indirect dispatch (D3D12 reports 0 there
    //   without the validation pass): propagate reads its group count from `counts`.
    if std::env::var_os("WGPU_VALIDATION_INDIRECT_CALL").is_none() {
        desc.flags
            .remove(wgpu::InstanceFlags::VALIDATION_INDIRECT_CALL);
    }
    wgpu::Instance::new(desc)
}

/// One line naming an adapter: "llvmpipe (LLVM 15.0.6, 256 bits) via Vulkan (Cpu)".
pub fn describe_adapter(info: &wgpu::AdapterInfo) -> String {
    format!(
        "{} via {:?} ({:?})",
        info.name, info.backend, info.device_type
    )
}

fn no_adapter_help() -> &'static str {
    "install a Vulkan driver (on Debian/Ubuntu `apt-get install libvulkan1 \
     mesa-vulkan-drivers` gives the lavapipe CPU driver), or run with --backend cpu"
}

fn can_compute(a: &wgpu::Adapter) -> bool {
    a.get_downlevel_capabilities()
        .flags
        .contains(wgpu::DownlevelFlags::COMPUTE_SHADERS)
}

/// Bytes as "128 MiB", "2 GiB", "1.5 KiB".
pub fn human_bytes(b: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    for (unit, size) in UNITS {
        if b >= size {
            let x = b as f64 / size as f64;
            return if (x - x.round()).abs() < 0.05 {
                format!("{} {unit}", x.round())
            } else {
                format!("{x:.1} {unit}")
            };
        }
    }
    format!("{b} B")
}

/// One line per adapter wgpu can see (`galvani devices`): name, API, type, and the
/// limits that decide how large a network fits. The one [`GpuContext::new`] would pick is
/// marked "(default)".
pub fn list_adapters() -> Vec<String> {
    let inst = instance();
    let adapters = pollster::block_on(inst.enumerate_adapters(wgpu::Backends::all()));
    let default = pick_adapter(&inst)
        .ok()
        .map(|a| describe_adapter(&a.get_info()));
    adapters
        .iter()
        .map(|a| {
            let info = a.get_info();
            let l = a.limits();
            let d = describe_adapter(&info);
            let mark = if default.as_deref() == Some(d.as_str()) {
                " (default)"
            } else {
                ""
            };
            let driver = [info.driver.as_str(), info.driver_info.as_str()]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            format!(
                "{d}{mark}: driver {}; max_storage_buffer_binding_size {}, max_buffer_size {}, \
                 max_storage_buffers_per_shader_stage {}, max_compute_workgroups_per_dimension {}, \
                 f64 {}, compute shaders {}",
                if driver.is_empty() { "?" } else { &driver },
                human_bytes(l.max_storage_buffer_binding_size),
                human_bytes(l.max_buffer_size),
                l.max_storage_buffers_per_shader_stage,
                l.max_compute_workgroups_per_dimension,
                if a.features().contains(wgpu::Features::SHADER_F64) {
                    "yes"
                } else {
                    "no"
                },
                if can_compute(a) { "yes" } else { "no" },
            )
        })
        .collect()
}

/// The adapter [`GpuContext::new`] uses: the one `GALVANI_ADAPTER` names, else wgpu's
/// default high-performance adapter.
fn pick_adapter(inst: &wgpu::Instance) -> Result<wgpu::Adapter> {
    if let Ok(want) = std::env::var(ADAPTER_ENV)
        && !want.trim().is_empty()
    {
        let adapters = pollster::block_on(inst.enumerate_adapters(wgpu::Backends::all()));
        let names: Vec<String> = adapters
            .iter()
            .map(|a| describe_adapter(&a.get_info()))
            .collect();
        let needle = want.trim().to_lowercase();
        return match names
            .iter()
            .position(|d| d.to_lowercase().contains(&needle))
        {
            Some(i) => Ok(adapters.into_iter().nth(i).expect("index from position")),
            None if names.is_empty() => Err(Error::NoAdapter(format!(
                "{ADAPTER_ENV}='{want}' is set but wgpu sees no adapter at all; {}",
                no_adapter_help()
            ))),
            None => Err(Error::NoAdapter(format!(
                "{ADAPTER_ENV}='{want}' matches none of the adapters: {}",
                names.join("; ")
            ))),
        };
    }
    pollster::block_on(inst.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        ..Default::default()
    }))
    .map_err(|e| Error::NoAdapter(format!("{e}; {}", no_adapter_help())))
}

impl GpuContext {
    /// Opens the adapter named by `GALVANI_ADAPTER` or the default high-performance
    /// adapter, with the adapter's own limits; fails with [`Error::NoAdapter`] when there
    /// is none (or it cannot run compute shaders).
    pub fn new() -> Result<Self> {
        Self::with_limits(|_| {})
    }

    /// Like [`GpuContext::new`], but lets the caller lower the device limits requested
    /// (starting from the adapter's): tests use it to exercise limit checks.
    pub fn with_limits(adjust: impl FnOnce(&mut wgpu::Limits)) -> Result<Self> {
        let inst = instance();
        let adapter = pick_adapter(&inst)?;
        let info = adapter.get_info();
        let describe = describe_adapter(&info);
        if !can_compute(&adapter) {
            return Err(Error::NoAdapter(format!(
                "the adapter {describe} cannot run compute shaders; {}",
                no_adapter_help()
            )));
        }
        let mut limits = adapter.limits();
        adjust(&mut limits);
        // 64-bit integers where the adapter has them (Philox's 32×32-bit products in one
        // multiply, shaders::INT64_VARIANTS), unless GALVANI_GPU_INT64=0
        let int64 = adapter.features().contains(wgpu::Features::SHADER_INT64)
            && std::env::var(INT64_ENV).map_or(true, |v| v != "0");
        let features = if int64 {
            wgpu::Features::SHADER_INT64
        } else {
            wgpu::Features::empty()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("galvani"),
            required_features: features,
            required_limits: limits,
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| Error::Gpu(format!("cannot open a device on {describe}: {e}")))?;
        let errors: Arc<Mutex<Vec<String>>> = Arc::default();
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            if let Ok(mut v) = sink.lock() {
                v.push(e.to_string());
            }
        }));
        let sink = errors.clone();
        device.set_device_lost_callback(move |reason, msg| {
            if let Ok(mut v) = sink.lock() {
                v.push(format!("device lost ({reason:?}): {msg}"));
            }
        });
        Ok(GpuContext {
            inner: Arc::new(Inner {
                _instance: inst,
                adapter,
                device,
                queue,
                describe,
                errors,
                kernels: Mutex::default(),
            }),
        })
    }

    /// The kernel `spec` compiled from `src` (preprocessed WGSL), compiled once per
    /// context: later backends on the same device (a Python session's simulations, a
    /// `reset`, the test suite) reuse its pipeline instead of compiling it again.
    pub fn kernel(&self, spec: KernelSpec, src: String) -> Result<Kernel> {
        let key = (
            spec.name,
            src,
            format!("{:?}", super::pipelines::runtime_checks()?),
        );
        let mut cache = self.inner.kernels.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = cache.get(&key) {
            return Ok(k.clone());
        }
        let k = Kernel::with_source(&self.inner.device, spec, key.1.clone())?;
        cache.insert(key, k.clone());
        Ok(k)
    }

    /// [`GpuContext::kernel`] for a kernel whose source is its file's
    /// ([`super::shaders::kernel_source`]).
    pub fn kernel_named(&self, spec: KernelSpec) -> Result<Kernel> {
        let src = super::shaders::kernel_source(spec.name).map_err(Error::Gpu)?;
        self.kernel(spec, src)
    }

    /// The adapter in one line, e.g. "llvmpipe (LLVM 15.0.6, 256 bits) via Vulkan (Cpu)".
    pub fn describe(&self) -> &str {
        &self.inner.describe
    }

    /// The adapter's information.
    pub fn adapter_info(&self) -> wgpu::AdapterInfo {
        self.inner.adapter.get_info()
    }

    /// The device.
    pub fn device(&self) -> &wgpu::Device {
        &self.inner.device
    }

    /// The queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.inner.queue
    }

    /// The limits the device was created with.
    pub fn limits(&self) -> wgpu::Limits {
        self.inner.device.limits()
    }

    /// Whether the device runs shaders with 64-bit integers (SHADER_INT64, requested
    /// where the adapter has it unless [`INT64_ENV`] is `0`).
    pub fn int64(&self) -> bool {
        self.inner
            .device
            .features()
            .contains(wgpu::Features::SHADER_INT64)
    }

    /// The oldest error wgpu reported outside an error scope since the last call, as
    /// [`Error::Gpu`] (all pending ones are drained; the first is the cause).
    pub fn take_error(&self) -> Result<()> {
        let mut v = match self.inner.errors.lock() {
            Ok(v) => v,
            Err(p) => p.into_inner(),
        };
        if v.is_empty() {
            return Ok(());
        }
        let first = v.remove(0);
        let more = v.len();
        v.clear();
        Err(Error::Gpu(if more > 0 {
            format!("{first} (and {more} more error(s))")
        } else {
            first
        }))
    }
}
