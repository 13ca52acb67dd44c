//! The CPU reference backend: one function per GPU stage, same name, same arithmetic
//! (`lif_step.rs` ↔ `shaders/lif_step.wgsl`, `propagate.rs` ↔ `shaders/propagate.wgsl`,
//! `record.rs` ↔ `record` and the spike record in `lif_step.wgsl` and `hv_step.wgsl`,
//! `drive.rs` ↔ `poisson_drive` in `lif_step.wgsl` (the GPU adds a neuron's Poisson
//! events inside its step, the CPU in `Propagate`: the same integer sums); current pulses are computed by `stim_current`
//! on the host for both backends, at each pulse edge; `source.rs` ↔
//! `shaders/source_spikes.wgsl` (the spikes of source populations, decided on the host per
//! batch by [`crate::source::source_batch`]); `hv_step.rs` ↔ `shaders/hv_step.wgsl`,
//! `hv_gather.rs` ↔ `shaders/hv_gather.wgsl`).
//!
//! Generic over the precision: `f32` accumulates LIF input in i32 fixed point exactly
//! like the GPU; `f64` accumulates in f64 to reproduce NEST. HV's graded gather sums in
//! the working precision, in ascending presynaptic order on every backend.

mod cells;
mod drive;
#[path = "../../../model/hv/cpu_gather.rs"]
mod hv_gather;
#[path = "../../../model/hv/cpu_step.rs"]
mod hv_step;
#[path = "../../../model/lif/cpu_step.rs"]
mod lif_step;
mod partition;
mod propagate;
mod record;
mod source;
pub mod state;
pub mod synapses;
mod team;

pub use drive::{
    PoissonStream, Pulses, current_pulses, poisson_input, stim_current, stim_current_at,
};
pub use hv_gather::{hv_gather, hv_gather_part};
pub use hv_step::{COUPLING_STRIDE, hv_activate, hv_step};
pub use lif_step::{NeuronRange, lif_kernel_flat, lif_step};
pub use partition::{
    MAX_THREADS, MIN_WORK_PER_THREAD, Partition, auto_threads, default_threads, partition, team,
};
pub use propagate::propagate;
pub use record::{record_spikes, record_voltage, record_voltage_hv};
pub use source::source_spikes;
pub use synapses::{CpuSynapses, Values};
pub use team::Team;

use super::{Backend, BackendInfo, BatchOutput, Stage, StateVar, nonfinite_error};
use crate::error::{Error, Result};
use crate::model::hv::{self, HvParams, HvPulse, HvState, hv_release};
use crate::model::lif::LifParams;
use crate::network::{Drive, HvNeurons, Network, Neurons, PopulationInfo, Probe};
use crate::real::{Precision, Real};

/// The delay ring of synaptic input: `slots × 2n` accumulators (index `2·neuron +
/// receptor` within a slot); step n reads and clears slot `n % slots`. Each partition
/// has its own, over its own neurons.
pub struct InputRing<F: Real> {
    /// Accumulators, slot-major.
    pub acc: Vec<F::Acc>,
    /// Number of slots (max delay + 1).
    pub slots: usize,
    /// 2·n.
    pub width: usize,
}

/// A probe inside a partition: (its index among the network's probes, local neuron,
/// sampling period in steps, sampled variable).
pub type LocalProbe = (usize, usize, u32, u32);

/// One thread's neurons of the spiking-synapse engine (`first..first + cells.len()`):
/// the model's cells ([`cells::Cells`]), the input ring, the synapses onto them, their
/// drive. Nothing here is shared with another partition; all partitions read the one
/// list of the step's spikes.
struct SpikingPart<F: Real> {
    first: usize,
    cells: Box<dyn cells::Cells<F>>,
    syn: CpuSynapses<F>,
    ring: InputRing<F>,
    /// Streams restricted to this partition's neurons (global ids: the generator's key).
    poisson: Vec<PoissonStream<F>>,
    /// Pulses restricted to this partition's neurons (local ids).
    pulses: Pulses<F>,
    /// Stimulus current per neuron (empty when there are no pulses).
    i_stim: Vec<F>,
    probes: Vec<LocalProbe>,
    /// This step's spikes (global ids, ascending).
    spiked: Vec<u32>,
}

/// The spiking-synapse engine of the CPU backend: LIF and the point models (their
/// neurons in [`cells::Cells`]), with the delay ring, propagate, drive and sources.
struct SpikingCpu<F: Real> {
    parts: Vec<SpikingPart<F>>,
    inv_scale: F,
    key: [u32; 2],
    /// The step whose spikes are still to be delivered: `Propagate` of step n runs at
    /// the start of `NeuronStep` n + 1, in the same parallel pass (each partition
    /// delivers into its own ring, then reads it), or at the end of the batch.
    pending: Option<u64>,
    /// Source populations and the spikes of the open batch.
    sources: Vec<crate::source::SourcePop>,
    src_batch: crate::source::SourceBatch,
}

/// One thread's HV neurons; the arrays are named after the shaders' bindings.
struct HvPart<F: Real> {
    first: usize,
    params: Vec<HvParams<F>>,
    state: Vec<HvState<F>>,
    /// The incoming rows of this partition's neurons (local, from 0).
    row_ptr: Vec<usize>,
    /// `2·pre + receptor`, pre global.
    src: Vec<u32>,
    weight: Vec<F>,
    /// (P^A, P^G) per neuron, gathered for the coming step.
    p: Vec<F>,
    probes: Vec<LocalProbe>,
    spiked: Vec<u32>,
    frac: Vec<f32>,
    bad: Option<u32>,
}

/// HV state of the CPU backend.
struct HvCpu<F: Real> {
    parts: Vec<HvPart<F>>,
    /// (s^A, s^G) of every neuron: the release the gather reads.
    release: Vec<F>,
    pulses: Vec<HvPulse<F>>,
}

/// Splits `v` (`per` values per neuron) into the partitions' disjoint pieces.
fn split_mut<'a, T>(mut v: &'a mut [T], parts: &[Partition], per: usize) -> Vec<&'a mut [T]> {
    let mut out = Vec::with_capacity(parts.len());
    for p in parts {
        let (a, b) = std::mem::take(&mut v).split_at_mut(per * p.len());
        out.push(a);
        v = b;
    }
    out
}

/// A pointer to the items of [`each`], shared by the team's members.
struct Items<T>(*mut T);
impl<T> Clone for Items<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Items<T> {}
// SAFETY: each member touches only its own item (index = member), see `each`.
unsafe impl<T: Send> Send for Items<T> {}
unsafe impl<T: Send> Sync for Items<T> {}

/// Runs `f` on every item (one per partition), item `i` on team member `i`, or all here
/// when there is no team.
fn each<T: Send>(team: Option<&Team>, items: &mut [T], f: impl Fn(&mut T) + Sync + Send) {
    match team {
        Some(team) if items.len() > 1 => {
            let (base, len) = (Items(items.as_mut_ptr()), items.len());
            let members = team.members();
            team.run(&|i| {
                let base = base;
                // member i takes items i, i + members, …: disjoint for distinct i
                for k in (i..len).step_by(members) {
                    // SAFETY: k < len, and no other member takes index k
                    f(unsafe { &mut *base.0.add(k) });
                }
            });
        }
        _ => items.iter_mut().for_each(f),
    }
}

/// The probes of a partition, in local form.
fn local_probes(probes: &[Probe], r: &Partition) -> Vec<LocalProbe> {
    probes
        .iter()
        .enumerate()
        .filter(|(_, p)| r.contains(p.global))
        .map(|(k, p)| (k, p.global - r.start, p.every, p.var))
        .collect()
}

impl<F: Real> HvCpu<F> {
    fn new(net: &Network, h: &HvNeurons, parts: &[Partition], pool: Option<&Team>) -> Self {
        let inc = &h.incoming;
        let mut me = HvCpu {
            parts: parts
                .iter()
                .map(|r| {
                    let (a, b) = (r.start, r.end);
                    let (lo, hi) = (inc.row_ptr[a] as usize, inc.row_ptr[b] as usize);
                    HvPart {
                        first: a,
                        state: (a..b)
                            .map(|i| hv::initial_state::<F>(&h.params[i], h.v0[i], h.w0[i]))
                            .collect(),
                        params: h.params[a..b].iter().map(|p| p.cast::<F>()).collect(),
                        row_ptr: inc.row_ptr[a..=b]
                            .iter()
                            .map(|&x| x as usize - lo)
                            .collect(),
                        src: inc.src[lo..hi].to_vec(),
                        weight: inc.weight[lo..hi].iter().map(|&w| F::of(w)).collect(),
                        p: vec![F::zero(); 2 * r.len()],
                        probes: local_probes(&net.probes, r),
                        spiked: Vec::new(),
                        frac: Vec::new(),
                        bad: None,
                    }
                })
                .collect(),
            release: vec![F::zero(); 2 * net.n],
            pulses: h.pulses.iter().map(|q| q.cast::<F>()).collect(),
        };
        // the coupling of step 0 comes from y^0 (spec 6.2 steps 1–2)
        me.activate(pool);
        me
    }

    /// The release of the current voltages, and the gather of every partition from it.
    fn activate(&mut self, pool: Option<&Team>) {
        let mut at = 0;
        for part in &self.parts {
            for (q, s) in part.params.iter().zip(&part.state) {
                let (sa, sg) = hv_release(q, s.y);
                self.release[at] = sa;
                self.release[at + 1] = sg;
                at += 2;
            }
        }
        self.gather(pool);
    }

    fn gather(&mut self, pool: Option<&Team>) {
        let release = &self.release;
        each(pool, &mut self.parts, |m| {
            hv_gather_part(&m.row_ptr, &m.src, &m.weight, release, &mut m.p)
        });
    }
}

/// What a model's CPU step needs of the backend around it.
struct StepCtx<'a> {
    pool: Option<&'a Team>,
    ranges: &'a [Partition],
    pops: &'a [PopulationInfo],
    dt_ms: f64,
}

/// The per-model part of the CPU backend ([`SpikingCpu`], [`HvCpu`]): the model's state
/// split in partitions and its stages. The shared parts (partitions, thread team, the
/// step's spike list, the open batch) stay in [`CpuBackend`], which runs the schedule
/// and calls these; the model is chosen once, when the backend is built.
trait CpuModel<F: Real>: Send + Sync {
    /// A batch of `steps` steps starts at `first_step`.
    fn begin_batch(&mut self, _first_step: u64, _steps: u32) {}
    /// `NeuronStep` of `step`: every neuron advanced, the step's spikes (ascending) in
    /// `spiked` and, for models that interpolate crossings, their fractions in `frac`.
    fn neuron_step(
        &mut self,
        ctx: &StepCtx,
        step: u64,
        batch_first: u64,
        spiked: &mut Vec<u32>,
        frac: &mut Vec<f32>,
    ) -> Result<()>;
    /// `Propagate` of `step` (the spikes in `spiked`).
    fn propagate(&mut self, pool: Option<&Team>, step: u64);
    /// Delivers a `Propagate` still pending (at the end of a batch, before a save).
    fn flush(&mut self, _pool: Option<&Team>, _spiked: &[u32]) {}
    /// `Record` of `step`: the voltage row, and the interpolated spike times.
    fn record(
        &self,
        step: u64,
        vrow: &mut [F],
        spiked: &[u32],
        frac: &[f32],
        interp: &mut Vec<(u64, u32, f32)>,
    );
    /// Absolute membrane potentials (mV) of every neuron.
    fn voltages(&self) -> Vec<f64>;
    /// A state variable other than V of every neuron.
    fn read_var(&self, var: StateVar) -> Result<Vec<f64>> {
        Err(no_such_var(var))
    }
    /// Overwrites a state variable of every neuron.
    fn write_state(&mut self, pool: Option<&Team>, var: StateVar, values: &[f64]) -> Result<()>;
    /// Replaces the derived constants by `net`'s.
    fn write_params(&mut self, net: &Network, ranges: &[Partition]);
    /// Replaces the source populations by `net`'s.
    fn write_sources(&mut self, _net: &Network) {}
    /// Replaces the current pulses by `net`'s and sets the stimulus current of `step`.
    fn write_currents(&mut self, _net: &Network, _ranges: &[Partition], _step: u64) {}
    /// Adds the model's state to a checkpoint.
    fn save(&self, ck: &mut crate::checkpoint::Checkpoint);
    /// Replaces the model's state by a checkpoint's.
    fn load(&mut self, ck: &crate::checkpoint::Checkpoint) -> Result<()>;
}

/// The error of a state variable the model does not have.
fn no_such_var(var: StateVar) -> Error {
    Error::Usage(format!(
        "state variable '{}' does not exist in this network's neurons",
        var.name()
    ))
}

/// The CPU backend: the neurons split into contiguous partitions, one per thread
/// ([`partition`]); a step's spikes (ascending, whatever the partition) are the one
/// thing the partitions share. Every accumulator receives its inputs in the order of
/// the serial loop, so the results do not depend on the number of threads.
pub struct CpuBackend<F: Real> {
    model: Box<dyn CpuModel<F>>,
    /// The partitions' neurons.
    ranges: Vec<Partition>,
    team: Option<Team>,
    /// Neurons that spiked in the current step, ascending.
    spiked: Vec<u32>,
    /// HV: the fraction of the step at which each of `spiked` crossed θ_spike.
    frac: Vec<f32>,
    n_probes: usize,
    words: usize,
    dt_ms: f64,
    pops: Vec<PopulationInfo>,
    batch: Option<BatchOutput<F>>,
    done: Vec<BatchOutput<F>>,
}

impl<F: Real> CpuBackend<F> {
    /// Builds the backend's state from a network, on `net.threads` threads (default:
    /// [`auto_threads`]).
    pub fn new(net: &Network) -> Result<Self> {
        Self::with_threads(net, net.threads.unwrap_or_else(|| auto_threads(net)))
    }

    /// Builds the backend's state from a network, on `threads` threads (fewer when the
    /// network has fewer neurons).
    pub fn with_threads(net: &Network, threads: usize) -> Result<Self> {
        let ranges = partition(net, threads);
        let team = team(ranges.len())?;
        Self::assemble(net, ranges, team, None)
    }

    /// Like [`CpuBackend::new`] for a network that is not needed afterwards (one long
    /// run): the synapse tables are built while the network's patterns are freed
    /// ([`CpuSynapses::build_consuming`]), so the build's peak is about the larger of the
    /// two, not their sum. The network's synapses are released (counts stay).
    pub fn consuming(net: &mut Network) -> Result<Self> {
        let threads = net.threads.unwrap_or_else(|| auto_threads(net));
        let ranges = partition(net, threads);
        let team = team(ranges.len())?;
        let tables = match net.neurons {
            Neurons::Hv(_) => None,
            _ => Some(
                CpuSynapses::build_consuming(net, &ranges, |items, f| {
                    each(team.as_ref(), items, f)
                })
                .map_err(|e| Error::Usage(format!("building the synapse table: {e}")))?,
            ),
        };
        let me = Self::assemble(net, ranges, team, tables)?;
        net.synapses.release();
        Ok(me)
    }

    fn assemble(
        net: &Network,
        ranges: Vec<Partition>,
        team: Option<Team>,
        tables: Option<Vec<CpuSynapses<F>>>,
    ) -> Result<Self> {
        let model: Box<dyn CpuModel<F>> = match &net.neurons {
            Neurons::Hv(h) => Box::new(HvCpu::new(net, h, &ranges, team.as_ref())),
            _ => Box::new(SpikingCpu::new(net, &ranges, team.as_ref(), tables)?),
        };
        Ok(CpuBackend {
            model,
            ranges,
            team,
            spiked: Vec::new(),
            frac: Vec::new(),
            n_probes: net.probes.len(),
            words: net.n.div_ceil(32).max(1),
            dt_ms: net.dt_ms,
            pops: net.populations.clone(),
            batch: None,
            done: Vec::new(),
        })
    }

    /// The number of threads (partitions) it runs on.
    pub fn threads(&self) -> usize {
        self.ranges.len()
    }

    /// Delivers the spikes of a step whose `Propagate` is still pending.
    fn flush(&mut self) {
        self.model.flush(self.team.as_ref(), &self.spiked);
    }
}

/// One range per population part inside partition `r` (local indices), with its
/// parameters when all its neurons share them.
fn lif_ranges<F: Real>(
    pops: &[PopulationInfo],
    r: &Partition,
    params: &[LifParams<F>],
) -> Vec<NeuronRange<F>> {
    pops.iter()
        .filter_map(|pop| {
            let a = pop.offset.max(r.start);
            let b = (pop.offset + pop.size).min(r.end);
            (a < b).then(|| {
                let ps = &params[a - r.start..b - r.start];
                let shared = ps.iter().all(|p| *p == ps[0]).then(|| ps[0]);
                NeuronRange {
                    start: a - r.start,
                    end: b - r.start,
                    shared,
                }
            })
        })
        .collect()
}

impl<F: Real> SpikingCpu<F> {
    fn new(
        net: &Network,
        ranges: &[Partition],
        pool: Option<&Team>,
        tables: Option<Vec<CpuSynapses<F>>>,
    ) -> Result<Self> {
        let slots = net.synapses.max_delay as usize + 1;
        let mut parts: Vec<SpikingPart<F>> = ranges
            .iter()
            .map(|r| {
                let a = r.start;
                let mut poisson = Vec::new();
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
                        poisson.push(PoissonStream {
                            stream: *stream,
                            neurons: neurons
                                .iter()
                                .copied()
                                .filter(|&i| r.contains(i as usize))
                                .collect(),
                            plan: plan.clone(),
                            weight: F::acc_weight(*weight, &net.fixed),
                            receptor: *receptor,
                            delay: *delay,
                            cache: Vec::new(),
                            cache_group: None,
                        });
                    }
                }
                let pulses = current_pulses::<F>(&net.drives).restrict(r);
                let i_stim = if pulses.is_empty() {
                    Vec::new()
                } else {
                    vec![F::zero(); r.len()]
                };
                SpikingPart {
                    first: a,
                    cells: cells::cells::<F>(net, r),
                    syn: CpuSynapses {
                        row_ptr: Vec::new(),
                        word: Vec::new(),
                        values: Values::Wide {
                            weight: Vec::new(),
                            delay: Vec::new(),
                        },
                    },
                    ring: InputRing {
                        acc: vec![F::Acc::default(); slots * 2 * r.len()],
                        slots,
                        width: 2 * r.len(),
                    },
                    poisson,
                    pulses,
                    i_stim,
                    probes: local_probes(&net.probes, r),
                    spiked: Vec::new(),
                }
            })
            .collect();
        if let Some(tables) = tables {
            // built already (CpuBackend::consuming)
            for (p, t) in parts.iter_mut().zip(tables) {
                p.syn = t;
            }
        } else {
            // one pass over the network's rows per partition, in parallel
            let failed = std::sync::Mutex::new(None);
            each(pool, &mut parts, |p| {
                let r = Partition {
                    start: p.first,
                    end: p.first + p.cells.len(),
                };
                match CpuSynapses::build(net, &r) {
                    Ok(t) => p.syn = t,
                    Err(e) => *failed.lock().unwrap() = Some(e),
                }
            });
            if let Some(e) = failed.into_inner().unwrap() {
                return Err(Error::Usage(format!("building the synapse table: {e}")));
            }
        }
        Ok(SpikingCpu {
            parts,
            inv_scale: F::of(net.fixed.inv_scale()),
            key: crate::rng::key(net.seed),
            pending: None,
            sources: net.sources.clone(),
            src_batch: Default::default(),
        })
    }
}

impl<F: Real> Backend for CpuBackend<F> {
    type Float = F;

    fn info(&self) -> BackendInfo {
        BackendInfo {
            backend: "cpu".into(),
            device: cpu_name(self.threads()),
            precision: if F::NAME == "f64" {
                Precision::F64
            } else {
                Precision::F32
            },
            threads: Some(self.threads()),
        }
    }

    fn begin_batch(&mut self, first_step: u64, steps: u32) -> Result<()> {
        self.model.begin_batch(first_step, steps);
        self.batch = Some(BatchOutput {
            first_step,
            steps,
            spikes: super::SpikeRows::Bits {
                bits: vec![0; steps as usize * self.words],
                words: self.words,
            },
            voltages: vec![F::zero(); steps as usize * self.n_probes],
            interp: Vec::new(),
        });
        Ok(())
    }

    fn run_stage(&mut self, stage: Stage, step: u64) -> Result<()> {
        let pool = self.team.as_ref();
        match stage {
            Stage::NeuronStep => {
                let ctx = StepCtx {
                    pool,
                    ranges: &self.ranges,
                    pops: &self.pops,
                    dt_ms: self.dt_ms,
                };
                let first = self.batch.as_ref().map_or(step, |b| b.first_step);
                self.model
                    .neuron_step(&ctx, step, first, &mut self.spiked, &mut self.frac)?;
            }
            Stage::Propagate => self.model.propagate(pool, step),
            Stage::Record => {
                let b = self.batch.as_mut().expect("begin_batch before run_stage");
                let row = (step - b.first_step) as usize;
                let super::SpikeRows::Bits { bits, .. } = &mut b.spikes else {
                    unreachable!("the CPU records spike bits")
                };
                record_spikes(
                    &self.spiked,
                    &mut bits[row * self.words..(row + 1) * self.words],
                );
                let np = self.n_probes;
                let vrow = &mut b.voltages[row * np..(row + 1) * np];
                self.model
                    .record(step, vrow, &self.spiked, &self.frac, &mut b.interp);
            }
        }
        Ok(())
    }

    fn end_batch(&mut self) -> Result<Vec<BatchOutput<F>>> {
        self.flush();
        self.done.extend(self.batch.take());
        Ok(std::mem::take(&mut self.done))
    }

    fn finish(&mut self) -> Result<Vec<BatchOutput<F>>> {
        self.end_batch()
    }

    fn read_state(&mut self, var: StateVar) -> Result<Vec<f64>> {
        self.state_var(var)
    }

    fn write_state(&mut self, _net: &Network, var: StateVar, values: &[f64]) -> Result<()> {
        self.model.write_state(self.team.as_ref(), var, values)
    }

    fn write_params(&mut self, net: &Network) -> Result<()> {
        self.model.write_params(net, &self.ranges);
        Ok(())
    }

    fn save_state(&mut self, ck: &mut crate::checkpoint::Checkpoint) -> Result<()> {
        self.flush();
        self.model.save(ck);
        Ok(())
    }

    fn load_state(&mut self, ck: &crate::checkpoint::Checkpoint) -> Result<()> {
        self.model.load(ck)
    }

    fn write_sources(&mut self, net: &Network) -> Result<()> {
        self.model.write_sources(net);
        Ok(())
    }

    fn write_currents(&mut self, net: &Network, step: u64) -> Result<()> {
        self.model.write_currents(net, &self.ranges, step);
        Ok(())
    }

    fn voltages(&mut self) -> Result<Vec<f64>> {
        Ok(self.model.voltages())
    }
}

impl<F: Real> CpuBackend<F> {
    fn state_var(&mut self, var: StateVar) -> Result<Vec<f64>> {
        match var {
            StateVar::V => self.voltages(),
            var => self.model.read_var(var),
        }
    }
}

/// The LIF model's CPU stages.
impl<F: Real> CpuModel<F> for SpikingCpu<F> {
    fn begin_batch(&mut self, first_step: u64, steps: u32) {
        if !self.sources.is_empty() {
            crate::source::source_batch(
                &self.sources,
                self.key,
                first_step,
                steps,
                &mut self.src_batch,
            );
        }
    }

    fn neuron_step(
        &mut self,
        ctx: &StepCtx,
        step: u64,
        batch_first: u64,
        spiked_all: &mut Vec<u32>,
        _frac: &mut Vec<f32>,
    ) -> Result<()> {
        let m = self;
        // last step's Propagate and this step's update in one parallel pass:
        // a partition writes only its own ring, then reads it
        let (pending, key, inv_scale) = (m.pending.take(), m.key, m.inv_scale);
        let spiked = &*spiked_all;
        each(ctx.pool, &mut m.parts, |p| {
            if let Some(s) = pending {
                propagate(&p.syn, &mut p.ring, spiked, s);
                poisson_input(&mut p.poisson, &mut p.ring, key, s, p.first as u32);
            }
            p.spiked.clear();
            stim_current(&p.pulses, &mut p.i_stim, step);
            p.cells.step(
                &p.i_stim,
                &mut p.ring,
                inv_scale,
                step,
                p.first,
                &mut p.spiked,
            );
        });
        spiked_all.clear();
        for p in &m.parts {
            spiked_all.extend_from_slice(&p.spiked);
        }
        if !m.sources.is_empty() {
            source_spikes(&m.src_batch, (step - batch_first) as usize, spiked_all);
        }
        Ok(())
    }

    fn propagate(&mut self, _pool: Option<&Team>, step: u64) {
        self.pending = Some(step);
    }

    fn flush(&mut self, pool: Option<&Team>, spiked: &[u32]) {
        if let Some(step) = self.pending.take() {
            let key = self.key;
            each(pool, &mut self.parts, |p| {
                propagate(&p.syn, &mut p.ring, spiked, step);
                poisson_input(&mut p.poisson, &mut p.ring, key, step, p.first as u32);
            });
        }
    }

    fn record(
        &self,
        step: u64,
        vrow: &mut [F],
        _spiked: &[u32],
        _frac: &[f32],
        _interp: &mut Vec<(u64, u32, f32)>,
    ) {
        for p in &self.parts {
            p.cells.record(&p.probes, step, vrow)
        }
    }

    fn voltages(&self) -> Vec<f64> {
        let mut out = Vec::new();
        for part in &self.parts {
            part.cells.values(0, &mut out);
        }
        out
    }

    fn read_var(&self, var: StateVar) -> Result<Vec<f64>> {
        let StateVar::Point(k, _) = var else {
            return Err(no_such_var(var));
        };
        let mut out = Vec::new();
        for part in &self.parts {
            part.cells.values(k as usize, &mut out);
        }
        Ok(out)
    }

    fn write_state(&mut self, _pool: Option<&Team>, var: StateVar, values: &[f64]) -> Result<()> {
        let k = match var {
            StateVar::V => 0,
            StateVar::Point(k, _) => k as usize,
            StateVar::W => return Err(no_such_var(var)),
        };
        for part in &mut self.parts {
            let vals = &values[part.first..part.first + part.cells.len()];
            part.cells.write_var(k, vals);
        }
        Ok(())
    }

    fn write_params(&mut self, net: &Network, ranges: &[Partition]) {
        for (part, r) in self.parts.iter_mut().zip(ranges) {
            part.cells.write_params(net, &net.populations, r);
        }
    }

    fn write_sources(&mut self, net: &Network) {
        self.sources = net.sources.clone();
    }

    fn write_currents(&mut self, net: &Network, ranges: &[Partition], step: u64) {
        let all = current_pulses::<F>(&net.drives);
        for (p, r) in self.parts.iter_mut().zip(ranges) {
            p.pulses = all.restrict(r);
            if all.is_empty() {
                p.i_stim.clear();
            } else {
                p.i_stim.resize(r.len(), F::zero());
                stim_current_at(&p.pulses, &mut p.i_stim, step);
            }
        }
    }

    fn save(&self, ck: &mut crate::checkpoint::Checkpoint) {
        SpikingCpu::save(self, ck)
    }

    fn load(&mut self, ck: &crate::checkpoint::Checkpoint) -> Result<()> {
        SpikingCpu::load(self, ck)
    }
}

/// The HV model's CPU stages.
impl<F: Real> CpuModel<F> for HvCpu<F> {
    fn neuron_step(
        &mut self,
        ctx: &StepCtx,
        step: u64,
        _batch_first: u64,
        spiked: &mut Vec<u32>,
        frac: &mut Vec<f32>,
    ) -> Result<()> {
        let m = self;
        let pulses = &m.pulses;
        let mut work: Vec<_> = m
            .parts
            .iter_mut()
            .zip(split_mut(&mut m.release, ctx.ranges, 2))
            .collect();
        each(ctx.pool, &mut work, |(p, release)| {
            p.spiked.clear();
            p.frac.clear();
            p.bad = hv_step(
                &p.params,
                &mut p.state,
                &p.p,
                release,
                pulses,
                step as u32,
                p.first,
                &mut p.spiked,
                &mut p.frac,
            );
        });
        spiked.clear();
        frac.clear();
        for p in &m.parts {
            spiked.extend_from_slice(&p.spiked);
            frac.extend_from_slice(&p.frac);
        }
        if let Some((p, i)) = m.parts.iter().find_map(|p| p.bad.map(|i| (p, i))) {
            let k = i as usize - p.first;
            let s = p.state[k];
            return Err(nonfinite_error(
                ctx.pops,
                i as usize,
                step,
                ctx.dt_ms,
                Some(((p.params[k].v_t * s.y).f64(), s.w.f64())),
            ));
        }
        Ok(())
    }

    fn propagate(&mut self, pool: Option<&Team>, _step: u64) {
        self.gather(pool);
    }

    fn record(
        &self,
        step: u64,
        vrow: &mut [F],
        spiked: &[u32],
        frac: &[f32],
        interp: &mut Vec<(u64, u32, f32)>,
    ) {
        for p in &self.parts {
            record_voltage_hv(&p.params, &p.state, &p.probes, step, vrow)
        }
        interp.extend(spiked.iter().zip(frac).map(|(&i, &f)| (step, i, f)));
    }

    fn voltages(&self) -> Vec<f64> {
        self.parts
            .iter()
            .flat_map(|part| part.params.iter().zip(&part.state))
            .map(|(p, s)| (p.v_t * s.y).f64())
            .collect()
    }

    fn read_var(&self, var: StateVar) -> Result<Vec<f64>> {
        match var {
            StateVar::W => Ok(self
                .parts
                .iter()
                .flat_map(|p| &p.state)
                .map(|s| s.w.f64())
                .collect()),
            StateVar::V => Ok(self.voltages()),
            StateVar::Point(..) => Err(no_such_var(var)),
        }
    }

    fn write_state(&mut self, pool: Option<&Team>, var: StateVar, values: &[f64]) -> Result<()> {
        for part in &mut self.parts {
            let vals = &values[part.first..part.first + part.state.len()];
            for ((s, p), &x) in part.state.iter_mut().zip(&part.params).zip(vals) {
                match var {
                    StateVar::V => {
                        s.y = F::of(x / p.v_t.f64());
                        s.armed = (x < p.v_spike.f64()) as u32;
                    }
                    StateVar::W => s.w = F::of(x),
                    StateVar::Point(..) => return Err(no_such_var(var)),
                }
            }
        }
        self.activate(pool);
        Ok(())
    }

    fn write_params(&mut self, net: &Network, ranges: &[Partition]) {
        let Neurons::Hv(h) = &net.neurons else {
            unreachable!("the backend was built from this network")
        };
        for (part, r) in self.parts.iter_mut().zip(ranges) {
            part.params = h.params[r.start..r.end]
                .iter()
                .map(|p| p.cast::<F>())
                .collect();
        }
    }

    fn save(&self, ck: &mut crate::checkpoint::Checkpoint) {
        HvCpu::save(self, ck)
    }

    fn load(&mut self, ck: &crate::checkpoint::Checkpoint) -> Result<()> {
        HvCpu::load(self, ck)
    }
}

/// The CPU's model name, from /proc/cpuinfo where available.
pub fn cpu_name(used: usize) -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|s| {
        s.lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map(|m| m.trim().to_string())
    });
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!(
        "{} ({used} thread{} used of {threads})",
        model.unwrap_or_else(|| std::env::consts::ARCH.to_string()),
        if used == 1 { "" } else { "s" }
    )
}
