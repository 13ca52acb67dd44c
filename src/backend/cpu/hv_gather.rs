//! CPU twin of `shaders/hv_gather.wgsl`: stage `Propagate` for HV networks.

use crate::real::Real;

/// The graded synaptic activation of every neuron for the next step (spec 4.2, 6.2 step
/// 2): `P^A_i = Σ_j W^A_ij s^A_j`, `P^G_i = Σ_j W^G_ij s^G_j`, one pass over row i of the
/// incoming table (both receptors), summed in ascending presynaptic order: no atomics,
/// the same order on every backend.
///
/// `src = 2·pre + receptor`; the release it reads is `coupling[4·pre + receptor]` =
/// `coupling[2·src − receptor]`, and P^A_i, P^G_i go to `coupling[4i + 2]`, `[4i + 3]`
/// (layout: [`COUPLING_STRIDE`](super::hv_step::COUPLING_STRIDE)).
pub fn hv_gather<F: Real>(row_ptr: &[u32], src: &[u32], weight: &[F], coupling: &mut [F]) {
    for i in 0..row_ptr.len() - 1 {
        let mut pa = F::zero();
        let mut pg = F::zero();
        for k in row_ptr[i] as usize..row_ptr[i + 1] as usize {
            let s = src[k];
            let x = weight[k] * coupling[(2 * s - (s & 1)) as usize];
            // branch-free, as the shader: x·1 and x·0 are exact, the sums are those of
            // an if/else on the receptor
            let g = F::of((s & 1) as f64);
            pa = pa + x * (F::one() - g);
            pg = pg + x * g;
        }
        coupling[4 * i + 2] = pa;
        coupling[4 * i + 3] = pg;
    }
}
