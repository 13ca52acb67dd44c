//! Outputs people look at: the plots `galvani run` writes (valid PNGs of the stated size),
//! `galvani plot DIR` re-drawing them from the CSVs, the f–I plot, the summary's
//! statistics, and a run stopped by Ctrl-C leaving parseable CSVs and an incomplete
//! summary.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const NET: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 200.0
seed = 3
[[population]]
name = "exc"
size = 80
model = "lif"
[population.params]
e_l_mv = -49.0
v_th_mv = -50.0
v_reset_mv = -60.0
t_ref_ms = 5.0
[population.init]
v_mv = { uniform = [-60.0, -50.0] }
[[population]]
name = "inh"
size = 20
model = "lif"
[population.params]
e_l_mv = -49.0
v_th_mv = -50.0
v_reset_mv = -60.0
t_ref_ms = 5.0
[population.init]
v_mv = { uniform = [-60.0, -50.0] }
[[projection]]
pre = "exc"
post = "inh"
receptor = "ampa"
weight = 20.0
connect = { rule = "fixed_probability", p = 0.1 }
[[projection]]
pre = "inh"
post = "exc"
receptor = "gaba_a"
weight = -100.0
connect = { rule = "fixed_probability", p = 0.1 }
[record]
spikes = true
voltage = [{ population = "exc", neurons = [0, 1], every_steps = 1 }]
"#;

fn galvani(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_galvani"))
        .args(args)
        .env("GALVANI_ADAPTER", "none-such-adapter")
        .output()
        .unwrap()
}

fn ok(o: &std::process::Output) {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Decodes a PNG: (width, height, RGB(A) bytes).
fn decode(path: &Path) -> (u32, u32, Vec<u8>) {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let dec = png::Decoder::new(std::io::BufReader::new(f));
    let mut r = dec.read_info().expect("a valid PNG header");
    let mut buf = vec![0; r.output_buffer_size()];
    let info = r.next_frame(&mut buf).expect("valid PNG data");
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

/// Asserts a plot is a valid PNG of at least 1200×700 that is not blank, and returns
/// its pixels.
fn check_png(path: &Path) -> Vec<u8> {
    let (w, h, px) = decode(path);
    assert!(w >= 1200 && h >= 700, "{}: {w}×{h}", path.display());
    let coloured = px
        .chunks(3)
        .filter(|c| c.len() == 3 && !(c[0] == c[1] && c[1] == c[2]))
        .count();
    assert!(
        coloured > 1000,
        "{}: only {coloured} coloured pixels",
        path.display()
    );
    px
}

fn run_net(dir: &Path, extra: &[&str]) -> PathBuf {
    let cfg = write(dir, "net.toml", NET);
    let out = dir.join("out");
    let mut args = vec![
        "run",
        cfg.to_str().unwrap(),
        "--backend",
        "cpu",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = galvani(&args);
    ok(&o);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        !stdout.contains("ETA") && !stdout.contains('\r'),
        "no progress bar when stdout is not a terminal: {stdout}"
    );
    out
}

#[test]
fn run_writes_plots_of_the_stated_size_and_plot_redraws_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_net(dir.path(), &[]);
    let raster = check_png(&out.join("raster.png"));
    let volts = check_png(&out.join("voltages.png"));

    // `galvani plot DIR` re-draws the same pictures from the CSVs and summary.json.
    std::fs::remove_file(out.join("raster.png")).unwrap();
    std::fs::remove_file(out.join("voltages.png")).unwrap();
    let o = galvani(&["plot", out.to_str().unwrap()]);
    ok(&o);
    assert_eq!(check_png(&out.join("raster.png")), raster);
    assert_eq!(check_png(&out.join("voltages.png")), volts);

    // Without summary.json (CSVs only) it still draws both.
    std::fs::remove_file(out.join("summary.json")).unwrap();
    std::fs::remove_file(out.join("raster.png")).unwrap();
    std::fs::remove_file(out.join("voltages.png")).unwrap();
    ok(&galvani(&["plot", out.to_str().unwrap()]));
    check_png(&out.join("raster.png"));
    check_png(&out.join("voltages.png"));
}

#[test]
fn no_plots_writes_none_and_summary_has_the_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_net(dir.path(), &["--no-plots"]);
    assert!(!out.join("raster.png").exists());
    assert!(!out.join("voltages.png").exists());
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["complete"], true);
    assert_eq!(s["steps"], 2000);
    assert_eq!(s["steps_requested"], 2000);
    assert!(s["steps_per_s"].as_f64().unwrap() > 0.0);
    for p in s["populations"].as_array().unwrap() {
        assert!(p["rate_hz"].as_f64().unwrap() > 0.0, "{p}");
        assert!(p.get("cv_isi").is_some() && p.get("cv_isi_neurons").is_some());
        if p["cv_isi_neurons"].as_u64().unwrap() > 0 {
            let cv = p["cv_isi"].as_f64().unwrap();
            assert!((0.0..3.0).contains(&cv), "{p}");
        }
    }
    // cv_isi recomputed from spikes.csv with the documented definition.
    let spikes = std::fs::read_to_string(out.join("spikes.csv")).unwrap();
    let mut times: std::collections::BTreeMap<(String, u32), Vec<f64>> = Default::default();
    for l in spikes.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        times
            .entry((f[1].to_string(), f[2].parse().unwrap()))
            .or_default()
            .push(f[0].parse().unwrap());
    }
    for p in s["populations"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        let cvs: Vec<f64> = times
            .iter()
            .filter(|(k, t)| k.0 == name && t.len() >= 3)
            .map(|(_, t)| {
                let isi: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
                let m = isi.iter().sum::<f64>() / isi.len() as f64;
                let v = isi.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / isi.len() as f64;
                v.sqrt() / m
            })
            .collect();
        assert_eq!(p["cv_isi_neurons"].as_u64().unwrap() as usize, cvs.len());
        if !cvs.is_empty() {
            let want = cvs.iter().sum::<f64>() / cvs.len() as f64;
            let got = p["cv_isi"].as_f64().unwrap();
            assert!((got - want).abs() < 1e-9, "{name}: cv_isi {got} vs {want}");
        }
    }
}

const FI: &str = r#"
[simulation]
dt_ms = 0.01
duration_ms = 500.0
[[population]]
name = "lif"
size = 41
model = "lif"
synapse = "delta"
[population.params]
tau_m_ms = 10.0
c_m_pf = 250.0
e_l_mv = -70.0
v_th_mv = -55.0
v_reset_mv = -70.0
t_ref_ms = 1.0
i_e_pa = { linspace = [0.0, 1000.0] }
[record]
spikes = true
"#;

#[test]
fn fi_plot_matches_the_closed_form() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "fi.toml", FI);
    let out = dir.path().join("fi");
    ok(&galvani(&[
        "run",
        cfg.to_str().unwrap(),
        "--backend",
        "cpu",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]));
    let o = galvani(&["plot", "--fi", out.to_str().unwrap()]);
    ok(&o);
    check_png(&out.join("fi.png"));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let dev: f64 = stdout
        .split("largest deviation from the closed form ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no deviation in: {stdout}"));
    // The grid rounds each interval up by less than a step (0.01 ms of ≥ 5.7 ms).
    assert!(dev < 0.5, "largest deviation {dev} Hz");
}

/// Parses a galvani CSV completely: every line has the header's number of fields, times
/// parse and never decrease. Returns (lines, last time).
fn parse_csv(path: &Path, fields: usize) -> (usize, f64) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.ends_with('\n'), "{} ends mid-line", path.display());
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap().split(',').count(), fields);
    let mut last = 0.0f64;
    let mut n = 0;
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        assert_eq!(f.len(), fields, "{}: {l}", path.display());
        let t: f64 = f[0].parse().unwrap();
        assert!(t >= last, "{}: time goes back at {l}", path.display());
        last = t;
        let _: u32 = f[2].parse().unwrap();
        if fields == 4 {
            let v: f64 = f[3].parse().unwrap();
            assert!(v.is_finite());
        }
        n += 1;
    }
    (n, last)
}

#[test]
fn ctrl_c_leaves_parseable_csvs_and_an_incomplete_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cuba = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/cuba.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_galvani"))
        .args([
            "run",
            cuba.to_str().unwrap(),
            "--backend",
            "cpu",
            "--duration-ms",
            "600000",
            "--out",
            out.to_str().unwrap(),
        ])
        .env("GALVANI_ADAPTER", "none-such-adapter")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the simulation streams (the handler is installed before the network is
    // built), then let it write a few more batches.
    let t0 = Instant::now();
    let spikes = out.join("spikes.csv");
    loop {
        let len = std::fs::metadata(&spikes).map(|m| m.len()).unwrap_or(0);
        if len > 10_000 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "the run wrote no spikes in 120 s"
        );
        if let Some(st) = child.try_wait().unwrap() {
            panic!("the run ended early: {st:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "stderr: {stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");

    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["complete"], false);
    let steps = s["steps"].as_u64().unwrap();
    assert!(steps > 0 && steps < s["steps_requested"].as_u64().unwrap());
    let duration = s["duration_ms"].as_f64().unwrap();
    let (nspikes, last) = parse_csv(&spikes, 3);
    assert_eq!(nspikes as u64, s["spikes"].as_u64().unwrap());
    assert!(last <= duration + 1e-9, "{last} > {duration}");
    // Every batch up to the stop: 3 probes sampled at t = 0 and after every step.
    let (nv, vlast) = parse_csv(&out.join("voltages.csv"), 4);
    assert_eq!(nv as u64, 3 * (steps + 1));
    assert!((vlast - duration).abs() < 1e-6, "{vlast} vs {duration}");
    // The plots of what ran were drawn, and `galvani plot` draws them again.
    check_png(&out.join("raster.png"));
    ok(&galvani(&["plot", out.to_str().unwrap()]));
    check_png(&out.join("raster.png"));
}

fn seed(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("configs/seeds")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// (population, time, value) rows of a voltages.csv.
fn voltage_rows(path: &Path) -> Vec<(String, f64, f64)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[1].to_string(),
                f[0].parse().unwrap(),
                f[3].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn seed_configs_reproduce_their_figures() {
    let dir = tempfile::tempdir().unwrap();
    let run = |cfg: &str, out: &str, extra: &[&str]| -> PathBuf {
        let out = dir.path().join(out);
        let mut args = vec![
            "run",
            cfg,
            "--backend",
            "cpu",
            "--out",
            out.to_str().unwrap(),
            "-q",
        ];
        args.extend_from_slice(extra);
        ok(&galvani(&args));
        out
    };

    // The leaky membrane: V(t) = E_L + (V(0) − E_L)·exp(−t/τ_m), τ_m = 10 ms, E_L = −70 mV.
    let out = run(&seed("leaky_membrane.toml"), "leaky", &[]);
    check_png(&out.join("voltages.png"));
    let rows = voltage_rows(&out.join("voltages.csv"));
    for v0 in [-90.0, -80.0, -60.0, -50.0] {
        let name = format!("V(0) = {v0} mV");
        for t in [0.0, 10.0, 30.0, 60.0] {
            let v = rows
                .iter()
                .find(|r| r.0 == name && (r.1 - t).abs() < 1e-9)
                .unwrap_or_else(|| panic!("{name} at {t} ms"))
                .2;
            let want = -70.0 + (v0 + 70.0) * (-t / 10.0f64).exp();
            assert!((v - want).abs() < 1e-3, "{name}, {t} ms: {v} vs {want}");
        }
    }

    // Fig. 2: R·I = 12 mV settles at −58 mV without a spike; 16 mV fires every
    // τ_m ln 16 ≈ 27.73 ms, i.e. every 278 steps of 0.1 ms.
    let out = run(&seed("lif_fig2.toml"), "fig2", &[]);
    check_png(&out.join("voltages.png"));
    let rows = voltage_rows(&out.join("voltages.csv"));
    let v12: Vec<f64> = rows
        .iter()
        .filter(|r| r.0 == "R·I = 12 mV")
        .map(|r| r.2)
        .collect();
    assert!(v12.iter().all(|&v| v < -58.0 + 1e-4));
    assert!((v12.last().unwrap() + 58.0).abs() < 0.01);
    let spikes = std::fs::read_to_string(out.join("spikes.csv")).unwrap();
    let times: Vec<(String, f64)> = spikes
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1].to_string(), f[0].parse().unwrap())
        })
        .collect();
    assert_eq!(
        times,
        vec![
            ("R·I = 16 mV".to_string(), 27.8),
            ("R·I = 16 mV".to_string(), 55.6),
            ("R·I = 16 mV".to_string(), 83.4),
        ]
    );

    // Fig. 3: the f–I curve agrees with the closed form (shortened to 300 ms).
    let out = run(&seed("lif_fi.toml"), "fi", &["--duration-ms", "300"]);
    let o = galvani(&["plot", "--fi", out.to_str().unwrap()]);
    ok(&o);
    check_png(&out.join("fi.png"));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let dev: f64 = stdout
        .split("largest deviation from the closed form ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no deviation in: {stdout}"));
    assert!(dev < 0.5, "largest deviation {dev} Hz");
}
