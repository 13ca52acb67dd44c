//! The checkpointed run of a config into an output folder, and its resume. A
//! [`RunJob`] is a run on its way: built ([`RunJob::new`] from a config,
//! [`RunJob::resume`] from a folder's checkpoint), then [`RunJob::run`] streams the rest
//! of it into the folder's CSVs, checkpointing every so many simulated ms, and writes
//! `summary.json`. The CLI (`galvani run`, `galvani resume`) and Python
//! (`galvani.run_config`, `galvani.resume`) both drive this code; they add only what a
//! person sees (progress bar, printed summary, plots).
//!
//! What a user can rely on: a resumed run's CSVs end byte-identical to an uninterrupted
//! run's; a run stopped by a signal keeps every batch written until then, its summary
//! says `"complete": false`, and with checkpoints on, its checkpoint is written at the
//! stop.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::backend::{BackendKind, state_check};
use crate::checkpoint::{self, Checkpoint};
use crate::config;
use crate::error::{Error, Result};
use crate::network::Network;
use crate::output::{CsvOffsets, CsvSink, IsiStats, Summary};
use crate::real::Precision;
use crate::sim::{Monitor, RunStats};
use crate::simulation::{Simulation, open_gpu};
use crate::stop::{self, StopSignal};

/// How to run a config ([`Default`]: the GPU if there is one, f32, the config's own
/// duration, seed and threads, no checkpoints).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where to run.
    pub backend: BackendKind,
    /// Working precision (f64 needs the CPU backend).
    pub precision: Precision,
    /// Override simulation.duration_ms.
    pub duration_ms: Option<f64>,
    /// Override simulation.seed.
    pub seed: Option<u64>,
    /// Threads of the CPU backend (already checked, see
    /// [`crate::engine::threads::check_threads`]) [default: simulation.threads, else
    /// every core].
    pub threads: Option<usize>,
    /// Write a checkpoint every this many simulated ms (a positive whole number of
    /// steps), and at a stop.
    pub checkpoint_every_ms: Option<f64>,
    /// Print no notices (such as the CPU fallback of `BackendKind::Auto`).
    pub quiet: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            backend: BackendKind::Auto,
            precision: Precision::F32,
            duration_ms: None,
            seed: None,
            threads: None,
            checkpoint_every_ms: None,
            quiet: false,
        }
    }
}

/// How to resume ([`Default`]: the run's own threads, notices printed).
#[derive(Debug, Clone, Default)]
pub struct ResumeOptions {
    /// Threads of the CPU backend; the results do not depend on it, so a run may resume
    /// on another count.
    pub threads: Option<usize>,
    /// Print no notices.
    pub quiet: bool,
}

/// How a run was started: what resume needs to rebuild it (stored in the checkpoint's
/// metadata under `"run"`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunOrigin {
    /// The config as given.
    pub config: PathBuf,
    /// The config's absolute path.
    pub config_abs: PathBuf,
    /// CRC-32 of the config file's bytes when the run started.
    pub config_crc: u32,
    /// The duration override.
    pub duration_ms: Option<f64>,
    /// The seed override.
    pub seed: Option<u64>,
    /// The backend the run used (`cpu` or `gpu`).
    pub backend: String,
    /// Its precision.
    pub precision: Precision,
    /// The checkpoint interval (ms).
    pub checkpoint_every_ms: f64,
}

/// Where the checkpoint of an output folder lives.
pub fn checkpoint_path(out: &Path) -> PathBuf {
    out.join(checkpoint::FILE_NAME)
}

/// The steps of a checkpoint interval: positive, finite, a whole number of steps.
pub fn checkpoint_steps(ms: f64, dt_ms: f64) -> Result<u64> {
    let k = (ms / dt_ms).round();
    if !(ms.is_finite() && ms > 0.0) || k < 1.0 || (ms / dt_ms - k).abs() > 1e-6 * k {
        return Err(Error::Usage(format!(
            "--checkpoint-every-ms: expected a positive whole number of steps (dt = {dt_ms} ms), got {ms}"
        )));
    }
    Ok(k as u64)
}

/// A number as a person writes it: whole numbers without a decimal point, others with
/// at most 4 decimals and no trailing zeros.
pub fn fmt_num(x: f64) -> String {
    if x == x.round() && x.abs() < 1e15 {
        return format!("{}", x as i64);
    }
    let s = format!("{x:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The largest config file a checkpoint may name (1 GiB): configs are text, and their
/// large data live in the CSV files they name.
pub const MAX_CONFIG_BYTES: u64 = 1 << 30;

/// CRC-32 of a config file's bytes (a regular file of at most [`MAX_CONFIG_BYTES`]).
fn file_crc(path: &Path) -> Result<u32> {
    let bytes = checkpoint::read_regular(path, MAX_CONFIG_BYTES, "a config")?;
    Ok(crc32fast::hash(&bytes))
}

/// Reports progress against the whole run while it runs in checkpoint-sized pieces.
struct WholeRun<'a> {
    inner: &'a mut dyn Monitor,
    total: u64,
}

impl Monitor for WholeRun<'_> {
    fn batch_done(&mut self, done: u64, _total: u64) {
        self.inner.batch_done(done, self.total)
    }
    fn stop_requested(&self) -> bool {
        self.inner.stop_requested()
    }
}

/// A monitor that shows nothing and stops at a stop signal ([`crate::stop`]).
pub struct StopOnSignal;

impl Monitor for StopOnSignal {
    fn batch_done(&mut self, _done: u64, _total: u64) {}
    fn stop_requested(&self) -> bool {
        stop::stop_requested()
    }
}

/// A run (new or resumed) on its way: its simulation, output folder, CSV sink and
/// checkpoint plan.
pub struct RunJob {
    sim: Simulation,
    sink: CsvSink,
    config: PathBuf,
    out: PathBuf,
    /// With checkpoints: the interval in steps and how the run was started.
    checkpoints: Option<(u64, RunOrigin)>,
    t0: Instant,
}

/// A finished (or stopped) run: its summary (as written to `summary.json`) and the
/// simulation in its final state.
pub struct RunOutcome {
    /// The run's summary.
    pub summary: Summary,
    /// The simulation after its last step.
    pub sim: Simulation,
    /// The output folder.
    pub out: PathBuf,
    /// Whether checkpoints were on (a stopped run then left one to resume from).
    pub checkpointed: bool,
}

impl RunOutcome {
    /// `None` for a complete run; for one stopped by a signal, the
    /// [`Error::Interrupted`] that says where it stopped and what was kept.
    pub fn interrupted(&self) -> Option<Error> {
        if self.summary.complete {
            return None;
        }
        let signal = stop::stop_signal().unwrap_or(StopSignal::Interrupt);
        let net = self.sim.network();
        let resume = if self.checkpointed {
            format!(
                "; `galvani resume {}` continues from the checkpoint written at the stop",
                self.out.display()
            )
        } else {
            String::new()
        };
        Some(Error::Interrupted {
            signal,
            msg: format!(
                "interrupted by {}: stopped at {} ms of {} ms; {} holds every batch written until then, and summary.json says \"complete\": false{resume}",
                signal.name(),
                fmt_num(self.summary.duration_ms),
                fmt_num(net.steps as f64 * net.dt_ms),
                self.out.display()
            ),
        })
    }
}

impl RunJob {
    /// Builds the network of `config` and a simulation of it (its tables built while
    /// the patterns are freed: one long run), and creates the CSVs in `out` (removing a
    /// checkpoint an earlier run left there, which no longer matches its files).
    pub fn new(config: &Path, out: &Path, opts: &RunOptions) -> Result<RunJob> {
        let t0 = Instant::now();
        let cfg = config::load(config)?;
        if let Some(ms) = opts.checkpoint_every_ms {
            checkpoint_steps(ms, cfg.dt_ms())?;
        }
        let mut net = Network::build(&cfg, opts.duration_ms, opts.seed)?;
        net.threads = opts.threads.or(net.threads);
        let gpu = open_gpu(opts.backend, opts.precision, opts.quiet)?;
        let sim = Simulation::new_lean(net, gpu, opts.precision)?;
        let sink = CsvSink::create(out, sim.network())?;
        let ck = checkpoint_path(out);
        for p in [checkpoint::tmp_path(&ck), ck] {
            if p.exists() {
                std::fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
            }
        }
        let checkpoints = match opts.checkpoint_every_ms {
            Some(ms) => Some((
                checkpoint_steps(ms, sim.network().dt_ms)?,
                RunOrigin {
                    config: config.to_path_buf(),
                    config_abs: std::path::absolute(config)
                        .unwrap_or_else(|_| config.to_path_buf()),
                    config_crc: file_crc(config)?,
                    duration_ms: opts.duration_ms,
                    seed: opts.seed,
                    backend: sim.info().backend,
                    precision: opts.precision,
                    checkpoint_every_ms: ms,
                },
            )),
            None => None,
        };
        Ok(RunJob {
            sim,
            sink,
            config: config.to_path_buf(),
            out: out.to_path_buf(),
            checkpoints,
            t0,
        })
    }

    /// Rebuilds the run in `dir` from its checkpoint: the network from its config (which
    /// must be unchanged), the state from the checkpoint, the CSVs cut back to it.
    pub fn resume(dir: &Path, opts: &ResumeOptions) -> Result<RunJob> {
        let t0 = Instant::now();
        if !dir.is_dir() {
            return Err(Error::Usage(format!(
                "{}: not a folder (expected the --out folder of a galvani run)",
                dir.display()
            )));
        }
        let path = checkpoint_path(dir);
        if !path.exists() {
            return Err(Error::Usage(format!(
                "{}: no checkpoint to resume from (`galvani run --checkpoint-every-ms MS` writes one; a run that completed removed it)",
                path.display()
            )));
        }
        // the metadata first (how to rebuild the network), the whole file once the
        // network says how large it can be
        let head = Checkpoint::read_meta(&path)?;
        let refuse = |msg: &str| {
            Error::Usage(format!(
                "checkpoint {}: {msg}; it cannot be resumed from",
                path.display()
            ))
        };
        let origin: RunOrigin = head
            .get("run")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .ok_or_else(|| refuse("it was not written by `galvani run` (no run metadata)"))?;
        let offsets: CsvOffsets = head
            .get("csv")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .ok_or_else(|| refuse("no CSV offsets in its metadata"))?;
        let config = &origin.config_abs;
        if file_crc(config)? != origin.config_crc {
            return Err(Error::Usage(format!(
                "{}: the config changed since the checkpoint was written; resuming would continue a different network",
                config.display()
            )));
        }
        let cfg = config::load(config)?;
        let mut net = Network::build(&cfg, origin.duration_ms, origin.seed)?;
        net.threads = opts.threads.or(net.threads);
        let kind = if origin.backend == "gpu" {
            BackendKind::Gpu
        } else {
            BackendKind::Cpu
        };
        let gpu = open_gpu(kind, origin.precision, opts.quiet)?;
        let limit = state_check::max_checkpoint_bytes(&net, origin.precision);
        let ck = Checkpoint::read(&path, limit)?;
        if ck.meta != head {
            return Err(refuse("it changed while it was read"));
        }
        let total = net.steps;
        let mut sim = Simulation::new_lean(net, gpu, origin.precision)?;
        sim.restore(&ck)?;
        let step = sim.step();
        if step > total {
            return Err(refuse(&format!(
                "its step {step} is past the run's end ({total} steps)"
            )));
        }
        let net = sim.network();
        let isi = IsiStats::load(&ck, net.n, step, net.dt_ms)?;
        let sink = CsvSink::resume(dir, net, &offsets, step, sim.spike_counts(), isi)?;
        let _ = std::fs::remove_file(checkpoint::tmp_path(&path));
        let every = checkpoint_steps(origin.checkpoint_every_ms, sim.network().dt_ms)?;
        Ok(RunJob {
            sim,
            sink,
            config: origin.config.clone(),
            out: dir.to_path_buf(),
            checkpoints: Some((every, origin)),
            t0,
        })
    }

    /// The simulation (at step 0, or at the checkpoint's step when resumed).
    pub fn simulation(&self) -> &Simulation {
        &self.sim
    }

    /// The config the run was started from, as given.
    pub fn config(&self) -> &Path {
        &self.config
    }

    /// Streams the rest of the run (from the simulation's current step to the config's
    /// duration) into the CSVs, checkpointing on the way when asked, then writes
    /// `summary.json`. A run stopped by `monitor` (a signal) still writes its summary
    /// (`"complete": false`) and its checkpoint; [`RunOutcome::interrupted`] then says so.
    pub fn run(self, monitor: &mut dyn Monitor) -> Result<RunOutcome> {
        let RunJob {
            mut sim,
            mut sink,
            config,
            out,
            checkpoints,
            t0,
        } = self;
        let build_s = t0.elapsed().as_secs_f64();
        sim.release_host_synapses();
        let total = sim.default_steps();
        let start = sim.step();
        let mut monitor = WholeRun {
            inner: monitor,
            total,
        };
        let mut simulate_s = 0.0;
        let mut gpu: Option<crate::backend::GpuCounters> = None;
        let mut complete = true;
        while sim.step() < total {
            let step = sim.step();
            let k = match &checkpoints {
                Some((every, _)) => ((step / every + 1) * every).min(total) - step,
                None => total - step,
            };
            let stats = sim.run_steps_into(k, &mut sink, &mut monitor)?;
            simulate_s += stats.simulate_s;
            if let Some(c) = &stats.gpu {
                gpu.get_or_insert_with(Default::default).add(c);
            }
            if !stats.complete {
                complete = false;
            }
            if let Some((_, origin)) = &checkpoints {
                write_checkpoint(&mut sim, &mut sink, origin, &out)?;
            }
            if !complete {
                break;
            }
        }
        sink.flush()?;
        if complete && checkpoints.is_some() {
            // nothing is left to resume
            let p = checkpoint_path(&out);
            let _ = std::fs::remove_file(&p);
            let _ = std::fs::remove_file(checkpoint::tmp_path(&p));
        }
        let stats = RunStats {
            info: sim.info(),
            steps: sim.step(),
            complete,
            spikes_per_pop: sim.spike_counts().to_vec(),
            simulate_s,
            gpu,
        };
        let net = sim.network();
        let mut summary = Summary::new(&config, net, &stats, Some(&sink.isi), build_s);
        if start > 0 {
            summary.resumed_from_ms = Some(start as f64 * net.dt_ms);
            summary.steps_per_s = if simulate_s > 0.0 {
                (sim.step() - start) as f64 / simulate_s
            } else {
                0.0
            };
        }
        summary.write(&out)?;
        Ok(RunOutcome {
            summary,
            sim,
            out,
            checkpointed: checkpoints.is_some(),
        })
    }
}

/// Syncs the CSVs and writes the checkpoint of the run so far (the state after the last
/// step the CSVs hold, their lengths, the ISI statistics and how the run was started).
fn write_checkpoint(
    sim: &mut Simulation,
    sink: &mut CsvSink,
    origin: &RunOrigin,
    out: &Path,
) -> Result<()> {
    let offsets = sink.sync()?;
    let mut ck = sim.checkpoint()?;
    sink.isi.save(&mut ck);
    ck.meta.insert(
        "run".into(),
        serde_json::to_value(origin).expect("serialises"),
    );
    ck.meta.insert(
        "csv".into(),
        serde_json::to_value(offsets).expect("serialises"),
    );
    ck.write_atomic(&checkpoint_path(out))
}

/// Runs `config` into `out` with `opts`, stopping cleanly at a stop signal: the whole
/// of `galvani run` but the progress bar, the printed summary and the plots.
pub fn run_config(config: &Path, out: &Path, opts: &RunOptions) -> Result<RunOutcome> {
    RunJob::new(config, out, opts)?.run(&mut StopOnSignal)
}

/// Resumes the run in `dir` from its checkpoint and runs it to the end: the whole of
/// `galvani resume` but the progress bar, the printed summary and the plots.
pub fn resume(dir: &Path, opts: &ResumeOptions) -> Result<RunOutcome> {
    RunJob::resume(dir, opts)?.run(&mut StopOnSignal)
}
