//! The command line: a good run's files, and bad input → one clear message, exit 2,
//! no panic, no summary.json.

use std::path::Path;
use std::process::Command;

const GOOD: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 20.0
seed = 7
[[population]]
name = "exc"
size = 40
model = "lif"
[population.params]
e_l_mv = -49.0
v_th_mv = -50.0
v_reset_mv = -60.0
[population.init]
v_mv = { uniform = [-60.0, -50.0] }
[[population]]
name = "inh"
size = 10
model = "lif"
synapse = "delta"
[[projection]]
pre = "exc"
post = "inh"
receptor = "ampa"
weight = 0.5
delay_ms = 0.3
connect = { rule = "fixed_probability", p = 0.2 }
[[projection]]
pre = "inh"
post = "exc"
receptor = "gaba_a"
weight = -20.0
connect = { rule = "fixed_indegree", k = 3 }
[record]
spikes = ["exc"]
voltage = [{ population = "exc", neurons = [0, 3], every_steps = 10 }]
"#;

fn galvani(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_galvani"))
        .args(args)
        .env("GALVANI_ADAPTER", "none-such-adapter")
        .output()
        .unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn good_run_writes_the_documented_files() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "good.toml", GOOD);
    let out = dir.path().join("out");
    let o = galvani(&[
        "run",
        &cfg,
        "--backend",
        "cpu",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let spikes = std::fs::read_to_string(out.join("spikes.csv")).unwrap();
    let mut lines = spikes.lines();
    assert_eq!(lines.next(), Some("time_ms,population,neuron"));
    let rows: Vec<(f64, String, usize)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].parse().unwrap(),
                f[1].to_string(),
                f[2].parse().unwrap(),
            )
        })
        .collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| r.1 == "exc" && r.2 < 40),
        "only the recorded population"
    );
    assert!(
        rows.windows(2).all(|w| (w[0].0, w[0].2) < (w[1].0, w[1].2)),
        "sorted by time, then neuron"
    );
    let volts = std::fs::read_to_string(out.join("voltages.csv")).unwrap();
    assert!(volts.starts_with("time_ms,population,neuron,v_mv\n0.0,exc,0,"));
    assert_eq!(
        volts.lines().count(),
        1 + 2 * (1 + 20),
        "t = 0 and every 10 steps for 200 steps"
    );
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for k in [
        "backend",
        "device",
        "precision",
        "neurons",
        "synapses",
        "steps",
        "dt_ms",
        "spikes",
        "populations",
        "build_s",
        "simulate_s",
    ] {
        assert!(s.get(k).is_some(), "summary.json lacks {k}");
    }
    assert_eq!(s["backend"], "cpu");
    assert_eq!(s["neurons"], 50);
    assert_eq!(s["steps"], 200);
    assert_eq!(s["populations"][0]["name"], "exc");
    assert_eq!(
        s["populations"][0]["spikes"].as_u64().unwrap() as usize,
        rows.len()
    );
    // same seed, same output; another seed, another network
    let out2 = dir.path().join("out2");
    assert!(
        galvani(&[
            "run",
            &cfg,
            "--backend",
            "cpu",
            "--out",
            out2.to_str().unwrap(),
            "-q"
        ])
        .status
        .success()
    );
    assert_eq!(
        spikes,
        std::fs::read_to_string(out2.join("spikes.csv")).unwrap()
    );
    let out3 = dir.path().join("out3");
    assert!(
        galvani(&[
            "run",
            &cfg,
            "--backend",
            "cpu",
            "--seed",
            "8",
            "--out",
            out3.to_str().unwrap(),
            "-q"
        ])
        .status
        .success()
    );
    assert_ne!(
        spikes,
        std::fs::read_to_string(out3.join("spikes.csv")).unwrap()
    );
}

#[test]
fn auto_without_gpu_falls_back_to_cpu_with_a_notice() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "good.toml", GOOD);
    let out = dir.path().join("out");
    let o = galvani(&["run", &cfg, "--out", out.to_str().unwrap()]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("running on the CPU backend"), "{err}");
    let o = galvani(&[
        "run",
        &cfg,
        "--backend",
        "gpu",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "--backend gpu without an adapter is an error"
    );
}

/// (description, config text edit, words the message must contain)
fn bad_cases() -> Vec<(&'static str, String, Vec<&'static str>)> {
    let g = GOOD.to_string();
    vec![
        (
            "toml syntax",
            g.replace("size = 40", "size = = 40"),
            vec!["line"],
        ),
        (
            "unknown key",
            g.replace("seed = 7", "seed = 7\nsteps = 3"),
            vec!["unknown field", "steps"],
        ),
        (
            "unknown param",
            g.replace("e_l_mv = -49.0", "e_l_mv = -49.0\ntau_x = 1.0"),
            vec!["tau_x", "expected one of"],
        ),
        (
            "wrong type",
            g.replace("size = 40", "size = \"forty\""),
            vec!["size"],
        ),
        (
            "unknown population",
            g.replace("post = \"inh\"", "post = \"inhh\""),
            vec!["unknown population", "inhh"],
        ),
        (
            "zero size",
            g.replace("size = 40", "size = 0"),
            vec!["size", "positive"],
        ),
        (
            "negative dt",
            g.replace("dt_ms = 0.1", "dt_ms = -0.1"),
            vec!["dt_ms"],
        ),
        (
            "probability",
            g.replace("p = 0.2", "p = 1.5"),
            vec!["connect.p", "[0, 1]"],
        ),
        (
            "short delay",
            g.replace("delay_ms = 0.3", "delay_ms = 0.01"),
            vec!["delay_ms", "one step"],
        ),
        (
            "unknown model",
            g.replace(
                "model = \"lif\"\n[population.params]",
                "model = \"izhikevich\"\n[population.params]",
            ),
            vec!["unknown model", "izhikevich"],
        ),
        (
            "unknown synapse",
            g.replace("synapse = \"delta\"", "synapse = \"alpha\""),
            vec!["synapse", "alpha"],
        ),
        (
            "missing value file",
            g.replace(
                "{ uniform = [-60.0, -50.0] }",
                "{ file = \"nope.csv\", column = \"v_mv\" }",
            ),
            vec!["nope.csv"],
        ),
        (
            "missing edge file",
            g.replace(
                "{ rule = \"fixed_indegree\", k = 3 }",
                "{ rule = \"file\", path = \"edges.csv\" }",
            ),
            vec!["edges.csv"],
        ),
        (
            "edge out of range",
            g.replace(
                "{ rule = \"fixed_indegree\", k = 3 }",
                "{ rule = \"file\", path = \"bad_edges.csv\" }",
            ),
            vec!["bad_edges.csv", "line 3", "out of range"],
        ),
        (
            "reset above threshold",
            g.replace("v_reset_mv = -60.0", "v_reset_mv = -40.0"),
            vec!["v_reset_mv"],
        ),
        (
            "probe out of range",
            g.replace("neurons = [0, 3]", "neurons = [0, 40]"),
            vec!["record.voltage", "40"],
        ),
    ]
}

#[test]
fn bad_input_gets_one_clear_message_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "bad_edges.csv", "pre,post\n0,1\n12,0\n");
    for (what, text, words) in bad_cases() {
        assert_ne!(text, GOOD, "{what}: the edit must apply");
        let cfg = write(dir.path(), "bad.toml", &text);
        let out = dir.path().join(format!("out_{}", what.replace(' ', "_")));
        let o = galvani(&[
            "run",
            &cfg,
            "--backend",
            "cpu",
            "--out",
            out.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{what}: exit code; stderr: {err}");
        assert!(!err.contains("panicked"), "{what}: {err}");
        assert!(err.contains("error"), "{what}: {err}");
        for w in words {
            assert!(err.contains(w), "{what}: message lacks '{w}': {err}");
        }
        assert!(
            !out.join("summary.json").exists(),
            "{what}: no summary for a failed run"
        );
    }
    let o = galvani(&["run", "/nonexistent/x.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/x.toml"));
    let o = galvani(&["run", "x.toml", "--precision", "f16"]);
    assert_eq!(o.status.code(), Some(2), "clap usage errors exit 2");
}
