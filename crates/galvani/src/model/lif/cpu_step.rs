//! CPU twin of `shaders/lif_step.wgsl`: the same per-neuron arithmetic
//! ([`lif_kernel`], which the shader's `lif_update` mirrors), looped over neurons.

use super::InputRing;
use crate::model::lif::{
    LifParams, LifState, SYN_ALPHA_CONDUCTANCE, SYN_ALPHA_CURRENT, SYN_DELTA, SYN_EXP_CONDUCTANCE,
    SYN_EXP_CURRENT, is_alpha, lif_kernel,
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
/// neuron `k` of them is global neuron `first + k`, the id pushed to `spiked`. `dsyn`
/// holds dI/dt of the alpha currents per neuron, and is empty when no neuron has
/// `alpha_current` synapses.
#[allow(clippy::too_many_arguments, reason = "mirrors the shader's bindings")]
pub fn lif_step<F: Real>(
    params: &[LifParams<F>],
    ranges: &[NeuronRange<F>],
    i_stim: &[F],
    state: &mut [LifState<F>],
    dsyn: &mut [[F; 2]],
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
        // (empty where the network has no alpha neurons; only the alpha kinds read it)
        let ds = dsyn.get_mut(a..b).unwrap_or_default();
        let args = (params, r, i_stim, st, ds, inp, inv_scale, first);
        match params[a].kind {
            SYN_DELTA => kind::<F, SYN_DELTA>(args, spiked),
            SYN_EXP_CURRENT => kind::<F, SYN_EXP_CURRENT>(args, spiked),
            SYN_ALPHA_CURRENT => kind::<F, SYN_ALPHA_CURRENT>(args, spiked),
            SYN_ALPHA_CONDUCTANCE => kind::<F, SYN_ALPHA_CONDUCTANCE>(args, spiked),
            _ => kind::<F, SYN_EXP_CONDUCTANCE>(args, spiked),
        }
    }
}

/// One range's arrays and constants: params, range, i_stim, state, dsyn (empty or the
/// range's), input, 1/scale, the partition's first neuron.
type RangeArgs<'a, F> = (
    &'a [LifParams<F>],
    &'a NeuronRange<F>,
    &'a [F],
    &'a mut [LifState<F>],
    &'a mut [[F; 2]],
    &'a mut [<F as Real>::Acc],
    F,
    usize,
);

#[inline(always)]
fn kind<F: Real, const KIND: u32>(args: RangeArgs<'_, F>, spiked: &mut Vec<u32>) {
    let (params, r, i_stim, st, ds, inp, inv_scale, first) = args;
    let a = r.start;
    let g = first + a;
    match (&r.shared, i_stim.is_empty()) {
        (Some(p), true) => {
            // A local copy: its fields stay in registers across the loop (through the
            // reference LLVM reloads them after every store to the state).
            let p = *p;
            range::<F, KIND>(|_| &p, |_| F::zero(), st, ds, inp, inv_scale, g, spiked)
        }
        (_, true) => range::<F, KIND>(
            |k| &params[a + k],
            |_| F::zero(),
            st,
            ds,
            inp,
            inv_scale,
            g,
            spiked,
        ),
        (_, false) => range::<F, KIND>(
            |k| &params[a + k],
            |k| i_stim[a + k],
            st,
            ds,
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
    dsyn: &mut [[F; 2]],
    input: &mut [F::Acc],
    inv_scale: F,
    start: usize,
    spiked: &mut Vec<u32>,
) {
    // exp() per neuron: nothing to gain from lanes; f64 (NEST's precision): its 32-byte
    // states vectorize badly, and lanes measured 1.8× slower than the branchy loop
    // (CUBA 4000, 1 s: 0.117 s against 0.065 s on the development machine); the alpha
    // kinds: scalar for now, with their two more state variables in `dsyn`
    let alpha = is_alpha(KIND);
    if KIND == SYN_EXP_CONDUCTANCE || F::NAME == "f64" || alpha {
        // the other kinds have no alpha state: a scratch pair they leave alone
        let mut scratch = [F::zero(); 2];
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
                if alpha { &mut dsyn[k] } else { &mut scratch },
                a,
                g,
                stim(k),
            ) {
                spiked.push((start + k) as u32);
            }
        }
    } else {
        lanes::<F, KIND>(&p, &stim, state, input, inv_scale, start, spiked)
    }
}

/// Neurons per block of [`lanes`]: the spike flags of a block live on the stack.
const BLOCK: usize = 256;

/// The f32 delta and exp-current loops in a form the compiler turns into SIMD: per block of
/// [`BLOCK`] neurons, first [`lif_kernel_flat`] on every neuron (no branch, no push:
/// the spike is a flag), then the flags scanned in order for the ids. Compiled for
/// several instruction sets and chosen at run time (`multiversion`: AVX-512, AVX2 and
/// SSE4.1 on x86-64, NEON on aarch64, the baseline elsewhere), so a released binary uses
/// the machine's widest lanes. The compiler never fuses a multiply and an add in Rust
/// (no FMA contraction), so each lane rounds exactly as the scalar kernel and the shader.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512vl+avx512bw+avx512dq+avx2+fma+bmi1+bmi2+lzcnt+popcnt",
    "x86_64+avx2+fma+bmi1+bmi2+lzcnt+popcnt",
    "x86_64+sse4.1",
    "aarch64+neon",
))]
#[allow(clippy::too_many_arguments)]
fn lanes<'p, F: Real, const KIND: u32>(
    p: &impl Fn(usize) -> &'p LifParams<F>,
    stim: &impl Fn(usize) -> F,
    state: &mut [LifState<F>],
    input: &mut [F::Acc],
    inv_scale: F,
    start: usize,
    spiked: &mut Vec<u32>,
) {
    let mut flags = [0u8; BLOCK];
    let mut at = 0;
    for (st, inp) in state.chunks_mut(BLOCK).zip(input.chunks_mut(2 * BLOCK)) {
        let mut any = 0u8;
        for (k, ((s, acc), f)) in st
            .iter_mut()
            .zip(inp.chunks_exact_mut(2))
            .zip(flags.iter_mut())
            .enumerate()
        {
            let a = F::acc_value(acc[0], inv_scale);
            let g = F::acc_value(acc[1], inv_scale);
            acc[0] = F::Acc::default();
            acc[1] = F::Acc::default();
            let spike = lif_kernel_flat::<F, KIND>(p(at + k), s, a, g, stim(at + k)) as u8;
            *f = spike;
            any |= spike;
        }
        if any != 0 {
            for (k, &f) in flags[..st.len()].iter().enumerate() {
                if f != 0 {
                    spiked.push((start + at + k) as u32);
                }
            }
        }
        at += st.len();
    }
}

/// [`lif_kernel`] for delta and exp-current synapses without branches: both arms of
/// each choice are computed and one is selected, so neurons can share SIMD lanes. The
/// operations, their order and their operands are those of [`lif_kernel`] (the arm not
/// taken is discarded), so the results are the same bit for bit (`tests/analytic.rs`
/// compares the two on random states).
#[inline(always)]
pub fn lif_kernel_flat<F: Real, const KIND: u32>(
    p: &LifParams<F>,
    s: &mut LifState<F>,
    in_ampa: F,
    in_gaba: F,
    i_stim: F,
) -> bool {
    let active = s.refrac == 0;
    let u_new = if KIND == SYN_DELTA {
        p.p30 * (p.i_e + i_stim) + p.p33 * s.u + (in_ampa + in_gaba)
    } else {
        s.u * p.p33 + s.i_ampa * p.p31_ampa + s.i_gaba * p.p31_gaba + (p.i_e + i_stim) * p.p30
    };
    let u = if active { u_new } else { s.u };
    let refrac = if active { 0 } else { s.refrac.wrapping_sub(1) };
    if KIND != SYN_DELTA {
        s.i_ampa = s.i_ampa * p.p11_ampa + in_ampa;
        s.i_gaba = s.i_gaba * p.p11_gaba + in_gaba;
    }
    let spike = u >= p.theta;
    // subnormals flushed once, at the end, where the state is stored (the threshold
    // sees u as computed; the reset and a held u are flushed already). Flushing here
    // rather than where each value is computed keeps the loop vectorised: 25–40 %
    // faster on CUBA.
    s.u = if spike { p.reset } else { u }.flush();
    if KIND != SYN_DELTA {
        s.i_ampa = s.i_ampa.flush();
        s.i_gaba = s.i_gaba.flush();
    }
    s.refrac = if spike { p.ref_steps } else { refrac };
    spike
}
