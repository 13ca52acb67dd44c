//! Synaptic connectivity: one `sprs` sparse matrix per projection, merged into one
//! outgoing (CSR, by presynaptic neuron) synapse table for the whole network.
//!
//! Each projection is a `pre × post` [`CsMatI`] of weights. Rules draw from a ChaCha8
//! stream keyed by (seed, projection index), so the network is reproducible and both
//! backends simulate the identical one. Sparse matrices cannot hold two entries at one
//! (pre, post): multapses (from `fixed_indegree` with replacement, or repeated file
//! rows) are merged into one synapse whose weight is the sum — the same input for the
//! linear synapses of this simulator. Counts in the summary are of drawn connections.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sprs::{CsMatI, TriMatI};

use crate::real::FixedPoint;

/// Receptor index: AMPA.
pub const AMPA: u32 = 0;
/// Receptor index: GABA-A.
pub const GABA_A: u32 = 1;

/// The connectivity of one projection.
#[derive(Debug, Clone)]
pub struct ProjectionMatrix {
    /// Presynaptic population index.
    pub pre: usize,
    /// Postsynaptic population index.
    pub post: usize,
    /// [`AMPA`] or [`GABA_A`].
    pub receptor: u32,
    /// Weights, `pre × post` (CSR, population-local indices).
    pub weights: CsMatI<f64, u32, usize>,
    /// Delay in steps per stored synapse (aligned with `weights.data()`), or one for all.
    pub delays: Delays,
    /// Connections drawn, multapses counted separately.
    pub drawn: u64,
}

/// Per-synapse or uniform delays (in steps, ≥ 1).
#[derive(Debug, Clone)]
pub enum Delays {
    /// One delay for every synapse.
    Uniform(u32),
    /// One per stored synapse.
    PerSynapse(Vec<u32>),
}

impl Delays {
    fn get(&self, k: usize) -> u32 {
        match self {
            Delays::Uniform(d) => *d,
            Delays::PerSynapse(v) => v[k],
        }
    }
}

/// A stream for one random choice, keyed by the run seed and a tag (deterministic, portable).
pub fn stream(seed: u64, tag: &[u64]) -> ChaCha8Rng {
    // SplitMix64-style mixing of the key into one 64-bit seed.
    let mut h = seed ^ 0x9E37_79B9_7F4A_7C15;
    for &t in tag {
        h = h.wrapping_add(t).wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = h;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h = z ^ (z >> 31);
    }
    ChaCha8Rng::seed_from_u64(h)
}

/// Builds a CSR matrix from per-row sorted column lists (rows already sorted and free of
/// duplicates).
fn csr(
    rows: usize,
    cols: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    data: Vec<f64>,
) -> CsMatI<f64, u32, usize> {
    CsMatI::try_new((rows, cols), indptr, indices, data)
        .expect("rows are sorted and in range by construction")
}

/// `fixed_probability`: every pair independently with probability `p` (geometric skips,
/// so the cost is proportional to the synapses drawn, not to n_pre·n_post).
pub fn fixed_probability(
    n_pre: usize,
    n_post: usize,
    p: f64,
    no_autapse: bool,
    w: f64,
    rng: &mut ChaCha8Rng,
) -> (CsMatI<f64, u32, usize>, u64) {
    let mut indptr = Vec::with_capacity(n_pre + 1);
    let mut indices = Vec::new();
    indptr.push(0);
    if p > 0.0 {
        let ln_q = (1.0 - p).ln(); // -inf for p = 1: every skip is 0
        for i in 0..n_pre {
            let mut j: usize = 0;
            loop {
                let skip = if p >= 1.0 {
                    0
                } else {
                    let u: f64 = 1.0 - rng.random::<f64>(); // (0, 1]
                    let s = (u.ln() / ln_q).floor();
                    if s >= (n_post - j) as f64 {
                        break;
                    } else {
                        s as usize
                    }
                };
                j += skip;
                if j >= n_post {
                    break;
                }
                if !(no_autapse && i == j) {
                    indices.push(j as u32);
                }
                j += 1;
            }
            indptr.push(indices.len());
        }
    } else {
        indptr.resize(n_pre + 1, 0);
    }
    let n = indices.len();
    (csr(n_pre, n_post, indptr, indices, vec![w; n]), n as u64)
}

/// `fixed_indegree`: each post neuron draws `k` sources uniformly, with replacement.
pub fn fixed_indegree(
    n_pre: usize,
    n_post: usize,
    k: usize,
    no_autapse: bool,
    w: f64,
    rng: &mut ChaCha8Rng,
) -> Result<(CsMatI<f64, u32, usize>, u64), String> {
    if no_autapse && n_pre == 1 && k > 0 {
        return Err(
            "fixed_indegree without autapses needs at least two presynaptic neurons".into(),
        );
    }
    // Column-major (CSC) first: sources of each post neuron, sorted, multapses merged.
    let mut indptr = Vec::with_capacity(n_post + 1);
    let mut indices: Vec<u32> = Vec::with_capacity(n_post * k);
    let mut data: Vec<f64> = Vec::with_capacity(n_post * k);
    let mut buf: Vec<u32> = Vec::with_capacity(k);
    indptr.push(0);
    for j in 0..n_post {
        buf.clear();
        while buf.len() < k {
            let i = rng.random_range(0..n_pre as u32);
            if no_autapse && i as usize == j {
                continue;
            }
            buf.push(i);
        }
        buf.sort_unstable();
        for &i in &buf {
            if indices.len() > *indptr.last().unwrap() && *indices.last().unwrap() == i {
                *data.last_mut().unwrap() += w;
            } else {
                indices.push(i);
                data.push(w);
            }
        }
        indptr.push(indices.len());
    }
    let csc = CsMatI::try_new_csc((n_pre, n_post), indptr, indices, data)
        .expect("sorted by construction");
    Ok((csc.to_csr(), (n_post * k) as u64))
}

/// `one_to_one`: i → i.
pub fn one_to_one(n: usize, w: f64) -> (CsMatI<f64, u32, usize>, u64) {
    (
        csr(n, n, (0..=n).collect(), (0..n as u32).collect(), vec![w; n]),
        n as u64,
    )
}

/// `all_to_all`: every pair (i → i only if `autapses` or the populations differ).
pub fn all_to_all(
    n_pre: usize,
    n_post: usize,
    no_autapse: bool,
    w: f64,
) -> (CsMatI<f64, u32, usize>, u64) {
    let mut indptr = vec![0];
    let mut indices = Vec::with_capacity(n_pre * n_post);
    for i in 0..n_pre {
        indices.extend((0..n_post as u32).filter(|&j| !(no_autapse && j as usize == i)));
        indptr.push(indices.len());
    }
    let n = indices.len();
    (csr(n_pre, n_post, indptr, indices, vec![w; n]), n as u64)
}

/// A projection's weight matrix (pre × post, CSR, u32 indices).
pub type Weights = CsMatI<f64, u32, usize>;

/// An edge read from a file: (pre, post, weight, delay in steps).
pub type Edge = (u32, u32, f64, u32);

/// Merges an edge list into a matrix with per-synapse delays. Duplicate (pre, post)
/// pairs are summed; they must share one delay.
pub fn from_edges(
    n_pre: usize,
    n_post: usize,
    mut edges: Vec<Edge>,
) -> Result<(Weights, Vec<u32>, u64), String> {
    let drawn = edges.len() as u64;
    edges.sort_by_key(|e| (e.0, e.1));
    let mut tri = TriMatI::<f64, u32>::with_capacity((n_pre, n_post), edges.len());
    let mut delays = Vec::with_capacity(edges.len());
    let mut last: Option<(u32, u32, u32)> = None;
    let mut merged: Vec<Edge> = Vec::with_capacity(edges.len());
    for e in edges {
        if let Some((a, b, d)) = last
            && a == e.0
            && b == e.1
        {
            if d != e.3 {
                return Err(format!(
                    "edge {} -> {} appears twice with different delays",
                    e.0, e.1
                ));
            }
            merged.last_mut().unwrap().2 += e.2;
            continue;
        }
        last = Some((e.0, e.1, e.3));
        merged.push(e);
    }
    for e in &merged {
        tri.add_triplet(e.0 as usize, e.1 as usize, e.2);
        delays.push(e.3);
    }
    // Entries are sorted and unique, so the CSR keeps the order of `delays`.
    Ok((tri.to_csr(), delays, drawn))
}

/// The outgoing synapses of every neuron of the network (CSR by global presynaptic id).
///
/// `target = 2·post_global + receptor` indexes a neuron's two input accumulators
/// directly. Rows list projections in config order, post neurons ascending.
#[derive(Debug, Clone, Default)]
pub struct Synapses {
    /// Row start per presynaptic neuron (length n + 1).
    pub row_ptr: Vec<u32>,
    /// `2·post + receptor` per synapse.
    pub target: Vec<u32>,
    /// Weight per synapse (spec units).
    pub weight: Vec<f64>,
    /// Delay per synapse, in steps (≥ 1).
    pub delay: Vec<u32>,
    /// The largest delay (steps).
    pub max_delay: u32,
    /// Connections drawn (multapses counted separately).
    pub drawn: u64,
    /// Number of stored synapses (kept by [`Synapses::release`]).
    pub stored: usize,
}

impl Synapses {
    /// Number of stored synapses.
    pub fn len(&self) -> usize {
        self.stored
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.stored == 0
    }
    /// Frees the arrays once a backend holds its own copy (a large network's synapses
    /// then exist once in host memory, not twice); counts stay.
    pub fn release(&mut self) {
        self.row_ptr = Vec::new();
        self.target = Vec::new();
        self.weight = Vec::new();
        self.delay = Vec::new();
    }

    /// Merges projections into one table; `offsets[p]` is population p's first global id.
    pub fn build(
        n: usize,
        offsets: &[usize],
        projections: &[ProjectionMatrix],
    ) -> Result<Synapses, String> {
        let total: usize = projections.iter().map(|p| p.weights.nnz()).sum();
        if total > u32::MAX as usize {
            return Err(format!(
                "{total} synapses exceed the 2^32 − 1 that one synapse table indexes"
            ));
        }
        let mut counts = vec![0u32; n + 1];
        for p in projections {
            let off = offsets[p.pre];
            for (i, row) in p.weights.outer_iterator().enumerate() {
                counts[off + i + 1] += row.nnz() as u32;
            }
        }
        for i in 0..n {
            counts[i + 1] += counts[i];
        }
        let row_ptr = counts.clone();
        let mut fill = counts;
        let mut target = vec![0u32; total];
        let mut weight = vec![0f64; total];
        let mut delay = vec![0u32; total];
        let mut max_delay = 1;
        for p in projections {
            let (pre_off, post_off) = (offsets[p.pre], offsets[p.post]);
            let mut k = 0;
            for (i, row) in p.weights.outer_iterator().enumerate() {
                let g = pre_off + i;
                for (j, &w) in row.iter() {
                    let at = fill[g] as usize;
                    target[at] = 2 * (post_off + j) as u32 + p.receptor;
                    weight[at] = w;
                    let d = p.delays.get(k);
                    delay[at] = d;
                    max_delay = max_delay.max(d);
                    fill[g] += 1;
                    k += 1;
                }
            }
        }
        Ok(Synapses {
            row_ptr,
            target,
            weight,
            delay,
            max_delay,
            drawn: projections.iter().map(|p| p.drawn).sum(),
            stored: total,
        })
    }

    /// Per accumulator (2·neuron + receptor), the total |weight| that can arrive in one
    /// step: every incoming synapse at once.
    pub fn per_target_abs_input(&self, n: usize) -> Vec<f64> {
        let mut sum = vec![0f64; 2 * n];
        for (t, w) in self.target.iter().zip(&self.weight) {
            sum[*t as usize] += w.abs();
        }
        sum
    }
}

/// The incoming synapses of every neuron (CSR by global postsynaptic id), for the graded
/// gather of HV networks (spec hv-model.md 6.2): row `post` lists its synapses in
/// ascending presynaptic order, both receptors in one row.
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    /// Row start per postsynaptic neuron (length n + 1).
    pub row_ptr: Vec<u32>,
    /// `2·pre + receptor` per synapse: indexes the presynaptic release array directly.
    pub src: Vec<u32>,
    /// Weight per synapse (dimensionless).
    pub weight: Vec<f64>,
}

impl Incoming {
    /// Transposes an outgoing table. Rows come out in ascending presynaptic order because
    /// the outgoing table is walked in that order (a counting sort, stable).
    pub fn from_outgoing(n: usize, s: &Synapses) -> Incoming {
        let mut row_ptr = vec![0u32; n + 1];
        for &t in &s.target {
            row_ptr[(t >> 1) as usize + 1] += 1;
        }
        for i in 0..n {
            row_ptr[i + 1] += row_ptr[i];
        }
        let mut fill = row_ptr.clone();
        let mut src = vec![0u32; s.len()];
        let mut weight = vec![0f64; s.len()];
        for pre in 0..n {
            for k in s.row_ptr[pre] as usize..s.row_ptr[pre + 1] as usize {
                let t = s.target[k];
                let at = &mut fill[(t >> 1) as usize];
                src[*at as usize] = 2 * pre as u32 + (t & 1);
                weight[*at as usize] = s.weight[k];
                *at += 1;
            }
        }
        Incoming {
            row_ptr,
            src,
            weight,
        }
    }
}

/// Chooses the fixed-point scale of the `i32` input accumulators: the largest power of
/// two (at most 2^24) for which the worst case `max_abs_input · scale` stays below
/// 2^31 − 1, so overflow is impossible, not merely unlikely.
pub fn choose_fixed_point(max_abs_input: f64) -> FixedPoint {
    let limit = (i32::MAX as f64) * 0.5; // margin for rounding of many weights up
    let mut exp = 24i32;
    while exp > -30 && max_abs_input * 2f64.powi(exp) > limit {
        exp -= 1;
    }
    FixedPoint {
        scale: 2f64.powi(exp),
    }
}
