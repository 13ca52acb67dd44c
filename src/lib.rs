//! galvani: spiking neural networks on any GPU (wgpu) with a CPU reference backend.
//!
//! Pipeline: [`config`] (TOML) → [`network::Network`] (arrays, synapses) → a
//! [`backend::Backend`] driven by [`sim::run`] through the shared schedule → a
//! [`sim::Sink`] ([`output::CsvSink`] for files, [`sim::Collect`] in memory) → [`plot`]
//! (pictures drawn from the files).
#![warn(missing_docs)]

pub mod app;
pub mod backend;
pub mod config;
pub mod connectivity;
pub mod error;
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

pub use error::{Error, Result};
