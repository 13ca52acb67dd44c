//! `galvani bench --suite`: the standard networks on every backend and thread count, in
//! one run, repetitions interleaved, best of each. It needs nothing but the binary: the
//! configs are compiled in, except `configs/pd14.toml` (its networks are generated), which
//! is looked for under the working folder and next to the binary.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::app::BenchArgs;
use galvani::backend::BackendKind;
use galvani::backend::cpu::default_threads;
use galvani::backend::gpu::GpuContext;
use galvani::config::{self, Config};
use galvani::error::{Error, Result};
use galvani::network::Network;
use galvani::real::Precision;
use galvani::sim::{self, Discard};
use galvani::simulation::{Simulation, open_gpu};

const CUBA: &str = include_str!("../configs/cuba.toml");
const COBA: &str = include_str!("../configs/coba.toml");
const BRUNEL: &str = include_str!("../configs/brunel.toml");
const HV: &str = include_str!("../configs/hv_network.toml");
const IZHIKEVICH: &str = include_str!("../configs/izhikevich.toml");

/// A network of the suite: its name, config, and the duration it runs for (ms).
struct Entry {
    name: &'static str,
    cfg: Config,
    duration_ms: f64,
}

fn parse(text: &str, file: &str) -> Result<Config> {
    config::parse(text, &Path::new("configs").join(file))
}

/// CUBA at 64 000 neurons: the same 80 expected inputs per neuron (p = 80 / N), as the
/// peer benchmarks scale it.
fn cuba_64k() -> String {
    CUBA.replace("size = 3200", "size = 51200")
        .replace("size = 800", "size = 12800")
        .replace("p = 0.02", "p = 0.00125")
}

/// CUBA with alpha-shaped currents (`alpha_current`, NEST's `iaf_psc_alpha`): the cost
/// of the alpha kinds' two more state variables per neuron against `cuba-4k`.
fn cuba_alpha() -> String {
    CUBA.replace("synapse = \"exp_current\"", "synapse = \"alpha_current\"")
}

/// COBA with AdEx neurons (`adex`, `exp_conductance`, NEST's `aeif_cond_exp`): the
/// same network and synapses, the membrane parameters as AdEx's (g_L = C_m/τ_m = 10 nS,
/// V_T at COBA's threshold, no adaptation current to change the activity much: a = 0,
/// b = 0): the cost of its RK4 substeps per neuron-step against `coba`.
fn coba_adex() -> String {
    COBA.replace("model = \"lif\"", "model = \"adex\"").replace(
        "tau_m_ms = 20.0\nc_m_pf = 200.0\ne_l_mv = -60.0\nv_th_mv = -50.0\nv_reset_mv = -60.0\nt_ref_ms = 5.0",
        "g_l_ns = 10.0\nc_m_pf = 200.0\ne_l_mv = -60.0\nv_t_mv = -50.0\nv_peak_mv = -40.0\ndelta_t_mv = 2.0\nv_reset_mv = -60.0\nt_ref_ms = 5.0\na_ns = 0.0\nb_pa = 0.0",
    )
}

/// `configs/pd14.toml` under the working folder, else next to the binary (a release
/// build: `target/release/` two levels below the repository).
fn find_pd14() -> Option<PathBuf> {
    let mut places = vec![PathBuf::from("configs/pd14.toml")];
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent()
    {
        places.push(dir.join("configs/pd14.toml"));
        places.push(dir.join("../../configs/pd14.toml"));
    }
    places.into_iter().find(|p| p.is_file())
}

fn entries() -> Result<Vec<Entry>> {
    let mut v = vec![
        Entry {
            name: "cuba-4k",
            cfg: parse(CUBA, "cuba.toml")?,
            duration_ms: 1000.0,
        },
        Entry {
            name: "cuba-4k-alpha",
            cfg: parse(&cuba_alpha(), "cuba_alpha.toml")?,
            duration_ms: 1000.0,
        },
        Entry {
            name: "izhikevich-1k",
            cfg: parse(IZHIKEVICH, "izhikevich.toml")?,
            duration_ms: 1000.0,
        },
        Entry {
            name: "cuba-64k",
            cfg: parse(&cuba_64k(), "cuba_64k.toml")?,
            duration_ms: 1000.0,
        },
        Entry {
            name: "coba",
            cfg: parse(COBA, "coba.toml")?,
            duration_ms: 1000.0,
        },
        Entry {
            name: "coba-adex",
            cfg: parse(&coba_adex(), "coba_adex.toml")?,
            duration_ms: 200.0,
        },
        Entry {
            name: "brunel-12.5k",
            cfg: parse(BRUNEL, "brunel.toml")?,
            duration_ms: 1000.0,
        },
    ];
    if let Some(p) = find_pd14() {
        v.push(Entry {
            name: "pd14",
            cfg: config::load(&p)?,
            duration_ms: 100.0,
        });
    }
    v.push(Entry {
        name: "hv_network",
        cfg: parse(HV, "hv_network.toml")?,
        duration_ms: 200.0,
    });
    Ok(v)
}

/// 1, 2, 4, … below `all`, then `all`.
fn thread_counts(all: usize) -> Vec<usize> {
    let mut v: Vec<usize> = std::iter::successors(Some(1usize), |t| Some(t * 2))
        .take_while(|&t| t < all)
        .collect();
    v.push(all);
    v
}

/// One engine to time: the GPU, or the CPU on some threads.
#[derive(Clone)]
struct Variant {
    gpu: Option<GpuContext>,
    threads: Option<usize>,
}

/// `galvani bench --suite`.
pub fn run(a: &BenchArgs) -> Result<()> {
    let precision = a.precision;
    let gpu = match a.backend {
        BackendKind::Cpu => None,
        kind => open_gpu(kind, precision, false)?,
    };
    let mut variants = Vec::new();
    if a.backend != BackendKind::Gpu {
        let all = a.threads.unwrap_or_else(default_threads);
        for t in thread_counts(all) {
            variants.push(Variant {
                gpu: None,
                threads: Some(t),
            });
        }
    }
    if let Some(g) = &gpu {
        variants.push(Variant {
            gpu: Some(g.clone()),
            threads: None,
        });
    }
    if variants.is_empty() {
        return Err(Error::Usage("bench --suite: no backend to run on".into()));
    }
    let mut rows = Vec::new();
    for e in entries()? {
        let t0 = Instant::now();
        let net = Network::build(&e.cfg, Some(a.duration_ms.unwrap_or(e.duration_ms)), None)?;
        let build_s = t0.elapsed().as_secs_f64();
        let (n, syn, steps, t_ms) = (
            net.n,
            net.synapses.len(),
            net.steps,
            net.steps as f64 * net.dt_ms,
        );
        let mut sim = Simulation::new(net, None, Precision::F32)?;
        let mut best = vec![f64::INFINITY; variants.len()];
        let mut info = vec![None; variants.len()];
        let mut spikes = vec![0u64; variants.len()];
        // interleaved: every variant once per round
        for rep in 1..=a.repeat.max(1) {
            for (k, v) in variants.iter().enumerate() {
                let t1 = Instant::now();
                sim.switch_engine(v.gpu.clone(), precision, v.threads)?;
                let stats = sim.run_steps_into(steps, &mut Discard, &mut sim::Unmonitored)?;
                let setup_s = t1.elapsed().as_secs_f64() - stats.simulate_s;
                let count: u64 = stats.spikes_per_pop.iter().sum();
                println!(
                    "{}",
                    serde_json::json!({
                        "sim": "galvani", "suite": e.name, "backend": stats.info.backend,
                        "device": stats.info.device, "precision": stats.info.precision,
                        "threads": stats.info.threads, "N": n, "synapses": syn, "T_ms": t_ms,
                        "rep": rep, "build_s": build_s, "setup_s": setup_s,
                        "run_s": stats.simulate_s, "steps_per_s": steps as f64 / stats.simulate_s,
                        "spikes": count,
                        "rss_mb": galvani::mem::rss_bytes().map(galvani::mem::mb),
                        "peak_rss_mb": galvani::mem::peak_rss_bytes().map(galvani::mem::mb),
                        "gpu": stats.gpu.map(|c| c.report()),
                    })
                );
                best[k] = best[k].min(stats.simulate_s);
                spikes[k] = count;
                info[k] = Some(stats.info);
            }
        }
        for k in 0..variants.len() {
            let i = info[k].take().expect("ran");
            rows.push((
                e.name,
                n,
                syn,
                t_ms,
                i,
                best[k],
                steps as f64 / best[k],
                spikes[k],
                best[0],
            ));
        }
    }
    println!();
    println!("best of {} (interleaved), {precision}:", a.repeat.max(1));
    println!(
        "{:<13} {:>7} {:>11} {:>7} {:>7} {:>7} {:>10} {:>11} {:>9} {:>8}",
        "network",
        "N",
        "synapses",
        "T (ms)",
        "backend",
        "threads",
        "run (s)",
        "steps/s",
        "spikes",
        "speedup"
    );
    for (name, n, syn, t_ms, i, best, sps, spikes, one) in &rows {
        println!(
            "{:<13} {:>7} {:>11} {:>7} {:>7} {:>7} {:>10.4} {:>11.0} {:>9} {:>8}",
            name,
            n,
            syn,
            t_ms,
            i.backend,
            i.threads
                .map(|t| t.to_string())
                .unwrap_or_else(|| "-".into()),
            best,
            sps,
            spikes,
            format!("{:.2}×", one / best),
        );
    }
    println!(
        "speedup: against the first row of the network (the CPU on 1 thread, or the GPU alone)"
    );
    Ok(())
}
