//! The integration tests: one binary, one module per area, shared helpers in [`common`],
//! fixtures as files under `tests/data/`. GPU parts run where an adapter is found and
//! fail without one when GALVANI_REQUIRE_GPU=1 (CI).

#[allow(dead_code)]
mod common;

mod adex;
mod alpha;
mod analytic;
mod checkpoint;
mod checkpoint_untrusted;
mod cli;
mod connectivity;
mod distributions;
mod fuzz_corpus;
mod gpu;
mod gpu_counters;
mod hh;
mod hv;
mod izhikevich;
mod layout;
mod layouts;
mod limits;
mod models;
mod plots;
mod psp;
mod reference;
mod rng;
mod shaders;
mod simulation;
mod sources;
mod stimulus;
mod threads;
