//! galvani: spiking neural networks on any GPU (wgpu) with a CPU reference backend.
//!
//! The API: [`Simulation`] (build from a config, run in pieces, read records, reset, get
//! and set neurons), shared by the CLI ([`app`]) and the Python package
//! (`crates/galvani-py`).
//!
//! Pipeline: [`config`] (TOML) → [`network::Network`] (arrays, synapses) → a
//! [`backend::Backend`] driven by [`sim::run_from`] through the shared schedule → a
//! [`sim::Sink`] ([`output::CsvSink`] for files, [`sim::Collect`] in memory) → [`plot`]
//! (pictures drawn from the files).
#![warn(missing_docs)]

pub mod app;
pub mod backend;
pub mod checkpoint;
pub mod config;
pub mod connectivity;
pub mod error;
pub mod estimate;
pub mod fuzz_harness;
pub mod mem;
pub mod model;
pub mod network;
pub mod output;
pub mod plot;
pub mod progress;
pub mod real;
pub mod rng;
pub mod sim;
pub mod simulation;
pub mod source;
pub mod stats;
pub mod suite;

pub use error::{Error, Result};
pub use simulation::Simulation;
