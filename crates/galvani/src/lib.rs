//! galvani: spiking neural networks on any GPU (wgpu) with a CPU reference backend.
//!
//! This is the core library: everything a simulation does lives here, and the faces
//! (the `galvani` command-line tool, the Python package, the PyNN backend) only convert
//! values. It has no command-line, plotting or progress-bar dependencies.
//!
//! Layers, each a folder whose module doc says what it owns:
//! - [`api`]: [`Simulation`], the checkpointed run and resume ([`api::run`]), compare's
//!   typed verdicts ([`api::compare`]), f–I sweeps, stop signals.
//! - [`build`]: config schema and validation, the [`network::Network`] it builds,
//!   connectivity, sources, estimates.
//! - [`model`]: one folder per neuron model (spec, parameter table, CPU step, WGSL),
//!   behind the [`model::NeuronModel`] trait.
//! - [`engine`]: the schedule ([`sim`]), the [`backend::Backend`] trait and its CPU and
//!   GPU implementations, precision and counter-based random numbers.
//! - [`io`]: checkpoints, CSV sinks and the summary of a run directory.
//! - [`analysis`]: statistics and agreement measures.
//!
//! The flat paths (`galvani::config`, `galvani::backend`, ...) are kept as re-exports.
#![warn(missing_docs)]

pub mod analysis;
pub mod api;
pub mod build;
pub mod engine;
pub mod error;
pub mod fuzz_harness;
pub mod io;
pub mod model;

pub use analysis::stats;
pub use api::{compare, fi, run, simulation, stop};
pub use build::{config, connectivity, estimate, mem, network, source};
pub use engine::{backend, real, rng, sim};
pub use io::{checkpoint, output};

pub use error::{Error, Result};
pub use simulation::Simulation;
