//! CPU twins of the external-drive stages: `shaders/poisson_input.wgsl` (Poisson events
//! into the delay ring, part of `Propagate`) and the stimulus current of `lif_step.wgsl` (current
//! pulses, at the start of `NeuronStep`).

use super::InputRing;
use crate::real::Real;
use crate::rng::{PoissonPlan, poisson_bits_many, poisson_inv, uniform};

/// A Poisson stream in backend form.
#[derive(Clone, Debug)]
pub struct PoissonStream<F: Real> {
    /// Stream id (stimulus index).
    pub stream: u32,
    /// Target neurons (global).
    pub neurons: Vec<u32>,
    /// Generator plan.
    pub plan: PoissonPlan,
    /// Weight per event in accumulator units.
    pub weight: F::Acc,
    /// Receptor.
    pub receptor: u32,
    /// Delay (steps).
    pub delay: u32,
    /// Philox outputs of the current group of four steps, per (neuron, block).
    pub cache: Vec<[u32; 4]>,
}

/// A current pulse in backend form.
#[derive(Clone, Debug)]
pub struct Pulse<F> {
    /// Target neurons (global, ascending), shared by the pulses of one stimulus (a
    /// `step_current` of many points holds its neuron list once).
    pub neurons: std::sync::Arc<[u32]>,
    /// First active step.
    pub on: u64,
    /// First inactive step.
    pub off: u64,
    /// Amplitude (pA).
    pub amplitude: F,
}

/// Adds this step's Poisson events of every stream into ring slot `(step + delay) %
/// slots`: count × weight on the stream's receptor. The ring is a partition's: global
/// neuron `i` (the generator's key) is its neuron `i − first`.
pub fn poisson_input<F: Real>(
    streams: &mut [PoissonStream<F>],
    ring: &mut InputRing<F>,
    key: [u32; 2],
    step: u64,
    first: u32,
) {
    let step = step as u32;
    for s in streams {
        let slot = ((step as u64 + s.delay as u64) % ring.slots as u64) as usize;
        let acc = &mut ring.acc[slot * ring.width..(slot + 1) * ring.width];
        let blocks = s.plan.blocks as usize;
        // One Philox call serves four steps: refresh the cache on each group's first step
        // (and on the first step simulated, which may start inside a group).
        let mut refresh = step & 3 == 0;
        if s.cache.is_empty() {
            s.cache = vec![[0; 4]; s.neurons.len() * blocks];
            refresh = true;
        }
        let lane = (step & 3) as usize;
        if refresh {
            // every neuron's Philox output at once (SIMD), the same bits as poisson_bits
            let cache = &mut s.cache;
            for b in 0..blocks {
                poisson_bits_many(key, s.stream, &s.neurons, step, b as u32, |k, bits| {
                    cache[k * blocks + b] = bits
                });
            }
        }
        for (k, &i) in s.neurons.iter().enumerate() {
            let mut c = 0;
            for b in 0..blocks {
                c += poisson_inv(uniform(s.cache[k * blocks + b][lane]), &s.plan.cdf);
            }
            // in fixed point adding 0 changes nothing, so f32 adds without a branch; f64
            // must not (0.0 + −0.0 is +0.0)
            if F::NAME == "f32" || c > 0 {
                F::acc_add(
                    &mut acc[2 * (i - first) as usize + s.receptor as usize],
                    F::acc_times(s.weight, c),
                );
            }
        }
    }
}

/// The current pulses of a network's drive, in config order: a `current_pulse` or
/// `dc_current` is one, a `step_current` one per step (the last open-ended).
pub fn current_pulses<F: Real>(drives: &[crate::network::Drive]) -> Vec<Pulse<F>> {
    use crate::network::Drive;
    let mut out = Vec::new();
    for d in drives {
        match d {
            Drive::CurrentPulse {
                neurons,
                on,
                off,
                amplitude,
            } => out.push(Pulse {
                neurons: neurons.as_slice().into(),
                on: *on,
                off: *off,
                amplitude: F::of(*amplitude),
            }),
            Drive::StepCurrent {
                neurons,
                on,
                amplitude,
            } => {
                let neurons: std::sync::Arc<[u32]> = neurons.as_slice().into();
                for (k, (&a, &x)) in on.iter().zip(amplitude).enumerate() {
                    let b = on.get(k + 1).copied().unwrap_or(u64::MAX);
                    if a < b {
                        out.push(Pulse {
                            neurons: neurons.clone(),
                            on: a,
                            off: b,
                            amplitude: F::of(x),
                        });
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// At a pulse edge (a step where some pulse starts or stops), recomputes the stimulus
/// current of the affected neurons as the sum, in config order, of the pulses active in
/// this step — so the current returns exactly to 0 after the last pulse.
pub fn stim_current<F: Real>(pulses: &[Pulse<F>], i_stim: &mut [F], step: u64) {
    if !pulses.iter().any(|p| p.on == step || p.off == step) {
        return;
    }
    let mut touched = vec![false; i_stim.len()];
    for p in pulses.iter().filter(|p| p.on == step || p.off == step) {
        for &i in p.neurons.iter() {
            i_stim[i as usize] = F::zero();
            touched[i as usize] = true;
        }
    }
    for p in pulses.iter().filter(|p| p.on <= step && step < p.off) {
        for &i in p.neurons.iter() {
            if touched[i as usize] {
                i_stim[i as usize] = i_stim[i as usize] + p.amplitude;
            }
        }
    }
}

/// The stimulus current of every neuron in step `step` (after the pulses changed between
/// runs): the sum, in config order, of the pulses active then, as [`stim_current`] sums.
pub fn stim_current_at<F: Real>(pulses: &[Pulse<F>], i_stim: &mut [F], step: u64) {
    i_stim.iter_mut().for_each(|x| *x = F::zero());
    for p in pulses.iter().filter(|p| p.on <= step && step < p.off) {
        for &i in p.neurons.iter() {
            i_stim[i as usize] = i_stim[i as usize] + p.amplitude;
        }
    }
}
