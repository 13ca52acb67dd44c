//! CPU twin of `shaders/lif_step.wgsl`.

use super::InputRing;
use crate::model::lif::{LifParams, LifState, lif_update};
use crate::real::Real;

/// Stage `NeuronStep` for LIF: reads and clears this step's input slot, advances every
/// neuron (spec section 4) and appends the ids of those that spiked, ascending.
pub fn lif_step<F: Real>(
    params: &[LifParams<F>],
    state: &mut [LifState<F>],
    ring: &mut InputRing<F>,
    inv_scale: F,
    step: u64,
    spiked: &mut Vec<u32>,
) {
    let slot = (step % ring.slots as u64) as usize;
    let input = &mut ring.acc[slot * ring.width..(slot + 1) * ring.width];
    for (i, (p, s)) in params.iter().zip(state.iter_mut()).enumerate() {
        let in_ampa = F::acc_value(input[2 * i], inv_scale);
        let in_gaba = F::acc_value(input[2 * i + 1], inv_scale);
        input[2 * i] = F::Acc::default();
        input[2 * i + 1] = F::Acc::default();
        if lif_update(p, s, in_ampa, in_gaba) {
            spiked.push(i as u32);
        }
    }
}
