//! The CUBA network of ../shared/reference/cuba4000 (vendored in tests/data/cuba4000):
//! NEST 3.10 and Brian2 2.11 produce the same 23 430 spikes in 1 s. The CPU backend in
//! f64 must reproduce every one of them; f32 runs agree for a prefix (the network is
//! chaotic: a one-ulp difference eventually changes a threshold crossing).

mod common;
use common::*;

use galvani::network::Network;

fn reference_spikes() -> Vec<(u64, u32, u32)> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/cuba4000/spikes_reference.csv"
    );
    let mut rdr = csv::Reader::from_path(path).unwrap();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            let t: f64 = r[0].parse().unwrap();
            let step = (t / 0.1).round() as u64 - 1; // stamped at the end of the step
            let pop = if &r[1] == "exc" { 0 } else { 1 };
            (step, pop, r[2].parse().unwrap())
        })
        .collect()
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

#[test]
fn cpu_f64_reproduces_nest_and_brian2_spike_for_spike() {
    let net = reference_net(1000.0);
    assert_eq!(net.synapses.len(), 319_960);
    let reference = reference_spikes();
    assert_eq!(reference.len(), 23_430);
    let run = cpu64(&net);
    let (k, t) = prefix(&run.spikes, &reference);
    assert_eq!(
        k,
        reference.len(),
        "first difference at spike {k}, t = {t} ms"
    );
    assert_eq!(run.spikes.len(), reference.len());
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
    let mut rdr = csv::Reader::from_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/brunel2500/spikes_reference.csv"
    ))
    .unwrap();
    let reference: Vec<(u64, u32, u32)> = rdr
        .records()
        .map(|r| {
            let r = r.unwrap();
            let t: f64 = r[0].parse().unwrap();
            (
                (t / 0.1).round() as u64 - 1,
                if &r[1] == "exc" { 0 } else { 1 },
                r[2].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(reference.len(), 26_258);
    let run = cpu64(&net);
    let (k, t) = prefix(&run.spikes, &reference);
    assert_eq!(
        k,
        reference.len(),
        "first difference at spike {k}, t = {t} ms"
    );
    assert_eq!(run.spikes.len(), reference.len());
}
