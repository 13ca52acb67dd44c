//! CPU twin of `shaders/propagate.wgsl`.

use super::{CpuSynapses, InputRing};
use crate::real::Real;

/// Stage `Propagate`: each neuron that spiked in step `step` adds its outgoing weights
/// into the ring slot `(step + delay) % slots` of their targets. Work is proportional to
/// spikes × fan-out. Delays are ≥ 1, so the slot being read this step is never written.
pub fn propagate<F: Real>(
    syn: &CpuSynapses<F>,
    ring: &mut InputRing<F>,
    spiked: &[u32],
    step: u64,
) {
    // (step + delay) % slots as in the shader: (step % slots + delay) % slots, the inner
    // modulo a conditional subtraction because 1 ≤ delay < slots (no division per synapse)
    let slots = ring.slots;
    let s0 = (step % slots as u64) as usize;
    for &pre in spiked {
        let (a, b) = (syn.row_ptr[pre as usize], syn.row_ptr[pre as usize + 1]);
        for k in a..b {
            let mut slot = s0 + syn.delay[k] as usize;
            if slot >= slots {
                slot -= slots;
            }
            let idx = slot * ring.width + syn.target[k] as usize;
            F::acc_add(&mut ring.acc[idx], syn.weight[k]);
        }
    }
}
