//! CPU twin of `shaders/propagate.wgsl`.

use super::InputRing;
use super::synapses::{CpuSynapses, Values};
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
    let (width, acc) = (ring.width, &mut ring.acc[..]);
    let mut add = |target: u32, weight: F::Acc, delay: u32| {
        let mut slot = s0 + delay as usize;
        if slot >= slots {
            slot -= slots;
        }
        F::acc_add(&mut acc[slot * width + target as usize], weight);
    };
    // one loop per layout (the layout is fixed for the table)
    for &pre in spiked {
        let (a, b) = (syn.row_ptr[pre as usize], syn.row_ptr[pre as usize + 1]);
        let words = &syn.word[a..b];
        match &syn.values {
            Values::Palette { shift, palette } => {
                let mask = (1u32 << shift) - 1;
                for &w in words {
                    let (wt, d) = palette[(w >> shift) as usize];
                    add(w & mask, wt, d);
                }
            }
            Values::Packed { shift, weight } => {
                let mask = (1u32 << shift) - 1;
                for (&w, &wt) in words.iter().zip(&weight[a..b]) {
                    add(w & mask, wt, w >> shift);
                }
            }
            Values::Wide { weight, delay } => {
                for ((&w, &wt), &d) in words.iter().zip(&weight[a..b]).zip(&delay[a..b]) {
                    add(w, wt, d);
                }
            }
        }
    }
}
