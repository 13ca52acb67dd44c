//! The command-line interface: `galvani run | plot | compare | devices | bench`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Parser, Subcommand};

use crate::backend::BackendKind;
use crate::backend::gpu::{self, GpuContext};
use crate::config;
use crate::error::{Error, Result};
use crate::network::{Network, Neurons};
use crate::output::{CsvSink, IsiStats, Summary};
use crate::plot::{self, FiNeuron, RunMeta};
use crate::progress::{self, RunMonitor};
use crate::real::Precision;
use crate::sim::{self, Collect, Discard, Monitor, RunStats};
use crate::simulation::Simulation;

/// galvani: spiking neural networks on any GPU, with a CPU reference backend.
#[derive(Debug, Parser)]
#[command(name = "galvani", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a network config and write spikes.csv, voltages.csv, summary.json and
    /// plots (raster.png, rates.png, voltages.png).
    Run(RunArgs),
    /// Re-draw the plots of an output folder from its CSVs (and fi.png with --fi).
    Plot(PlotArgs),
    /// Run a config on the CPU and the GPU backends (f32) and report how far they agree.
    Compare(CompareArgs),
    /// List the GPU adapters wgpu can see, with the limits that matter.
    Devices,
    /// Time a config without writing outputs: one JSON line per repetition.
    Bench(BenchArgs),
    /// Continue a run from the checkpoint in its output folder (written by `galvani run
    /// --checkpoint-every-ms`): the CSVs are cut back to the checkpoint and continued, so
    /// they end byte-identical to an uninterrupted run's.
    Resume(ResumeArgs),
}

/// `galvani resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The output folder of the interrupted run (holding checkpoint.galvani).
    pub dir: PathBuf,
    /// Print nothing but errors (and show no progress bar).
    #[arg(long, short)]
    pub quiet: bool,
    /// Do not draw the plots.
    #[arg(long)]
    pub no_plots: bool,
    /// Threads of the CPU backend [default: simulation.threads, else every core]; the
    /// results do not depend on it, so a run may resume on another count.
    #[arg(long, value_parser = parse_threads)]
    pub threads: Option<usize>,
}

/// `galvani bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The TOML network config.
    #[arg(required_unless_present = "suite")]
    pub config: Option<PathBuf>,
    /// Run the standard set instead (CUBA 4k and 64k, COBA, Brunel 12.5k, hv_network,
    /// and configs/pd14.toml where it is found) on every backend available and on 1 to
    /// all cores: one JSON line per repetition, then a table of the best times.
    #[arg(long, conflicts_with = "config")]
    pub suite: bool,
    /// Where to run.
    #[arg(long, value_enum, default_value = "auto")]
    pub backend: BackendKind,
    /// Working precision.
    #[arg(long, value_enum, default_value = "f32")]
    pub precision: Precision,
    /// Override simulation.duration_ms.
    #[arg(long)]
    pub duration_ms: Option<f64>,
    /// Repetitions.
    #[arg(long, default_value_t = 3)]
    pub repeat: u32,
    /// Threads of the CPU backend [default: simulation.threads, else every core].
    #[arg(long, value_parser = parse_threads)]
    pub threads: Option<usize>,
}

/// `--threads`: 1 to [`crate::backend::cpu::MAX_THREADS`].
fn parse_threads(s: &str) -> std::result::Result<usize, String> {
    let max = crate::backend::cpu::MAX_THREADS;
    match s.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected 1 to {max} threads, got '{s}'")),
    }
}

/// `galvani run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The TOML network config.
    pub config: PathBuf,
    /// Where to run: a GPU adapter if there is one (auto), the GPU, or the CPU.
    #[arg(long, value_enum, default_value = "auto")]
    pub backend: BackendKind,
    /// Working precision (f64 needs the CPU backend).
    #[arg(long, value_enum, default_value = "f32")]
    pub precision: Precision,
    /// Output folder.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    /// Override simulation.duration_ms.
    #[arg(long)]
    pub duration_ms: Option<f64>,
    /// Override simulation.seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print nothing but errors (and show no progress bar).
    #[arg(long, short)]
    pub quiet: bool,
    /// Do not draw raster.png and voltages.png.
    #[arg(long)]
    pub no_plots: bool,
    /// Threads of the CPU backend [default: simulation.threads, else every core]; the
    /// results do not depend on it.
    #[arg(long, value_parser = parse_threads)]
    pub threads: Option<usize>,
    /// Write the complete simulation state to OUT/checkpoint.galvani every this many
    /// simulated ms (atomically: a crash during a write keeps the previous one), and when
    /// the run is stopped by a signal; `galvani resume OUT` continues from it. A run that
    /// completes removes it.
    #[arg(long, value_name = "MS")]
    pub checkpoint_every_ms: Option<f64>,
}

/// `galvani plot`.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// An output folder of `galvani run` (spikes.csv, voltages.csv, summary.json).
    pub dir: PathBuf,
    /// Also draw fi.png: the firing rate of each recorded LIF neuron against its injected
    /// current, with the closed-form f–I curve overlaid (needs the run's config).
    #[arg(long)]
    pub fi: bool,
    /// The run's config, for --fi [default: the one named in summary.json].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

/// `galvani compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The TOML network config.
    pub config: PathBuf,
    /// Override simulation.duration_ms.
    #[arg(long)]
    pub duration_ms: Option<f64>,
    /// Required span of identical spike trains (ms) [default: min(duration, 200)].
    #[arg(long)]
    pub identical_ms: Option<f64>,
    /// Largest allowed |ΔV| (mV) on recorded neurons before the first spike divergence.
    #[arg(long, default_value_t = 1e-3)]
    pub v_tol_mv: f64,
    /// Largest allowed relative difference of each population's spike count.
    #[arg(long, default_value_t = 0.05)]
    pub rate_tol: f64,
    /// HV: spikes must match one for one (within --t-tol-ms) until this time (ms), or
    /// half the time f32 and f64 runs on the CPU agree for, if that is shorter.
    #[arg(long, default_value_t = 15.0)]
    pub match_ms: f64,
    /// HV: largest allowed |Δt| (ms) of matched spikes (interpolated times).
    #[arg(long, default_value_t = 1e-3)]
    pub t_tol_ms: f64,
    /// HV: largest allowed relative difference of the total spike count (larger ones pass
    /// when within 3 standard errors of the run's own rate fluctuations).
    #[arg(long, default_value_t = 0.02)]
    pub count_tol: f64,
    /// HV: largest allowed mean |Δcount| per neuron (or 1.5 × f32-vs-f64's + 0.1).
    #[arg(long, default_value_t = 1.5)]
    pub mean_dcount: f64,
    /// HV: smallest allowed correlation of the per-neuron spike counts (or
    /// 1 − 1.5 × (1 − f32-vs-f64's)).
    #[arg(long, default_value_t = 0.98)]
    pub min_corr: f64,
    /// HV: largest allowed |ΔV| (mV) on recorded neurons while the spikes match.
    #[arg(long, default_value_t = 1e-2)]
    pub hv_v_tol_mv: f64,
    /// Threads of the CPU backend [default: simulation.threads, else every core].
    #[arg(long, value_parser = parse_threads)]
    pub threads: Option<usize>,
}

/// Runs the CLI; returns the process exit code.
pub fn main_with(cli: Cli) -> i32 {
    let res = match cli.command {
        Command::Run(a) => run(&a).map(|_| ()),
        Command::Plot(a) => plot_cmd(&a),
        Command::Compare(a) => compare(&a),
        Command::Devices => devices(),
        Command::Bench(a) if a.suite => crate::suite::run(&a),
        Command::Bench(a) => bench(&a),
        Command::Resume(a) => resume(&a).map(|_| ()),
    };
    match res {
        Ok(()) => 0,
        Err(e @ Error::Interrupted { .. }) => {
            eprintln!("galvani: {e}");
            e.exit_code()
        }
        Err(e) => {
            eprintln!("galvani: error: {e}");
            e.exit_code()
        }
    }
}

pub use crate::sim::{drive, drive_with};
pub use crate::simulation::open_gpu;
pub use crate::stats::{HvAgreement, PopAgreement, agreement, hv_agreement};

/// How a run was started: what `galvani resume` needs to rebuild it (stored in the
/// checkpoint's metadata under `"run"`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct RunOrigin {
    /// The config as given, and its absolute path.
    config: PathBuf,
    config_abs: PathBuf,
    /// CRC-32 of the config file's bytes when the run started.
    config_crc: u32,
    /// `--duration-ms`, `--seed` overrides.
    duration_ms: Option<f64>,
    seed: Option<u64>,
    /// The backend the run used (`cpu` or `gpu`) and its precision.
    backend: String,
    precision: Precision,
    /// The checkpoint interval (ms).
    checkpoint_every_ms: f64,
}

/// Where the checkpoint of an output folder lives.
fn checkpoint_path(out: &Path) -> PathBuf {
    out.join(crate::checkpoint::FILE_NAME)
}

/// The steps of `--checkpoint-every-ms`: positive, finite, a whole number of steps.
fn checkpoint_steps(ms: f64, dt_ms: f64) -> Result<u64> {
    let k = (ms / dt_ms).round();
    if !(ms.is_finite() && ms > 0.0) || k < 1.0 || (ms / dt_ms - k).abs() > 1e-6 * k {
        return Err(Error::Usage(format!(
            "--checkpoint-every-ms: expected a positive whole number of steps (dt = {dt_ms} ms), got {ms}"
        )));
    }
    Ok(k as u64)
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

/// A run (new or resumed) on its way: its output folder, config and checkpoint plan.
struct RunJob<'a> {
    config: &'a Path,
    out: &'a Path,
    quiet: bool,
    no_plots: bool,
    /// With checkpoints: the interval in steps and how the run was started.
    checkpoints: Option<(u64, RunOrigin)>,
}

/// Streams the rest of the run (from the simulation's current step to the config's
/// duration) into `sink`, checkpointing on the way when asked; then writes the summary and
/// plots. A run stopped by a signal (Ctrl-C, SIGTERM, SIGHUP) still writes its summary
/// (`"complete": false`), its checkpoint and its plots, then returns
/// [`Error::Interrupted`] (exit code 130, 143, 129).
fn finish_run(
    job: &RunJob,
    mut sim: Simulation,
    mut sink: CsvSink,
    build_s: f64,
) -> Result<Summary> {
    sim.release_host_synapses();
    let total = sim.default_steps();
    let start = sim.step();
    let mut base = RunMonitor::new(sim.network().dt_ms, job.quiet);
    let mut monitor = WholeRun {
        inner: &mut base,
        total,
    };
    let mut simulate_s = 0.0;
    let mut complete = true;
    while sim.step() < total {
        let step = sim.step();
        let k = match &job.checkpoints {
            Some((every, _)) => ((step / every + 1) * every).min(total) - step,
            None => total - step,
        };
        let stats = sim.run_steps_into(k, &mut sink, &mut monitor)?;
        simulate_s += stats.simulate_s;
        if !stats.complete {
            complete = false;
        }
        if let Some((_, origin)) = &job.checkpoints {
            write_checkpoint(&mut sim, &mut sink, origin, job.out)?;
        }
        if !complete {
            break;
        }
    }
    sink.flush()?;
    base.clear();
    if complete && job.checkpoints.is_some() {
        // nothing is left to resume
        let p = checkpoint_path(job.out);
        let _ = std::fs::remove_file(&p);
        let _ = std::fs::remove_file(crate::checkpoint::tmp_path(&p));
    }
    let stats = RunStats {
        info: sim.info(),
        steps: sim.step(),
        complete,
        spikes_per_pop: sim.spike_counts().to_vec(),
        simulate_s,
    };
    let net = sim.network();
    let mut summary = Summary::new(job.config, net, &stats, Some(&sink.isi), build_s);
    if start > 0 {
        summary.resumed_from_ms = Some(start as f64 * net.dt_ms);
        summary.steps_per_s = if simulate_s > 0.0 {
            (sim.step() - start) as f64 / simulate_s
        } else {
            0.0
        };
    }
    summary.write(job.out)?;
    if !job.quiet {
        print_summary(job.config, job.out, net, &summary);
    }
    if !job.no_plots {
        let t = Instant::now();
        let written = plot::plot_dir(job.out)?;
        if !job.quiet && !written.is_empty() {
            let list: Vec<String> = written
                .iter()
                .map(|w| format!("{} ({})", file_name(&w.path), w.note))
                .collect();
            println!(
                "  plots: {} in {:.2} s",
                list.join(", "),
                t.elapsed().as_secs_f64()
            );
        }
    }
    if !summary.complete {
        let signal = progress::stop_signal().unwrap_or(progress::StopSignal::Interrupt);
        let resume = if job.checkpoints.is_some() {
            format!(
                "; `galvani resume {}` continues from the checkpoint written at the stop",
                job.out.display()
            )
        } else {
            String::new()
        };
        return Err(Error::Interrupted {
            signal,
            msg: format!(
                "interrupted by {}: stopped at {} ms of {} ms; {} holds every batch written until then, and summary.json says \"complete\": false{resume}",
                signal.name(),
                plot::fmt_num(summary.duration_ms),
                plot::fmt_num(net.steps as f64 * net.dt_ms),
                job.out.display()
            ),
        });
    }
    Ok(summary)
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

/// CRC-32 of a file's bytes.
fn file_crc(path: &Path) -> Result<u32> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(crc32fast::hash(&bytes))
}

/// `galvani run`.
pub fn run(a: &RunArgs) -> Result<Summary> {
    progress::install_ctrlc();
    let t0 = Instant::now();
    let cfg = config::load(&a.config)?;
    if let Some(ms) = a.checkpoint_every_ms {
        checkpoint_steps(ms, cfg.dt_ms())?;
    }
    let mut net = Network::build(&cfg, a.duration_ms, a.seed)?;
    net.threads = a.threads.or(net.threads);
    let gpu = open_gpu(a.backend, a.precision, a.quiet)?;
    // one long run: the tables are built while the patterns are freed
    let sim = Simulation::new_lean(net, gpu, a.precision)?;
    let build_s = t0.elapsed().as_secs_f64();
    let sink = CsvSink::create(&a.out, sim.network())?;
    // a checkpoint of an earlier run in this folder no longer matches its files
    let ck = checkpoint_path(&a.out);
    for p in [crate::checkpoint::tmp_path(&ck), ck] {
        if p.exists() {
            std::fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
        }
    }
    let checkpoints = match a.checkpoint_every_ms {
        Some(ms) => Some((
            checkpoint_steps(ms, sim.network().dt_ms)?,
            RunOrigin {
                config: a.config.clone(),
                config_abs: std::path::absolute(&a.config).unwrap_or_else(|_| a.config.clone()),
                config_crc: file_crc(&a.config)?,
                duration_ms: a.duration_ms,
                seed: a.seed,
                backend: sim.info().backend,
                precision: a.precision,
                checkpoint_every_ms: ms,
            },
        )),
        None => None,
    };
    let job = RunJob {
        config: &a.config,
        out: &a.out,
        quiet: a.quiet,
        no_plots: a.no_plots,
        checkpoints,
    };
    finish_run(&job, sim, sink, build_s)
}

/// `galvani resume`: rebuilds the run's network from its config (which must be unchanged),
/// loads the checkpoint, cuts the CSVs back to it and runs to the end.
pub fn resume(a: &ResumeArgs) -> Result<Summary> {
    progress::install_ctrlc();
    let t0 = Instant::now();
    if !a.dir.is_dir() {
        return Err(Error::Usage(format!(
            "{}: not a folder (expected the --out folder of a galvani run)",
            a.dir.display()
        )));
    }
    let path = checkpoint_path(&a.dir);
    if !path.exists() {
        return Err(Error::Usage(format!(
            "{}: no checkpoint to resume from (`galvani run --checkpoint-every-ms MS` writes one; a run that completed removed it)",
            path.display()
        )));
    }
    let ck = crate::checkpoint::Checkpoint::read(&path)?;
    let origin: RunOrigin = ck
        .meta
        .get("run")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| ck.error("it was not written by `galvani run` (no run metadata)"))?;
    let offsets: crate::output::CsvOffsets = ck
        .meta
        .get("csv")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| ck.error("no CSV offsets in its metadata"))?;
    let config = &origin.config_abs;
    if file_crc(config)? != origin.config_crc {
        return Err(Error::Usage(format!(
            "{}: the config changed since the checkpoint was written; resuming would continue a different network",
            config.display()
        )));
    }
    let cfg = config::load(config)?;
    let mut net = Network::build(&cfg, origin.duration_ms, origin.seed)?;
    net.threads = a.threads.or(net.threads);
    let kind = if origin.backend == "gpu" {
        BackendKind::Gpu
    } else {
        BackendKind::Cpu
    };
    let gpu = open_gpu(kind, origin.precision, a.quiet)?;
    let mut sim = Simulation::new_lean(net, gpu, origin.precision)?;
    sim.restore(&ck)?;
    let isi = IsiStats::load(&ck, sim.network().n)?;
    let sink = CsvSink::resume(&a.dir, sim.network(), &offsets, isi)?;
    let _ = std::fs::remove_file(crate::checkpoint::tmp_path(&path));
    let build_s = t0.elapsed().as_secs_f64();
    if !a.quiet {
        println!(
            "resuming {} at {} ms of {} ms from {}",
            origin.config.display(),
            plot::fmt_num(sim.t_ms()),
            plot::fmt_num(sim.default_steps() as f64 * sim.network().dt_ms),
            path.display()
        );
    }
    let every = checkpoint_steps(origin.checkpoint_every_ms, sim.network().dt_ms)?;
    let job = RunJob {
        config: &origin.config,
        out: &a.dir,
        quiet: a.quiet,
        no_plots: a.no_plots,
        checkpoints: Some((every, origin.clone())),
    };
    finish_run(&job, sim, sink, build_s)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The short human summary at the end of `galvani run`.
fn print_summary(config: &Path, out: &Path, net: &Network, s: &Summary) {
    println!(
        "{}: {} neurons, {} synapses, {} steps of {} ms ({} ms) on {}{} ({}, {}){}",
        config.display(),
        net.n,
        net.synapses.len(),
        s.steps,
        net.dt_ms,
        plot::fmt_num(s.duration_ms),
        s.backend,
        s.threads
            .map(|t| format!(", {t} thread{}", if t == 1 { "" } else { "s" }))
            .unwrap_or_default(),
        s.device,
        s.precision,
        if s.complete { "" } else { " — stopped early" }
    );
    let realtime = if s.simulate_s > 0.0 {
        s.duration_ms / 1000.0 / s.simulate_s
    } else {
        0.0
    };
    println!(
        "  {} spikes; simulated in {:.3} s ({:.0} steps/s, {:.3}× real time); build {:.3} s",
        s.spikes, s.simulate_s, s.steps_per_s, realtime, s.build_s
    );
    let w = s
        .populations
        .iter()
        .map(|p| p.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(12);
    println!(
        "  {:<w$} {:>8} {:>10} {:>10} {:>7}",
        "population", "neurons", "spikes", "rate (Hz)", "CV ISI"
    );
    for p in &s.populations {
        let cv = p
            .cv_isi
            .map(|c| format!("{c:.3}"))
            .unwrap_or_else(|| "–".into());
        let pad = w - p.name.chars().count();
        println!(
            "  {}{:pad$} {:>8} {:>10} {:>10.3} {:>7}",
            p.name, "", p.size, p.spikes, p.rate_hz, cv
        );
    }
    println!("  output in {}", out.display());
}

/// `galvani plot`.
pub fn plot_cmd(a: &PlotArgs) -> Result<()> {
    if !a.dir.is_dir() {
        return Err(Error::Usage(format!(
            "{}: not a folder (expected the --out folder of a galvani run)",
            a.dir.display()
        )));
    }
    let meta = RunMeta::load(&a.dir)?;
    let mut written = plot::plot_dir_with(&a.dir, &meta)?;
    if a.fi {
        let t = Instant::now();
        let neurons = fi_neurons(a, &meta)?;
        let out = a.dir.join("fi.png");
        let info = plot::fi(&a.dir, &meta, &neurons, &out)?;
        written.push(plot::Written {
            path: out,
            note: format!(
                "{} neurons; largest deviation from the closed form {} Hz",
                info.neurons,
                plot::fmt_num((info.max_abs_dev_hz * 1000.0).round() / 1000.0)
            ),
            seconds: t.elapsed().as_secs_f64(),
        });
    }
    if written.is_empty() {
        return Err(Error::Usage(format!(
            "{}: nothing to plot (no spikes.csv with a recorded population, no voltages.csv)",
            a.dir.display()
        )));
    }
    if !a.quiet {
        for w in &written {
            println!("{} ({}; {:.2} s)", w.path.display(), w.note, w.seconds);
        }
    }
    Ok(())
}

/// The recorded LIF neurons of the run in `a.dir`, with what the f–I closed form needs,
/// taken from its config (rebuilt with the run's seed).
fn fi_neurons(a: &PlotArgs, meta: &RunMeta) -> Result<Vec<FiNeuron>> {
    let path = match (&a.config, &meta.config) {
        (Some(p), _) => p.clone(),
        (None, Some(p)) => PathBuf::from(p),
        (None, None) => {
            return Err(Error::Usage(
                "--fi needs the run's config: pass --config (summary.json names none)".into(),
            ));
        }
    };
    if !path.exists() {
        return Err(Error::Usage(format!(
            "--fi: the run's config {} is not there (pass --config)",
            path.display()
        )));
    }
    let cfg = config::load(&path)?;
    let net = Network::build(&cfg, Some(0.0), meta.seed)?;
    #[allow(irrefutable_let_patterns)]
    let Neurons::Lif { params, .. } = &net.neurons else {
        return Ok(Vec::new());
    };
    let dt = net.dt_ms;
    let mut out = Vec::new();
    for pop in &net.populations {
        if !pop.record_spikes {
            continue;
        }
        let Some(mp) = meta.pop_index_of(&pop.name) else {
            continue;
        };
        for i in 0..pop.size {
            let p = &params[pop.offset + i];
            out.push(FiNeuron {
                pop: mp,
                neuron: i as u32,
                i_e_pa: p.i_e,
                r_gohm: p.p30 / (1.0 - p.p33),
                tau_m_ms: -dt / p.p33.ln(),
                theta_mv: p.theta,
                reset_mv: p.reset,
                t_ref_ms: p.ref_steps as f64 * dt,
            });
        }
    }
    Ok(out)
}

/// `galvani compare` for HV networks (spec hv-model.md 10.1). The networks are chaotic,
/// so the CPU-vs-GPU differences are measured against a yardstick taken on the spot: the
/// same distances between the CPU backend in f32 and in f64, i.e. what precision alone
/// does to this network. Checked: (1) spikes match one for one (|Δt| ≤ `t_tol_ms`) at
/// least until min(`match_ms`, half the yardstick's agreement horizon); (2) total count
/// within ±`count_tol`, or within 3 standard errors of the run's own fluctuations
/// ([`HvAgreement::count_z`]: a single yardstick sample cannot bound a single number);
/// (3) mean per-neuron |Δcount| within `mean_dcount` or 1.5 × the
/// yardstick's (+0.1); (4) per-neuron count correlation at least `min_corr` or
/// 1 − 1.5 × (1 − the yardstick's); (5) recorded voltages within `hv_v_tol_mv` while
/// the spikes still match.
fn compare_hv(
    a: &CompareArgs,
    net: &Network,
    cpu: &Collect,
    gpu: &Collect,
    cpu64: &Collect,
    header: &str,
) -> Result<()> {
    println!("{header}");
    let duration = net.steps as f64 * net.dt_ms;
    let t = hv_agreement(net, cpu, gpu, a.match_ms, a.t_tol_ms);
    let y = hv_agreement(net, cpu, cpu64, a.match_ms, a.t_tol_ms);
    let inf = |h: Option<f64>| h.unwrap_or(f64::INFINITY);
    // required span of one-for-one agreement, and the spikes it covers
    let need = a.match_ms.min(inf(y.horizon_ms) / 2.0);
    let span = a.match_ms.min(inf(t.horizon_ms));
    let t = hv_agreement(net, cpu, gpu, span, a.t_tol_ms);
    let y = hv_agreement(
        net,
        cpu,
        cpu64,
        a.match_ms.min(inf(y.horizon_ms)),
        a.t_tol_ms,
    );
    println!(
        "{:<12} {:>10} {:>10} {:>10}",
        "population", "cpu f32", "gpu f32", "cpu f64"
    );
    for (p, pop) in net.populations.iter().enumerate() {
        let c = |x: &Collect| x.spikes.iter().filter(|s| s.1 as usize == p).count();
        println!(
            "{:<12} {:>10} {:>10} {:>10}",
            pop.name,
            c(cpu),
            c(gpu),
            c(cpu64)
        );
    }
    let hz = |h: Option<f64>| {
        h.map(|t| format!("{t:.3} ms"))
            .unwrap_or_else(|| "the end".into())
    };
    let rel = |g: &HvAgreement| {
        let (x, y) = (g.counts.0 as f64, g.counts.1 as f64);
        if x.max(y) > 0.0 {
            (y - x) / x.max(y)
        } else {
            0.0
        }
    };
    println!(
        "HV network: chaotic, so spike for spike only over an initial span, then statistics \
         (spec hv-model.md 10.1); yardstick = cpu f32 vs cpu f64 on this network"
    );
    println!(
        "  {:<40} {:>16} {:>16}",
        "", "cpu32 vs gpu32", "cpu32 vs cpu64"
    );
    println!(
        "  {:<40} {:>16} {:>16}",
        format!("agree within {} ms until", a.t_tol_ms),
        hz(t.horizon_ms),
        hz(y.horizon_ms)
    );
    println!(
        "  {:<40} {:>16} {:>16}",
        format!("spikes matched (before {} ms at most)", a.match_ms),
        t.matched,
        y.matched
    );
    println!(
        "  {:<40} {:>16} {:>16}",
        "total spike count difference",
        format!("{:+.2} %", 100.0 * rel(&t)),
        format!("{:+.2} %", 100.0 * rel(&y))
    );
    println!(
        "  {:<40} {:>16} {:>16}",
        "  in standard errors (10 ms windows)",
        format!("{:+.2}", t.count_z),
        format!("{:+.2}", y.count_z)
    );
    println!(
        "  {:<40} {:>16} {:>16}",
        "mean per-neuron |Δcount|",
        format!("{:.3}", t.mean_abs_dcount),
        format!("{:.3}", y.mean_abs_dcount)
    );
    println!(
        "  {:<40} {:>16} {:>16}",
        "neurons whose counts differ", t.neurons_differing, y.neurons_differing
    );
    println!(
        "  {:<40} {:>16} {:>16}",
        "correlation of per-neuron counts",
        format!("{:.4}", t.count_corr),
        format!("{:.4}", y.count_corr)
    );
    let mut problems = Vec::new();
    let line = |ok: bool, what: String, problems: &mut Vec<String>| {
        println!("  [{}] {what}", if ok { "ok" } else { "FAIL" });
        if !ok {
            problems.push(what);
        }
    };
    line(
        inf(t.horizon_ms) >= need,
        format!(
            "spike for spike (|Δt| <= {} ms) until {} ({} spikes), at least {need:.3} ms (min of {} ms and half the yardstick's horizon)",
            a.t_tol_ms,
            hz(t.horizon_ms),
            t.matched,
            a.match_ms
        ),
        &mut problems,
    );
    line(
        rel(&t).abs() <= a.count_tol || t.count_z.abs() <= 3.0,
        format!(
            "total spikes over {duration} ms {} vs {}: {:+.2} %, within ±{} % or 3 standard errors of the run's own rate fluctuations (z = {:+.2})",
            t.counts.0,
            t.counts.1,
            100.0 * rel(&t),
            100.0 * a.count_tol,
            t.count_z
        ),
        &mut problems,
    );
    let dcount_limit = a.mean_dcount.max(1.5 * y.mean_abs_dcount + 0.1);
    line(
        t.mean_abs_dcount <= dcount_limit,
        format!(
            "mean per-neuron |Δcount| {:.3} <= {dcount_limit:.3} (max of {} and 1.5 × yardstick + 0.1)",
            t.mean_abs_dcount, a.mean_dcount
        ),
        &mut problems,
    );
    let corr_limit = a.min_corr.min(1.0 - 1.5 * (1.0 - y.count_corr));
    line(
        t.count_corr >= corr_limit,
        format!(
            "count correlation {:.4} >= {corr_limit:.4} (min of {} and 1 − 1.5 × (1 − yardstick))",
            t.count_corr, a.min_corr
        ),
        &mut problems,
    );
    if !net.probes.is_empty() {
        let mut dv = 0f64;
        for (x, y) in cpu.voltages.iter().zip(&gpu.voltages) {
            let t = x.0.map(|s| sim::stamp_ms(s, net.dt_ms)).unwrap_or(0.0);
            if t < span {
                dv = dv.max((x.2 - y.2).abs());
            }
        }
        line(
            dv <= a.hv_v_tol_mv,
            format!(
                "|ΔV| while the spikes match (before {span:.3} ms) on {} recorded neurons {dv:.2e} mV <= {} mV",
                net.probes.len(),
                a.hv_v_tol_mv
            ),
            &mut problems,
        );
    }
    if problems.is_empty() {
        println!(
            "agree: spike for spike until {}, then statistically, as closely as f32 agrees with f64 on this network",
            hz(t.horizon_ms)
        );
        Ok(())
    } else {
        Err(Error::Disagree(format!(
            "backends disagree: {}",
            problems.join("; ")
        )))
    }
}

/// `galvani compare`.
pub fn compare(a: &CompareArgs) -> Result<()> {
    let cfg = config::load(&a.config)?;
    let mut net = Network::build(&cfg, a.duration_ms, None)?;
    net.threads = a.threads.or(net.threads);
    let ctx = GpuContext::new()?;
    let mut cpu = Collect::default();
    let mut gpu = Collect::default();
    // one Simulation per side, each from t = 0 over the config's duration
    let drive = |gpu: Option<GpuContext>, precision, sink: &mut Collect| -> Result<RunStats> {
        Simulation::new(net.clone(), gpu, precision)?.run_steps_into(
            net.steps,
            sink,
            &mut sim::Unmonitored,
        )
    };
    let sc = drive(None, Precision::F32, &mut cpu)?;
    let sg = drive(Some(ctx), Precision::F32, &mut gpu)?;
    let duration = net.steps as f64 * net.dt_ms;
    if net.neurons.model() == "hv" {
        let mut cpu64 = Collect::default();
        let s64 = drive(None, Precision::F64, &mut cpu64)?;
        let rate = |s: &RunStats| net.steps as f64 / s.simulate_s;
        let header = format!(
            "{}: {} neurons, {} synapses, {} ms; cpu f32 ({} threads, {:.1} s, {:.0} steps/s) vs gpu f32 on {} ({:.1} s, {:.0} steps/s); yardstick cpu f64 ({:.1} s)",
            a.config.display(),
            net.n,
            net.synapses.len(),
            duration,
            sc.info.threads.unwrap_or(1),
            sc.simulate_s,
            rate(&sc),
            sg.info.device,
            sg.simulate_s,
            rate(&sg),
            s64.simulate_s
        );
        return compare_hv(a, &net, &cpu, &gpu, &cpu64, &header);
    }
    let portable = net.bitwise_portable();
    let need = a
        .identical_ms
        .unwrap_or(if portable { duration.min(200.0) } else { 0.0 });
    println!(
        "{}: {} ms; cpu f32 ({} threads, {:.3} s) vs gpu f32 on {} ({:.3} s)",
        a.config.display(),
        duration,
        sc.info.threads.unwrap_or(1),
        sc.simulate_s,
        sg.info.device,
        sg.simulate_s
    );
    if !portable {
        println!(
            "note: conductance synapses need exp(), which GPUs round differently from the CPU by a few ulp: \
             identical spikes are not expected; checked are the counts (within {}) and |ΔV| before the first divergence",
            a.rate_tol
        );
    }
    println!(
        "{:<12} {:>10} {:>10} {:>16} {:>22}",
        "population", "cpu", "gpu", "identical prefix", "first divergence (ms)"
    );
    let pops = agreement(&net, &cpu, &gpu);
    let mut problems = Vec::new();
    for p in &pops {
        let div = p
            .first_divergence_ms
            .map(|t| format!("{t}"))
            .unwrap_or_else(|| "none".into());
        println!(
            "{:<12} {:>10} {:>10} {:>16} {:>22}",
            p.name, p.counts.0, p.counts.1, p.identical_prefix, div
        );
        if let Some(t) = p.first_divergence_ms
            && t < need
        {
            problems.push(format!(
                "population '{}' diverges at {t} ms, before the required {need} ms",
                p.name
            ));
        }
        let (x, y) = (p.counts.0 as f64, p.counts.1 as f64);
        if (x - y).abs() > a.rate_tol * x.max(y) {
            problems.push(format!(
                "population '{}' spike counts {} vs {} differ by more than {}",
                p.name, p.counts.0, p.counts.1, a.rate_tol
            ));
        }
    }
    // Voltages: compare samples taken before the first divergence anywhere.
    let first_div = pops
        .iter()
        .filter_map(|p| p.first_divergence_ms)
        .fold(f64::INFINITY, f64::min);
    let mut dv_before = 0f64;
    let mut dv_all = 0f64;
    for (x, y) in cpu.voltages.iter().zip(&gpu.voltages) {
        let d = (x.2 - y.2).abs();
        dv_all = dv_all.max(d);
        let t = x.0.map(|s| sim::stamp_ms(s, net.dt_ms)).unwrap_or(0.0);
        if t < first_div {
            dv_before = dv_before.max(d);
        }
    }
    if !net.probes.is_empty() {
        println!(
            "largest |ΔV| on {} recorded neurons: {dv_before:.3e} mV before the first divergence, {dv_all:.3e} mV overall",
            net.probes.len()
        );
        if dv_before > a.v_tol_mv {
            problems.push(format!(
                "|ΔV| {dv_before:.3e} mV before the first divergence exceeds {} mV",
                a.v_tol_mv
            ));
        }
    }
    if problems.is_empty() {
        println!(
            "agree: identical spikes for at least {need} ms, counts within {}, |ΔV| within {} mV",
            a.rate_tol, a.v_tol_mv
        );
        Ok(())
    } else {
        Err(Error::Disagree(format!(
            "backends disagree: {}",
            problems.join("; ")
        )))
    }
}

/// `galvani bench`: each repetition builds a fresh [`Simulation`] and runs the config's
/// duration, recording nothing.
pub fn bench(a: &BenchArgs) -> Result<()> {
    let t0 = Instant::now();
    let path = a.config.as_ref().expect("clap: a config unless --suite");
    let cfg = config::load(path)?;
    let mut net = Network::build(&cfg, a.duration_ms, None)?;
    net.threads = a.threads.or(net.threads);
    let build_s = t0.elapsed().as_secs_f64();
    let gpu = open_gpu(a.backend, a.precision, false)?;
    for rep in 1..=a.repeat {
        let t1 = Instant::now();
        let mut run = Simulation::new(net.clone(), gpu.clone(), a.precision)?;
        let stats = run.run_steps_into(net.steps, &mut Discard, &mut sim::Unmonitored)?;
        let setup_s = t1.elapsed().as_secs_f64() - stats.simulate_s;
        let line = serde_json::json!({
            "sim": "galvani", "config": path.display().to_string(), "backend": stats.info.backend,
            "device": stats.info.device, "precision": stats.info.precision,
            "threads": stats.info.threads, "N": net.n,
            "synapses": net.synapses.len(), "T_ms": net.steps as f64 * net.dt_ms, "rep": rep,
            "build_s": build_s + setup_s, "run_s": stats.simulate_s,
            "steps_per_s": net.steps as f64 / stats.simulate_s,
            "spikes": stats.spikes_per_pop.iter().sum::<u64>(),
            "rss_mb": crate::mem::rss_bytes().map(crate::mem::mb),
            "peak_rss_mb": crate::mem::peak_rss_bytes().map(crate::mem::mb),
        });
        println!("{line}");
    }
    Ok(())
}

/// `galvani devices`.
pub fn devices() -> Result<()> {
    let list = gpu::list_adapters();
    if list.is_empty() {
        println!("no GPU adapters found; galvani runs on the CPU backend");
    }
    for l in list {
        println!("{l}");
    }
    Ok(())
}
