//! The structs that cross the bus besides `LifParams<f32>` / `LifState<f32>`
//! (src/model/lif.rs), each with its WGSL twin in `shaders/shared/types.wgsl`. Sizes and
//! field offsets are checked against naga's layout of the WGSL in `tests/layout.rs`.

use bytemuck::{Pod, Zeroable};

/// Invocations per workgroup of every kernel. WGSL twin: `const WG_SIZE` in
/// `shaders/shared/types.wgsl`.
pub const WG_SIZE: u32 = 64;

/// Bytes between consecutive [`StepUniform`] entries in the per-batch uniform buffer
/// (bound with a dynamic offset). 256 is the largest `min_uniform_buffer_offset_alignment`
/// WebGPU allows, so it is valid on every adapter.
pub const STEP_STRIDE: u64 = 256;

/// Per-step constants, one 256-byte-aligned entry per step of a batch, written once per
/// batch and selected per dispatch by a dynamic offset (no per-step buffer write).
///
/// WGSL twin: `struct StepUniform` in `shaders/shared/types.wgsl` (keep in sync).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
pub struct StepUniform {
    /// Neurons.
    pub n: u32,
    /// u32 words per spike-bit row: ceil(n / 32), at least 1.
    pub words: u32,
    /// Delay-ring slots: max delay + 1.
    pub slots: u32,
    /// Voltage probes.
    pub n_probes: u32,
    /// 1 / fixed-point scale of the input accumulators (a power of two).
    pub inv_scale: f32,
    /// `step % slots`: the ring slot this step reads and clears (propagate writes slot
    /// `(step + delay) % slots` = `(slot + delay) % slots`).
    pub slot: u32,
    /// `step % 2`: the spike list this step appends to (lif_step resets the other one).
    pub parity: u32,
    /// `step − first step of the batch`: the row of the batch's record buffers.
    pub row: u32,
    /// Always 0. The kernels XOR float bits with it at rounding points (`pin` in
    /// `shaders/shared/types.wgsl`): a value the compiler cannot know stops it from
    /// fusing `a*b + c` into an FMA or reassociating sums, so the GPU rounds exactly
    /// where the CPU does.
    pub zero: u32,
    /// `step as u32`: the step in the Philox counters of the Poisson drive (as the CPU).
    pub step: u32,
    /// The run's Philox key (`rng::key(seed)`), low word.
    pub key_lo: u32,
    /// The run's Philox key, high word.
    pub key_hi: u32,
    /// Poisson drive targets (entries of `poisson_targets`).
    pub n_targets: u32,
    /// log2 of the synapse-array chunk length (`limits::syn_chunk_len`): propagate reads
    /// synapse j from chunk `j >> syn_shift` at `j & ((1 << syn_shift) − 1)`.
    pub syn_shift: u32,
    /// The synapse table's layout: [`SYN_PALETTE`], [`SYN_PACKED`] or [`SYN_WIDE`]
    /// (`src/backend/cpu/synapses.rs`).
    pub syn_mode: u32,
    /// Bits of the target in a synapse word (palette and packed layouts).
    pub tgt_shift: u32,
    /// Entries of one parity's block list: a row block per [`BLOCK`] synapses of every
    /// neuron's row, rounded up (enough for every neuron spiking in one step).
    pub block_cap: u32,
    /// Most workgroups a `propagate` dispatch runs (the indirect x argument is at most
    /// this; they loop over the block list).
    pub max_groups: u32,
    /// Where the probes' index lies in `aux` (`lif_step`: probe_ptr, n + 1 entries,
    /// then the probe order).
    pub probe_at: u32,
    /// Spike ids the device's spike record holds (a batch's bit rows' words; 0 for
    /// models that record only bits). The host reads back as many of them as it
    /// expects, and the rest only when a batch has more.
    pub rec_cap: u32,
    /// Where the ids start in the spike record: after the total and one count per row.
    pub rec_at: u32,
    /// 1 when a voltage probe samples after this step (`lif_step` looks up its
    /// neuron's probes only then).
    pub probe_due: u32,
    /// Padding to a multiple of 16 bytes.
    pub _pad: [u32; 2],
}

/// Synapses each invocation of a `propagate` workgroup takes per row block. WGSL twin:
/// `const BLOCK_ITER` in `shaders/shared/types.wgsl`.
pub const BLOCK_ITER: u32 = 8;
/// Synapses per row block: a workgroup walks one block in [`BLOCK_ITER`] iterations.
pub const BLOCK: u32 = WG_SIZE * BLOCK_ITER;

/// The counters of one step parity, `COUNTS_STRIDE` u32 apart in the `counts` buffer:
/// spikes, row blocks, then `propagate`'s indirect dispatch arguments (x, 1, 1). WGSL
/// twins: `COUNT_*` in `shaders/shared/types.wgsl`.
pub const COUNT_SPIKES: usize = 0;
/// Row blocks appended this step.
pub const COUNT_BLOCKS: usize = 1;
/// Indirect x argument of `propagate`: min(blocks, max_groups).
pub const COUNT_GROUPS: usize = 2;
/// u32 per parity in `counts` (the indirect arguments sit 4-byte aligned inside).
pub const COUNTS_STRIDE: usize = 8;

/// The `counts` buffer with every counter zero and the indirect y and z at 1.
pub fn counts_init() -> [u32; 2 * COUNTS_STRIDE] {
    let mut c = [0; 2 * COUNTS_STRIDE];
    for p in 0..2 {
        c[p * COUNTS_STRIDE + COUNT_GROUPS + 1] = 1;
        c[p * COUNTS_STRIDE + COUNT_GROUPS + 2] = 1;
    }
    c
}

/// Row blocks of a row of `len` synapses.
pub fn row_blocks(len: u64) -> u64 {
    len.div_ceil(BLOCK as u64)
}

/// `syn_mode`: word = target | palette index << tgt_shift. WGSL twin: `SYN_PALETTE`.
pub const SYN_PALETTE: u32 = 0;
/// `syn_mode`: word = target | delay << tgt_shift, weight per synapse. WGSL twin: `SYN_PACKED`.
pub const SYN_PACKED: u32 = 1;
/// `syn_mode`: word = target, weight and delay per synapse. WGSL twin: `SYN_WIDE`.
pub const SYN_WIDE: u32 = 2;
const _: () = assert!(std::mem::size_of::<StepUniform>() == 96);
const _: () = assert!(std::mem::size_of::<StepUniform>() as u64 <= STEP_STRIDE);

impl StepUniform {
    /// The entry for step `step` of a batch starting at `first_step`.
    pub fn for_step(mut base: StepUniform, first_step: u64, step: u64) -> StepUniform {
        base.slot = (step % base.slots as u64) as u32;
        base.parity = (step % 2) as u32;
        base.row = (step - first_step) as u32;
        base.step = step as u32;
        base
    }
}

/// One voltage probe, as `lif_step.wgsl` (`record`) and `hv_record_voltage.wgsl` see it
/// for one batch.
///
/// WGSL twin: `struct Probe` in `shaders/shared/types.wgsl` (keep in sync).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct GpuProbe {
    /// Global neuron id.
    pub neuron: u32,
    /// Sampling interval in steps.
    pub every: u32,
    /// The first row of the batch the probe samples after: it samples after rows r with
    /// `r % every == first_row`, i.e. after steps with `(step + 1) % every == 0`.
    pub first_row: u32,
    /// What it samples: `network::PROBE_V`, `PROBE_SYN_AMPA`, `PROBE_SYN_GABA`,
    /// `PROBE_DSYN_AMPA` or `PROBE_DSYN_GABA`.
    pub variable: u32,
}
const _: () = assert!(std::mem::size_of::<GpuProbe>() == 16);

impl GpuProbe {
    /// The probe of global neuron `neuron`, sampling every `every` steps, for a batch
    /// starting at `first_step`.
    pub fn for_batch(neuron: u32, every: u32, var: u32, first_step: u64) -> GpuProbe {
        let e = every.max(1) as u64;
        let first_row = ((e - (first_step + 1) % e) % e) as u32;
        GpuProbe {
            neuron,
            every: e as u32,
            first_row,
            variable: var,
        }
    }
}

/// One Poisson drive stream (a `[[stimulus]] kind = "poisson"`), as
/// `lif_step.wgsl` (`poisson_drive`) sees it.
///
/// WGSL twin: `struct PoissonStream` in `shaders/shared/types.wgsl` (keep in sync).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable)]
pub struct GpuPoissonStream {
    /// Stream id in the Philox counter (the stimulus' index in the config).
    pub stream: u32,
    /// Blocks per step (`PoissonPlan::blocks`).
    pub blocks: u32,
    /// First entry of the stream's CDF table in `poisson_cdf`.
    pub cdf_at: u32,
    /// Entries of the CDF table.
    pub cdf_len: u32,
    /// Weight per event in accumulator units (round(w · scale)).
    pub weight: i32,
    /// Receptor (0 AMPA, 1 GABA-A).
    pub receptor: u32,
    /// Delay in steps (≥ 1).
    pub delay: u32,
    /// Padding to 32 bytes.
    pub _pad: u32,
}
const _: () = assert!(std::mem::size_of::<GpuPoissonStream>() == 32);
