//! The CPU reference backend: one function per GPU stage, same name, same arithmetic
//! (`lif_step.rs` ↔ `shaders/lif_step.wgsl`, `propagate.rs` ↔ `shaders/propagate.wgsl`,
//! `record.rs` ↔ `shaders/record_voltage.wgsl` and the spike bits of the step shaders,
//! `drive.rs` ↔ `shaders/poisson_input.wgsl`; current pulses are computed by `stim_current`
//! on the host for both backends, at each pulse edge; `source.rs` ↔
//! `shaders/source_spikes.wgsl` (the spikes of source populations, decided on the host per
//! batch by [`crate::source::source_batch`]); `hv_step.rs` ↔ `shaders/hv_step.wgsl`,
//! `hv_gather.rs` ↔ `shaders/hv_gather.wgsl`).
//!
//! Generic over the precision: `f32` accumulates LIF input in i32 fixed point exactly
//! like the GPU; `f64` accumulates in f64 to reproduce NEST. HV's graded gather sums in
//! the working precision, in ascending presynaptic order on every backend.

mod drive;
mod hv_gather;
mod hv_step;
mod lif_step;
mod propagate;
mod record;
mod source;
pub mod state;

pub use drive::{
    PoissonStream, Pulse, current_pulses, poisson_input, stim_current, stim_current_at,
};
pub use hv_gather::hv_gather;
pub use hv_step::{COUPLING_STRIDE, hv_activate, hv_step};
pub use lif_step::{NeuronRange, lif_step};
pub use propagate::propagate;
pub use record::{record_spikes, record_voltage, record_voltage_hv};
pub use source::source_spikes;

use super::{Backend, BackendInfo, BatchOutput, Stage, StateVar, nonfinite_error};
use crate::error::Result;
use crate::model::hv::{self, HvParams, HvPulse, HvState};
use crate::model::lif::{self, LifParams, LifState};
use crate::network::{Drive, HvNeurons, Network, Neurons, PopulationInfo};
use crate::real::{Precision, Real};

/// Synapse table in the working precision (weights converted once).
pub struct CpuSynapses<F: Real> {
    /// Row start per presynaptic neuron.
    pub row_ptr: Vec<u32>,
    /// `2·post + receptor`.
    pub target: Vec<u32>,
    /// Weight in accumulator units.
    pub weight: Vec<F::Acc>,
    /// Delay in steps.
    pub delay: Vec<u32>,
}

/// The delay ring of synaptic input: `slots × 2n` accumulators (index `2·neuron +
/// receptor` within a slot); step n reads and clears slot `n % slots`.
pub struct InputRing<F: Real> {
    /// Accumulators, slot-major.
    pub acc: Vec<F::Acc>,
    /// Number of slots (max delay + 1).
    pub slots: usize,
    /// 2·n.
    pub width: usize,
}

/// LIF state of the CPU backend.
struct LifCpu<F: Real> {
    params: Vec<LifParams<F>>,
    ranges: Vec<NeuronRange<F>>,
    state: Vec<LifState<F>>,
    syn: CpuSynapses<F>,
    ring: InputRing<F>,
    inv_scale: F,
    poisson: Vec<PoissonStream<F>>,
    pulses: Vec<Pulse<F>>,
    /// Stimulus current per neuron (empty when there are no pulses).
    i_stim: Vec<F>,
    key: [u32; 2],
    /// Source populations and the spikes of the open batch.
    sources: Vec<crate::source::SourcePop>,
    src_batch: crate::source::SourceBatch,
}

/// HV state of the CPU backend; the arrays are named after the shaders' bindings.
struct HvCpu<F: Real> {
    params: Vec<HvParams<F>>,
    state: Vec<HvState<F>>,
    /// (s^A, s^G, P^A, P^G) per neuron ([`COUPLING_STRIDE`]).
    coupling: Vec<F>,
    row_ptr: Vec<u32>,
    src: Vec<u32>,
    weight: Vec<F>,
    pulses: Vec<HvPulse<F>>,
}

impl<F: Real> HvCpu<F> {
    fn new(h: &HvNeurons) -> Self {
        let n = h.params.len();
        let state: Vec<HvState<F>> = h
            .params
            .iter()
            .zip(h.v0.iter().zip(&h.w0))
            .map(|(p, (&v, &w))| hv::initial_state::<F>(p, v, w))
            .collect();
        let params: Vec<HvParams<F>> = h.params.iter().map(|p| p.cast::<F>()).collect();
        let mut me = HvCpu {
            params,
            state,
            coupling: vec![F::zero(); COUPLING_STRIDE * n],
            row_ptr: h.incoming.row_ptr.clone(),
            src: h.incoming.src.clone(),
            weight: h.incoming.weight.iter().map(|&w| F::of(w)).collect(),
            pulses: h.pulses.iter().map(|q| q.cast::<F>()).collect(),
        };
        // the coupling of step 0 comes from y^0 (spec 6.2 steps 1–2)
        hv_activate(&me.params, &me.state, &mut me.coupling);
        hv_gather(&me.row_ptr, &me.src, &me.weight, &mut me.coupling);
        me
    }
}

enum Model<F: Real> {
    Lif(LifCpu<F>),
    Hv(HvCpu<F>),
}

/// The CPU backend.
pub struct CpuBackend<F: Real> {
    model: Model<F>,
    /// Neurons that spiked in the current step, ascending.
    spiked: Vec<u32>,
    /// HV: the fraction of the step at which each of `spiked` crossed θ_spike.
    frac: Vec<f32>,
    probes: Vec<(usize, u32, u32)>,
    words: usize,
    dt_ms: f64,
    pops: Vec<PopulationInfo>,
    batch: Option<BatchOutput<F>>,
    done: Vec<BatchOutput<F>>,
}

impl<F: Real> CpuBackend<F> {
    /// Builds the backend's state from a network.
    pub fn new(net: &Network) -> Result<Self> {
        let model = match &net.neurons {
            Neurons::Lif { params, v0 } => Model::Lif(LifCpu::new(net, params, v0)),
            Neurons::Hv(h) => Model::Hv(HvCpu::new(h)),
        };
        Ok(CpuBackend {
            model,
            spiked: Vec::new(),
            frac: Vec::new(),
            probes: net
                .probes
                .iter()
                .map(|p| (p.global, p.every, p.var))
                .collect(),
            words: net.n.div_ceil(32).max(1),
            dt_ms: net.dt_ms,
            pops: net.populations.clone(),
            batch: None,
            done: Vec::new(),
        })
    }
}

/// One range per population, with its parameters when all its neurons share them.
fn lif_ranges<F: Real>(net: &Network, params: &[LifParams<F>]) -> Vec<NeuronRange<F>> {
    net.populations
        .iter()
        .map(|pop| {
            let ps = &params[pop.offset..pop.offset + pop.size];
            let shared = ps.iter().all(|p| *p == ps[0]).then(|| ps[0]);
            NeuronRange {
                start: pop.offset,
                end: pop.offset + pop.size,
                shared,
            }
        })
        .collect()
}

impl<F: Real> LifCpu<F> {
    fn new(net: &Network, params: &[LifParams<f64>], v0: &[f64]) -> Self {
        let s = &net.synapses;
        let slots = s.max_delay as usize + 1;
        let state = params
            .iter()
            .zip(v0)
            .map(|(p, &v)| lif::initial_state::<F>(v, p.e_l))
            .collect();
        let params: Vec<LifParams<F>> = params.iter().map(|p| p.cast::<F>()).collect();
        let ranges = lif_ranges(net, &params);
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
                    neurons: neurons.clone(),
                    plan: plan.clone(),
                    weight: F::acc_weight(*weight, &net.fixed),
                    receptor: *receptor,
                    delay: *delay,
                    cache: Vec::new(),
                });
            }
        }
        let pulses = current_pulses::<F>(&net.drives);
        let i_stim = if pulses.is_empty() {
            Vec::new()
        } else {
            vec![F::zero(); net.n]
        };
        LifCpu {
            poisson,
            pulses,
            i_stim,
            sources: net.sources.clone(),
            src_batch: Default::default(),
            key: crate::rng::key(net.seed),
            ranges,
            params,
            state,
            syn: CpuSynapses {
                row_ptr: s.row_ptr.clone(),
                target: s.target.clone(),
                weight: s
                    .weight
                    .iter()
                    .map(|&w| F::acc_weight(w, &net.fixed))
                    .collect(),
                delay: s.delay.clone(),
            },
            ring: InputRing {
                acc: vec![F::Acc::default(); slots * 2 * net.n],
                slots,
                width: 2 * net.n,
            },
            inv_scale: F::of(net.fixed.inv_scale()),
        }
    }
}

impl<F: Real> Backend for CpuBackend<F> {
    type Float = F;

    fn info(&self) -> BackendInfo {
        BackendInfo {
            backend: "cpu".into(),
            device: cpu_name(),
            precision: if F::NAME == "f64" {
                Precision::F64
            } else {
                Precision::F32
            },
        }
    }

    fn begin_batch(&mut self, first_step: u64, steps: u32) -> Result<()> {
        if let Model::Lif(m) = &mut self.model
            && !m.sources.is_empty()
        {
            crate::source::source_batch(&m.sources, m.key, first_step, steps, &mut m.src_batch);
        }
        self.batch = Some(BatchOutput {
            first_step,
            steps,
            spike_bits: vec![0; steps as usize * self.words],
            words: self.words,
            voltages: vec![F::zero(); steps as usize * self.probes.len()],
            interp: Vec::new(),
        });
        Ok(())
    }

    fn run_stage(&mut self, stage: Stage, step: u64) -> Result<()> {
        match (stage, &mut self.model) {
            (Stage::NeuronStep, Model::Lif(m)) => {
                self.spiked.clear();
                stim_current(&m.pulses, &mut m.i_stim, step);
                lif_step(
                    &m.params,
                    &m.ranges,
                    &m.i_stim,
                    &mut m.state,
                    &mut m.ring,
                    m.inv_scale,
                    step,
                    &mut self.spiked,
                );
                if !m.sources.is_empty() {
                    let b = self.batch.as_ref().expect("begin_batch before run_stage");
                    source_spikes(
                        &m.src_batch,
                        (step - b.first_step) as usize,
                        &mut self.spiked,
                    );
                }
            }
            (Stage::NeuronStep, Model::Hv(m)) => {
                self.spiked.clear();
                self.frac.clear();
                let bad = hv_step(
                    &m.params,
                    &mut m.state,
                    &mut m.coupling,
                    &m.pulses,
                    step as u32,
                    &mut self.spiked,
                    &mut self.frac,
                );
                if let Some(i) = bad {
                    let s = m.state[i as usize];
                    return Err(nonfinite_error(
                        &self.pops,
                        i as usize,
                        step,
                        self.dt_ms,
                        Some(((m.params[i as usize].v_t * s.y).f64(), s.w.f64())),
                    ));
                }
            }
            (Stage::Propagate, Model::Lif(m)) => {
                propagate(&m.syn, &mut m.ring, &self.spiked, step);
                poisson_input(&mut m.poisson, &mut m.ring, m.key, step);
            }
            (Stage::Propagate, Model::Hv(m)) => {
                hv_gather(&m.row_ptr, &m.src, &m.weight, &mut m.coupling)
            }
            (Stage::Record, model) => {
                let b = self.batch.as_mut().expect("begin_batch before run_stage");
                let row = (step - b.first_step) as usize;
                record_spikes(
                    &self.spiked,
                    &mut b.spike_bits[row * self.words..(row + 1) * self.words],
                );
                let np = self.probes.len();
                let vrow = &mut b.voltages[row * np..(row + 1) * np];
                match model {
                    Model::Lif(m) => record_voltage(&m.params, &m.state, &self.probes, step, vrow),
                    Model::Hv(m) => {
                        record_voltage_hv(&m.params, &m.state, &self.probes, step, vrow);
                        b.interp.extend(
                            self.spiked
                                .iter()
                                .zip(&self.frac)
                                .map(|(&i, &f)| (step, i, f)),
                        );
                    }
                }
            }
        }
        Ok(())
    }

    fn end_batch(&mut self) -> Result<Vec<BatchOutput<F>>> {
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
        match (var, &mut self.model) {
            (StateVar::V, Model::Lif(m)) => {
                for ((s, p), &v) in m.state.iter_mut().zip(&m.params).zip(values) {
                    s.u = F::of(v - p.e_l.f64());
                }
            }
            (var, Model::Hv(m)) => {
                for ((s, p), &x) in m.state.iter_mut().zip(&m.params).zip(values) {
                    if var == StateVar::V {
                        s.y = F::of(x / p.v_t.f64());
                        s.armed = (x < p.v_spike.f64()) as u32;
                    } else {
                        s.w = F::of(x);
                    }
                }
                hv_activate(&m.params, &m.state, &mut m.coupling);
                hv_gather(&m.row_ptr, &m.src, &m.weight, &mut m.coupling);
            }
            (StateVar::W, Model::Lif(_)) => {
                return Err(crate::error::Error::Usage(
                    "state variable 'w' exists only in HV neurons".into(),
                ));
            }
        }
        Ok(())
    }

    fn write_params(&mut self, net: &Network) -> Result<()> {
        match (&mut self.model, &net.neurons) {
            (Model::Lif(m), Neurons::Lif { params, .. }) => {
                m.params = params.iter().map(|p| p.cast::<F>()).collect();
                m.ranges = lif_ranges(net, &m.params);
            }
            (Model::Hv(m), Neurons::Hv(h)) => {
                m.params = h.params.iter().map(|p| p.cast::<F>()).collect();
            }
            _ => unreachable!("the backend was built from this network"),
        }
        Ok(())
    }

    fn save_state(&mut self, ck: &mut crate::checkpoint::Checkpoint) -> Result<()> {
        self.save_sections(ck);
        Ok(())
    }

    fn load_state(&mut self, ck: &crate::checkpoint::Checkpoint) -> Result<()> {
        self.load_sections(ck)
    }

    fn write_sources(&mut self, net: &Network) -> Result<()> {
        if let Model::Lif(m) = &mut self.model {
            m.sources = net.sources.clone();
        }
        Ok(())
    }

    fn write_currents(&mut self, net: &Network, step: u64) -> Result<()> {
        if let Model::Lif(m) = &mut self.model {
            m.pulses = current_pulses::<F>(&net.drives);
            if m.pulses.is_empty() {
                m.i_stim.clear();
            } else {
                m.i_stim.resize(net.n, F::zero());
                stim_current_at(&m.pulses, &mut m.i_stim, step);
            }
        }
        Ok(())
    }

    fn voltages(&mut self) -> Result<Vec<f64>> {
        Ok(match &self.model {
            Model::Lif(m) => m
                .params
                .iter()
                .zip(&m.state)
                .map(|(p, s)| (s.u + p.e_l).f64())
                .collect(),
            Model::Hv(m) => m
                .params
                .iter()
                .zip(&m.state)
                .map(|(p, s)| (p.v_t * s.y).f64())
                .collect(),
        })
    }
}

impl<F: Real> CpuBackend<F> {
    fn state_var(&mut self, var: StateVar) -> Result<Vec<f64>> {
        match (var, &self.model) {
            (StateVar::V, _) => self.voltages(),
            (StateVar::W, Model::Hv(m)) => Ok(m.state.iter().map(|s| s.w.f64()).collect()),
            (StateVar::W, Model::Lif(_)) => Err(crate::error::Error::Usage(
                "state variable 'w' exists only in HV neurons".into(),
            )),
        }
    }
}

/// The CPU's model name, from /proc/cpuinfo where available.
pub fn cpu_name() -> String {
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
        "{} (1 thread used of {threads})",
        model.unwrap_or_else(|| std::env::consts::ARCH.to_string())
    )
}
