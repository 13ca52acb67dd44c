//! The wgpu backend: the same stages as the CPU backend, as compute kernels
//! (`shaders/*.wgsl`), many steps per submit, with pipelined readback. [`GpuBackend`]
//! runs the LIF kernels described below, or for HV networks the kernels of [`hv`]
//! (`hv_step`, `hv_gather`, `hv_record_voltage`), batched and read back the same way.
//!
//! - **Stages** (CPU twins in `backend/cpu`), two dispatches a step for a LIF network:
//!   - `lif_step`, one invocation per neuron: read and clear this step's delay-ring
//!     slot, add the neuron's Poisson drive events of this step to its later slots (the
//!     same counter-based draws as the CPU), [`lif_update`](crate::model::lif::lif_update),
//!     sample its voltage probes, and when it spikes, record the spike (bit and id) and
//!     append its row's blocks of [`layout::BLOCK`] synapses to the step's block list;
//!   - `source_spikes`, right after it in steps where source populations spike (computed
//!     on the host for the whole batch by [`crate::source::source_batch`]; one
//!     invocation per spike, the same outputs as a LIF spike);
//!   - `propagate`, dispatched indirectly with as many workgroups as the step's spikes
//!     have row blocks (at most the adapter's per-dimension limit; none without spikes):
//!     one workgroup per block, [`layout::BLOCK_ITER`] synapses per invocation, i32
//!     `atomicAdd` into the ring, so sums do not depend on thread order and runs repeat
//!     bit for bit ([`walk`] models the decomposition on the host for the counters).
//!
//!   Current pulses change the stimulus current only at their edges: the host computes
//!   it there with the CPU's own [`stim_current`](crate::backend::cpu::stim_current) and
//!   the batch copies it in.
//! - **Batches**: [`Backend::begin_batch`] opens an encoder and a compute pass,
//!   [`Backend::run_stage`] only encodes dispatches, [`Backend::end_batch`] copies the
//!   record rows to a staging buffer and submits. The step reaches the kernels through a
//!   uniform buffer of one 256-byte [`StepUniform`](layout::StepUniform) per step, written
//!   once per batch and selected by a dynamic offset.
//! - **Step counters and block lists**: two of each, by step parity; `lif_step` of step
//!   n resets the counters of parity n + 1, which the previous step's `propagate` has
//!   finished reading.
//! - **Spike readback** follows the spikes: each batch reads back its spike lists (a
//!   count per step and the ids, sized from the previous batch's rate; the rest in a
//!   second copy when a batch has more), or its bit rows where those are smaller (small
//!   networks, high rates).
//! - **Readback** is pipelined over two record sets: `end_batch` of batch b submits b,
//!   then waits for b − 1 and returns it, so the device works on b while the host decodes
//!   b − 1; `finish` returns the last batch.
//! - **Limits**: every buffer is sized and checked before any is created
//!   ([`limits::check_limits`]); a network that does not fit fails with
//!   [`Error::Limit`]. wgpu errors outside error scopes are collected by the context and
//!   returned as [`Error::Gpu`].

mod batch;
mod cells;
mod context;
pub mod hv;
pub mod layout;
pub mod limits;
pub mod pipelines;
pub mod shaders;
mod state;
mod upload;
pub mod walk;

pub use context::{
    ADAPTER_ENV, GpuContext, INT64_ENV, describe_adapter, human_bytes, list_adapters,
};
pub use shaders::shader_sources;

use self::batch::{Batches, InFlight, end_upload, read_mapped};
use self::layout::{
    COUNT_GROUPS, COUNTS_STRIDE, GpuPoissonStream, STEP_STRIDE, StepUniform, WG_SIZE, counts_init,
};
use self::limits::{BufferSpec, check_buffer, dispatch_2d};
use self::pipelines::{Kernel, SOURCE_SPIKES, propagate_spec};
use self::upload::{Uploader, padded, padded_size, spike_rec_bytes};
use super::cpu::{
    CpuSynapses, Partition, Pulses, Values, current_pulses, stim_current, stim_current_at,
};
use super::{Backend, BackendInfo, BatchOutput, Stage, StateVar};
use crate::error::{Error, Result};
use crate::model::lif::LifParams;
use crate::network::{Drive, Network, Neurons};
use crate::real::{Precision, Real};

/// The LIF bind groups of one record set.
struct LifBinds {
    bind_lif: wgpu::BindGroup,
    bind_source: wgpu::BindGroup,
}

/// The GPU backend (f32): the kernels of the network's model (LIF here, HV in
/// [`hv::HvGpu`]) behind the one [`Backend`] trait, chosen once when it is built.
pub struct GpuBackend(Box<dyn Backend<Float = f32> + Send + Sync>);

impl GpuBackend {
    /// Checks the network against the device limits, then uploads it and compiles the
    /// kernels of its model.
    pub fn new(ctx: &GpuContext, net: &Network) -> Result<Self> {
        Ok(GpuBackend(match &net.neurons {
            Neurons::Hv(h) => Box::new(hv::HvGpu::new(ctx, net, h)?),
            _ => Box::new(LifGpu::new(ctx, net)?),
        }))
    }
}

impl std::fmt::Debug for GpuBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuBackend")
            .field("device", &self.0.info().device)
            .finish_non_exhaustive()
    }
}

/// The GPU backend is the backend of its model's kernels, chosen when it was built.
impl Backend for GpuBackend {
    type Float = f32;
    fn info(&self) -> BackendInfo {
        self.0.info()
    }
    fn take_counters(&mut self) -> Option<crate::backend::GpuCounters> {
        self.0.take_counters()
    }
    fn begin_batch(&mut self, first_step: u64, steps: u32) -> Result<()> {
        self.0.begin_batch(first_step, steps)
    }
    fn run_stage(&mut self, stage: Stage, step: u64) -> Result<()> {
        self.0.run_stage(stage, step)
    }
    fn end_batch(&mut self) -> Result<Vec<BatchOutput<Self::Float>>> {
        self.0.end_batch()
    }
    fn finish(&mut self) -> Result<Vec<BatchOutput<Self::Float>>> {
        self.0.finish()
    }
    fn voltages(&mut self) -> Result<Vec<f64>> {
        self.0.voltages()
    }
    fn read_state(&mut self, var: StateVar) -> Result<Vec<f64>> {
        self.0.read_state(var)
    }
    fn write_state(&mut self, net: &Network, var: StateVar, values: &[f64]) -> Result<()> {
        self.0.write_state(net, var, values)
    }
    fn write_params(&mut self, net: &Network) -> Result<()> {
        self.0.write_params(net)
    }
    fn save_state(&mut self, ck: &mut crate::checkpoint::Checkpoint) -> Result<()> {
        self.0.save_state(ck)
    }
    fn load_state(&mut self, ck: &crate::checkpoint::Checkpoint) -> Result<()> {
        self.0.load_state(ck)
    }
    fn write_sources(&mut self, net: &Network) -> Result<()> {
        self.0.write_sources(net)
    }
    fn write_currents(&mut self, net: &Network, step: u64) -> Result<()> {
        self.0.write_currents(net, step)
    }
}

/// The buffers `lif_step` binds besides a record set's (spike_bits, spike_rec, volt),
/// kept so that its bind groups can be rebuilt when the parameter table grows.
struct LifShared {
    uniforms: wgpu::Buffer,
    params: wgpu::Buffer,
    dsyn: wgpu::Buffer,
    state: wgpu::Buffer,
    ring: wgpu::Buffer,
    counts: wgpu::Buffer,
    blocks: wgpu::Buffer,
    row_ptr: wgpu::Buffer,
    i_stim: wgpu::Buffer,
    streams: wgpu::Buffer,
    cdf: wgpu::Buffer,
    aux: wgpu::Buffer,
    probes: wgpu::Buffer,
    drive_cache: wgpu::Buffer,
}

impl LifShared {
    /// `lif_step`'s bind group for one record set (binding order: [`LIF_STEP`]).
    fn bind(
        &self,
        lif: &Kernel,
        device: &wgpu::Device,
        spike_bits: &wgpu::Buffer,
        spike_rec: &wgpu::Buffer,
        volt: &wgpu::Buffer,
    ) -> wgpu::BindGroup {
        lif.bind(
            device,
            &[
                &self.uniforms,
                &self.params,
                &self.dsyn,
                &self.state,
                &self.ring,
                &self.counts,
                &self.blocks,
                &self.row_ptr,
                spike_bits,
                spike_rec,
                &self.i_stim,
                &self.streams,
                &self.cdf,
                &self.aux,
                &self.probes,
                volt,
                &self.drive_cache,
            ],
        )
    }
}

/// The parameter sets the device table has room for when a network has `sets`
/// distinct ones: a power of two, at least 16 (so that `write_params` rarely needs a
/// larger table; when it does, it makes one and rebinds).
pub fn param_capacity(sets: usize) -> usize {
    sets.max(16).next_power_of_two()
}

/// The LIF kernels (f32, i32 fixed-point input accumulators).
struct LifGpu {
    ctx: GpuContext,
    lif: Kernel,
    propagate: Kernel,
    state: wgpu::Buffer,
    state_staging: wgpu::Buffer,
    /// The delay ring (`slots × 2n` i32), kept for checkpoints.
    ring: wgpu::Buffer,
    ring_bytes: u64,
    /// The buffers lif_step binds, among them the distinct derived-constant sets
    /// (`params`, room for `param_cap`) and the per-neuron index (`aux`,
    /// [`neuron_index`]) whose first n entries are each neuron's index into them
    /// ([`param_table`]; both rewritten by `write_params`).
    shared: LifShared,
    param_cap: usize,
    /// Whether the network has alpha neurons: then `shared.dsyn` holds their dI/dt
    /// (2n f32; else one unused entry) and checkpoints carry it.
    alpha: bool,
    /// The uniforms, probes, record sets and the batches open and in flight.
    batches: Batches<LifBinds>,
    bind_propagate: wgpu::BindGroup,
    /// The step counters of both parities, with `propagate`'s indirect arguments
    /// ([`layout::counts_init`]).
    counts: wgpu::Buffer,
    /// Current pulses (host side), the stimulus current as the CPU computes it, the
    /// device copy, and an upload buffer for the vectors of a batch's pulse edges.
    pulses: Pulses<f32>,
    host_i_stim: Vec<f32>,
    i_stim: wgpu::Buffer,
    stim_upload: Option<wgpu::Buffer>,
    /// Stimulus-current vectors of the open batch's pulse edges, uploaded before its
    /// submit.
    stim: Vec<u8>,
    /// The source populations, the spikes of the open batch (computed on the host) and
    /// their device copies (`source_ptr`: batch rows + 1 offsets; `source_ids`).
    source: Kernel,
    sources: Vec<crate::source::SourcePop>,
    src_batch: crate::source::SourceBatch,
    src_first: u64,
    source_ptr: wgpu::Buffer,
    /// Grown (with the source bind groups rebuilt) when a batch has more source spikes.
    source_ids: wgpu::Buffer,
    /// The other buffers of the source bind groups: uniforms, counts, blocks, row_ptr.
    source_bufs: [wgpu::Buffer; 4],
    key: [u32; 2],
    n: usize,
    /// The model's kernel, tables and state layout (the tables and initial state are
    /// emptied once uploaded).
    cells: cells::GpuCells,
    has_synapses: bool,
    lif_groups: (u32, u32),
    /// Outgoing synapses per neuron, to count `propagate`'s longest loop.
    row_len: Vec<u32>,
}

impl std::fmt::Debug for LifGpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuBackend")
            .field("adapter", &self.ctx.describe())
            .field("n", &self.batches.base.n)
            .finish_non_exhaustive()
    }
}

impl LifGpu {
    /// Checks the network against the device limits, then uploads it and compiles the
    /// kernels.
    fn new(ctx: &GpuContext, net: &Network) -> Result<Self> {
        let device = ctx.device();
        let limits = ctx.limits();
        let batch_cap = super::batch_steps(net);
        limits::check_limits(net, batch_cap, &limits)?;
        ctx.take_error()?;

        // the model's kernel, constant table and state layout
        let mut cells = cells::GpuCells::of(net, ctx.int64())?;
        let n = net.n;
        // the CPU's compact table of the whole network (src/backend/cpu/synapses.rs),
        // uploaded as it is and dropped after the upload
        let syn = CpuSynapses::<f32>::build(net, &Partition { start: 0, end: n })
            .map_err(|e| Error::Usage(format!("building the synapse table: {e}")))?;
        let slots = net.synapses.max_delay + 1;
        let words = n.div_ceil(32).max(1) as u64;
        let n_probes = net.probes.len() as u64;
        let mut streams: Vec<GpuPoissonStream> = Vec::new();
        // (target neuron, stream index) of every stream's targets
        let mut targets: Vec<[u32; 2]> = Vec::new();
        let mut cdf: Vec<f32> = Vec::new();
        for d in &net.drives {
            if let Drive::Poisson {
                stream,
                neurons,
                plan,
                weight,
                receptor,
                delay,
            } = d
            {
                let idx = streams.len() as u32;
                streams.push(GpuPoissonStream {
                    stream: *stream,
                    blocks: plan.blocks,
                    cdf_at: cdf.len() as u32,
                    cdf_len: plan.cdf.len() as u32,
                    weight: <f32 as Real>::acc_weight(*weight, &net.fixed),
                    receptor: *receptor,
                    delay: *delay,
                    _pad: 0,
                });
                cdf.extend_from_slice(&plan.cdf);
                targets.extend(neurons.iter().map(|&i| [i, idx]));
            }
        }
        let probe_neurons: Vec<u32> = net.probes.iter().map(|p| p.global as u32).collect();
        let stream_blocks: Vec<u32> = streams.iter().map(|s| s.blocks).collect();
        let (aux, probe_at, cache_len) =
            neuron_index(&cells.index, &targets, &stream_blocks, &probe_neurons)?;
        cells.index = Vec::new();
        let alpha = cells.alpha();
        let pulses = current_pulses::<f32>(&net.drives);
        let key = crate::rng::key(net.seed);

        let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let val = device.push_error_scope(wgpu::ErrorFilter::Validation);
        use wgpu::BufferUsages as U;
        let up = Uploader { device };
        let init = |label: &str, data: &[u8], usage: U| up.init(label, data, usage);
        let empty = |label: &str, bytes: u64, usage: U| up.empty(label, bytes, usage);
        let st = U::STORAGE;
        // The distinct parameter sets and an index per neuron (in aux): lif_step reads
        // 4 bytes per neuron and a table that stays in cache (PD14: 8 sets), not 112
        // bytes per neuron.
        let param_cap = param_capacity(cells.sets());
        let mut room = std::mem::take(&mut cells.table);
        room.resize(param_cap * cells.set_bytes as usize, 0);
        let params_buf = init("params", &room, st | U::COPY_DST);
        drop(room);
        let dsyn_buf = empty(
            "dsyn",
            if alpha { n as u64 * 8 } else { 8 },
            st | U::COPY_SRC | U::COPY_DST,
        );
        let state = init(
            "state",
            &std::mem::take(&mut cells.state0),
            st | U::COPY_SRC | U::COPY_DST,
        );
        let ring = empty(
            "ring",
            slots as u64 * 2 * n as u64 * 4,
            st | U::COPY_SRC | U::COPY_DST,
        );
        let row_len: Vec<u32> = syn
            .row_ptr
            .windows(2)
            .map(|w| (w[1] as u64 - w[0] as u64).min(u32::MAX as u64) as u32)
            .collect();
        let row_ptr64: Vec<u64> = syn.row_ptr.iter().map(|&x| x as u64).collect();
        // little-endian u64 = (low word, high word): the shader's vec2<u32>
        let row_ptr = init("row_ptr", bytemuck::cast_slice(&row_ptr64), st);
        drop(row_ptr64);
        // Each synapse array in `n_chunks` buffers of up to `chunk` elements (one binding
        // each; check_limits made sure the adapter allows that many); the chunks of an
        // array the layout does not use are small dummies.
        let chunk = limits::syn_chunk_len(&limits).max(1) as usize;
        let n_chunks = limits::syn_chunks(net, &limits);
        let chunks = |label: &str, data: &[u8]| -> Vec<wgpu::Buffer> {
            (0..n_chunks as usize)
                .map(|c| {
                    let lo = (c * chunk * 4).min(data.len());
                    let hi = ((c + 1) * chunk * 4).min(data.len());
                    init(&format!("{label}{c}"), &data[lo..hi], st)
                })
                .collect()
        };
        let syn_word = chunks("syn_word", bytemuck::cast_slice(&syn.word));
        let (syn_mode, tgt_shift, weights, delays, pal): (_, _, &[i32], &[u32], Vec<[u32; 2]>) =
            match &syn.values {
                Values::Palette { shift, palette } => (
                    layout::SYN_PALETTE,
                    *shift,
                    &[],
                    &[],
                    palette.iter().map(|&(w, d)| [w as u32, d]).collect(),
                ),
                Values::Packed { shift, weight } => {
                    (layout::SYN_PACKED, *shift, weight, &[], Vec::new())
                }
                Values::Wide { weight, delay } => (layout::SYN_WIDE, 0, weight, delay, Vec::new()),
            };
        let syn_weight = chunks("syn_weight", bytemuck::cast_slice(weights));
        let syn_delay = chunks("syn_delay", bytemuck::cast_slice(delays));
        let palette = init("palette", bytemuck::cast_slice(&pal), st);
        let n_syn = syn.len();
        drop(syn);
        let counts = init(
            "counts",
            bytemuck::cast_slice(&counts_init()),
            st | U::INDIRECT | U::COPY_DST,
        );
        let block_cap = walk::block_capacity(&row_len).max(1);
        let blocks = empty("blocks", 2 * block_cap * 8, st);
        let probe_buf = empty("probes", n_probes * 16, st | U::COPY_DST);
        let uniforms = empty(
            "u",
            batch_cap as u64 * STEP_STRIDE,
            U::UNIFORM | U::COPY_DST,
        );
        let i_stim = empty("i_stim", n as u64 * 4, st | U::COPY_DST);
        let streams_buf = init("streams", bytemuck::cast_slice(&streams), st);
        let cdf_buf = init("poisson_cdf", bytemuck::cast_slice(&cdf), st);
        let aux_buf = init("aux", bytemuck::cast_slice(&aux), st | U::COPY_DST);
        // wgpu zero-initialises buffers: every tag says "no group held"
        let drive_cache = empty("drive_cache", cache_len * 16, st);
        let state_staging = empty(
            "state_staging",
            n as u64 * cells.state_bytes,
            U::MAP_READ | U::COPY_DST,
        );
        let [lif, propagate, source] = upload::compile([
            ctx.kernel(cells.spec.clone(), std::mem::take(&mut cells.source)),
            shaders::kernel_source_chunks("propagate", n_chunks)
                .map_err(Error::Gpu)
                .and_then(|src| ctx.kernel(propagate_spec(n_chunks), src)),
            ctx.kernel_named(SOURCE_SPIKES),
        ])?;
        let n_src: u64 = net.sources.iter().map(|s| s.size as u64).sum();
        let source_ptr = empty("source_ptr", (batch_cap as u64 + 1) * 4, st | U::COPY_DST);
        // sized for the first batches' spikes; reserve_source_ids grows it
        let source_ids = empty(
            "source_ids",
            (batch_cap as u64 * n_src).min(1 << 16) * 4,
            st | U::COPY_DST,
        );
        let shared = LifShared {
            uniforms: uniforms.clone(),
            params: params_buf,
            dsyn: dsyn_buf,
            state: state.clone(),
            ring: ring.clone(),
            counts: counts.clone(),
            blocks: blocks.clone(),
            row_ptr: row_ptr.clone(),
            i_stim: i_stim.clone(),
            streams: streams_buf,
            cdf: cdf_buf,
            aux: aux_buf,
            probes: probe_buf.clone(),
            drive_cache,
        };
        let make_set = |tag: &str| {
            let staging =
                spike_rec_bytes(batch_cap as u64, words) + batch_cap as u64 * n_probes * 4;
            up.record_set(
                tag,
                upload::RecordShape {
                    batch: batch_cap as u64,
                    words,
                    probes: n_probes,
                    lists: true,
                },
                staging,
                |spike_bits, volt, spike_rec| {
                    let spike_rec = spike_rec.expect("LIF record sets have spike lists");
                    let bind_lif = shared.bind(&lif, device, spike_bits, spike_rec, volt);
                    let bind_source = source.bind(
                        device,
                        &[
                            &uniforms,
                            &counts,
                            &blocks,
                            &row_ptr,
                            spike_bits,
                            spike_rec,
                            &source_ptr,
                            &source_ids,
                        ],
                    );
                    LifBinds {
                        bind_lif,
                        bind_source,
                    }
                },
            )
        };
        let sets = [make_set("A"), make_set("B")];
        let uniforms_handle = uniforms.clone();
        let mut propagate_buffers = vec![&uniforms, &row_ptr, &ring, &counts, &blocks, &palette];
        for c in 0..n_chunks as usize {
            propagate_buffers.extend([&syn_word[c], &syn_weight[c], &syn_delay[c]]);
        }
        let bind_propagate = propagate.bind(device, &propagate_buffers);
        end_upload(ctx, oom, val, || {
            format!("the network ({n} neurons, {n_syn} synapses)")
        })?;

        let max_dim = limits.max_compute_workgroups_per_dimension;
        let groups = |items: u64| (items.div_ceil(WG_SIZE as u64)).max(1) as u32;
        let base = StepUniform {
            n: n as u32,
            words: words as u32,
            slots,
            n_probes: n_probes as u32,
            inv_scale: net.fixed.inv_scale() as f32,
            slot: 0,
            parity: 0,
            row: 0,
            zero: 0,
            step: 0,
            key_lo: key[0],
            key_hi: key[1],
            n_targets: targets.len() as u32,
            syn_shift: chunk.ilog2(),
            syn_mode,
            tgt_shift,
            block_cap: block_cap as u32,
            max_groups: max_dim,
            probe_at,
            rec_cap: (batch_cap as u64 * words).min(u32::MAX as u64) as u32,
            rec_at: 0,
            probe_due: 0,
            _pad: [0; 2],
        };
        Ok(LifGpu {
            ctx: ctx.clone(),
            lif,
            propagate,
            state,
            state_staging,
            ring,
            ring_bytes: slots as u64 * 2 * n as u64 * 4,
            alpha,
            shared,
            param_cap,
            batches: Batches::new(ctx, net, base, batch_cap, uniforms, probe_buf, sets),
            bind_propagate,
            counts: counts.clone(),
            host_i_stim: if pulses.is_empty() {
                Vec::new()
            } else {
                vec![0.0; n]
            },
            pulses,
            i_stim,
            stim_upload: None,
            stim: Vec::new(),
            source,
            sources: net.sources.clone(),
            src_batch: Default::default(),
            src_first: 0,
            source_bufs: [uniforms_handle, counts, blocks, row_ptr],
            source_ptr,
            source_ids,
            key,
            n,
            cells,
            has_synapses: n_syn > 0,
            lif_groups: dispatch_2d(groups(n as u64), max_dim),
            row_len,
        })
    }

    /// Makes sure the stimulus upload buffer holds the current vectors of every pulse
    /// edge in steps `first..first + steps` (one n-vector per edge step).
    fn reserve_stim_upload(&mut self, first: u64, steps: u32) -> Result<()> {
        if self.pulses.is_empty() {
            return Ok(());
        }
        let edges = self.pulses.edges_in(first, first + steps as u64);
        let bytes = edges as u64 * self.host_i_stim.len() as u64 * 4;
        if bytes == 0 || self.stim_upload.as_ref().is_some_and(|b| b.size() >= bytes) {
            return Ok(());
        }
        check_buffer(
            &BufferSpec {
                name: "stim_upload",
                what: "stimulus-current uploads",
                bytes,
                storage: false,
                elements: 0,
                cause: format!(
                    "{} pulse edges in one batch × {} neurons",
                    edges,
                    self.host_i_stim.len()
                ),
            },
            &self.ctx.limits(),
        )?;
        // The previous buffer may still serve the batch in flight; wgpu keeps it alive.
        self.stim_upload = Some(self.ctx.device().create_buffer(&wgpu::BufferDescriptor {
            label: Some("stim_upload"),
            size: padded_size(bytes),
            usage: wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        }));
        self.ctx.take_error()
    }

    /// Makes sure `source_ids` holds `needed` ids: a larger buffer (the next power of two)
    /// and new source bind groups for both record sets. A batch in flight keeps the old
    /// ones (wgpu keeps them alive).
    fn reserve_source_ids(&mut self, needed: u64) -> Result<()> {
        let bytes = needed * 4;
        if bytes <= self.source_ids.size() {
            return Ok(());
        }
        let bytes = bytes.next_power_of_two();
        check_buffer(
            &BufferSpec {
                name: "source_ids",
                what: "source-population spikes of one batch",
                bytes,
                storage: true,
                elements: needed,
                cause: format!("{needed} source spikes in one batch"),
            },
            &self.ctx.limits(),
        )?;
        let device = self.ctx.device();
        self.source_ids = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("source_ids"),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let [u, counts, blocks, row_ptr] = &self.source_bufs;
        for set in self.batches.sets.iter_mut() {
            let Some(rec) = &set.spike_rec else {
                return Err(Error::Gpu("a LIF record set without spike lists".into()));
            };
            set.ext.bind_source = self.source.bind(
                device,
                &[
                    u,
                    counts,
                    blocks,
                    row_ptr,
                    &set.spike_bits,
                    rec,
                    &self.source_ptr,
                    &self.source_ids,
                ],
            );
        }
        self.ctx.take_error()
    }

    /// Reads a submitted batch back and decodes it.
    fn read_batch(&mut self, f: InFlight) -> Result<BatchOutput<f32>> {
        let out = self.batches.read(f, 0, |_, _| Ok(()))?;
        self.count_propagate(&out);
        Ok(out)
    }

    /// `propagate`'s longest serial loop in the steps of `out`, as the device splits
    /// each step's spiking rows into blocks ([`walk::propagate_walk`]).
    fn count_propagate(&mut self, out: &BatchOutput<f32>) {
        if !self.has_synapses {
            return;
        }
        let max_groups = self.batches.base.max_groups;
        // one pass over the batch's spikes (sorted by step), a walk per step
        let (mut most, mut step, mut w) = (0, None, walk::StepWalk::default());
        for (s, i) in out.spikes() {
            if step != Some(s) {
                most = most.max(w.iterations(max_groups));
                (step, w) = (Some(s), walk::StepWalk::default());
            }
            w.add(*self.row_len.get(i).unwrap_or(&0) as u64);
        }
        most = most.max(w.iterations(max_groups));
        let c = &mut self.batches.counters;
        c.max_propagate_iterations = c.max_propagate_iterations.max(most);
    }
}

impl Backend for LifGpu {
    type Float = f32;

    fn info(&self) -> BackendInfo {
        BackendInfo {
            backend: "gpu".into(),
            device: self.ctx.describe().to_string(),
            precision: Precision::F32,
            threads: None,
        }
    }

    fn begin_batch(&mut self, first_step: u64, steps: u32) -> Result<()> {
        self.batches.check(steps)?;
        self.reserve_stim_upload(first_step, steps)?;
        self.stim.clear();
        self.src_first = first_step;
        if !self.sources.is_empty() {
            crate::source::source_batch(
                &self.sources,
                self.key,
                first_step,
                steps,
                &mut self.src_batch,
            );
            self.reserve_source_ids(self.src_batch.ids.len() as u64)?;
        }
        self.batches.begin(first_step, steps, "batch", "steps")
    }

    fn run_stage(&mut self, stage: Stage, step: u64) -> Result<()> {
        let (b, rs, offset) = self.batches.stage(step)?;
        if stage == Stage::NeuronStep && self.pulses.is_edge(step) {
            // A pulse edge: the host computes the stimulus current as the CPU does (with
            // its function), and the batch copies it in before this step's lif_step.
            stim_current(&self.pulses, &mut self.host_i_stim, step);
            let Some(upload) = &self.stim_upload else {
                return Err(Error::Gpu("no stimulus upload buffer".into()));
            };
            let at = self.stim.len() as u64;
            self.stim
                .extend_from_slice(bytemuck::cast_slice(&self.host_i_stim));
            let bytes = self.host_i_stim.len() as u64 * 4;
            let i_stim = &self.i_stim;
            b.outside_pass(|encoder| encoder.copy_buffer_to_buffer(upload, at, i_stim, 0, bytes));
        }
        let pass = b.pass();
        let rs = &rs.ext;
        let mut dispatches = 0;
        match stage {
            Stage::NeuronStep => {
                pass.set_pipeline(&self.lif.pipeline);
                pass.set_bind_group(0, &rs.bind_lif, &[offset]);
                pass.dispatch_workgroups(self.lif_groups.0, self.lif_groups.1, 1);
                dispatches += 1;
                if !self.sources.is_empty() {
                    let row = (step - self.src_first) as usize;
                    let ptr = &self.src_batch.ptr;
                    let count = (ptr[row + 1] - ptr[row]) as u64;
                    if count > 0 {
                        let max_dim = self.ctx.limits().max_compute_workgroups_per_dimension;
                        let (x, y) = dispatch_2d(count.div_ceil(WG_SIZE as u64) as u32, max_dim);
                        pass.set_pipeline(&self.source.pipeline);
                        pass.set_bind_group(0, &rs.bind_source, &[offset]);
                        pass.dispatch_workgroups(x, y, 1);
                        dispatches += 1;
                    }
                }
            }
            Stage::Propagate => {
                if self.has_synapses {
                    // as many workgroups as this step's spikes have row blocks (at most
                    // max_groups), as lif_step and source_spikes counted them: no
                    // workgroup at all in a step without spikes
                    let at = (((step % 2) as usize * COUNTS_STRIDE + COUNT_GROUPS) * 4) as u64;
                    pass.set_pipeline(&self.propagate.pipeline);
                    pass.set_bind_group(0, &self.bind_propagate, &[offset]);
                    pass.dispatch_workgroups_indirect(&self.counts, at);
                    dispatches += 1;
                }
            }
            // lif_step records spikes and voltages, and adds the Poisson drive
            Stage::Record => {}
        }
        b.dispatched(dispatches);
        Ok(())
    }

    fn end_batch(&mut self) -> Result<Vec<BatchOutput<f32>>> {
        let (ctx, stim, upload) = (&self.ctx, &self.stim, &self.stim_upload);
        let (src, ptr_buf, ids_buf) = (&self.src_batch, &self.source_ptr, &self.source_ids);
        let has_sources = !self.sources.is_empty();
        if self.batches.is_open() {
            let c = &mut self.batches.counters;
            c.upload_bytes += stim.len() as u64;
            if has_sources {
                c.upload_bytes += (src.ptr.len() + src.ids.len()) as u64 * 4;
            }
        }
        let prev = self.batches.submit(0, |_, _, _, _| {
            if let (false, Some(upload)) = (stim.is_empty(), upload) {
                ctx.queue().write_buffer(upload, 0, stim);
            }
            if has_sources {
                ctx.queue()
                    .write_buffer(ptr_buf, 0, bytemuck::cast_slice(&src.ptr));
                if !src.ids.is_empty() {
                    ctx.queue()
                        .write_buffer(ids_buf, 0, bytemuck::cast_slice(&src.ids));
                }
            }
        })?;
        match prev {
            Some(p) => Ok(vec![self.read_batch(p)?]),
            None => Ok(Vec::new()),
        }
    }

    fn finish(&mut self) -> Result<Vec<BatchOutput<f32>>> {
        let mut out = self.end_batch()?;
        if let Some(f) = self.batches.take_in_flight() {
            out.push(self.read_batch(f)?);
        }
        Ok(out)
    }

    fn take_counters(&mut self) -> Option<crate::backend::GpuCounters> {
        Some(std::mem::take(&mut self.batches.counters))
    }

    /// Reads the state buffer as of the work submitted so far (an open batch's encoded
    /// steps are not included).
    fn voltages(&mut self) -> Result<Vec<f64>> {
        let state = self.read_raw_state()?;
        Ok(self.cells.values(&state, 0))
    }

    fn read_state(&mut self, var: StateVar) -> Result<Vec<f64>> {
        let k = self.var_index(var)?;
        let state = self.read_raw_state()?;
        Ok(self.cells.values(&state, k))
    }

    fn write_state(&mut self, _net: &Network, var: StateVar, values: &[f64]) -> Result<()> {
        let k = self.var_index(var)?;
        let state = self.read_raw_state()?;
        let state = self.cells.with_values(&state, k, values);
        self.ctx
            .queue()
            .write_buffer(&self.state, 0, &padded(&state));
        self.ctx.take_error()
    }

    fn save_state(&mut self, ck: &mut crate::checkpoint::Checkpoint) -> Result<()> {
        self.save_sections(ck)
    }

    fn load_state(&mut self, ck: &crate::checkpoint::Checkpoint) -> Result<()> {
        self.load_sections(ck)
    }

    fn write_params(&mut self, net: &Network) -> Result<()> {
        self.cells.rederive(net);
        let (table, index) = (
            std::mem::take(&mut self.cells.table),
            std::mem::take(&mut self.cells.index),
        );
        let sets = table.len() / self.cells.set_bytes as usize;
        if sets > self.param_cap {
            // a larger table, and lif_step's bind groups rebuilt around it (batches in
            // flight keep the old ones)
            self.param_cap = param_capacity(sets);
            let bytes = self.param_cap as u64 * self.cells.set_bytes;
            limits::check_buffer(
                &limits::BufferSpec {
                    name: "params",
                    what: "neuron parameter sets",
                    bytes,
                    storage: true,
                    elements: self.param_cap as u64,
                    cause: format!("{sets} distinct parameter sets"),
                },
                &self.ctx.limits(),
            )?;
            let device = self.ctx.device();
            self.shared.params = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("params"),
                size: bytes,
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            for set in &mut self.batches.sets {
                let rec = set
                    .spike_rec
                    .as_ref()
                    .expect("LIF record sets have spike lists");
                set.ext.bind_lif =
                    self.shared
                        .bind(&self.lif, device, &set.spike_bits, rec, &set.volt);
            }
        }
        let q = self.ctx.queue();
        q.write_buffer(&self.shared.params, 0, &padded(&table));
        // aux begins with the parameter indices (neuron_index)
        q.write_buffer(&self.shared.aux, 0, &padded(bytemuck::cast_slice(&index)));
        self.ctx.take_error()
    }

    fn write_sources(&mut self, net: &Network) -> Result<()> {
        self.upload_sources(net)
    }

    fn write_currents(&mut self, net: &Network, step: u64) -> Result<()> {
        self.upload_currents(net, step)
    }
}

impl LifGpu {
    /// The index of `var` in the state (0: V).
    fn var_index(&self, var: StateVar) -> Result<usize> {
        match var {
            StateVar::V => Ok(0),
            StateVar::Point(k, _) => Ok(k as usize),
            StateVar::W => Err(Error::Usage(
                "state variable 'w' does not exist in this network's neurons".into(),
            )),
        }
    }

    fn upload_sources(&mut self, net: &Network) -> Result<()> {
        self.sources = net.sources.clone();
        Ok(())
    }

    fn upload_currents(&mut self, net: &Network, step: u64) -> Result<()> {
        self.pulses = current_pulses::<f32>(&net.drives);
        self.host_i_stim = vec![0.0; net.n];
        stim_current_at(&self.pulses, &mut self.host_i_stim, step);
        if self.pulses.is_empty() {
            self.host_i_stim.clear();
        }
        let zeros;
        let data: &[f32] = if self.host_i_stim.is_empty() {
            zeros = vec![0.0f32; net.n];
            &zeros
        } else {
            &self.host_i_stim
        };
        if !data.is_empty() {
            self.ctx
                .queue()
                .write_buffer(&self.i_stim, 0, bytemuck::cast_slice(data));
        }
        self.ctx.take_error()
    }

    /// The neuron state as of the work submitted so far.
    fn read_raw_state(&mut self) -> Result<Vec<u8>> {
        let n = self.n;
        let mut encoder =
            self.ctx
                .device()
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("read state"),
                });
        let bytes = n as u64 * self.cells.state_bytes;
        if bytes > 0 {
            encoder.copy_buffer_to_buffer(&self.state, 0, &self.state_staging, 0, bytes);
        }
        let index = self.ctx.queue().submit([encoder.finish()]);
        self.ctx.take_error()?;
        let data = read_mapped(&self.ctx, &self.state_staging, bytes, index)?;
        Ok(data.to_vec())
    }
}

/// The per-neuron index `lif_step` reads from `aux`, and the size of its drive cache.
/// For neuron i (of n = `param_index.len()`), its parameter set is `aux[i]`, the
/// streams that drive it are the pairs `(stream, cache entry)` at
/// `aux[aux[n + i]..aux[n + i + 1]]` (from the (neuron, stream) pairs of `targets`; the cache
/// entry is the pair's tag in `drive_cache`, followed by one entry per block of the
/// stream, `blocks[stream]`), and its probes `aux[aux[at + i]..aux[at + i + 1]]`
/// (indices into the probe list, of `probes[k]` = the neuron of probe k), where `at` is
/// returned with it. Pointers are positions in `aux`, so one binding holds all.
fn neuron_index(
    param_index: &[u32],
    targets: &[[u32; 2]],
    blocks: &[u32],
    probes: &[u32],
) -> Result<(Vec<u32>, u32, u64)> {
    let n = param_index.len();
    // n indices, then (n + 1 pointers + entries) twice, all addressed with u32
    let len = n as u64 + 2 * (n as u64 + 1) + 2 * targets.len() as u64 + probes.len() as u64;
    let cache: u64 = targets
        .iter()
        .map(|t| 1 + blocks[t[1] as usize] as u64)
        .sum();
    if len > u32::MAX as u64 || cache > u32::MAX as u64 {
        return Err(Error::Limit(format!(
            "the per-neuron drive and probe index (aux) would hold {len} entries and the \
             drive cache {cache}, more than a u32 index reaches: {} Poisson drive targets \
             on {n} neurons",
            targets.len()
        )));
    }
    let mut aux = Vec::with_capacity(len as usize);
    aux.extend_from_slice(param_index);
    let mut sorted: Vec<[u32; 2]> = targets.to_vec();
    sorted.sort_unstable();
    let mut at = 0u32;
    let drives: Vec<(u32, [u32; 2])> = sorted
        .iter()
        .map(|t| {
            let e = (t[0], [t[1], at]);
            at += 1 + blocks[t[1] as usize];
            e
        })
        .collect();
    csr(&mut aux, n, drives);
    let probe_at = aux.len() as u32;
    let by_neuron: Vec<(u32, [u32; 1])> = probes
        .iter()
        .enumerate()
        .map(|(k, &g)| (g, [k as u32]))
        .collect();
    csr(&mut aux, n, by_neuron);
    Ok((aux, probe_at, cache))
}

/// Appends to `aux` a CSR over `n` neurons of `(neuron, values)` pairs: n + 1 pointers
/// (positions in `aux`), then the values of the pairs in neuron order.
fn csr<const W: usize>(aux: &mut Vec<u32>, n: usize, mut pairs: Vec<(u32, [u32; W])>) {
    pairs.sort_unstable();
    let base = aux.len();
    let start = base + n + 1;
    aux.resize(start, 0);
    let mut k = 0;
    for i in 0..=n {
        while k < pairs.len() && (pairs[k].0 as usize) < i {
            k += 1;
        }
        aux[base + i] = (start + k * W) as u32;
    }
    aux.extend(pairs.iter().flat_map(|p| p.1));
}

/// The distinct parameter sets of `params`, in order of first use, and each neuron's
/// index into them (sets equal bit for bit share an entry, so the kernel computes with
/// exactly the neuron's own values).
pub(super) fn param_table(params: &[LifParams<f32>]) -> (Vec<LifParams<f32>>, Vec<u32>) {
    let mut seen: std::collections::HashMap<&[u8], u32> = std::collections::HashMap::new();
    let mut table = Vec::new();
    let index = params
        .iter()
        .map(|p| {
            *seen.entry(bytemuck::bytes_of(p)).or_insert_with(|| {
                table.push(*p);
                (table.len() - 1) as u32
            })
        })
        .collect();
    (table, index)
}

#[cfg(test)]
mod tests {
    use super::neuron_index;

    #[test]
    fn the_neuron_index_lists_each_neurons_streams_and_probes() {
        // neuron 1 driven by streams 0 and 2, neuron 3 by stream 1 (of 1, 3 and 2
        // blocks); probes on 3, 0, 3
        let targets = [[1, 2], [3, 1], [1, 0]];
        let (aux, at, cache) =
            neuron_index(&[0, 1, 1, 0], &targets, &[1, 3, 2], &[3, 0, 3]).unwrap();
        assert_eq!(aux[..4], [0, 1, 1, 0], "the parameter indices come first");
        let at = at as usize;
        let list = |base: usize, i: usize| {
            aux[aux[base + i] as usize..aux[base + i + 1] as usize].to_vec()
        };
        // (stream, cache entry): a tag and the stream's blocks each, neuron by neuron
        assert_eq!(list(4, 0), Vec::<u32>::new());
        assert_eq!(list(4, 1), vec![0, 0, 2, 2]);
        assert_eq!(list(4, 2), Vec::<u32>::new());
        assert_eq!(list(4, 3), vec![1, 5]);
        assert_eq!(cache, 2 + 3 + 4);
        assert_eq!(list(at, 0), vec![1]);
        assert_eq!(list(at, 3), vec![0, 2]);
        assert_eq!(list(at, 1), Vec::<u32>::new());
        assert_eq!(aux.len(), 4 + 2 * 5 + 2 * 3 + 3);
    }
}
