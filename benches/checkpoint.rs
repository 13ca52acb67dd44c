//! What a checkpoint costs: save and load time and file size for Brunel 12 500
//! (configs/brunel.toml) after 100 ms, CPU f32, one thread. Best of 7 each, in one
//! process; one JSON line. `cargo bench --bench checkpoint`.
//!
//! The file is in the page cache, so this times encoding, the checks a load makes and
//! the copy, not the disk (a save's fsync excepted).

use std::time::Instant;

use galvani::Simulation;
use galvani::config;
use galvani::network::Network;
use galvani::real::Precision;
use galvani::sim::Unmonitored;

fn main() {
    let cfg = config::load(concat!(env!("CARGO_MANIFEST_DIR"), "/configs/brunel.toml").as_ref())
        .expect("configs/brunel.toml");
    let mut net = Network::build(&cfg, Some(100.0), None).expect("builds");
    net.threads = Some(1);
    let mut sim = Simulation::new(net, None, Precision::F32).expect("simulation");
    sim.run_steps(1000, &mut Unmonitored).expect("runs");
    let dir = std::env::temp_dir().join(format!("galvani-ck-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("ck.galvani");
    let best = |f: &mut dyn FnMut()| {
        (0..7)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1e3
            })
            .fold(f64::INFINITY, f64::min)
    };
    let save_ms = best(&mut || sim.save(&path).expect("save"));
    let bytes = std::fs::metadata(&path).expect("written").len();
    let load_ms = best(&mut || sim.load(&path).expect("load"));
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{{\"network\":\"brunel 12500, 100 ms, cpu f32\",\"bytes\":{bytes},\"save_ms\":{save_ms:.2},\"load_ms\":{load_ms:.2}}}"
    );
}
