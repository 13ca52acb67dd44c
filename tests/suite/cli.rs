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
                "model = \"adex2\"\n[population.params]",
            ),
            vec!["unknown model", "adex2", "\"izhikevich\""],
        ),
        (
            "another model's key",
            g.replace(
                "model = \"lif\"\n[population.params]",
                "model = \"izhikevich\"\n[population.params]",
            ),
            vec!["e_l_mv", "expected one of: a, b, c_mv"],
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
        (
            "negative conductance weight",
            g.replace(
                "size = 40\nmodel = \"lif\"",
                "size = 40\nmodel = \"lif\"\nsynapse = \"exp_conductance\"",
            ),
            vec!["weight", "negative", "conductance"],
        ),
        (
            "unknown stimulus kind",
            format!("{g}\n[[stimulus]]\nkind = \"noise\"\ntarget = \"exc\"\n"),
            vec!["noise", "expected one of", "poisson"],
        ),
        (
            "negative poisson rate",
            format!(
                "{g}\n[[stimulus]]\nkind = \"poisson\"\ntarget = \"exc\"\nrate_hz = -5.0\nweight = 1.0\nreceptor = \"ampa\"\n"
            ),
            vec!["rate_hz"],
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

const HV_GOOD: &str = r#"
[simulation]
duration_ms = 5.0
[[population]]
name = "exc"
size = 8
model = "hv"
[population.params]
i_e_pa = { linspace = [150.0, 250.0] }
[population.init]
v_mv = -65.0
[[population]]
name = "inh"
size = 2
model = "hv"
[[projection]]
pre = "exc"
post = "inh"
receptor = "ampa"
weight = 2.0
connect = { rule = "all_to_all" }
[[projection]]
pre = "inh"
post = "exc"
receptor = "gaba_a"
connect = { rule = "file", path = "hv_edges.csv" }
[[stimulus]]
kind = "receptor_pulse"
target = "inh"
neurons = [1]
receptor = "ampa"
amplitude = 1.0
start_ms = 1.0
stop_ms = 2.0
[record]
voltage = [{ population = "exc", neurons = [0], every_steps = 7 }]
"#;

/// (description, config text edit, words the message must contain)
fn hv_bad_cases() -> Vec<(&'static str, String, Vec<&'static str>)> {
    let g = HV_GOOD.to_string();
    vec![
        (
            "delay into HV",
            g.replace("weight = 2.0", "weight = 2.0\ndelay_ms = 1.0"),
            vec!["delay_ms", "instantaneous"],
        ),
        (
            "unknown HV param",
            g.replace("i_e_pa = {", "g_na = 3.0\ni_e_pa = {"),
            vec!["g_na", "expected one of", "n_ampa"],
        ),
        (
            "LIF param on HV",
            g.replace("i_e_pa = {", "tau_m_ms = 3.0\ni_e_pa = {"),
            vec!["tau_m_ms", "expected one of"],
        ),
        (
            "unknown HV init",
            g.replace("v_mv = -65.0", "v_mv = -65.0\nm = 0.1"),
            vec!["init", "'m'", "v_mv, w"],
        ),
        (
            "negative HV weight",
            g.replace("weight = 2.0", "weight = -2.0"),
            vec!["weight", ">= 0"],
        ),
        (
            "eta not a sign",
            g.replace("i_e_pa = {", "eta_nat = 0.5\ni_e_pa = {"),
            vec!["eta_nat", "1 or -1"],
        ),
        (
            "w = 0",
            g.replace("v_mv = -65.0", "v_mv = -65.0\nw = 0.0"),
            vec!["init.w", "0 < w <= 1"],
        ),
        (
            "per-neuron bad capacitance",
            g.replace(
                "i_e_pa = {",
                "c_m_pf = { linspace = [20.0, -1.0] }\ni_e_pa = {",
            ),
            vec!["c_m_pf", "neuron 7", "positive"],
        ),
        (
            "synapse kind on HV",
            g.replace(
                "model = \"hv\"\n[[projection]]",
                "model = \"hv\"\nsynapse = \"delta\"\n[[projection]]",
            ),
            vec!["synapse", "HV"],
        ),
        (
            "unknown stimulus kind",
            g.replace("kind = \"receptor_pulse\"", "kind = \"laser\""),
            vec!["laser", "receptor_pulse"],
        ),
        (
            "stimulus unknown population",
            g.replace("target = \"inh\"\nneurons", "target = \"inn\"\nneurons"),
            vec!["stimulus[0]", "inn"],
        ),
        (
            "stimulus neuron out of range",
            g.replace("neurons = [1]", "neurons = [2]"),
            vec!["stimulus[0]", "neurons: index 2"],
        ),
        (
            "stimulus ends before it starts",
            g.replace("stop_ms = 2.0", "stop_ms = 0.5"),
            vec!["stop_ms", "start_ms"],
        ),
        (
            "stimulus receptor",
            g.replace(
                "receptor = \"ampa\"\namplitude",
                "receptor = \"nmda\"\namplitude",
            ),
            vec!["stimulus[0]", "receptor", "nmda"],
        ),
        (
            "mixed models",
            g.replace("size = 2\nmodel = \"hv\"", "size = 2\nmodel = \"lif\""),
            vec!["same model"],
        ),
        (
            "edge file with delays into HV",
            g.replace("hv_edges.csv", "hv_edges_delay.csv"),
            vec!["hv_edges_delay.csv", "delay", "instantaneous"],
        ),
        (
            "negative weight in edge file",
            g.replace("hv_edges.csv", "hv_edges_negative.csv"),
            vec!["hv_edges_negative.csv", "line 3", ">= 0"],
        ),
    ]
}

fn hv_files(dir: &Path) {
    write(dir, "hv_edges.csv", "pre,post,weight\n0,0,3.0\n1,5,4.5\n");
    write(
        dir,
        "hv_edges_delay.csv",
        "pre,post,weight,delay_ms\n0,0,3.0,1.0\n",
    );
    write(
        dir,
        "hv_edges_negative.csv",
        "pre,post,weight\n0,0,3.0\n1,5,-4.5\n",
    );
}

#[test]
fn hv_bad_input_gets_one_clear_message_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    hv_files(dir.path());
    for (what, text, words) in hv_bad_cases() {
        assert_ne!(text, HV_GOOD, "{what}: the edit must apply");
        let cfg = write(dir.path(), "bad.toml", &text);
        let out = dir.path().join("out_bad");
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
        for w in words {
            assert!(err.contains(w), "{what}: message lacks '{w}': {err}");
        }
        assert!(!out.join("summary.json").exists(), "{what}: no summary");
    }
    // a receptor pulse cannot drive LIF neurons
    let text = format!(
        "{GOOD}\n[[stimulus]]\nkind = \"receptor_pulse\"\ntarget = \"exc\"\nreceptor = \"ampa\"\namplitude = 1.0\nstart_ms = 1.0\nstop_ms = 2.0\n"
    );
    let cfg = write(dir.path(), "bad.toml", &text);
    let o = galvani(&[
        "run",
        &cfg,
        "--backend",
        "cpu",
        "--out",
        dir.path().join("o").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("receptor pulses drive HV populations"),
        "{err}"
    );
}

#[test]
fn hv_run_writes_interpolated_spike_times() {
    let dir = tempfile::tempdir().unwrap();
    hv_files(dir.path());
    let cfg = write(dir.path(), "good.toml", HV_GOOD);
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
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert!(
        (s["dt_ms"].as_f64().unwrap() - 1.0 / 70.0).abs() < 1e-15,
        "HV default dt"
    );
    assert_eq!(s["steps"], 350);
    assert_eq!(s["synapses"], 16 + 2);
    // the notebook's cell in f64: its only spike crosses 0 mV at 0.344545149 ms (case a)
    let out = dir.path().join("nb");
    let nb = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/configs/hv_notebook_single.toml"
    );
    let o = galvani(&[
        "run",
        nb,
        "--backend",
        "cpu",
        "--precision",
        "f64",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let spikes = std::fs::read_to_string(out.join("spikes.csv")).unwrap();
    assert_eq!(spikes, "time_ms,population,neuron\n0.344545149,cell,0\n");
    let volts = std::fs::read_to_string(out.join("voltages.csv")).unwrap();
    assert_eq!(volts.lines().count(), 1 + 2801);
    assert!(volts.contains("\n0.0,cell,0,-30\n"), "{}", &volts[..200]);
}

#[test]
fn hv_non_finite_state_exits_3_without_summary() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"
[simulation]
duration_ms = 5.0
[[population]]
name = "stiff"
size = 2
model = "hv"
[population.init]
v_mv = -80.0
w = 0.1
"#;
    let cfg = write(dir.path(), "stiff.toml", text);
    let out = dir.path().join("out");
    let o = galvani(&[
        "run",
        &cfg,
        "--backend",
        "cpu",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    for w in [
        "non-finite",
        "population 'stiff'",
        "neuron 0",
        "step 1",
        "t = 0.028571 ms",
        "incomplete",
    ] {
        assert!(err.contains(w), "lacks '{w}': {err}");
    }
    assert!(
        !out.join("summary.json").exists(),
        "no summary for a failed run"
    );
}

/// Lines of a command's stdout and stderr that start with "error:". galvani's own
/// failures read "galvani: error: …"; a bare "error:" comes from a library (libwayland
/// printed "error: XDG_RUNTIME_DIR is invalid or not set in the environment." when the
/// GPU was probed without a display) and reads as if galvani had failed.
fn error_lines(o: &std::process::Output) -> Vec<String> {
    [&o.stdout, &o.stderr]
        .into_iter()
        .flat_map(|b| {
            String::from_utf8_lossy(b)
                .lines()
                .filter(|l| l.trim_start().starts_with("error:"))
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// galvani with no display in the environment (no XDG_RUNTIME_DIR, no Wayland or X11
/// display), as on a server or in CI; `vk_icd` set to a missing file hides every Vulkan
/// driver, so wgpu falls back to GL (EGL).
fn galvani_headless(args: &[&str], vk_icd: Option<&str>) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_galvani"));
    c.args(args)
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("DISPLAY")
        .env_remove("EGL_PLATFORM")
        .env_remove("GALVANI_ADAPTER");
    if let Some(f) = vk_icd {
        c.env("VK_ICD_FILENAMES", f).env("VK_DRIVER_FILES", f);
    }
    c.output().unwrap()
}

#[test]
fn gpu_probing_without_a_display_prints_no_error_lines() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "good.toml", GOOD);
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    let required = std::env::var("GALVANI_REQUIRE_GPU").is_ok_and(|v| v == "1");
    for (label, vk_icd) in [("Vulkan and GL", None), ("GL only", Some("/nonexistent"))] {
        let o = galvani_headless(&["devices"], vk_icd);
        assert!(o.status.success(), "{label}: devices failed");
        assert_eq!(error_lines(&o), Vec::<String>::new(), "{label}: devices");
        let listed = String::from_utf8_lossy(&o.stdout).into_owned();
        if vk_icd.is_none() && required {
            assert!(listed.contains("via Vulkan"), "{label}: {listed}");
        }
        let o = galvani_headless(
            &["run", &cfg, "--backend", "gpu", "--no-plots", "--out", out],
            vk_icd,
        );
        if o.status.success() {
            assert_eq!(error_lines(&o), Vec::<String>::new(), "{label}: run");
        } else {
            // Without a GPU (or, GL only, without compute on GL) the run fails with
            // galvani's own message, which is allowed to say "error".
            assert!(
                !(required && vk_icd.is_none()),
                "{label}: GALVANI_REQUIRE_GPU=1 but the GPU run failed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
}

/// Starts a long CPU run, sends `sig` once it is writing, and checks the promise of
/// README "Stopping a run": exit code `code`, a message naming the signal,
/// summary.json with `"complete": false`, and a spikes.csv whose every line is whole.
#[cfg(unix)]
fn stopped_by(sig: i32, name: &str, code: i32) {
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "good.toml", GOOD);
    let out = dir.path().join("out");
    let err_path = dir.path().join("stderr.txt");
    let mut child = Command::new(env!("CARGO_BIN_EXE_galvani"))
        .args([
            "run",
            &cfg,
            "--backend",
            "cpu",
            "--no-plots",
            // ~10^9 steps: hours, so only the signal can end it within the test.
            "--duration-ms",
            "1e8",
            "--out",
            out.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    // spikes.csv is created after the handlers are installed and the network is built.
    let t0 = Instant::now();
    while !out.join("spikes.csv").exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the run never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: kill(2) on our own child's pid; it has not been waited for, so the pid is
    // still its.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0);
    let t_sig = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t_sig.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{name} did not stop the run within 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let err = std::fs::read_to_string(&err_path).unwrap();
    assert_eq!(status.code(), Some(code), "{name}: {status:?}; {err}");
    assert!(err.contains(&format!("interrupted by {name}")), "{err}");
    assert!(
        !err.contains("error:"),
        "a requested stop is no error: {err}"
    );
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["complete"], false);
    let steps = s["steps"].as_u64().unwrap();
    assert!(steps > 0 && steps < 1_000_000_000, "steps {steps}");
    let spikes = std::fs::read_to_string(out.join("spikes.csv")).unwrap();
    assert!(spikes.ends_with('\n'), "the last line is complete");
    let mut lines = spikes.lines();
    assert_eq!(lines.next(), Some("time_ms,population,neuron"));
    let mut rows = 0;
    let mut last = f64::NEG_INFINITY;
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        assert_eq!(f.len(), 3, "line {l:?}");
        let t: f64 = f[0].parse().unwrap();
        assert!(t >= last, "times ascend: {t} after {last}");
        assert!(
            t <= steps as f64 * 0.1 + 1e-9,
            "no spike after the last step run"
        );
        assert_eq!(f[1], "exc");
        let _: usize = f[2].parse().unwrap();
        last = t;
        rows += 1;
    }
    assert!(rows > 0, "1.5 s of this network has spikes");
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_run_cleanly_with_exit_143() {
    stopped_by(libc::SIGTERM, "SIGTERM", 143);
}

#[cfg(unix)]
#[test]
fn sighup_stops_the_run_cleanly_with_exit_129() {
    stopped_by(libc::SIGHUP, "SIGHUP", 129);
}

#[cfg(unix)]
#[test]
fn sigint_stops_the_run_cleanly_with_exit_130() {
    stopped_by(libc::SIGINT, "SIGINT", 130);
}
