//! A validated config turned into arrays: per-neuron derived constants, initial state,
//! synapses and the recording plan. Both backends are built from one [`Network`], so
//! they simulate the identical network.

use std::collections::HashMap;
use std::path::Path;

use rand::Rng;
use rand_distr::{Distribution, Normal};

use crate::config::{Config, Connect, SpikeSelection, Stimulus, ValueSpec};
use crate::connectivity::{self, AMPA, GABA_A, Incoming, PerSynapse, ProjectionMatrix, Synapses};
use crate::error::{Error, Result};
use crate::model::Param;
use crate::model::hv::{self, HvParams, HvPrimary, HvPulse};
use crate::model::lif::{self, LifParams, LifPrimary};
use crate::model::point::{PointDynamics, PointNeurons};
use crate::real::FixedPoint;
use crate::rng::PoissonPlan;

/// A population placed in the global neuron index space.
#[derive(Debug, Clone)]
pub struct PopulationInfo {
    /// Name from the config.
    pub name: String,
    /// First global neuron id.
    pub offset: usize,
    /// Number of neurons.
    pub size: usize,
    /// Whether its spikes are written.
    pub record_spikes: bool,
}

/// One recorded voltage trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probe {
    /// Population index.
    pub pop: usize,
    /// Population-local neuron index.
    pub neuron: usize,
    /// Global neuron id.
    pub global: usize,
    /// Sampling interval in steps (samples after steps n with (n+1) % every == 0, and at t = 0).
    pub every: u32,
    /// What it samples: [`PROBE_V`], [`PROBE_SYN_AMPA`], [`PROBE_SYN_GABA`],
    /// [`PROBE_DSYN_AMPA`] or [`PROBE_DSYN_GABA`]: the variable's index in its model's
    /// probe list ([`crate::model::NeuronModel::probes`]).
    pub var: u32,
    /// The variable's name (`variable = "..."`).
    pub name: &'static str,
}

/// A probe of the membrane potential (mV).
pub const PROBE_V: u32 = 0;
/// A probe of the AMPA synaptic variable (pA for exp_current, nS for exp_conductance).
pub const PROBE_SYN_AMPA: u32 = 1;
/// A probe of the GABA-A synaptic variable.
pub const PROBE_SYN_GABA: u32 = 2;
/// A probe of the AMPA synaptic variable's derivative state (alpha kinds: dI/dt in
/// pA/ms, dg/dt in nS/ms).
pub const PROBE_DSYN_AMPA: u32 = 3;
/// A probe of the GABA-A synaptic variable's derivative state (alpha kinds).
pub const PROBE_DSYN_GABA: u32 = 4;

impl Probe {
    /// The config name of what it samples.
    pub fn var_name(&self) -> &'static str {
        self.name
    }
}

/// The per-neuron model data of a network.
#[derive(Debug, Clone)]
pub enum Neurons {
    /// Leaky integrate-and-fire: derived constants (f64) and absolute initial voltages.
    Lif {
        /// One per neuron.
        params: Vec<LifParams<f64>>,
        /// V(0) in mV, one per neuron.
        v0: Vec<f64>,
    },
    /// Herrera-Valdez neurons with instantaneous graded coupling (spec hv-model.md).
    Hv(HvNeurons),
    /// Point models ([`crate::model::point`]): constant sets, set per neuron, state.
    Point(PointNeurons),
}

impl Neurons {
    /// `"lif"` or `"hv"`.
    pub fn model(&self) -> &'static str {
        match self {
            Neurons::Lif { .. } => "lif",
            Neurons::Hv(_) => "hv",
            Neurons::Point(p) => p.model,
        }
    }
}

/// The per-neuron data of an HV network.
#[derive(Debug, Clone)]
pub struct HvNeurons {
    /// Derived constants (f64), one per neuron.
    pub params: Vec<HvParams<f64>>,
    /// v(0) in mV.
    pub v0: Vec<f64>,
    /// w(0).
    pub w0: Vec<f64>,
    /// Incoming synapses (CSR by post, ascending pre, both receptors).
    pub incoming: Incoming,
    /// Receptor pulses grouped by neuron, in `[[stimulus]]` order: neuron i's are
    /// `pulses[params[i].pulse_at..][..params[i].pulse_len]`.
    pub pulses: Vec<HvPulse<f64>>,
}

/// External drive resolved to global neuron ids and steps.
#[derive(Debug, Clone)]
pub enum Drive {
    /// Poisson events (spec lif-model.md section 5), drawn from the counter-based
    /// generator keyed by (seed, `stream`, neuron, step).
    Poisson {
        /// Stream id (the stimulus' index in the config).
        stream: u32,
        /// Target neurons (global ids, ascending).
        neurons: Vec<u32>,
        /// Events per step, split for the generator.
        plan: PoissonPlan,
        /// Weight per event.
        weight: f64,
        /// Receptor index.
        receptor: u32,
        /// Delay in steps (≥ 1).
        delay: u32,
    },
    /// A current step, active on steps `on..off`.
    CurrentPulse {
        /// Target neurons (global ids, ascending).
        neurons: Vec<u32>,
        /// First active step.
        on: u64,
        /// First inactive step.
        off: u64,
        /// Amplitude (pA).
        amplitude: f64,
    },
    /// A piecewise-constant current: `amplitude[k]` on steps `on[k]..on[k + 1]` (the last
    /// to the end); a sequence of [`Drive::CurrentPulse`]s.
    StepCurrent {
        /// Target neurons (global ids, ascending).
        neurons: Vec<u32>,
        /// Change steps, ascending.
        on: Vec<u64>,
        /// Amplitudes (pA).
        amplitude: Vec<f64>,
    },
    /// HV: receptor activation added to P^A or P^G on steps `on..off` (spec hv-model.md 5).
    ReceptorPulse {
        /// Target neurons (global ids, ascending).
        neurons: Vec<u32>,
        /// First active step.
        on: u64,
        /// First inactive step.
        off: u64,
        /// Receptor index.
        receptor: u32,
        /// Activation (dimensionless).
        amplitude: f64,
    },
}

/// Everything a backend needs to simulate.
#[derive(Debug, Clone)]
pub struct Network {
    /// A name for plots and summaries (the config file stem).
    pub name: String,
    /// Time step (ms).
    pub dt_ms: f64,
    /// Steps to simulate: round(duration/dt).
    pub steps: u64,
    /// Seed.
    pub seed: u64,
    /// Threads of the CPU backend (`[simulation] threads`, or `--threads`); `None`:
    /// every core. Nothing else in the network depends on it.
    pub threads: Option<usize>,
    /// Populations in config order.
    pub populations: Vec<PopulationInfo>,
    /// Total neurons.
    pub n: usize,
    /// Model data.
    pub neurons: Neurons,
    /// Outgoing synapses.
    pub synapses: Synapses,
    /// Scale of the i32 input accumulators (f32 runs).
    pub fixed: FixedPoint,
    /// Voltage probes.
    pub probes: Vec<Probe>,
    /// External drive, in config order.
    pub drives: Vec<Drive>,
    /// Source populations ([`crate::source`]), in config order.
    pub sources: Vec<crate::source::SourcePop>,
    /// The model's primary parameters (its `PARAMS`, in that order), one value
    /// per neuron each: what the derived constants of `neurons` were computed from.
    pub primary: Vec<(&'static str, Vec<f64>)>,
    /// Per input accumulator (2·neuron + receptor): the most |weight| that can arrive
    /// in one step (every incoming synapse at once, plus the most events Poisson drive
    /// can produce). The fixed-point scale is chosen from it, and a checkpoint's delay
    /// ring is checked against it.
    pub input_bound: Vec<f64>,
}

impl Network {
    /// Builds a network from a validated config (`duration_ms`, `seed` override the config's).
    pub fn build(cfg: &Config, duration_ms: Option<f64>, seed: Option<u64>) -> Result<Network> {
        let dt = cfg.dt_ms();
        let duration = duration_ms.unwrap_or(cfg.simulation.duration_ms);
        if !(duration >= 0.0 && duration.is_finite()) {
            return Err(Error::Usage(format!(
                "--duration-ms: expected a non-negative number, got {duration}"
            )));
        }
        let seed = seed.or(cfg.simulation.seed).unwrap_or(1234);
        // refuse what cannot run before allocating anything
        crate::estimate::check(cfg, duration, crate::estimate::available_bytes())?;
        let mut populations = Vec::new();
        let mut offset = 0;
        for p in &cfg.populations {
            let record_spikes = match &cfg.record.spikes {
                SpikeSelection::All(b) => *b,
                SpikeSelection::Some(list) => list.contains(&p.name),
            };
            populations.push(PopulationInfo {
                name: p.name.clone(),
                offset,
                size: p.size as usize,
                record_spikes,
            });
            offset += p.size as usize;
        }
        let n = offset;
        let offsets: Vec<usize> = populations.iter().map(|p| p.offset).collect();
        let mut mats = Vec::with_capacity(cfg.projections.len());
        for (i, pr) in cfg.projections.iter().enumerate() {
            mats.push(build_projection(cfg, i, pr, dt, seed)?);
        }
        let proj_err = |(i, e): (usize, String)| {
            let pr = &cfg.projections[i];
            Error::config(
                &cfg.path,
                format!("projection[{i}] ({} -> {}).{e}", pr.pre, pr.post),
            )
        };
        let mut synapses = Synapses::new(&offsets, mats, seed, dt);
        // every value drawn once: checked, the largest delay, the input bound
        let mut bound = synapses.scan(n).map_err(proj_err)?;
        let drives = build_drives(cfg, &populations, dt)?;
        let sources = crate::source::build_sources(cfg, &populations, dt, seed)?;
        // Worst case per accumulator: all synapses at once, plus the most events a
        // Poisson stream can produce in one step (the length of its inversion table per
        // block, a hard cap).
        for d in &drives {
            if let Drive::Poisson {
                neurons,
                plan,
                weight,
                receptor,
                delay,
                ..
            } = d
            {
                for &i in neurons {
                    bound[2 * i as usize + *receptor as usize] +=
                        plan.cdf.len() as f64 * plan.blocks as f64 * weight.abs();
                }
                synapses.max_delay = synapses.max_delay.max(*delay);
            }
        }
        let mut primary = Vec::new();
        let dynamics = crate::model::by_name(cfg.model()).and_then(|m| m.dynamics());
        let neurons = if cfg.model() == "hv" {
            Neurons::Hv(build_hv(
                cfg,
                &populations,
                &synapses,
                &drives,
                dt,
                seed,
                &mut primary,
            )?)
        } else if let Some(d) = dynamics {
            build_point(cfg, d, dt, seed, &mut primary)?
        } else {
            build_lif(cfg, n, dt, seed, &mut primary)?
        };
        let fixed = connectivity::choose_fixed_point(bound.iter().copied().fold(0.0, f64::max));
        let mut probes = Vec::new();
        for v in &cfg.record.voltage {
            let pi = cfg.population_index(&v.population).expect("validated");
            let pop = &populations[pi];
            let every = v.every_steps.unwrap_or(1) as u32;
            // the variable's index in the model's probe list (validated); for LIF the
            // PROBE_* codes
            let names =
                crate::model::by_name(&cfg.populations[pi].model).map_or(&[][..], |m| m.probes());
            let var = names
                .iter()
                .position(|x| *x == v.variable.as_deref().unwrap_or("v_mv"))
                .unwrap_or(0);
            let name = names.get(var).copied().unwrap_or("v_mv");
            let var = var as u32;
            let neurons: Vec<usize> = match &v.neurons {
                Some(ns) => ns.iter().map(|&x| x as usize).collect(),
                None => (0..pop.size).collect(),
            };
            for neuron in neurons {
                probes.push(Probe {
                    pop: pi,
                    neuron,
                    global: pop.offset + neuron,
                    every,
                    var,
                    name,
                });
            }
        }
        let name = cfg
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "network".into());
        Ok(Network {
            name,
            dt_ms: dt,
            steps: (duration / dt).round() as u64,
            seed,
            threads: cfg.simulation.threads.map(|t| t as usize),
            populations,
            n,
            neurons,
            synapses,
            fixed,
            probes,
            drives,
            primary,
            sources,
            input_bound: bound,
        })
    }

    /// Whether the GPU can reproduce the CPU bit for bit: true when every operation of
    /// the model is correctly rounded in WGSL (add, multiply, int → float). Conductance
    /// synapses need `exp` and a division, which GPUs compute to a few ulp only.
    pub fn bitwise_portable(&self) -> bool {
        match &self.neurons {
            Neurons::Lif { params, .. } => params.iter().all(|p| !lif::is_conductance(p.kind)),
            // HV needs exp() throughout
            Neurons::Hv(_) => false,
            Neurons::Point(p) => p.dynamics.bitwise_portable(),
        }
    }

    /// The population a global neuron id belongs to, and its local index.
    pub fn locate(&self, global: usize) -> (usize, usize) {
        let p = self
            .populations
            .partition_point(|p| p.offset + p.size <= global);
        (p, global - self.populations[p].offset)
    }
}

fn build_drives(cfg: &Config, pops: &[PopulationInfo], dt: f64) -> Result<Vec<Drive>> {
    let mut out = Vec::new();
    for (i, s) in cfg.stimuli.iter().enumerate() {
        let pop = &pops[cfg.population_index(s.target()).expect("validated")];
        let mut neurons: Vec<u32> = match s.neurons() {
            Some(ns) => ns
                .iter()
                .map(|&k| (pop.offset + k as usize) as u32)
                .collect(),
            None => (pop.offset..pop.offset + pop.size)
                .map(|k| k as u32)
                .collect(),
        };
        neurons.sort_unstable();
        neurons.dedup();
        out.push(match s {
            Stimulus::Poisson {
                rate_hz,
                weight,
                receptor,
                delay_ms,
                ..
            } => Drive::Poisson {
                stream: i as u32,
                neurons,
                plan: PoissonPlan::new(rate_hz * dt / 1000.0),
                weight: *weight,
                receptor: if receptor == "ampa" { AMPA } else { GABA_A },
                delay: delay_ms.map(|d| (d / dt).round() as u32).unwrap_or(1),
            },
            Stimulus::CurrentPulse {
                start_ms,
                stop_ms,
                amplitude_pa,
                ..
            } => Drive::CurrentPulse {
                neurons,
                on: (start_ms / dt).round() as u64,
                off: (stop_ms / dt).round() as u64,
                amplitude: *amplitude_pa,
            },
            Stimulus::DcCurrent {
                amplitude_pa,
                start_ms,
                stop_ms,
                ..
            } => Drive::CurrentPulse {
                neurons,
                on: (start_ms.unwrap_or(0.0) / dt).round() as u64,
                off: stop_ms
                    .map(|s| (s / dt).round().min(u64::MAX as f64) as u64)
                    .unwrap_or(u64::MAX),
                amplitude: *amplitude_pa,
            },
            Stimulus::StepCurrent {
                times_ms,
                amplitudes_pa,
                ..
            } => Drive::StepCurrent {
                neurons,
                on: times_ms.iter().map(|t| (t / dt).round() as u64).collect(),
                amplitude: amplitudes_pa.clone(),
            },
            Stimulus::ReceptorPulse {
                receptor,
                amplitude,
                start_ms,
                stop_ms,
                ..
            } => Drive::ReceptorPulse {
                neurons,
                on: (start_ms / dt).round() as u64,
                off: (stop_ms / dt).round() as u64,
                receptor: if receptor == "ampa" { AMPA } else { GABA_A },
                amplitude: *amplitude,
            },
        });
    }
    Ok(out)
}

/// The parameter columns of population `pi` for a model's table: each key's values, one
/// per neuron (the config's, else the default), drawn from the stream (seed, 1, pi, key
/// index). Every model's build goes through here, so the same config draws the same
/// values whatever the model.
fn param_columns(
    cfg: &Config,
    pi: usize,
    p: &crate::config::Population,
    table: &'static [Param],
    seed: u64,
) -> Result<HashMap<&'static str, Vec<f64>>> {
    let size = p.size as usize;
    let mut cols = HashMap::new();
    for (ki, param) in table.iter().enumerate() {
        let key = param.name;
        let spec = p
            .params
            .get(key)
            .cloned()
            .unwrap_or(ValueSpec::Const(param.default));
        let at = format!("population[{pi}] ('{}').params.{key}", p.name);
        cols.insert(
            key,
            resolve_values(cfg, &at, &spec, size, seed, &[1, pi as u64, ki as u64])?,
        );
    }
    Ok(cols)
}

fn build_lif(
    cfg: &Config,
    n: usize,
    dt: f64,
    seed: u64,
    primary: &mut Vec<(&'static str, Vec<f64>)>,
) -> Result<Neurons> {
    *primary = lif::PARAMS
        .iter()
        .map(|p| (p.name, Vec::with_capacity(n)))
        .collect();
    let mut params = Vec::with_capacity(n);
    let mut v0 = Vec::with_capacity(n);
    for (pi, p) in cfg.populations.iter().enumerate() {
        let size = p.size as usize;
        if crate::source::is_source(&p.model) {
            // a slot that never fires by itself: no input, an infinite threshold
            let default = |k: &str| {
                lif::PARAMS
                    .iter()
                    .find(|p| p.name == k)
                    .expect("a LIF key")
                    .default
            };
            let prim = LifPrimary::from_lookup(default);
            let mut q = lif::derive(&prim, lif::SYN_EXP_CURRENT, dt);
            q.theta = f64::INFINITY;
            params.extend(std::iter::repeat_n(q, size));
            v0.extend(std::iter::repeat_n(prim.e_l_mv, size));
            for (key, col) in primary.iter_mut() {
                col.extend(std::iter::repeat_n(default(key), size));
            }
            continue;
        }
        // checked by config validation against the model's table
        let kind = lif::kind_code(p.synapse.as_deref()).unwrap_or(lif::SYN_EXP_CURRENT);
        let cols = param_columns(cfg, pi, p, lif::PARAMS, seed)?;
        let e_l = cols["e_l_mv"].clone();
        let v_spec = p.init.get("v_mv").cloned();
        let v = match v_spec {
            Some(spec) => {
                let at = format!("population[{pi}] ('{}').init.v_mv", p.name);
                resolve_values(cfg, &at, &spec, size, seed, &[2, pi as u64, 0])?
            }
            None => e_l.clone(), // default: at rest
        };
        #[allow(
            clippy::needless_range_loop,
            reason = "i indexes every parameter column"
        )]
        for i in 0..size {
            let prim = LifPrimary::from_lookup(|k| cols[k][i]);
            check_lif(&cfg.path, pi, &p.name, i, &prim)?;
            params.push(lif::derive(&prim, kind, dt));
        }
        for (key, col) in primary.iter_mut() {
            col.extend_from_slice(&cols[*key]);
        }
        v0.extend(v);
    }
    Ok(Neurons::Lif { params, v0 })
}

/// Point-model neurons ([`crate::model::point`]): each population's parameter columns
/// (as for LIF), checked and derived per neuron, the constants stored once per distinct
/// set; source populations are silent slots.
fn build_point(
    cfg: &Config,
    d: &'static dyn PointDynamics,
    dt: f64,
    seed: u64,
    primary: &mut Vec<(&'static str, Vec<f64>)>,
) -> Result<Neurons> {
    let model = crate::model::by_name(cfg.model()).expect("validated");
    let table = model.params();
    *primary = table.iter().map(|p| (p.name, Vec::new())).collect();
    let mut per_neuron: Vec<Option<Vec<f64>>> = Vec::new();
    let mut state0 = Vec::new();
    let mut synapse = Vec::new();
    let default = |k: &str| {
        table
            .iter()
            .find(|p| p.name == k)
            .map_or(0.0, |p| p.default)
    };
    for (pi, p) in cfg.populations.iter().enumerate() {
        let size = p.size as usize;
        // the population's kind, as the model names it (the default when not given)
        let kind = model
            .synapses()
            .iter()
            .copied()
            .find(|k| Some(*k) == p.synapse.as_deref())
            .or(model.synapses().first().copied())
            .unwrap_or("");
        if crate::source::is_source(&p.model) {
            synapse.push("");
            let s = d.initial(&default, &|_| None);
            for _ in 0..size {
                per_neuron.push(None);
                state0.extend_from_slice(&s);
            }
            for (key, col) in primary.iter_mut() {
                col.extend(std::iter::repeat_n(default(key), size));
            }
            continue;
        }
        synapse.push(kind);
        let cols = param_columns(cfg, pi, p, table, seed)?;
        let mut inits: HashMap<&str, Vec<f64>> = HashMap::new();
        for (ki, init) in model.init().iter().enumerate() {
            if let Some(spec) = p.init.get(init.name) {
                let at = format!("population[{pi}] ('{}').init.{}", p.name, init.name);
                inits.insert(
                    init.name,
                    resolve_values(cfg, &at, spec, size, seed, &[2, pi as u64, ki as u64])?,
                );
            }
        }
        for i in 0..size {
            let prim = |k: &str| cols[k][i];
            if let Err((key, why)) = d.check(&prim) {
                return Err(Error::config(
                    &cfg.path,
                    format!(
                        "population[{pi}] ('{}').params.{key} (neuron {i}): {why}",
                        p.name
                    ),
                ));
            }
            let init = |k: &str| inits.get(k).map(|c| c[i]);
            let s = d.initial(&prim, &init);
            if let Some((k, x)) = d.state().iter().zip(&s).find(|(_, x)| !x.is_finite()) {
                return Err(Error::config(
                    &cfg.path,
                    format!(
                        "population[{pi}] ('{}').init.{k} (neuron {i}): expected a finite number, got {x}",
                        p.name
                    ),
                ));
            }
            state0.extend_from_slice(&s);
            per_neuron.push(Some(d.derive(&prim, kind, dt)));
        }
        for (key, col) in primary.iter_mut() {
            col.extend_from_slice(&cols[*key]);
        }
    }
    let mut neurons = PointNeurons {
        model: model.name(),
        dynamics: d,
        consts: Vec::new(),
        set: Vec::new(),
        synapse,
        state0,
    };
    neurons.set_constants(per_neuron.into_iter());
    Ok(Neurons::Point(neurons))
}

/// HV neurons: per-neuron primary values (any [`ValueSpec`]), derived constants, initial
/// state (default: the resting state of spec 8; `w = w_inf(v)` when only `v_mv` is
/// given), the incoming coupling and the receptor pulses.
fn build_hv(
    cfg: &Config,
    pops: &[PopulationInfo],
    synapses: &Synapses,
    drives: &[Drive],
    dt: f64,
    seed: u64,
    primary: &mut Vec<(&'static str, Vec<f64>)>,
) -> Result<HvNeurons> {
    let n = pops.iter().map(|p| p.size).sum();
    *primary = hv::PARAMS
        .iter()
        .map(|p| (p.name, Vec::with_capacity(n)))
        .collect();
    let mut params = Vec::with_capacity(n);
    let mut v0 = Vec::with_capacity(n);
    let mut w0 = Vec::with_capacity(n);
    for (pi, p) in cfg.populations.iter().enumerate() {
        let size = p.size as usize;
        let cols = param_columns(cfg, pi, p, hv::PARAMS, seed)?;
        let init = |k: usize, key: &str| -> Result<Option<Vec<f64>>> {
            p.init
                .get(key)
                .map(|spec| {
                    let at = format!("population[{pi}] ('{}').init.{key}", p.name);
                    resolve_values(cfg, &at, spec, size, seed, &[2, pi as u64, k as u64])
                })
                .transpose()
        };
        for (key, col) in primary.iter_mut() {
            col.extend_from_slice(&cols[*key]);
        }
        let v_init = init(0, "v_mv")?;
        let w_init = init(1, "w")?;
        // the resting state depends on the parameters (not on i_e): cache the last one
        let mut rest_cache: Option<(HvPrimary, (f64, f64))> = None;
        for i in 0..size {
            let prim = HvPrimary::from_lookup(|k| cols[k][i]);
            if let Some((key, msg)) = prim.check() {
                return Err(Error::config(
                    &cfg.path,
                    format!(
                        "population[{pi}] ('{}').params.{key} (neuron {i}): {msg}",
                        p.name
                    ),
                ));
            }
            let mut rest = || -> Result<(f64, f64)> {
                let key = HvPrimary {
                    i_e_pa: 0.0,
                    ..prim
                };
                if let Some((_, r)) = rest_cache.as_ref().filter(|(k, _)| *k == key) {
                    return Ok(*r);
                }
                let r = hv::resting_state(&key).ok_or_else(|| {
                    Error::config(
                        &cfg.path,
                        format!(
                            "population[{pi}] ('{}') neuron {i}: these parameters have no resting state between -200 and 100 mV; give init.v_mv",
                            p.name
                        ),
                    )
                })?;
                rest_cache = Some((key, r));
                Ok(r)
            };
            let (v, w) = match (&v_init, &w_init) {
                (Some(v), Some(w)) => (v[i], w[i]),
                (Some(v), None) => (v[i], hv::w_inf(&prim, v[i])),
                (None, Some(w)) => (rest()?.0, w[i]),
                (None, None) => rest()?,
            };
            if !(w > 0.0 && w <= 1.0) {
                return Err(Error::config(
                    &cfg.path,
                    format!(
                        "population[{pi}] ('{}').init.w (neuron {i}): expected 0 < w <= 1, got {w} (w = 0 is invariant: the K channels could never open)",
                        p.name
                    ),
                ));
            }
            params.push(hv::derive(&prim, dt));
            v0.push(v);
            w0.push(w);
        }
    }
    // receptor pulses, grouped by neuron in [[stimulus]] order
    let mut per_neuron: Vec<Vec<HvPulse<f64>>> = vec![Vec::new(); n];
    for d in drives {
        if let Drive::ReceptorPulse {
            neurons,
            on,
            off,
            receptor,
            amplitude,
        } = d
        {
            let q = HvPulse {
                on: *on as u32,
                off: *off as u32,
                receptor: *receptor,
                amp: *amplitude,
            };
            for &i in neurons {
                per_neuron[i as usize].push(q);
            }
        }
    }
    let mut pulses = Vec::new();
    for (p, list) in params.iter_mut().zip(per_neuron) {
        p.pulse_at = pulses.len() as u32;
        p.pulse_len = list.len() as u32;
        pulses.extend(list);
    }
    Ok(HvNeurons {
        params,
        v0,
        w0,
        incoming: Incoming::from_outgoing(n, synapses)
            .map_err(|(i, e)| Error::config(&cfg.path, format!("projection[{i}].{e}")))?,
        pulses,
    })
}

#[allow(
    clippy::neg_cmp_op_on_partial_ord,
    reason = "!(x > 0) also rejects NaN"
)]
pub(crate) fn check_lif(
    file: &Path,
    pi: usize,
    name: &str,
    i: usize,
    p: &LifPrimary,
) -> Result<()> {
    let at = |k: &str| format!("population[{pi}] ('{name}').params.{k} (neuron {i})");
    for (k, v) in [
        ("tau_m_ms", p.tau_m_ms),
        ("c_m_pf", p.c_m_pf),
        ("tau_ampa_ms", p.tau_ampa_ms),
        ("tau_gaba_a_ms", p.tau_gaba_a_ms),
    ] {
        if !(v > 0.0) {
            return Err(Error::config(
                file,
                format!("{}: expected a positive value, got {v}", at(k)),
            ));
        }
    }
    if !(p.t_ref_ms >= 0.0) {
        return Err(Error::config(
            file,
            format!(
                "{}: expected a non-negative value, got {}",
                at("t_ref_ms"),
                p.t_ref_ms
            ),
        ));
    }
    if p.v_reset_mv >= p.v_th_mv {
        return Err(Error::config(
            file,
            format!(
                "{}: v_reset_mv ({}) must be below v_th_mv ({})",
                at("v_reset_mv"),
                p.v_reset_mv,
                p.v_th_mv
            ),
        ));
    }
    Ok(())
}

/// Resolves a per-neuron value source into `size` values.
pub fn resolve_values(
    cfg: &Config,
    at: &str,
    spec: &ValueSpec,
    size: usize,
    seed: u64,
    tag: &[u64],
) -> Result<Vec<f64>> {
    let mut rng = connectivity::stream(seed, tag);
    Ok(match spec {
        ValueSpec::Const(x) => vec![*x; size],
        ValueSpec::Uniform { uniform: [a, b] } => {
            if a == b {
                vec![*a; size]
            } else {
                (0..size).map(|_| rng.random_range(*a..*b)).collect()
            }
        }
        ValueSpec::Normal { normal: [m, sd] } => {
            let d =
                Normal::new(*m, *sd).map_err(|e| Error::config(&cfg.path, format!("{at}: {e}")))?;
            (0..size).map(|_| d.sample(&mut rng)).collect()
        }
        ValueSpec::Linspace { linspace: [a, b] } => {
            if size == 1 {
                vec![*a]
            } else {
                (0..size)
                    .map(|i| a + i as f64 * (b - a) / (size - 1) as f64)
                    .collect()
            }
        }
        ValueSpec::File { file, column } => read_column(&cfg.resolve(file), column, size, at)?,
        ValueSpec::Array(a) => a.clone(),
    })
}

/// A CSV file with a header row, fields trimmed: the reader and the headers. Errors go
/// through `err` (which names the file and what it is for).
pub(crate) fn csv_reader(
    path: &Path,
    err: &impl Fn(String) -> Error,
) -> Result<(csv::Reader<std::fs::File>, csv::StringRecord)> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| match e.kind() {
            csv::ErrorKind::Io(_) => err(format!("cannot read: {e}")),
            _ => err(e.to_string()),
        })?;
    let headers = rdr.headers().map_err(|e| err(e.to_string()))?.clone();
    Ok((rdr, headers))
}

/// The neuron index in column `ni` of a record on file line `row`, checked against the
/// population's `size`.
pub(crate) fn csv_neuron(
    rec: &csv::StringRecord,
    ni: usize,
    row: usize,
    size: usize,
) -> std::result::Result<usize, String> {
    let n: usize = rec
        .get(ni)
        .unwrap_or("")
        .parse()
        .map_err(|_| format!("line {row}: 'neuron' is not a non-negative integer"))?;
    if n >= size {
        return Err(format!(
            "line {row}: neuron {n} is out of range (the population has {size})"
        ));
    }
    Ok(n)
}

/// Reads `column` of a CSV with a `neuron` column covering 0..size exactly once.
pub fn read_column(path: &Path, column: &str, size: usize, at: &str) -> Result<Vec<f64>> {
    let err = |msg: String| Error::config(path, format!("{msg} (for {at})"));
    let (mut rdr, headers) = csv_reader(path, &err)?;
    let find = |name: &str| headers.iter().position(|h| h == name);
    let ni = find("neuron").ok_or_else(|| err("no 'neuron' column".into()))?;
    let ci = find(column).ok_or_else(|| {
        err(format!(
            "no '{column}' column; the columns are: {}",
            headers.iter().collect::<Vec<_>>().join(", ")
        ))
    })?;
    let mut out = vec![f64::NAN; size];
    let mut seen = vec![false; size];
    for (line, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| err(e.to_string()))?;
        let row = line + 2;
        let n = csv_neuron(&rec, ni, row, size).map_err(&err)?;
        let v: f64 = rec
            .get(ci)
            .unwrap_or("")
            .parse()
            .map_err(|_| err(format!("line {row}: '{column}' is not a number")))?;
        if seen[n] {
            return Err(err(format!("line {row}: neuron {n} appears twice")));
        }
        seen[n] = true;
        out[n] = v;
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(err(format!(
            "neuron {missing} is missing (the file must give every neuron of the population)"
        )));
    }
    Ok(out)
}

fn build_projection(
    cfg: &Config,
    i: usize,
    pr: &crate::config::Projection,
    dt: f64,
    seed: u64,
) -> Result<ProjectionMatrix> {
    let pre = cfg.population_index(&pr.pre).expect("validated");
    let post = cfg.population_index(&pr.post).expect("validated");
    let (n_pre, n_post) = (
        cfg.populations[pre].size as usize,
        cfg.populations[post].size as usize,
    );
    let receptor = if pr.receptor == "ampa" { AMPA } else { GABA_A };
    let same = pre == post;
    let mut rng = connectivity::stream(seed, &[3, i as u64]);
    let at = format!("projection[{i}] ({} -> {})", pr.pre, pr.post);
    let rule_err = |e: String| Error::config(&cfg.path, format!("{at}.connect: {e}"));
    let (mut file_w, mut file_d) = (None, None);
    let pattern = match &pr.connect {
        Connect::FixedProbability { p, autapses } => {
            connectivity::fixed_probability(n_pre, n_post, *p, same && !autapses, &mut rng)
        }
        Connect::FixedIndegree {
            k,
            autapses,
            multapses,
        } => connectivity::fixed_indegree(
            n_pre,
            n_post,
            *k as usize,
            same && !autapses,
            *multapses,
            &mut rng,
        )
        .map_err(rule_err)?,
        Connect::FixedOutdegree {
            k,
            autapses,
            multapses,
        } => connectivity::fixed_outdegree(
            n_pre,
            n_post,
            *k as usize,
            same && !autapses,
            *multapses,
            &mut rng,
        )
        .map_err(rule_err)?,
        Connect::FixedTotalNumber {
            n,
            autapses,
            multapses,
        } => connectivity::fixed_total_number(
            n_pre,
            n_post,
            *n as usize,
            same && !autapses,
            *multapses,
            &mut rng,
        )
        .map_err(rule_err)?,
        Connect::OneToOne => connectivity::one_to_one(n_pre),
        Connect::AllToAll { autapses } => {
            connectivity::all_to_all(n_pre, n_post, same && !autapses)
        }
        Connect::File { path } => {
            let path = cfg.resolve(path);
            let hv = cfg.model() == "hv";
            let edges = read_edges(&path, n_pre, n_post, dt, hv, &at)?;
            if cfg.is_conductance(post)
                && let Some(k) = edges.iter().position(|e| e.2.is_some_and(|w| w < 0.0))
            {
                return Err(Error::config(
                    &path,
                    format!(
                        "line {}: weight {} nS is negative, but '{}' has conductance synapses: weights must be >= 0 (for {at})",
                        k + 2,
                        edges[k].2.unwrap(),
                        pr.post
                    ),
                ));
            }
            let (pattern, w, d) = connectivity::from_edges(n_pre, n_post, edges);
            (file_w, file_d) = (w, d);
            pattern
        }
        Connect::Edges {
            pre: a,
            post: b,
            weight,
            delay_ms,
        } => {
            // validated: lengths, ranges, weights and delays
            let edges = (0..a.len())
                .map(|k| {
                    (
                        a[k] as u32,
                        b[k] as u32,
                        weight.as_ref().map(|x| x[k]),
                        delay_ms.as_ref().map(|x| (x[k] / dt).round() as u32),
                    )
                })
                .collect();
            let (pattern, w, d) = connectivity::from_edges(n_pre, n_post, edges);
            (file_w, file_d) = (w, d);
            pattern
        }
    };
    // Weights and delays: the file's columns, else the projection's specs (drawn when
    // the network's table is filled).
    let weights = match file_w {
        Some(w) => PerSynapse::Each(w),
        None => {
            let spec = pr.weight.as_ref().ok_or_else(|| {
                Error::config(
                    &cfg.path,
                    format!("{at}.weight: missing, and the edge file has no weight column: give one of the two"),
                )
            })?;
            match spec.as_const() {
                Some(w) => PerSynapse::Uniform(w),
                None => PerSynapse::Drawn {
                    spec: *spec,
                    tag: [4, i as u64],
                },
            }
        }
    };
    let delays = match (file_d, &pr.delay_ms) {
        (Some(d), _) => PerSynapse::Each(d),
        (None, None) => PerSynapse::Uniform(1),
        (None, Some(spec)) => match spec.as_const() {
            Some(ms) => PerSynapse::Uniform(
                connectivity::delay_steps(ms, dt)
                    .map_err(|e| Error::config(&cfg.path, format!("{at}.delay_ms: {e}")))?,
            ),
            None => PerSynapse::Drawn {
                spec: *spec,
                tag: [5, i as u64],
            },
        },
    };
    Ok(ProjectionMatrix {
        pre,
        post,
        receptor,
        pattern,
        weights,
        delays,
    })
}

#[allow(
    clippy::neg_cmp_op_on_partial_ord,
    reason = "!(x >= 1) also rejects NaN"
)]
fn read_edges(
    path: &Path,
    n_pre: usize,
    n_post: usize,
    dt: f64,
    hv: bool,
    at: &str,
) -> Result<Vec<connectivity::Edge>> {
    let err = |msg: String| Error::config(path, format!("{msg} (for {at})"));
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| err(format!("cannot read edge file: {e}")))?;
    let headers = rdr.headers().map_err(|e| err(e.to_string()))?.clone();
    let find = |name: &str| headers.iter().position(|h| h == name);
    let (Some(pi), Some(qi)) = (find("pre"), find("post")) else {
        return Err(err(
            "expected a header with columns pre,post[,weight][,delay_ms]".into(),
        ));
    };
    let wi = find("weight");
    let di = find("delay_ms");
    if hv && di.is_some() {
        return Err(err(
            "a delay_ms column: projections into HV populations take no delay (the coupling is instantaneous)".into(),
        ));
    }
    let mut edges = Vec::new();
    // Byte records: an edge file of a large network has tens of millions of rows.
    let mut rec = csv::ByteRecord::new();
    let mut row = 1;
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(err(e.to_string())),
        }
        row += 1;
        let field = |c: usize| std::str::from_utf8(rec.get(c).unwrap_or(b"")).unwrap_or("");
        let idx = |c: usize, name: &str, n: usize| -> Result<u32> {
            let v: usize = field(c).parse().map_err(|_| {
                err(format!(
                    "line {row}: '{name}' is not a non-negative integer"
                ))
            })?;
            if v >= n {
                return Err(err(format!(
                    "line {row}: {name} index {v} is out of range (population size {n})"
                )));
            }
            Ok(v as u32)
        };
        let a = idx(pi, "pre", n_pre)?;
        let b = idx(qi, "post", n_post)?;
        let w = match wi {
            Some(c) => {
                let w: f64 = field(c)
                    .parse()
                    .map_err(|_| err(format!("line {row}: weight is not a number")))?;
                if !w.is_finite() {
                    return Err(err(format!("line {row}: weight is not finite")));
                }
                if hv && w < 0.0 {
                    return Err(err(format!(
                        "line {row}: HV weights are receptor activations and must be >= 0, got {w}"
                    )));
                }
                Some(w)
            }
            None => None,
        };
        let d = match di {
            Some(c) => {
                let d: f64 = field(c)
                    .parse()
                    .map_err(|_| err(format!("line {row}: delay_ms is not a number")))?;
                if !((d / dt).round() >= 1.0) {
                    return Err(err(format!(
                        "line {row}: delay {d} ms is shorter than one step (dt = {dt} ms)"
                    )));
                }
                Some(
                    connectivity::delay_steps(d, dt)
                        .map_err(|e| err(format!("line {row}: {e}")))?,
                )
            }
            None => None,
        };
        edges.push((a, b, w, d));
    }
    Ok(edges)
}
