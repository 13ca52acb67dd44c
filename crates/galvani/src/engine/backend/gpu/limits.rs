//! Every device buffer the backend creates, sized from the network *before* any is
//! created, and checked against the device limits: a network that does not fit fails
//! with [`Error::Limit`] naming the buffer, its size, the limit and the network size,
//! never with a wgpu panic or validation error.

use super::context::human_bytes;
use super::layout::{GpuPoissonStream, GpuProbe, STEP_STRIDE, StepUniform};
use crate::backend::cpu::Values;
use crate::error::{Error, Result};
use crate::model::lif::LifState;
use crate::network::{Drive, Network, Neurons};

/// One buffer of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct BufferSpec {
    /// The WGSL variable (or host role) it backs.
    pub name: &'static str,
    /// What it holds, for messages ("synapse weights").
    pub what: &'static str,
    /// Size in bytes (before padding empty buffers).
    pub bytes: u64,
    /// Whether it is bound whole as a storage buffer.
    pub storage: bool,
    /// Elements indexed with u32 in WGSL (must stay below 2^32).
    pub elements: u64,
    /// Why it is this large, in network terms ("52 million synapses").
    pub cause: String,
}

/// A count as "52 million" / "1.2 billion" / "4000".
pub fn human_count(x: u64) -> String {
    if x >= 1_000_000_000 {
        format!("{:.1} billion", x as f64 / 1e9)
    } else if x >= 10_000_000 {
        format!("{:.0} million", x as f64 / 1e6)
    } else if x >= 1_000_000 {
        format!("{:.1} million", x as f64 / 1e6)
    } else {
        x.to_string()
    }
}

/// Storage buffers of the propagate kernel besides the synapse-array chunks: row_ptr,
/// ring, counts, blocks, palette.
pub const FIXED_STORAGE: u32 = 5;

/// The most chunks one synapse array is split into, whatever the adapter allows (a bound
/// on the size of the generated kernel: 64 chunks of 2^30 synapses is far beyond any
/// device's memory).
pub const MAX_SYN_CHUNKS: u32 = 64;

/// The chunks per synapse array this adapter's storage bindings allow: its storage
/// buffers per shader stage less [`FIXED_STORAGE`], shared by the 3 arrays (`syn_word`,
/// `syn_weight`, `syn_delay`), at most [`MAX_SYN_CHUNKS`]: 3 on GL (16 per stage), 9 on
/// lavapipe's Vulkan (32), 64 on NVIDIA's Vulkan.
pub fn max_syn_chunks(limits: &wgpu::Limits) -> u32 {
    (limits
        .max_storage_buffers_per_shader_stage
        .saturating_sub(FIXED_STORAGE)
        / 3)
    .min(MAX_SYN_CHUNKS)
}

/// The chunks the synapse arrays of `net` take with this adapter's chunk length (at
/// least one: the kernel always binds chunk 0).
pub fn syn_chunks(net: &Network, limits: &wgpu::Limits) -> u32 {
    let len = syn_chunk_len(limits).max(1);
    (net.synapses.len() as u64).div_ceil(len).max(1) as u32
}

/// The plan's buffers that the backend splits into chunk buffers of [`syn_chunk_len`]
/// elements (one binding each) instead of binding them whole.
pub const SPLIT_ARRAYS: &[&str] = &["syn_word", "syn_weight", "syn_delay"];

/// The least storage buffers per stage the propagate kernel needs: the fixed ones and
/// one chunk of each synapse array.
pub const MIN_STORAGE_BINDINGS: u32 = FIXED_STORAGE + 3;

/// Storage buffers of the `lif_step` kernel (`pipelines::LIF_STEP`), the LIF kernel
/// with the most.
pub const LIF_STEP_STORAGE: u32 = 16;

/// Elements of 4 bytes per synapse-array chunk: the largest power of two whose chunk
/// fits both one storage binding and one buffer, at most 2^30 (0 if not even one fits).
/// Synapse j lives in chunk `j >> log2(len)` at `j & (len − 1)`.
pub fn syn_chunk_len(limits: &wgpu::Limits) -> u64 {
    let elems = (limits
        .max_storage_buffer_binding_size
        .min(limits.max_buffer_size)
        / 4)
    .min(1 << 30);
    if elems == 0 { 0 } else { 1 << elems.ilog2() }
}

/// Checks a buffer the backend splits into chunks ([`SPLIT_ARRAYS`]).
fn check_split(b: &BufferSpec, limits: &wgpu::Limits) -> Result<()> {
    let len = syn_chunk_len(limits);
    let chunks = if len == 0 {
        u64::MAX
    } else {
        b.elements.div_ceil(len)
    };
    let most = max_syn_chunks(limits);
    if chunks > most as u64 {
        let (limit, name) = if limits.max_buffer_size < limits.max_storage_buffer_binding_size {
            (limits.max_buffer_size, "max_buffer_size")
        } else {
            (
                limits.max_storage_buffer_binding_size,
                "max_storage_buffer_binding_size",
            )
        };
        return Err(Error::Limit(format!(
            "{} ({}) would take {} but this adapter binds at most {} per storage buffer \
             ({name}) and the propagate kernel splits the array across at most \
             {most} bindings of {} elements ({} in all; {} storage buffers per stage, \
             max_storage_buffers_per_shader_stage); {} is too many",
            b.what,
            b.name,
            human_bytes(b.bytes),
            human_bytes(limit),
            human_count(len),
            human_bytes(most as u64 * len * 4),
            limits.max_storage_buffers_per_shader_stage,
            b.cause
        )));
    }
    // chunk-relative indices are u32 and row offsets 64-bit: no limit on the total
    Ok(())
}

/// All buffers for `net` with batches of up to `batch` steps (two record sets).
pub fn buffer_plan(net: &Network, batch: u32) -> Vec<BufferSpec> {
    let n = net.n as u64;
    let syn = net.synapses.len() as u64;
    // the compact table's layout (src/backend/cpu/synapses.rs), as the backend builds it
    let (syn_weights, syn_delays, palette) =
        match crate::backend::cpu::synapses::choose_layout(net, net.n, |w| {
            <f32 as crate::real::Real>::acc_weight(w, &net.fixed)
        })
        .0
        {
            Values::Palette { palette, .. } => (0, 0, palette.len() as u64),
            Values::Packed { .. } => (syn, 0, 0),
            Values::Wide { .. } => (syn, syn, 0),
        };
    let slots = net.synapses.max_delay as u64 + 1;
    let words = n.div_ceil(32).max(1);
    let probes = net.probes.len() as u64;
    let batch = batch as u64;
    let neurons = format!("{} neurons", human_count(n));
    let synapses = format!("{} synapses", human_count(syn));
    let spec = |name, what, elements: u64, elem: u64, storage, cause: &String| BufferSpec {
        name,
        what,
        bytes: elements * elem,
        storage,
        elements,
        cause: cause.clone(),
    };
    let ring_cause = format!(
        "{} neurons × 2 receptors × {slots} delay slots (max delay {} steps)",
        human_count(n),
        net.synapses.max_delay
    );
    let (mut n_streams, mut n_targets, mut n_cdf, mut n_cache) = (0u64, 0u64, 0u64, 0u64);
    // Σ ceil(len / BLOCK) over the rows is at most n + synapses / BLOCK (the backend
    // sizes the lists exactly, walk::block_capacity)
    let block_bound = n + syn.div_ceil(super::layout::BLOCK as u64);
    for d in &net.drives {
        if let Drive::Poisson { neurons, plan, .. } = d {
            n_streams += 1;
            n_targets += neurons.len() as u64;
            n_cache += neurons.len() as u64 * (1 + plan.blocks as u64);
            n_cdf += plan.cdf.len() as u64;
        }
    }
    let targets_cause = format!(
        "{} Poisson drive targets ({n_streams} streams)",
        human_count(n_targets)
    );
    let rec_cause = format!("{batch} steps per batch × {words} words");
    let volt_cause = format!("{batch} steps per batch × {probes} probes");
    // the device holds the distinct parameter sets, not one per neuron
    let (table, _, set_bytes) = super::cells::tables(net);
    let sets = (table.len() as u64 / set_bytes.max(1)).max(1) as usize;
    drop(table);
    let sets_cause = format!("{sets} distinct parameter sets");
    vec![
        spec(
            "params",
            "neuron parameter sets",
            super::param_capacity(sets) as u64,
            set_bytes,
            true,
            &sets_cause,
        ),
        spec(
            "dsyn",
            "alpha-current derivatives",
            match &net.neurons {
                Neurons::Lif { params, .. } if crate::model::lif::has_alpha(params) => n,
                _ => 1,
            },
            8,
            true,
            &neurons,
        ),
        spec("state", "neuron state", n, state_bytes(net), true, &neurons),
        spec(
            "ring",
            "the synaptic-input delay ring",
            slots * 2 * n,
            4,
            true,
            &ring_cause,
        ),
        spec("row_ptr", "synapse row pointers", n + 1, 8, true, &neurons),
        spec("syn_word", "synapse words", syn, 4, true, &synapses),
        spec(
            "syn_weight",
            "synapse weights",
            syn_weights,
            4,
            true,
            &synapses,
        ),
        spec(
            "syn_delay",
            "synapse delays",
            syn_delays,
            4,
            true,
            &synapses,
        ),
        spec(
            "palette",
            "the synapse palette",
            palette,
            8,
            true,
            &synapses,
        ),
        spec(
            "counts",
            "step counters",
            2 * super::layout::COUNTS_STRIDE as u64,
            4,
            true,
            &"two step parities".to_string(),
        ),
        spec(
            "blocks",
            "the row-block lists",
            2 * block_bound.max(1),
            8,
            true,
            &format!(
                "{neurons} and {} synapses in row blocks of {} (two step parities)",
                human_count(syn),
                super::layout::BLOCK
            ),
        ),
        spec(
            "spike_bits",
            "spike-record rows",
            batch * words,
            4,
            true,
            &rec_cause,
        ),
        spec(
            "spike_bits",
            "spike-record rows (second set)",
            batch * words,
            4,
            true,
            &rec_cause,
        ),
        spec(
            "spike_rec",
            "spike-record lists",
            super::upload::spike_rec_bytes(batch, words) / 4,
            4,
            true,
            &rec_cause,
        ),
        spec(
            "spike_rec",
            "spike-record lists (second set)",
            super::upload::spike_rec_bytes(batch, words) / 4,
            4,
            true,
            &rec_cause,
        ),
        spec(
            "volt",
            "voltage-record rows",
            batch * probes,
            4,
            true,
            &volt_cause,
        ),
        spec(
            "volt",
            "voltage-record rows (second set)",
            batch * probes,
            4,
            true,
            &volt_cause,
        ),
        spec("i_stim", "stimulus currents", n, 4, true, &neurons),
        spec(
            "streams",
            "Poisson streams",
            n_streams,
            size_of::<GpuPoissonStream>() as u64,
            true,
            &targets_cause,
        ),
        spec(
            "aux",
            "the per-neuron parameter, drive and probe index",
            n + 2 * (n + 1) + 2 * n_targets + probes,
            4,
            true,
            &targets_cause,
        ),
        spec(
            "drive_cache",
            "the Poisson drive's Philox outputs",
            n_cache,
            16,
            true,
            &targets_cause,
        ),
        spec(
            "poisson_cdf",
            "Poisson CDF tables",
            n_cdf,
            4,
            true,
            &targets_cause,
        ),
        spec(
            "probes",
            "voltage probes",
            probes,
            size_of::<GpuProbe>() as u64,
            true,
            &format!("{probes} probes"),
        ),
        BufferSpec {
            name: "u",
            what: "per-step uniforms",
            bytes: batch * STEP_STRIDE,
            storage: false,
            elements: batch,
            cause: format!("{batch} steps per batch"),
        },
        BufferSpec {
            name: "staging",
            what: "readback staging",
            bytes: super::upload::spike_rec_bytes(batch, words) + batch * probes * 4,
            storage: false,
            elements: 0,
            cause: rec_cause.clone(),
        },
        BufferSpec {
            name: "state_staging",
            what: "state readback staging",
            bytes: n * state_bytes(net),
            storage: false,
            elements: 0,
            cause: neurons.clone(),
        },
    ]
}

/// Checks one buffer against the limits.
pub fn check_buffer(b: &BufferSpec, limits: &wgpu::Limits) -> Result<()> {
    if b.storage && b.bytes > limits.max_storage_buffer_binding_size {
        return Err(Error::Limit(format!(
            "{} ({}) would take {} but this adapter binds at most {} per storage buffer \
             (max_storage_buffer_binding_size); {} is too many for one binding",
            b.what,
            b.name,
            human_bytes(b.bytes),
            human_bytes(limits.max_storage_buffer_binding_size),
            b.cause
        )));
    }
    if b.bytes > limits.max_buffer_size {
        return Err(Error::Limit(format!(
            "{} ({}) would take {} but this adapter allows at most {} per buffer \
             (max_buffer_size); {} is too many",
            b.what,
            b.name,
            human_bytes(b.bytes),
            human_bytes(limits.max_buffer_size),
            b.cause
        )));
    }
    if b.elements > u32::MAX as u64 {
        return Err(Error::Limit(format!(
            "{} ({}) would hold {} elements, more than a u32 index reaches; {} is too many",
            b.what,
            b.name,
            human_count(b.elements),
            b.cause
        )));
    }
    Ok(())
}

/// The limits every model's kernels need: `bindings` storage buffers in `kernel` (the
/// model's widest), workgroups of [`WG_SIZE`](super::layout::WG_SIZE), the per-step
/// uniforms, and `n` neurons (below `max_n`, the model's index range) in a 2D dispatch.
pub fn check_kernels_fit(
    n: u64,
    max_n: u64,
    kernel: &str,
    bindings: u32,
    limits: &wgpu::Limits,
) -> Result<()> {
    if limits.max_storage_buffers_per_shader_stage < bindings {
        return Err(Error::Limit(format!(
            "the {kernel} kernel binds {bindings} storage buffers but this adapter \
             allows {} per shader stage (max_storage_buffers_per_shader_stage)",
            limits.max_storage_buffers_per_shader_stage
        )));
    }
    let wg = super::layout::WG_SIZE;
    if limits.max_compute_workgroup_size_x < wg || limits.max_compute_invocations_per_workgroup < wg
    {
        return Err(Error::Limit(format!(
            "the kernels use workgroups of {wg} invocations but this adapter allows {} \
             (max_compute_workgroup_size_x) / {} (max_compute_invocations_per_workgroup)",
            limits.max_compute_workgroup_size_x, limits.max_compute_invocations_per_workgroup
        )));
    }
    if limits.min_uniform_buffer_offset_alignment as u64 > STEP_STRIDE {
        return Err(Error::Limit(format!(
            "the per-step uniforms are {STEP_STRIDE} bytes apart but this adapter aligns \
             dynamic offsets to {} (min_uniform_buffer_offset_alignment)",
            limits.min_uniform_buffer_offset_alignment
        )));
    }
    if size_of::<StepUniform>() as u64 > limits.max_uniform_buffer_binding_size {
        return Err(Error::Limit(format!(
            "the per-step uniform takes {} bytes but this adapter binds at most {} \
             (max_uniform_buffer_binding_size)",
            size_of::<StepUniform>(),
            limits.max_uniform_buffer_binding_size
        )));
    }
    // workgroups up to max² in a 2D dispatch
    let max_groups = limits.max_compute_workgroups_per_dimension as u64;
    let groups = n.div_ceil(wg as u64);
    if n >= max_n || groups > max_groups * max_groups {
        return Err(Error::Limit(format!(
            "{} neurons is too many for one device",
            human_count(n)
        )));
    }
    Ok(())
}

/// Checks the whole plan and the other limits the LIF kernels need.
pub fn check_limits(net: &Network, batch: u32, limits: &wgpu::Limits) -> Result<()> {
    // Neuron ids and `2·post + receptor` are u32.
    let (kernel, bindings) = if LIF_STEP_STORAGE > MIN_STORAGE_BINDINGS {
        ("lif_step", LIF_STEP_STORAGE)
    } else {
        ("propagate", MIN_STORAGE_BINDINGS)
    };
    check_kernels_fit(
        net.n as u64,
        (u32::MAX / 2) as u64,
        kernel,
        bindings,
        limits,
    )?;
    for b in buffer_plan(net, batch) {
        if SPLIT_ARRAYS.contains(&b.name) {
            check_split(&b, limits)?;
        } else {
            check_buffer(&b, limits)?;
        }
    }
    Ok(())
}

/// A dispatch of `groups` workgroups within `max_compute_workgroups_per_dimension`: 1D
/// when it fits, else 2D (the kernels index `wg.y · num_workgroups.x + wg.x`).
pub fn dispatch_2d(groups: u32, max_per_dim: u32) -> (u32, u32) {
    let groups = groups.max(1);
    if groups <= max_per_dim {
        (groups, 1)
    } else {
        let y = groups.div_ceil(max_per_dim);
        (groups.div_ceil(y), y)
    }
}

/// Bytes per neuron of the GPU state buffer: a [`LifState`], or a point model's state
/// variables (f32 each).
fn state_bytes(net: &Network) -> u64 {
    match &net.neurons {
        Neurons::Point(p) => 4 * p.width() as u64,
        _ => size_of::<LifState<f32>>() as u64,
    }
}
