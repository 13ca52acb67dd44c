//! Backends behind one trait, and the schedule they all run.
//!
//! A simulation step is the fixed sequence of [`SCHEDULE`] stages (Brian2's idea of one
//! named schedule for every target). The loop in [`crate::sim`] calls
//! [`Backend::run_stage`] for each stage of each step of a batch, then
//! [`Backend::end_batch`]. The CPU backend executes a stage immediately; the GPU backend
//! encodes it, and submits the whole batch at `end_batch`, so the device runs many steps
//! per submit and the host reads recorded spikes back one batch at a time.

pub mod cpu;
pub mod gpu;
pub mod state_check;

use crate::checkpoint::Checkpoint;
use crate::error::Result;

use crate::network::Network;
use crate::real::{Precision, Real};

/// The stages of one step, in order.
///
/// For HV networks (graded, instantaneous coupling; spec hv-model.md 6.2) the same three
/// stages carry the frozen-coupling scheme: `NeuronStep` of step n integrates every neuron
/// with the activations P gathered from y^n, detects spikes and computes the release
/// s_j of the new y^{n+1}; `Propagate` gathers P for step n + 1 from those s_j. The
/// gather for step 0 runs once when the backend is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Integrate every neuron over dt, test the threshold, reset; emit spikes.
    /// (HV: one RK4 step, spike detection, presynaptic release of the new voltage.)
    NeuronStep,
    /// Deliver this step's spikes along the outgoing synapses into the delay ring.
    /// (HV: gather the graded activation of the next step over incoming synapses.)
    Propagate,
    /// Record spikes (bitfield and, for HV, interpolated times) and voltage samples.
    Record,
}

/// The schedule shared by every backend.
pub const SCHEDULE: [Stage; 3] = [Stage::NeuronStep, Stage::Propagate, Stage::Record];

/// The spikes of a batch, in the form its backend produced them.
#[derive(Debug, Clone)]
pub enum SpikeRows {
    /// `steps × words` spike bits (GeNN style): bit `i % 32` of word `i / 32` of row `s`
    /// is set when neuron `i` spiked in step `first_step + s`.
    Bits {
        /// The rows.
        bits: Vec<u32>,
        /// Words per step: ceil(n / 32).
        words: usize,
    },
    /// Spike lists: the neurons of row `s` are `ids[ptr[s]..ptr[s + 1]]`, ascending
    /// (`ptr` has `steps + 1` entries). The GPU's compact readback: its size follows the
    /// spikes, not the network.
    Lists {
        /// Row offsets into `ids`.
        ptr: Vec<u32>,
        /// Spiking neurons, row by row.
        ids: Vec<u32>,
    },
}

/// What a batch of steps recorded.
#[derive(Debug, Clone)]
pub struct BatchOutput<F> {
    /// Index of the batch's first step.
    pub first_step: u64,
    /// Number of steps.
    pub steps: u32,
    /// The spikes of each step.
    pub spikes: SpikeRows,
    /// `steps × probes` voltages (mV, absolute) after each step; only entries whose
    /// probe samples after that step are meaningful.
    pub voltages: Vec<F>,
    /// Spikes with a sub-step time, for models that interpolate the threshold crossing
    /// (HV): (step, global neuron, fraction of the step in (0, 1]), sorted by step, then
    /// neuron, one entry per spike bit; the spike of step n happened at (n + fraction)·dt.
    /// Empty for LIF, whose spikes are stamped at the end of the step.
    pub interp: Vec<(u64, u32, f32)>,
}

impl<F> BatchOutput<F> {
    /// Iterates the spikes of the batch as (step, neuron), sorted by step, then neuron.
    pub fn spikes(&self) -> impl Iterator<Item = (u64, usize)> + '_ {
        let first = self.first_step;
        let steps = self.steps as usize;
        let (bits, lists) = match &self.spikes {
            SpikeRows::Bits { bits, words } => (Some((bits, *words)), None),
            SpikeRows::Lists { ptr, ids } => (None, Some((ptr, ids))),
        };
        let from_bits = bits.into_iter().flat_map(move |(bits, words)| {
            (0..steps).flat_map(move |s| {
                let row = &bits[s * words..(s + 1) * words];
                row.iter().enumerate().flat_map(move |(w, &bits)| {
                    let mut b = bits;
                    std::iter::from_fn(move || {
                        if b == 0 {
                            return None;
                        }
                        let t = b.trailing_zeros();
                        b &= b - 1;
                        Some((first + s as u64, w * 32 + t as usize))
                    })
                })
            })
        });
        let from_lists = lists.into_iter().flat_map(move |(ptr, ids)| {
            (0..steps).flat_map(move |s| {
                ids[ptr[s] as usize..ptr[s + 1] as usize]
                    .iter()
                    .map(move |&i| (first + s as u64, i as usize))
            })
        });
        from_bits.chain(from_lists)
    }
}

impl<F> BatchOutput<F> {
    /// The spikes of the batch as (step, neuron, time in ms), sorted by step, then neuron:
    /// the interpolated crossing time where the model gives one (HV), otherwise the end
    /// of the step ([`crate::sim::stamp_ms`]).
    pub fn spike_times(&self, dt_ms: f64) -> impl Iterator<Item = (u64, usize, f64)> + '_ {
        let interp = !self.interp.is_empty();
        debug_assert!(!interp || self.interp.len() == self.spikes().count());
        self.spikes().enumerate().map(move |(k, (step, i))| {
            let t = if interp {
                let (s, j, f) = self.interp[k];
                debug_assert_eq!((s, j as usize), (step, i), "interp matches the spike bits");
                // rounded to 1e-9 ms, like stamp_ms (the f32 fraction is good to ~1e-9 ms)
                (((step as f64 + f as f64) * dt_ms) * 1e9).round() / 1e9
            } else {
                crate::sim::stamp_ms(step, dt_ms)
            };
            (step, i, t)
        })
    }
}

/// The error for a non-finite state (spec hv-model.md 6.4), naming the population,
/// neuron, step and time; `values` are the offending (v in mV, w) where known.
pub fn nonfinite_error(
    pops: &[crate::network::PopulationInfo],
    global: usize,
    step: u64,
    dt_ms: f64,
    values: Option<(f64, f64)>,
) -> crate::error::Error {
    let p = pops.partition_point(|p| p.offset + p.size <= global);
    let (name, local) = pops
        .get(p)
        .map(|q| (q.name.as_str(), global - q.offset))
        .unwrap_or(("?", global));
    let values = values
        .map(|(v, w)| format!(": v = {v} mV, w = {w}"))
        .unwrap_or_default();
    crate::error::Error::NonFinite(format!(
        "non-finite state in population '{name}', neuron {local}, in step {step} (t = {:.6} ms){values}; the HV model is only conditionally stable (RK4 with a stiff w-equation when hyperpolarised with w high, spec hv-model.md 6.4): reduce dt_ms or the drive. The run stopped; its outputs are incomplete",
        (step + 1) as f64 * dt_ms
    ))
}

/// What a GPU backend encoded and moved, counted on the host as it encodes, so that the
/// figures the GPU's speed depends on can be seen and tested without a GPU (lavapipe
/// encodes the same commands as a real device).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GpuCounters {
    /// Steps encoded.
    pub steps: u64,
    /// Compute dispatches.
    pub dispatches: u64,
    /// Synchronisation points between dependent commands in a submit: every command of
    /// a batch after its first (dispatch, buffer clear or copy) reads what an earlier
    /// one wrote, so the device waits for that one to finish.
    pub barriers: u64,
    /// Bytes written from the host to the device while running (uniforms, probe
    /// entries, stimulus currents, source spikes).
    pub upload_bytes: u64,
    /// Bytes read back from the device (recorded spikes, voltages, model data).
    pub readback_bytes: u64,
    /// The longest serial loop any workgroup ran in `propagate` (LIF: `BLOCK_ITER`
    /// iterations per row block, times the blocks one workgroup took in turn,
    /// [`gpu::walk::propagate_walk`]; HV: the largest in-degree one invocation gathers
    /// over), the maximum over the steps.
    pub max_propagate_iterations: u64,
}

impl GpuCounters {
    /// Adds `o`'s counts (the maximum of the maxima).
    pub fn add(&mut self, o: &GpuCounters) {
        self.steps += o.steps;
        self.dispatches += o.dispatches;
        self.barriers += o.barriers;
        self.upload_bytes += o.upload_bytes;
        self.readback_bytes += o.readback_bytes;
        self.max_propagate_iterations = self
            .max_propagate_iterations
            .max(o.max_propagate_iterations);
    }

    /// The per-step figures `summary.json` and `galvani bench` report.
    pub fn report(&self) -> GpuReport {
        let per = |x: u64| {
            if self.steps == 0 {
                0.0
            } else {
                x as f64 / self.steps as f64
            }
        };
        GpuReport {
            dispatches_per_step: per(self.dispatches),
            barriers_per_step: per(self.barriers),
            upload_bytes_per_step: per(self.upload_bytes),
            readback_bytes_per_step: per(self.readback_bytes),
            max_propagate_iterations: self.max_propagate_iterations,
        }
    }
}

/// [`GpuCounters`] of a run, per step (averaged over its steps) and the maximum for the
/// longest loop: the `gpu` object of `summary.json` and of `galvani bench`'s lines.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct GpuReport {
    /// Compute dispatches per step.
    pub dispatches_per_step: f64,
    /// Synchronisation points between dependent commands per step.
    pub barriers_per_step: f64,
    /// Host-to-device bytes per step.
    pub upload_bytes_per_step: f64,
    /// Device-to-host bytes per step.
    pub readback_bytes_per_step: f64,
    /// The longest serial loop of any workgroup in `propagate`, over the run.
    pub max_propagate_iterations: u64,
}

/// Describes the device a backend runs on.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BackendInfo {
    /// `"cpu"` or `"gpu"`.
    pub backend: String,
    /// Device name (CPU model or GPU adapter with its API).
    pub device: String,
    /// Working precision.
    pub precision: Precision,
    /// Host threads the simulation runs on (the CPU backend's partitions); `None` for
    /// the GPU backend.
    pub threads: Option<usize>,
}

/// A simulation engine. Generic code drives it through the [`SCHEDULE`].
pub trait Backend {
    /// The working precision of its state.
    type Float: Real;

    /// Backend, device and precision.
    fn info(&self) -> BackendInfo;

    /// Starts a batch of `steps` steps beginning at `first_step`.
    fn begin_batch(&mut self, first_step: u64, steps: u32) -> Result<()>;

    /// Runs (or encodes) one stage of step `step`.
    fn run_stage(&mut self, stage: Stage, step: u64) -> Result<()>;

    /// Ends the batch. Returns the batches whose output is complete, oldest first (a
    /// pipelined backend may return the previous batch while this one still runs).
    fn end_batch(&mut self) -> Result<Vec<BatchOutput<Self::Float>>>;

    /// Waits for all work and returns the remaining outputs.
    fn finish(&mut self) -> Result<Vec<BatchOutput<Self::Float>>>;

    /// Absolute membrane potentials (mV) of all neurons, read from the device now.
    fn voltages(&mut self) -> Result<Vec<f64>>;

    /// What the backend has encoded and moved since the last call, and resets the
    /// counts ([`GpuCounters`]); `None` for backends that keep none (the CPU).
    fn take_counters(&mut self) -> Option<GpuCounters> {
        None
    }

    /// A state variable of every neuron, read now (between runs): `v_mv` is the absolute
    /// membrane potential (as [`Backend::voltages`]); `w` (HV only) the K activation.
    fn read_state(&mut self, var: StateVar) -> Result<Vec<f64>>;

    /// Overwrites a state variable of every neuron between runs (one value per neuron).
    /// HV backends recompute the coupling of the next step from the new state, as they do
    /// for the initial state.
    fn write_state(&mut self, net: &Network, var: StateVar, values: &[f64]) -> Result<()>;

    /// Replaces the derived per-neuron constants by those of `net` (after a parameter
    /// change; derived on the host, in f64, then cast). The state is kept as stored: for
    /// LIF `u` = V − E_L, so callers that want V kept write it back afterwards.
    fn write_params(&mut self, net: &Network) -> Result<()>;

    /// Adds the complete dynamic state (in global neuron order) to a checkpoint, between
    /// runs (after [`Backend::finish`]): the sections named in [`crate::checkpoint`].
    fn save_state(&mut self, ck: &mut Checkpoint) -> Result<()>;

    /// Replaces the dynamic state by a checkpoint's, saved by a backend of the same
    /// precision for the same network (between runs).
    fn load_state(&mut self, ck: &Checkpoint) -> Result<()>;
    /// Replaces the source populations by those of `net` (new spike times or Poisson
    /// parameters, between runs). Their spikes are a function of the step, so nothing
    /// else changes.
    fn write_sources(&mut self, net: &Network) -> Result<()>;

    /// Replaces the current pulses by those of `net`'s drive (between runs) and sets the
    /// stimulus current to their sum in step `step`, the next one to run.
    fn write_currents(&mut self, net: &Network, step: u64) -> Result<()>;
}

/// A per-neuron state variable that can be read and written between runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateVar {
    /// Membrane potential (mV, absolute).
    V,
    /// HV: the KaD activation w (dimensionless, in (0, 1]).
    W,
    /// A point model's state variable other than V: its index in the model's state
    /// ([`crate::model::point::PointDynamics::state`], ≥ 1) and name.
    Point(u32, &'static str),
}

impl StateVar {
    /// The name used in configs and by the Python package (`v_mv`, `w`).
    pub fn name(self) -> &'static str {
        match self {
            StateVar::V => "v_mv",
            StateVar::W => "w",
            StateVar::Point(_, name) => name,
        }
    }
}

/// Where to run (`--backend`, Python's `backend=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// A GPU adapter if there is one, else the CPU.
    Auto,
    /// A GPU adapter through wgpu (Vulkan, Metal, DX12, GL).
    Gpu,
    /// The CPU reference backend.
    Cpu,
}

impl BackendKind {
    /// The names the faces accept, in order.
    pub const NAMES: [&'static str; 3] = ["auto", "gpu", "cpu"];
}

impl std::str::FromStr for BackendKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(BackendKind::Auto),
            "gpu" => Ok(BackendKind::Gpu),
            "cpu" => Ok(BackendKind::Cpu),
            _ => Err(format!(
                "expected \"auto\", \"gpu\" or \"cpu\", got \"{s}\""
            )),
        }
    }
}

/// How many steps a batch holds: bounded so the recording buffers stay small (≤ 16 MiB
/// of spike bits, and for HV ≤ 16 MiB of spike-crossing fractions, one f32 per neuron and
/// step on the GPU) and the host sees results regularly.
pub fn batch_steps(net: &Network) -> u32 {
    let words = net.n.div_ceil(32).max(1);
    let by_bits = (4 << 20) / words; // 4 Mi words = 16 MiB
    let by_bits = match net.neurons {
        crate::network::Neurons::Hv(_) => by_bits.min((4 << 20) / net.n.max(1)),
        _ => by_bits,
    };
    let by_probes = if net.probes.is_empty() {
        usize::MAX
    } else {
        (4 << 20) / net.probes.len()
    };
    by_bits.min(by_probes).clamp(1, 1000) as u32
}
