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

/// One test at a time on the GPU in this process. Once, lavapipe (the CI's device)
/// crashed a test thread running CUBA on it (SIGSEGV with the instruction pointer at
/// the fault address: JIT code that had been freed) while another test drove its own
/// device beside it. Whether the second device caused it is not known; taking turns
/// rules it out and costs little, since lavapipe spreads each dispatch over both cores.
static GPU_TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

thread_local! {
    /// How many [`Gpu`] values this thread holds (a test may open a second device while
    /// it holds the turn).
    static HELD: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// A GPU context and this test's turn on the GPU (released when it is dropped, after
/// the context). Dereferences to the [`GpuContext`].
pub struct Gpu {
    ctx: GpuContext,
    _turn: Option<std::sync::MutexGuard<'static, ()>>,
}

impl std::ops::Deref for Gpu {
    type Target = GpuContext;
    fn deref(&self) -> &GpuContext {
        &self.ctx
    }
}

impl Drop for Gpu {
    fn drop(&mut self) {
        HELD.with(|h| h.set(h.get() - 1));
    }
}

/// The device the tests share: one per process, so that every backend built on it
/// reuses its compiled kernels ([`GpuContext::kernel`]). Tests that need other limits
/// open their own.
///
/// In this (debug) test process Mesa's lavapipe (LLVM 15, the CI's device) leaves about
/// 2.4 memory mappings behind per step run (executable JIT sections: 2 429 for 1 000
/// steps of CUBA), and a process may hold 65 530 (vm.max_map_count): past that LLVM
/// aborts ("Unable to allocate section memory") or a thread jumps into unmapped code
/// (SIGSEGV). A release `galvani run` does not grow (CUBA on lavapipe: about 3 800
/// mappings from the first second to 33 000 steps). The test process runs every GPU
/// test, so GPU tests keep their runs short (a few hundred ms of simulated time each).
static SHARED: std::sync::OnceLock<Result<GpuContext, String>> = std::sync::OnceLock::new();

/// The GPU, or `None` with a visible message when there is none (a failure instead
/// when GALVANI_REQUIRE_GPU=1). Holding it holds this process's turn on the GPU.
pub fn gpu() -> Option<Gpu> {
    let turn =
        (HELD.with(|h| h.get()) == 0).then(|| GPU_TURN.lock().unwrap_or_else(|e| e.into_inner()));
    match SHARED.get_or_init(|| GpuContext::new().map_err(|e| e.to_string())) {
        Ok(ctx) => {
            // what an earlier test left unreported is not this test's error
            let _ = ctx.take_error();
            HELD.with(|h| h.set(h.get() + 1));
            Some(Gpu {
                ctx: ctx.clone(),
                _turn: turn,
            })
        }
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
