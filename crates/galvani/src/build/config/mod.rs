//! TOML network configs: parsing, validation and defaults.
//!
//! [`load`] reads a file into a [`Config`]; every mistake becomes an [`Error::Config`]
//! naming the file, the key (or line) and what was expected. Values that may differ
//! per neuron are [`ValueSpec`]s, resolved by [`crate::network`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

mod populations;
mod projections;
mod record;
mod stimuli;

/// A whole config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[simulation]`.
    pub simulation: Simulation,
    /// `[[population]]` tables, in order.
    #[serde(rename = "population", default)]
    pub populations: Vec<Population>,
    /// `[[projection]]` tables.
    #[serde(rename = "projection", default)]
    pub projections: Vec<Projection>,
    /// `[record]`.
    #[serde(default)]
    pub record: Record,
    /// `[[stimulus]]` tables: external drive.
    #[serde(rename = "stimulus", default)]
    pub stimuli: Vec<Stimulus>,
    /// Where the config was read from; relative paths inside it resolve against its folder.
    #[serde(skip)]
    pub path: PathBuf,
}

/// `[simulation]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Simulation {
    /// Time step (ms). Default 0.1 for LIF networks, 1/70 for HV networks.
    pub dt_ms: Option<f64>,
    /// Simulated time (ms).
    pub duration_ms: f64,
    /// Seed of every random choice (connectivity, initial values). Default 1234.
    pub seed: Option<u64>,
    /// Threads of the CPU backend (`--threads` overrides it). Default: every core. The
    /// results do not depend on it.
    pub threads: Option<u64>,
}

/// A parameter or initial value: one number for all neurons, or a per-neuron source.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueSpec {
    /// The same value for every neuron.
    Const(f64),
    /// `{ uniform = [a, b] }`: independent draws in [a, b).
    Uniform {
        /// bounds
        uniform: [f64; 2],
    },
    /// `{ normal = [mean, sd] }`.
    Normal {
        /// mean and standard deviation
        normal: [f64; 2],
    },
    /// `{ linspace = [a, b] }`: neuron i of n gets a + i·(b−a)/(n−1).
    Linspace {
        /// end points
        linspace: [f64; 2],
    },
    /// `{ file = "x.csv", column = "v_mv" }`: a CSV with a `neuron` column.
    File {
        /// path, relative to the config file
        file: String,
        /// the column to read
        column: String,
    },
    /// `[v0, v1, ...]`: one number per neuron (what the Python package's numpy arrays
    /// become).
    Array(Vec<f64>),
}

const VALUE_FORMS: &str = "expected a number, { uniform = [a, b] }, { normal = [mean, sd] }, \
{ linspace = [a, b] }, { file = \"x.csv\", column = \"name\" } or an array of one number per neuron";

/// A TOML number (float or integer) as f64.
fn toml_num(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Float(x) => Some(*x),
        toml::Value::Integer(i) => Some(*i as f64),
        _ => None,
    }
}

/// A TOML array of exactly two numbers; `Err` names the key.
fn toml_pair(v: &toml::Value, name: &str) -> std::result::Result<[f64; 2], String> {
    match v
        .as_array()
        .map(|a| a.iter().map(toml_num).collect::<Option<Vec<f64>>>())
    {
        Some(Some(a)) if a.len() == 2 => Ok([a[0], a[1]]),
        _ => Err(format!("`{name}` needs an array of two numbers")),
    }
}

impl<'de> Deserialize<'de> for ValueSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let v = toml::Value::deserialize(d)?;
        let num = toml_num;
        let pair = |v: &toml::Value, name: &str| toml_pair(v, name).map_err(D::Error::custom);
        if let Some(x) = num(&v) {
            return Ok(ValueSpec::Const(x));
        }
        if let Some(a) = v.as_array() {
            return match a.iter().map(num).collect::<Option<Vec<f64>>>() {
                Some(a) => Ok(ValueSpec::Array(a)),
                None => Err(D::Error::custom(
                    "an array of values must hold numbers only (one per neuron)",
                )),
            };
        }
        let Some(t) = v.as_table() else {
            return Err(D::Error::custom(VALUE_FORMS));
        };
        let keys: Vec<&str> = t.keys().map(|k| k.as_str()).collect();
        match keys.as_slice() {
            ["uniform"] => Ok(ValueSpec::Uniform {
                uniform: pair(&t["uniform"], "uniform")?,
            }),
            ["normal"] => Ok(ValueSpec::Normal {
                normal: pair(&t["normal"], "normal")?,
            }),
            ["linspace"] => Ok(ValueSpec::Linspace {
                linspace: pair(&t["linspace"], "linspace")?,
            }),
            ["column", "file"] | ["file", "column"] => {
                match (t["file"].as_str(), t["column"].as_str()) {
                    (Some(f), Some(c)) => Ok(ValueSpec::File {
                        file: f.into(),
                        column: c.into(),
                    }),
                    _ => Err(D::Error::custom("`file` and `column` must be strings")),
                }
            }
            _ => Err(D::Error::custom(VALUE_FORMS)),
        }
    }
}

/// The shape of a per-synapse weight or delay distribution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SynDist {
    /// The same value for every synapse.
    Const(f64),
    /// `{ normal = [mean, sd] }`.
    Normal {
        /// mean
        mean: f64,
        /// standard deviation (>= 0)
        sd: f64,
    },
    /// `{ uniform = [lo, hi] }`: draws in [lo, hi).
    Uniform {
        /// lower end
        lo: f64,
        /// upper end
        hi: f64,
    },
    /// `{ lognormal = [mu, sigma] }`: exp of a normal(mu, sigma) draw (always > 0).
    Lognormal {
        /// mean of the logarithm
        mu: f64,
        /// sd of the logarithm (>= 0)
        sigma: f64,
    },
}

/// A per-synapse value (weight or delay): a constant, or a distribution with optional
/// bounds. A draw outside `[min, max]` is drawn again until it lies inside (NEST's
/// `redraw`), so the bounds shape the distribution rather than clip it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SynSpec {
    /// What is drawn.
    pub dist: SynDist,
    /// Smallest accepted value (inclusive).
    pub min: Option<f64>,
    /// Largest accepted value (inclusive).
    pub max: Option<f64>,
}

impl SynSpec {
    /// A constant.
    pub fn constant(x: f64) -> SynSpec {
        SynSpec {
            dist: SynDist::Const(x),
            min: None,
            max: None,
        }
    }

    /// The constant, when the spec is one.
    pub fn as_const(&self) -> Option<f64> {
        match self.dist {
            SynDist::Const(x) => Some(x),
            _ => None,
        }
    }

    /// The interval draws can fall in once the bounds apply: (lowest, highest), or
    /// `None` when no value can be drawn at all.
    pub fn support(&self) -> Option<(f64, f64)> {
        let (lo, hi) = match self.dist {
            SynDist::Const(x) => (x, x),
            SynDist::Normal { mean, sd: 0.0 } => (mean, mean),
            SynDist::Normal { .. } => (f64::NEG_INFINITY, f64::INFINITY),
            SynDist::Uniform { lo, hi } => (lo, hi),
            SynDist::Lognormal { mu, sigma: 0.0 } => (mu.exp(), mu.exp()),
            SynDist::Lognormal { .. } => (0.0, f64::INFINITY),
        };
        let lo = lo.max(self.min.unwrap_or(f64::NEG_INFINITY));
        let hi = hi.min(self.max.unwrap_or(f64::INFINITY));
        (lo <= hi).then_some((lo, hi))
    }

    /// Checks the numbers; `Err` says what is wrong (without the key).
    fn check(&self) -> std::result::Result<(), String> {
        let fin = |x: f64| x.is_finite();
        match self.dist {
            SynDist::Const(x) if !fin(x) => {
                return Err(format!("expected a finite number, got {x}"));
            }
            SynDist::Normal { mean, sd } if !(fin(mean) && fin(sd) && sd >= 0.0) => {
                return Err("normal = [mean, sd] needs a finite mean and a finite sd >= 0".into());
            }
            SynDist::Uniform { lo, hi } if !(fin(lo) && fin(hi) && lo <= hi) => {
                return Err("uniform = [lo, hi] needs finite lo <= hi".into());
            }
            SynDist::Lognormal { mu, sigma } if !(fin(mu) && fin(sigma) && sigma >= 0.0) => {
                return Err(
                    "lognormal = [mu, sigma] needs a finite mu and a finite sigma >= 0".into(),
                );
            }
            _ => {}
        }
        for (k, b) in [("min", self.min), ("max", self.max)] {
            if let Some(b) = b
                && b.is_nan()
            {
                return Err(format!("{k}: expected a number, got NaN"));
            }
        }
        if let (Some(a), Some(b)) = (self.min, self.max)
            && a > b
        {
            return Err(format!("min ({a}) is above max ({b})"));
        }
        if self.support().is_none() {
            return Err(format!(
                "no value of this distribution lies within [{}, {}], so a redraw could never end",
                self.min.unwrap_or(f64::NEG_INFINITY),
                self.max.unwrap_or(f64::INFINITY)
            ));
        }
        Ok(())
    }
}

const SYN_FORMS: &str = "expected a number, { normal = [mean, sd] }, { uniform = [lo, hi] } or \
{ lognormal = [mu, sigma] }, each optionally with min = ... and/or max = ... (redraw bounds)";

impl<'de> Deserialize<'de> for SynSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error as _;
        let v = toml::Value::deserialize(d)?;
        let num = toml_num;
        if let Some(x) = num(&v) {
            return Ok(SynSpec::constant(x));
        }
        let Some(t) = v.as_table() else {
            return Err(D::Error::custom(SYN_FORMS));
        };
        let pair = |name: &str| toml_pair(&t[name], name).map_err(D::Error::custom);
        let mut dist = None;
        let (mut min, mut max) = (None, None);
        for k in t.keys() {
            match k.as_str() {
                "normal" | "uniform" | "lognormal" => {
                    if dist.is_some() {
                        return Err(D::Error::custom(format!(
                            "two distributions in one value; {SYN_FORMS}"
                        )));
                    }
                    let [a, b] = pair(k)?;
                    dist = Some(match k.as_str() {
                        "normal" => SynDist::Normal { mean: a, sd: b },
                        "uniform" => SynDist::Uniform { lo: a, hi: b },
                        _ => SynDist::Lognormal { mu: a, sigma: b },
                    });
                }
                "min" | "max" => {
                    let x = num(&t[k])
                        .ok_or_else(|| D::Error::custom(format!("`{k}` needs a number")))?;
                    if k == "min" {
                        min = Some(x);
                    } else {
                        max = Some(x);
                    }
                }
                other => {
                    return Err(D::Error::custom(format!(
                        "unknown key `{other}`; {SYN_FORMS}"
                    )));
                }
            }
        }
        let Some(dist) = dist else {
            return Err(D::Error::custom(SYN_FORMS));
        };
        Ok(SynSpec { dist, min, max })
    }
}

/// `[[population]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Population {
    /// Unique name.
    pub name: String,
    /// Number of neurons (> 0).
    pub size: i64,
    /// `"lif"` or `"hv"`.
    pub model: String,
    /// LIF synapse kind: `"delta"`, `"exp_current"` (default), `"alpha_current"`,
    /// `"exp_conductance"` or `"alpha_conductance"`.
    pub synapse: Option<String>,
    /// Parameters; omitted ones take the spec's defaults.
    #[serde(default)]
    pub params: BTreeMap<String, ValueSpec>,
    /// Initial values.
    #[serde(default)]
    pub init: BTreeMap<String, ValueSpec>,
    /// `spike_source` populations: the spike times (ms) of each neuron, as one list per
    /// neuron or `{ file = "times.csv" }` (columns `neuron,time_ms`).
    pub spike_times: Option<SpikeTimes>,
}

/// The spike times of a `spike_source` population.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SpikeTimes {
    /// One list of times (ms) per neuron.
    Lists(Vec<Vec<f64>>),
    /// A CSV file with columns `neuron,time_ms` (path relative to the config).
    File {
        /// the file
        file: String,
    },
}

/// `[[projection]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Projection {
    /// Presynaptic population.
    pub pre: String,
    /// Postsynaptic population.
    pub post: String,
    /// `"ampa"` or `"gaba_a"`.
    pub receptor: String,
    /// Weight per synapse, a constant or a distribution (pA for exp_current, mV for
    /// delta, nS for exp_conductance, dimensionless receptor activation for HV); may come
    /// from the file's weight column.
    pub weight: Option<SynSpec>,
    /// Delay per synapse (ms), a constant or a distribution, rounded to whole steps, at
    /// least one step. Default: one step. Not allowed into HV populations (their coupling
    /// is instantaneous).
    pub delay_ms: Option<SynSpec>,
    /// The connection rule.
    pub connect: Connect,
}

/// Connection rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum Connect {
    /// Each (pre, post) pair independently with probability `p` (also spelled
    /// `pairwise_bernoulli`, NEST's name).
    #[serde(alias = "pairwise_bernoulli")]
    FixedProbability {
        /// probability in [0, 1]
        p: f64,
        /// allow i → i when pre and post are the same population (default true)
        #[serde(default = "yes")]
        autapses: bool,
    },
    /// Each post neuron draws `k` sources uniformly (with replacement unless
    /// `multapses = false`).
    FixedIndegree {
        /// in-degree
        k: i64,
        /// allow i → i (default true, as NEST)
        #[serde(default = "yes")]
        autapses: bool,
        /// allow a pair to be connected more than once (default true, as NEST)
        #[serde(default = "yes")]
        multapses: bool,
    },
    /// Each pre neuron draws `k` targets uniformly (with replacement unless
    /// `multapses = false`).
    FixedOutdegree {
        /// out-degree
        k: i64,
        /// allow i → i (default true, as NEST)
        #[serde(default = "yes")]
        autapses: bool,
        /// allow a pair to be connected more than once (default true, as NEST)
        #[serde(default = "yes")]
        multapses: bool,
    },
    /// `n` connections in all, source and target of each drawn uniformly (NEST's
    /// `fixed_total_number`).
    FixedTotalNumber {
        /// number of connections
        n: i64,
        /// allow i → i (default true, as NEST)
        #[serde(default = "yes")]
        autapses: bool,
        /// allow a pair to be connected more than once (default true, as NEST)
        #[serde(default = "yes")]
        multapses: bool,
    },
    /// i → i.
    OneToOne,
    /// Every pair.
    AllToAll {
        /// allow i → i (default true)
        #[serde(default = "yes")]
        autapses: bool,
    },
    /// A CSV edge list `pre,post[,weight][,delay_ms]` with population-local indices.
    File {
        /// path, relative to the config file
        path: String,
    },
    /// An inline edge list (the Python package's arrays): edge k is `pre[k] → post[k]`,
    /// population-local indices; `weight`/`delay_ms` per edge override the projection's.
    Edges {
        /// presynaptic indices
        pre: Vec<i64>,
        /// postsynaptic indices (as many as `pre`)
        post: Vec<i64>,
        /// per-edge weights
        #[serde(default)]
        weight: Option<Vec<f64>>,
        /// per-edge delays (ms)
        #[serde(default)]
        delay_ms: Option<Vec<f64>>,
    },
}

fn yes() -> bool {
    true
}

/// External drive, `[[stimulus]]` with a `kind`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Stimulus {
    /// An independent Poisson train per target neuron, delivered as spikes.
    Poisson {
        /// Target population.
        target: String,
        /// Population-local neurons (default: all).
        neurons: Option<Vec<i64>>,
        /// Rate per neuron (Hz).
        rate_hz: f64,
        /// Weight per event, in the units of a projection onto the target.
        weight: f64,
        /// `"ampa"` or `"gaba_a"`.
        receptor: String,
        /// Delay (ms); default one step.
        delay_ms: Option<f64>,
    },
    /// A current step on `[round(start/dt), round(stop/dt))`.
    CurrentPulse {
        /// Target population.
        target: String,
        /// Population-local neurons (default: all).
        neurons: Option<Vec<i64>>,
        /// Onset (ms).
        start_ms: f64,
        /// Offset (ms).
        stop_ms: f64,
        /// Amplitude (pA, positive depolarises).
        amplitude_pa: f64,
    },
    /// A constant current from `start_ms` (default 0) to `stop_ms` (default: forever).
    DcCurrent {
        /// Target population.
        target: String,
        /// Population-local neurons (default: all).
        neurons: Option<Vec<i64>>,
        /// Amplitude (pA, positive depolarises).
        amplitude_pa: f64,
        /// Onset (ms).
        start_ms: Option<f64>,
        /// Offset (ms).
        stop_ms: Option<f64>,
    },
    /// A piecewise-constant current: `amplitudes_pa[k]` from step round(times_ms[k]/dt)
    /// until the next change (the last one holds to the end); 0 before the first.
    StepCurrent {
        /// Target population.
        target: String,
        /// Population-local neurons (default: all).
        neurons: Option<Vec<i64>>,
        /// Change times (ms), ascending.
        times_ms: Vec<f64>,
        /// The amplitude from each time on (pA).
        amplitudes_pa: Vec<f64>,
    },
    /// HV: a square receptor-activation pulse added to P^A (or P^G) of the target neurons
    /// on steps `[round(start_ms/dt), round(stop_ms/dt))` (spec hv-model.md 5).
    ReceptorPulse {
        /// Target population (an HV population).
        target: String,
        /// Population-local neurons (default: all).
        neurons: Option<Vec<i64>>,
        /// `"ampa"` or `"gaba_a"`.
        receptor: String,
        /// Activation added while the pulse is on (dimensionless, >= 0; 1 ≙ N_X receptors).
        amplitude: f64,
        /// Onset (ms).
        start_ms: f64,
        /// Offset (ms).
        stop_ms: f64,
    },
}

impl Stimulus {
    /// The target population's name.
    pub fn target(&self) -> &str {
        match self {
            Stimulus::Poisson { target, .. }
            | Stimulus::CurrentPulse { target, .. }
            | Stimulus::DcCurrent { target, .. }
            | Stimulus::StepCurrent { target, .. }
            | Stimulus::ReceptorPulse { target, .. } => target,
        }
    }
    /// The selected neurons, if any.
    pub fn neurons(&self) -> Option<&Vec<i64>> {
        match self {
            Stimulus::Poisson { neurons, .. }
            | Stimulus::CurrentPulse { neurons, .. }
            | Stimulus::DcCurrent { neurons, .. }
            | Stimulus::StepCurrent { neurons, .. }
            | Stimulus::ReceptorPulse { neurons, .. } => neurons.as_ref(),
        }
    }
}

/// `[record]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// `true`, `false`, or a list of population names.
    #[serde(default = "spikes_all")]
    pub spikes: SpikeSelection,
    /// Voltage probes.
    #[serde(default)]
    pub voltage: Vec<VoltageProbe>,
}

impl Default for Record {
    fn default() -> Self {
        Record {
            spikes: spikes_all(),
            voltage: Vec::new(),
        }
    }
}

fn spikes_all() -> SpikeSelection {
    SpikeSelection::All(true)
}

/// Which populations' spikes to record.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum SpikeSelection {
    /// all or none
    All(bool),
    /// these populations
    Some(Vec<String>),
}

/// One voltage probe.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoltageProbe {
    /// Population name.
    pub population: String,
    /// Population-local neuron indices (default: all neurons of the population).
    pub neurons: Option<Vec<i64>>,
    /// Sample every this many steps (default 1).
    pub every_steps: Option<i64>,
    /// What is sampled: `"v_mv"` (default), or for LIF populations the synaptic
    /// variable of a receptor, `"syn_ampa"` / `"syn_gaba_a"` (pA for exp_current, nS for
    /// exp_conductance; delta synapses have none). Written to `synaptic.csv`.
    pub variable: Option<String>,
}

/// Reads and validates a config file.
pub fn load(path: &Path) -> Result<Config> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse(&text, path)
}

/// Parses and validates config text; `path` is used in messages and to resolve files.
pub fn parse(text: &str, path: &Path) -> Result<Config> {
    let mut cfg: Config = toml::from_str(text).map_err(|e| {
        let msg = e.to_string();
        Error::config(path, msg.trim_end().to_string())
    })?;
    cfg.path = path.to_path_buf();
    cfg.validate()?;
    Ok(cfg)
}

impl Config {
    pub(crate) fn err(&self, msg: impl Into<String>) -> Error {
        Error::config(&self.path, msg)
    }

    /// Resolves a path written in the config relative to the config's folder.
    pub fn resolve(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.path.parent().unwrap_or(Path::new(".")).join(p)
        }
    }

    /// The model shared by all populations (`"lif"` or `"hv"`).
    pub fn model(&self) -> &str {
        self.populations
            .iter()
            .find(|p| !crate::source::is_source(&p.model))
            .map(|p| p.model.as_str())
            .unwrap_or("lif")
    }

    /// The time step: the config's, or the model's default.
    pub fn dt_ms(&self) -> f64 {
        self.simulation.dt_ms.unwrap_or_else(|| {
            crate::model::by_name(self.model()).map_or(0.1, |m| m.default_dt_ms())
        })
    }

    /// Whether population `i` has conductance synapses (weights must be ≥ 0).
    pub fn is_conductance(&self, i: usize) -> bool {
        // the population's kind, or its model's default
        let p = &self.populations[i];
        p.synapse
            .as_deref()
            .or_else(|| crate::model::by_name(&p.model).and_then(|m| m.synapses().first().copied()))
            .is_some_and(|k| k.ends_with("_conductance"))
    }

    /// Index of a population by name.
    pub fn population_index(&self, name: &str) -> Option<usize> {
        self.populations.iter().position(|p| p.name == name)
    }

    /// Checks every section; the first mistake is the error. Each section's checks live
    /// in their own file: `[simulation]` here, the others in `populations.rs`,
    /// `projections.rs`, `stimuli.rs` and `record.rs`.
    fn validate(&self) -> Result<()> {
        self.check_simulation()?;
        self.check_populations()?;
        self.check_projections()?;
        self.check_stimuli()?;
        self.check_record()
    }

    /// The `[simulation]` table.
    fn check_simulation(&self) -> Result<()> {
        let s = &self.simulation;
        if let Some(dt) = s.dt_ms
            && !(dt > 0.0 && dt.is_finite())
        {
            return Err(self.err(format!(
                "simulation.dt_ms: expected a positive number of ms, got {dt}"
            )));
        }
        if !(s.duration_ms >= 0.0 && s.duration_ms.is_finite()) {
            return Err(self.err(format!(
                "simulation.duration_ms: expected a non-negative number of ms, got {}",
                s.duration_ms
            )));
        }
        if let Some(t) = s.threads {
            crate::engine::threads::check_threads(t)
                .map_err(|e| self.err(format!("simulation.threads: {e}")))?;
        }
        if self.populations.is_empty() {
            return Err(
                self.err("no [[population]] table: a network needs at least one population")
            );
        }
        Ok(())
    }

    pub(crate) fn check_value(&self, at: &str, v: &ValueSpec) -> Result<()> {
        let bad = |what: &str| Err(self.err(format!("{at}: {what}")));
        match v {
            ValueSpec::Const(x) if !x.is_finite() => bad("expected a finite number"),
            ValueSpec::Uniform { uniform: [a, b] }
                if !(a.is_finite() && b.is_finite() && a <= b) =>
            {
                bad("uniform = [a, b] needs finite a <= b")
            }
            ValueSpec::Normal { normal: [m, sd] }
                if !(m.is_finite() && sd.is_finite() && *sd >= 0.0) =>
            {
                bad("normal = [mean, sd] needs a finite mean and sd >= 0")
            }
            ValueSpec::Linspace { linspace: [a, b] } if !(a.is_finite() && b.is_finite()) => {
                bad("linspace = [a, b] needs finite end points")
            }
            ValueSpec::Array(a) if a.iter().any(|x| !x.is_finite()) => {
                bad("expected finite numbers")
            }
            _ => Ok(()),
        }
    }
}

/// Validates a config given as a TOML value tree (the same tree a file parses into):
/// the Python package builds one and comes through here, so it gets the same types,
/// defaults and checks as a file. `path` names the source in messages and resolves
/// relative paths.
pub fn from_value(value: toml::Table, path: &Path) -> Result<Config> {
    let mut cfg: Config = toml::Value::Table(value)
        .try_into()
        .map_err(|e: toml::de::Error| Error::config(path, e.to_string().trim_end().to_string()))?;
    cfg.path = path.to_path_buf();
    cfg.validate()?;
    Ok(cfg)
}

/// Checks that every key of `table` is one of `known`; the error lists them.
pub(crate) fn check_keys<'a>(
    cfg: &Config,
    at: &str,
    table: &str,
    keys: impl Iterator<Item = &'a String>,
    known: impl Iterator<Item = &'a str> + Clone,
) -> Result<()> {
    for k in keys {
        if !known.clone().any(|x| x == k) {
            return Err(cfg.err(format!(
                "{at}.{table}: unknown key '{k}'; expected one of: {}",
                known.clone().collect::<Vec<_>>().join(", ")
            )));
        }
    }
    Ok(())
}
