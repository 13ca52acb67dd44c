//! Outputs people look at: the plots `galvani run` writes (valid PNGs of the stated size),
//! `galvani plot DIR` re-drawing them from the CSVs, the raster's stacking and labels, the
//! rate box plots and their statistics, the f–I plot, the summary's
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
    let rates = check_png(&out.join("rates.png"));

    // `galvani plot DIR` re-draws the same pictures from the CSVs and summary.json.
    for f in ["raster.png", "voltages.png", "rates.png"] {
        std::fs::remove_file(out.join(f)).unwrap();
    }
    let o = galvani(&["plot", out.to_str().unwrap()]);
    ok(&o);
    assert_eq!(check_png(&out.join("raster.png")), raster);
    assert_eq!(check_png(&out.join("voltages.png")), volts);
    assert_eq!(check_png(&out.join("rates.png")), rates);

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
    assert!(!out.join("rates.png").exists());
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

/// Writes a run folder by hand: summary.json with `pops` (name, size, recorded) and a
/// spikes.csv of `spikes` (time, population, neuron), sorted by time as galvani writes it.
fn fake_run(
    dir: &Path,
    pops: &[(&str, usize, bool)],
    duration_ms: f64,
    spikes: &[(f64, &str, u32)],
) {
    let populations: Vec<serde_json::Value> = pops
        .iter()
        .map(|(name, size, recorded)| serde_json::json!({"name": name, "size": size, "recorded": recorded}))
        .collect();
    let summary = serde_json::json!({
        "config": "fake.toml",
        "duration_ms": duration_ms,
        "dt_ms": 0.1,
        "populations": populations,
    });
    std::fs::create_dir_all(dir).unwrap();
    write(dir, "summary.json", &summary.to_string());
    let mut sorted = spikes.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut csv = String::from("time_ms,population,neuron\n");
    for (t, p, n) in sorted {
        csv.push_str(&format!("{t},{p},{n}\n"));
    }
    write(dir, "spikes.csv", &csv);
}

/// `count` spikes of one neuron, evenly spaced over (from, to).
fn train(
    pop: &'static str,
    neuron: u32,
    count: usize,
    from: f64,
    to: f64,
) -> Vec<(f64, &'static str, u32)> {
    let step = (to - from) / (count + 1) as f64;
    (1..=count)
        .map(|i| {
            (
                ((from + i as f64 * step) * 10.0).round() / 10.0,
                pop,
                neuron,
            )
        })
        .collect()
}

/// Population "a" (8 neurons) of a 2 s run: in the analysis window [500, 2000] ms
/// (1.5 s) its neurons fire 0, 0, 3, 3, 6, 6, 9 and 30 spikes, i.e. 0, 0, 2, 2, 4, 4, 6
/// and 20 Hz; neuron 0 also fires in the transient, which must not count. Neuron 2's
/// ISIs are 100 and 300 ms (CV 0.5). Population "b" has 4 neurons, one firing 3 spikes
/// (2 Hz); "quiet" is not recorded.
fn rates_fixture(dir: &Path) {
    let mut spikes = vec![(100.0, "a", 0), (200.0, "a", 0), (450.0, "b", 1)];
    spikes.extend([(600.0, "a", 2), (700.0, "a", 2), (1000.0, "a", 2)]);
    spikes.extend(train("a", 3, 3, 500.0, 2000.0));
    spikes.extend(train("a", 4, 6, 500.0, 2000.0));
    spikes.extend(train("a", 5, 6, 500.0, 2000.0));
    spikes.extend(train("a", 6, 9, 500.0, 2000.0));
    spikes.extend(train("a", 7, 30, 500.0, 2000.0));
    spikes.extend(train("b", 0, 3, 500.0, 2000.0));
    fake_run(
        dir,
        &[("a", 8, true), ("quiet", 5, false), ("b", 4, true)],
        2000.0,
        &spikes,
    );
}

#[test]
fn population_statistics_have_the_right_window_quartiles_and_cvs() {
    use galvani_cli::plot::{BoxStats, RunMeta, analysis_window, population_stats};
    assert_eq!(analysis_window(2000.0), (500.0, 2000.0));
    assert_eq!(analysis_window(1000.0), (0.0, 1000.0));
    assert_eq!(analysis_window(300.0), (0.0, 300.0));

    let dir = tempfile::tempdir().unwrap();
    rates_fixture(dir.path());
    let meta = RunMeta::load(dir.path()).unwrap();
    let stats = population_stats(dir.path(), &meta, analysis_window(meta.duration_ms)).unwrap();
    // Recorded populations only, in config order.
    let pops: Vec<&str> = stats
        .iter()
        .map(|s| meta.populations[s.pop].name.as_str())
        .collect();
    assert_eq!(pops, ["a", "b"]);
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    let want = [0.0, 0.0, 2.0, 2.0, 4.0, 4.0, 6.0, 20.0];
    assert!(
        stats[0]
            .rates_hz
            .iter()
            .zip(want)
            .all(|(&r, w)| close(r, w)),
        "{:?}",
        stats[0].rates_hz
    );
    assert!(
        stats[1]
            .rates_hz
            .iter()
            .zip([2.0, 0.0, 0.0, 0.0])
            .all(|(&r, w)| close(r, w))
    );

    // Quartiles interpolate between ranks: Q1 at rank 1.75, median 3.5, Q3 5.25 of 0..7.
    let b = BoxStats::of(&stats[0].rates_hz).unwrap();
    assert_eq!(b.n, 8);
    assert!(
        close(b.q1, 1.5) && close(b.median, 3.0) && close(b.q3, 4.5),
        "{b:?}"
    );
    assert!(close(b.mean, 38.0 / 8.0), "{b:?}");
    // IQR 3: the fences are −3 and 9, so the whiskers end at 0 and 6 and 20 Hz is out.
    assert!(
        close(b.whisker_lo, 0.0) && close(b.whisker_hi, 6.0),
        "{b:?}"
    );
    assert_eq!(b.outliers, vec![20.0]);

    // CV ISI of neurons with ≥ 3 spikes in the window: neuron 2 has ISIs 100 and 300 ms
    // (std 100 / mean 200); evenly spaced trains have about 0 (times are rounded to 0.1 ms).
    let cv = &stats[0].cv_isi;
    assert_eq!(cv.len(), 6, "{cv:?}");
    assert!(close(cv[0], 0.5), "{cv:?}");
    assert!(cv[1..].iter().all(|&c| c.abs() < 1e-3), "{cv:?}");
    assert_eq!(stats[1].cv_isi.len(), 1);
    assert!(BoxStats::of(&[]).is_none());
}

/// Pixels of a picture that are a shade of `c` (the colour faded towards white, as the
/// raster shades spikes and the boxes are filled), as (x, y).
fn tints(
    path: &Path,
    c: (u8, u8, u8),
    xs: std::ops::Range<u32>,
    ys: std::ops::Range<u32>,
) -> Vec<(u32, u32)> {
    let (w, h, px) = decode(path);
    assert_eq!(px.len(), (w * h * 3) as usize, "RGB pixels");
    let of = |v: u8, c: u8, s: f64| 255.0 - (255.0 - c as f64) * s - v as f64;
    let mut found = Vec::new();
    for y in ys {
        for x in xs.clone() {
            let i = ((y * w + x) * 3) as usize;
            let (r, g, b) = (px[i], px[i + 1], px[i + 2]);
            // The channel furthest from white in `c` gives the shade.
            let s = (255.0 - r.min(g).min(b) as f64) / (255.0 - c.0.min(c.1).min(c.2) as f64);
            if s >= 0.25
                && [(r, c.0), (g, c.1), (b, c.2)]
                    .iter()
                    .all(|&(v, cc)| of(v, cc, s).abs() <= 2.5)
            {
                found.push((x, y));
            }
        }
    }
    found
}

fn mean(v: impl Iterator<Item = u32>) -> f64 {
    let v: Vec<u32> = v.collect();
    assert!(!v.is_empty());
    v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64
}

fn palette(k: usize) -> (u8, u8, u8) {
    let c = galvani_cli::plot::PALETTE[k];
    (c.0, c.1, c.2)
}

#[test]
fn rates_png_has_one_box_per_recorded_population_in_config_order() {
    let dir = tempfile::tempdir().unwrap();
    rates_fixture(dir.path());
    let o = galvani(&["plot", dir.path().to_str().unwrap()]);
    ok(&o);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("rates.png (2 populations, 500–2000 ms"),
        "{stdout}"
    );
    let path = dir.path().join("rates.png");
    check_png(&path);
    let (w, h, _) = decode(&path);
    assert_eq!((w, h), galvani_cli::plot::RATES_SIZE);
    // Left panel (rates): a box in the first colour left of one in the second, and none in
    // the third, since "quiet" is not recorded.
    let (a, b, c) = (
        tints(&path, palette(0), 0..w * 6 / 10, 0..h),
        tints(&path, palette(1), 0..w * 6 / 10, 0..h),
        tints(&path, palette(2), 0..w, 0..h),
    );
    assert!(a.len() > 500 && b.len() > 100, "{} {}", a.len(), b.len());
    assert!(c.is_empty(), "{} pixels of a third colour", c.len());
    assert!(mean(a.iter().map(|p| p.0)) < mean(b.iter().map(|p| p.0)));
    // "a"'s box spans 1.5–4.5 Hz and "b"'s collapses at 0 Hz: "a" reaches higher.
    assert!(a.iter().map(|p| p.1).min() < b.iter().map(|p| p.1).min());
}

#[test]
fn raster_stacks_populations_top_down_in_config_order() {
    // Two populations from a simulation, drawn with the overlaid rate panel.
    let dir = tempfile::tempdir().unwrap();
    let out = run_net(dir.path(), &["-q"]);
    let path = out.join("raster.png");
    let raster_area = (110..1440, 60..640);
    let exc = tints(
        &path,
        palette(0),
        raster_area.0.clone(),
        raster_area.1.clone(),
    );
    let inh = tints(&path, palette(1), raster_area.0, raster_area.1);
    assert!(
        exc.len() > 100 && inh.len() > 100,
        "{} {}",
        exc.len(),
        inh.len()
    );
    assert!(
        exc.iter().map(|p| p.1).max() < inh.iter().map(|p| p.1).min(),
        "exc (first in the config) lies above inh"
    );

    // Five populations (more than MAX_OVERLAID_RATES) of different sizes: stacked
    // top-down in the raster, and their rate strips below in the same order.
    const { assert!(galvani_cli::plot::MAX_OVERLAID_RATES < 5) };
    let dir = tempfile::tempdir().unwrap();
    let names = ["L23E", "L23I", "L4E", "L4I", "L5I"];
    let sizes = [400, 100, 400, 100, 10];
    let mut spikes = Vec::new();
    for (k, (&name, &size)) in names.iter().zip(&sizes).enumerate() {
        for n in 0..size as u32 {
            spikes.extend(train(name, n, 2 + k, 0.0, 1000.0));
        }
    }
    let pops: Vec<(&str, usize, bool)> = names
        .iter()
        .zip(sizes)
        .map(|(&n, s)| (n, s, true))
        .collect();
    fake_run(dir.path(), &pops, 1000.0, &spikes);
    ok(&galvani(&["plot", dir.path().to_str().unwrap()]));
    let path = dir.path().join("raster.png");
    let (mut last_raster, mut last_strip) = (0.0, 0.0);
    for (k, name) in names.iter().enumerate() {
        let raster = tints(&path, palette(k), 110..1440, 60..640);
        let strip = tints(&path, palette(k), 110..1440, 700..960);
        assert!(!raster.is_empty() && !strip.is_empty(), "{}", name);
        let (r, s) = (
            mean(raster.iter().map(|p| p.1)),
            mean(strip.iter().map(|p| p.1)),
        );
        assert!(
            r > last_raster && s > last_strip,
            "{} at {r}, strip at {s}",
            name
        );
        (last_raster, last_strip) = (r, s);
    }
}

#[test]
fn population_labels_never_overlap() {
    use galvani_cli::plot::spread_labels;
    let gap_ok = |p: &[f64], h: f64| p.windows(2).all(|w| w[1] - w[0] >= h - 1e-9);
    // PD14 at 1/10 scale: the middles of the populations' bands in a 565-pixel raster.
    let sizes = [2068.0, 583.0, 2192.0, 548.0, 485.0, 106.0, 1440.0, 295.0];
    let total: f64 = sizes.iter().sum();
    let mut want = Vec::new();
    let mut row = 0.0;
    for s in sizes {
        want.push(65.0 + (row + s / 2.0) / total * 565.0);
        row += s;
    }
    let (h, lo, hi) = (40.0, 65.0, 630.0);
    // The bands of L4I, L5E and L5I are closer than a label's height.
    assert!(!gap_ok(&want, h));
    let placed = spread_labels(&want, h, lo, hi);
    assert_eq!(placed.len(), want.len());
    assert!(gap_ok(&placed, h), "{placed:?}");
    assert!(
        placed
            .iter()
            .all(|&p| p - h / 2.0 >= lo - 1e-9 && p + h / 2.0 <= hi + 1e-9)
    );
    // Labels with room stay level with their bands; the crowded ones move.
    for k in [0, 2] {
        assert!((placed[k] - want[k]).abs() < 1e-9, "{k}: {placed:?}");
    }
    assert!((placed[5] - want[5]).abs() > 10.0, "L5I moved: {placed:?}");

    // Labels wanting one place spread around it; one at the edge is pushed inside.
    assert_eq!(
        spread_labels(&[100.0; 3], 10.0, 0.0, 200.0),
        vec![90.0, 100.0, 110.0]
    );
    assert_eq!(
        spread_labels(&[2.0, 150.0], 10.0, 0.0, 200.0),
        vec![5.0, 150.0]
    );
    assert_eq!(
        spread_labels(&[199.0, 199.0], 10.0, 0.0, 200.0),
        vec![185.0, 195.0]
    );
    // More labels than fit are spread evenly over the space.
    assert_eq!(
        spread_labels(&[5.0; 4], 10.0, 0.0, 20.0),
        vec![2.5, 7.5, 12.5, 17.5]
    );
    assert!(spread_labels(&[], 10.0, 0.0, 20.0).is_empty());
}
