//! The CPU reference backend: one function per GPU stage, same name, same arithmetic
//! (`lif_step.rs` ↔ `shaders/lif_step.wgsl`, `propagate.rs` ↔ `shaders/propagate.wgsl`,
//! `record.rs` ↔ `shaders/record_voltage.wgsl` and the spike bits of `lif_step.wgsl`,
//! `drive.rs` ↔ `shaders/poisson_input.wgsl`; current pulses are computed by `stim_current`
//! on the host for both backends, at each pulse edge).
//!
//! Generic over the precision: `f32` accumulates input in i32 fixed point exactly like
//! the GPU; `f64` accumulates in f64 to reproduce NEST.

mod drive;
mod lif_step;
mod propagate;
mod record;

pub use drive::{PoissonStream, Pulse, poisson_input, stim_current};
pub use lif_step::{NeuronRange, lif_step};
pub use propagate::propagate;
pub use record::{record_spikes, record_voltage};

use super::{Backend, BackendInfo, BatchOutput, Stage};
use crate::error::Result;
use crate::model::lif::{self, LifParams, LifState};
use crate::network::{Drive, Network, Neurons};
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

/// The CPU backend.
pub struct CpuBackend<F: Real> {
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
    /// Neurons that spiked in the current step, ascending.
    spiked: Vec<u32>,
    probes: Vec<(usize, u32)>,
    words: usize,
    batch: Option<BatchOutput<F>>,
    done: Vec<BatchOutput<F>>,
}

impl<F: Real> CpuBackend<F> {
    /// Builds the backend's state from a network.
    pub fn new(net: &Network) -> Result<Self> {
        let Neurons::Lif { params, v0 } = &net.neurons;
        let s = &net.synapses;
        let slots = s.max_delay as usize + 1;
        let state = params
            .iter()
            .zip(v0)
            .map(|(p, &v)| lif::initial_state::<F>(v, p.e_l))
            .collect();
        let params: Vec<LifParams<F>> = params.iter().map(|p| p.cast::<F>()).collect();
        let ranges = net
            .populations
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
            .collect();
        let mut poisson = Vec::new();
        let mut pulses = Vec::new();
        for d in &net.drives {
            match d {
                Drive::Poisson {
                    stream,
                    neurons,
                    plan,
                    weight,
                    receptor,
                    delay,
                } => poisson.push(PoissonStream {
                    stream: *stream,
                    neurons: neurons.clone(),
                    plan: plan.clone(),
                    weight: F::acc_weight(*weight, &net.fixed),
                    receptor: *receptor,
                    delay: *delay,
                    cache: Vec::new(),
                }),
                Drive::CurrentPulse {
                    neurons,
                    on,
                    off,
                    amplitude,
                } => pulses.push(Pulse {
                    neurons: neurons.clone(),
                    on: *on,
                    off: *off,
                    amplitude: F::of(*amplitude),
                }),
            }
        }
        let i_stim = if pulses.is_empty() {
            Vec::new()
        } else {
            vec![F::zero(); net.n]
        };
        Ok(CpuBackend {
            poisson,
            pulses,
            i_stim,
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
            spiked: Vec::new(),
            probes: net.probes.iter().map(|p| (p.global, p.every)).collect(),
            words: net.n.div_ceil(32).max(1),
            batch: None,
            done: Vec::new(),
        })
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
        match stage {
            Stage::NeuronStep => {
                self.spiked.clear();
                stim_current(&self.pulses, &mut self.i_stim, step);
                lif_step(
                    &self.params,
                    &self.ranges,
                    &self.i_stim,
                    &mut self.state,
                    &mut self.ring,
                    self.inv_scale,
                    step,
                    &mut self.spiked,
                );
            }
            Stage::Propagate => {
                propagate(&self.syn, &mut self.ring, &self.spiked, step);
                poisson_input(&mut self.poisson, &mut self.ring, self.key, step);
            }
            Stage::Record => {
                let b = self.batch.as_mut().expect("begin_batch before run_stage");
                let row = (step - b.first_step) as usize;
                record_spikes(
                    &self.spiked,
                    &mut b.spike_bits[row * self.words..(row + 1) * self.words],
                );
                let np = self.probes.len();
                record_voltage(
                    &self.params,
                    &self.state,
                    &self.probes,
                    step,
                    &mut b.voltages[row * np..(row + 1) * np],
                );
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

    fn voltages(&mut self) -> Result<Vec<f64>> {
        Ok(self
            .params
            .iter()
            .zip(&self.state)
            .map(|(p, s)| (s.u + p.e_l).f64())
            .collect())
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
