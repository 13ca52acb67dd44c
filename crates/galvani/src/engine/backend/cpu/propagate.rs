//! CPU twin of `shaders/propagate.wgsl`: the same integer adds into the same ring
//! entries. The GPU splits each spiking row into blocks walked in parallel (its work
//! decomposition is modelled on the host in `backend/gpu/walk.rs`); here one thread
//! walks its partition's rows in order. Integer sums do not depend on the order.

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
    let offset = |delay: u32| {
        let mut slot = s0 + delay as usize;
        if slot >= slots {
            slot -= slots;
        }
        slot * width
    };
    // one loop per layout (the layout is fixed for the table)
    match &syn.values {
        Values::Palette { shift, palette } => {
            // each entry's ring offset for this step, once (the slot depends only on the
            // delay): a synapse costs a lookup and an add
            let resolved: Vec<(F::Acc, usize)> =
                palette.iter().map(|&(wt, d)| (wt, offset(d))).collect();
            let mask = (1u32 << shift) - 1;
            for &pre in spiked {
                let (a, b) = (syn.row_ptr[pre as usize], syn.row_ptr[pre as usize + 1]);
                for &w in &syn.word[a..b] {
                    let (wt, base) = resolved[(w >> shift) as usize];
                    F::acc_add(&mut acc[base + (w & mask) as usize], wt);
                }
            }
        }
        Values::Packed { shift, weight } => {
            let mask = (1u32 << shift) - 1;
            for &pre in spiked {
                let (a, b) = (syn.row_ptr[pre as usize], syn.row_ptr[pre as usize + 1]);
                for (&w, &wt) in syn.word[a..b].iter().zip(&weight[a..b]) {
                    F::acc_add(&mut acc[offset(w >> shift) + (w & mask) as usize], wt);
                }
            }
        }
        Values::Wide { weight, delay } => {
            for &pre in spiked {
                let (a, b) = (syn.row_ptr[pre as usize], syn.row_ptr[pre as usize + 1]);
                let rows = syn.word[a..b].iter().zip(&weight[a..b]).zip(&delay[a..b]);
                for ((&w, &wt), &d) in rows {
                    F::acc_add(&mut acc[offset(d) + w as usize], wt);
                }
            }
        }
    }
}
