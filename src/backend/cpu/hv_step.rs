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

/// Advances every neuron by one step (spec 6.2): P = gathered activation + this step's
/// receptor pulses, held over the four RK4 stages; detects upward 0 mV crossings (spec
/// 7), appending the neuron ids (ascending) to `spiked` and the crossing's fraction of
/// the step to `frac`; writes the release (s^A, s^G) of the new voltage for the next
/// gather.
///
/// Returns the first neuron whose new state is not finite, if any (spec 6.4).
pub fn hv_step<F: Real>(
    params: &[HvParams<F>],
    state: &mut [HvState<F>],
    coupling: &mut [F],
    pulses: &[HvPulse<F>],
    step: u32,
    spiked: &mut Vec<u32>,
    frac: &mut Vec<f32>,
) -> Option<u32> {
    let mut bad = None;
    for i in 0..state.len() {
        let p = &params[i];
        let mut s = state[i];
        let c = &mut coupling[4 * i..4 * i + 4];
        let mut pa = c[2];
        let mut pg = c[3];
        hv_pulses(p, pulses, step, &mut pa, &mut pg);
        let (y1, w1) = hv_rk4(p, s.y, s.w, pa, pg);
        if !(y1.is_finite() && w1.is_finite()) && bad.is_none() {
            bad = Some(i as u32);
        }
        let v_old = p.v_t * s.y;
        let v_new = p.v_t * y1;
        if let Some(f) = hv_detect(p, v_old, v_new, &mut s.armed) {
            spiked.push(i as u32);
            frac.push(f.f64() as f32);
        }
        s.y = y1;
        s.w = w1;
        state[i] = s;
        let (sa, sg) = hv_release(p, y1);
        c[0] = sa;
        c[1] = sg;
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
