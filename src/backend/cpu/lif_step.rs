//! CPU twin of `shaders/lif_step.wgsl`: the same per-neuron arithmetic
//! ([`lif_kernel`], which the shader's `lif_update` mirrors), looped over neurons.

use super::InputRing;
use crate::model::lif::{
    LifParams, LifState, SYN_DELTA, SYN_EXP_CONDUCTANCE, SYN_EXP_CURRENT, lif_kernel,
};
use crate::real::Real;

/// A contiguous range of neurons (a population, or the part of one inside a thread's
/// partition; indices local to the partition). When all of its neurons have the same
/// derived constants, `shared` holds them once, so the hot loop keeps them in registers
/// (GeNN's shared parameters vs per-neuron variables); the arithmetic is the same.
#[derive(Clone, Debug)]
pub struct NeuronRange<F> {
    /// First neuron.
    pub start: usize,
    /// One past the last neuron.
    pub end: usize,
    /// The constants, when they are the same for every neuron of the range.
    pub shared: Option<LifParams<F>>,
}

/// Stage `NeuronStep` for LIF: reads and clears this step's input slot, advances every
/// neuron (spec section 4) and appends the ids of those that spiked, ascending.
///
/// The arrays are those of one partition (a thread's neurons, [`super::Partition`]):
/// neuron `k` of them is global neuron `first + k`, the id pushed to `spiked`.
#[allow(clippy::too_many_arguments, reason = "mirrors the shader's bindings")]
pub fn lif_step<F: Real>(
    params: &[LifParams<F>],
    ranges: &[NeuronRange<F>],
    i_stim: &[F],
    state: &mut [LifState<F>],
    ring: &mut InputRing<F>,
    inv_scale: F,
    step: u64,
    first: usize,
    spiked: &mut Vec<u32>,
) {
    let slot = (step % ring.slots as u64) as usize;
    let input = &mut ring.acc[slot * ring.width..(slot + 1) * ring.width];
    for r in ranges {
        let (a, b) = (r.start, r.end);
        let (st, inp) = (&mut state[a..b], &mut input[2 * a..2 * b]);
        // Specialised loops: kind (uniform within a population), shared or per-neuron
        // constants, with or without pulses.
        match params[a].kind {
            SYN_DELTA => kind::<F, SYN_DELTA>(params, r, i_stim, st, inp, inv_scale, first, spiked),
            SYN_EXP_CURRENT => {
                kind::<F, SYN_EXP_CURRENT>(params, r, i_stim, st, inp, inv_scale, first, spiked)
            }
            _ => {
                kind::<F, SYN_EXP_CONDUCTANCE>(params, r, i_stim, st, inp, inv_scale, first, spiked)
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn kind<F: Real, const KIND: u32>(
    params: &[LifParams<F>],
    r: &NeuronRange<F>,
    i_stim: &[F],
    st: &mut [LifState<F>],
    inp: &mut [F::Acc],
    inv_scale: F,
    first: usize,
    spiked: &mut Vec<u32>,
) {
    let a = r.start;
    let g = first + a;
    match (&r.shared, i_stim.is_empty()) {
        (Some(p), true) => {
            // A local copy: its fields stay in registers across the loop (through the
            // reference LLVM reloads them after every store to the state).
            let p = *p;
            range::<F, KIND>(|_| &p, |_| F::zero(), st, inp, inv_scale, g, spiked)
        }
        (_, true) => range::<F, KIND>(
            |k| &params[a + k],
            |_| F::zero(),
            st,
            inp,
            inv_scale,
            g,
            spiked,
        ),
        (_, false) => range::<F, KIND>(
            |k| &params[a + k],
            |k| i_stim[a + k],
            st,
            inp,
            inv_scale,
            g,
            spiked,
        ),
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn range<'p, F: Real, const KIND: u32>(
    p: impl Fn(usize) -> &'p LifParams<F>,
    stim: impl Fn(usize) -> F,
    state: &mut [LifState<F>],
    input: &mut [F::Acc],
    inv_scale: F,
    start: usize,
    spiked: &mut Vec<u32>,
) {
    for (k, (s, acc)) in state.iter_mut().zip(input.chunks_exact_mut(2)).enumerate() {
        let a = F::acc_value(acc[0], inv_scale);
        let g = F::acc_value(acc[1], inv_scale);
        acc[0] = F::Acc::default();
        acc[1] = F::Acc::default();
        if lif_kernel::<F, KIND>(
            p(k),
            &mut s.u,
            &mut s.i_ampa,
            &mut s.i_gaba,
            &mut s.refrac,
            a,
            g,
            stim(k),
        ) {
            spiked.push((start + k) as u32);
        }
    }
}
