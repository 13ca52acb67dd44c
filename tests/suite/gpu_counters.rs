//! The GPU backend's counters (`GpuCounters`, `summary.json`'s `gpu` object): what it
//! encodes and moves per step, counted on the host, so lavapipe shows what a real GPU
//! would run. Each figure is checked against what the current schedule must encode.

use std::path::Path;

use galvani::Simulation;
use galvani::backend::gpu::layout::STEP_STRIDE;
use galvani::network::Network;
use galvani::real::Precision;
use galvani::sim::Unmonitored;

use crate::common::{cfg, gpu};

/// A LIF network with recurrent synapses and Poisson drive, no probes and no sources.
const DRIVEN: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 50.0
seed = 9

[[population]]
name = "exc"
size = 100
model = "lif"
synapse = "delta"
[population.params]
tau_m_ms = 20.0
c_m_pf = 1.0
e_l_mv = 0.0
v_th_mv = 20.0
v_reset_mv = 0.0
t_ref_ms = 2.0

[[projection]]
pre = "exc"
post = "exc"
receptor = "ampa"
weight = 0.2
delay_ms = 1.5
connect = { rule = "fixed_indegree", k = 10 }

[[stimulus]]
kind = "poisson"
target = "exc"
rate_hz = 20000.0
weight = 0.1
receptor = "ampa"
delay_ms = 1.5

[record]
spikes = true
voltage = []
"#;

/// One spike source firing once, onto 10 000 neurons: the longest row is 10^4
/// synapses.
const FAN_OUT: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 5.0
seed = 1

[[population]]
name = "src"
size = 1
model = "spike_source"
spike_times = [[1.0]]

[[population]]
name = "tgt"
size = 10000
model = "lif"
synapse = "delta"

[[projection]]
pre = "src"
post = "tgt"
receptor = "ampa"
weight = 0.1
delay_ms = 1.0
connect = { rule = "all_to_all" }

[record]
voltage = [{ population = "tgt", neurons = [0, 1, 2] }]
"#;

#[test]
fn counters_match_what_the_schedule_encodes() {
    let Some(ctx) = gpu() else { return };
    let net: Network = Network::build(&cfg(DRIVEN), None, None).unwrap();
    let (n, steps) = (net.n as u64, net.steps);
    let mut sim = Simulation::new(net, Some(ctx.clone()), Precision::F32).unwrap();
    let stats = sim.run_steps(steps, &mut Unmonitored).unwrap();
    let c = stats.gpu.expect("the GPU backend counts");
    assert_eq!(c.steps, steps);
    // lif_step, propagate, poisson_input: three dispatches a step
    assert_eq!(c.dispatches, 3 * steps);
    let batches = steps.div_ceil(galvani::backend::batch_steps(sim.network()) as u64);
    // per batch: a clear, the dispatches and the copy of the spike rows, each after the
    // one before
    assert_eq!(c.barriers, 3 * steps + batches);
    // one uniform entry per step, nothing else (no probes, stimuli or sources)
    assert_eq!(c.upload_bytes, STEP_STRIDE * steps);
    // the spike bitfield: a word per 32 neurons per step
    assert_eq!(c.readback_bytes, n.div_ceil(32) * 4 * steps);
    let r = c.report();
    assert_eq!(r.dispatches_per_step, 3.0);
    assert_eq!(r.readback_bytes_per_step, (n.div_ceil(32) * 4) as f64);
    // rows of about 10 synapses (in-degree 10): one stride of 64 each; the 2
    // workgroups (100 neurons / 64) take the spikes of a step in turn
    let (t, _) = sim.spikes("exc").unwrap();
    let mut most = 0u64;
    let mut k = 0;
    while k < t.len() {
        let same = t[k..].iter().take_while(|&&x| x == t[k]).count();
        most = most.max(same as u64);
        k += same;
    }
    assert_eq!(r.max_propagate_iterations, most.div_ceil(2));
    // counts are per run: a second run reports only its own steps
    let again = sim.run_steps(10, &mut Unmonitored).unwrap().gpu.unwrap();
    assert_eq!(again.steps, 10);
    // the CPU keeps none
    let mut cpu = Simulation::new(
        Network::build(&cfg(DRIVEN), None, None).unwrap(),
        None,
        Precision::F32,
    )
    .unwrap();
    assert!(cpu.run_steps(10, &mut Unmonitored).unwrap().gpu.is_none());
}

#[test]
fn the_longest_propagate_loop_is_the_longest_spiking_row() {
    let Some(ctx) = gpu() else { return };
    let net = Network::build(&cfg(FAN_OUT), None, None).unwrap();
    let steps = net.steps;
    let mut sim = Simulation::new(net, Some(ctx), Precision::F32).unwrap();
    let c = sim.run_steps(steps, &mut Unmonitored).unwrap().gpu.unwrap();
    // one spike, one workgroup of 64 walking 10 000 synapses
    assert_eq!(c.max_propagate_iterations, 10_000u64.div_ceil(64));
    // the source's dispatch in its spike's step, the record kernel every step
    assert_eq!(c.dispatches, 3 * steps + 1);
    // the voltage rows (3 probes) come back with the spike rows
    assert_eq!(
        c.readback_bytes,
        (10_001u64.div_ceil(32) * 4 + 3 * 4) * steps
    );
}

#[test]
fn summary_json_reports_the_gpu_counts() {
    let Some(_) = gpu() else { return };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("net.toml");
    std::fs::write(&config, DRIVEN).unwrap();
    let out = dir.path().join("out");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_galvani"))
        .args([
            "run",
            config.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .args(["--backend", "gpu", "-q", "--no-plots"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s: serde_json::Value =
        serde_json::from_slice(&std::fs::read(Path::new(&out).join("summary.json")).unwrap())
            .unwrap();
    let g = &s["gpu"];
    assert_eq!(g["dispatches_per_step"], 3.0, "{s}");
    for k in [
        "barriers_per_step",
        "upload_bytes_per_step",
        "readback_bytes_per_step",
        "max_propagate_iterations",
    ] {
        assert!(g[k].as_f64().is_some_and(|x| x > 0.0), "{k}: {s}");
    }
}
