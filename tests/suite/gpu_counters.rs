//! The GPU backend's counters (`GpuCounters`, `summary.json`'s `gpu` object): what it
//! encodes and moves per step, counted on the host, so lavapipe shows what a real GPU
//! would run. Each figure is checked against what the current schedule must encode.

use std::path::Path;

use galvani::Simulation;
use galvani::backend::gpu::layout::{BLOCK_ITER, STEP_STRIDE};
use galvani::backend::gpu::walk;
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

/// Spikes per step of a run's recorded spikes (all populations).
fn spikes(sim: &Simulation) -> u64 {
    sim.network()
        .populations
        .iter()
        .map(|p| sim.spikes(&p.name).unwrap().0.len() as u64)
        .sum()
}

#[test]
fn counters_match_what_the_schedule_encodes() {
    let Some(ctx) = gpu() else { return };
    let net: Network = Network::build(&cfg(DRIVEN), None, None).unwrap();
    let (n, steps) = (net.n as u64, net.steps);
    let mut sim = Simulation::new(net, Some(ctx.clone()), Precision::F32).unwrap();
    let stats = sim.run_steps(steps, &mut Unmonitored).unwrap();
    let c = stats.gpu.expect("the GPU backend counts");
    assert_eq!(c.steps, steps);
    // lif_step (with the Poisson drive) and propagate: the target of two a step
    assert_eq!(c.dispatches, 2 * steps);
    let batches = steps.div_ceil(galvani::backend::batch_steps(sim.network()) as u64);
    // per batch: two clears (spike bits, spike lists' counts), the dispatches and the
    // copy of the spike rows, each after the one before
    assert_eq!(c.barriers, 2 * steps + 2 * batches);
    // one uniform entry per step, nothing else (no probes, stimuli or sources)
    assert_eq!(c.upload_bytes, STEP_STRIDE * steps);
    // 100 neurons: four words of bits a step are less than any list, so bits come back
    assert_eq!(c.readback_bytes, n.div_ceil(32) * 4 * steps);
    let k = spikes(&sim);
    assert!(k > 100, "the network fires ({k} spikes)");
    assert!(c.readback_bytes <= 8 * k + 64 * steps);
    let r = c.report();
    assert_eq!(r.dispatches_per_step, 2.0);
    assert_eq!(r.readback_bytes_per_step, (n.div_ceil(32) * 4) as f64);
    // rows of about 10 synapses (in-degree 10): one block each, one workgroup per
    // block, one stride of 64
    assert_eq!(r.max_propagate_iterations, 1);
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
fn a_long_row_is_walked_in_parallel_blocks() {
    let Some(ctx) = gpu() else { return };
    let net = Network::build(&cfg(FAN_OUT), None, None).unwrap();
    let steps = net.steps;
    let mut sim = Simulation::new(net, Some(ctx.clone()), Precision::F32).unwrap();
    let c = sim.run_steps(steps, &mut Unmonitored).unwrap().gpu.unwrap();
    // one spike, a row of 10 000 synapses: 20 blocks of 512 side by side, each
    // workgroup BLOCK_ITER iterations (was 157 when one workgroup walked the row)
    assert_eq!(walk::row_blocks(10_000), 20);
    assert_eq!(c.max_propagate_iterations, BLOCK_ITER as u64);
    assert!(c.max_propagate_iterations <= 16);
    // the source's dispatch in its spike's step; the voltage probes recorded by
    // lif_step: two a step besides
    assert_eq!(c.dispatches, 2 * steps + 1);
    // 10 001 neurons, one spike: the spike lists (a count a step and 8 ids' room a step)
    // and the voltage rows (3 probes) come back, not 313 words of bits a step
    assert_eq!(
        c.readback_bytes,
        (1 + steps + 8 * steps) * 4 + 3 * 4 * steps
    );
    assert!(c.readback_bytes <= 8 * spikes(&sim) + 64 * steps + 3 * 4 * steps);
}

/// The host's model of `propagate`'s work: blocks per row, strides per block, the
/// busiest workgroup's walk, and what PD14's rows give.
#[test]
fn the_walk_model_bounds_every_workgroup() {
    assert_eq!(walk::row_blocks(0), 0);
    assert_eq!(walk::row_blocks(1), 1);
    assert_eq!(walk::row_blocks(512), 1);
    assert_eq!(walk::row_blocks(513), 2);
    // a row of 600: a full block, then 88 synapses in two strides
    assert_eq!(walk::block_iters(600, 0), BLOCK_ITER as u64);
    assert_eq!(walk::block_iters(600, 1), 2);
    let rows = [600u32, 80, 0, 10_000];
    assert_eq!(walk::propagate_walk(&rows, [2], 65535), 0);
    assert_eq!(walk::propagate_walk(&rows, [1], 65535), 2);
    assert_eq!(
        walk::propagate_walk(&rows, [0, 1], 65535),
        BLOCK_ITER as u64
    );
    assert_eq!(walk::step_blocks(&rows, [0, 1, 3]), 2 + 1 + 20);
    // more blocks than workgroups: they take turns
    assert_eq!(walk::propagate_walk(&rows, [3], 20), BLOCK_ITER as u64);
    assert_eq!(walk::propagate_walk(&rows, [3], 19), 2 * BLOCK_ITER as u64);
    // PD14 at full scale fires about 30 of its 77 169 neurons a step, with rows of up to
    // 6 478 synapses (L4I, 13 blocks): at most 390 blocks, one turn
    let pd14_rows = vec![6478u32; 77_169];
    assert_eq!(walk::step_blocks(&pd14_rows, 0..30u32), 30 * 13);
    assert_eq!(
        walk::propagate_walk(&pd14_rows, 0..30u32, 65535),
        BLOCK_ITER as u64
    );
    // it would take 5 042 such spikes in one step (a population burst) to need a second
    assert_eq!(
        walk::propagate_walk(&pd14_rows, 0..5_041u32, 65535),
        BLOCK_ITER as u64
    );
    assert_eq!(
        walk::propagate_walk(&pd14_rows, 0..5_042u32, 65535),
        2 * BLOCK_ITER as u64
    );
}

/// PD14 (at 0.1 scale, 50 ms) on the device: every target at once.
#[test]
fn pd14_meets_the_hot_path_targets() {
    let Some(ctx) = gpu() else { return };
    let toml = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/configs/pd14_small.toml"
    ))
    .unwrap()
    .replace("duration_ms = 1000.0", "duration_ms = 50.0");
    let net = Network::build(&cfg(&toml), None, None).unwrap();
    let steps = net.steps;
    assert_eq!(steps, 500);
    let mut sim = Simulation::new(net, Some(ctx.clone()), Precision::F32).unwrap();
    let c = sim.run_steps(steps, &mut Unmonitored).unwrap().gpu.unwrap();
    let k = spikes(&sim);
    assert!(k > 100, "PD14 fires ({k} spikes)");
    assert!(c.dispatches <= 2 * steps, "{c:?}");
    assert!(c.readback_bytes <= 8 * k + 64 * steps, "{c:?}, {k} spikes");
    assert!(c.max_propagate_iterations <= 16, "{c:?}");
}

#[test]
fn summary_json_reports_the_gpu_counts() {
    let Some(_gpu) = gpu() else { return };
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
    assert_eq!(g["dispatches_per_step"], 2.0, "{s}");
    for k in [
        "barriers_per_step",
        "upload_bytes_per_step",
        "readback_bytes_per_step",
        "max_propagate_iterations",
    ] {
        assert!(g[k].as_f64().is_some_and(|x| x > 0.0), "{k}: {s}");
    }
}

/// Restoring a checkpoint into a simulation that has run on repeats the original run
/// spike for spike, on both backends. The restored step (102) has the other parity than
/// the run's next step, whose GPU step counters still held the last step's spikes (they
/// are reset on restore), and lies inside a group of four steps whose Poisson draws
/// neither backend's cache held (both refresh a cache whose group differs).
fn restore_repeats(ctx: Option<galvani::backend::gpu::GpuContext>) {
    let build = || Network::build(&cfg(DRIVEN), None, None).unwrap();
    let mut sim = Simulation::new(build(), ctx, Precision::F32).unwrap();
    sim.run_steps(102, &mut Unmonitored).unwrap();
    let ck = sim.checkpoint().unwrap();
    sim.run_steps(200, &mut Unmonitored).unwrap();
    let (t1, i1) = sim.spikes("exc").unwrap();
    // on until the last step run is even and has spikes, then back to step 102 (even):
    // the same parity, whose counters that step's spikes filled
    let count = |sim: &Simulation| sim.spikes("exc").unwrap().0.len();
    loop {
        let (before, step) = (count(&sim), sim.step());
        sim.run_steps(1, &mut Unmonitored).unwrap();
        if step % 2 == 0 && count(&sim) > before {
            break;
        }
        assert!(sim.step() < 1000, "no spike in an even step");
    }
    sim.restore(&ck).unwrap();
    sim.run_steps(200, &mut Unmonitored).unwrap();
    let (t2, i2) = sim.spikes("exc").unwrap();
    let after = |t: &[f64], i: &[u32]| -> Vec<(u64, u32)> {
        t.iter()
            .zip(i)
            .filter(|(t, _)| **t > 10.2 + 1e-9)
            .map(|(t, i)| ((t * 1e4).round() as u64, *i))
            .collect()
    };
    let (a, b) = (after(&t1, &i1), after(&t2, &i2));
    assert!(a.len() > 50);
    assert_eq!(a, b);
}

#[test]
fn a_restore_into_a_running_simulation_starts_clean() {
    restore_repeats(None);
    let Some(ctx) = gpu() else { return };
    restore_repeats(Some(ctx.clone()));
}

/// One input, then silence: the synaptic current (τ 0.1 ms) and the membrane (τ 0.5 ms)
/// decay through the range where f32 is subnormal, which a GPU may flush to zero. Both
/// backends flush the LIF state there (`Real::flush`, `flush` in WGSL), so no recorded
/// value is subnormal and the GPU's samples are the CPU's bit for bit.
const DECAY: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 100.0
seed = 3

[[population]]
name = "src"
size = 1
model = "spike_source"
spike_times = [[1.0]]

[[population]]
name = "cell"
size = 1
model = "lif"
synapse = "exp_current"
[population.params]
tau_m_ms = 0.5
c_m_pf = 10.0
e_l_mv = 0.0
v_th_mv = 1000.0
v_reset_mv = 0.0
tau_ampa_ms = 0.1
tau_gaba_a_ms = 0.1

[[projection]]
pre = "src"
post = "cell"
receptor = "ampa"
weight = 1000.0
delay_ms = 0.1
connect = { rule = "all_to_all" }

[record]
voltage = [
  { population = "cell", neurons = [0], every_steps = 1 },
  { population = "cell", neurons = [0], variable = "syn_ampa", every_steps = 1 },
]
"#;

#[test]
fn no_lif_state_is_subnormal_and_the_gpu_decays_as_the_cpu() {
    let run = |ctx| {
        let net = Network::build(&cfg(DECAY), None, None).unwrap();
        let steps = net.steps;
        let mut sim = Simulation::new(net, ctx, Precision::F32).unwrap();
        sim.run_steps(steps, &mut Unmonitored).unwrap();
        let v = sim.samples("cell", "v_mv").unwrap().2;
        let i = sim.samples("cell", "syn_ampa").unwrap().2;
        (v, i)
    };
    let (v, i) = run(None);
    for (what, xs) in [("v", &v), ("syn_ampa", &i)] {
        // the input arrived and decayed to 0 within the run
        assert!(xs.iter().any(|&x| x > 1.0), "{what} rose");
        assert_eq!(*xs.last().unwrap(), 0.0, "{what} decayed to 0");
        for &x in xs.iter() {
            let x = x as f32;
            assert!(
                x == 0.0 || x.abs() >= f32::MIN_POSITIVE,
                "{what} = {x:e} is subnormal"
            );
        }
    }
    let Some(ctx) = gpu() else { return };
    let (gv, gi) = run(Some(ctx.clone()));
    let bits = |xs: &[f64]| xs.iter().map(|&x| (x as f32).to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&gv), bits(&v));
    assert_eq!(bits(&gi), bits(&i));
}

/// The Poisson drive's Philox products in 16-bit halves (`GALVANI_GPU_INT64=0`, what a
/// device without 64-bit integers runs) give the CPU's spikes as the 64-bit multiply
/// does (the in-process runs use that one wherever the adapter has it, lavapipe
/// included): `galvani compare` on Brunel (Poisson drive), both ways.
#[test]
fn both_philox_products_reproduce_the_cpu() {
    if gpu().is_none() {
        return;
    }
    let brunel = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/brunel.toml");
    for int64 in ["0", "1"] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_galvani"))
            .args(["compare", brunel, "--duration-ms", "30"])
            .env(galvani::backend::gpu::INT64_ENV, int64)
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "{out}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(out.contains("identical spikes for at least 30 ms"), "{out}");
    }
}
