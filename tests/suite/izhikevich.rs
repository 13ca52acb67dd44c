//! `model = "izhikevich"` (NEST `izhikevich`, consistent integration), the first point
//! model: NEST 3.10's V and u in f64 bit for bit (single neurons in the four regimes of
//! Izhikevich 2003, driven by I_e and spike generators) and its spikes (those neurons over
//! 1 s, and a recurrent network of 300 neurons with 15 000 multapses and per-synapse
//! delays), on 1 and 2 threads; GPU f32 = CPU f32 bit for bit; checkpoints; probes; bad
//! input. The NEST data and the script that made it: `tests/data/izhikevich_nest/`,
//! `tools/nest_izhikevich_reference.py`.

use std::path::{Path, PathBuf};

use galvani::backend::cpu::CpuBackend;
use galvani::network::Network;
use galvani::real::Precision;
use galvani::sim::{Collect, Spike, drive};

use crate::common::*;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/izhikevich_nest")
        .join(name)
}

fn load(name: &str) -> Network {
    let cfg = galvani::config::load(&data(name)).unwrap();
    Network::build(&cfg, None, None).unwrap()
}

/// The four single neurons (populations rs, fs, ch, ib) and their generators.
pub fn single_net() -> Network {
    load("single.toml")
}

/// A spike file (time_ms,population,neuron; end-of-step stamps) as (step, population,
/// neuron).
fn spikes_file(path: &Path, net: &Network) -> Vec<Spike> {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let mut v: Vec<Spike> = rdr
        .records()
        .map(|r| {
            let r = r.unwrap();
            let t: f64 = r[0].parse().unwrap();
            let pop = net.populations.iter().position(|p| p.name == r[1]).unwrap();
            (
                (t / net.dt_ms).round() as u64 - 1,
                pop as u32,
                r[2].parse().unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The spikes of the model's neurons (not of the generators).
fn neuron_spikes(run: &Collect, net: &Network) -> Vec<Spike> {
    let mut v: Vec<Spike> = run
        .spikes
        .iter()
        .copied()
        .filter(|s| !net.populations[s.1 as usize].name.starts_with('g'))
        .collect();
    v.sort();
    v
}

fn cpu_threads<F: galvani::real::Real>(net: &Network, threads: usize) -> Collect {
    let mut c = Collect::default();
    drive(
        net,
        CpuBackend::<F>::with_threads(net, threads).unwrap(),
        &mut c,
    )
    .unwrap();
    c
}

/// f64: NEST's V and u after every one of the first 2000 steps, to the last bit, and
/// all 274 spikes of 1 s.
#[test]
fn single_neurons_match_nest_v_and_u_bit_for_bit() {
    let net = single_net();
    let run = cpu64(&net);
    let mut rdr = csv::Reader::from_path(data("single_v.csv")).unwrap();
    let mut compared = 0;
    for r in rdr.records() {
        let r = r.unwrap();
        let step = (r[0].parse::<f64>().unwrap() / 0.1).round() as u64 - 1;
        let k: usize = r[1].parse().unwrap();
        for (var, col) in [(0, 2), (1, 3)] {
            let nest: f64 = r[col].parse().unwrap();
            // probes: (v, u) per neuron, in population order
            let ours = run
                .voltages
                .iter()
                .find(|x| x.0 == Some(step) && x.1 == 2 * k + var)
                .unwrap_or_else(|| panic!("no sample of neuron {k} after step {step}"))
                .2;
            assert!(
                ours == nest,
                "neuron {k} ({}), t = {:.1} ms: galvani {ours:?}, NEST {nest:?}",
                ["v", "u"][var],
                (step + 1) as f64 * 0.1
            );
            compared += 1;
        }
    }
    assert_eq!(
        compared,
        2 * 4 * 2000,
        "NEST samples after every step of 200 ms"
    );
    let reference = spikes_file(&data("single_spikes.csv"), &net);
    assert_eq!(reference.len(), 274);
    assert_eq!(neuron_spikes(&run, &net), reference);
    // every regime fires, with its own pattern: FS fastest, IB slowest
    let count = |p: &str| {
        let i = net.populations.iter().position(|q| q.name == p).unwrap() as u32;
        reference.iter().filter(|s| s.1 == i).count()
    };
    assert!(count("fs") > count("ch") && count("ch") > count("ib") && count("ib") > 0);
}

/// f64: a recurrent network (240 RS-like and 60 FS-like neurons with per-neuron
/// parameters, 15 000 multapses with their own delays, weights on a 2^-20 mV grid, I_e
/// per neuron): NEST's 6050 spikes, every one, on 1 and 2 threads.
#[test]
fn recurrent_network_matches_nest_spike_for_spike() {
    let net = load("network.toml");
    assert_eq!(net.synapses.len(), 15_000);
    let reference = spikes_file(&data("network_spikes.csv"), &net);
    assert_eq!(reference.len(), 6050);
    for threads in [1, 2] {
        let run = cpu_threads::<f64>(&net, threads);
        let mut ours = run.spikes.clone();
        ours.sort();
        assert_eq!(ours.len(), reference.len(), "{threads} threads");
        assert!(ours == reference, "{threads} threads: spikes differ");
    }
}

/// f32: the same spikes and voltages on any thread count, and the GPU's equal to the
/// CPU's bit for bit (only +, −, × and comparisons, constants from the host).
#[test]
fn f32_is_thread_independent_and_the_gpu_reproduces_it() {
    let net = single_net();
    let one = cpu_threads::<f32>(&net, 1);
    let two = cpu_threads::<f32>(&net, 2);
    assert_eq!(one.spikes, two.spikes);
    assert_eq!(one.voltages, two.voltages);
    let mut short = load("network.toml");
    short.steps = 400;
    let (a, b) = (cpu_threads::<f32>(&short, 1), cpu_threads::<f32>(&short, 2));
    assert!(!a.spikes.is_empty());
    assert_eq!(a.spikes, b.spikes);
    let Some(ctx) = gpu() else { return };
    // 60 ms of the single neurons, 40 ms of the network (steps cost lavapipe memory
    // mappings; see common::SHARED)
    let mut single = single_net();
    single.steps = 600;
    for (what, net) in [("single", single), ("network", short)] {
        let (cpu, gpu) = (cpu32(&net), gpu32(&ctx, &net));
        assert!(!cpu.spikes.is_empty(), "{what}: spikes");
        assert_eq!(cpu.spikes, gpu.spikes, "{what}: spikes");
        assert_eq!(cpu.voltages, gpu.voltages, "{what}: voltages");
    }
}

/// Checkpoints hold V and u (section `point.state`) and the delay ring: a run saved at
/// step 1234 (spikes in flight) continues bit for bit on every backend.
#[test]
fn izhikevich_checkpoint_continues_bit_for_bit_on_every_backend() {
    crate::checkpoint::split_equals_whole(&single_net, None, Precision::F32, 1234);
    crate::checkpoint::split_equals_whole(&single_net, None, Precision::F64, 1234);
    if let Some(ctx) = gpu() {
        let short = || {
            let mut n = single_net();
            n.steps = 500;
            n
        };
        crate::checkpoint::split_equals_whole(&short, Some(&ctx), Precision::F32, 123);
    }
}

const ONE: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 50.0
[[population]]
name = "n"
size = 3
model = "izhikevich"
[population.params]
a = [0.02, 0.1, 0.02]
d = 2.0
i_e_pa = 10.0
PARAMS
[population.init]
v_mv = -70.0
u = -14.0
[record]
voltage = [{ population = "n", neurons = [1] }, { population = "n", neurons = [1], variable = "u" }]
"#;

/// The u probe is the state's u: one Euler step by hand from (V, u) = (−70, −14).
#[test]
fn probes_sample_v_and_u() {
    let net = net(&ONE.replace("PARAMS", ""));
    let run = cpu64(&net);
    let (v, u) = (trace(&run, &net, 0), trace(&run, &net, 1));
    assert_eq!((v[0].1, u[0].1), (-70.0, -14.0), "t = 0");
    let dv = 0.04 * -70.0 * -70.0 + 5.0 * -70.0 + 140.0 - -14.0 + 0.0 + 10.0;
    assert_eq!(v[1].1, -70.0 + (0.1 * dv + 0.0));
    assert_eq!(u[1].1, -14.0 + 0.1 * 0.1 * (0.2 * -70.0 - -14.0));
}

/// Bad input names the key and what was expected.
#[test]
fn bad_izhikevich_input_is_refused_with_the_key() {
    let err = |extra: &str| {
        let text = ONE.replace("PARAMS", extra);
        match galvani::config::parse(&text, Path::new("t.toml")) {
            Err(e) => e.to_string(),
            Ok(c) => Network::build(&c, None, None)
                .map(|_| String::new())
                .unwrap_or_else(|e| e.to_string()),
        }
    };
    let e = err("tau_m_ms = 10.0");
    assert!(
        e.contains("tau_m_ms") && e.contains("a, b, c_mv, d, v_th_mv, v_min_mv, i_e_pa"),
        "{e}"
    );
    let e = err("c_mv = 40.0");
    assert!(
        e.contains("params.c_mv") && e.contains("below v_th_mv"),
        "{e}"
    );
    let e = err("v_min_mv = 35.0");
    assert!(e.contains("params.v_min_mv"), "{e}");
    let e = err("b = nan");
    assert!(e.contains("params.b"), "{e}");
    let text = ONE.replace("PARAMS", "").replace(
        "model = \"izhikevich\"",
        "model = \"izhikevich\"\nsynapse = \"exp_current\"",
    );
    let e = galvani::config::parse(&text, Path::new("t.toml"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("synapse") && e.contains("delta synapses"), "{e}");
    let text = ONE
        .replace("PARAMS", "")
        .replace("variable = \"u\"", "variable = \"w\"");
    let e = galvani::config::parse(&text, Path::new("t.toml"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("\"v_mv\" or \"u\""), "{e}");
}
