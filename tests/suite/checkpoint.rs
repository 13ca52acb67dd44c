//! Checkpoints (src/checkpoint.rs): a run saved at step k and continued in a fresh
//! simulation (or a fresh process, after `kill -9`) gives exactly the output of an
//! uninterrupted run, on every backend and model; damaged or mismatched checkpoints are
//! refused with a message.

use std::path::Path;
use std::process::Command;

use crate::common::{cfg, gpu};
use galvani::Simulation;
use galvani::backend::gpu::GpuContext;
use galvani::network::Network;
use galvani::real::Precision;
use galvani::sim::Unmonitored;

/// A small Brunel network (delta synapses, delays 1.5 ms, Poisson drive) with exp-current
/// neurons beside it, a current pulse across the checkpoints, and voltage probes: every
/// kind of LIF state a checkpoint must carry (membrane, synaptic currents, refractory
/// counters, the delay ring, the stimulus current).
const LIF_NET: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 2000.0
seed = 77

[[population]]
name = "exc"
size = 1600
model = "lif"
synapse = "delta"
[population.params]
tau_m_ms = 20.0
c_m_pf = 1.0
e_l_mv = 0.0
v_th_mv = 20.0
v_reset_mv = 0.0
t_ref_ms = 2.0
[population.init]
v_mv = { uniform = [0.0, 20.0] }

[[population]]
name = "inh"
size = 400
model = "lif"
synapse = "delta"
[population.params]
tau_m_ms = 20.0
c_m_pf = 1.0
e_l_mv = 0.0
v_th_mv = 20.0
v_reset_mv = 0.0
t_ref_ms = 2.0

[[population]]
name = "cur"
size = 200
model = "lif"
synapse = "exp_current"
[population.params]
e_l_mv = -65.0
v_th_mv = -50.0
v_reset_mv = -65.0
tau_ampa_ms = 5.0
tau_gaba_a_ms = 10.0

[[population]]
name = "noise"
size = 50
model = "poisson_source"
params = { rate_hz = 40.0, start_ms = 10.0, duration_ms = 5000.0 }

[[population]]
name = "stim"
size = 2
model = "spike_source"
spike_times = [[5.0, 51.5, 52.0, 300.0], [60.0]]

[[projection]]
pre = "noise"
post = "cur"
receptor = "ampa"
weight = 80.0
delay_ms = 1.0
connect = { rule = "fixed_indegree", k = 5 }

[[projection]]
pre = "stim"
post = "cur"
receptor = "ampa"
weight = 200.0
delay_ms = 3.0
connect = { rule = "all_to_all" }

[[stimulus]]
kind = "step_current"
target = "cur"
times_ms = [20.0, 45.0, 400.0]
amplitudes_pa = [40.0, -30.0, 10.0]

[[projection]]
pre = "exc"
post = "exc"
receptor = "ampa"
weight = 0.1
delay_ms = { uniform = [0.5, 3.0] }
connect = { rule = "fixed_indegree", k = 160 }

[[projection]]
pre = "exc"
post = "inh"
receptor = "ampa"
weight = 0.1
delay_ms = 1.5
connect = { rule = "fixed_indegree", k = 160 }

[[projection]]
pre = "inh"
post = "exc"
receptor = "gaba_a"
weight = -0.5
delay_ms = 1.5
connect = { rule = "fixed_indegree", k = 40 }

[[projection]]
pre = "inh"
post = "inh"
receptor = "gaba_a"
weight = -0.5
delay_ms = 1.5
connect = { rule = "fixed_indegree", k = 40 }

[[projection]]
pre = "exc"
post = "cur"
receptor = "ampa"
weight = 60.0
delay_ms = 2.0
connect = { rule = "fixed_indegree", k = 20 }

[[projection]]
pre = "inh"
post = "cur"
receptor = "gaba_a"
weight = -40.0
delay_ms = 2.0
connect = { rule = "fixed_indegree", k = 5 }

[[stimulus]]
kind = "poisson"
target = "exc"
rate_hz = 20000.0
weight = 0.1
receptor = "ampa"
delay_ms = 1.5

[[stimulus]]
kind = "poisson"
target = "inh"
rate_hz = 20000.0
weight = 0.1
receptor = "ampa"
delay_ms = 1.5

[[stimulus]]
kind = "current_pulse"
target = "cur"
start_ms = 30.0
stop_ms = 1330.0
amplitude_pa = 150.0

[record]
spikes = true
voltage = [
  { population = "exc", neurons = [0, 1, 2] },
  { population = "cur", neurons = [0, 7], every_steps = 3 },
  { population = "cur", neurons = [3], variable = "syn_ampa" },
]
"#;

fn lif_net(duration_ms: f64) -> Network {
    Network::build(&cfg(LIF_NET), Some(duration_ms), None).unwrap()
}

fn hv_net() -> Network {
    let c =
        galvani::config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/hv_pair.toml"))
            .unwrap();
    Network::build(&c, None, None).unwrap()
}

/// Runs `net` for all its steps in one piece, and again as: `split` steps, save, a new
/// simulation loads the file and runs the rest. The second half's records, spike counts
/// and the final state must equal the uninterrupted run's, bit for bit.
pub(crate) fn split_equals_whole(
    make: &dyn Fn() -> Network,
    gpu: Option<&GpuContext>,
    p: Precision,
    split: u64,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ck.galvani");
    let mut whole = Simulation::new(make(), gpu.cloned(), p).unwrap();
    let total = whole.default_steps();
    whole.run_steps(total, &mut Unmonitored).unwrap();

    let mut first = Simulation::new(make(), gpu.cloned(), p).unwrap();
    first.run_steps(split, &mut Unmonitored).unwrap();
    first.save(&path).unwrap();
    drop(first);

    let mut rest = Simulation::new(make(), gpu.cloned(), p).unwrap();
    rest.load(&path).unwrap();
    assert_eq!(rest.step(), split);
    rest.run_steps(total - split, &mut Unmonitored).unwrap();

    let w = whole.records();
    let r = rest.records();
    let tail: Vec<_> = w
        .spikes
        .iter()
        .zip(&w.times_ms)
        .filter(|(s, _)| s.0 >= split)
        .collect();
    let got: Vec<_> = r.spikes.iter().zip(&r.times_ms).collect();
    assert!(!tail.is_empty(), "the second half has spikes");
    assert_eq!(tail.len(), got.len(), "spike counts after the checkpoint");
    assert!(tail == got, "spikes after the checkpoint differ");
    let wv: Vec<_> = w
        .voltages
        .iter()
        .filter(|v| v.0.is_some_and(|s| s >= split))
        .map(|v| (v.0, v.1, v.2.to_bits()))
        .collect();
    let rv: Vec<_> = r
        .voltages
        .iter()
        .map(|v| (v.0, v.1, v.2.to_bits()))
        .collect();
    assert!(!wv.is_empty());
    assert!(wv == rv, "voltages after the checkpoint differ");
    assert_eq!(whole.spike_counts(), rest.spike_counts());
    let vw = whole
        .get(&whole.network().populations[0].name.clone(), "v_mv")
        .unwrap();
    let name = rest.network().populations[0].name.clone();
    let vr = rest.get(&name, "v_mv").unwrap();
    assert_eq!(
        vw.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        vr.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        "final state"
    );
}

/// `alpha_current` neurons keep dI/dt per receptor (section `lif.dsyn`): saved at
/// 12.3 ms, while their currents rise from input spikes, they continue exactly.
#[test]
fn alpha_checkpoint_continues_bit_for_bit_on_every_backend() {
    let make = crate::alpha::single_net;
    split_equals_whole(&make, None, Precision::F32, 123);
    split_equals_whole(&make, None, Precision::F64, 123);
    if let Some(ctx) = gpu() {
        // 60 ms on the GPU (steps cost lavapipe memory mappings; see common::SHARED)
        let short = || {
            let mut n = crate::alpha::single_net();
            n.steps = 600;
            n
        };
        split_equals_whole(&short, Some(&ctx), Precision::F32, 123);
    }
}

#[test]
fn lif_checkpoint_continues_bit_for_bit_on_the_cpu() {
    // 517 steps: mid-batch, mid-pulse, with spikes in flight in the delay ring
    let make = || lif_net(120.0);
    split_equals_whole(&make, None, Precision::F32, 517);
    split_equals_whole(&make, None, Precision::F64, 517);
}

#[test]
fn hv_checkpoint_continues_bit_for_bit_on_the_cpu() {
    // step 2000 of 7000 (≈ 28.6 ms): between driver spikes, the follower's coupling live
    split_equals_whole(&hv_net, None, Precision::F32, 2000);
    split_equals_whole(&hv_net, None, Precision::F64, 2000);
}

#[test]
fn checkpoints_continue_bit_for_bit_on_the_gpu() {
    let Some(ctx) = gpu() else { return };
    split_equals_whole(&|| lif_net(120.0), Some(&ctx), Precision::F32, 517);
    split_equals_whole(&hv_net, Some(&ctx), Precision::F32, 2000);
}

#[test]
fn changed_parameters_come_back_with_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ck.galvani");
    let mut a = Simulation::new(lif_net(50.0), None, Precision::F32).unwrap();
    a.run_steps(100, &mut Unmonitored).unwrap();
    a.set("cur", "i_e_pa", &[75.0]).unwrap();
    a.run_steps(100, &mut Unmonitored).unwrap();
    a.save(&path).unwrap();
    let mut b = Simulation::new(lif_net(50.0), None, Precision::F32).unwrap();
    b.load(&path).unwrap();
    assert!(b.get("cur", "i_e_pa").unwrap().iter().all(|&x| x == 75.0));
    assert!(b.get("exc", "i_e_pa").unwrap().iter().all(|&x| x == 0.0));
    assert_eq!(b.t_ms(), a.t_ms());
    a.run_steps(200, &mut Unmonitored).unwrap();
    b.run_steps(200, &mut Unmonitored).unwrap();
    let tail: Vec<_> = a.records().spikes.iter().filter(|s| s.0 >= 200).collect();
    let got: Vec<_> = b.records().spikes.iter().collect();
    assert!(!got.is_empty());
    assert!(tail == got);
}

#[test]
fn mismatched_or_damaged_checkpoints_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ck.galvani");
    let mut a = Simulation::new(lif_net(50.0), None, Precision::F32).unwrap();
    a.run_steps(50, &mut Unmonitored).unwrap();
    a.save(&path).unwrap();
    let msg = |r: galvani::Result<()>| r.unwrap_err().to_string();

    let other_seed = Network::build(&cfg(LIF_NET), Some(50.0), Some(78)).unwrap();
    let m = msg(Simulation::new(other_seed, None, Precision::F32)
        .unwrap()
        .load(&path));
    assert!(m.contains("seed 77 there, 78 here"), "{m}");
    assert!(m.contains("ck.galvani"), "{m}");

    let m = msg(Simulation::new(lif_net(50.0), None, Precision::F64)
        .unwrap()
        .load(&path));
    assert!(m.contains("precision f32 there, f64 here"), "{m}");

    let m = msg(Simulation::new(hv_net(), None, Precision::F32)
        .unwrap()
        .load(&path));
    assert!(m.contains("different network"), "{m}");

    let bytes = std::fs::read(&path).unwrap();
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x10;
    std::fs::write(&path, &flipped).unwrap();
    let m = msg(Simulation::new(lif_net(50.0), None, Precision::F32)
        .unwrap()
        .load(&path));
    assert!(m.contains("checksum mismatch"), "{m}");
    std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
    let m = msg(Simulation::new(lif_net(50.0), None, Precision::F32)
        .unwrap()
        .load(&path));
    assert!(m.contains("checksum mismatch"), "{m}");
    std::fs::write(&path, b"time_ms,population,neuron\n").unwrap();
    let m = msg(Simulation::new(lif_net(50.0), None, Precision::F32)
        .unwrap()
        .load(&path));
    assert!(m.contains("not a galvani checkpoint"), "{m}");
}

#[test]
fn an_interrupted_write_leaves_the_previous_checkpoint() {
    // write_atomic writes `path.tmp` and renames it: a crash before the rename leaves a
    // partial .tmp beside the intact previous file, which is what a reader sees
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ck.galvani");
    let mut a = Simulation::new(lif_net(50.0), None, Precision::F32).unwrap();
    a.run_steps(50, &mut Unmonitored).unwrap();
    a.save(&path).unwrap();
    let full = a.checkpoint().unwrap().to_bytes();
    std::fs::write(
        galvani::checkpoint::tmp_path(&path),
        &full[..full.len() / 3],
    )
    .unwrap();
    let mut b = Simulation::new(lif_net(50.0), None, Precision::F32).unwrap();
    b.load(&path).unwrap();
    assert_eq!(b.step(), 50);
    a.run_steps(30, &mut Unmonitored).unwrap();
    a.save(&path).unwrap();
    assert!(!galvani::checkpoint::tmp_path(&path).exists());
    b.load(&path).unwrap();
    assert_eq!(b.step(), 80);
}

// ---- the CLI: kill -9 and resume

fn write_cfg(dir: &Path) -> String {
    let p = dir.join("net.toml");
    std::fs::write(&p, LIF_NET).unwrap();
    p.to_str().unwrap().to_string()
}

fn galvani(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_galvani"))
        .args(args)
        .output()
        .unwrap()
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// `galvani run --checkpoint-every-ms`, stopped by `sig` once a checkpoint exists, then
/// `galvani resume`: spikes.csv and voltages.csv equal a plain run's byte for byte.
#[cfg(unix)]
fn killed_and_resumed(backend: &str, sig: i32) {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_cfg(dir.path());
    let plain = dir.path().join("plain");
    let cut = dir.path().join("cut");
    let common = ["--backend", backend, "--no-plots", "-q"];
    let o = galvani(
        &[
            &["run", &cfg, "--out", plain.to_str().unwrap()][..],
            &common[..],
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let mut child = Command::new(env!("CARGO_BIN_EXE_galvani"))
        .args(["run", &cfg, "--out", cut.to_str().unwrap()])
        .args(common)
        .args(["--checkpoint-every-ms", "50"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let ck = cut.join("checkpoint.galvani");
    let t0 = Instant::now();
    while !ck.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no checkpoint written"
        );
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(150));
    // SAFETY: kill(2) on our own child, not yet waited for.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, sig) }, 0);
    let status = child.wait().unwrap();
    assert!(!status.success(), "the run was stopped: {status:?}");
    assert!(ck.exists(), "the checkpoint survives the stop");
    let before = std::fs::read_to_string(cut.join("spikes.csv")).unwrap();
    let plain_spikes = read(&plain.join("spikes.csv"));
    assert!(before.len() < plain_spikes.len(), "stopped before the end");

    let o = galvani(&["resume", cut.to_str().unwrap(), "--no-plots"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("resuming"), "{out}");
    assert!(
        read(&cut.join("spikes.csv")) == plain_spikes,
        "spikes.csv differs"
    );
    assert!(
        read(&cut.join("voltages.csv")) == read(&plain.join("voltages.csv")),
        "voltages.csv differs"
    );
    assert!(
        read(&cut.join("synaptic.csv")) == read(&plain.join("synaptic.csv")),
        "synaptic.csv differs"
    );
    let s: serde_json::Value = serde_json::from_slice(&read(&cut.join("summary.json"))).unwrap();
    let p: serde_json::Value = serde_json::from_slice(&read(&plain.join("summary.json"))).unwrap();
    assert_eq!(s["complete"], true);
    assert!(s["resumed_from_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(s["spikes"], p["spikes"]);
    assert_eq!(s["populations"], p["populations"], "rates and CV ISI");
    assert!(!ck.exists(), "a completed run removes its checkpoint");
}

#[cfg(unix)]
#[test]
fn kill_9_then_resume_equals_a_plain_run_on_the_cpu() {
    killed_and_resumed("cpu", libc::SIGKILL);
}

#[cfg(unix)]
#[test]
fn kill_9_then_resume_equals_a_plain_run_on_the_gpu() {
    if gpu().is_none() {
        return;
    }
    killed_and_resumed("gpu", libc::SIGKILL);
}

#[cfg(unix)]
#[test]
fn sigterm_writes_a_checkpoint_that_resume_continues() {
    killed_and_resumed("cpu", libc::SIGTERM);
}

#[test]
fn resume_refuses_what_it_cannot_continue() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_cfg(dir.path());
    let out = dir.path().join("out");
    let o = galvani(&["resume", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not a folder"));
    for bad in ["0", "-5", "0.05", "nan"] {
        let arg = format!("--checkpoint-every-ms={bad}");
        let o = galvani(&[
            "run",
            &cfg,
            "--out",
            out.to_str().unwrap(),
            "--backend",
            "cpu",
            "-q",
            &arg,
            "--no-plots",
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains("--checkpoint-every-ms"), "{err}");
    }
    // a completed run leaves nothing to resume
    let o = galvani(&[
        "run",
        &cfg,
        "--out",
        out.to_str().unwrap(),
        "--backend",
        "cpu",
        "-q",
        "--duration-ms",
        "100",
        "--checkpoint-every-ms",
        "30",
        "--no-plots",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = galvani(&["resume", out.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("no checkpoint to resume from"), "{err}");
    // a checkpoint whose config changed since is refused
    let o = Command::new(env!("CARGO_BIN_EXE_galvani"))
        .args([
            "run",
            &cfg,
            "--out",
            out.to_str().unwrap(),
            "--backend",
            "cpu",
            "-q",
        ])
        .args([
            "--duration-ms",
            "1e7",
            "--checkpoint-every-ms",
            "10",
            "--no-plots",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    let mut child = o.unwrap();
    let ck = out.join("checkpoint.galvani");
    let t0 = std::time::Instant::now();
    while !ck.exists() {
        assert!(t0.elapsed().as_secs() < 60);
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::write(&cfg, LIF_NET.replace("seed = 77", "seed = 78")).unwrap();
    let o = galvani(&["resume", out.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("the config changed since the checkpoint"),
        "{err}"
    );
}
