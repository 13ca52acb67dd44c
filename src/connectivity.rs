//! Synaptic connectivity: one [`ProjectionMatrix`] per projection, merged into one
//! outgoing (CSR, by presynaptic neuron) synapse table for the whole network.
//!
//! A rule yields a [`Pattern`]: which (pre, post) pairs are connected, CSR by
//! presynaptic neuron. The rules that connect a pair at most once (`fixed_probability`,
//! `all_to_all`, `one_to_one`) build it as an `sprs` matrix, which checks that the rows
//! are sorted and free of repeats. The rules with multapses (`fixed_indegree`,
//! `fixed_outdegree`, `fixed_total_number` with `multapses = true`, and edge files)
//! list a pair once per connection: a multapse is two synapses, each with its own
//! weight and delay, counted twice, as in NEST.
//!
//! Every random choice draws from a ChaCha8 stream keyed by the seed and a tag: the
//! pattern by (seed, projection), each row's weights and delays by (seed, projection,
//! presynaptic neuron), so the network is reproducible, the same on every backend, and
//! a row's values do not depend on how the rows are divided among workers.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Normal};
use sprs::CsMatI;

use crate::config::{SynDist, SynSpec};
use crate::real::FixedPoint;

/// Receptor index: AMPA.
pub const AMPA: u32 = 0;
/// Receptor index: GABA-A.
pub const GABA_A: u32 = 1;

/// Which pairs of one projection are connected: CSR by presynaptic neuron
/// (population-local indices). A row's targets ascend; a pair connected k times
/// appears k times in a row (multapses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// Presynaptic neurons.
    pub n_pre: usize,
    /// Postsynaptic neurons.
    pub n_post: usize,
    /// Row start per presynaptic neuron (length `n_pre + 1`).
    pub indptr: Vec<usize>,
    /// Postsynaptic index per synapse.
    pub indices: Vec<u32>,
}

impl Pattern {
    /// Number of synapses (connections, multapses counted).
    pub fn len(&self) -> usize {
        self.indices.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }
    /// The targets of presynaptic neuron `i`.
    pub fn row(&self, i: usize) -> &[u32] {
        &self.indices[self.indptr[i]..self.indptr[i + 1]]
    }
    /// Every synapse as (pre, post), row by row.
    pub fn pairs(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        (0..self.n_pre).flat_map(move |i| self.row(i).iter().map(move |&j| (i as u32, j)))
    }
    /// Whether some pair is connected more than once.
    pub fn has_multapses(&self) -> bool {
        (0..self.n_pre).any(|i| self.row(i).windows(2).any(|w| w[0] == w[1]))
    }

    /// A pattern of at most one synapse per pair, checked by `sprs` (sorted, unique,
    /// in range).
    fn set(n_pre: usize, n_post: usize, indptr: Vec<usize>, indices: Vec<u32>) -> Pattern {
        let data = vec![(); indices.len()];
        let m = CsMatI::<(), u32, usize>::try_new((n_pre, n_post), indptr, indices, data)
            .expect("rows are sorted, unique and in range by construction");
        let (indptr, indices, _) = m.into_raw_storage();
        Pattern {
            n_pre,
            n_post,
            indptr,
            indices,
        }
    }

    /// A pattern from (pre, post) pairs in any order: a counting sort by pre (stable),
    /// then each row sorted. Repeated pairs stay (multapses).
    pub fn from_pairs(n_pre: usize, n_post: usize, pairs: &[(u32, u32)]) -> Pattern {
        let mut indptr = vec![0usize; n_pre + 1];
        for &(i, _) in pairs {
            indptr[i as usize + 1] += 1;
        }
        for i in 0..n_pre {
            indptr[i + 1] += indptr[i];
        }
        let mut fill = indptr.clone();
        let mut indices = vec![0u32; pairs.len()];
        for &(i, j) in pairs {
            indices[fill[i as usize]] = j;
            fill[i as usize] += 1;
        }
        for i in 0..n_pre {
            indices[indptr[i]..indptr[i + 1]].sort_unstable();
        }
        Pattern {
            n_pre,
            n_post,
            indptr,
            indices,
        }
    }

    /// The pattern whose rows are this one's columns (pre and post swapped); each new
    /// row comes out ascending because the old rows are walked in order.
    pub fn transpose(&self) -> Pattern {
        let mut indptr = vec![0usize; self.n_post + 1];
        for &j in &self.indices {
            indptr[j as usize + 1] += 1;
        }
        for j in 0..self.n_post {
            indptr[j + 1] += indptr[j];
        }
        let mut fill = indptr.clone();
        let mut indices = vec![0u32; self.len()];
        for i in 0..self.n_pre {
            for &j in self.row(i) {
                indices[fill[j as usize]] = i as u32;
                fill[j as usize] += 1;
            }
        }
        Pattern {
            n_pre: self.n_post,
            n_post: self.n_pre,
            indptr,
            indices,
        }
    }
}

/// Where the weights (or delays) of a projection's synapses come from.
#[derive(Debug, Clone, PartialEq)]
pub enum PerSynapse<T> {
    /// The same for all.
    Uniform(T),
    /// One per synapse, aligned with the pattern's indices (an edge file's column).
    Each(Vec<T>),
    /// Drawn from a distribution when the network's table is filled, row `i` from the
    /// stream (seed, `tag`…, i): the values exist once, in the final table, and a row's
    /// values do not depend on the other rows.
    Drawn {
        /// What to draw.
        spec: SynSpec,
        /// Stream key (after the seed), the row is appended.
        tag: [u64; 2],
    },
}

impl<T: Copy> PerSynapse<T> {
    /// Appends the values of row `i` (synapses `range` of the pattern) to `out`,
    /// drawing where needed and mapping each draw by `map` (`Uniform` and `Each` values
    /// are already mapped).
    pub fn row(
        &self,
        i: usize,
        range: std::ops::Range<usize>,
        seed: u64,
        map: &impl Fn(f64) -> Result<T, String>,
        out: &mut Vec<T>,
    ) -> Result<(), String> {
        match self {
            PerSynapse::Uniform(x) => out.extend(std::iter::repeat_n(*x, range.len())),
            PerSynapse::Each(v) => out.extend_from_slice(&v[range]),
            PerSynapse::Drawn { spec, tag } => {
                if range.is_empty() {
                    return Ok(());
                }
                let sampler = Sampler::new(spec);
                let mut rng = stream(seed, &[tag[0], tag[1], i as u64]);
                for _ in range {
                    out.push(map(sampler.draw(&mut rng)?)?);
                }
            }
        }
        Ok(())
    }
}

/// Largest delay in steps (the delay ring holds `max + 1` slots of every neuron's input).
pub const MAX_DELAY_STEPS: u32 = 1 << 20;

/// A delay in ms as whole steps: rounded, at least one, at most [`MAX_DELAY_STEPS`].
#[allow(
    clippy::neg_cmp_op_on_partial_ord,
    reason = "!(x <= max) also rejects NaN"
)]
pub fn delay_steps(ms: f64, dt: f64) -> Result<u32, String> {
    let steps = (ms / dt).round().max(1.0);
    if !(steps <= MAX_DELAY_STEPS as f64) {
        return Err(format!(
            "a delay of {ms} ms is {steps} steps of {dt} ms; at most {MAX_DELAY_STEPS} steps are supported"
        ));
    }
    Ok(steps as u32)
}

/// The connectivity of one projection.
#[derive(Debug, Clone)]
pub struct ProjectionMatrix {
    /// Presynaptic population index.
    pub pre: usize,
    /// Postsynaptic population index.
    pub post: usize,
    /// [`AMPA`] or [`GABA_A`].
    pub receptor: u32,
    /// Which pairs are connected (population-local indices).
    pub pattern: Pattern,
    /// Weight per synapse (spec units).
    pub weights: PerSynapse<f64>,
    /// Delay per synapse: steps (`Uniform`, `Each`) or ms (`Drawn`, rounded to steps).
    pub delays: PerSynapse<u32>,
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

/// Consecutive rejected draws after which a bounded distribution is declared
/// impossible to satisfy (the bounds hold a probability below about 10^-3).
pub const MAX_REDRAWS: u32 = 10_000;

/// Draws from a [`SynSpec`], redrawing outside its bounds.
pub struct Sampler {
    spec: SynSpec,
    normal: Option<Normal<f64>>,
    lognormal: Option<LogNormal<f64>>,
}

impl Sampler {
    /// A sampler for a checked spec.
    pub fn new(spec: &SynSpec) -> Sampler {
        Sampler {
            spec: *spec,
            normal: match spec.dist {
                SynDist::Normal { mean, sd } => Some(Normal::new(mean, sd).expect("sd >= 0")),
                _ => None,
            },
            lognormal: match spec.dist {
                SynDist::Lognormal { mu, sigma } => {
                    Some(LogNormal::new(mu, sigma).expect("sigma >= 0"))
                }
                _ => None,
            },
        }
    }

    /// One value inside the bounds, or an error after [`MAX_REDRAWS`] rejections in a row.
    pub fn draw(&self, rng: &mut ChaCha8Rng) -> Result<f64, String> {
        let (lo, hi) = (
            self.spec.min.unwrap_or(f64::NEG_INFINITY),
            self.spec.max.unwrap_or(f64::INFINITY),
        );
        for _ in 0..MAX_REDRAWS {
            let x = match self.spec.dist {
                SynDist::Const(x) => x,
                SynDist::Normal { .. } => self.normal.as_ref().unwrap().sample(rng),
                SynDist::Uniform { lo, hi } if lo == hi => lo,
                SynDist::Uniform { lo, hi } => rng.random_range(lo..hi),
                SynDist::Lognormal { .. } => self.lognormal.as_ref().unwrap().sample(rng),
            };
            if x >= lo && x <= hi {
                return Ok(x);
            }
        }
        Err(format!(
            "{MAX_REDRAWS} draws in a row fell outside [{lo}, {hi}]: the bounds hold almost none of the distribution"
        ))
    }
}

/// `fixed_probability`: every pair independently with probability `p` (geometric skips,
/// so the cost is proportional to the synapses drawn, not to n_pre·n_post).
pub fn fixed_probability(
    n_pre: usize,
    n_post: usize,
    p: f64,
    no_autapse: bool,
    rng: &mut ChaCha8Rng,
) -> Pattern {
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
    Pattern::set(n_pre, n_post, indptr, indices)
}

/// Draws `k` distinct values of `0..n` other than `skip`, ascending (`k` ≤ the count
/// of candidates, checked by the caller).
fn distinct(n: usize, k: usize, skip: Option<usize>, rng: &mut ChaCha8Rng) -> Vec<u32> {
    let avail = n - skip.is_some() as usize;
    let mut v: Vec<u32> = rand::seq::index::sample(rng, avail, k)
        .into_iter()
        .map(|x| match skip {
            Some(s) if x >= s => x as u32 + 1,
            _ => x as u32,
        })
        .collect();
    v.sort_unstable();
    v
}

/// Checks that `k` distinct partners can be found among `n` (one fewer without
/// autapses) for a rule with `multapses = false`.
fn check_distinct(rule: &str, k: usize, n: usize, no_autapse: bool) -> Result<(), String> {
    let avail = n - no_autapse as usize;
    if k > avail {
        return Err(format!(
            "{rule} with multapses = false needs k <= {avail} (the distinct {} available), got k = {k}",
            if no_autapse {
                "partners other than the neuron itself"
            } else {
                "partners"
            }
        ));
    }
    Ok(())
}

/// The shared core of the degree rules: each of `rows` neurons draws `k` partners
/// among `cols` uniformly (with replacement unless `!multapses`; never itself when
/// `no_autapse`), each row sorted. `rule` and `side` name the rule and the partners in
/// errors.
#[allow(clippy::too_many_arguments)]
fn degree_rows(
    rule: &str,
    side: &str,
    rows: usize,
    cols: usize,
    k: usize,
    no_autapse: bool,
    multapses: bool,
    rng: &mut ChaCha8Rng,
) -> Result<Pattern, String> {
    if no_autapse && cols == 1 && k > 0 {
        return Err(format!(
            "{rule} without autapses needs at least two {side} neurons"
        ));
    }
    if !multapses {
        check_distinct(rule, k, cols, no_autapse)?;
    }
    let mut indptr = Vec::with_capacity(rows + 1);
    let mut indices: Vec<u32> = Vec::with_capacity(rows * k);
    indptr.push(0);
    for r in 0..rows {
        let at = indices.len();
        if multapses {
            while indices.len() - at < k {
                let c = rng.random_range(0..cols as u32);
                if no_autapse && c as usize == r {
                    continue;
                }
                indices.push(c);
            }
            indices[at..].sort_unstable();
        } else {
            indices.extend(distinct(cols, k, no_autapse.then_some(r), rng));
        }
        indptr.push(indices.len());
    }
    Ok(Pattern {
        n_pre: rows,
        n_post: cols,
        indptr,
        indices,
    })
}

/// `fixed_indegree`: each post neuron draws `k` sources uniformly, with replacement
/// unless `!multapses` (NEST's `fixed_indegree`).
pub fn fixed_indegree(
    n_pre: usize,
    n_post: usize,
    k: usize,
    no_autapse: bool,
    multapses: bool,
    rng: &mut ChaCha8Rng,
) -> Result<Pattern, String> {
    // drawn by post neuron (column-major), then turned into rows by pre neuron
    let by_post = degree_rows(
        "fixed_indegree",
        "presynaptic",
        n_post,
        n_pre,
        k,
        no_autapse,
        multapses,
        rng,
    )?;
    Ok(by_post.transpose())
}

/// `fixed_outdegree`: each pre neuron draws `k` targets uniformly, with replacement
/// unless `!multapses` (NEST's `fixed_outdegree`).
pub fn fixed_outdegree(
    n_pre: usize,
    n_post: usize,
    k: usize,
    no_autapse: bool,
    multapses: bool,
    rng: &mut ChaCha8Rng,
) -> Result<Pattern, String> {
    degree_rows(
        "fixed_outdegree",
        "postsynaptic",
        n_pre,
        n_post,
        k,
        no_autapse,
        multapses,
        rng,
    )
}

/// `fixed_total_number`: `n` connections, the source and the target of each drawn
/// uniformly (NEST's `fixed_total_number`); with `!multapses` no pair twice.
pub fn fixed_total_number(
    n_pre: usize,
    n_post: usize,
    n: usize,
    no_autapse: bool,
    multapses: bool,
    rng: &mut ChaCha8Rng,
) -> Result<Pattern, String> {
    let pairs_avail = (n_pre as u128) * (n_post as u128)
        - if no_autapse {
            n_pre.min(n_post) as u128
        } else {
            0
        };
    if n > 0 && pairs_avail == 0 {
        return Err("fixed_total_number: no pair of neurons can be connected".into());
    }
    if !multapses && n as u128 > pairs_avail {
        return Err(format!(
            "fixed_total_number with multapses = false needs n <= {pairs_avail} (the distinct pairs available), got n = {n}"
        ));
    }
    let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(n);
    let mut seen = std::collections::HashSet::new();
    while pairs.len() < n {
        let i = rng.random_range(0..n_pre as u32);
        let j = rng.random_range(0..n_post as u32);
        if no_autapse && i == j {
            continue;
        }
        if !multapses && !seen.insert(((i as u64) << 32) | j as u64) {
            continue;
        }
        pairs.push((i, j));
    }
    drop(seen);
    Ok(Pattern::from_pairs(n_pre, n_post, &pairs))
}

/// `one_to_one`: i → i.
pub fn one_to_one(n: usize) -> Pattern {
    Pattern::set(n, n, (0..=n).collect(), (0..n as u32).collect())
}

/// `all_to_all`: every pair (i → i only if `autapses` or the populations differ).
pub fn all_to_all(n_pre: usize, n_post: usize, no_autapse: bool) -> Pattern {
    let mut indptr = vec![0];
    let mut indices = Vec::with_capacity(n_pre * n_post);
    for i in 0..n_pre {
        indices.extend((0..n_post as u32).filter(|&j| !(no_autapse && j as usize == i)));
        indptr.push(indices.len());
    }
    Pattern::set(n_pre, n_post, indptr, indices)
}

/// An edge read from a file: (pre, post, weight if the file has a column, delay in
/// steps if the file has a column).
pub type Edge = (u32, u32, Option<f64>, Option<u32>);

/// An edge list as a pattern with the file's per-synapse weights and delays (where
/// the file has them). Every row is a synapse: a pair listed twice is a multapse,
/// with its own weight and delay. Within a pair the file's order is kept.
pub fn from_edges(
    n_pre: usize,
    n_post: usize,
    mut edges: Vec<Edge>,
) -> (Pattern, Option<Vec<f64>>, Option<Vec<u32>>) {
    edges.sort_by_key(|e| (e.0, e.1)); // stable
    let mut indptr = vec![0usize; n_pre + 1];
    for e in &edges {
        indptr[e.0 as usize + 1] += 1;
    }
    for i in 0..n_pre {
        indptr[i + 1] += indptr[i];
    }
    let has_w = edges.first().is_some_and(|e| e.2.is_some());
    let has_d = edges.first().is_some_and(|e| e.3.is_some());
    let weights = has_w.then(|| edges.iter().map(|e| e.2.unwrap()).collect());
    let delays = has_d.then(|| edges.iter().map(|e| e.3.unwrap()).collect());
    let indices = edges.iter().map(|e| e.1).collect();
    (
        Pattern {
            n_pre,
            n_post,
            indptr,
            indices,
        },
        weights,
        delays,
    )
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
    /// Connections drawn (multapses counted separately; every one is stored).
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
    ///
    /// Drawn weights and delays are drawn here, row by row, straight into the table
    /// (`seed` keys their streams, `dt` rounds drawn delays to steps); an error names
    /// the projection by its index.
    pub fn build(
        n: usize,
        offsets: &[usize],
        projections: &[ProjectionMatrix],
        seed: u64,
        dt: f64,
    ) -> Result<Synapses, (usize, String)> {
        let total: usize = projections.iter().map(|p| p.pattern.len()).sum();
        if total > u32::MAX as usize {
            return Err((
                projections.len().saturating_sub(1),
                format!("{total} synapses exceed the 2^32 − 1 that one synapse table indexes"),
            ));
        }
        let mut counts = vec![0u32; n + 1];
        for p in projections {
            let off = offsets[p.pre];
            for i in 0..p.pattern.n_pre {
                counts[off + i + 1] += (p.pattern.indptr[i + 1] - p.pattern.indptr[i]) as u32;
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
        let (mut ws, mut ds) = (Vec::new(), Vec::new());
        let to_steps = |ms: f64| delay_steps(ms, dt);
        for (pi, p) in projections.iter().enumerate() {
            let (pre_off, post_off) = (offsets[p.pre], offsets[p.post]);
            for i in 0..p.pattern.n_pre {
                let range = p.pattern.indptr[i]..p.pattern.indptr[i + 1];
                ws.clear();
                ds.clear();
                p.weights
                    .row(i, range.clone(), seed, &Ok, &mut ws)
                    .map_err(|e| (pi, format!("weight: {e}")))?;
                p.delays
                    .row(i, range.clone(), seed, &to_steps, &mut ds)
                    .map_err(|e| (pi, format!("delay_ms: {e}")))?;
                let g = pre_off + i;
                for (k, &j) in p.pattern.indices[range].iter().enumerate() {
                    let at = fill[g] as usize;
                    target[at] = 2 * (post_off + j as usize) as u32 + p.receptor;
                    weight[at] = ws[k];
                    delay[at] = ds[k];
                    max_delay = max_delay.max(ds[k]);
                    fill[g] += 1;
                }
            }
        }
        Ok(Synapses {
            row_ptr,
            target,
            weight,
            delay,
            max_delay,
            drawn: total as u64,
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
