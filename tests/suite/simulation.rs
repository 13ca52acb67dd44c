//! The library API (`galvani::Simulation`): split runs equal one run byte for byte on
//! every backend and model, reset returns to t = 0, and parameters and state can be read
//! and written between runs. GPU cases skip without an adapter unless
//! GALVANI_REQUIRE_GPU=1.

use std::path::Path;

use crate::common::gpu;

use galvani::Simulation;
use galvani::backend::gpu::GpuContext;
use galvani::network::Network;
use galvani::real::Precision;
use galvani::sim::{Collect, Unmonitored};

fn net(config: &str) -> Network {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(config);
    let cfg = galvani::config::load(&path).unwrap();
    Network::build(&cfg, None, None).unwrap()
}

/// Every bit of what a run recorded: spikes (with times) and voltage samples.
#[allow(clippy::type_complexity)]
fn bits(
    c: &Collect,
) -> (
    Vec<(u64, u32, u32)>,
    Vec<u64>,
    Vec<(Option<u64>, usize, u64)>,
) {
    (
        c.spikes.clone(),
        c.times_ms.iter().map(|t| t.to_bits()).collect(),
        c.voltages
            .iter()
            .map(|&(s, k, v)| (s, k, v.to_bits()))
            .collect(),
    )
}

fn sim(net: &Network, gpu: Option<&GpuContext>, p: Precision) -> Simulation {
    Simulation::new(net.clone(), gpu.cloned(), p).unwrap()
}

/// One run of `total` steps against pieces of `split` steps (with odd batch boundaries),
/// and a reset followed by the whole run again.
fn check_split(net: &Network, gpu: Option<&GpuContext>, p: Precision, total: u64, split: &[u64]) {
    assert_eq!(split.iter().sum::<u64>(), total);
    let mut one = sim(net, gpu, p);
    one.run_steps(total, &mut Unmonitored).unwrap();
    assert!(
        !one.records().spikes.is_empty(),
        "{}: the check needs spikes",
        net.name
    );
    let mut parts = sim(net, gpu, p);
    for &k in split {
        parts.run_steps(k, &mut Unmonitored).unwrap();
    }
    assert_eq!(parts.step(), total);
    assert_eq!(
        bits(one.records()),
        bits(parts.records()),
        "{} on {:?}: split runs differ from one run",
        net.name,
        one.info()
    );
    assert_eq!(one.spike_counts(), parts.spike_counts());
    parts.reset().unwrap();
    assert_eq!(parts.step(), 0);
    assert!(parts.records().spikes.is_empty() && parts.records().voltages.is_empty());
    parts.run_steps(total, &mut Unmonitored).unwrap();
    assert_eq!(
        bits(one.records()),
        bits(parts.records()),
        "{}: reset and rerun differ",
        net.name
    );
}

#[test]
fn split_runs_equal_one_run_on_the_cpu() {
    // CUBA with probes (LIF, exp_current, delays), Brunel-like drive via the HV network
    let cuba = net("tests/data/cuba4000/cuba_reference.toml");
    for p in [Precision::F32, Precision::F64] {
        check_split(&cuba, None, p, 1500, &[1, 999, 137, 363]);
    }
    let hv = net("configs/hv_pair.toml");
    check_split(&hv, None, Precision::F64, 3000, &[700, 1, 2299]);
    let driven = driven();
    for p in [Precision::F32, Precision::F64] {
        check_split(&driven, None, p, 600, &[150, 1, 249, 200]);
    }
}

/// Poisson drive, current pulses whose edges fall inside the pieces, delays of several
/// steps, probes sampling every 3 steps.
fn driven() -> Network {
    let text = r#"
[simulation]
dt_ms = 0.1
duration_ms = 60.0
[[population]]
name = "a"
size = 200
model = "lif"
[population.init]
v_mv = { uniform = [-70.0, -55.0] }
[[projection]]
pre = "a"
post = "a"
receptor = "ampa"
weight = 30.0
delay_ms = 1.3
connect = { rule = "fixed_probability", p = 0.05 }
[[stimulus]]
kind = "poisson"
target = "a"
rate_hz = 8000.0
weight = 20.0
receptor = "ampa"
[[stimulus]]
kind = "current_pulse"
target = "a"
neurons = [0, 1, 2, 3]
start_ms = 14.9
stop_ms = 25.05
amplitude_pa = 400.0
[record]
voltage = [{ population = "a", neurons = [0, 7], every_steps = 3 }]
"#;
    let cfg = galvani::config::parse(text, Path::new("driven.toml")).unwrap();
    Network::build(&cfg, None, None).unwrap()
}

#[test]
fn split_runs_equal_one_run_on_the_gpu() {
    let Some(ctx) = gpu() else { return };
    let cuba = net("tests/data/cuba4000/cuba_reference.toml");
    check_split(&cuba, Some(&ctx), Precision::F32, 600, &[250, 1, 349]);
    let hv = net("configs/hv_pair.toml");
    check_split(&hv, Some(&ctx), Precision::F32, 1500, &[700, 800]);
    check_split(&driven(), Some(&ctx), Precision::F32, 600, &[150, 1, 449]);
}

#[test]
fn continuation_in_ms_needs_whole_steps() {
    let s = sim(&net("configs/hv_pair.toml"), None, Precision::F32);
    assert_eq!(s.steps_in(0.0).unwrap(), 0);
    let dt = s.network().dt_ms;
    assert_eq!(s.steps_in(100.0 * dt).unwrap(), 100);
    let cuba = sim(
        &net("tests/data/cuba4000/cuba_reference.toml"),
        None,
        Precision::F32,
    );
    assert_eq!(cuba.steps_in(100.0).unwrap(), 1000);
    let e = cuba.steps_in(0.15).unwrap_err().to_string();
    assert!(e.contains("whole number of steps"), "{e}");
    assert!(cuba.steps_in(-1.0).is_err());
}

/// Setting state and parameters between runs, on each backend: the values read back,
/// a change acts (a depolarised neuron fires, a raised threshold silences), and the same
/// changes give the same result on the CPU and the GPU.
fn get_set(gpu: Option<&GpuContext>) -> Vec<(u64, u32, u32)> {
    let n = net("configs/seeds/lif_fig2.toml");
    // the cell driven above threshold (400 pA: V∞ = -54 mV > θ = -55 mV)
    let pop = n.populations[1].name.clone();
    let size = n.populations[1].size;
    let mut s = sim(&n, gpu, Precision::F32);
    s.run_steps(100, &mut Unmonitored).unwrap();
    let v: Vec<f64> = (0..size).map(|i| -60.0 + i as f64).collect();
    s.set(&pop, "v_mv", &v).unwrap();
    let back = s.get(&pop, "v_mv").unwrap();
    for (a, b) in v.iter().zip(&back) {
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
    }
    assert_eq!(s.get(&pop, "v_th_mv").unwrap().len(), size);
    s.set(&pop, "v_th_mv", &[-20.0]).unwrap();
    assert_eq!(s.get(&pop, "v_th_mv").unwrap(), vec![-20.0; size]);
    // V stays where it was when a parameter changes
    let after = s.get(&pop, "v_mv").unwrap();
    for (a, b) in back.iter().zip(&after) {
        assert!((a - b).abs() < 1e-4, "{a} vs {b}");
    }
    let before = s.records().spikes.len();
    s.run_steps(2000, &mut Unmonitored).unwrap();
    assert_eq!(
        s.records().spikes.len(),
        before,
        "a threshold of -20 mV silences the cells"
    );
    s.set(&pop, "v_th_mv", &[-55.0]).unwrap();
    s.set(&pop, "i_e_pa", &[1000.0]).unwrap();
    s.run_steps(500, &mut Unmonitored).unwrap();
    assert!(s.records().spikes.len() > before, "1 nA makes them fire");
    // bad input changes nothing
    let e = s.set(&pop, "v_reset_mv", &[0.0]).unwrap_err().to_string();
    assert!(e.contains("must be below v_th_mv"), "{e}");
    assert_eq!(s.get(&pop, "v_reset_mv").unwrap()[0], -70.0);
    assert!(s.set(&pop, "nope", &[1.0]).is_err());
    assert!(s.set("nope", "v_mv", &[1.0]).is_err());
    assert!(s.set(&pop, "v_mv", &[1.0, 2.0, 3.0, 4.0, 5.0]).is_err());
    s.records().spikes.clone()
}

#[test]
fn parameters_and_state_between_runs() {
    let cpu = get_set(None);
    if let Some(ctx) = gpu() {
        assert_eq!(cpu, get_set(Some(&ctx)), "CPU and GPU apply changes alike");
    }
}

/// The GPU keeps a table of the distinct parameter sets (room for 16 here: CUBA has 1);
/// per-neuron values set between runs outgrow it, and the GPU then makes a larger one
/// and rebinds: the run goes on exactly as the CPU's.
#[test]
fn per_neuron_parameters_set_between_runs_outgrow_the_gpu_table() {
    let Some(ctx) = gpu() else { return };
    let n = net("tests/data/cuba4000/cuba_reference.toml");
    let run = |gpu: Option<&GpuContext>| {
        let mut s = sim(&n, gpu, Precision::F32);
        s.run_steps(50, &mut Unmonitored).unwrap();
        let i_e: Vec<f64> = (0..3200).map(|i| i as f64 * 0.05).collect();
        s.set("exc", "i_e_pa", &i_e).unwrap();
        s.run_steps(300, &mut Unmonitored).unwrap();
        assert_eq!(s.get("exc", "i_e_pa").unwrap(), i_e);
        s.records().spikes.clone()
    };
    let cpu = run(None);
    assert!(cpu.len() > 1000);
    assert_eq!(cpu, run(Some(&ctx)));
}

/// Setting a parameter to the value it has changes nothing, to the last bit: the state
/// is not written back through V = u + E_L unless E_L itself changed (a round trip
/// that moved one neuron of CUBA by an ulp and its trajectory with it).
#[test]
fn setting_a_parameter_to_its_value_changes_nothing() {
    let n = net("tests/data/cuba4000/cuba_reference.toml");
    for p in [Precision::F32, Precision::F64] {
        let mut whole = sim(&n, None, p);
        whole.run_steps(3000, &mut Unmonitored).unwrap();
        let mut split = sim(&n, None, p);
        split.run_steps(1200, &mut Unmonitored).unwrap();
        split.set("exc", "i_e_pa", &[0.0]).unwrap();
        split.run_steps(1800, &mut Unmonitored).unwrap();
        assert_eq!(whole.records().spikes, split.records().spikes, "{p:?}");
        let (a, b) = (
            whole.get("exc", "v_mv").unwrap(),
            split.get("exc", "v_mv").unwrap(),
        );
        assert!(a == b, "{p:?}: V differs");
    }
}

#[test]
fn hv_state_between_runs() {
    let n = net("configs/hv_pair.toml");
    let pop = n.populations[0].name.clone();
    let mut cases = vec![None];
    let ctx = gpu();
    if let Some(c) = &ctx {
        cases.push(Some(&**c));
    }
    for g in cases {
        let mut s = sim(&n, g, Precision::F32);
        s.run_steps(10, &mut Unmonitored).unwrap();
        let w = s.get(&pop, "w").unwrap();
        assert!(w.iter().all(|&x| x > 0.0 && x <= 1.0));
        s.set(&pop, "w", &[0.5]).unwrap();
        assert!(
            s.get(&pop, "w")
                .unwrap()
                .iter()
                .all(|&x| (x - 0.5).abs() < 1e-6)
        );
        assert!(s.set(&pop, "w", &[0.0]).is_err());
        s.set(&pop, "w", &w).unwrap();
        let v0 = s.get(&pop, "v_mv").unwrap()[0];
        s.set(&pop, "v_mv", &[v0 + 1.0]).unwrap();
        let v = s.get(&pop, "v_mv").unwrap();
        assert!(v.iter().all(|&x| (x - v0 - 1.0).abs() < 1e-3), "{v:?}");
        s.run_steps(10, &mut Unmonitored).unwrap();
    }
}

/// A reset drops the old backend before it builds the new one (two sets of synapse
/// tables never coexist); when the new one cannot be built, the simulation says so on
/// every call, and a later reset onto a backend that fits brings it back.
#[test]
fn a_failed_switch_leaves_a_clear_error_and_a_later_one_recovers() {
    let Some(_gpu) = gpu() else { return };
    let n = net("configs/cuba.toml");
    // bindings too small for CUBA's neuron parameters: the GPU backend cannot be built
    let tiny = GpuContext::with_limits(|l| l.max_storage_buffer_binding_size = 64 << 10).unwrap();
    let mut s = sim(&n, None, Precision::F32);
    let e = s
        .switch_engine(Some(tiny), Precision::F32, None)
        .unwrap_err();
    assert!(
        e.to_string().contains("max_storage_buffer_binding_size"),
        "{e}"
    );
    assert_eq!(s.info().backend, "none");
    let e = s.run_steps(10, &mut Unmonitored).unwrap_err();
    assert!(e.to_string().contains("no backend"), "{e}");
    s.switch_engine(None, Precision::F32, Some(1)).unwrap();
    s.run_steps(100, &mut Unmonitored).unwrap();
    assert_eq!(s.step(), 100);
    assert_eq!(s.info().backend, "cpu");
}
