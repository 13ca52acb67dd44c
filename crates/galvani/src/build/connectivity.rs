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

/// The outgoing synapses of every neuron of the network, kept as what was *decided*
/// rather than as one merged table: each projection's [`Pattern`] (4 bytes per synapse)
/// and the rule of its weights and delays. Drawn values are drawn again whenever a
/// table is filled, row by row from their (seed, projection, row) streams, so they are
/// identical every time and no f64 copy of the whole network's weights ever exists.
///
/// Row `pre` (global presynaptic id) is the concatenation of the rows of the projections
/// whose presynaptic population holds `pre`, in config order, post neurons ascending
/// within each: [`Synapses::row`] yields it with `target = 2·post_global + receptor`.
/// Offsets are `usize`: nothing overflows at 2^32 synapses.
#[derive(Debug, Clone, Default)]
pub struct Synapses {
    /// The projections in config order (patterns and value rules).
    pub projections: Vec<ProjectionMatrix>,
    /// Each population's first global id.
    pub offsets: Vec<usize>,
    /// Per population, the projections that leave it (indices, config order).
    by_pre: Vec<Vec<usize>>,
    /// The run seed (keys the streams of drawn values).
    pub seed: u64,
    /// Time step (ms), for rounding drawn delays to steps.
    pub dt: f64,
    /// The largest delay (steps).
    pub max_delay: u32,
    /// Connections drawn (multapses counted separately; every one is stored).
    pub drawn: u64,
    /// Number of synapses (kept by [`Synapses::release`]).
    pub stored: usize,
}

/// One row of [`Synapses`], in reused buffers: the synapses of one presynaptic neuron.
#[derive(Debug, Default)]
pub struct Row {
    /// `2·post_global + receptor` per synapse.
    pub target: Vec<u32>,
    /// Weight per synapse (spec units).
    pub weight: Vec<f64>,
    /// Delay per synapse (steps, ≥ 1).
    pub delay: Vec<u32>,
    /// Per synapse, the index of its projection.
    pub projection: Vec<u32>,
}

/// Every synapse of a network in one merged CSR table ([`Synapses::table`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// Row start per presynaptic neuron (length n + 1).
    pub row_ptr: Vec<usize>,
    /// `2·post + receptor` per synapse.
    pub target: Vec<u32>,
    /// Weight per synapse (spec units).
    pub weight: Vec<f64>,
    /// Delay per synapse (steps).
    pub delay: Vec<u32>,
}

/// Per-projection constants: `Some((weight, delay in steps))` when every synapse of the
/// projection has the same weight and delay.
pub type Constant = Option<(f64, u32)>;

impl Synapses {
    /// Number of synapses.
    pub fn len(&self) -> usize {
        self.stored
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.stored == 0
    }
    /// Frees the patterns once a backend holds its own table (a large network's
    /// synapses then exist once in host memory, not twice); counts stay.
    pub fn release(&mut self) {
        self.projections = Vec::new();
        self.by_pre.iter_mut().for_each(Vec::clear);
    }
    /// Frees the rows of every presynaptic neuron from `pre` on (the patterns' tails, and
    /// the per-synapse values of edge files with them), returning their memory; rows
    /// before `pre` stay readable. A table filled from the last row to the first calls
    /// this behind it, so patterns and tables never both exist whole.
    /// [`Synapses::release`] must follow before anything else reads the synapses.
    pub fn free_rows_from(&mut self, pre: usize) {
        for p in &mut self.projections {
            let off = self.offsets[p.pre];
            let keep_rows = pre.saturating_sub(off).min(p.pattern.n_pre);
            let keep = p.pattern.indptr[keep_rows];
            if keep < p.pattern.indices.len() {
                p.pattern.indices.truncate(keep);
                p.pattern.indices.shrink_to_fit();
                if let PerSynapse::Each(v) = &mut p.weights {
                    v.truncate(keep);
                    v.shrink_to_fit();
                }
                if let PerSynapse::Each(v) = &mut p.delays {
                    v.truncate(keep);
                    v.shrink_to_fit();
                }
            }
        }
    }

    /// Whether [`Synapses::release`] freed the patterns.
    pub fn released(&self) -> bool {
        self.projections.is_empty() && self.stored > 0
    }

    /// Takes the projections of a network; `offsets[p]` is population p's first global
    /// id. Nothing is drawn here: [`Synapses::scan`] draws every value once, checks them
    /// and finds the largest delay.
    pub fn new(
        offsets: &[usize],
        projections: Vec<ProjectionMatrix>,
        seed: u64,
        dt: f64,
    ) -> Synapses {
        let total: usize = projections.iter().map(|p| p.pattern.len()).sum();
        let mut by_pre = vec![Vec::new(); offsets.len()];
        for (i, p) in projections.iter().enumerate() {
            by_pre[p.pre].push(i);
        }
        Synapses {
            projections,
            offsets: offsets.to_vec(),
            by_pre,
            seed,
            dt,
            max_delay: 1,
            drawn: total as u64,
            stored: total,
        }
    }

    /// The population holding global neuron `g`.
    fn population_of(&self, g: usize) -> usize {
        self.offsets.partition_point(|&o| o <= g) - 1
    }

    /// The projections leaving global neuron `pre`, with its local index in them.
    fn leaving(&self, pre: usize) -> (&[usize], usize) {
        if self.offsets.is_empty() {
            return (&[], 0);
        }
        let p = self.population_of(pre);
        (&self.by_pre[p], pre - self.offsets[p])
    }

    /// Calls `f(target)` for each synapse of row `pre`, in row order (nothing drawn).
    pub fn row_targets(&self, pre: usize, mut f: impl FnMut(u32)) {
        let (projs, i) = self.leaving(pre);
        for &k in projs {
            let p = &self.projections[k];
            let base = 2 * self.offsets[p.post] as u32 + p.receptor;
            for &j in p.pattern.row(i) {
                f(base + 2 * j);
            }
        }
    }

    /// Fills `row` with row `pre`: targets, weights, delays (drawn where the rule
    /// draws them) and projections. An error names the projection by its index.
    pub fn row(&self, pre: usize, row: &mut Row) -> Result<(), (usize, String)> {
        row.target.clear();
        row.weight.clear();
        row.delay.clear();
        row.projection.clear();
        let (projs, i) = self.leaving(pre);
        let to_steps = |ms: f64| delay_steps(ms, self.dt);
        for &k in projs {
            let p = &self.projections[k];
            let range = p.pattern.indptr[i]..p.pattern.indptr[i + 1];
            let base = 2 * self.offsets[p.post] as u32 + p.receptor;
            row.target.extend(
                p.pattern.indices[range.clone()]
                    .iter()
                    .map(|&j| base + 2 * j),
            );
            row.projection
                .extend(std::iter::repeat_n(k as u32, range.len()));
            p.weights
                .row(i, range.clone(), self.seed, &Ok, &mut row.weight)
                .map_err(|e| (k, format!("weight: {e}")))?;
            p.delays
                .row(i, range, self.seed, &to_steps, &mut row.delay)
                .map_err(|e| (k, format!("delay_ms: {e}")))?;
        }
        Ok(())
    }

    /// Calls `f(pre, row)` for every row of `pres`, in order.
    pub fn for_each_row(
        &self,
        pres: std::ops::Range<usize>,
        mut f: impl FnMut(usize, &Row),
    ) -> Result<(), (usize, String)> {
        let mut row = Row::default();
        for pre in pres {
            self.row(pre, &mut row)?;
            f(pre, &row);
        }
        Ok(())
    }

    /// The whole network's rows merged into one table, every value drawn: what a backend's
    /// table holds, in f64. For tests and small networks (16 bytes per synapse).
    pub fn table(&self, n: usize) -> Result<Table, (usize, String)> {
        let mut t = Table {
            row_ptr: vec![0],
            ..Table::default()
        };
        self.for_each_row(0..n, |_, row| {
            t.target.extend_from_slice(&row.target);
            t.weight.extend_from_slice(&row.weight);
            t.delay.extend_from_slice(&row.delay);
            t.row_ptr.push(t.target.len());
        })?;
        Ok(t)
    }

    /// Per projection, its weight and delay when they are the same for every synapse.
    pub fn constants(&self) -> Vec<Constant> {
        self.projections
            .iter()
            .map(|p| {
                let w = match &p.weights {
                    PerSynapse::Uniform(w) => *w,
                    PerSynapse::Drawn { spec, .. } => spec.as_const()?,
                    PerSynapse::Each(_) => return None,
                };
                let d = match &p.delays {
                    PerSynapse::Uniform(d) => *d,
                    PerSynapse::Drawn { spec, .. } => {
                        delay_steps(spec.as_const()?, self.dt).ok()?
                    }
                    PerSynapse::Each(_) => return None,
                };
                Some((w, d))
            })
            .collect()
    }

    /// Draws every value once, in row order: checks them (an error names the projection
    /// by its index), sets [`Synapses::max_delay`] and returns, per accumulator
    /// (2·neuron + receptor, `n` neurons), the total |weight| that can arrive in one
    /// step, every incoming synapse at once (summed in row order, so the same on every
    /// machine).
    pub fn scan(&mut self, n: usize) -> Result<Vec<f64>, (usize, String)> {
        let mut sum = vec![0f64; 2 * n];
        let mut max_delay = 1;
        self.for_each_row(0..n, |_, row| {
            for (&t, &w) in row.target.iter().zip(&row.weight) {
                sum[t as usize] += w.abs();
            }
            max_delay = row.delay.iter().copied().fold(max_delay, u32::max);
        })?;
        self.max_delay = max_delay;
        Ok(sum)
    }

    /// Feeds what identifies the synapses to a hash: every pattern and value rule
    /// (drawn values are functions of these and the seed), without drawing anything.
    pub fn hash_into(&self, h: &mut crc32fast::Hasher) {
        h.update(&(self.stored as u64).to_le_bytes());
        for p in &self.projections {
            for x in [p.pre as u64, p.post as u64, p.receptor as u64] {
                h.update(&x.to_le_bytes());
            }
            h.update(bytemuck::cast_slice(
                &p.pattern
                    .indptr
                    .iter()
                    .map(|&x| x as u64)
                    .collect::<Vec<_>>(),
            ));
            h.update(bytemuck::cast_slice(&p.pattern.indices));
            match &p.weights {
                PerSynapse::Each(v) => h.update(bytemuck::cast_slice(v)),
                rule => h.update(format!("{rule:?}|").as_bytes()),
            }
            match &p.delays {
                PerSynapse::Each(v) => h.update(bytemuck::cast_slice(v)),
                rule => h.update(format!("{rule:?}|").as_bytes()),
            }
        }
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
    /// Transposes the outgoing rows. Rows come out in ascending presynaptic order because
    /// the outgoing rows are walked in that order (a counting sort, stable).
    pub fn from_outgoing(n: usize, s: &Synapses) -> Result<Incoming, (usize, String)> {
        if s.len() > u32::MAX as usize {
            return Err((
                s.projections.len().saturating_sub(1),
                format!(
                    "{} synapses exceed the 2^32 − 1 that an HV network's incoming table indexes",
                    s.len()
                ),
            ));
        }
        let mut row_ptr = vec![0u32; n + 1];
        for pre in 0..n {
            s.row_targets(pre, |t| row_ptr[(t >> 1) as usize + 1] += 1);
        }
        for i in 0..n {
            row_ptr[i + 1] += row_ptr[i];
        }
        let mut fill = row_ptr.clone();
        let mut src = vec![0u32; s.len()];
        let mut weight = vec![0f64; s.len()];
        s.for_each_row(0..n, |pre, row| {
            for (&t, &w) in row.target.iter().zip(&row.weight) {
                let at = &mut fill[(t >> 1) as usize];
                src[*at as usize] = 2 * pre as u32 + (t & 1);
                weight[*at as usize] = w;
                *at += 1;
            }
        })?;
        Ok(Incoming {
            row_ptr,
            src,
            weight,
        })
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
