//! Comparing backends: a network run on the CPU and the GPU (f32) and judged by typed
//! verdicts. LIF networks must give identical spike trains for a required span (exactly
//! where the arithmetic is portable), counts within a tolerance and |ΔV| within a bound
//! before the first divergence; HV networks are chaotic and are judged against a
//! yardstick measured on the spot, the CPU in f32 against f64 (spec hv-model.md 10.1).
//! The CLI (`galvani compare`) and Python (`Simulation.compare`) print [`Comparison`]'s
//! report and act on its verdict.

use std::path::Path;

use crate::backend::gpu::GpuContext;
use crate::config;
use crate::error::{Error, Result};
use crate::network::Network;
use crate::real::Precision;
use crate::sim::{self, Collect, RunStats};
use crate::simulation::Simulation;
use crate::stats::{HvAgreement, agreement, hv_agreement};

/// The tolerances of a comparison; [`Default`] gives the CLI's defaults.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// Override simulation.duration_ms.
    pub duration_ms: Option<f64>,
    /// Required span of identical spike trains (ms) [default: min(duration, 200) where
    /// the network's arithmetic is portable, else 0].
    pub identical_ms: Option<f64>,
    /// Largest allowed |ΔV| (mV) on recorded neurons before the first spike divergence.
    pub v_tol_mv: f64,
    /// Largest allowed relative difference of each population's spike count.
    pub rate_tol: f64,
    /// HV: spikes must match one for one (within `t_tol_ms`) until this time (ms), or
    /// half the time f32 and f64 runs on the CPU agree for, if that is shorter.
    pub match_ms: f64,
    /// HV: largest allowed |Δt| (ms) of matched spikes (interpolated times).
    pub t_tol_ms: f64,
    /// HV: largest allowed relative difference of the total spike count (larger ones
    /// pass when within 3 standard errors of the run's own rate fluctuations).
    pub count_tol: f64,
    /// HV: largest allowed mean |Δcount| per neuron (or 1.5 × f32-vs-f64's + 0.1).
    pub mean_dcount: f64,
    /// HV: smallest allowed correlation of the per-neuron spike counts (or
    /// 1 − 1.5 × (1 − f32-vs-f64's)).
    pub min_corr: f64,
    /// HV: largest allowed |ΔV| (mV) on recorded neurons while the spikes match.
    pub hv_v_tol_mv: f64,
    /// Threads of the CPU backend [default: simulation.threads, else every core].
    pub threads: Option<usize>,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            duration_ms: None,
            identical_ms: None,
            v_tol_mv: 1e-3,
            rate_tol: 0.05,
            match_ms: 15.0,
            t_tol_ms: 1e-3,
            count_tol: 0.02,
            mean_dcount: 1.5,
            min_corr: 0.98,
            hv_v_tol_mv: 1e-2,
            threads: None,
        }
    }
}

/// One criterion of a comparison and whether it held.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// Whether the criterion held.
    pub ok: bool,
    /// What was checked, with the measured value and the bound.
    pub what: String,
}

/// The outcome of a comparison: the human report (the lines `galvani compare` prints)
/// and the verdict, as typed checks.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The report, one line each.
    pub report: Vec<String>,
    /// Every criterion checked, passed or not.
    pub checks: Vec<Check>,
    /// Whether the network is an HV network (judged statistically).
    pub statistical: bool,
}

impl Comparison {
    /// Whether every check held.
    pub fn agree(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    /// The checks that failed.
    pub fn failures(&self) -> Vec<&Check> {
        self.checks.iter().filter(|c| !c.ok).collect()
    }

    /// `Ok` when the backends agree, else [`Error::Disagree`] naming every failed check.
    pub fn verdict(&self) -> Result<()> {
        if self.agree() {
            Ok(())
        } else {
            let what: Vec<&str> = self.failures().iter().map(|c| c.what.as_str()).collect();
            Err(Error::Disagree(format!(
                "backends disagree: {}",
                what.join("; ")
            )))
        }
    }
}

macro_rules! say {
    ($r:expr, $($arg:tt)*) => {
        $r.push(format!($($arg)*))
    };
}

/// Loads `config`, builds its network and compares the backends on it.
pub fn compare_config(config: &Path, a: &CompareOptions) -> Result<Comparison> {
    let cfg = config::load(config)?;
    let net = Network::build(&cfg, a.duration_ms, None)?;
    compare_network(&config.display().to_string(), net, a)
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
    a: &CompareOptions,
    net: &Network,
    cpu: &Collect,
    gpu: &Collect,
    cpu64: &Collect,
    header: String,
) -> Comparison {
    let mut r: Vec<String> = vec![header];
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
    say!(
        r,
        "{:<12} {:>10} {:>10} {:>10}",
        "population",
        "cpu f32",
        "gpu f32",
        "cpu f64"
    );
    for (p, pop) in net.populations.iter().enumerate() {
        let c = |x: &Collect| x.spikes.iter().filter(|s| s.1 as usize == p).count();
        say!(
            r,
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
    say!(
        r,
        "HV network: chaotic, so spike for spike only over an initial span, then statistics \
         (spec hv-model.md 10.1); yardstick = cpu f32 vs cpu f64 on this network"
    );
    say!(
        r,
        "  {:<40} {:>16} {:>16}",
        "",
        "cpu32 vs gpu32",
        "cpu32 vs cpu64"
    );
    say!(
        r,
        "  {:<40} {:>16} {:>16}",
        format!("agree within {} ms until", a.t_tol_ms),
        hz(t.horizon_ms),
        hz(y.horizon_ms)
    );
    say!(
        r,
        "  {:<40} {:>16} {:>16}",
        format!("spikes matched (before {} ms at most)", a.match_ms),
        t.matched,
        y.matched
    );
    say!(
        r,
        "  {:<40} {:>16} {:>16}",
        "total spike count difference",
        format!("{:+.2} %", 100.0 * rel(&t)),
        format!("{:+.2} %", 100.0 * rel(&y))
    );
    say!(
        r,
        "  {:<40} {:>16} {:>16}",
        "  in standard errors (10 ms windows)",
        format!("{:+.2}", t.count_z),
        format!("{:+.2}", y.count_z)
    );
    say!(
        r,
        "  {:<40} {:>16} {:>16}",
        "mean per-neuron |Δcount|",
        format!("{:.3}", t.mean_abs_dcount),
        format!("{:.3}", y.mean_abs_dcount)
    );
    say!(
        r,
        "  {:<40} {:>16} {:>16}",
        "neurons whose counts differ",
        t.neurons_differing,
        y.neurons_differing
    );
    say!(
        r,
        "  {:<40} {:>16} {:>16}",
        "correlation of per-neuron counts",
        format!("{:.4}", t.count_corr),
        format!("{:.4}", y.count_corr)
    );
    let mut checks = Vec::new();
    let line = |ok: bool, what: String, r: &mut Vec<String>, checks: &mut Vec<Check>| {
        r.push(format!("  [{}] {what}", if ok { "ok" } else { "FAIL" }));
        checks.push(Check { ok, what });
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
        &mut r,
        &mut checks,
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
        &mut r,
        &mut checks,
    );
    let dcount_limit = a.mean_dcount.max(1.5 * y.mean_abs_dcount + 0.1);
    line(
        t.mean_abs_dcount <= dcount_limit,
        format!(
            "mean per-neuron |Δcount| {:.3} <= {dcount_limit:.3} (max of {} and 1.5 × yardstick + 0.1)",
            t.mean_abs_dcount, a.mean_dcount
        ),
        &mut r,
        &mut checks,
    );
    let corr_limit = a.min_corr.min(1.0 - 1.5 * (1.0 - y.count_corr));
    line(
        t.count_corr >= corr_limit,
        format!(
            "count correlation {:.4} >= {corr_limit:.4} (min of {} and 1 − 1.5 × (1 − yardstick))",
            t.count_corr, a.min_corr
        ),
        &mut r,
        &mut checks,
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
            &mut r,
            &mut checks,
        );
    }
    if checks.iter().all(|c| c.ok) {
        say!(
            r,
            "agree: spike for spike until {}, then statistically, as closely as f32 agrees with f64 on this network",
            hz(t.horizon_ms)
        );
    }
    Comparison {
        report: r,
        checks,
        statistical: true,
    }
}

/// Runs `net` on the CPU and the GPU (f32; an HV network also on the CPU in f64, the
/// yardstick) from t = 0 over its duration and judges the agreement. `name` heads the
/// report (the config's path in the CLI). Errors: no GPU adapter, or a failed run; a
/// disagreement is a verdict ([`Comparison::verdict`]), not an error.
pub fn compare_network(name: &str, mut net: Network, a: &CompareOptions) -> Result<Comparison> {
    net.threads = a.threads.or(net.threads);
    let ctx = GpuContext::new()?;
    let mut r: Vec<String> = Vec::new();
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
            name,
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
        return Ok(compare_hv(a, &net, &cpu, &gpu, &cpu64, header));
    }
    let portable = net.bitwise_portable();
    let need = a
        .identical_ms
        .unwrap_or(if portable { duration.min(200.0) } else { 0.0 });
    say!(
        r,
        "{}: {} ms; cpu f32 ({} threads, {:.3} s) vs gpu f32 on {} ({:.3} s)",
        name,
        duration,
        sc.info.threads.unwrap_or(1),
        sc.simulate_s,
        sg.info.device,
        sg.simulate_s
    );
    if !portable {
        say!(
            r,
            "note: the model needs exp() or division, which GPUs round differently from the CPU by a few ulp: \
             identical spikes are not expected; checked are the counts (within {}) and |ΔV| before the first divergence",
            a.rate_tol
        );
    }
    say!(
        r,
        "{:<12} {:>10} {:>10} {:>16} {:>22}",
        "population",
        "cpu",
        "gpu",
        "identical prefix",
        "first divergence (ms)"
    );
    let pops = agreement(&net, &cpu, &gpu);
    let mut checks = Vec::new();
    for p in &pops {
        let div = p
            .first_divergence_ms
            .map(|t| format!("{t}"))
            .unwrap_or_else(|| "none".into());
        say!(
            r,
            "{:<12} {:>10} {:>10} {:>16} {:>22}",
            p.name,
            p.counts.0,
            p.counts.1,
            p.identical_prefix,
            div
        );
        checks.push(match p.first_divergence_ms {
            Some(t) if t < need => Check {
                ok: false,
                what: format!(
                    "population '{}' diverges at {t} ms, before the required {need} ms",
                    p.name
                ),
            },
            _ => Check {
                ok: true,
                what: format!("population '{}' identical for at least {need} ms", p.name),
            },
        });
        let (x, y) = (p.counts.0 as f64, p.counts.1 as f64);
        let ok = (x - y).abs() <= a.rate_tol * x.max(y);
        checks.push(Check {
            ok,
            what: format!(
                "population '{}' spike counts {} vs {} differ by {} than {}",
                p.name,
                p.counts.0,
                p.counts.1,
                if ok { "no more" } else { "more" },
                a.rate_tol
            ),
        });
    }
    // Voltages: compare samples taken before the first divergence anywhere.
    let first_div = pops
        .iter()
        .filter_map(|p| p.first_divergence_ms)
        .fold(f64::INFINITY, f64::min);
    let mut dv_before = 0f64;
    let mut dv_all = 0f64;
    // Where the arithmetic is not portable, a few-ulp difference shifts an action
    // potential's upswing by a fraction of a step, which is mV there (HH, AdEx): those
    // samples (V moved more than STEEP_MV over the step on the CPU) are left out of the
    // |ΔV| check, and counted.
    const STEEP_MV: f64 = 1.0;
    let mut prev = vec![f64::NAN; net.probes.len()];
    let mut steep = 0usize;
    for (x, y) in cpu.voltages.iter().zip(&gpu.voltages) {
        let d = (x.2 - y.2).abs();
        dv_all = dv_all.max(d);
        let moved = (x.2 - std::mem::replace(&mut prev[x.1], x.2)).abs();
        if !portable && moved > STEEP_MV {
            steep += 1;
            continue;
        }
        let t = x.0.map(|s| sim::stamp_ms(s, net.dt_ms)).unwrap_or(0.0);
        if t < first_div {
            dv_before = dv_before.max(d);
        }
    }
    if !net.probes.is_empty() {
        say!(
            r,
            "largest |ΔV| on {} recorded neurons: {dv_before:.3e} mV before the first divergence{}, {dv_all:.3e} mV overall",
            net.probes.len(),
            if portable {
                String::new()
            } else {
                format!(
                    " ({steep} samples on steep flanks, where V moved more than {STEEP_MV} mV in the step, left out)"
                )
            }
        );
        let ok = dv_before <= a.v_tol_mv;
        checks.push(Check {
            ok,
            what: format!(
                "|ΔV| {dv_before:.3e} mV before the first divergence {} {} mV",
                if ok { "within" } else { "exceeds" },
                a.v_tol_mv
            ),
        });
    }
    if checks.iter().all(|c| c.ok) {
        say!(
            r,
            "agree: identical spikes for at least {need} ms, counts within {}, |ΔV| within {} mV",
            a.rate_tol,
            a.v_tol_mv
        );
    }
    Ok(Comparison {
        report: r,
        checks,
        statistical: false,
    })
}
