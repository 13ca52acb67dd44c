//! `model = "adex"` (NEST `aeif_cond_exp` / `aeif_cond_alpha`, which NEST integrates with
//! adaptive RKF45): galvani's fixed-grid RK4 measured against NEST 3.10 (the firing
//! patterns of Naud et al. 2008, driven neurons of both synapse kinds), GPU vs CPU,
//! thread independence, checkpoints, bad input. Data and the script that made it:
//! `tests/data/adex_nest/`, `tools/nest_adex_reference.py`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use galvani::backend::cpu::CpuBackend;
use galvani::network::Network;
use galvani::real::Precision;
use galvani::sim::{Collect, drive};

use crate::common::*;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/adex_nest")
        .join(name)
}

fn load(name: &str) -> Network {
    let cfg = galvani::config::load(&data(name)).unwrap();
    Network::build(&cfg, None, None).unwrap()
}

/// Spike steps per population name, from a spike file of `tests/data/adex_nest`.
fn nest_spikes(file: &str) -> BTreeMap<String, Vec<i64>> {
    spikes_csv(&data(file))
}

/// Spike steps per population name, from a spike file (time_ms,population,neuron;
/// end-of-step stamps, dt 0.1 ms).
pub(crate) fn spikes_csv(path: &Path) -> BTreeMap<String, Vec<i64>> {
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut rdr = csv::Reader::from_path(path).unwrap();
    for r in rdr.records() {
        let r = r.unwrap();
        let t: f64 = r[0].parse().unwrap();
        out.entry(r[1].to_string())
            .or_default()
            .push((t / 0.1).round() as i64 - 1);
    }
    out
}

pub(crate) fn run_spikes(run: &Collect, net: &Network) -> BTreeMap<String, Vec<i64>> {
    let mut out: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for s in &run.spikes {
        out.entry(net.populations[s.1 as usize].name.clone())
            .or_default()
            .push(s.0 as i64);
    }
    out
}

/// The largest difference (steps) between the k-th spikes, after checking the counts.
pub(crate) fn worst_steps(ours: &[i64], nest: &[i64], what: &str) -> i64 {
    assert_eq!(ours.len(), nest.len(), "{what}: spike count");
    ours.iter()
        .zip(nest)
        .map(|(a, b)| (a - b).abs())
        .max()
        .unwrap_or(0)
}

/// Naud et al. (2008): all eight patterns with NEST's spike count over 1 s (f64);
/// measured worst offsets: 1 step for five, 4 (tonic) and 7 (delayed bursting) steps
/// after 1 s; the irregular pattern is chaotic (count only).
#[test]
fn naud_firing_patterns_follow_nest() {
    let net = load("patterns.toml");
    let ours = run_spikes(&cpu64(&net), &net);
    let nest = nest_spikes("patterns_spikes.csv");
    assert_eq!(nest.len(), 8, "every pattern fires");
    for (name, bound) in [
        ("tonic", 5),
        ("adapting", 1),
        ("initial_burst", 1),
        ("bursting", 1),
        ("delayed_accelerating", 1),
        ("delayed_bursting", 8),
        ("transient", 1),
        ("irregular", i64::MAX),
    ] {
        let w = worst_steps(&ours[name], &nest[name], name);
        assert!(w <= bound, "{name}: {w} steps off NEST (bound {bound})");
    }
    // the patterns are what they are named: adaptation lengthens the intervals, the
    // initial burst's first interval is its shortest, the transient cell fires once
    let isi = |v: &[i64]| v.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>();
    let a = isi(&ours["adapting"]);
    assert!(a[a.len() - 1] > 3 * a[0]);
    let b = isi(&ours["initial_burst"]);
    assert!(b[0] * 5 < b[b.len() - 1]);
    assert_eq!(ours["transient"].len(), 1);
}

/// Neurons driven by I_e and irregular excitation and inhibition for 1 s, both synapse
/// kinds (f64): every spike within one step (0.1 ms) of NEST's; V within 0.1 mV of
/// NEST's away from spikes (±1 ms; measured 0.008 mV exp, 0.054 mV alpha).
#[test]
fn driven_neurons_spike_within_a_step_of_nest() {
    for kind in ["exp_conductance", "alpha_conductance"] {
        let net = load(&format!("driven_{kind}.toml"));
        let run = cpu64(&net);
        let ours = run_spikes(&run, &net);
        let nest = nest_spikes(&format!("driven_{kind}_spikes.csv"));
        let mut total = 0;
        for n in ["n0", "n1"] {
            let w = worst_steps(&ours[n], &nest[n], &format!("{kind} {n}"));
            assert!(w <= 1, "{kind} {n}: {w} steps off NEST");
            total += nest[n].len();
        }
        assert!(total >= 25, "{kind}: the neurons fire ({total})");
        let mut rdr = csv::Reader::from_path(data(&format!("driven_{kind}_v.csv"))).unwrap();
        let mut worst = 0.0f64;
        for r in rdr.records() {
            let r = r.unwrap();
            let step = (r[0].parse::<f64>().unwrap() / 0.1).round() as i64 - 1;
            let k: usize = r[1].parse().unwrap();
            let near = nest[&format!("n{k}")]
                .iter()
                .any(|&s| (s - step).abs() <= 10);
            if near {
                continue;
            }
            let v: f64 = r[2].parse().unwrap();
            let ours = run
                .voltages
                .iter()
                .find(|x| x.0 == Some(step as u64) && x.1 == k)
                .unwrap()
                .2;
            worst = worst.max((ours - v).abs());
        }
        assert!(worst < 0.1, "{kind}: V {worst} mV off NEST");
    }
}

/// f32: the same spikes and voltages on 1 and 2 threads; the GPU's spikes equal the
/// CPU's and V is within 1e-3 mV (GPU exp() is not correctly rounded).
#[test]
fn f32_is_thread_independent_and_the_gpu_agrees() {
    let mut net = load("driven_alpha_conductance.toml");
    net.steps = 1500;
    let run = |t| {
        let mut c = Collect::default();
        drive(
            &net,
            CpuBackend::<f32>::with_threads(&net, t).unwrap(),
            &mut c,
        )
        .unwrap();
        c
    };
    let (one, two) = (run(1), run(2));
    assert!(!one.spikes.is_empty());
    assert_eq!(one.spikes, two.spikes);
    assert_eq!(one.voltages, two.voltages);
    let Some(ctx) = gpu() else { return };
    for kind in ["exp_conductance", "alpha_conductance"] {
        let mut net = load(&format!("driven_{kind}.toml"));
        net.steps = 600;
        let (cpu, gpu) = (cpu32(&net), gpu32(&ctx, &net));
        assert!(!cpu.spikes.is_empty(), "{kind}");
        assert_eq!(cpu.spikes, gpu.spikes, "{kind}");
        for (a, b) in cpu.voltages.iter().zip(&gpu.voltages) {
            assert!((a.2 - b.2).abs() < 1e-3, "{kind}: {a:?} vs {b:?}");
        }
    }
}

/// Checkpoints carry V, w, the conductances, their derivatives and the refractory count.
#[test]
fn adex_checkpoint_continues_bit_for_bit() {
    let make = || {
        let mut n = load("driven_alpha_conductance.toml");
        n.steps = 2000;
        n
    };
    crate::checkpoint::split_equals_whole(&make, None, Precision::F32, 777);
    crate::checkpoint::split_equals_whole(&make, None, Precision::F64, 777);
    if let Some(ctx) = gpu() {
        let short = || {
            let mut n = load("driven_exp_conductance.toml");
            n.steps = 500;
            n
        };
        crate::checkpoint::split_equals_whole(&short, Some(&ctx), Precision::F32, 250);
    }
}

const ONE: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 20.0
[[population]]
name = "n"
size = 1
model = "adex"
SYN
[population.params]
PARAMS
"#;

/// Bad input names the key and what was expected.
#[test]
fn bad_adex_input_is_refused_with_the_key() {
    let err = |syn: &str, params: &str| {
        let text = ONE.replace("SYN", syn).replace("PARAMS", params);
        match galvani::config::parse(&text, Path::new("t.toml")) {
            Err(e) => e.to_string(),
            Ok(c) => Network::build(&c, None, None)
                .map(|_| String::new())
                .unwrap_or_else(|e| e.to_string()),
        }
    };
    let e = err("", "tau_m_ms = 10.0");
    assert!(
        e.contains("tau_m_ms") && e.contains("c_m_pf, g_l_ns"),
        "{e}"
    );
    let e = err("", "v_peak_mv = -55.0");
    assert!(
        e.contains("params.v_peak_mv") && e.contains("above v_t_mv"),
        "{e}"
    );
    let e = err("", "c_m_pf = 0.0");
    assert!(e.contains("params.c_m_pf") && e.contains("positive"), "{e}");
    let e = err("", "tau_w_ms = -1.0");
    assert!(e.contains("params.tau_w_ms"), "{e}");
    let e = err("synapse = \"exp_current\"", "");
    assert!(
        e.contains("synapse") && e.contains("\"exp_conductance\" or \"alpha_conductance\""),
        "{e}"
    );
    assert_eq!(err("synapse = \"alpha_conductance\"", ""), "");
}
