//! The Herrera-Valdez model (spec ../shared/specs/hv-model.md) against the reference
//! outputs of ../shared/reference/hv (vendored in tests/data/hv), on every backend, and
//! the spec's own facts (rest, EPSP, rheobase, f–I).
//!
//! Tolerances (spec 10.1 and the reference README): f32 backends — a, a2, b: same spike
//! counts, |Δt| ≤ 1e-3 ms, |Δv| ≤ 1e-2 mV on the 1 ms traces; c_weak: identical per-neuron
//! counts, |Δt| ≤ 0.05 ms (interpolated times, not steps). The f64 CPU backend runs the
//! same algorithm as the f64 reference, so it must match far tighter (values printed with
//! 9 decimals in the reference files).

use crate::common::*;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use galvani::network::Network;
use galvani::sim::Collect;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/hv");

/// Reference spikes: neuron → [(step of the first sample ≥ 0 mV, interpolated t)].
fn ref_spikes(file: &str) -> BTreeMap<u32, Vec<(u64, f64)>> {
    let mut m: BTreeMap<u32, Vec<(u64, f64)>> = BTreeMap::new();
    let mut rdr = csv::Reader::from_path(Path::new(DATA).join(file)).unwrap();
    for r in rdr.records() {
        let r = r.unwrap();
        m.entry(r[0].parse().unwrap())
            .or_default()
            .push((r[1].parse().unwrap(), r[2].parse().unwrap()));
    }
    m
}

/// Reference trace: rows of (t, v_0, v_1, …) (the w columns dropped).
fn ref_trace(file: &str) -> Vec<(f64, Vec<f64>)> {
    let mut rdr = csv::Reader::from_path(Path::new(DATA).join(file)).unwrap();
    let heads: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let v = heads
                .iter()
                .enumerate()
                .filter(|(_, h)| h.ends_with("_mV"))
                .map(|(i, _)| r[i].parse().unwrap())
                .collect();
            (r[0].parse().unwrap(), v)
        })
        .collect()
}

/// Our spikes in the same shape: global neuron → [(reference step = our step + 1, t)].
fn our_spikes(net: &Network, run: &Collect) -> BTreeMap<u32, Vec<(u64, f64)>> {
    let mut m: BTreeMap<u32, Vec<(u64, f64)>> = BTreeMap::new();
    for (s, &t) in run.spikes.iter().zip(&run.times_ms) {
        let g = net.populations[s.1 as usize].offset as u32 + s.2;
        m.entry(g).or_default().push((s.0 + 1, t));
    }
    m
}

#[derive(Debug, Default)]
struct Diff {
    spikes: usize,
    max_dt: f64,
    step_mismatches: usize,
    max_dv: f64,
}

/// Compares spike trains neuron by neuron (counts must be identical) and, if given, the
/// 1 ms traces; returns the largest differences.
fn diff(
    name: &str,
    net: &Network,
    run: &Collect,
    reference: &BTreeMap<u32, Vec<(u64, f64)>>,
    trace_ref: Option<&[(f64, Vec<f64>)]>,
) -> Diff {
    let ours = our_spikes(net, run);
    let mut d = Diff::default();
    for i in 0..net.n as u32 {
        let (a, b) = (
            ours.get(&i).map(Vec::as_slice).unwrap_or(&[]),
            reference.get(&i).map(Vec::as_slice).unwrap_or(&[]),
        );
        assert_eq!(
            a.len(),
            b.len(),
            "{name}: neuron {i}: {} spikes, reference {}",
            a.len(),
            b.len()
        );
        for (x, y) in a.iter().zip(b) {
            d.spikes += 1;
            d.max_dt = d.max_dt.max((x.1 - y.1).abs());
            d.step_mismatches += (x.0 != y.0) as usize;
        }
    }
    if let Some(tr) = trace_ref {
        for (k, _) in net.probes.iter().enumerate() {
            let ours = trace(run, net, k);
            assert_eq!(ours.len(), tr.len(), "{name}: trace length");
            for ((t, v), (tr_t, tr_v)) in ours.iter().zip(tr) {
                assert!(
                    (t - tr_t).abs() < 1e-9,
                    "{name}: sample times {t} vs {tr_t}"
                );
                d.max_dv = d.max_dv.max((v - tr_v[k]).abs());
            }
        }
    }
    d
}

/// Tolerances: (|Δt| ms, |Δv| mV) for f32 (spec 10.1) and f64 backends.
fn tol(name: &str, f32_tol: (f64, f64)) -> (f64, f64) {
    if name.ends_with("f64") {
        (1e-8, 1e-8)
    } else {
        f32_tol
    }
}

fn single_cell(n_ampa: f64, init: &str) -> String {
    format!(
        r#"
[simulation]
duration_ms = 40.0
[[population]]
name = "cell"
size = 1
model = "hv"
[population.params]
n_ampa = {n_ampa}
[population.init]
{init}
[[stimulus]]
kind = "receptor_pulse"
target = "cell"
receptor = "ampa"
amplitude = 1.0
start_ms = 20.0
stop_ms = 22.0
[[stimulus]]
kind = "receptor_pulse"
target = "cell"
receptor = "ampa"
amplitude = 1.0
start_ms = 30.0
stop_ms = 32.0
[record]
voltage = [{{ population = "cell", every_steps = 70 }}]
"#
    )
}

fn check_case(case: &str, net: &Network, spikes_file: &str, trace_file: Option<&str>) {
    let reference = ref_spikes(&format!("{case}/{spikes_file}"));
    let tr = trace_file.map(|f| ref_trace(&format!("{case}/{f}")));
    for (name, run) in every_backend(net) {
        let d = diff(name, net, &run, &reference, tr.as_deref());
        let (t_tol, v_tol) = tol(name, (1e-3, 1e-2));
        eprintln!(
            "{case} {name}: {} spikes, max |Δt| = {:.3e} ms, {} on another step, max |Δv| = {:.3e} mV",
            d.spikes, d.max_dt, d.step_mismatches, d.max_dv
        );
        assert!(
            d.max_dt <= t_tol,
            "{case} {name}: |Δt| {} > {t_tol}",
            d.max_dt
        );
        assert!(
            d.max_dv <= v_tol,
            "{case} {name}: |Δv| {} > {v_tol}",
            d.max_dv
        );
        if name.ends_with("f64") {
            assert_eq!(d.step_mismatches, 0, "{case} {name}: steps");
        }
    }
}

/// Case a: the notebook's cell (v0 = −30 mV, w0 = 1e-3, N_Ampa = 10, two 2 ms AMPA pulses):
/// only the IC artefact spike at 0.3445 ms.
#[test]
fn case_a_single_notebook() {
    let net = net(&single_cell(10.0, "v_mv = -30.0\nw = 0.001"));
    assert_eq!(net.steps, 2800);
    check_case(
        "a_single_notebook",
        &net,
        "spikes_f64.csv",
        Some("trace_1ms_f64.csv"),
    );
}

/// Case a2: N_Ampa = 300 from rest: both pulses elicit a spike.
#[test]
fn case_a2_single_rest_nampa300() {
    let net = net(&single_cell(
        300.0,
        "v_mv = -69.92248177745992\nw = 0.00010453663854758004",
    ));
    check_case(
        "a2_single_rest_NAmpa300",
        &net,
        "spikes_f64.csv",
        Some("trace_1ms_f64.csv"),
    );
}

/// Case b: a driven cell (180 pA) excites a resting one through W^A[1,0] = 30; 100 ms.
#[test]
fn case_b_pair() {
    let net = net(&std::fs::read_to_string(config_path("hv_pair.toml")).unwrap());
    let net = Network {
        probes: net
            .probes
            .iter()
            .map(|p| galvani::network::Probe { every: 70, ..*p })
            .collect(),
        ..net
    };
    check_case(
        "b_pair",
        &net,
        "spikes_f64_frozen.csv",
        Some("trace_1ms_f64.csv"),
    );
}

/// The general two-exponential flux form (used whenever some r != 0.5) reproduces the
/// references as well as the sinh form the defaults select: cases a2 and b with every
/// neuron forced onto the general path, on every backend.
#[test]
fn general_flux_form_matches_the_references_too() {
    let general = |mut net: Network| {
        let galvani::network::Neurons::Hv(h) = &mut net.neurons else {
            panic!("HV")
        };
        for p in &mut h.params {
            assert_eq!(p.sinh_form, 1);
            p.sinh_form = 0;
        }
        net
    };
    let a2 = general(net(&single_cell(
        300.0,
        "v_mv = -69.92248177745992\nw = 0.00010453663854758004",
    )));
    check_case(
        "a2_single_rest_NAmpa300",
        &a2,
        "spikes_f64.csv",
        Some("trace_1ms_f64.csv"),
    );
    let b = net(&std::fs::read_to_string(config_path("hv_pair.toml")).unwrap());
    let b = general(Network {
        probes: b
            .probes
            .iter()
            .map(|p| galvani::network::Probe { every: 70, ..*p })
            .collect(),
        ..b
    });
    check_case(
        "b_pair",
        &b,
        "spikes_f64_frozen.csv",
        Some("trace_1ms_f64.csv"),
    );
}

/// The seed figure's config (configs/seeds/hv_ampa_pulses.toml) shows reference cases a
/// and a2 and the EPSPs from rest: its spikes are the references' on every backend.
#[test]
fn seed_config_shows_the_reference_spikes() {
    let net = net(&std::fs::read_to_string(config_path("seeds/hv_ampa_pulses.toml")).unwrap());
    for (name, run) in every_backend(&net) {
        let t: Vec<(u32, f64)> = run
            .spikes
            .iter()
            .zip(&run.times_ms)
            .map(|(s, &t)| (s.1, t))
            .collect();
        assert_eq!(t.len(), 3, "{name}: {t:?}");
        for ((p, t), (rp, rt)) in
            t.iter()
                .zip([(0, 0.344545149), (2, 21.6869576), (2, 31.65213185)])
        {
            assert_eq!(*p, rp, "{name}");
            assert!((t - rt).abs() < 1e-3, "{name}: {t} vs {rt}");
        }
        let rest = trace(&run, &net, 1);
        // the first pulse's EPSP (the second starts from its not quite decayed tail)
        let peak = rest
            .iter()
            .filter(|x| x.0 < 30.0)
            .map(|x| x.1)
            .fold(f64::MIN, f64::max);
        assert!(
            (peak - rest[0].1 - 2.357).abs() < 0.01,
            "{name}: EPSP {}",
            peak - rest[0].1
        );
    }
}

fn config_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("configs")
        .join(name)
}

/// The c_weak network files converted to galvani's formats (neuron column, one edge file
/// per receptor, population-local indices = the reference ids); returns the config text.
fn c_weak_config(dir: &Path) -> String {
    let src = Path::new(DATA).join("c_weak");
    let mut neurons = String::from("neuron,i_e_pa,v_mv,w\n");
    let mut rdr = csv::Reader::from_path(src.join("neurons.csv")).unwrap();
    for r in rdr.records() {
        let r = r.unwrap();
        neurons += &format!("{},{},{},{}\n", &r[0], &r[2], &r[3], &r[4]);
    }
    std::fs::write(dir.join("neurons.csv"), neurons).unwrap();
    let mut ampa = String::from("pre,post,weight\n");
    let mut gaba = ampa.clone();
    let mut rdr = csv::Reader::from_path(src.join("network.csv")).unwrap();
    for r in rdr.records() {
        let r = r.unwrap();
        let line = format!("{},{},{}\n", &r[0], &r[1], &r[2]);
        match &r[3] {
            "AMPA" => ampa += &line,
            "GABAA" => gaba += &line,
            t => panic!("type {t}"),
        }
    }
    std::fs::write(dir.join("ampa.csv"), ampa).unwrap();
    std::fs::write(dir.join("gaba_a.csv"), gaba).unwrap();
    let d = dir.display();
    format!(
        r#"
[simulation]
duration_ms = 200.0
[[population]]
name = "net"
size = 200
model = "hv"
[population.params]
i_e_pa = {{ file = "{d}/neurons.csv", column = "i_e_pa" }}
[population.init]
v_mv = {{ file = "{d}/neurons.csv", column = "v_mv" }}
w = {{ file = "{d}/neurons.csv", column = "w" }}
[[projection]]
pre = "net"
post = "net"
receptor = "ampa"
connect = {{ rule = "file", path = "{d}/ampa.csv" }}
[[projection]]
pre = "net"
post = "net"
receptor = "gaba_a"
connect = {{ rule = "file", path = "{d}/gaba_a.csv" }}
[record]
voltage = [{{ population = "net", neurons = [0, 1, 160, 161], every_steps = 70 }}]
"#
    )
}

/// Case c_weak: 200 coupled cells, 3987 synapses, 200 ms; weakly chaotic, so f32 runs
/// keep the per-neuron counts but times move by up to ~0.01 ms (spec 10.1).
#[test]
fn case_c_weak_network() {
    let dir = tempfile::tempdir().unwrap();
    let net = net(&c_weak_config(dir.path()));
    assert_eq!(net.synapses.len(), 3987);
    assert_eq!(net.steps, 14000);
    let reference = ref_spikes("c_weak/spikes_f64_frozen.csv");
    let tr = ref_trace("c_weak/trace_1ms_f64_frozen_n0_1_160_161.csv");
    for (name, run) in every_backend(&net) {
        assert_eq!(run.spikes.len(), 2400, "{name}: total");
        let d = diff(name, &net, &run, &reference, Some(&tr));
        let (t_tol, _) = tol(name, (0.05, f64::INFINITY));
        eprintln!(
            "c_weak {name}: {} spikes, identical per-neuron counts, max |Δt| = {:.3e} ms, {} on another step, max |Δv| (4 traces) = {:.3e} mV",
            d.spikes, d.max_dt, d.step_mismatches, d.max_dv
        );
        assert!(
            d.max_dt <= t_tol,
            "c_weak {name}: |Δt| {} > {t_tol}",
            d.max_dt
        );
        if name.ends_with("f64") {
            assert_eq!(d.step_mismatches, 0, "c_weak {name}: steps");
            assert!(d.max_dv <= 1e-8, "c_weak {name}: |Δv| {}", d.max_dv);
        }
    }
}

fn one_pop(size: usize, duration: f64, params: &str, init: &str, extra: &str) -> String {
    format!(
        r#"
[simulation]
duration_ms = {duration}
[[population]]
name = "cells"
size = {size}
model = "hv"
[population.params]
{params}
[population.init]
{init}
{extra}
"#
    )
}

fn currents_file(dir: &Path, currents: &[f64]) -> String {
    let mut f = String::from("neuron,i_e_pa\n");
    for (k, c) in currents.iter().enumerate() {
        f += &format!("{k},{c}\n");
    }
    let p = dir.join("currents.csv");
    std::fs::write(&p, f).unwrap();
    format!(
        "i_e_pa = {{ file = \"{}\", column = \"i_e_pa\" }}",
        p.display()
    )
}

/// Spike times (ms) of population-local neuron `k`.
fn times_of(run: &Collect, k: u32) -> Vec<f64> {
    run.spikes
        .iter()
        .zip(&run.times_ms)
        .filter(|(s, _)| s.2 == k)
        .map(|(_, &t)| t)
        .collect()
}

/// Spec 8/9: the default initial state is the resting state v* = −69.92248 mV,
/// w* = w_inf(v*), and an uncoupled cell without input stays there.
#[test]
fn default_initial_state_is_the_resting_state() {
    let net = net(&one_pop(
        2,
        100.0,
        "",
        "",
        "[record]\nvoltage = [{ population = \"cells\", every_steps = 700 }]",
    ));
    let galvani::network::Neurons::Hv(h) = &net.neurons else {
        panic!("an HV network")
    };
    assert!((h.v0[0] - -69.92248177745992).abs() < 1e-9, "{}", h.v0[0]);
    assert!(
        (h.w0[0] - 1.0453663854758004e-4).abs() < 1e-15,
        "{}",
        h.w0[0]
    );
    for (name, run) in every_backend(&net) {
        assert!(run.spikes.is_empty(), "{name}");
        let tr = trace(&run, &net, 1);
        let drift = tr.iter().map(|x| (x.1 - tr[0].1).abs()).fold(0.0, f64::max);
        eprintln!(
            "{name}: v(0) = {:.9} mV, largest drift over 100 ms {drift:.2e} mV",
            tr[0].1
        );
        assert!((tr[0].1 - -69.92248177745992).abs() < 1e-5, "{name}");
        assert!(
            drift < 1e-4,
            "{name}: the resting state drifts by {drift} mV"
        );
    }
}

/// Spec 9: the notebook's AMPA pulse (P = 1 for 2 ms, N_Ampa = 10) from rest gives an
/// EPSP of ≈ +2.4 mV (to −67.57 mV) and no spike.
#[test]
fn notebook_ampa_pulse_gives_a_2_4_mv_epsp_without_spike() {
    let net = net(&one_pop(
        1,
        60.0,
        "n_ampa = 10.0",
        "",
        r#"[[stimulus]]
kind = "receptor_pulse"
target = "cells"
receptor = "ampa"
amplitude = 1.0
start_ms = 20.0
stop_ms = 22.0
[record]
voltage = [{ population = "cells", every_steps = 1 }]"#,
    ));
    for (name, run) in every_backend(&net) {
        let tr = trace(&run, &net, 0);
        let rest = tr[0].1;
        let (t_peak, peak) = tr
            .iter()
            .copied()
            .fold((0.0, f64::MIN), |a, x| if x.1 > a.1 { x } else { a });
        eprintln!(
            "{name}: EPSP {:+.4} mV (peak {peak:.4} mV at {t_peak:.3} ms)",
            peak - rest
        );
        assert!(run.spikes.is_empty(), "{name}: no spike");
        assert!(
            (peak - rest - 2.36).abs() < 0.05,
            "{name}: EPSP {}",
            peak - rest
        );
        assert!((peak - -67.57).abs() < 0.01, "{name}: peak {peak}");
        assert!(
            (21.0..23.0).contains(&t_peak),
            "{name}: peak at {t_peak} ms"
        );
    }
}

/// Spec 9: rheobase 157.13 pA (class I): 157 pA from rest gives one transient spike and
/// then rests; 158 pA fires tonically at ≈ 23 Hz. The steady f–I curve: 160 → 36,
/// 170 → 67, 180 → 91, 200 → 131, 250 → 212, 300 → 302 Hz (±1 Hz: the spec rounds), and
/// depolarisation block at 310 pA (a few spikes, then none).
#[test]
fn rheobase_between_157_and_158_pa_and_f_i_curve() {
    let dir = tempfile::tempdir().unwrap();
    let spec = [
        (157.0, 0.0),
        (158.0, 23.0),
        (160.0, 36.0),
        (170.0, 67.0),
        (180.0, 91.0),
        (200.0, 131.0),
        (250.0, 212.0),
        (300.0, 302.0),
        (310.0, 0.0),
    ];
    let currents: Vec<f64> = spec.iter().map(|x| x.0).collect();
    let net = net(&one_pop(
        spec.len(),
        1000.0,
        &currents_file(dir.path(), &currents),
        "",
        "",
    ));
    for (name, run) in every_backend(&net) {
        for (k, &(i, hz)) in spec.iter().enumerate() {
            let t = times_of(&run, k as u32);
            let late: Vec<f64> = t.iter().copied().filter(|&x| x > 500.0).collect();
            let rate = if late.len() >= 2 {
                1000.0 * (late.len() - 1) as f64 / (late[late.len() - 1] - late[0])
            } else {
                0.0
            };
            eprintln!(
                "{name}: {i} pA: {} spikes in 1 s, steady rate {rate:.2} Hz (spec {hz})",
                t.len()
            );
            if hz == 0.0 {
                assert!(late.is_empty(), "{name}: {i} pA must not fire tonically");
                assert!(t.iter().all(|&x| x < 100.0), "{name}: {i} pA: {t:?}");
            } else {
                assert!(
                    (rate - hz).abs() <= 1.0,
                    "{name}: {i} pA: {rate} Hz vs {hz}"
                );
            }
        }
        assert_eq!(
            times_of(&run, 0).len(),
            1,
            "{name}: one transient spike at 157 pA"
        );
    }
}

/// Spec 6.4: RK4 is only conditionally stable; a cell at −80 mV with w = 0.1 (|λ|·dt ≈ 8.8)
/// blows up at once. The run stops with an error naming population, neuron, step, time.
#[test]
fn non_finite_state_stops_the_run_with_its_location() {
    let text = r#"
[simulation]
duration_ms = 5.0
[[population]]
name = "fine"
size = 3
model = "hv"
[[population]]
name = "stiff"
size = 4
model = "hv"
[population.init]
v_mv = { linspace = [-70.0, -80.0] }
w = { linspace = [0.0001, 0.1] }
"#;
    let net = net(text);
    let mut results = vec![
        (
            "cpu-f32",
            galvani::sim::drive(
                &net,
                galvani::backend::cpu::CpuBackend::<f32>::new(&net).unwrap(),
                &mut Collect::default(),
            )
            .map(|_| ()),
        ),
        (
            "cpu-f64",
            galvani::sim::drive(
                &net,
                galvani::backend::cpu::CpuBackend::<f64>::new(&net).unwrap(),
                &mut Collect::default(),
            )
            .map(|_| ()),
        ),
    ];
    if let Some(ctx) = gpu() {
        results.push((
            "gpu-f32",
            galvani::sim::drive(
                &net,
                galvani::backend::gpu::GpuBackend::new(&ctx, &net).unwrap(),
                &mut Collect::default(),
            )
            .map(|_| ()),
        ));
    }
    for (name, r) in results {
        let e = r.expect_err(name);
        let msg = e.to_string();
        eprintln!("{name}: {msg}");
        assert!(matches!(e, galvani::Error::NonFinite(_)), "{name}: {e:?}");
        assert_eq!(e.exit_code(), 3);
        for w in ["population 'stiff'", "neuron 3", "in step ", "t = "] {
            assert!(msg.contains(w), "{name}: message lacks '{w}': {msg}");
        }
    }
}

/// `galvani compare` on HV networks: the pair (not chaotic: agrees to the end) and c_weak
/// (weakly chaotic), against the f32-vs-f64 yardstick. Needs a GPU.
#[test]
fn compare_reports_agreement_on_hv_networks() {
    if gpu().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let c_weak = dir.path().join("c_weak.toml");
    std::fs::write(&c_weak, c_weak_config(dir.path())).unwrap();
    for cfg in [config_path("hv_pair.toml"), c_weak] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_galvani"))
            .args(["compare", cfg.to_str().unwrap()])
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        eprintln!("{out}{}", String::from_utf8_lossy(&o.stderr));
        assert!(o.status.success(), "{}", cfg.display());
        assert!(
            out.contains("yardstick") && out.contains("\nagree:"),
            "{out}"
        );
        assert!(!out.contains("FAIL"), "{out}");
    }
}

/// The statistics `compare` reports, on runs whose differences are known.
#[test]
fn hv_agreement_measures_what_it_says() {
    let net = net(&one_pop(3, 10.0, "", "", ""));
    let run = |spikes: &[(u32, f64)]| Collect {
        spikes: spikes
            .iter()
            .map(|&(i, t)| ((t / net.dt_ms) as u64, 0, i))
            .collect(),
        times_ms: spikes.iter().map(|s| s.1).collect(),
        voltages: Vec::new(),
    };
    let a = run(&[(0, 1.0), (1, 2.0), (0, 5.0), (2, 7.0)]);
    let same = galvani::stats::hv_agreement(&net, &a, &a, 15.0, 1e-3);
    assert_eq!(same.horizon_ms, None);
    assert_eq!(
        (same.matched, same.max_dt_ms, same.count_corr),
        (4, 0.0, 1.0)
    );
    // neuron 0's second spike moves by 0.01 ms at 5 ms; neuron 2 loses its spike
    let b = run(&[(0, 1.0), (1, 2.0005), (0, 5.01)]);
    let d = galvani::stats::hv_agreement(&net, &a, &b, 15.0, 1e-3);
    assert_eq!(d.horizon_ms, Some(5.0));
    assert_eq!(d.matched, 4);
    assert!(d.max_dt_ms.is_infinite(), "a spike without partner");
    assert_eq!(d.neurons_differing, 1);
    assert!((d.mean_abs_dcount - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(
        (same.count_z, d.count_z),
        (0.0, -1.0),
        "one 10 ms window, 4 vs 3"
    );
    let d = galvani::stats::hv_agreement(&net, &a, &b, 4.0, 1e-3);
    assert_eq!(d.matched, 2);
    assert!((d.max_dt_ms - 5e-4).abs() < 1e-12, "{}", d.max_dt_ms);
}
