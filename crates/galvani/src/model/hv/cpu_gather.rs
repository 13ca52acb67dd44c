//! CPU twin of `shaders/hv_gather.wgsl`: stage `Propagate` for HV networks.

use crate::real::Real;

/// The graded synaptic activation of every neuron for the next step (spec 4.2, 6.2 step
/// 2): `P^A_i = Σ_j W^A_ij s^A_j`, `P^G_i = Σ_j W^G_ij s^G_j`, one pass over row i of the
/// incoming table (both receptors), summed in ascending presynaptic order: no atomics,
/// the same order on every backend.
///
/// `src = 2·pre + receptor`; the release it reads is `coupling[4·pre + receptor]` =
/// `coupling[2·src − receptor]`, and P^A_i, P^G_i go to `coupling[4i + 2]`, `[4i + 3]`
/// (layout: [`COUPLING_STRIDE`](super::hv_step::COUPLING_STRIDE)). The GPU backend
/// computes the coupling of step 0 with it on the host.
pub fn hv_gather<F: Real>(row_ptr: &[u32], src: &[u32], weight: &[F], coupling: &mut [F]) {
    for i in 0..row_ptr.len() - 1 {
        let r = row_ptr[i] as usize..row_ptr[i + 1] as usize;
        let (pa, pg) = gather_row(&src[r.clone()], &weight[r], |s| {
            coupling[(2 * s - (s & 1)) as usize]
        });
        coupling[4 * i + 2] = pa;
        coupling[4 * i + 3] = pg;
    }
}

/// [`hv_gather`] for one partition of the CPU backend (a thread's neurons): its rows
/// (`row_ptr` from 0, local), the release of every neuron (`release[src]`, 2 per
/// neuron: s^A, s^G) and its own activations (`p`, 2 per neuron: P^A, P^G).
pub fn hv_gather_part<F: Real>(
    row_ptr: &[usize],
    src: &[u32],
    weight: &[F],
    release: &[F],
    p: &mut [F],
) {
    for (i, out) in p.chunks_exact_mut(2).enumerate() {
        let r = row_ptr[i]..row_ptr[i + 1];
        let (pa, pg) = gather_row(&src[r.clone()], &weight[r], |s| release[s as usize]);
        out[0] = pa;
        out[1] = pg;
    }
}

/// One row of the gather: the sums in ascending presynaptic order, as the shader's.
#[inline(always)]
fn gather_row<F: Real>(src: &[u32], weight: &[F], release: impl Fn(u32) -> F) -> (F, F) {
    let mut pa = F::zero();
    let mut pg = F::zero();
    for (&s, &w) in src.iter().zip(weight) {
        let x = w * release(s);
        // branch-free, as the shader: x·1 and x·0 are exact, the sums are those of
        // an if/else on the receptor
        let g = F::of((s & 1) as f64);
        pa = pa + x * (F::one() - g);
        pg = pg + x * g;
    }
    (pa, pg)
}
