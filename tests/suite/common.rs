//! Shared test helpers: configs from strings, and one test body run on every backend.

use std::path::Path;

use galvani::backend::cpu::CpuBackend;
use galvani::backend::gpu::{GpuBackend, GpuContext};
use galvani::config::{self, Config};
use galvani::network::Network;
use galvani::sim::Collect;
use galvani::sim::drive;

/// Parses a config written inline (paths resolve against `tests/data`).
pub fn cfg(text: &str) -> Config {
    config::parse(
        text,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/inline.toml"),
    )
    .expect("test config is valid")
}

/// Builds a network from inline config text.
pub fn net(text: &str) -> Network {
    Network::build(&cfg(text), None, None).expect("network builds")
}

/// Whether GPU tests must run (CI sets GALVANI_REQUIRE_GPU=1).
pub fn gpu_required() -> bool {
    std::env::var("GALVANI_REQUIRE_GPU")
        .map(|v| v == "1")
        .unwrap_or(false)
}

/// The GPU, or `None` with a visible message when there is none (a failure instead
/// when GALVANI_REQUIRE_GPU=1).
pub fn gpu() -> Option<GpuContext> {
    match GpuContext::new() {
        Ok(c) => Some(c),
        Err(e) => {
            assert!(
                !gpu_required(),
                "GALVANI_REQUIRE_GPU=1 but no GPU adapter: {e}"
            );
            eprintln!("skipping GPU part: no GPU adapter ({e})");
            None
        }
    }
}

/// CPU f32 run.
pub fn cpu32(net: &Network) -> Collect {
    let mut c = Collect::default();
    drive(net, CpuBackend::<f32>::new(net).unwrap(), &mut c).unwrap();
    c
}

/// CPU f64 run.
pub fn cpu64(net: &Network) -> Collect {
    let mut c = Collect::default();
    drive(net, CpuBackend::<f64>::new(net).unwrap(), &mut c).unwrap();
    c
}

/// GPU f32 run.
pub fn gpu32(ctx: &GpuContext, net: &Network) -> Collect {
    let mut c = Collect::default();
    drive(net, GpuBackend::new(ctx, net).unwrap(), &mut c).unwrap();
    c
}

/// Runs on every backend available: ("cpu-f32", ..), ("cpu-f64", ..), ("gpu-f32", ..).
pub fn every_backend(net: &Network) -> Vec<(&'static str, Collect)> {
    let mut v = vec![("cpu-f32", cpu32(net)), ("cpu-f64", cpu64(net))];
    if let Some(ctx) = gpu() {
        v.push(("gpu-f32", gpu32(&ctx, net)));
    }
    v
}

/// Unit roundoff of a backend's precision.
pub fn eps(name: &str) -> f64 {
    if name.ends_with("f64") {
        f64::EPSILON
    } else {
        f32::EPSILON as f64
    }
}

/// Voltage trace of probe `k`: (time ms, mV), t = 0 first.
pub fn trace(c: &Collect, net: &Network, k: usize) -> Vec<(f64, f64)> {
    c.voltages
        .iter()
        .filter(|v| v.1 == k)
        .map(|v| (v.0.map(|s| (s + 1) as f64 * net.dt_ms).unwrap_or(0.0), v.2))
        .collect()
}
