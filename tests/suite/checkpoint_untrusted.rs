//! Checkpoints as untrusted input: crafted files with a valid checksum, through
//! `Simulation::load` and `galvani resume`. Each is refused with a message naming the
//! field, or accepted; nothing panics, hangs or allocates without bound, and a refused
//! load leaves the simulation as it was (CPU and GPU).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use galvani::Simulation;
use galvani::checkpoint::Checkpoint;
use galvani::fuzz_harness::{self, fuzz_checkpoint_load, genuine_checkpoints};
use galvani::network::Network;
use galvani::real::Precision;
use galvani::run::{RunJob, RunOptions};
use galvani::sim::Monitor;

use crate::common::{cfg, gpu};

fn parse(bytes: &[u8]) -> Checkpoint {
    Checkpoint::from_bytes(bytes, Path::new("ck.galvani")).unwrap()
}

fn net() -> Network {
    Network::build(&cfg(fuzz_harness::NET_TOML), None, None).unwrap()
}

/// The error of restoring `ck` into a fresh simulation of the harness network, which
/// must be left as it was.
fn refused(ck: &Checkpoint, precision: Precision) -> String {
    let mut sim = Simulation::new(net(), None, precision).unwrap();
    let before = sim.checkpoint().unwrap().to_bytes();
    let e = sim
        .restore(ck)
        .expect_err("a crafted checkpoint is refused");
    assert!(
        before == sim.checkpoint().unwrap().to_bytes(),
        "changed by a refused load"
    );
    e.to_string()
}

fn f32_seed() -> Checkpoint {
    parse(&genuine_checkpoints()[0].1)
}

fn sim_meta(ck: &mut Checkpoint) -> &mut serde_json::Map<String, serde_json::Value> {
    ck.meta
        .get_mut("simulation")
        .and_then(|m| m.as_object_mut())
        .unwrap()
}

#[test]
fn the_seeds_are_genuine_and_load() {
    for (name, bytes) in genuine_checkpoints() {
        assert!(fuzz_checkpoint_load(&bytes), "{name} is refused");
    }
}

#[test]
fn crafted_metadata_is_refused_by_name() {
    let cases: Vec<(&str, serde_json::Value, &str)> = vec![
        ("step", serde_json::json!(u64::MAX), "metadata 'step'"),
        ("step", serde_json::json!(-1), "metadata 'step'"),
        ("step", serde_json::json!(1.5), "metadata 'step'"),
        (
            "spikes_per_pop",
            serde_json::json!([u64::MAX, 0, 0, 0, 0]),
            "spikes_per_pop",
        ),
        (
            "spikes_per_pop",
            serde_json::json!([1, 2]),
            "spikes_per_pop",
        ),
        ("spikes_per_pop", serde_json::json!(null), "spikes_per_pop"),
        ("neurons", serde_json::json!("many"), "neurons"),
        ("seed", serde_json::json!(-3), "seed"),
    ];
    for (key, value, expect) in cases {
        let mut ck = f32_seed();
        sim_meta(&mut ck).insert(key.into(), value.clone());
        let m = refused(&ck, Precision::F32);
        assert!(m.contains(expect), "{key} = {value}: {m}");
    }
}

/// Writes `f(bytes)` over section `name`.
fn with_section(ck: &Checkpoint, name: &str, f: impl Fn(&mut Vec<u8>)) -> Checkpoint {
    let mut ck = ck.clone();
    let mut b = ck.section(name).unwrap().to_vec();
    f(&mut b);
    ck.put(name, b);
    ck
}

#[test]
fn crafted_state_is_refused_by_name() {
    let ck = f32_seed();
    let n = net().n;
    // lif.state is (u, i_ampa, i_gaba, refrac) per neuron; neuron 3
    let nan = f32::NAN.to_le_bytes();
    let cases: Vec<(Checkpoint, &str)> = vec![
        (
            with_section(&ck, "lif.state", |b| {
                b[3 * 16..3 * 16 + 4].copy_from_slice(&nan)
            }),
            "neuron 3: V − E_L is NaN",
        ),
        (
            with_section(&ck, "lif.state", |b| {
                b[3 * 16 + 4..3 * 16 + 8].copy_from_slice(&f32::INFINITY.to_le_bytes())
            }),
            "I_AMPA is inf",
        ),
        (
            with_section(&ck, "lif.state", |b| {
                b[3 * 16 + 12..3 * 16 + 16].copy_from_slice(&u32::MAX.to_le_bytes())
            }),
            "refractory steps left",
        ),
        (
            with_section(&ck, "lif.ring", |b| {
                b[8..12].copy_from_slice(&i32::MAX.to_le_bytes())
            }),
            "pending input",
        ),
        (
            with_section(&ck, "lif.ring", |b| {
                b[8..12].copy_from_slice(&i32::MIN.to_le_bytes())
            }),
            "pending input",
        ),
        (
            with_section(&ck, "stim.i", |b| b[0..4].copy_from_slice(&nan)),
            "stimulus current NaN",
        ),
        (
            with_section(&ck, "lif.ring", |b| {
                b.pop();
            }),
            "section 'lif.ring' holds",
        ),
        (
            with_section(&ck, "param.tau_m_ms", |b| {
                b[8 * (n - 1)..].copy_from_slice(&f64::NAN.to_le_bytes())
            }),
            "expected a finite number",
        ),
        (
            with_section(&ck, "param.tau_m_ms", |b| {
                b[0..8].copy_from_slice(&(-5.0f64).to_le_bytes())
            }),
            "tau_m_ms",
        ),
    ];
    for (ck, expect) in cases {
        let m = refused(&ck, Precision::F32);
        assert!(m.contains(expect), "expected '{expect}': {m}");
    }
    // f64: NaN in the ring
    let ck64 = parse(&genuine_checkpoints()[1].1);
    let bad = with_section(&ck64, "lif.ring", |b| {
        b[16..24].copy_from_slice(&f64::NAN.to_le_bytes())
    });
    let m = refused(&bad, Precision::F64);
    assert!(m.contains("pending input NaN"), "{m}");
}

/// Replaces the `net.inputs` JSON by `f(json)`.
fn with_inputs(ck: &Checkpoint, f: impl Fn(&mut serde_json::Value)) -> Checkpoint {
    let mut v: serde_json::Value =
        serde_json::from_slice(ck.section("net.inputs").unwrap()).unwrap();
    f(&mut v);
    let mut ck = ck.clone();
    ck.put("net.inputs", serde_json::to_vec(&v).unwrap());
    ck
}

#[test]
fn crafted_inputs_are_refused_by_name() {
    let ck = f32_seed();
    let poisson = |v: &serde_json::Value| {
        v["sources"]
            .as_array()
            .unwrap()
            .iter()
            .position(|s| s.get("poisson").is_some())
            .unwrap()
    };
    let cases: Vec<(Checkpoint, &str)> = vec![
        // a Poisson column shorter than the population (once a panic)
        (
            with_inputs(&ck, |v| {
                let k = poisson(v);
                v["sources"][k]["poisson"][0] = serde_json::json!([100.0, 100.0]);
            }),
            "expected one per neuron (5)",
        ),
        (
            with_inputs(&ck, |v| {
                let k = poisson(v);
                v["sources"][k]["poisson"][0] = serde_json::json!([]);
            }),
            "expected one per neuron (5)",
        ),
        (
            with_inputs(&ck, |v| {
                let k = poisson(v);
                v["sources"][k]["poisson"][0][1] = serde_json::json!(-4.0);
            }),
            "rate_hz: expected a non-negative number",
        ),
        (
            with_inputs(&ck, |v| {
                v["currents"][0]["amplitude"][0] = serde_json::Value::Null
            }),
            "'amplitude': expected finite numbers",
        ),
        (
            with_inputs(&ck, |v| {
                v["currents"][0]["on"] = serde_json::json!([30, 20])
            }),
            "expected ascending change steps",
        ),
        (
            with_inputs(&ck, |v| v["currents"][0]["on"] = serde_json::json!([20])),
            "1 change steps but 2 amplitudes",
        ),
        (
            with_inputs(&ck, |v| {
                v["currents"][1]["pulse"] = serde_json::json!([10, 30])
            }),
            "expected [on step, off step, amplitude]",
        ),
        (
            with_inputs(&ck, |v| v["currents"][0]["index"] = serde_json::json!(0)),
            "stimulus 0 is not a current here",
        ),
        (
            with_inputs(&ck, |v| v["currents"] = serde_json::json!([])),
            "0 current stimuli, this network has 2",
        ),
        (
            with_inputs(&ck, |v| {
                v["sources"]
                    .as_array_mut()
                    .unwrap()
                    .pop()
                    .map(drop)
                    .unwrap()
            }),
            "is missing",
        ),
        (
            with_inputs(&ck, |v| {
                let s = v["sources"][0].clone();
                v["sources"].as_array_mut().unwrap().push(s);
            }),
            "appears twice",
        ),
        (
            with_inputs(&ck, |v| {
                let k = 1 - poisson(v);
                v["sources"][k]["times_ms"][0] = serde_json::json!([3.0, -1.0]);
            }),
            "spike_times[0][1]: expected a finite time",
        ),
    ];
    for (ck, expect) in cases {
        eprintln!("case: {expect}");
        let m = refused(&ck, Precision::F32);
        assert!(m.contains(expect), "expected '{expect}': {m}");
        assert!(m.contains("net.inputs"), "{m}");
    }
}

/// A step current of many points costs memory per point, not per point and neuron,
/// and a step costs a binary search in it, not a walk over it: a million change points
/// (one per step) and 20 000 steps finish at once (walking them every step would take
/// 2·10^10 comparisons: minutes).
#[test]
fn a_long_current_schedule_is_not_multiplied_by_its_neurons_or_steps() {
    let ck = with_inputs(&f32_seed(), |v| {
        let on: Vec<u64> = (0..1_000_000u64).collect();
        let amp: Vec<f64> = on.iter().map(|&k| (k % 7) as f64).collect();
        v["currents"][0]["on"] = serde_json::json!(on);
        v["currents"][0]["amplitude"] = serde_json::json!(amp);
    });
    for gpu in [None, gpu()] {
        let on_gpu = gpu.is_some();
        let mut sim = Simulation::new(net(), gpu.as_deref().cloned(), Precision::F32).unwrap();
        sim.restore(&ck).unwrap();
        let steps = if on_gpu { 2_000 } else { 20_000 };
        sim.run_steps(steps, &mut galvani::sim::Unmonitored)
            .unwrap();
    }
}

/// An edit of a section's bytes.
type Edit = dyn Fn(&mut Vec<u8>);

#[test]
fn a_sweep_of_crafted_files_never_panics() {
    // every section truncated, grown, filled with 0xFF and with NaN; every metadata
    // value replaced by extremes; through the fuzz target's body, which also asserts
    // that a refused load changes nothing
    let mut tried = 0;
    for (_, bytes) in genuine_checkpoints() {
        let ck = parse(&bytes);
        let names: Vec<String> = ck.section_names().map(String::from).collect();
        for name in &names {
            let fills: [&Edit; 5] = [
                &|b| {
                    b.pop();
                },
                &|b| b.extend_from_slice(&[0; 4]),
                &|b| b.iter_mut().for_each(|x| *x = 0xFF),
                &|b| b.clear(),
                &|b| {
                    for c in b.chunks_exact_mut(4) {
                        c.copy_from_slice(&f32::NAN.to_le_bytes())
                    }
                },
            ];
            for f in fills {
                fuzz_checkpoint_load(&with_section(&ck, name, f).to_bytes());
                tried += 1;
            }
        }
        let keys: Vec<String> = ck.meta["simulation"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        for key in keys {
            for v in [
                serde_json::json!(null),
                serde_json::json!(-1),
                serde_json::json!(u64::MAX),
                serde_json::json!(1e308),
                serde_json::json!("x"),
                serde_json::json!([u64::MAX]),
            ] {
                let mut c = ck.clone();
                sim_meta(&mut c).insert(key.clone(), v);
                fuzz_checkpoint_load(&c.to_bytes());
                tried += 1;
            }
        }
        // every 97th byte flipped (checksum recomputed by the harness)
        for at in (0..bytes.len() - 4).step_by(97) {
            let mut b = bytes.clone();
            b[at] ^= 0xA5;
            fuzz_checkpoint_load(&b);
            tried += 1;
        }
    }
    assert!(tried > 200, "{tried}");
}

/// A refused load leaves a GPU simulation as it was too.
#[test]
fn a_refused_load_changes_nothing_on_the_gpu() {
    let Some(ctx) = gpu() else { return };
    // parameters, inputs and most state are valid and differ from the fresh
    // simulation's; the last neuron's refractory counter is not
    let ck = with_section(&f32_seed(), "lif.state", |b| {
        let at = b.len() - 4;
        b[at..].copy_from_slice(&u32::MAX.to_le_bytes())
    });
    let mut sim = Simulation::new(net(), Some(ctx.clone()), Precision::F32).unwrap();
    sim.run_steps(7, &mut galvani::sim::Unmonitored).unwrap();
    let before = sim.checkpoint().unwrap().to_bytes();
    let e = sim.restore(&ck).unwrap_err().to_string();
    assert!(e.contains("refractory"), "{e}");
    assert!(before == sim.checkpoint().unwrap().to_bytes());
    assert_eq!(sim.step(), 7);
}

// ---- galvani resume --------------------------------------------------------------

/// Stops a run after its first checkpoint.
struct StopAfterFirst(bool);

impl Monitor for StopAfterFirst {
    fn batch_done(&mut self, _done: u64, _total: u64) {
        self.0 = true;
    }
    fn stop_requested(&self) -> bool {
        self.0
    }
}

/// A run of the harness network stopped at its first checkpoint (1 ms): its folder.
fn stopped_run(dir: &Path) -> PathBuf {
    let config = dir.join("net.toml");
    std::fs::write(&config, fuzz_harness::NET_TOML).unwrap();
    let out = dir.join("out");
    let opts = RunOptions {
        checkpoint_every_ms: Some(1.0),
        quiet: true,
        ..RunOptions::default()
    };
    let outcome = RunJob::new(&config, &out, &opts)
        .unwrap()
        .run(&mut StopAfterFirst(false))
        .unwrap();
    assert!(!outcome.summary.complete);
    assert!(out.join("checkpoint.galvani").is_file());
    out
}

/// A copy of the run folder `out` in `dir/name`.
fn copy_run(out: &Path, dir: &Path, name: &str) -> PathBuf {
    let to = dir.join(name);
    std::fs::create_dir_all(&to).unwrap();
    for e in std::fs::read_dir(out).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
    to
}

/// `galvani resume dir` with a deadline: (exit code, stderr).
fn resume(dir: &Path) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_galvani"))
        .args(["resume", dir.to_str().unwrap(), "-q", "--no-plots"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            return (status.code(), err);
        }
        if t0.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("galvani resume {} hangs", dir.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Rewrites the checkpoint of run folder `run` through `f`.
fn edit(run: &Path, f: impl Fn(&mut Checkpoint)) {
    let p = run.join("checkpoint.galvani");
    let mut ck = Checkpoint::from_bytes(&std::fs::read(&p).unwrap(), &p).unwrap();
    f(&mut ck);
    std::fs::write(&p, ck.to_bytes()).unwrap();
}

fn mkfifo(p: &Path) {
    let st = Command::new("mkfifo").arg(p).status().unwrap();
    assert!(st.success());
}

#[test]
fn resume_refuses_crafted_run_folders_without_panic_or_hang() {
    let dir = tempfile::tempdir().unwrap();
    let out = stopped_run(dir.path());
    let spikes_at = |run: &Path| std::fs::read(run.join("spikes.csv")).unwrap();
    let mut cases: Vec<(PathBuf, &str)> = Vec::new();

    // the checkpoint itself a FIFO, or a link to /dev/zero
    let run = copy_run(&out, dir.path(), "fifo");
    std::fs::remove_file(run.join("checkpoint.galvani")).unwrap();
    mkfifo(&run.join("checkpoint.galvani"));
    cases.push((run, "a FIFO"));
    let run = copy_run(&out, dir.path(), "zero");
    std::fs::remove_file(run.join("checkpoint.galvani")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", run.join("checkpoint.galvani")).unwrap();
    cases.push((run, "a device"));
    // the config it names a FIFO
    let run = copy_run(&out, dir.path(), "config_fifo");
    let fifo = dir.path().join("config.fifo");
    mkfifo(&fifo);
    edit(&run, |ck| {
        ck.meta.get_mut("run").unwrap()["config_abs"] = serde_json::json!(fifo.to_str().unwrap())
    });
    cases.push((run, "a FIFO"));
    // a step past the run's end (200 steps)
    let run = copy_run(&out, dir.path(), "late");
    edit(&run, |ck| {
        sim_meta(ck)
            .insert("step".into(), serde_json::json!(5000))
            .map(drop)
            .unwrap()
    });
    cases.push((run, "past the run's end"));
    // CSV offsets: inside a row, 0 (no header), at an earlier row boundary
    let run = copy_run(&out, dir.path(), "mid_row");
    edit(&run, |ck| {
        let v = &mut ck.meta.get_mut("csv").unwrap()["voltages"];
        *v = serde_json::json!(v.as_u64().unwrap() - 3);
    });
    cases.push((run, "does not end a row"));
    let run = copy_run(&out, dir.path(), "syn_zero");
    edit(&run, |ck| {
        ck.meta.get_mut("csv").unwrap()["synaptic"] = serde_json::json!(0)
    });
    cases.push((run, "does not end a row"));
    let run = copy_run(&out, dir.path(), "rows");
    let header = std::fs::read_to_string(run.join("voltages.csv"))
        .unwrap()
        .find('\n')
        .unwrap()
        + 1;
    edit(&run, |ck| {
        ck.meta.get_mut("csv").unwrap()["voltages"] = serde_json::json!(header)
    });
    cases.push((run, "rows after the header"));
    // a Poisson column shorter than its population (once exit 101)
    let run = copy_run(&out, dir.path(), "poisson");
    edit(&run, |ck| {
        let mut v: serde_json::Value =
            serde_json::from_slice(ck.section("net.inputs").unwrap()).unwrap();
        for s in v["sources"].as_array_mut().unwrap() {
            if s.get("poisson").is_some() {
                s["poisson"][0] = serde_json::json!([1.0]);
            }
        }
        ck.put("net.inputs", serde_json::to_vec(&v).unwrap());
    });
    cases.push((run, "one per neuron"));
    // ISI statistics that no run makes
    let run = copy_run(&out, dir.path(), "isi");
    edit(&run, |ck| {
        let mut b = ck.section("isi.mean").unwrap().to_vec();
        b[0..8].copy_from_slice(&f64::INFINITY.to_le_bytes());
        ck.put("isi.mean", b);
    });
    cases.push((run, "isi.mean"));

    for (run, expect) in cases {
        let before = spikes_at(&run);
        let (code, err) = resume(&run);
        assert_eq!(code, Some(2), "{}: {err}", run.display());
        assert!(
            err.contains(expect),
            "{}: expected '{expect}': {err}",
            run.display()
        );
        assert!(
            before == spikes_at(&run),
            "{}: spikes.csv changed",
            run.display()
        );
    }
    // the genuine folder still resumes
    let (code, err) = resume(&out);
    assert_eq!(code, Some(0), "{err}");
}

/// HV state: non-finite y, w or coupling and spike detectors other than 0 or 1 are
/// refused; so is a changed parameter out of its range.
#[test]
fn crafted_hv_state_is_refused_by_name() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/configs/hv_pair.toml");
    let hv = || {
        let c = galvani::config::load(Path::new(path)).unwrap();
        Network::build(&c, Some(20.0), None).unwrap()
    };
    let mut a = Simulation::new(hv(), None, Precision::F64).unwrap();
    a.run_steps(30, &mut galvani::sim::Unmonitored).unwrap();
    let ck = a.checkpoint().unwrap();
    let nan = f64::NAN.to_le_bytes();
    // hv.state is (y, w, armed, pad) per neuron: 8 + 8 + 4 + 4 bytes in f64
    let cases: Vec<(Checkpoint, &str)> = vec![
        (
            with_section(&ck, "hv.state", |b| b[0..8].copy_from_slice(&nan)),
            "neuron 0: y is NaN",
        ),
        (
            with_section(&ck, "hv.state", |b| {
                b[24 + 8..24 + 16].copy_from_slice(&nan)
            }),
            "neuron 1: w is NaN",
        ),
        (
            with_section(&ck, "hv.state", |b| {
                b[16..20].copy_from_slice(&7u32.to_le_bytes())
            }),
            "spike detector 7",
        ),
        (
            with_section(&ck, "hv.coupling", |b| {
                b[8..16].copy_from_slice(&f64::INFINITY.to_le_bytes())
            }),
            "coupling inf",
        ),
    ];
    for (ck, expect) in cases {
        let mut sim = Simulation::new(hv(), None, Precision::F64).unwrap();
        let before = sim.checkpoint().unwrap().to_bytes();
        let m = sim.restore(&ck).unwrap_err().to_string();
        assert!(m.contains(expect), "expected '{expect}': {m}");
        assert!(before == sim.checkpoint().unwrap().to_bytes());
    }
}
