//! The CPU backend on 1, 2 and 3 threads: the same spikes, spike times and voltages,
//! bit for bit, in f32 and f64, for LIF (delta, current and conductance synapses, with
//! Poisson drive, current pulses and drawn delays) and for HV networks.

use galvani::backend::Backend;
use galvani::backend::cpu::{CpuBackend, partition};
use galvani::network::Network;
use galvani::real::Real;
use galvani::sim::Collect;
use galvani::sim::drive;

fn run<F: Real>(net: &Network, threads: usize) -> Collect {
    let b = CpuBackend::<F>::with_threads(net, threads).unwrap();
    assert_eq!(b.threads(), threads, "a partition per thread");
    assert_eq!(b.info().threads, Some(threads));
    let mut c = Collect::default();
    drive(net, b, &mut c).unwrap();
    c
}

/// Spikes, their times and every voltage sample, as bits.
type Bits = (
    Vec<(u64, u32, u32)>,
    Vec<u64>,
    Vec<(Option<u64>, usize, u64)>,
);

fn bits(c: &Collect) -> Bits {
    (
        c.spikes.clone(),
        c.times_ms.iter().map(|t| t.to_bits()).collect(),
        c.voltages
            .iter()
            .map(|v| (v.0, v.1, v.2.to_bits()))
            .collect(),
    )
}

/// Runs `net` on 1, 2 and 3 threads in both precisions and requires identical records;
/// returns the spike counts (f32, f64) so callers can check the network did something.
fn same_for_any_threads(net: &Network) -> (usize, usize) {
    let one32 = run::<f32>(net, 1);
    let one64 = run::<f64>(net, 1);
    for t in [2, 3] {
        assert_eq!(bits(&one32), bits(&run::<f32>(net, t)), "f32, {t} threads");
        assert_eq!(bits(&one64), bits(&run::<f64>(net, t)), "f64, {t} threads");
    }
    assert!(!one32.voltages.is_empty());
    (one32.spikes.len(), one64.spikes.len())
}

fn config(name: &str) -> String {
    std::fs::read_to_string(format!("{}/configs/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn cuba_same_spikes_for_any_thread_count() {
    // CUBA (exp_current) with drawn weights and delays, a Poisson drive and a pulse
    let net = crate::common::net(
        r#"
[simulation]
duration_ms = 150.0
seed = 7
[[population]]
name = "e"
size = 400
model = "lif"
synapse = "exp_current"
[population.params]
e_l_mv = -49.0
v_th_mv = -50.0
v_reset_mv = -60.0
t_ref_ms = 5.0
tau_ampa_ms = 5.0
tau_gaba_a_ms = 10.0
[population.init]
v_mv = { uniform = [-60.0, -50.0] }
[[population]]
name = "i"
size = 100
model = "lif"
synapse = "exp_current"
[population.params]
e_l_mv = -49.0
v_th_mv = -50.0
v_reset_mv = -60.0
t_ref_ms = 5.0
tau_ampa_ms = 5.0
tau_gaba_a_ms = 10.0
[population.init]
v_mv = { uniform = [-60.0, -50.0] }
[[projection]]
pre = "e"
post = "e"
receptor = "ampa"
connect = { rule = "fixed_probability", p = 0.1 }
weight = { normal = [1.62, 0.2], min = 0.0 }
delay_ms = { uniform = [0.5, 3.0] }
[[projection]]
pre = "e"
post = "i"
receptor = "ampa"
connect = { rule = "fixed_indegree", k = 40 }
weight = 1.62
[[projection]]
pre = "i"
post = "e"
receptor = "gaba_a"
connect = { rule = "fixed_probability", p = 0.2 }
weight = -9.0
delay_ms = 0.8
[[projection]]
pre = "i"
post = "i"
receptor = "gaba_a"
connect = { rule = "fixed_probability", p = 0.2 }
weight = -9.0
[[stimulus]]
kind = "poisson"
target = "e"
rate_hz = 8000.0
weight = 1.0
receptor = "ampa"
[[stimulus]]
kind = "poisson"
target = "e"
neurons = [3, 133, 134, 300]
rate_hz = 900.0
weight = -50.0
receptor = "gaba_a"
delay_ms = 1.5
[[stimulus]]
kind = "current_pulse"
target = "i"
neurons = [0, 1, 50, 99]
start_ms = 50.0
stop_ms = 120.0
amplitude_pa = -120.25
[[stimulus]]
kind = "current_pulse"
target = "i"
start_ms = 20.0
stop_ms = 90.0
amplitude_pa = 300.0
[record]
spikes = true
voltage = [{ population = "e", neurons = [0, 133, 134, 399] }, { population = "i", neurons = [0, 99] }]
"#,
    );
    let (s32, s64) = same_for_any_threads(&net);
    assert!(
        s32 > 100 && s64 > 100,
        "the network fires ({s32}, {s64} spikes)"
    );
}

#[test]
fn brunel_and_coba_same_spikes_for_any_thread_count() {
    // the shipped configs, shortened: Brunel (delta synapses, Poisson drive) and COBA
    // (conductance synapses)
    for name in ["brunel.toml", "coba.toml"] {
        let cfg = galvani::config::parse(
            &config(name),
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("configs")
                .join(name),
        )
        .unwrap();
        let mut net = Network::build(&cfg, Some(60.0), None).unwrap();
        // a voltage and a synaptic variable, in the first and the last partition
        let (pop, neuron) = net.locate(net.n - 1);
        net.probes.push(galvani::network::Probe {
            pop: 0,
            neuron: 5,
            global: 5,
            every: 1,
            var: galvani::network::PROBE_V,
            name: "v_mv",
        });
        net.probes.push(galvani::network::Probe {
            pop,
            neuron,
            global: net.n - 1,
            every: 2,
            var: galvani::network::PROBE_SYN_AMPA,
            name: "syn_ampa",
        });
        let (s32, s64) = same_for_any_threads(&net);
        assert!(s32 > 0 && s64 > 0, "{name} fires");
    }
}

#[test]
fn hv_same_spikes_for_any_thread_count() {
    let cfg = galvani::config::parse(
        &config("hv_network.toml")
            .replace("size = 8000", "size = 240")
            .replace("size = 2000", "size = 60"),
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/hv_network.toml"),
    )
    .unwrap();
    let mut net = Network::build(&cfg, Some(30.0), None).unwrap();
    net.probes = (0..net.n)
        .step_by(37)
        .map(|g| {
            let (pop, neuron) = net.locate(g);
            galvani::network::Probe {
                pop,
                neuron,
                global: g,
                every: 7,
                var: galvani::network::PROBE_V,
                name: "v_mv",
            }
        })
        .collect();
    let (s32, s64) = same_for_any_threads(&net);
    assert!(
        s32 > 50 && s64 > 50,
        "the HV network fires ({s32}, {s64} spikes)"
    );
}

#[test]
fn partitions_cover_the_network_and_balance_synapses() {
    let cfg = galvani::config::parse(
        &config("brunel.toml"),
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/brunel.toml"),
    )
    .unwrap();
    let net = Network::build(&cfg, Some(0.0), None).unwrap();
    for t in 1..=5 {
        let parts = partition(&net, t);
        assert_eq!(parts.len(), t);
        assert_eq!(parts[0].start, 0);
        assert_eq!(parts[t - 1].end, net.n);
        for w in parts.windows(2) {
            assert_eq!(w[0].end, w[1].start);
        }
        // fixed in-degree: equal neurons is equal work, within a neuron
        for p in &parts {
            assert!(p.len().abs_diff(net.n / t) <= 1, "{t} threads: {p:?}");
        }
    }
    // never more partitions than neurons
    let tiny = crate::common::net(
        "[simulation]\nduration_ms = 1.0\n[[population]]\nname = \"a\"\nsize = 2\nmodel = \"lif\"\n",
    );
    assert_eq!(partition(&tiny, 8).len(), 2);
    assert_eq!(
        CpuBackend::<f32>::with_threads(&tiny, 8).unwrap().threads(),
        2
    );
}

/// A checkpoint holds the network's global layout, whatever the partition: saved on 2
/// threads, it continues on 3 and on 1 exactly as an uninterrupted 1-thread run.
#[test]
fn checkpoints_move_between_thread_counts() {
    use galvani::real::Precision;
    use galvani::sim::Unmonitored;
    use galvani::simulation::Simulation;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ck.galvani");
    let cfg = galvani::config::parse(
        &config("brunel.toml")
            .replace("size = 10000", "size = 800")
            .replace("size = 2500", "size = 200")
            .replace("k = 1000", "k = 80")
            .replace("k = 250", "k = 20"),
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/brunel.toml"),
    )
    .unwrap();
    for precision in [Precision::F32, Precision::F64] {
        let with = |t: usize| {
            let mut net = Network::build(&cfg, Some(40.0), None).unwrap();
            net.threads = Some(t);
            Simulation::new(net, None, precision).unwrap()
        };
        let mut whole = with(1);
        whole.run_steps(400, &mut Unmonitored).unwrap();
        let tail: Vec<_> = whole
            .records()
            .spikes
            .iter()
            .filter(|s| s.0 >= 173)
            .copied()
            .collect();
        assert!(tail.len() > 50, "the network fires after the checkpoint");
        let mut a = with(2);
        a.run_steps(173, &mut Unmonitored).unwrap();
        a.save(&path).unwrap();
        for t in [3, 1] {
            let mut b = with(t);
            b.load(&path).unwrap();
            b.run_steps(400 - 173, &mut Unmonitored).unwrap();
            assert_eq!(b.info().threads, Some(t));
            assert_eq!(
                b.records().spikes,
                tail,
                "{precision}: saved on 2 threads, resumed on {t}"
            );
        }
    }
}
