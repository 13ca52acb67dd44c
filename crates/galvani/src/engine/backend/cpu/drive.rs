//! CPU twins of the external drive: the Poisson events into the delay ring
//! (`poisson_drive` in `model/lif/lif_step.wgsl`, which adds each neuron's events to its
//! own ring entries inside its step; here part of `Propagate`: the same draws and
//! integer adds, so the same sums) and the stimulus current of `lif_step.wgsl` (current
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
    /// Philox outputs of a group of four steps, per (neuron, block).
    pub cache: Vec<[u32; 4]>,
    /// The group `cache` holds (`step >> 2`); None before the first draw.
    pub cache_group: Option<u32>,
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
        // One Philox call serves four steps: refresh the cache when the step is in
        // another group than the one it holds (each group's first step, the first step
        // simulated, and a step restored from a checkpoint, which may lie inside a group)
        let refresh = s.cache_group != Some(step >> 2);
        if s.cache.is_empty() {
            s.cache = vec![[0; 4]; s.neurons.len() * blocks];
        }
        s.cache_group = Some(step >> 2);
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

/// The current stimuli of a network (or of a partition) in backend form: one group per
/// `current_pulse`, `dc_current` or `step_current`, in config order, each with its
/// target neurons once and its segments (a pulse is one; a step current one per
/// non-empty step, the last open-ended) sorted and not overlapping; plus every step at
/// which some segment starts or stops. So a step costs a binary search, and an edge
/// step work in the groups and neurons it touches, however long the schedules are.
#[derive(Clone, Debug)]
pub struct Pulses<F> {
    groups: Vec<PulseGroup<F>>,
    /// Every `on` and `off` step, ascending, distinct.
    edges: Vec<u64>,
}

/// One current stimulus: its neurons and its segments (shared by the partitions'
/// copies, so a long schedule is held once).
#[derive(Clone, Debug)]
struct PulseGroup<F> {
    /// Target neurons (global or partition-local, ascending).
    neurons: Vec<u32>,
    segments: std::sync::Arc<Segments<F>>,
}

/// Segment k is active on steps `on[k]..off[k]` with `amplitude[k]` (pA); `on` is
/// ascending, and so is `off`.
#[derive(Debug, Default)]
struct Segments<F> {
    on: Vec<u64>,
    off: Vec<u64>,
    amplitude: Vec<F>,
}

impl<F: Real> PulseGroup<F> {
    /// The amplitude of the segment active in `step`, if any.
    fn active(&self, step: u64) -> Option<F> {
        let s = &*self.segments;
        let k = s.on.partition_point(|&a| a <= step).checked_sub(1)?;
        (step < s.off[k]).then_some(s.amplitude[k])
    }
    /// Whether a segment starts or stops at `step`.
    fn edge(&self, step: u64) -> bool {
        let s = &*self.segments;
        s.on.binary_search(&step).is_ok() || s.off.binary_search(&step).is_ok()
    }
}

impl<F: Real> Pulses<F> {
    /// Whether there are no current stimuli (the backends then keep no stimulus
    /// current).
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Whether some segment starts or stops at `step`.
    pub fn is_edge(&self, step: u64) -> bool {
        self.edges.binary_search(&step).is_ok()
    }

    /// The edge steps in `first..end`.
    pub fn edges_in(&self, first: u64, end: u64) -> usize {
        self.edges.partition_point(|&e| e < end) - self.edges.partition_point(|&e| e < first)
    }

    /// The same stimuli restricted to partition `r`'s neurons (local ids); every group
    /// stays, so that its edges are seen.
    pub fn restrict(&self, r: &crate::backend::cpu::Partition) -> Pulses<F> {
        Pulses {
            groups: self
                .groups
                .iter()
                .map(|g| PulseGroup {
                    neurons: g
                        .neurons
                        .iter()
                        .filter(|&&i| r.contains(i as usize))
                        .map(|&i| i - r.start as u32)
                        .collect(),
                    ..g.clone()
                })
                .collect(),
            edges: self.edges.clone(),
        }
    }
}

/// The current stimuli of a network's drive ([`Pulses`]): a `current_pulse` or
/// `dc_current` is one segment, a `step_current` one per non-empty step (the last
/// open-ended).
pub fn current_pulses<'a, F: Real>(
    drives: impl IntoIterator<Item = &'a crate::network::Drive>,
) -> Pulses<F> {
    use crate::network::Drive;
    let mut groups = Vec::new();
    for d in drives {
        let (neurons, s) = match d {
            Drive::CurrentPulse {
                neurons,
                on,
                off,
                amplitude,
            } => (
                neurons,
                Segments {
                    on: vec![*on],
                    off: vec![*off],
                    amplitude: vec![F::of(*amplitude).flush()],
                },
            ),
            Drive::StepCurrent {
                neurons,
                on,
                amplitude,
            } => {
                let mut s = Segments::default();
                for (k, (&a, &x)) in on.iter().zip(amplitude).enumerate() {
                    let b = on.get(k + 1).copied().unwrap_or(u64::MAX);
                    if a < b {
                        s.on.push(a);
                        s.off.push(b);
                        s.amplitude.push(F::of(x).flush());
                    }
                }
                if s.on.is_empty() {
                    continue;
                }
                (neurons, s)
            }
            _ => continue,
        };
        groups.push(PulseGroup {
            neurons: neurons.clone(),
            segments: std::sync::Arc::new(s),
        });
    }
    let mut edges: Vec<u64> = groups
        .iter()
        .flat_map(|g| g.segments.on.iter().chain(&g.segments.off).copied())
        .collect();
    edges.sort_unstable();
    edges.dedup();
    Pulses { groups, edges }
}

/// At a pulse edge (a step where some segment starts or stops), recomputes the stimulus
/// current of the affected neurons as the sum, in config order, of the segments active
/// in this step — so the current returns exactly to 0 after the last pulse.
pub fn stim_current<F: Real>(pulses: &Pulses<F>, i_stim: &mut [F], step: u64) {
    if !pulses.is_edge(step) {
        return;
    }
    let mut touched = vec![false; i_stim.len()];
    for g in pulses.groups.iter().filter(|g| g.edge(step)) {
        for &i in &g.neurons {
            i_stim[i as usize] = F::zero();
            touched[i as usize] = true;
        }
    }
    for g in &pulses.groups {
        if let Some(a) = g.active(step) {
            for &i in &g.neurons {
                if touched[i as usize] {
                    i_stim[i as usize] = i_stim[i as usize] + a;
                }
            }
        }
    }
}

/// The stimulus current of every neuron in step `step` (after the pulses changed between
/// runs): the sum, in config order, of the segments active then, as [`stim_current`]
/// sums.
pub fn stim_current_at<F: Real>(pulses: &Pulses<F>, i_stim: &mut [F], step: u64) {
    i_stim.iter_mut().for_each(|x| *x = F::zero());
    for g in &pulses.groups {
        if let Some(a) = g.active(step) {
            for &i in &g.neurons {
                i_stim[i as usize] = i_stim[i as usize] + a;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::Drive;

    /// The per-pulse form the groups replaced: one (neurons, on, off, amplitude) per
    /// `current_pulse` and per non-empty step of a `step_current`, walked whole every step.
    fn reference(drives: &[Drive], n: usize, steps: u64) -> Vec<Vec<f32>> {
        let mut list: Vec<(Vec<u32>, u64, u64, f32)> = Vec::new();
        for d in drives {
            match d {
                Drive::CurrentPulse {
                    neurons,
                    on,
                    off,
                    amplitude,
                } => list.push((neurons.clone(), *on, *off, *amplitude as f32)),
                Drive::StepCurrent {
                    neurons,
                    on,
                    amplitude,
                } => {
                    for (k, (&a, &x)) in on.iter().zip(amplitude).enumerate() {
                        let b = on.get(k + 1).copied().unwrap_or(u64::MAX);
                        if a < b {
                            list.push((neurons.clone(), a, b, x as f32));
                        }
                    }
                }
                _ => {}
            }
        }
        let mut i_stim = vec![0f32; n];
        let mut out = Vec::new();
        for step in 0..steps {
            if list.iter().any(|p| p.1 == step || p.2 == step) {
                let mut touched = vec![false; n];
                for p in list.iter().filter(|p| p.1 == step || p.2 == step) {
                    for &i in &p.0 {
                        i_stim[i as usize] = 0.0;
                        touched[i as usize] = true;
                    }
                }
                for p in list.iter().filter(|p| p.1 <= step && step < p.2) {
                    for &i in &p.0 {
                        if touched[i as usize] {
                            i_stim[i as usize] += p.3;
                        }
                    }
                }
            }
            out.push(i_stim.clone());
        }
        out
    }

    #[test]
    fn groups_sum_as_the_per_pulse_form_did() {
        // a small generator (xorshift), so the cases are the same on every machine
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        for _case in 0..200 {
            let n = 1 + next(6) as usize;
            let mut drives = Vec::new();
            for _ in 0..1 + next(4) {
                let neurons: Vec<u32> = (0..n as u32).filter(|_| next(2) == 0).collect();
                if next(2) == 0 {
                    drives.push(Drive::CurrentPulse {
                        neurons,
                        on: next(30),
                        off: next(30),
                        amplitude: next(1000) as f64 / 7.0 - 50.0,
                    });
                } else {
                    let mut on: Vec<u64> = (0..next(6)).map(|_| next(30)).collect();
                    on.sort_unstable();
                    let amplitude = on.iter().map(|_| next(1000) as f64 / 3.0 - 100.0).collect();
                    drives.push(Drive::StepCurrent {
                        neurons,
                        on,
                        amplitude,
                    });
                }
            }
            let want = reference(&drives, n, 40);
            let pulses = current_pulses::<f32>(&drives);
            let mut i_stim = vec![0f32; n];
            for (step, w) in want.iter().enumerate() {
                stim_current(&pulses, &mut i_stim, step as u64);
                assert_eq!(
                    i_stim.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    w.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    "step {step}: {drives:?}"
                );
                // recomputed from scratch (after a change between runs): the same
                let mut fresh = vec![0f32; n];
                stim_current_at(&pulses, &mut fresh, step as u64);
                assert_eq!(fresh, *w, "stim_current_at, step {step}: {drives:?}");
            }
        }
    }
}
