//! One simulation step per backend, for CUBA-like networks of 4k, 16k and 64k neurons
//! (p = 80/N, so each neuron keeps about 80 inputs, as in ../shared/peers).
//!
//! Each iteration runs a batch of 100 steps through the shared schedule (the GPU
//! backend submits once per batch and waits for it), and reports time per step.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use galvani::backend::cpu::CpuBackend;
use galvani::backend::gpu::{GpuBackend, GpuContext};
use galvani::backend::{Backend, SCHEDULE};
use galvani::config;
use galvani::network::Network;

const STEPS: u64 = 100;

fn cuba(n: usize) -> Network {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/configs/cuba.toml")).unwrap();
    let p = 80.0 / n as f64;
    let text = text
        .replace("size = 3200", &format!("size = {}", n * 4 / 5))
        .replace("size = 800", &format!("size = {}", n / 5))
        .replace("p = 0.02", &format!("p = {p}"))
        .replace(
            "voltage = [{ population = \"exc\", neurons = [0, 1, 2], every_steps = 1 }]",
            "",
        );
    let cfg = config::parse(&text, std::path::Path::new("configs/cuba.toml")).unwrap();
    Network::build(&cfg, Some(10_000.0), None).unwrap()
}

/// Runs `iters` batches of STEPS steps, continuing from `*step`; returns the time per step.
fn batches<B: Backend>(b: &mut B, step: &mut u64, iters: u64) -> Duration {
    let t0 = Instant::now();
    for _ in 0..iters {
        b.begin_batch(*step, STEPS as u32).unwrap();
        for n in *step..*step + STEPS {
            for s in SCHEDULE {
                b.run_stage(s, n).unwrap();
            }
        }
        b.end_batch().unwrap();
        b.finish().unwrap();
        *step += STEPS;
    }
    t0.elapsed() / STEPS as u32
}

fn bench(c: &mut Criterion) {
    let gpu = GpuContext::new().ok();
    if gpu.is_none() {
        eprintln!("no GPU adapter: benchmarking the CPU backend only");
    }
    let mut g = c.benchmark_group("cuba_step");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_millis(500));
    for n in [4_000usize, 16_000, 64_000] {
        let net = cuba(n);
        let mut step = 0;
        let mut cpu = CpuBackend::<f32>::new(&net).unwrap();
        g.bench_function(format!("cpu-f32/{n}"), |bch| {
            bch.iter_custom(|it| batches(&mut cpu, &mut step, it))
        });
        if let Some(ctx) = &gpu {
            let mut step = 0;
            let mut b = GpuBackend::new(ctx, &net).unwrap();
            g.bench_function(format!("gpu-f32/{n}"), |bch| {
                bch.iter_custom(|it| batches(&mut b, &mut step, it))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
