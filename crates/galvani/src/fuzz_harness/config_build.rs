//! The `config_build` target. An input is TOML text, then optionally up to two CSV files, separated by NUL bytes:
//! `toml \0 a.csv \0 b.csv`. The CSVs are written next to the config as `a.csv` and
//! `b.csv`, so `connect = { rule = "file", path = "a.csv" }` and
//! `{ file = "b.csv", column = "v_mv" }` reach the edge and column readers.
//!
//! The network is built only when the config is small (see [`MAX_NEURONS`],
//! [`MAX_SYNAPSES`]) and names no file but those two: a valid config may ask for 10^9
//! synapses or name `/dev/zero`, and allocating or reading that is the config's meaning,
//! not a bug.

use std::path::PathBuf;

use crate::config::{self, Config, Connect, ValueSpec};
use crate::network::Network;

/// Largest network (neurons in all) the harness builds.
pub const MAX_NEURONS: f64 = 1e4;
/// Largest expected number of synapses (summed over projections) the harness builds.
pub const MAX_SYNAPSES: f64 = 2e5;
/// Largest delay, in steps, the harness builds (delays size ring buffers).
pub const MAX_DELAY_STEPS: f64 = 1e4;
/// Largest number of steps the harness builds (stimulus schedules are per step).
pub const MAX_STEPS: f64 = 1e6;

/// The CSV file names an input may fill.
const FILES: [&str; 2] = ["a.csv", "b.csv"];

/// Parses `data` as described in the module docs and builds the network when it is
/// small. Returns whether it was built. Errors are the expected outcome for most inputs
/// and are dropped; a panic, abort or hang is the bug a fuzzer reports.
pub fn fuzz_config_build(data: &[u8]) -> bool {
    let mut parts = data.splitn(3, |&b| b == 0);
    let Ok(toml) = std::str::from_utf8(parts.next().unwrap_or_default()) else {
        return false;
    };
    let dir = scratch_dir();
    for name in FILES {
        let p = dir.join(name);
        match parts.next() {
            Some(csv) => std::fs::write(&p, csv).expect("scratch dir is writable"),
            // A file left over from the previous input must not leak into this one.
            None => {
                let _ = std::fs::remove_file(&p);
            }
        }
    }
    let Ok(cfg) = config::parse(toml, &dir.join("fuzz.toml")) else {
        return false;
    };
    if !small_enough(&cfg) {
        return false;
    }
    Network::build(&cfg, None, None).is_ok()
}

/// A folder of this process and thread (libFuzzer runs one input at a time per thread;
/// `cargo test` runs tests on several).
fn scratch_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "galvani-fuzz-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&d).expect("temp dir is writable");
    d
}

/// A cheap upper estimate of what building `cfg` allocates, checked against the limits
/// above, and the rule that only the input's own files are read.
#[allow(
    clippy::neg_cmp_op_on_partial_ord,
    reason = "!(x <= max) also rejects NaN"
)]
fn small_enough(cfg: &Config) -> bool {
    let size = |name: &str| {
        cfg.populations
            .iter()
            .find(|p| p.name == name)
            .map_or(0.0, |p| p.size as f64)
    };
    let neurons: f64 = cfg.populations.iter().map(|p| p.size as f64).sum();
    if !(neurons <= MAX_NEURONS) {
        return false;
    }
    let dt = cfg.dt_ms();
    if !(cfg.simulation.duration_ms / dt <= MAX_STEPS) {
        return false;
    }
    let own_file = |f: &str| FILES.contains(&f);
    for p in &cfg.populations {
        for v in p.params.values().chain(p.init.values()) {
            if let ValueSpec::File { file, .. } = v
                && !own_file(file)
            {
                return false;
            }
        }
    }
    let mut synapses = 0.0;
    for pr in &cfg.projections {
        let (pre, post) = (size(&pr.pre), size(&pr.post));
        synapses += match &pr.connect {
            Connect::FixedProbability { p, .. } => p * pre * post,
            Connect::FixedIndegree { k, .. } => *k as f64 * post,
            Connect::FixedOutdegree { k, .. } => *k as f64 * pre,
            Connect::FixedTotalNumber { n, .. } => *n as f64,
            Connect::OneToOne => pre,
            Connect::AllToAll { .. } => pre * post,
            // An edge file holds at most a line per synapse, and the input is short.
            Connect::File { path } if own_file(path) => 0.0,
            Connect::File { .. } => return false,
            Connect::Edges { pre, .. } => pre.len() as f64,
        };
        if let Some(d) = &pr.delay_ms {
            match d.support() {
                Some((_, hi)) if hi / dt <= MAX_DELAY_STEPS => {}
                _ => return false,
            }
        }
    }
    for s in &cfg.stimuli {
        if let config::Stimulus::Poisson {
            delay_ms: Some(d), ..
        } = s
            && !(d / dt <= MAX_DELAY_STEPS)
        {
            return false;
        }
    }
    synapses <= MAX_SYNAPSES
}
