//! What a network will cost, known before it is built: step count, synapse count and
//! host memory, estimated from the config alone and compared with the limits of the
//! simulator and the memory this machine has available. A network that cannot run
//! stops here, within a fraction of a second, with a message naming the key, the
//! estimate and the limit, instead of an allocation abort minutes into the build.

use crate::config::{Config, Connect, SynDist, SynSpec};
use crate::connectivity::MAX_DELAY_STEPS;
use crate::error::{Error, Result};

/// Most steps one run may take: the step index is a 32-bit integer on the GPU.
pub const MAX_STEPS: u64 = u32::MAX as u64;

/// Most synapses one network may have. Offsets into the synapse tables are 64-bit; this
/// bound (4 TiB of tables at 4 bytes per synapse) only keeps the arithmetic of the
/// estimate far from overflow.
pub const MAX_SYNAPSES: u64 = (1 << 40) - 1;

/// Host bytes per synapse of the projections' patterns (the post index), kept until the
/// backend's table is built (`galvani run` then frees them).
pub const PATTERN_BYTES: u64 = 4;

/// Host bytes per synapse of a backend's compact table (src/backend/cpu/synapses.rs)
/// when weights or delays vary per synapse: the word (4 B) and the weight (4 B in f32,
/// 8 B in f64: the estimate takes the larger), plus 4 B when delays do not fit the word.
pub const TABLE_BYTES: u64 = 12;

/// The same when every projection has a constant weight and delay: the word alone.
pub const TABLE_BYTES_CONSTANT: u64 = 4;

/// Host bytes per synapse of an HV network's incoming table (source 4 B, weight 8 B) and
/// its backend's copy (up to 12 B), on top of the pattern.
pub const HV_BYTES: u64 = 24;

/// Host bytes per neuron, all arrays together, generously: a LIF neuron in f64 holds
/// about 600 (the network's derived constants, 216 B, and the backend's copy, 216 B;
/// state 32 B and alpha state 16 B; the primary parameter columns, 88 B; initial
/// values; recording).
pub const BYTES_PER_NEURON: u64 = 768;

/// What a config will cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// Steps to simulate.
    pub steps: u64,
    /// Neurons.
    pub neurons: u64,
    /// Synapses (expected for random rules; an upper bound for files).
    pub synapses: u64,
    /// Largest delay (steps), from the constants and distributions of the config.
    pub max_delay_steps: u64,
    /// Host memory needed at the peak of the build (bytes).
    pub host_bytes: u64,
}

/// A number as a person writes it: plain when moderate, in e-notation when huge or tiny.
fn num(x: f64) -> String {
    if x != 0.0 && !(1e-4..1e7).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

fn gb(b: u64) -> String {
    format!("{:.1} GB", b as f64 / 1e9)
}

/// Bytes of memory available to a new allocation (Linux); `None` where unknown, and
/// then memory is not checked.
pub fn available_bytes() -> Option<u64> {
    crate::mem::available_bytes()
}

/// The largest value a spec is expected to draw: its bound, or for unbounded tails ten
/// standard deviations out (a draw beyond is a 1e-23 event).
fn spec_max(s: &SynSpec) -> f64 {
    let tail = match s.dist {
        SynDist::Const(x) => x,
        SynDist::Normal { mean, sd } => mean + 10.0 * sd,
        SynDist::Uniform { hi, .. } => hi,
        SynDist::Lognormal { mu, sigma } => (mu + 10.0 * sigma).exp(),
    };
    s.max.map_or(tail, |m| m.min(tail))
}

/// Rows of an edge file (lines after the header), counted without parsing.
fn count_rows(path: &std::path::Path) -> Option<u64> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).ok()?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut lines, mut last) = (0u64, b'\n');
    loop {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        lines += buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
        last = buf[n - 1];
    }
    if last != b'\n' {
        lines += 1;
    }
    Some(lines.saturating_sub(1))
}

/// Estimates the cost of a validated config run for `duration_ms` and checks it against
/// the limits and, where known, `available` bytes of memory.
#[allow(
    clippy::neg_cmp_op_on_partial_ord,
    reason = "!(x <= max) also rejects NaN"
)]
pub fn check(cfg: &Config, duration_ms: f64, available: Option<u64>) -> Result<Estimate> {
    let dt = cfg.dt_ms();
    let err = |m: String| Error::config(&cfg.path, m);
    let steps_f = (duration_ms / dt).round();
    if !(steps_f <= MAX_STEPS as f64) {
        return Err(err(format!(
            "simulation.duration_ms / dt_ms: {} ms in steps of {} ms is {} steps; at most {MAX_STEPS} (2^32 − 1) steps fit one run: lengthen dt_ms or shorten duration_ms",
            num(duration_ms),
            num(dt),
            num(steps_f)
        )));
    }
    let size =
        |name: &str| cfg.populations[cfg.population_index(name).expect("validated")].size as u64;
    let neurons: u64 = cfg.populations.iter().map(|p| p.size as u64).sum();
    let mut synapses = 0u64;
    let mut max_delay = 1u64;
    let mut largest = (0u64, 0usize);
    // whether every projection has one weight and one delay (the 4-byte table), and the
    // largest pattern built by post neuron and transposed (both copies exist a moment)
    let mut constant = true;
    let mut transposed = 0u64;
    for (i, pr) in cfg.projections.iter().enumerate() {
        let at = format!("projection[{i}] ({} -> {})", pr.pre, pr.post);
        let (a, b) = (size(&pr.pre), size(&pr.post));
        let pairs = a as f64 * b as f64;
        let n = match &pr.connect {
            Connect::FixedProbability { p, .. } => {
                // mean + 6 sd: the count exceeds it with probability < 1e-9
                let m = pairs * p;
                m + 6.0 * (m * (1.0 - p)).sqrt()
            }
            Connect::FixedIndegree { k, .. } => *k as f64 * b as f64,
            Connect::FixedOutdegree { k, .. } => *k as f64 * a as f64,
            Connect::FixedTotalNumber { n, .. } => *n as f64,
            Connect::OneToOne => a as f64,
            Connect::AllToAll { .. } => pairs,
            Connect::File { path } => count_rows(&cfg.resolve(path)).unwrap_or(0) as f64,
            Connect::Edges { pre, .. } => pre.len() as f64,
        }
        .ceil();
        if n > MAX_SYNAPSES as f64 {
            return Err(err(format!(
                "{at}.connect: {} on {a} × {b} neurons makes {n:.3e} synapses; at most {MAX_SYNAPSES} (2^40 − 1) fit one network",
                rule_name(&pr.connect)
            )));
        }
        let n = n as u64;
        let is_const = |s: &Option<SynSpec>| s.as_ref().is_none_or(|s| s.as_const().is_some());
        constant &= is_const(&pr.weight)
            && is_const(&pr.delay_ms)
            && !matches!(pr.connect, Connect::File { .. } | Connect::Edges { .. });
        if matches!(pr.connect, Connect::FixedIndegree { .. }) {
            transposed = transposed.max(n);
        }
        if n > largest.0 {
            largest = (n, i);
        }
        synapses += n;
        if synapses > MAX_SYNAPSES {
            return Err(err(format!(
                "{at}: with this projection the network has {synapses} synapses; at most {MAX_SYNAPSES} (2^40 − 1) fit one network"
            )));
        }
        if let Some(d) = &pr.delay_ms {
            let steps = (spec_max(d) / dt).round().max(1.0);
            if let (Some(c), true) = (d.as_const(), steps > MAX_DELAY_STEPS as f64) {
                return Err(err(format!(
                    "{at}.delay_ms: {} ms is {} steps of {} ms; at most {MAX_DELAY_STEPS} steps are supported (the delay ring holds one slot of every neuron's input per step of delay)",
                    num(c),
                    num(steps),
                    num(dt)
                )));
            }
            max_delay = max_delay.max(steps.min(MAX_DELAY_STEPS as f64) as u64);
        }
    }
    for s in &cfg.stimuli {
        if let crate::config::Stimulus::Poisson {
            delay_ms: Some(d), ..
        } = s
        {
            let steps = (d / dt).round();
            if steps > MAX_DELAY_STEPS as f64 {
                return Err(err(format!(
                    "stimulus delay_ms: {d} ms is {steps:e} steps; at most {MAX_DELAY_STEPS} steps are supported"
                )));
            }
            max_delay = max_delay.max(steps as u64);
        }
    }
    // the delay ring: (max delay + 1) slots of two accumulators per neuron, up to 8 B each
    let ring = (max_delay + 1) * 2 * neurons * 8;
    // the peak: the patterns and the backend's table (or, earlier, a pattern transposed)
    let per_synapse = PATTERN_BYTES
        + if cfg.model() == "hv" {
            HV_BYTES
        } else if constant {
            TABLE_BYTES_CONSTANT
        } else {
            TABLE_BYTES
        };
    let syn_bytes = (synapses * per_synapse).max(synapses * PATTERN_BYTES + transposed * 4);
    let host = syn_bytes + neurons * BYTES_PER_NEURON + ring;
    if let Some(avail) = available
        && host > avail
    {
        let what = if ring > syn_bytes {
            format!(
                "the delay ring ({} slots of {neurons} neurons' input: {}, set by the longest delay)",
                max_delay + 1,
                gb(ring)
            )
        } else {
            let pr = &cfg.projections[largest.1];
            format!(
                "{synapses} synapses at up to {per_synapse} B each while building (the largest, projection[{}] ({} -> {}), has {})",
                largest.1, pr.pre, pr.post, largest.0
            )
        };
        return Err(err(format!(
            "this network needs about {} of host memory to build, and {} is available: {what}. Make the network smaller",
            gb(host),
            gb(avail)
        )));
    }
    Ok(Estimate {
        steps: steps_f as u64,
        neurons,
        synapses,
        max_delay_steps: max_delay,
        host_bytes: host,
    })
}

fn rule_name(c: &Connect) -> &'static str {
    match c {
        Connect::FixedProbability { .. } => "fixed_probability",
        Connect::FixedIndegree { .. } => "fixed_indegree",
        Connect::FixedOutdegree { .. } => "fixed_outdegree",
        Connect::FixedTotalNumber { .. } => "fixed_total_number",
        Connect::OneToOne => "one_to_one",
        Connect::AllToAll { .. } => "all_to_all",
        Connect::File { .. } => "file",
        Connect::Edges { .. } => "edges",
    }
}
