//! Source populations: spike sources that projections connect like neurons (NEST's
//! `spike_generator` / `poisson_generator` behind a `parrot_neuron`, PyNN's
//! `SpikeSourceArray` / `SpikeSourcePoisson`).
//!
//! - `model = "spike_source"`: each neuron spikes at given times (`spike_times`).
//! - `model = "poisson_source"`: each neuron spikes in a step with probability
//!   1 − exp(−rate·dt) (a Poisson process of `rate_hz` seen at the resolution of one
//!   spike per step) while `start_ms < t <= start_ms + duration_ms`, drawn from the
//!   counter-based generator ([`crate::rng`]) keyed by (seed, population, neuron, step).
//!
//! A source neuron is a slot in the global neuron index space whose LIF threshold is
//! infinite, so `lif_step` never fires it. Its spikes are decided on the host, one batch at
//! a time ([`source_batch`], a pure function of the step: no state to save), and appended
//! to the step's spike list by the `source_spikes` stage (`shaders/source_spikes.wgsl`,
//! CPU twin [`crate::backend::cpu::source_spikes`]) right after `lif_step`, so `propagate`
//! and the spike record treat them as any neuron's. A spike of step n is stamped, as every
//! spike, at (n + 1)·dt: the time t goes to step round(t/dt) − 1, and arrives at its
//! targets `delay` later. Several times in one step make one spike.

use std::path::Path;

use crate::config::{Config, Population, SpikeTimes};
use crate::error::{Error, Result};
use crate::model::Param;
use crate::network::PopulationInfo;

/// The parameters of a `poisson_source` and their defaults.
pub const POISSON_PARAMS: &[Param] = &[
    Param::new(
        "rate_hz",
        "Hz",
        0.0,
        "Mean rate of each neuron's Poisson train.",
    ),
    Param::new("start_ms", "ms", 0.0, "The train starts after this time."),
    Param::new(
        "duration_ms",
        "ms",
        f64::INFINITY,
        "The train lasts this long after `start_ms`.",
    ),
];

/// The Philox stream tag of Poisson sources (the `[[stimulus]]` streams use their index,
/// far below): population p draws from stream `SOURCE_STREAM | p`.
pub const SOURCE_STREAM: u32 = 0x8000_0000;

/// Whether a population model is a source.
pub fn is_source(model: &str) -> bool {
    crate::model::by_name(model).is_some_and(|m| m.is_source())
}

/// Checks a source population's table beyond its `synapse` key, which
/// [`crate::model::check_population`] has checked (called by config validation).
pub(crate) fn check_population(cfg: &Config, at: &str, p: &Population) -> Result<()> {
    if let Some(k) = p.init.keys().next() {
        return Err(cfg.err(format!(
            "{at}.init.{k}: source populations have no state to initialise"
        )));
    }
    if p.model == "spike_source" {
        if let Some(k) = p.params.keys().next() {
            return Err(cfg.err(format!(
                "{at}.params.{k}: spike_source populations take spike_times, no params"
            )));
        }
        match &p.spike_times {
            None => {
                return Err(cfg.err(format!(
                    "{at}.spike_times: missing; expected one list of times (ms) per neuron, or {{ file = \"times.csv\" }}"
                )));
            }
            Some(SpikeTimes::Lists(l)) => {
                if l.len() as i64 != p.size {
                    return Err(cfg.err(format!(
                        "{at}.spike_times: expected one list per neuron ({}), got {}",
                        p.size,
                        l.len()
                    )));
                }
                check_times(l).map_err(|e| cfg.err(format!("{at}.spike_times{e}")))?;
            }
            Some(SpikeTimes::File { .. }) => {}
        }
    } else {
        crate::config::check_keys(
            cfg,
            at,
            "params",
            p.params.keys(),
            POISSON_PARAMS.iter().map(|x| x.name),
        )?;
        for (k, v) in &p.params {
            cfg.check_value(&format!("{at}.params.{k}"), v)?;
            if let crate::config::ValueSpec::Array(a) = v
                && a.len() as i64 != p.size
            {
                return Err(cfg.err(format!(
                    "{at}.params.{k}: expected one value per neuron ({}), got {}",
                    p.size,
                    a.len()
                )));
            }
        }
    }
    Ok(())
}

/// Checks spike times: finite and not negative. The error starts with the place
/// (`[neuron][k]: ...`).
pub fn check_times(lists: &[Vec<f64>]) -> std::result::Result<(), String> {
    for (i, l) in lists.iter().enumerate() {
        if let Some((k, t)) = l
            .iter()
            .enumerate()
            .find(|(_, t)| !(t.is_finite() && **t >= 0.0))
        {
            return Err(format!(
                "[{i}][{k}]: expected a finite time >= 0 ms, got {t}"
            ));
        }
    }
    Ok(())
}

/// Checks a step current's times and amplitudes; the error starts with the key.
pub fn check_steps(times: &[f64], amps: &[f64]) -> std::result::Result<(), String> {
    if times.len() != amps.len() {
        return Err(format!(
            "amplitudes_pa: expected one amplitude per time ({}), got {}",
            times.len(),
            amps.len()
        ));
    }
    if let Some(t) = times.iter().find(|t| !(t.is_finite() && **t >= 0.0)) {
        return Err(format!("times_ms: expected finite times >= 0, got {t}"));
    }
    if let Some(w) = times.windows(2).find(|w| w[1] < w[0]) {
        return Err(format!(
            "times_ms: expected ascending times, got {} after {}",
            w[1], w[0]
        ));
    }
    if let Some(a) = amps.iter().find(|a| !a.is_finite()) {
        return Err(format!("amplitudes_pa: expected finite numbers, got {a}"));
    }
    Ok(())
}

/// What a source population does.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceKind {
    /// Given spike times.
    Array {
        /// The times (ms) per neuron, as given.
        times_ms: Vec<Vec<f64>>,
        /// The steps that emit a spike, per neuron: ascending, distinct.
        steps: Vec<Vec<u64>>,
    },
    /// Poisson trains.
    Poisson {
        /// Philox stream.
        stream: u32,
        /// The primary values (`POISSON_PARAMS` order), one per neuron each.
        params: [Vec<f64>; 3],
        /// Spike probability per step (1 − exp(−rate·dt)), per neuron.
        p: Vec<f32>,
        /// First active step, per neuron.
        on: Vec<u64>,
        /// First inactive step, per neuron.
        off: Vec<u64>,
    },
}

/// A source population placed in the global index space.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcePop {
    /// Population index.
    pub pop: usize,
    /// First global neuron id.
    pub offset: usize,
    /// Neurons.
    pub size: usize,
    /// Its spikes.
    pub kind: SourceKind,
}

/// The emitting steps of spike times: step round(t/dt) − 1 (a spike of step n is stamped
/// (n + 1)·dt), sorted, one per step; a time that rounds to step 0 cannot be emitted.
pub fn spike_steps(times_ms: &[f64], dt: f64) -> Vec<u64> {
    let mut s: Vec<u64> = times_ms
        .iter()
        .map(|t| (t / dt).round())
        .filter(|&k| k >= 1.0)
        .map(|k| k as u64 - 1)
        .collect();
    s.sort_unstable();
    s.dedup();
    s
}

fn steps_of(ms: f64, dt: f64) -> u64 {
    if ms.is_finite() {
        (ms / dt).round().clamp(0.0, u64::MAX as f64) as u64
    } else {
        u64::MAX
    }
}

impl SourcePop {
    /// Replaces the spike times of a `spike_source` (one list per neuron).
    pub fn set_times(&mut self, lists: Vec<Vec<f64>>, dt: f64) -> std::result::Result<(), String> {
        let SourceKind::Array { times_ms, steps } = &mut self.kind else {
            return Err("spike times belong to spike_source populations".into());
        };
        if lists.len() != self.size {
            return Err(format!(
                "expected one list of spike times per neuron ({}), got {}",
                self.size,
                lists.len()
            ));
        }
        check_times(&lists).map_err(|e| format!("spike_times{e}"))?;
        *steps = lists.iter().map(|l| spike_steps(l, dt)).collect();
        *times_ms = lists;
        Ok(())
    }

    /// Sets a Poisson parameter (one value, or one per neuron).
    pub fn set_poisson(
        &mut self,
        key: &str,
        values: &[f64],
        dt: f64,
    ) -> std::result::Result<(), String> {
        let SourceKind::Poisson { params, .. } = &mut self.kind else {
            return Err(format!("'{key}' belongs to poisson_source populations"));
        };
        let Some(k) = POISSON_PARAMS.iter().position(|p| p.name == key) else {
            return Err(format!(
                "unknown parameter '{key}' for poisson_source; expected one of: rate_hz, start_ms, duration_ms"
            ));
        };
        if values.len() != 1 && values.len() != self.size {
            return Err(format!(
                "{key}: expected one value or one per neuron ({}), got {}",
                self.size,
                values.len()
            ));
        }
        let mut col = params[k].clone();
        for (i, c) in col.iter_mut().enumerate() {
            *c = values[if values.len() == 1 { 0 } else { i }];
        }
        if let Some(bad) = col
            .iter()
            .find(|x| x.is_nan() || **x < 0.0 || (k < 2 && !x.is_finite()))
        {
            return Err(format!("{key}: expected a non-negative number, got {bad}"));
        }
        params[k] = col;
        self.derive(dt);
        Ok(())
    }

    /// The current values of a Poisson parameter.
    pub fn poisson_param(&self, key: &str) -> Option<Vec<f64>> {
        let SourceKind::Poisson { params, .. } = &self.kind else {
            return None;
        };
        POISSON_PARAMS
            .iter()
            .position(|p| p.name == key)
            .map(|k| params[k].clone())
    }

    /// Recomputes a Poisson source's per-step constants from its parameters.
    fn derive(&mut self, dt: f64) {
        if let SourceKind::Poisson {
            params, p, on, off, ..
        } = &mut self.kind
        {
            let [rate, start, dur] = &*params;
            *p = rate
                .iter()
                .map(|r| (-(-r * dt / 1000.0).exp_m1()) as f32)
                .collect();
            *on = start.iter().map(|&s| steps_of(s, dt)).collect();
            *off = start
                .iter()
                .zip(dur)
                .map(|(&s, &d)| steps_of(s + d, dt))
                .collect();
        }
    }
}

/// Builds the source populations of a validated config.
pub fn build_sources(
    cfg: &Config,
    pops: &[PopulationInfo],
    dt: f64,
    seed: u64,
) -> Result<Vec<SourcePop>> {
    let mut out = Vec::new();
    for (pi, p) in cfg.populations.iter().enumerate() {
        if !is_source(&p.model) {
            continue;
        }
        let size = p.size as usize;
        let kind = if p.model == "spike_source" {
            let lists = match p.spike_times.as_ref().expect("validated") {
                SpikeTimes::Lists(l) => l.clone(),
                SpikeTimes::File { file } => read_times(
                    &cfg.resolve(file),
                    size,
                    &format!("population[{pi}] ('{}').spike_times", p.name),
                )?,
            };
            SourceKind::Array {
                steps: lists.iter().map(|l| spike_steps(l, dt)).collect(),
                times_ms: lists,
            }
        } else {
            let mut cols: Vec<Vec<f64>> = Vec::new();
            for (
                ki,
                Param {
                    name: key, default, ..
                },
            ) in POISSON_PARAMS.iter().enumerate()
            {
                let at = format!("population[{pi}] ('{}').params.{key}", p.name);
                let col = match p.params.get(*key) {
                    Some(spec) => crate::network::resolve_values(
                        cfg,
                        &at,
                        spec,
                        size,
                        seed,
                        &[4, pi as u64, ki as u64],
                    )?,
                    None => vec![*default; size],
                };
                if let Some(bad) = col.iter().find(|x| x.is_nan() || **x < 0.0) {
                    return Err(Error::config(
                        &cfg.path,
                        format!("{at}: expected a non-negative number, got {bad}"),
                    ));
                }
                cols.push(col);
            }
            let [rate, start, dur]: [Vec<f64>; 3] = cols.try_into().expect("three");
            SourceKind::Poisson {
                stream: SOURCE_STREAM | pi as u32,
                params: [rate, start, dur],
                p: Vec::new(),
                on: Vec::new(),
                off: Vec::new(),
            }
        };
        let mut s = SourcePop {
            pop: pi,
            offset: pops[pi].offset,
            size,
            kind,
        };
        s.derive(dt);
        out.push(s);
    }
    Ok(out)
}

/// Reads spike times from a CSV with columns `neuron,time_ms` (any order of rows, any
/// number per neuron).
pub fn read_times(path: &Path, size: usize, at: &str) -> Result<Vec<Vec<f64>>> {
    let err = |msg: String| Error::config(path, format!("{msg} (for {at})"));
    let (mut rdr, headers) = crate::network::csv_reader(path, &err)?;
    let find = |name: &str| headers.iter().position(|h| h == name);
    let (Some(ni), Some(ti)) = (find("neuron"), find("time_ms")) else {
        return Err(err(format!(
            "expected the columns 'neuron' and 'time_ms'; the columns are: {}",
            headers.iter().collect::<Vec<_>>().join(", ")
        )));
    };
    let mut out = vec![Vec::new(); size];
    for (line, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| err(e.to_string()))?;
        let row = line + 2;
        let n = crate::network::csv_neuron(&rec, ni, row, size).map_err(&err)?;
        let t: f64 = rec
            .get(ti)
            .unwrap_or("")
            .parse()
            .ok()
            .filter(|t: &f64| t.is_finite() && *t >= 0.0)
            .ok_or_else(|| err(format!("line {row}: 'time_ms' is not a finite time >= 0")))?;
        out[n].push(t);
    }
    Ok(out)
}

/// The source spikes of a batch, CSR by row: the global ids spiking in step
/// `first + r` are `ids[ptr[r]..ptr[r + 1]]`, ascending.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceBatch {
    /// `steps + 1` offsets.
    pub ptr: Vec<u32>,
    /// Global neuron ids.
    pub ids: Vec<u32>,
}

/// Computes the source spikes of steps `first..first + steps` (host side, for every
/// backend): the spike times that fall in the batch, and the Poisson draws of
/// (seed, stream, neuron, step) — one Philox call per neuron and group of four steps.
pub fn source_batch(
    sources: &[SourcePop],
    key: [u32; 2],
    first: u64,
    steps: u32,
    out: &mut SourceBatch,
) {
    let end = first + steps as u64;
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for s in sources {
        match &s.kind {
            SourceKind::Array { steps: st, .. } => {
                for (k, list) in st.iter().enumerate() {
                    let a = list.partition_point(|&x| x < first);
                    for &x in list[a..].iter().take_while(|&&x| x < end) {
                        pairs.push(((x - first) as u32, (s.offset + k) as u32));
                    }
                }
            }
            SourceKind::Poisson {
                stream, p, on, off, ..
            } => {
                for k in 0..s.size {
                    let (lo, hi) = (on[k].max(first), off[k].min(end));
                    if lo >= hi || p[k] <= 0.0 {
                        continue;
                    }
                    let id = (s.offset + k) as u32;
                    let mut bits = [0u32; 4];
                    for step in lo..hi {
                        if step == lo || step & 3 == 0 {
                            bits =
                                crate::rng::philox4x32([id, (step >> 2) as u32, *stream, 0], key);
                        }
                        if crate::rng::uniform(bits[(step & 3) as usize]) < p[k] {
                            pairs.push(((step - first) as u32, id));
                        }
                    }
                }
            }
        }
    }
    pairs.sort_unstable();
    out.ptr.clear();
    out.ids.clear();
    out.ptr.push(0);
    let mut j = 0;
    for r in 0..steps {
        while j < pairs.len() && pairs[j].0 == r {
            out.ids.push(pairs[j].1);
            j += 1;
        }
        out.ptr.push(out.ids.len() as u32);
    }
}
