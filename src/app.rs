//! The command-line interface: `galvani run | plot | compare | devices | bench`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand};

use galvani::backend::BackendKind;
use galvani::backend::gpu;
use galvani::compare::{CompareOptions, compare_config};
use galvani::config;
use galvani::error::{Error, Result};
use galvani::network::Network;
use galvani::output::Summary;
use galvani::real::Precision;
use galvani::run::{ResumeOptions, RunJob, RunOptions};
use galvani::sim::{self, Discard};
use galvani::simulation::{Simulation, open_gpu};

use crate::plot::{self, FiNeuron, RunMeta};
use crate::progress::{self, RunMonitor};

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
    /// List the neuron models with their parameters, units and defaults (Markdown, as in
    /// the documentation's parameter reference).
    Models,
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
    /// Run the standard set instead (CUBA 4k, CUBA 4k with alpha synapses, Izhikevich
    /// 1k, CUBA 64k, COBA, COBA with AdEx neurons, Brunel 12.5k, hv_network, and
    /// configs/pd14.toml where it is found) on every
    /// backend available and on 1 to all cores: one JSON line per repetition, then a
    /// table of the best times.
    #[arg(long, conflicts_with = "config")]
    pub suite: bool,
    /// Where to run.
    #[arg(long, default_value = "auto", value_parser = backend_parser())]
    pub backend: BackendKind,
    /// Working precision.
    #[arg(long, default_value = "f32", value_parser = precision_parser())]
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

/// `--backend`: the library's names ([`BackendKind::NAMES`]), listed in `--help`.
fn backend_parser() -> impl clap::builder::TypedValueParser<Value = BackendKind> {
    clap::builder::PossibleValuesParser::new(BackendKind::NAMES)
        .map(|s| s.parse::<BackendKind>().expect("one of the names"))
}

/// `--precision`: the library's names ([`Precision::NAMES`]).
fn precision_parser() -> impl clap::builder::TypedValueParser<Value = Precision> {
    clap::builder::PossibleValuesParser::new(Precision::NAMES)
        .map(|s| s.parse::<Precision>().expect("one of the names"))
}

/// `--threads`: checked by the library ([`galvani::engine::threads::check_threads`]).
fn parse_threads(s: &str) -> std::result::Result<usize, String> {
    let n = s.parse::<u64>().map_err(|_| {
        format!(
            "expected 1 to {} threads, got '{s}'",
            galvani::engine::threads::MAX_THREADS
        )
    })?;
    galvani::engine::threads::check_threads(n)
}

/// `galvani run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The TOML network config.
    pub config: PathBuf,
    /// Where to run: a GPU adapter if there is one (auto), the GPU, or the CPU.
    #[arg(long, default_value = "auto", value_parser = backend_parser())]
    pub backend: BackendKind,
    /// Working precision (f64 needs the CPU backend).
    #[arg(long, default_value = "f32", value_parser = precision_parser())]
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
        Command::Models => {
            print!("{}", galvani::model::parameter_reference());
            Ok(())
        }
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

/// Prints the summary and draws the plots of a finished (or stopped) run; a stopped run
/// then becomes [`Error::Interrupted`] (exit code 130, 143, 129).
fn finish(job: RunJob, quiet: bool, no_plots: bool) -> Result<Summary> {
    let config = job.config().to_path_buf();
    let mut monitor = RunMonitor::new(job.simulation().network().dt_ms, quiet);
    let outcome = job.run(&mut monitor)?;
    monitor.clear();
    if !quiet {
        print_summary(
            &config,
            &outcome.out,
            outcome.sim.network(),
            &outcome.summary,
        );
    }
    if !no_plots {
        let t = Instant::now();
        let written = plot::plot_dir(&outcome.out)?;
        if !quiet && !written.is_empty() {
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
    match outcome.interrupted() {
        Some(e) => Err(e),
        None => Ok(outcome.summary),
    }
}

/// `galvani run`.
pub fn run(a: &RunArgs) -> Result<Summary> {
    progress::install_stop_handlers();
    let opts = RunOptions {
        backend: a.backend,
        precision: a.precision,
        duration_ms: a.duration_ms,
        seed: a.seed,
        threads: a.threads,
        checkpoint_every_ms: a.checkpoint_every_ms,
        quiet: a.quiet,
    };
    finish(RunJob::new(&a.config, &a.out, &opts)?, a.quiet, a.no_plots)
}

/// `galvani resume`: rebuilds the run's network from its config (which must be unchanged),
/// loads the checkpoint, cuts the CSVs back to it and runs to the end.
pub fn resume(a: &ResumeArgs) -> Result<Summary> {
    progress::install_stop_handlers();
    let opts = ResumeOptions {
        threads: a.threads,
        quiet: a.quiet,
    };
    let job = RunJob::resume(&a.dir, &opts)?;
    if !a.quiet {
        let sim = job.simulation();
        println!(
            "resuming {} at {} ms of {} ms from {}",
            job.config().display(),
            plot::fmt_num(sim.t_ms()),
            plot::fmt_num(sim.default_steps() as f64 * sim.network().dt_ms),
            galvani::run::checkpoint_path(&a.dir).display()
        );
    }
    finish(job, a.quiet, a.no_plots)
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
    Ok(galvani::fi::fi_neurons(&net, |name| {
        meta.pop_index_of(name)
    }))
}

/// `galvani compare`: the library's comparison, its report printed.
pub fn compare(a: &CompareArgs) -> Result<()> {
    let opts = CompareOptions {
        duration_ms: a.duration_ms,
        identical_ms: a.identical_ms,
        v_tol_mv: a.v_tol_mv,
        rate_tol: a.rate_tol,
        match_ms: a.match_ms,
        t_tol_ms: a.t_tol_ms,
        count_tol: a.count_tol,
        mean_dcount: a.mean_dcount,
        min_corr: a.min_corr,
        hv_v_tol_mv: a.hv_v_tol_mv,
        threads: a.threads,
    };
    let c = compare_config(&a.config, &opts)?;
    for line in &c.report {
        println!("{line}");
    }
    c.verdict()
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
            "rss_mb": galvani::mem::rss_bytes().map(galvani::mem::mb),
            "peak_rss_mb": galvani::mem::peak_rss_bytes().map(galvani::mem::mb),
            "gpu": stats.gpu.map(|c| c.report()),
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
