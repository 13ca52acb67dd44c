//! The `checkpoint_load` target. An input is a checkpoint file; its last four bytes
//! are replaced by the CRC-32 of the rest, so that mutations reach the checks behind
//! the checksum (a crafted file has a valid one). It is parsed, restored into a fresh
//! simulation of a small mixed network ([`NET_TOML`]: delta, exp-current and
//! exp-conductance LIF neurons, spike and Poisson sources, Poisson drive, a step
//! current and a pulse, multapses with their own delays, voltage and synaptic probes)
//! in the precision its metadata names, and, when accepted, run on for 1 ms.
//!
//! What must hold, and is asserted: no panic; a refused checkpoint leaves the
//! simulation exactly as it was (its own checkpoint is byte-identical before and
//! after).

use std::path::Path;
use std::sync::OnceLock;

use crate::checkpoint::Checkpoint;
use crate::config;
use crate::network::Network;
use crate::output::IsiStats;
use crate::real::Precision;
use crate::sim::Unmonitored;
use crate::simulation::Simulation;

/// The network every input is loaded into.
pub const NET_TOML: &str = r#"
[simulation]
dt_ms = 0.1
duration_ms = 20.0
seed = 5
threads = 1

[[population]]
name = "exc"
size = 12
model = "lif"
synapse = "delta"
[population.params]
tau_m_ms = 20.0
c_m_pf = 1.0
e_l_mv = 0.0
v_th_mv = 20.0
v_reset_mv = 0.0
t_ref_ms = 2.0
[population.init]
v_mv = { uniform = [0.0, 20.0] }

[[population]]
name = "cur"
size = 6
model = "lif"
synapse = "exp_current"
[population.params]
e_l_mv = -65.0
v_th_mv = -50.0
v_reset_mv = -65.0

[[population]]
name = "cond"
size = 4
model = "lif"
synapse = "exp_conductance"
[population.params]
e_l_mv = -65.0
v_th_mv = -50.0
v_reset_mv = -65.0

[[population]]
name = "noise"
size = 5
model = "poisson_source"
params = { rate_hz = 200.0, start_ms = 1.0, duration_ms = 50.0 }

[[population]]
name = "stim"
size = 2
model = "spike_source"
spike_times = [[0.5, 1.5, 3.0], [2.0]]

[[projection]]
pre = "exc"
post = "exc"
receptor = "ampa"
weight = 1.5
delay_ms = { uniform = [0.5, 2.0] }
connect = { rule = "fixed_indegree", k = 6, multapses = true }

[[projection]]
pre = "noise"
post = "cur"
receptor = "ampa"
weight = 300.0
delay_ms = 1.0
connect = { rule = "fixed_indegree", k = 3 }

[[projection]]
pre = "stim"
post = "cond"
receptor = "gaba_a"
weight = 2.0
delay_ms = 0.3
connect = { rule = "all_to_all" }

[[projection]]
pre = "exc"
post = "cond"
receptor = "ampa"
weight = 1.0
delay_ms = 0.7
connect = { rule = "fixed_indegree", k = 2 }

[[stimulus]]
kind = "poisson"
target = "exc"
rate_hz = 8000.0
weight = 0.2
receptor = "ampa"
delay_ms = 0.5

[[stimulus]]
kind = "step_current"
target = "cur"
times_ms = [0.5, 2.0, 4.0]
amplitudes_pa = [300.0, -100.0, 50.0]

[[stimulus]]
kind = "current_pulse"
target = "cond"
start_ms = 1.0
stop_ms = 3.0
amplitude_pa = 200.0

[record]
voltage = [
  { population = "exc", neurons = [0, 1] },
  { population = "cur", neurons = [2], variable = "syn_ampa", every_steps = 3 },
]
"#;

/// The network of [`NET_TOML`], built once per process.
fn network() -> &'static Network {
    static NETWORK: OnceLock<Network> = OnceLock::new();
    NETWORK.get_or_init(|| {
        let cfg = config::parse(NET_TOML, Path::new("checkpoint_load.toml"))
            .expect("the harness network parses");
        Network::build(&cfg, None, None).expect("the harness network builds")
    })
}

/// Genuine checkpoints of [`NET_TOML`] (f32, f64), the seeds of the corpus: taken after
/// 3 ms with a parameter, the spike times, a Poisson rate and the step current changed,
/// so that every section holds something the loader must take.
pub fn genuine_checkpoints() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    for (name, precision) in [("seed_f32", Precision::F32), ("seed_f64", Precision::F64)] {
        let mut sim =
            Simulation::new(network().clone(), None, precision).expect("the harness simulation");
        sim.run_steps(20, &mut Unmonitored).expect("runs");
        sim.set("cur", "tau_m_ms", &[15.0]).expect("set");
        sim.set("noise", "rate_hz", &[400.0]).expect("set");
        sim.set_spike_times("stim", vec![vec![2.5, 4.0], vec![]])
            .expect("set");
        sim.set_current(1, &[2.5, 3.5], &[80.0, 0.0]).expect("set");
        sim.run_steps(10, &mut Unmonitored).expect("runs");
        let mut ck = sim.checkpoint().expect("checkpoint");
        IsiStats::new(network().n).save(&mut ck);
        out.push((name, ck.to_bytes()));
    }
    out
}

/// Runs one input (see the module docs). Returns whether the checkpoint was accepted.
pub fn fuzz_checkpoint_load(data: &[u8]) -> bool {
    let mut data = data.to_vec();
    if data.len() >= 4 {
        let at = data.len() - 4;
        let crc = crc32fast::hash(&data[..at]);
        data[at..].copy_from_slice(&crc.to_le_bytes());
    }
    let path = Path::new("fuzz.galvani");
    let Ok(ck) = Checkpoint::from_bytes(&data, path) else {
        return false;
    };
    let precision = match ck
        .meta
        .get("simulation")
        .and_then(|m| m.get("precision"))
        .and_then(|p| p.as_str())
    {
        Some("f64") => Precision::F64,
        _ => Precision::F32,
    };
    let net = network();
    let mut sim = Simulation::new(net.clone(), None, precision).expect("the harness simulation");
    let before = sim.checkpoint().expect("checkpoint").to_bytes();
    if sim.restore(&ck).is_err() {
        let after = sim.checkpoint().expect("checkpoint").to_bytes();
        assert!(
            before == after,
            "a refused checkpoint changed the simulation"
        );
        return false;
    }
    let _ = IsiStats::load(&ck, net.n, sim.step(), net.dt_ms);
    let _ = crate::output::expected_rows(net, sim.step(), sim.spike_counts());
    // errors (a run past the step limit) are fine; a panic is not
    let _ = sim.run_steps(10, &mut Unmonitored);
    true
}
