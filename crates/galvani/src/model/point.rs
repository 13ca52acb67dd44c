//! Point models: neuron models whose whole per-neuron behaviour is one update function
//! over a few state variables, driven by the spiking-synapse engine (the delay ring,
//! propagate, Poisson drive, current pulses and source populations that LIF uses).
//!
//! A point model is data: the names of its state variables (the first is the membrane
//! potential in mV), a function deriving its constants on the host in f64, its checks,
//! its initial state, and its update as a CPU function and a WGSL function (twins, in
//! the same operation order). The engine stores the constants once per distinct
//! parameter set and a set index per neuron, and the state as `S` values per neuron; it
//! reads and clears each neuron's input (AMPA, GABA-A) from the ring and calls the update.
//! Adding a model is a folder under `model/` with one value implementing
//! [`PointDynamics`], registered in [`super::MODELS`]; nothing else changes.

use std::collections::HashMap;

use crate::real::Real;

/// One step of one neuron: constants `c` (the neuron's set), state `s` (its `S` values),
/// the step's summed synaptic input per receptor (AMPA, GABA-A, in the model's weight
/// unit) and the stimulus current (pA). Returns whether it spiked.
pub type StepFn<F> = fn(c: &[F], s: &mut [F], in_ampa: F, in_gaba: F, i_stim: F) -> bool;

/// Where a check of one neuron's values failed: the key, and why.
pub type CheckError = (&'static str, String);

/// The dynamics of a point model (see the module docs).
pub trait PointDynamics: Sync {
    /// The state variables, in storage order; the first is V (mV, absolute). These are
    /// also the variables `record.voltage` may sample.
    fn state(&self) -> &'static [&'static str];
    /// The number of derived constants per parameter set.
    fn n_consts(&self) -> usize;
    /// The constants of one neuron for step `dt_ms`, from its primary values (`p(key)`,
    /// every key of the model's parameter table) and its population's synapse kind
    /// (`synapse`, one of the model's, "" for models without), in f64.
    fn derive(&self, p: &dyn Fn(&str) -> f64, synapse: &str, dt_ms: f64) -> Vec<f64>;
    /// Refuses impossible primary values (the key and the reason).
    fn check(&self, p: &dyn Fn(&str) -> f64) -> Result<(), CheckError>;
    /// The initial state of one neuron from its primary values and the population's
    /// `init` values (`None`: not given).
    fn initial(&self, p: &dyn Fn(&str) -> f64, init: &dyn Fn(&str) -> Option<f64>) -> Vec<f64>;
    /// The CPU update in f32.
    fn step_f32(&self) -> StepFn<f32>;
    /// The CPU update in f64.
    fn step_f64(&self) -> StepFn<f64>;
    /// The WGSL twin: a function `point_update(c: u32, s: u32, in_ampa: f32, in_gaba:
    /// f32, i_stim: f32) -> bool` reading the constants at `consts[c..]` and the state at
    /// `state[s..]` (see `engine/shaders/point_step.wgsl`).
    fn wgsl(&self) -> &'static str;
    /// The path of that WGSL inside the core crate (for messages and validation).
    fn wgsl_path(&self) -> &'static str;
    /// Whether the WGSL update rounds exactly as the CPU's (only correctly rounded
    /// operations: add, subtract, multiply, compare), so GPU f32 equals CPU f32 bit for bit.
    fn bitwise_portable(&self) -> bool;
}

/// The CPU update of `d` in precision `F`.
pub fn step_fn<F: Real>(d: &dyn PointDynamics) -> StepFn<F> {
    let any: Box<dyn std::any::Any> = if F::NAME == "f32" {
        Box::new(d.step_f32())
    } else {
        Box::new(d.step_f64())
    };
    *any.downcast::<StepFn<F>>().expect("F is f32 or f64")
}

/// The set index of a neuron that never updates (a source population's slot).
pub const SILENT: u32 = u32::MAX;

/// The per-neuron data of a network of point neurons.
#[derive(Clone)]
pub struct PointNeurons {
    /// The model's name (`model = "..."`).
    pub model: &'static str,
    /// Its dynamics.
    pub dynamics: &'static dyn PointDynamics,
    /// The distinct constant sets, `n_consts` each, in order of first use.
    pub consts: Vec<f64>,
    /// Per neuron: its set, or [`SILENT`] for a source slot.
    pub set: Vec<u32>,
    /// Per population: its synapse kind ("" for sources and models without kinds).
    pub synapse: Vec<&'static str>,
    /// The initial state, `S` values per neuron.
    pub state0: Vec<f64>,
}

impl std::fmt::Debug for PointNeurons {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PointNeurons")
            .field("model", &self.model)
            .field("sets", &self.sets())
            .field("n", &self.set.len())
            .finish()
    }
}

impl PointNeurons {
    /// The number of state variables per neuron.
    pub fn width(&self) -> usize {
        self.dynamics.state().len()
    }
    /// The number of distinct constant sets.
    pub fn sets(&self) -> usize {
        self.consts.len() / self.dynamics.n_consts().max(1)
    }
    /// Replaces the constants by `sets` (one per neuron, [`SILENT`] kept), stored once per
    /// distinct set.
    pub fn set_constants(&mut self, per_neuron: impl Iterator<Item = Option<Vec<f64>>>) {
        let mut table = ConstTable::default();
        self.set = per_neuron
            .map(|c| c.map_or(SILENT, |c| table.index(c)))
            .collect();
        self.consts = table.consts;
    }
}

/// Distinct constant sets, by their bits.
#[derive(Default)]
pub struct ConstTable {
    /// The sets, concatenated.
    pub consts: Vec<f64>,
    seen: HashMap<Vec<u64>, u32>,
}

impl ConstTable {
    /// The index of set `c`, added if new.
    pub fn index(&mut self, c: Vec<f64>) -> u32 {
        let key: Vec<u64> = c.iter().map(|x| x.to_bits()).collect();
        let next = self.seen.len() as u32;
        *self.seen.entry(key).or_insert_with(|| {
            self.consts.extend_from_slice(&c);
            next
        })
    }
}

/// Stage `NeuronStep` of a point model on one partition: reads and clears this step's
/// input slot, advances every neuron with `step_fn` and appends the ids of those that
/// spiked, ascending (neuron `k` is global neuron `first + k`). `consts` holds the sets
/// (`k_consts` each), `set` each neuron's, `state` `width` values per neuron, `i_stim`
/// the stimulus current per neuron (empty when there are no pulses). CPU twin of
/// `engine/shaders/point_step.wgsl`.
#[allow(clippy::too_many_arguments, reason = "mirrors the shader's bindings")]
pub fn point_step<F: Real>(
    step_fn: StepFn<F>,
    consts: &[F],
    k_consts: usize,
    set: &[u32],
    state: &mut [F],
    width: usize,
    i_stim: &[F],
    input: &mut [F::Acc],
    inv_scale: F,
    first: usize,
    spiked: &mut Vec<u32>,
) {
    for (k, (s, acc)) in state
        .chunks_exact_mut(width)
        .zip(input.chunks_exact_mut(2))
        .enumerate()
    {
        let a = F::acc_value(acc[0], inv_scale);
        let g = F::acc_value(acc[1], inv_scale);
        acc[0] = F::Acc::default();
        acc[1] = F::Acc::default();
        let si = set[k];
        if si == SILENT {
            continue;
        }
        let c = &consts[si as usize * k_consts..(si as usize + 1) * k_consts];
        let stim = i_stim.get(k).copied().unwrap_or(F::zero());
        if step_fn(c, s, a, g, stim) {
            spiked.push((first + k) as u32);
        }
    }
}
