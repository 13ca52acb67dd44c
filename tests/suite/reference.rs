//! The CUBA network of ../shared/reference/cuba4000 (vendored in tests/data/cuba4000):
//! NEST 3.10 and Brian2 2.11 produce the same 23 430 spikes in 1 s. The CPU backend in
//! f64 must reproduce every one of them; f32 runs agree for a prefix (the network is
//! chaotic: a one-ulp difference eventually changes a threshold crossing).

use crate::common::*;

use galvani::network::Network;

/// A NEST/Brian2 spike file in galvani's format (time_ms,population,neuron; end-of-step
/// stamps) as (step, population index, neuron), population names looked up in `net`.
fn spikes_file(path: &str, net: &Network) -> Vec<(u64, u32, u32)> {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let t: f64 = r[0].parse().unwrap();
            let step = (t / net.dt_ms).round() as u64 - 1; // stamped at the end of the step
            let pop = net.populations.iter().position(|p| p.name == r[1]).unwrap();
            (step, pop as u32, r[2].parse().unwrap())
        })
        .collect()
}

fn reference_spikes() -> Vec<(u64, u32, u32)> {
    spikes_file(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/cuba4000/spikes_reference.csv"
        ),
        &reference_net(0.0),
    )
}

fn reference_net(ms: f64) -> Network {
    let cfg = galvani::config::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/cuba4000/cuba_reference.toml"
    )))
    .unwrap();
    Network::build(&cfg, Some(ms), None).unwrap()
}

fn prefix(a: &[(u64, u32, u32)], b: &[(u64, u32, u32)]) -> (usize, f64) {
    let k = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let t = a
        .get(k)
        .or(b.get(k))
        .map(|s| (s.0 + 1) as f64 * 0.1)
        .unwrap_or(f64::INFINITY);
    (k, t)
}

/// Asserts that a run's spikes equal the reference, naming the first difference.
fn assert_same_spikes(run: &[(u64, u32, u32)], reference: &[(u64, u32, u32)]) {
    let (k, t) = prefix(run, reference);
    assert_eq!(
        k,
        reference.len(),
        "first difference at spike {k}, t = {t} ms"
    );
    assert_eq!(run.len(), reference.len());
}

#[test]
fn cpu_f64_reproduces_nest_and_brian2_spike_for_spike() {
    let net = reference_net(1000.0);
    assert_eq!(net.synapses.len(), 319_960);
    let reference = reference_spikes();
    assert_eq!(reference.len(), 23_430);
    let run = cpu64(&net);
    assert_same_spikes(&run.spikes, &reference);
}

/// f32 cannot be exact for the whole second; report how long it is, and require the
/// statistics to match (rates within 2 %) and exactness for the first 10 ms.
#[test]
fn f32_runs_agree_for_a_prefix_and_in_rate() {
    let net = reference_net(1000.0);
    let reference = reference_spikes();
    let mut runs = vec![("cpu-f32", cpu32(&net))];
    if let Some(ctx) = gpu() {
        runs.push(("gpu-f32", gpu32(&ctx, &net)));
    }
    for (name, run) in runs {
        let (k, t) = prefix(&run.spikes, &reference);
        eprintln!(
            "{name}: identical to NEST/Brian2 for {k} spikes, first difference at {t} ms; {} spikes in total (reference 23430)",
            run.spikes.len()
        );
        assert!(t >= 10.0, "{name}: diverges already at {t} ms");
        let rel = (run.spikes.len() as f64 - 23430.0).abs() / 23430.0;
        assert!(rel < 0.02, "{name}: {} spikes vs 23430", run.spikes.len());
    }
}

/// Brunel model A (delta synapses, fixed in-degree with multapses, delay 1.5 ms) at
/// N = 2500 with the Poisson drive replaced by its mean, on the network and initial
/// voltages of ../shared/peers: the CPU backend in f64 reproduces NEST 3.10's 26 258
/// spikes of the first 200 ms exactly.
#[test]
fn cpu_f64_reproduces_nest_brunel_dc_spike_for_spike() {
    let cfg = galvani::config::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/brunel2500/brunel2500_dc.toml"
    )))
    .unwrap();
    let net = Network::build(&cfg, None, None).unwrap();
    assert_eq!(net.synapses.drawn, 625_000);
    let reference = spikes_file(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/brunel2500/spikes_reference.csv"
        ),
        &net,
    );
    assert_eq!(reference.len(), 26_258);
    let run = cpu64(&net);
    assert_same_spikes(&run.spikes, &reference);
}

/// Synapses and NEST spikes of tests/data/pd14_nest (500 ms).
const PD14_SYNAPSES: usize = 373_608;
const PD14_SPIKES: usize = 1_111;

fn pd14_net() -> Network {
    let cfg = galvani::config::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/pd14_nest/pd14_nest.toml"
    )))
    .unwrap();
    Network::build(&cfg, None, None).unwrap()
}

/// The PD14 microcircuit as NEST 3.10 builds it (fixed_total_number with multapses,
/// normal weights and delays redrawn to keep their sign / stay >= dt/2, DC drive), at
/// 0.5 % of the neurons and 25 % of the in-degrees, exported synapse by synapse by
/// `tools/pd14.py nest-export` (weights on a 2^-4 pA grid, so that every sum is exact in
/// any order): the CPU backend in f64 reproduces NEST's spike train exactly, multapses
/// with their own delays included.
#[test]
fn cpu_f64_reproduces_nest_pd14_spike_for_spike() {
    let net = pd14_net();
    let reference = spikes_file(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/pd14_nest/spikes_reference.csv"
        ),
        &net,
    );
    assert_eq!(
        net.synapses.len(),
        PD14_SYNAPSES,
        "every exported synapse is kept"
    );
    assert_eq!(reference.len(), PD14_SPIKES);
    let run = cpu64(&net);
    assert_same_spikes(&run.spikes, &reference);
}

/// On the same network the GPU (f32, i32 fixed-point input) and the CPU in f32 compute
/// the same arithmetic, so their spike trains are identical.
#[test]
fn gpu_f32_equals_cpu_f32_on_nest_pd14() {
    let net = pd14_net();
    let Some(ctx) = gpu() else { return };
    let (a, b) = (cpu32(&net), gpu32(&ctx, &net));
    assert!(
        a.spikes.len() > 1000,
        "the network is active: {}",
        a.spikes.len()
    );
    assert_same_spikes(&b.spikes, &a.spikes);
}
