//! CPU twin of `shaders/hv_step.wgsl`: stage `NeuronStep` for HV neurons, one independent
//! RK4 update per neuron ([`hv_rk4`], which the shader's `hv_rk4` mirrors), fused with
//! spike detection and the presynaptic release of the new voltage (spec 6.2 steps 3, 4
//! and step 1 of the next step).

use crate::model::hv::{HvParams, HvPulse, HvState, hv_detect, hv_pulses, hv_release, hv_rk4};
use crate::real::Real;

/// Per-neuron coupling array, 4 entries per neuron: `[4i]` = s^A_i and `[4i + 1]` = s^G_i
/// (release of the current voltage), `[4i + 2]` = P^A_i and `[4i + 3]` = P^G_i (gathered
/// activation for the coming step). WGSL: `coupling` in `hv_step.wgsl` / `hv_gather.wgsl`.
pub const COUPLING_STRIDE: usize = 4;

/// Advances every neuron of a partition (a thread's neurons; neuron `k` is global
/// neuron `first + k`) by one step (spec 6.2): P = gathered activation (`p`, 2 per
/// neuron: P^A, P^G) + this step's receptor pulses, held over the four RK4 stages;
/// detects upward 0 mV crossings (spec 7), appending the global ids (ascending) to
/// `spiked` and the crossing's fraction of the step to `frac`; writes the release (s^A,
/// s^G) of the new voltage for the next gather into `release` (2 per neuron). The
/// shader keeps the four values of a neuron together ([`COUPLING_STRIDE`]); the
/// arithmetic is the same.
///
/// Returns the first neuron (global) whose new state is not finite, if any (spec 6.4).
#[allow(clippy::too_many_arguments, reason = "mirrors the shader's bindings")]
pub fn hv_step<F: Real>(
    params: &[HvParams<F>],
    state: &mut [HvState<F>],
    p: &[F],
    release: &mut [F],
    pulses: &[HvPulse<F>],
    step: u32,
    first: usize,
    spiked: &mut Vec<u32>,
    frac: &mut Vec<f32>,
) -> Option<u32> {
    let mut bad = None;
    for i in 0..state.len() {
        let q = &params[i];
        let mut s = state[i];
        let mut pa = p[2 * i];
        let mut pg = p[2 * i + 1];
        hv_pulses(q, pulses, step, &mut pa, &mut pg);
        let (y1, w1) = hv_rk4(q, s.y, s.w, pa, pg);
        if !(y1.is_finite() && w1.is_finite()) && bad.is_none() {
            bad = Some((first + i) as u32);
        }
        let v_old = q.v_t * s.y;
        let v_new = q.v_t * y1;
        if let Some(f) = hv_detect(q, v_old, v_new, &mut s.armed) {
            spiked.push((first + i) as u32);
            frac.push(f.f64() as f32);
        }
        s.y = y1;
        s.w = w1;
        state[i] = s;
        let (sa, sg) = hv_release(q, y1);
        release[2 * i] = sa;
        release[2 * i + 1] = sg;
    }
    bad
}

/// The release (s^A, s^G) of every neuron's current voltage, before step 0 (so that the
/// first gather sees y^0). The GPU backend uploads this host computation.
pub fn hv_activate<F: Real>(params: &[HvParams<F>], state: &[HvState<F>], coupling: &mut [F]) {
    for i in 0..state.len() {
        let (sa, sg) = hv_release(&params[i], state[i].y);
        coupling[4 * i] = sa;
        coupling[4 * i + 1] = sg;
    }
}
