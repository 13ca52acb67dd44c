//! Source populations (`spike_source`, `poisson_source`) and current sources
//! (`dc_current`, `step_current`): exact spike delivery times, Poisson statistics,
//! identical events on every backend, changes between runs, and bad input. GPU cases skip
//! without an adapter unless GALVANI_REQUIRE_GPU=1.

use crate::common::*;

use galvani::Simulation;
use galvani::network::Network;
use galvani::real::Precision;
use galvani::sim::Unmonitored;

/// Given spike times reach a delta-synapse neuron exactly `delay` later: its voltage is
/// E_L until t + d − dt and E_L + w at t + d (the spike of time t is stamped at
/// round(t/dt)·dt), on every backend; the recorded source spikes are the given times.
#[test]
fn spike_source_delivers_at_exact_times() {
    let net = net(r#"
[simulation]
dt_ms = 0.1
duration_ms = 30.0
[[population]]
name = "src"
size = 2
model = "spike_source"
spike_times = [[1.0, 5.0, 5.04, 12.3], [2.5]]
[[population]]
name = "n"
size = 2
model = "lif"
synapse = "delta"
params = { tau_m_ms = 1e9, v_th_mv = 100.0 }
[[projection]]
pre = "src"
post = "n"
receptor = "ampa"
weight = 1.0
delay_ms = 1.5
connect = { rule = "one_to_one" }
[record]
voltage = [{ population = "n" }]
"#);
    for (name, run) in every_backend(&net) {
        let src: Vec<(u32, f64)> = run
            .spikes
            .iter()
            .zip(&run.times_ms)
            .filter(|(s, _)| s.1 == 0)
            .map(|(s, &t)| (s.2, t))
            .collect();
        // 5.04 rounds to the step of 5.0: one spike
        assert_eq!(
            src,
            vec![(0, 1.0), (1, 2.5), (0, 5.0), (0, 12.3)],
            "{name}: source spikes"
        );
        for (k, arrivals) in [(0, vec![2.5, 6.5, 13.8]), (1, vec![4.0])] {
            let tr = trace(&run, &net, k);
            // the voltage steps by exactly 1 mV at each arrival and nowhere else
            // (tau_m = 1e9 ms: no visible decay)
            let mut jumps = Vec::new();
            for w in tr.windows(2) {
                let dv = w[1].1 - w[0].1;
                if dv > 0.5 {
                    assert!((dv - 1.0).abs() < 1e-4, "{name}: jump {dv} at {}", w[1].0);
                    jumps.push((w[1].0 * 10.0).round() / 10.0);
                } else {
                    assert!(dv.abs() < 1e-4, "{name}: drift {dv} at {}", w[1].0);
                }
            }
            assert_eq!(jumps, arrivals, "{name}: arrivals at neuron {k}");
        }
    }
}

fn sources_net(rate: f64, start: f64, dur: f64, n: usize, ms: f64) -> Network {
    net(&format!(
        r#"
[simulation]
dt_ms = 0.1
duration_ms = {ms}
seed = 7
[[population]]
name = "p"
size = {n}
model = "poisson_source"
params = {{ rate_hz = {rate}, start_ms = {start}, duration_ms = {dur} }}
"#
    ))
}

/// Poisson sources: the count matches n·steps·(1 − e^{−r·dt}) within 5 SD, the counts
/// per neuron have a Fano factor near 1, the ISIs a CV near 1, no spike falls outside
/// (start, start + duration], and every backend draws the same spikes.
#[test]
fn poisson_source_statistics() {
    let (n, rate, start, dur) = (500usize, 40.0, 100.0, 1500.0);
    let net = sources_net(rate, start, dur, n, 2000.0);
    let runs = every_backend(&net);
    let (_, first) = &runs[0];
    for (name, run) in &runs {
        assert_eq!(run.spikes, first.spikes, "{name}: same spikes as cpu-f32");
    }
    let steps = dur / 0.1;
    let p = 1.0 - (-rate * 0.1 / 1000.0f64).exp();
    let mean = n as f64 * steps * p;
    let sd = (n as f64 * steps * p * (1.0 - p)).sqrt();
    let count = first.spikes.len() as f64;
    assert!(
        (count - mean).abs() < 5.0 * sd,
        "count {count}, expected {mean} ± {sd}"
    );
    for &t in &first.times_ms {
        assert!(
            t > start - 1e-9 && t <= start + dur + 1e-9,
            "spike at {t} ms"
        );
    }
    assert!(first.times_ms.iter().any(|&t| t < start + 1.0));
    assert!(first.times_ms.iter().any(|&t| t > start + dur - 1.0));
    let mut per = vec![Vec::new(); n];
    for (s, &t) in first.spikes.iter().zip(&first.times_ms) {
        per[s.2 as usize].push(t);
    }
    let counts: Vec<f64> = per.iter().map(|v| v.len() as f64).collect();
    let m = counts.iter().sum::<f64>() / n as f64;
    let var = counts.iter().map(|c| (c - m).powi(2)).sum::<f64>() / (n - 1) as f64;
    let fano = var / m;
    assert!((fano - 1.0).abs() < 0.2, "Fano factor {fano}");
    let isi: Vec<f64> = per
        .iter()
        .flat_map(|v| v.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>())
        .collect();
    let mi = isi.iter().sum::<f64>() / isi.len() as f64;
    let si = (isi.iter().map(|x| (x - mi).powi(2)).sum::<f64>() / isi.len() as f64).sqrt();
    assert!((si / mi - 1.0).abs() < 0.05, "ISI CV {}", si / mi);
    // distinct neurons draw distinct trains
    assert_ne!(per[0], per[1]);
}

/// A network driven only by sources (spike times and Poisson) through exp-current
/// synapses: the GPU produces exactly the CPU's f32 spikes, and f64 the same as f32
/// wherever the sources alone decide (the source spikes).
#[test]
fn sources_drive_a_network_identically_on_every_backend() {
    let times: Vec<String> = (0..20)
        .map(|i| {
            format!(
                "[{}]",
                (0..30)
                    .map(|k| format!("{}", 3.0 + k as f64 * 6.1 + i as f64 * 0.3))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    let net = net(&format!(
        r#"
[simulation]
dt_ms = 0.1
duration_ms = 200.0
seed = 3
[[population]]
name = "arr"
size = 20
model = "spike_source"
spike_times = [{}]
[[population]]
name = "poi"
size = 100
model = "poisson_source"
params = {{ rate_hz = 80.0 }}
[[population]]
name = "e"
size = 200
model = "lif"
[[projection]]
pre = "arr"
post = "e"
receptor = "ampa"
weight = 60.0
delay_ms = 1.0
connect = {{ rule = "fixed_indegree", k = 5 }}
[[projection]]
pre = "poi"
post = "e"
receptor = "ampa"
weight = 90.0
delay_ms = {{ uniform = [0.5, 3.0] }}
connect = {{ rule = "fixed_probability", p = 0.2 }}
[[projection]]
pre = "e"
post = "e"
receptor = "gaba_a"
weight = -20.0
delay_ms = 2.0
connect = {{ rule = "fixed_probability", p = 0.05 }}
"#,
        times.join(", ")
    ));
    let runs = every_backend(&net);
    let e_spikes = |c: &galvani::sim::Collect| c.spikes.iter().filter(|s| s.1 == 2).count();
    let (_, f32run) = &runs[0];
    assert!(
        e_spikes(f32run) > 100,
        "the check needs spikes: {}",
        e_spikes(f32run)
    );
    let src = |c: &galvani::sim::Collect| -> Vec<_> {
        c.spikes.iter().filter(|s| s.1 < 2).cloned().collect()
    };
    assert_eq!(src(f32run).iter().filter(|s| s.1 == 0).count(), 600);
    for (name, run) in &runs {
        assert_eq!(src(run), src(f32run), "{name}: source spikes");
        if name.ends_with("f32") {
            assert_eq!(
                run.spikes, f32run.spikes,
                "{name}: every spike equals cpu-f32's"
            );
        }
    }
}

fn simulation(net: &Network, gpu: bool) -> Option<Simulation> {
    if gpu {
        let ctx = crate::common::gpu()?;
        Some(Simulation::new(net.clone(), Some(ctx.clone()), Precision::F32).unwrap())
    } else {
        Some(Simulation::new(net.clone(), None, Precision::F32).unwrap())
    }
}

/// Spike times, Poisson parameters and currents changed between runs act from the next
/// step exactly as a network built with them from the start (for a change at t = 0), and
/// as the schedule says for a later change; the GPU agrees with the CPU.
#[test]
fn sources_and_currents_change_between_runs() {
    let base = r#"
[simulation]
dt_ms = 0.1
duration_ms = 100.0
[[population]]
name = "s"
size = 2
model = "spike_source"
spike_times = [[], []]
[[population]]
name = "p"
size = 3
model = "poisson_source"
[[population]]
name = "n"
size = 2
model = "lif"
params = { v_th_mv = 100.0 }
[[projection]]
pre = "s"
post = "n"
receptor = "ampa"
weight = 50.0
connect = { rule = "one_to_one" }
[[stimulus]]
kind = "dc_current"
target = "n"
neurons = [1]
amplitude_pa = 0.0
[record]
voltage = [{ population = "n" }]
"#;
    let net0 = net(base);
    let mut outs = Vec::new();
    for gpu in [false, true] {
        let Some(mut sim) = simulation(&net0, gpu) else {
            continue;
        };
        sim.run_steps(200, &mut Unmonitored).unwrap();
        assert!(sim.records().spikes.is_empty());
        sim.set_spike_times("s", vec![vec![10.0, 25.0, 40.0], vec![30.0]])
            .unwrap();
        sim.set("p", "rate_hz", &[500.0]).unwrap();
        sim.set("p", "start_ms", &[50.0, 60.0, 0.0]).unwrap();
        sim.set_current(0, &[30.0, 35.0], &[200.0, -100.0]).unwrap();
        assert_eq!(sim.get("p", "start_ms").unwrap(), vec![50.0, 60.0, 0.0]);
        assert_eq!(sim.spike_times("s").unwrap()[1], vec![30.0]);
        sim.run_steps(800, &mut Unmonitored).unwrap();
        let (t, i) = sim.spikes("s").unwrap();
        // 10.0 is past (t = 20 ms when the times were set): never emitted
        assert_eq!((t, i), (vec![25.0, 30.0, 40.0], vec![0, 1, 0]));
        let (t, i) = sim.spikes("p").unwrap();
        assert!(t.len() > 50, "{} Poisson spikes", t.len());
        for (&t, &i) in t.iter().zip(&i) {
            assert!(t > [50.0, 60.0, 20.0][i as usize], "spike of {i} at {t}");
        }
        let (vt, vn, v) = sim.voltages("n").unwrap();
        let at = |time: f64, k: u32| {
            vt.iter()
                .zip(&vn)
                .zip(&v)
                .find(|((t, n), _)| (**t - time).abs() < 1e-6 && **n == k)
                .map(|(_, v)| *v)
                .unwrap()
        };
        // neuron 0 takes the spikes of s[0] (25 and 40 ms, arriving a step later and
        // acting through the synaptic current a step after that); neuron 1 those of s[1]
        // and 200 pA on [30, 35) ms, then -100 pA
        assert_eq!(at(25.1, 0), -70.0);
        assert!(at(25.3, 0) > -70.0);
        assert_eq!(at(30.0, 1), -70.0);
        assert!(at(35.0, 1) > -70.0 + 0.5);
        assert!(at(90.0, 1) < -70.0 - 1.0);
        outs.push(sim.records().clone());
    }
    if outs.len() == 2 {
        assert_eq!(outs[0].spikes, outs[1].spikes, "GPU spikes equal the CPU's");
        for (a, b) in outs[0].voltages.iter().zip(&outs[1].voltages) {
            assert!((a.2 - b.2).abs() < 1e-4, "GPU voltage {b:?} vs CPU {a:?}");
        }
    }
}

/// `dc_current` equals the same constant `i_e_pa`, and a `step_current` equals the
/// `current_pulse` it spells, bit for bit; pulses on disjoint neurons that overlap in time
/// add only on their own neurons.
#[test]
fn current_sources_equal_their_special_cases() {
    let make = |stim: &str, i_e: f64| {
        net(&format!(
            r#"
[simulation]
dt_ms = 0.1
duration_ms = 80.0
[[population]]
name = "n"
size = 2
model = "lif"
params = {{ i_e_pa = {i_e} }}
{stim}
[record]
voltage = [{{ population = "n" }}]
"#
        ))
    };
    let dc = make(
        r#"[[stimulus]]
kind = "dc_current"
target = "n"
amplitude_pa = 400.0"#,
        0.0,
    );
    let ie = make("", 400.0);
    let step = make(
        r#"[[stimulus]]
kind = "step_current"
target = "n"
neurons = [1]
times_ms = [10.0, 30.0]
amplitudes_pa = [420.0, 0.0]"#,
        0.0,
    );
    let pulse = make(
        r#"[[stimulus]]
kind = "current_pulse"
target = "n"
neurons = [1]
start_ms = 10.0
stop_ms = 30.0
amplitude_pa = 420.0"#,
        0.0,
    );
    let overlap = make(
        r#"[[stimulus]]
kind = "dc_current"
target = "n"
neurons = [0]
amplitude_pa = 420.0
start_ms = 5.0
[[stimulus]]
kind = "current_pulse"
target = "n"
neurons = [1]
start_ms = 10.0
stop_ms = 30.0
amplitude_pa = 420.0"#,
        0.0,
    );
    let shifted = make(
        r#"[[stimulus]]
kind = "dc_current"
target = "n"
neurons = [0]
amplitude_pa = 420.0
start_ms = 5.0"#,
        0.0,
    );
    let (a, b) = (every_backend(&dc), every_backend(&ie));
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x.spikes.len() > 4, "{name}");
        assert_eq!(x.spikes, y.spikes, "{name}: dc_current = i_e");
        assert_eq!(x.voltages, y.voltages, "{name}: dc_current = i_e");
    }
    let (a, b) = (every_backend(&step), every_backend(&pulse));
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert_eq!(
            x.voltages, y.voltages,
            "{name}: step_current = current_pulse"
        );
    }
    let (a, b) = (every_backend(&overlap), every_backend(&shifted));
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        let n0 = |c: &galvani::sim::Collect| -> Vec<_> {
            c.voltages.iter().filter(|v| v.1 == 0).cloned().collect()
        };
        assert_eq!(
            n0(x),
            n0(y),
            "{name}: the pulse on neuron 1 leaves neuron 0 alone"
        );
    }
}

/// Bad source and current configs fail with a message naming the key.
#[test]
fn bad_sources_are_refused() {
    let head = "[simulation]\ndt_ms = 0.1\nduration_ms = 10.0\n";
    let lif = "[[population]]\nname = \"n\"\nsize = 2\nmodel = \"lif\"\n";
    let cases = [
        (
            "[[population]]\nname = \"s\"\nsize = 2\nmodel = \"spike_source\"\n",
            "spike_times: missing",
        ),
        (
            "[[population]]\nname = \"s\"\nsize = 2\nmodel = \"spike_source\"\nspike_times = [[1.0]]\n",
            "expected one list per neuron (2), got 1",
        ),
        (
            "[[population]]\nname = \"s\"\nsize = 1\nmodel = \"spike_source\"\nspike_times = [[1.0, -2.0]]\n",
            "spike_times[0][1]: expected a finite time >= 0 ms, got -2",
        ),
        (
            "[[population]]\nname = \"s\"\nsize = 1\nmodel = \"poisson_source\"\nparams = { rate = 3.0 }\n",
            "params: unknown key 'rate'",
        ),
        (
            "[[population]]\nname = \"s\"\nsize = 1\nmodel = \"poisson_source\"\n[[projection]]\npre = \"n\"\npost = \"s\"\nreceptor = \"ampa\"\nweight = 1.0\nconnect = { rule = \"all_to_all\" }\n",
            "sources take no input",
        ),
        (
            "[[stimulus]]\nkind = \"step_current\"\ntarget = \"n\"\ntimes_ms = [2.0, 1.0]\namplitudes_pa = [1.0, 2.0]\n",
            "stimulus[0].times_ms: expected ascending times",
        ),
        (
            "[[stimulus]]\nkind = \"step_current\"\ntarget = \"n\"\ntimes_ms = [2.0]\namplitudes_pa = [1.0, 2.0]\n",
            "amplitudes_pa: expected one amplitude per time (1), got 2",
        ),
        (
            "[[population]]\nname = \"s\"\nsize = 1\nmodel = \"poisson_source\"\n[record]\nvoltage = [{ population = \"s\" }]\n",
            "has no membrane potential",
        ),
    ];
    for (extra, want) in cases {
        let text = format!("{head}{lif}{extra}");
        let err = galvani::config::parse(&text, std::path::Path::new("bad.toml"))
            .expect_err(extra)
            .to_string();
        assert!(err.contains(want), "{extra}\n  gave: {err}\n  want: {want}");
        assert!(err.contains("bad.toml"), "{err}");
    }
    let hv = format!(
        "{head}[[population]]\nname = \"h\"\nsize = 1\nmodel = \"hv\"\n[[population]]\nname = \"s\"\nsize = 1\nmodel = \"poisson_source\"\n"
    );
    let err = galvani::config::parse(&hv, std::path::Path::new("bad.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("source populations drive LIF networks"),
        "{err}"
    );
    // set on a source: its own keys only
    let n = net(&format!(
        "{head}{lif}[[population]]\nname = \"s\"\nsize = 1\nmodel = \"poisson_source\"\n"
    ));
    let mut sim = Simulation::new(n, None, Precision::F64).unwrap();
    let e = sim.set("s", "tau_m_ms", &[3.0]).unwrap_err().to_string();
    assert!(
        e.contains("unknown parameter 'tau_m_ms' for poisson_source"),
        "{e}"
    );
    let e = sim.set("s", "rate_hz", &[-3.0]).unwrap_err().to_string();
    assert!(e.contains("rate_hz: expected a non-negative number"), "{e}");
    let e = sim
        .set_spike_times("s", vec![vec![1.0]])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("spike times belong to spike_source populations"),
        "{e}"
    );
    let e = sim.set_current(0, &[1.0], &[1.0]).unwrap_err().to_string();
    assert!(e.contains("there are 0 stimuli"), "{e}");
}

/// Probes of synaptic variables: a spike of weight w arriving at t + d sets the AMPA
/// current (exp_current, pA) and the GABA-A conductance (exp_conductance, nS) to w at
/// t + d, decaying as e^(−(t' − t − d)/τ); 0 before; every backend.
#[test]
fn synaptic_probes_follow_the_closed_form() {
    let net = net(r#"
[simulation]
dt_ms = 0.1
duration_ms = 30.0
[[population]]
name = "s"
size = 1
model = "spike_source"
spike_times = [[5.0]]
[[population]]
name = "c"
size = 1
model = "lif"
params = { tau_ampa_ms = 4.0, v_th_mv = 100.0 }
[[population]]
name = "g"
size = 1
model = "lif"
synapse = "exp_conductance"
params = { tau_gaba_a_ms = 8.0, v_th_mv = 100.0 }
[[projection]]
pre = "s"
post = "c"
receptor = "ampa"
weight = 100.0
delay_ms = 1.0
connect = { rule = "all_to_all" }
[[projection]]
pre = "s"
post = "g"
receptor = "gaba_a"
weight = 3.0
delay_ms = 2.0
connect = { rule = "all_to_all" }
[record]
voltage = [{ population = "c", variable = "syn_ampa" }, { population = "g", variable = "syn_gaba_a" }, { population = "c" }]
"#);
    assert_eq!(net.probes[0].var_name(), "syn_ampa");
    for (name, run) in every_backend(&net) {
        for (k, w, arrive, tau) in [(0, 100.0, 6.0, 4.0), (1, 3.0, 7.0, 8.0)] {
            let tr = trace(&run, &net, k);
            assert_eq!(tr.len(), 301, "{name}");
            for &(t, x) in &tr {
                let exact = if t < arrive - 1e-9 {
                    0.0
                } else {
                    w * (-(t - arrive) / tau).exp()
                };
                assert!(
                    (x - exact).abs() <= 1e-5 * w,
                    "{name} probe {k} at {t}: {x} vs {exact}"
                );
            }
        }
        // the voltage probe still records v
        assert!(trace(&run, &net, 2).iter().all(|&(_, v)| v >= -70.0 - 1e-9));
    }
    let bad = "[simulation]\ndt_ms = 0.1\nduration_ms = 1.0\n[[population]]\nname = \"d\"\nsize = 1\nmodel = \"lif\"\nsynapse = \"delta\"\n[record]\nvoltage = [{ population = \"d\", variable = \"syn_ampa\" }]\n";
    let e = galvani::config::parse(bad, std::path::Path::new("bad.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("record.voltage[0].variable"), "{e}");
}

/// A batch with more source spikes than the GPU's first source buffer holds (1000
/// sources spiking half the steps: 5·10^5 spikes in a batch of 1000 steps) grows the
/// buffer; the GPU's spikes still equal the CPU's.
#[test]
fn many_source_spikes_grow_the_batch_buffer() {
    let net = net(r#"
[simulation]
dt_ms = 0.1
duration_ms = 150.0
seed = 11
[[population]]
name = "p"
size = 1000
model = "poisson_source"
params = { rate_hz = 6931.47 }
[[population]]
name = "n"
size = 20
model = "lif"
[[projection]]
pre = "p"
post = "n"
receptor = "ampa"
weight = 2.0
connect = { rule = "fixed_probability", p = 0.02 }
"#);
    let cpu = cpu32(&net);
    let per_step = cpu.spikes.iter().filter(|s| s.1 == 0).count() as f64 / 1500.0;
    assert!(
        (per_step - 500.0).abs() < 5.0,
        "{per_step} source spikes per step"
    );
    assert!(
        cpu.spikes.iter().any(|s| s.1 == 1),
        "the check needs target spikes"
    );
    if let Some(ctx) = gpu() {
        assert_eq!(gpu32(&ctx, &net).spikes, cpu.spikes);
    }
}

/// A checkpoint holds the inputs changed between runs (spike times, Poisson parameters,
/// current schedules): a simulation built from the original network and restored from
/// it continues exactly as the one that saved it, on the CPU and (f32) on the GPU.
#[test]
fn checkpoints_keep_changed_sources_and_currents() {
    let base = net(r#"
[simulation]
dt_ms = 0.1
duration_ms = 100.0
seed = 5
[[population]]
name = "s"
size = 3
model = "spike_source"
spike_times = [[2.0], [], [4.0]]
[[population]]
name = "p"
size = 40
model = "poisson_source"
params = { rate_hz = 30.0 }
[[population]]
name = "n"
size = 10
model = "lif"
[[projection]]
pre = "s"
post = "n"
receptor = "ampa"
weight = 400.0
connect = { rule = "all_to_all" }
[[projection]]
pre = "p"
post = "n"
receptor = "ampa"
weight = 150.0
connect = { rule = "fixed_probability", p = 0.3 }
[[stimulus]]
kind = "dc_current"
target = "n"
amplitude_pa = 100.0
[record]
voltage = [{ population = "n", neurons = [0, 1] }]
"#);
    let gpu = crate::common::gpu();
    let mut cases = vec![(None, Precision::F64), (None, Precision::F32)];
    if let Some(ctx) = &gpu {
        cases.push((
            Some(galvani::backend::gpu::GpuContext::clone(ctx)),
            Precision::F32,
        ));
    }
    for (ctx, precision) in cases {
        let mut a = Simulation::new(base.clone(), ctx.clone(), precision).unwrap();
        a.run_steps(300, &mut Unmonitored).unwrap();
        a.set_spike_times("s", vec![vec![35.0, 45.0], vec![40.0], vec![]])
            .unwrap();
        a.set("p", "rate_hz", &[200.0]).unwrap();
        a.set("p", "start_ms", &[35.0]).unwrap();
        a.set("p", "duration_ms", &[40.0]).unwrap();
        a.set_current(0, &[32.0, 50.0, 60.0], &[250.0, -50.0, 150.0])
            .unwrap();
        a.run_steps(50, &mut Unmonitored).unwrap();
        let ck = a.checkpoint().unwrap();
        let before = a.records().clone();
        a.run_steps(500, &mut Unmonitored).unwrap();
        let tail = |c: &galvani::sim::Collect, from: usize, vfrom: usize| {
            (c.spikes[from..].to_vec(), c.voltages[vfrom..].to_vec())
        };
        let want = tail(a.records(), before.spikes.len(), before.voltages.len());
        assert!(
            want.0.len() > 100,
            "the check needs spikes after the checkpoint"
        );
        let mut b = Simulation::new(base.clone(), ctx.clone(), precision).unwrap();
        b.restore(&ck).unwrap();
        assert_eq!(b.spike_times("s").unwrap()[0], vec![35.0, 45.0]);
        assert_eq!(b.get("p", "duration_ms").unwrap()[0], 40.0);
        b.run_steps(500, &mut Unmonitored).unwrap();
        let got = tail(b.records(), 0, 0);
        assert_eq!(got.0, want.0, "{precision:?} gpu={}: spikes", ctx.is_some());
        let bits = |v: &Vec<(Option<u64>, usize, f64)>| -> Vec<_> {
            v.iter().map(|x| (x.0, x.1, x.2.to_bits())).collect()
        };
        assert_eq!(bits(&got.1), bits(&want.1), "{precision:?}: voltages");
        // the untouched network would differ: the inputs really came from the checkpoint
        let mut c = Simulation::new(base.clone(), ctx.clone(), precision).unwrap();
        c.run_steps(850, &mut Unmonitored).unwrap();
        assert_ne!(
            c.records().spikes[before.spikes.len().min(c.records().spikes.len())..],
            want.0[..]
        );
    }
}
