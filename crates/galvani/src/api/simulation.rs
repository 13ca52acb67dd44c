//! The library API every face sits on (the CLI, the Python package, later PyNN): a
//! [`Simulation`] owns a built [`Network`], one backend (CPU f32/f64 or GPU) and a step
//! counter. It runs the shared schedule ([`sim::run_from`]) from the current step for
//! more steps, so `run(100 ms)` then `run(900 ms)` feeds exactly what `run(1000 ms)` would,
//! byte for byte; it resets to t = 0 by rebuilding the backend from the network, and
//! reads and writes per-neuron parameters and state between runs.

use crate::backend::cpu::CpuBackend;
use crate::backend::gpu::{self, GpuBackend, GpuContext};
use crate::backend::{Backend, BackendInfo, BackendKind, StateVar, state_check};
use crate::checkpoint::Checkpoint;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::estimate::MAX_STEPS;
use crate::model::{hv, lif};
use crate::network::{Network, Neurons};
use crate::real::Precision;
use crate::sim::{self, Collect, Monitor, RunStats, Sink};

/// The engine a simulation runs on.
enum Engine {
    Cpu32(CpuBackend<f32>),
    Cpu64(CpuBackend<f64>),
    Gpu(Box<GpuBackend>),
    /// None: the old engine is dropped before the next is built (a large network's
    /// tables then never exist twice); left in place only when building the next failed.
    Empty,
}

/// The error of a simulation whose backend could not be rebuilt.
fn no_engine() -> Error {
    Error::Usage(
        "the simulation has no backend: building it failed at the last reset; call reset() again"
            .into(),
    )
}

/// Calls `$body` with `$b` bound to the engine's backend, whatever its type (an error
/// from the enclosing function when there is none).
macro_rules! with_backend {
    ($engine:expr, $b:ident => $body:expr) => {
        match $engine {
            Engine::Cpu32($b) => $body,
            Engine::Cpu64($b) => $body,
            Engine::Gpu($b) => {
                let $b = &mut **$b;
                $body
            }
            Engine::Empty => return Err(no_engine()),
        }
    };
}

/// Picks the device for `kind`: `Some` GPU context, or `None` for the CPU backend.
/// `auto` takes a hardware GPU adapter if there is one (a software one, such as lavapipe,
/// only when named by `GALVANI_ADAPTER`), else the CPU, with a one-line notice on stderr
/// unless `quiet`. f64 needs the CPU.
pub fn open_gpu(
    kind: BackendKind,
    precision: Precision,
    quiet: bool,
) -> Result<Option<GpuContext>> {
    match kind {
        BackendKind::Cpu => Ok(None),
        BackendKind::Gpu => {
            if precision == Precision::F64 {
                return Err(Error::Usage(
                    "--precision f64 needs --backend cpu (the GPU backend runs f32)".into(),
                ));
            }
            GpuContext::new().map(Some)
        }
        BackendKind::Auto => {
            if precision == Precision::F64 {
                return Ok(None);
            }
            match GpuContext::new() {
                // A software rasteriser (lavapipe, WARP, SwiftShader) runs on the same
                // cores as the CPU backend and 15–25× slower: take it only when named.
                Ok(c)
                    if c.adapter_info().device_type == wgpu::DeviceType::Cpu
                        && std::env::var_os(gpu::ADAPTER_ENV).is_none() =>
                {
                    if !quiet {
                        eprintln!(
                            "galvani: the only GPU adapter is a software renderer ({}), slower than the CPU backend; \
                             running on the CPU backend instead (--backend gpu uses it anyway)",
                            c.describe()
                        );
                    }
                    Ok(None)
                }
                Ok(c) => Ok(Some(c)),
                Err(e) => {
                    if !quiet {
                        eprintln!("galvani: {e}; running on the CPU backend instead");
                    }
                    Ok(None)
                }
            }
        }
    }
}

/// A network being simulated: run it (in pieces), read what it recorded, reset it, read
/// and change its neurons in between.
pub struct Simulation {
    net: Network,
    gpu: Option<GpuContext>,
    precision: Precision,
    engine: Engine,
    step: u64,
    records: Collect,
    spikes_per_pop: Vec<u64>,
    released: bool,
    /// CRC-32 of the network's structure and synapses, computed when built (checked when
    /// a checkpoint is loaded).
    fingerprint: u32,
}

impl std::fmt::Debug for Simulation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulation")
            .field("network", &self.net.name)
            .field("neurons", &self.net.n)
            .field("step", &self.step)
            .field("info", &self.info())
            .finish_non_exhaustive()
    }
}

impl Simulation {
    /// Builds the network of a validated config (its seed; the duration only sets
    /// [`Simulation::default_steps`]) and a backend for it.
    pub fn from_config(
        cfg: &Config,
        kind: BackendKind,
        precision: Precision,
        quiet: bool,
    ) -> Result<Self> {
        let net = Network::build(cfg, None, None)?;
        let gpu = open_gpu(kind, precision, quiet)?;
        Simulation::new(net, gpu, precision)
    }

    /// A simulation of `net` on the GPU of `gpu`, or on the CPU in `precision` when
    /// `gpu` is `None` (see [`open_gpu`]).
    pub fn new(net: Network, gpu: Option<GpuContext>, precision: Precision) -> Result<Self> {
        Self::create(net, gpu, precision, false)
    }

    /// Like [`Simulation::new`] for one long run (`galvani run`, `resume`): the CPU
    /// backend builds its synapse tables while it frees the network's patterns
    /// ([`CpuBackend::consuming`]), so the build needs about the larger of the two; the
    /// GPU backend's host copy is freed after the upload. [`Simulation::reset`] is then
    /// impossible, as after [`Simulation::release_host_synapses`].
    pub fn new_lean(net: Network, gpu: Option<GpuContext>, precision: Precision) -> Result<Self> {
        Self::create(net, gpu, precision, true)
    }

    fn create(
        mut net: Network,
        gpu: Option<GpuContext>,
        precision: Precision,
        lean: bool,
    ) -> Result<Self> {
        if gpu.is_some() && precision == Precision::F64 {
            return Err(Error::Usage(
                "precision f64 needs the CPU backend (the GPU backend runs f32)".into(),
            ));
        }
        // before a lean build frees the patterns it hashes
        let fingerprint = fingerprint(&net);
        let engine = match (lean, gpu.as_ref(), precision) {
            (true, None, Precision::F32) => Engine::Cpu32(CpuBackend::consuming(&mut net)?),
            (true, None, Precision::F64) => Engine::Cpu64(CpuBackend::consuming(&mut net)?),
            _ => Self::engine(&net, gpu.as_ref(), precision)?,
        };
        if lean {
            net.synapses.release();
        }
        Ok(Simulation {
            fingerprint,
            spikes_per_pop: vec![0; net.populations.len()],
            net,
            gpu,
            precision,
            engine,
            step: 0,
            records: Collect::default(),
            released: lean,
        })
    }

    fn engine(net: &Network, gpu: Option<&GpuContext>, precision: Precision) -> Result<Engine> {
        Ok(match (gpu, precision) {
            (Some(ctx), _) => Engine::Gpu(Box::new(GpuBackend::new(ctx, net)?)),
            (None, Precision::F32) => Engine::Cpu32(CpuBackend::new(net)?),
            (None, Precision::F64) => Engine::Cpu64(CpuBackend::new(net)?),
        })
    }

    /// Moves the simulation to another engine: the GPU of `gpu` or the CPU in
    /// `precision` on `threads` threads (`None`: the network's, else every core), then
    /// resets it to t = 0 ([`Simulation::reset`]).
    pub fn switch_engine(
        &mut self,
        gpu: Option<GpuContext>,
        precision: Precision,
        threads: Option<usize>,
    ) -> Result<()> {
        if gpu.is_some() && precision == Precision::F64 {
            return Err(Error::Usage(
                "precision f64 needs the CPU backend (the GPU backend runs f32)".into(),
            ));
        }
        self.net.threads = threads.or(self.net.threads);
        self.gpu = gpu;
        self.precision = precision;
        self.reset()
    }

    /// The network.
    pub fn network(&self) -> &Network {
        &self.net
    }

    /// Backend, device and precision.
    pub fn info(&self) -> BackendInfo {
        match &self.engine {
            Engine::Cpu32(b) => b.info(),
            Engine::Cpu64(b) => b.info(),
            Engine::Gpu(b) => b.info(),
            Engine::Empty => BackendInfo {
                backend: "none".into(),
                device: "none (building the backend failed; reset() tries again)".into(),
                precision: self.precision,
                threads: None,
            },
        }
    }

    /// Steps simulated since t = 0.
    pub fn step(&self) -> u64 {
        self.step
    }

    /// The simulated time (ms): steps · dt.
    pub fn t_ms(&self) -> f64 {
        self.step as f64 * self.net.dt_ms
    }

    /// The steps of the config's `duration_ms` (what `galvani run` simulates).
    pub fn default_steps(&self) -> u64 {
        self.net.steps
    }

    /// The number of steps in `ms`, which must be a whole number of steps (within 1e-6
    /// of one) and not negative.
    pub fn steps_in(&self, ms: f64) -> Result<u64> {
        let dt = self.net.dt_ms;
        let k = (ms / dt).round();
        if !(ms.is_finite() && ms >= 0.0) || (ms / dt - k).abs() > 1e-6 * k.max(1.0) {
            return Err(Error::Usage(format!(
                "run: expected a non-negative whole number of steps (dt = {dt} ms), got {ms} ms"
            )));
        }
        Ok(k as u64)
    }

    /// Spikes per population since t = 0 (all populations, recorded or not).
    pub fn spike_counts(&self) -> &[u64] {
        &self.spikes_per_pop
    }

    /// Runs `steps` more steps into the simulation's own records ([`Simulation::records`]).
    pub fn run_steps(&mut self, steps: u64, monitor: &mut dyn Monitor) -> Result<RunStats> {
        let mut records = std::mem::take(&mut self.records);
        let res = self.run_steps_into(steps, &mut records, monitor);
        self.records = records;
        res
    }

    /// Runs `steps` more steps, handing the recorded data to `sink` instead (the CLI's
    /// CSV files). The t = 0 sample goes to the sink when the run starts at t = 0.
    /// Stops early, between batches, when `monitor` asks; the stats then say
    /// `complete: false`, and [`Simulation::step`] counts what ran.
    pub fn run_steps_into<S: Sink<f32> + Sink<f64>>(
        &mut self,
        steps: u64,
        sink: &mut S,
        monitor: &mut dyn Monitor,
    ) -> Result<RunStats> {
        let (net, first) = (&self.net, self.step);
        if first.checked_add(steps).is_none_or(|end| end > MAX_STEPS) {
            return Err(Error::Usage(format!(
                "run: {steps} steps from step {first} go past the {MAX_STEPS} steps (2^32 − 1) a simulation can count"
            )));
        }
        let res = with_backend!(&mut self.engine, b => sim::run_from(net, b, first, steps, sink, monitor));
        let stats = res?;
        self.step += stats.steps;
        for (a, b) in self.spikes_per_pop.iter_mut().zip(&stats.spikes_per_pop) {
            *a += b;
        }
        Ok(stats)
    }

    /// What has been recorded since t = 0 (by [`Simulation::run_steps`]).
    pub fn records(&self) -> &Collect {
        &self.records
    }

    /// Frees the network's host copy of the synapses (the backend holds its own): for a
    /// single long run of a large network. [`Simulation::reset`] is impossible afterwards.
    pub fn release_host_synapses(&mut self) {
        self.net.synapses.release();
        self.released = true;
    }

    /// Back to t = 0: the initial state, empty synaptic input and delay queues, cleared
    /// records. Parameters changed with [`Simulation::set`] keep their new values (as in
    /// PyNN); initial values are those of the network description.
    pub fn reset(&mut self) -> Result<()> {
        if self.released {
            return Err(Error::Usage(
                "reset: the host copy of the synapses was released".into(),
            ));
        }
        // the old engine goes first, so that two sets of tables never coexist
        self.engine = Engine::Empty;
        self.engine = Self::engine(&self.net, self.gpu.as_ref(), self.precision)?;
        self.step = 0;
        self.records = Collect::default();
        self.spikes_per_pop.iter_mut().for_each(|c| *c = 0);
        Ok(())
    }

    /// The names [`Simulation::get`] and [`Simulation::set`] take: the state variables
    /// (`v_mv`, and `w` for HV) and the model's parameters.
    pub fn variables(&self) -> Vec<&'static str> {
        // the model's initial values (v_mv first) are its state variables
        let mut v: Vec<&'static str> = self.model().init().iter().map(|i| i.name).collect();
        v.extend(self.net.primary.iter().map(|(k, _)| *k));
        v
    }

    fn population(&self, name: &str) -> Result<(usize, usize)> {
        self.net
            .populations
            .iter()
            .find(|p| p.name == name)
            .map(|p| (p.offset, p.size))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "unknown population '{name}'; the populations are {}",
                    self.net
                        .populations
                        .iter()
                        .map(|p| format!("'{}'", p.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })
    }

    /// The network's neuron model, as registered in [`crate::model::MODELS`].
    fn model(&self) -> &'static dyn crate::model::NeuronModel {
        crate::model::by_name(self.net.neurons.model()).expect("every network model is registered")
    }

    fn state_var(&self, key: &str) -> Option<StateVar> {
        if !self.model().init().iter().any(|i| i.name == key) {
            return None;
        }
        if let Neurons::Point(p) = &self.net.neurons {
            return match p.dynamics.state().iter().position(|s| *s == key) {
                Some(0) => Some(StateVar::V),
                Some(k) => Some(StateVar::Point(k as u32, p.dynamics.state()[k])),
                None => None,
            };
        }
        match key {
            "v_mv" => Some(StateVar::V),
            "w" => Some(StateVar::W),
            _ => None,
        }
    }

    fn unknown_key(&self, key: &str) -> Error {
        Error::Usage(format!(
            "unknown variable '{key}' for {} neurons; expected one of: {}",
            self.net.neurons.model(),
            self.variables().join(", ")
        ))
    }

    /// The source population of this name, if it is one.
    fn source_index(&self, population: &str) -> Option<usize> {
        let pi = self
            .net
            .populations
            .iter()
            .position(|p| p.name == population)?;
        self.net.sources.iter().position(|s| s.pop == pi)
    }

    /// Replaces the spike times (ms) of the `spike_source` population `population`, one
    /// list per neuron, from the next step on (times already past are never emitted).
    pub fn set_spike_times(&mut self, population: &str, times_ms: Vec<Vec<f64>>) -> Result<()> {
        self.population(population)?;
        let at = format!("set_spike_times('{population}')");
        let Some(k) = self.source_index(population) else {
            return Err(Error::Usage(format!(
                "{at}: '{population}' is not a spike_source population"
            )));
        };
        let mut src = self.net.sources[k].clone();
        src.set_times(times_ms, self.net.dt_ms)
            .map_err(|e| Error::Usage(format!("{at}: {e}")))?;
        self.net.sources[k] = src;
        let net = &self.net;
        with_backend!(&mut self.engine, b => b.write_sources(net))
    }

    /// The spike times (ms) of a `spike_source` population, one list per neuron.
    pub fn spike_times(&self, population: &str) -> Result<Vec<Vec<f64>>> {
        self.population(population)?;
        match self
            .source_index(population)
            .map(|k| &self.net.sources[k].kind)
        {
            Some(crate::source::SourceKind::Array { times_ms, .. }) => Ok(times_ms.clone()),
            _ => Err(Error::Usage(format!(
                "spike_times('{population}'): '{population}' is not a spike_source population"
            ))),
        }
    }

    /// Replaces the current of stimulus `index` (a `current_pulse`, `dc_current` or
    /// `step_current`) by a step current: `amplitudes_pa[k]` from `times_ms[k]` on (0
    /// before the first), from the next step on.
    pub fn set_current(
        &mut self,
        index: usize,
        times_ms: &[f64],
        amplitudes_pa: &[f64],
    ) -> Result<()> {
        use crate::network::Drive;
        let at = format!("set_current({index})");
        let Some(d) = self.net.drives.get(index) else {
            return Err(Error::Usage(format!(
                "{at}: there are {} stimuli",
                self.net.drives.len()
            )));
        };
        let neurons = match d {
            Drive::CurrentPulse { neurons, .. } | Drive::StepCurrent { neurons, .. } => {
                neurons.clone()
            }
            _ => {
                return Err(Error::Usage(format!(
                    "{at}: stimulus {index} is not a current (current_pulse, dc_current or step_current)"
                )));
            }
        };
        crate::source::check_steps(times_ms, amplitudes_pa)
            .map_err(|e| Error::Usage(format!("{at}: {e}")))?;
        let dt = self.net.dt_ms;
        self.net.drives[index] = Drive::StepCurrent {
            neurons,
            on: times_ms.iter().map(|t| (t / dt).round() as u64).collect(),
            amplitude: amplitudes_pa.to_vec(),
        };
        let (net, step) = (&self.net, self.step);
        with_backend!(&mut self.engine, b => b.write_currents(net, step))
    }

    /// The current value of a state variable or parameter for each neuron of
    /// `population` (population-local order).
    pub fn get(&mut self, population: &str, key: &str) -> Result<Vec<f64>> {
        let (off, size) = self.population(population)?;
        if let Some(k) = self.source_index(population) {
            return self.net.sources[k].poisson_param(key).ok_or_else(|| {
                Error::Usage(format!(
                    "unknown variable '{key}' for the source population '{population}'{}",
                    if self.net.sources[k].poisson_param("rate_hz").is_some() {
                        "; expected one of: rate_hz, start_ms, duration_ms"
                    } else {
                        " (its spike times: spike_times)"
                    }
                ))
            });
        }
        if let Some(var) = self.state_var(key) {
            let all = with_backend!(&mut self.engine, b => b.read_state(var))?;
            return Ok(all[off..off + size].to_vec());
        }
        let col = self
            .net
            .primary
            .iter()
            .find(|(k, _)| *k == key)
            .ok_or_else(|| self.unknown_key(key))?;
        Ok(col.1[off..off + size].to_vec())
    }

    /// Sets a state variable or parameter of every neuron of `population`: `values` holds
    /// one value, or one per neuron. Parameters are checked as a config's are, their
    /// derived constants recomputed on the host and uploaded; the membrane potential is
    /// kept (absolute mV) when a parameter changes. Takes effect from the next step.
    pub fn set(&mut self, population: &str, key: &str, values: &[f64]) -> Result<()> {
        let (off, size) = self.population(population)?;
        let at = format!("set('{population}', '{key}')");
        if values.len() != 1 && values.len() != size {
            return Err(Error::Usage(format!(
                "{at}: expected one value or one per neuron ({size}), got {}",
                values.len()
            )));
        }
        let value = |i: usize| values[if values.len() == 1 { 0 } else { i }];
        if let Some(k) = self.source_index(population) {
            let mut src = self.net.sources[k].clone();
            src.set_poisson(key, values, self.net.dt_ms)
                .map_err(|e| Error::Usage(format!("{at}: {e}")))?;
            self.net.sources[k] = src;
            let net = &self.net;
            return with_backend!(&mut self.engine, b => b.write_sources(net));
        }
        if let Some(bad) = (0..size).map(value).find(|x| !x.is_finite()) {
            return Err(Error::Usage(format!(
                "{at}: expected finite numbers, got {bad}"
            )));
        }
        if let Some(var) = self.state_var(key) {
            if var == StateVar::W
                && let Some(bad) = (0..size).map(value).find(|w| !(*w > 0.0 && *w <= 1.0))
            {
                return Err(Error::Usage(format!(
                    "{at}: expected 0 < w <= 1, got {bad}"
                )));
            }
            let mut all = with_backend!(&mut self.engine, b => b.read_state(var))?;
            for i in 0..size {
                all[off + i] = value(i);
            }
            let net = &self.net;
            return with_backend!(&mut self.engine, b => b.write_state(net, var, &all));
        }
        let Some(ki) = self.net.primary.iter().position(|(k, _)| *k == key) else {
            return Err(self.unknown_key(key));
        };
        // check and derive on copies first: a rejected value changes nothing
        let mut col = self.net.primary[ki].1.clone();
        for i in 0..size {
            col[off + i] = value(i);
        }
        let neurons = {
            let prim = &self.net.primary;
            let lookup = |i: usize, k: &str| {
                if k == key {
                    col[i]
                } else {
                    prim.iter().find(|(n, _)| *n == k).expect("a model key").1[i]
                }
            };
            self.derive_neurons(&at, off..off + size, &lookup)?
        };
        let v = with_backend!(&mut self.engine, b => b.read_state(StateVar::V))?;
        self.net.primary[ki].1 = col;
        self.net.neurons = neurons;
        let net = &self.net;
        with_backend!(&mut self.engine, b => {
            b.write_params(net)?;
            // V stays where it was. Only a change of the potential the state is stored
            // relative to (LIF: E_L) moves it; otherwise the state is left as it is,
            // since writing V back would round u through u + E_L − E_L.
            if b.read_state(StateVar::V)? != v {
                b.write_state(net, StateVar::V, &v)?;
            }
            Ok(())
        })
    }

    /// The complete state as a [`Checkpoint`] (between runs): the backend's state, the
    /// step, the spike counts since t = 0 and every parameter column, with metadata that
    /// identifies the network. Records (spikes, voltages kept in memory) are outputs and
    /// not part of it.
    pub fn checkpoint(&mut self) -> Result<Checkpoint> {
        let mut ck = Checkpoint::new();
        with_backend!(&mut self.engine, b => b.save_state(&mut ck))?;
        for (k, col) in &self.net.primary {
            ck.put(&format!("param.{k}"), bytemuck::cast_slice(col).to_vec());
        }
        // what set_spike_times, set (Poisson sources) and set_current may have changed
        ck.put(
            INPUTS,
            serde_json::to_vec(&self.inputs()).expect("serialises"),
        );
        let info = self.info();
        let meta = serde_json::json!({
            "step": self.step,
            "t_ms": self.t_ms(),
            "dt_ms": self.net.dt_ms,
            "seed": self.net.seed,
            "model": self.net.neurons.model(),
            "neurons": self.net.n,
            "synapses": self.net.synapses.len(),
            "populations": self.net.populations.iter().map(|p| serde_json::json!([p.name, p.size])).collect::<Vec<_>>(),
            "fingerprint": self.fingerprint,
            "backend": info.backend,
            "device": info.device,
            "precision": info.precision.to_string(),
            "spikes_per_pop": self.spikes_per_pop,
        });
        ck.meta.insert("simulation".into(), meta);
        Ok(ck)
    }

    /// Writes [`Simulation::checkpoint`] to `path` atomically (a crash during the write
    /// leaves the previous file intact).
    pub fn save(&mut self, path: &std::path::Path) -> Result<()> {
        self.checkpoint()?.write_atomic(path)
    }

    /// Loads a checkpoint file into this simulation ([`Simulation::restore`]). Only a
    /// regular file no larger than a checkpoint of this network can be is read
    /// ([`crate::backend::state_check::max_checkpoint_bytes`]).
    pub fn load(&mut self, path: &std::path::Path) -> Result<()> {
        let limit = state_check::max_checkpoint_bytes(&self.net, self.precision);
        let ck = Checkpoint::read(path, limit)?;
        self.restore(&ck)
    }

    /// Continues from a checkpoint saved by a simulation of the same network (same
    /// config, seed and dt: checked through a fingerprint of the built network) in the
    /// same precision; f32 checkpoints load into the CPU and the GPU backend alike. Sets
    /// the step and spike counts to the checkpoint's, restores changed parameters and
    /// inputs, and clears the in-memory records (what ran before is in the outputs of
    /// that run).
    ///
    /// The checkpoint is untrusted: every section and metadata field is checked against
    /// this network first (lengths, ranges, finiteness, schedules, the step), and a
    /// refused checkpoint leaves the simulation exactly as it was.
    pub fn restore(&mut self, ck: &Checkpoint) -> Result<()> {
        let plan = self.check_restore(ck)?;
        self.apply_restore(ck, plan)
    }

    /// Everything [`Simulation::restore`] checks, without changing anything.
    fn check_restore(&self, ck: &Checkpoint) -> Result<Restore> {
        let meta = ck
            .meta
            .get("simulation")
            .and_then(|m| m.as_object())
            .ok_or_else(|| ck.error("no simulation metadata"))?;
        let num = |k: &str| meta.get(k).and_then(|v| v.as_u64());
        let text = |k: &str| meta.get(k).and_then(|v| v.as_str()).unwrap_or("?");
        let mismatch = |what: &str, theirs: String, ours: String| {
            ck.error(format!(
                "it was saved from a different network or setup: {what} {theirs} there, {ours} here"
            ))
        };
        if num("neurons") != Some(self.net.n as u64) {
            return Err(mismatch(
                "neurons",
                text_or_num(meta, "neurons"),
                self.net.n.to_string(),
            ));
        }
        if num("synapses") != Some(self.net.synapses.len() as u64) {
            return Err(mismatch(
                "synapses",
                text_or_num(meta, "synapses"),
                self.net.synapses.len().to_string(),
            ));
        }
        if meta.get("dt_ms").and_then(|v| v.as_f64()) != Some(self.net.dt_ms) {
            return Err(mismatch(
                "dt_ms",
                text_or_num(meta, "dt_ms"),
                self.net.dt_ms.to_string(),
            ));
        }
        if num("seed") != Some(self.net.seed) {
            return Err(mismatch(
                "seed",
                text_or_num(meta, "seed"),
                self.net.seed.to_string(),
            ));
        }
        if text("model") != self.net.neurons.model() {
            return Err(mismatch(
                "model",
                text("model").into(),
                self.net.neurons.model().into(),
            ));
        }
        if num("fingerprint") != Some(self.fingerprint as u64) {
            return Err(mismatch(
                "network fingerprint",
                text_or_num(meta, "fingerprint"),
                self.fingerprint.to_string(),
            ));
        }
        let precision = self.info().precision.to_string();
        if text("precision") != precision {
            return Err(mismatch("precision", text("precision").into(), precision));
        }
        let step = num("step").ok_or_else(|| {
            ck.error(format!(
                "metadata 'step': expected a whole number of steps, got {}",
                text_or_num(meta, "step")
            ))
        })?;
        if step > MAX_STEPS {
            return Err(ck.error(format!(
                "metadata 'step': {step}, more than the {MAX_STEPS} steps a simulation can count"
            )));
        }
        let counts = self.check_counts(ck, meta, step)?;
        let params = self.check_params(ck)?;
        let inputs = self.check_inputs(ck)?;
        let neurons = params.as_ref().map_or(&self.net.neurons, |(_, n)| n);
        let new_current = |i: usize| {
            inputs
                .as_ref()
                .and_then(|(_, c)| c.iter().find(|(j, _)| *j == i).map(|(_, d)| d))
        };
        // the backends keep a stimulus current exactly when there are current pulses
        let stim = !crate::backend::cpu::current_pulses::<f64>(
            self.net
                .drives
                .iter()
                .enumerate()
                .map(|(i, d)| new_current(i).unwrap_or(d)),
        )
        .is_empty();
        match self.precision {
            Precision::F32 => state_check::check_state::<f32>(ck, &self.net, neurons, stim),
            Precision::F64 => state_check::check_state::<f64>(ck, &self.net, neurons, stim),
        }?;
        Ok(Restore {
            step,
            counts,
            params,
            inputs,
        })
    }

    /// The checkpoint's spike counts: one whole number per population, each at most
    /// one spike per neuron and step.
    fn check_counts(
        &self,
        ck: &Checkpoint,
        meta: &serde_json::Map<String, serde_json::Value>,
        step: u64,
    ) -> Result<Vec<u64>> {
        let pops = &self.net.populations;
        let bad = |msg: String| ck.error(format!("metadata 'spikes_per_pop': {msg}"));
        let list = meta
            .get("spikes_per_pop")
            .and_then(|v| v.as_array())
            .ok_or_else(|| bad("missing; expected one spike count per population".into()))?;
        if list.len() != pops.len() {
            return Err(bad(format!(
                "{} counts, expected one per population ({})",
                list.len(),
                pops.len()
            )));
        }
        let mut counts = Vec::with_capacity(pops.len());
        for (p, x) in pops.iter().zip(list) {
            let c = x.as_u64().ok_or_else(|| {
                bad(format!(
                    "'{}': {x}, expected a whole number of spikes",
                    p.name
                ))
            })?;
            let most = step.saturating_mul(p.size as u64);
            if c > most {
                return Err(bad(format!(
                    "'{}': {c} spikes, more than its {} neurons can fire in {step} steps",
                    p.name, p.size
                )));
            }
            counts.push(c);
        }
        Ok(counts)
    }

    /// The checkpoint's parameter columns, when they differ from ours: the new columns
    /// and the model data derived from them (every changed value checked as
    /// [`Simulation::set`] checks it).
    fn check_params(&self, ck: &Checkpoint) -> Result<Option<ParamRestore>> {
        let n = self.net.n;
        let mut cols = Vec::with_capacity(self.net.primary.len());
        let mut changed = vec![false; n];
        for (key, ours) in &self.net.primary {
            let name = format!("param.{key}");
            let col: Vec<f64> = bytemuck::pod_collect_to_vec(ck.reader(&name, n, 8)?.rest());
            for (i, (a, b)) in ours.iter().zip(&col).enumerate() {
                if a.to_bits() != b.to_bits() {
                    if !b.is_finite() {
                        let (p, local) = self.net.locate(i);
                        return Err(ck.error(format!(
                            "section '{name}': neuron {local} of '{}': {b}, expected a finite number",
                            self.net.populations[p].name
                        )));
                    }
                    changed[i] = true;
                }
            }
            cols.push((*key, col));
        }
        if !changed.contains(&true) {
            return Ok(None);
        }
        let neurons = {
            let lookup =
                |i: usize, k: &str| cols.iter().find(|(n, _)| *n == k).expect("a model key").1[i];
            let at = match ck.source() {
                Some(p) => format!("checkpoint {}: parameters", p.display()),
                None => "checkpoint: parameters".to_string(),
            };
            self.derive_neurons(&at, (0..n).filter(|&i| changed[i]), &lookup)?
        };
        Ok(Some((cols, neurons)))
    }

    /// The checkpoint's inputs (section `net.inputs`), when they differ from ours: the
    /// new source populations and stimuli, each checked as the setters check them.
    fn check_inputs(&self, ck: &Checkpoint) -> Result<Option<InputRestore>> {
        if !ck.has(INPUTS) {
            return Ok(None);
        }
        let theirs: serde_json::Value = serde_json::from_slice(ck.section(INPUTS)?)
            .map_err(|e| ck.error(format!("section '{INPUTS}': {e}")))?;
        if theirs == self.inputs() {
            return Ok(None);
        }
        self.parse_inputs(&theirs)
            .map(Some)
            .map_err(|e| ck.error(format!("section '{INPUTS}': {e}")))
    }

    /// Applies a checked checkpoint: nothing here can refuse it (only a device error
    /// can fail).
    fn apply_restore(&mut self, ck: &Checkpoint, plan: Restore) -> Result<()> {
        let Restore {
            step,
            counts,
            params,
            inputs,
        } = plan;
        if let Some((cols, neurons)) = params {
            self.net.primary = cols;
            self.net.neurons = neurons;
            let net = &self.net;
            with_backend!(&mut self.engine, b => b.write_params(net))?;
        }
        if let Some((sources, currents)) = inputs {
            self.net.sources = sources;
            for (i, d) in currents {
                self.net.drives[i] = d;
            }
            let net = &self.net;
            with_backend!(&mut self.engine, b => {
                b.write_sources(net)?;
                b.write_currents(net, step)
            })?;
        }
        with_backend!(&mut self.engine, b => b.load_state(ck))?;
        self.step = step;
        self.spikes_per_pop = counts;
        self.records = Collect::default();
        Ok(())
    }

    /// The model data with neurons `indices` re-derived from the parameter values
    /// `value(neuron, key)`, each neuron checked as a config's are (`at` names where
    /// the values came from); the rest as they are.
    fn derive_neurons(
        &self,
        at: &str,
        indices: impl Iterator<Item = usize>,
        value: &dyn Fn(usize, &str) -> f64,
    ) -> Result<Neurons> {
        let dt = self.net.dt_ms;
        let mut neurons = self.net.neurons.clone();
        if let Neurons::Point(pn) = &mut neurons {
            // every neuron's constants, the changed ones re-derived, stored again once
            // per distinct set
            let k = pn.dynamics.n_consts();
            let mut sets: Vec<Option<Vec<f64>>> = pn
                .set
                .iter()
                .map(|&s| {
                    (s != crate::model::point::SILENT)
                        .then(|| pn.consts[s as usize * k..(s as usize + 1) * k].to_vec())
                })
                .collect();
            for i in indices {
                if sets[i].is_none() {
                    continue;
                }
                let (pop, local) = self.net.locate(i);
                let lookup = |key: &str| value(i, key);
                if let Err((key, msg)) = pn.dynamics.check(&lookup) {
                    return Err(Error::Usage(format!(
                        "{at}: {key} (neuron {local} of '{}'): {msg}",
                        self.net.populations[pop].name
                    )));
                }
                sets[i] = Some(pn.dynamics.derive(&lookup, pn.synapse[pop], dt));
            }
            pn.set_constants(sets.into_iter());
            return Ok(neurons);
        }
        for i in indices {
            let (pop, local) = self.net.locate(i);
            let lookup = |k: &str| value(i, k);
            match &mut neurons {
                Neurons::Lif { params, .. } => {
                    let prim = lif::LifPrimary::from_lookup(lookup);
                    crate::network::check_lif(
                        std::path::Path::new(at),
                        pop,
                        &self.net.populations[pop].name,
                        local,
                        &prim,
                    )?;
                    params[i] = lif::derive(&prim, params[i].kind, dt);
                }
                Neurons::Hv(h) => {
                    let prim = hv::HvPrimary::from_lookup(lookup);
                    if let Some((k, msg)) = prim.check() {
                        return Err(Error::Usage(format!(
                            "{at}: {k} (neuron {local} of '{}'): {msg}",
                            self.net.populations[pop].name
                        )));
                    }
                    let (pulse_at, pulse_len) = (h.params[i].pulse_at, h.params[i].pulse_len);
                    h.params[i] = hv::derive(&prim, dt);
                    h.params[i].pulse_at = pulse_at;
                    h.params[i].pulse_len = pulse_len;
                }
                Neurons::Point(_) => unreachable!("handled above"),
            }
        }
        Ok(neurons)
    }

    /// Spikes of `population` recorded since t = 0: (times in ms, population-local
    /// neuron indices), sorted by time, then neuron. Empty when its spikes are not
    /// recorded.
    pub fn spikes(&self, population: &str) -> Result<(Vec<f64>, Vec<u32>)> {
        self.population(population)?;
        let p = self
            .net
            .populations
            .iter()
            .position(|q| q.name == population)
            .expect("found") as u32;
        let (mut t, mut n) = (Vec::new(), Vec::new());
        for (s, &time) in self.records.spikes.iter().zip(&self.records.times_ms) {
            if s.1 == p {
                t.push(time);
                n.push(s.2);
            }
        }
        Ok((t, n))
    }

    /// Voltage samples of `population`'s probes since t = 0, the t = 0 sample first:
    /// (times in ms, population-local neuron indices, mV), in recording order (by time,
    /// then probe).
    pub fn voltages(&self, population: &str) -> Result<(Vec<f64>, Vec<u32>, Vec<f64>)> {
        self.samples(population, "v_mv")
    }

    /// Samples of `population`'s probes of `variable` (what its model can record: `v_mv`,
    /// and e.g. `syn_ampa`, `syn_gaba_a`, `dsyn_ampa`, `dsyn_gaba_a` for LIF, `u` for
    /// Izhikevich; see `[record] voltage`), as [`Simulation::voltages`].
    pub fn samples(
        &self,
        population: &str,
        variable: &str,
    ) -> Result<(Vec<f64>, Vec<u32>, Vec<f64>)> {
        self.population(population)?;
        // what the population's model can record (`record.voltage` variables)
        let probes = if self.source_index(population).is_some() {
            &[][..]
        } else {
            self.model().probes()
        };
        if !probes.contains(&variable) {
            return Err(Error::Usage(format!(
                "samples: unknown variable '{variable}' for '{population}'; expected {}",
                probes.join(", ")
            )));
        }
        let (mut t, mut n, mut v) = (Vec::new(), Vec::new(), Vec::new());
        for &(step, k, x) in &self.records.voltages {
            let probe = &self.net.probes[k];
            if self.net.populations[probe.pop].name == population && probe.var_name() == variable {
                t.push(
                    step.map(|s| sim::stamp_ms(s, self.net.dt_ms))
                        .unwrap_or(0.0),
                );
                n.push(probe.neuron as u32);
                v.push(x);
            }
        }
        Ok((t, n, v))
    }
}

/// A metadata value as text, for messages.
fn text_or_num(meta: &serde_json::Map<String, serde_json::Value>, key: &str) -> String {
    match meta.get(key) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => "(missing)".into(),
    }
}

/// The checkpoint section of the inputs that can change between runs.
const INPUTS: &str = "net.inputs";

impl Simulation {
    /// The inputs that can change between runs, as JSON: the source populations' spike
    /// times and Poisson parameters, and the current stimuli's schedules (in steps).
    fn inputs(&self) -> serde_json::Value {
        use crate::network::Drive;
        use crate::source::SourceKind;
        let sources: Vec<_> = self
            .net
            .sources
            .iter()
            .map(|s| match &s.kind {
                SourceKind::Array { times_ms, .. } => {
                    serde_json::json!({ "pop": s.pop, "times_ms": times_ms })
                }
                SourceKind::Poisson { params, .. } => {
                    serde_json::json!({ "pop": s.pop, "poisson": params })
                }
            })
            .collect();
        let currents: Vec<_> = self
            .net
            .drives
            .iter()
            .enumerate()
            .filter_map(|(i, d)| match d {
                Drive::CurrentPulse {
                    on, off, amplitude, ..
                } => Some(serde_json::json!({ "index": i, "pulse": [on, off, amplitude] })),
                Drive::StepCurrent { on, amplitude, .. } => {
                    Some(serde_json::json!({ "index": i, "on": on, "amplitude": amplitude }))
                }
                _ => None,
            })
            .collect();
        serde_json::json!({ "sources": sources, "currents": currents })
    }

    /// Reads the inputs of [`Simulation::inputs`] (from a checkpoint) into new source
    /// populations and replacement current stimuli, without changing anything: every
    /// source and every current stimulus of this network exactly once, each checked as
    /// its setter checks it (spike times, Poisson parameters per neuron, schedules in
    /// ascending steps with finite amplitudes).
    fn parse_inputs(&self, v: &serde_json::Value) -> std::result::Result<InputRestore, String> {
        use crate::network::Drive;
        let bad = |what: &str| format!("{what}: unexpected contents");
        let f64s = |x: &serde_json::Value, open_ended: bool| -> Option<Vec<f64>> {
            // JSON has no infinity: an open-ended duration_ms is written as null
            x.as_array()?
                .iter()
                .map(|y| {
                    y.as_f64()
                        .or_else(|| (open_ended && y.is_null()).then_some(f64::INFINITY))
                })
                .collect()
        };
        let u64s = |x: &serde_json::Value| -> Option<Vec<u64>> {
            x.as_array()?.iter().map(|y| y.as_u64()).collect()
        };
        let dt = self.net.dt_ms;
        let mut sources = self.net.sources.clone();
        let mut seen = vec![false; sources.len()];
        let list = v["sources"].as_array().ok_or_else(|| bad("sources"))?;
        for s in list {
            let pop = s["pop"].as_u64().ok_or_else(|| bad("sources[].pop"))?;
            let k = self
                .net
                .sources
                .iter()
                .position(|x| x.pop as u64 == pop)
                .ok_or_else(|| format!("population {pop} is not a source population here"))?;
            if std::mem::replace(&mut seen[k], true) {
                return Err(format!("source population {pop} appears twice"));
            }
            let src = &mut sources[k];
            let name = &self.net.populations[src.pop].name;
            if let Some(t) = s.get("times_ms") {
                let lists: Option<Vec<Vec<f64>>> = t
                    .as_array()
                    .ok_or_else(|| bad("times_ms"))?
                    .iter()
                    .map(|l| f64s(l, false))
                    .collect();
                src.set_times(lists.ok_or_else(|| bad("times_ms"))?, dt)
                    .map_err(|e| format!("'{name}': {e}"))?;
            } else {
                let cols = s["poisson"].as_array().ok_or_else(|| bad("poisson"))?;
                let params = crate::source::POISSON_PARAMS;
                if cols.len() != params.len() {
                    return Err(format!(
                        "'{name}': {} Poisson parameter columns, expected {}",
                        cols.len(),
                        params.len()
                    ));
                }
                for (param, col) in params.iter().zip(cols) {
                    let col =
                        f64s(col, param.name == "duration_ms").ok_or_else(|| bad(param.name))?;
                    if col.len() != src.size {
                        return Err(format!(
                            "'{name}': {} values of {}, expected one per neuron ({})",
                            col.len(),
                            param.name,
                            src.size
                        ));
                    }
                    src.set_poisson(param.name, &col, dt)
                        .map_err(|e| format!("'{name}': {e}"))?;
                }
            }
        }
        if let Some(k) = seen.iter().position(|s| !s) {
            return Err(format!(
                "source population '{}' is missing",
                self.net.populations[self.net.sources[k].pop].name
            ));
        }
        let mut currents = Vec::new();
        let list = v["currents"].as_array().ok_or_else(|| bad("currents"))?;
        for c in list {
            let i = c["index"].as_u64().ok_or_else(|| bad("currents[].index"))?;
            let neurons = match usize::try_from(i).ok().and_then(|i| self.net.drives.get(i)) {
                Some(Drive::CurrentPulse { neurons, .. } | Drive::StepCurrent { neurons, .. }) => {
                    neurons.clone()
                }
                _ => return Err(format!("stimulus {i} is not a current here")),
            };
            let i = i as usize;
            if currents.iter().any(|(j, _)| *j == i) {
                return Err(format!("stimulus {i} appears twice"));
            }
            let drive = if let Some(p) = c.get("pulse") {
                let (on, off, amplitude) = match p.as_array().map(|a| a.as_slice()) {
                    Some([on, off, a]) => (on.as_u64(), off.as_u64(), a.as_f64()),
                    _ => (None, None, None),
                };
                let (Some(on), Some(off), Some(amplitude)) = (on, off, amplitude) else {
                    return Err(format!(
                        "stimulus {i}: expected [on step, off step, amplitude]"
                    ));
                };
                if !amplitude.is_finite() {
                    return Err(format!(
                        "stimulus {i}: amplitude {amplitude}, expected a finite number"
                    ));
                }
                Drive::CurrentPulse {
                    neurons,
                    on,
                    off,
                    amplitude,
                }
            } else {
                let on = u64s(&c["on"]).ok_or_else(|| {
                    format!("stimulus {i}: 'on': expected whole numbers of steps")
                })?;
                let amplitude = f64s(&c["amplitude"], false)
                    .ok_or_else(|| format!("stimulus {i}: 'amplitude': expected finite numbers"))?;
                if on.len() != amplitude.len() {
                    return Err(format!(
                        "stimulus {i}: {} change steps but {} amplitudes",
                        on.len(),
                        amplitude.len()
                    ));
                }
                if let Some(w) = on.windows(2).find(|w| w[1] < w[0]) {
                    return Err(format!(
                        "stimulus {i}: expected ascending change steps, got {} after {}",
                        w[1], w[0]
                    ));
                }
                if let Some(a) = amplitude.iter().find(|a| !a.is_finite()) {
                    return Err(format!(
                        "stimulus {i}: amplitude {a}, expected a finite number"
                    ));
                }
                Drive::StepCurrent {
                    neurons,
                    on,
                    amplitude,
                }
            };
            currents.push((i, drive));
        }
        let ours = self
            .net
            .drives
            .iter()
            .filter(|d| matches!(d, Drive::CurrentPulse { .. } | Drive::StepCurrent { .. }))
            .count();
        if currents.len() != ours {
            return Err(format!(
                "{} current stimuli, this network has {ours}",
                currents.len()
            ));
        }
        Ok((sources, currents))
    }
}

/// Model data restored from a checkpoint: the parameter columns and what they derive.
type ParamRestore = (Vec<(&'static str, Vec<f64>)>, Neurons);
/// Inputs restored from a checkpoint: every source population, and the current stimuli
/// by index.
type InputRestore = (
    Vec<crate::source::SourcePop>,
    Vec<(usize, crate::network::Drive)>,
);

/// What a checked checkpoint sets ([`Simulation::restore`]); `None`: as it is.
struct Restore {
    step: u64,
    counts: Vec<u64>,
    params: Option<ParamRestore>,
    inputs: Option<InputRestore>,
}

/// CRC-32 of what identifies a built network: its populations, dt, seed and synapses
/// (every projection's pattern and value rules; drawn values follow from them and the
/// seed, so nothing is drawn here). Two builds of one config and seed give the same value on every machine.
fn fingerprint(net: &Network) -> u32 {
    let mut h = crc32fast::Hasher::new();
    for p in &net.populations {
        h.update(p.name.as_bytes());
        h.update(&(p.size as u64).to_le_bytes());
    }
    h.update(&net.dt_ms.to_le_bytes());
    h.update(&net.seed.to_le_bytes());
    net.synapses.hash_into(&mut h);
    if let Neurons::Hv(hv) = &net.neurons {
        h.update(bytemuck::cast_slice(&hv.incoming.row_ptr));
        h.update(bytemuck::cast_slice(&hv.incoming.src));
        h.update(bytemuck::cast_slice(&hv.incoming.weight));
    }
    h.finalize()
}
