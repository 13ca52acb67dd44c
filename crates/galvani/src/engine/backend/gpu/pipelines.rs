//! Explicit bind group layouts (list position = `@binding`, vello-style) and the compute
//! pipelines. `tests/shaders.rs` checks each list against the bindings naga finds in the
//! WGSL, so a shader and its layout cannot drift apart silently.

use std::borrow::Cow;
use std::num::NonZeroU64;

use super::layout::StepUniform;
use super::shaders;
use crate::error::{Error, Result};

/// What one `@binding` of group 0 is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindKind {
    /// `var<uniform>` of a [`StepUniform`], with a dynamic offset (one entry per step).
    StepUniform,
    /// `var<storage, read>`; the minimum binding size in bytes (one element).
    ReadOnly(u64),
    /// `var<storage, read_write>`; the minimum binding size in bytes (one element).
    ReadWrite(u64),
}

/// A kernel: its file (and entry point) name and its bindings, position = `@binding`.
#[derive(Clone, Debug)]
pub struct KernelSpec {
    /// Entry point and `shaders/<name>.wgsl`.
    pub name: &'static str,
    /// The bindings of group 0 (built at run time for `propagate`, whose chunk count
    /// depends on the network: [`propagate_spec`]).
    pub bindings: Cow<'static, [BindKind]>,
}

use BindKind::{ReadOnly, ReadWrite, StepUniform as Uni};

/// `model/lif/lif_step.wgsl`: u, params, dsyn, state, ring, counts, blocks,
/// row_ptr, spike_bits, spike_rec, i_stim, streams, poisson_cdf, aux, probes, volt,
/// drive_cache.
pub const LIF_STEP: KernelSpec = KernelSpec {
    name: "lif_step",
    bindings: Cow::Borrowed(&[
        Uni,
        ReadOnly(112),
        ReadWrite(8),
        ReadWrite(16),
        ReadWrite(4),
        ReadWrite(64),
        ReadWrite(8),
        ReadOnly(8),
        ReadWrite(4),
        ReadWrite(4),
        ReadOnly(4),
        ReadOnly(32),
        ReadOnly(4),
        ReadOnly(4),
        ReadOnly(16),
        ReadWrite(4),
        ReadWrite(16),
    ]),
};

/// `shaders/point_step.wgsl`: the bindings of [`LIF_STEP`], with the constant table and
/// the state as f32 arrays (a point model's sets and state variables).
pub const POINT_STEP: KernelSpec = KernelSpec {
    name: "point_step",
    bindings: Cow::Borrowed(&[
        Uni,
        ReadOnly(4),
        ReadWrite(8),
        ReadWrite(4),
        ReadWrite(4),
        ReadWrite(64),
        ReadWrite(8),
        ReadOnly(8),
        ReadWrite(4),
        ReadWrite(4),
        ReadOnly(4),
        ReadOnly(32),
        ReadOnly(4),
        ReadOnly(4),
        ReadOnly(16),
        ReadWrite(4),
        ReadWrite(16),
    ]),
};

/// `shaders/propagate.wgsl` with [`shaders::DEFAULT_CHUNKS`] (3) chunks: u, row_ptr,
/// ring, counts, blocks, palette, then per chunk c syn_word{c}, syn_weight{c},
/// syn_delay{c} ([`propagate_spec`] for another count).
pub const PROPAGATE: KernelSpec = KernelSpec {
    name: "propagate",
    bindings: Cow::Borrowed(&[
        Uni,
        ReadOnly(8),
        ReadWrite(4),
        ReadOnly(64),
        ReadOnly(8),
        ReadOnly(8),
        ReadOnly(4),
        ReadOnly(4),
        ReadOnly(4),
        ReadOnly(4),
        ReadOnly(4),
        ReadOnly(4),
        ReadOnly(4),
        ReadOnly(4),
        ReadOnly(4),
    ]),
};

/// `shaders/propagate.wgsl` with `chunks` chunks of each synapse array (bindings as in
/// [`PROPAGATE`]; twin of `shaders::synapse_chunks`).
pub fn propagate_spec(chunks: u32) -> KernelSpec {
    let mut b = PROPAGATE.bindings[..6].to_vec();
    b.extend(std::iter::repeat_n(ReadOnly(4), 3 * chunks.max(1) as usize));
    KernelSpec {
        name: "propagate",
        bindings: Cow::Owned(b),
    }
}

/// `shaders/hv_step.wgsl`: u, params, state, coupling, pulses, spike_bits, spike_frac,
/// bad.
pub const HV_STEP: KernelSpec = KernelSpec {
    name: "hv_step",
    bindings: Cow::Borrowed(&[
        Uni,
        ReadOnly(208),
        ReadWrite(16),
        ReadWrite(4),
        ReadOnly(16),
        ReadWrite(4),
        ReadWrite(4),
        ReadWrite(8),
    ]),
};

/// `shaders/hv_gather.wgsl`: u, row_ptr, src, weight, coupling.
pub const HV_GATHER: KernelSpec = KernelSpec {
    name: "hv_gather",
    bindings: Cow::Borrowed(&[Uni, ReadOnly(4), ReadOnly(4), ReadOnly(4), ReadWrite(4)]),
};

/// `shaders/hv_record_voltage.wgsl`: u, params, state, probes, volt.
pub const HV_RECORD_VOLTAGE: KernelSpec = KernelSpec {
    name: "hv_record_voltage",
    bindings: Cow::Borrowed(&[Uni, ReadOnly(208), ReadOnly(16), ReadOnly(16), ReadWrite(4)]),
};

/// `shaders/source_spikes.wgsl`: u, counts, blocks, row_ptr, spike_bits, spike_rec,
/// source_ptr, source_ids.
pub const SOURCE_SPIKES: KernelSpec = KernelSpec {
    name: "source_spikes",
    bindings: Cow::Borrowed(&[
        Uni,
        ReadWrite(64),
        ReadWrite(8),
        ReadOnly(8),
        ReadWrite(4),
        ReadWrite(4),
        ReadOnly(4),
        ReadOnly(4),
    ]),
};

/// Every kernel the backend runs.
pub const KERNEL_SPECS: &[KernelSpec] = &[
    LIF_STEP,
    SOURCE_SPIKES,
    PROPAGATE,
    HV_STEP,
    HV_GATHER,
    HV_RECORD_VOLTAGE,
];

/// The layout entries of a binding list.
pub fn layout_entries(bindings: &[BindKind]) -> Vec<wgpu::BindGroupLayoutEntry> {
    bindings
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let ty = match *k {
                BindKind::StepUniform => wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: true,
                    min_binding_size: NonZeroU64::new(size_of::<StepUniform>() as u64),
                },
                BindKind::ReadOnly(min) | BindKind::ReadWrite(min) => wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Storage {
                        read_only: matches!(k, BindKind::ReadOnly(_)),
                    },
                    has_dynamic_offset: false,
                    min_binding_size: NonZeroU64::new(min),
                },
            };
            wgpu::BindGroupLayoutEntry {
                binding: i as u32,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty,
                count: None,
            }
        })
        .collect()
}

/// The variable that turns wgpu's shader runtime checks off, to measure what they cost
/// (`tools/gpu-bench.sh`): `all` (the default: every check on), `no-bounds`,
/// `no-loop-bounding` or `none`.
pub const CHECKS_ENV: &str = "GALVANI_GPU_CHECKS";

/// The runtime checks [`CHECKS_ENV`] asks to keep, None for wgpu's default (all on).
pub(super) fn runtime_checks() -> Result<Option<wgpu::ShaderRuntimeChecks>> {
    let Some(v) = std::env::var_os(CHECKS_ENV) else {
        return Ok(None);
    };
    let checks = |bounds_checks, force_loop_bounding| {
        let mut c = wgpu::ShaderRuntimeChecks::checked();
        c.bounds_checks = bounds_checks;
        c.force_loop_bounding = force_loop_bounding;
        Some(c)
    };
    match v.to_str() {
        Some("all") => Ok(None),
        Some("no-bounds") => Ok(checks(false, true)),
        Some("no-loop-bounding") => Ok(checks(true, false)),
        Some("none") => Ok(checks(false, false)),
        _ => Err(Error::Usage(format!(
            "{CHECKS_ENV}={}: expected all, no-bounds, no-loop-bounding or none",
            v.to_string_lossy()
        ))),
    }
}

/// A compiled kernel with its bind group layout (`Clone` shares the pipeline).
#[derive(Clone, Debug)]
pub struct Kernel {
    /// The spec it was built from.
    pub spec: KernelSpec,
    /// Group 0's layout.
    pub layout: wgpu::BindGroupLayout,
    /// The pipeline.
    pub pipeline: wgpu::ComputePipeline,
}

impl Kernel {
    /// Compiles the kernel (preprocessed WGSL) with its explicit layout. Shader or layout
    /// errors come back as [`Error::Gpu`] through an error scope, not as a panic.
    pub fn new(device: &wgpu::Device, spec: KernelSpec) -> Result<Kernel> {
        let src = shaders::kernel_source(spec.name).map_err(Error::Gpu)?;
        Self::with_source(device, spec, src)
    }

    /// [`Kernel::new`] from a preprocessed source (`propagate` with its chunk count).
    pub fn with_source(device: &wgpu::Device, spec: KernelSpec, src: String) -> Result<Kernel> {
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let desc = wgpu::ShaderModuleDescriptor {
            label: Some(spec.name),
            source: wgpu::ShaderSource::Wgsl(src.into()),
        };
        let module = match runtime_checks()? {
            None => device.create_shader_module(desc),
            // SAFETY: measurement only, never the default (`runtime_checks`). Without
            // bounds checks an out-of-range index is undefined behaviour instead of a
            // clamped access; the kernels' indices are in range by construction: neuron
            // ids < n (the dispatch guard `i >= u.n`, synapse targets and spike ids
            // checked on the host), ring slots < slots (conditional subtraction or `%`),
            // record rows < the batch (host-checked `begin_batch`), block-list entries
            // < block_cap (the capacity is every row's blocks), spike ids < rec_cap
            // (checked in the kernel), synapse chunks < their count (64-bit offsets
            // within the table). Without loop bounding a loop that never ends would be
            // undefined behaviour; every loop's bound is a count read once (rows, blocks,
            // CDF lengths, probes, streams) and finite.
            Some(checks) => unsafe { device.create_shader_module_trusted(desc, checks) },
        };
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some(spec.name),
            entries: &layout_entries(&spec.bindings),
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(spec.name),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(spec.name),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some(spec.name),
            compilation_options: Default::default(),
            cache: None,
        });
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(Error::Gpu(format!(
                "compiling shaders/{}.wgsl: {e}",
                spec.name
            )));
        }
        Ok(Kernel {
            spec,
            layout,
            pipeline,
        })
    }

    /// A bind group of `buffers`, position = `@binding` (the uniform is bound for one
    /// [`StepUniform`] and moved per dispatch by its dynamic offset).
    pub fn bind(&self, device: &wgpu::Device, buffers: &[&wgpu::Buffer]) -> wgpu::BindGroup {
        assert_eq!(
            buffers.len(),
            self.spec.bindings.len(),
            "bind group of {}",
            self.spec.name
        );
        let entries: Vec<_> = buffers
            .iter()
            .zip(self.spec.bindings.iter())
            .enumerate()
            .map(|(i, (b, k))| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: match k {
                    BindKind::StepUniform => wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: b,
                        offset: 0,
                        size: NonZeroU64::new(size_of::<StepUniform>() as u64),
                    }),
                    _ => b.as_entire_binding(),
                },
            })
            .collect();
        device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(self.spec.name),
            layout: &self.layout,
            entries: &entries,
        })
    }
}
