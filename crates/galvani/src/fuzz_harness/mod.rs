//! The bodies of the fuzz targets (`fuzz/`), here so that `cargo test` (tests/suite's
//! `fuzz_corpus`, stable) replays the committed corpora through exactly the code the
//! fuzzer ran.
//!
//! - `config_build` ([`fuzz_config_build`]): config text and CSVs through the parser and
//!   the network builder.
//! - `checkpoint_load` ([`fuzz_checkpoint_load`]): checkpoint files, checksum made
//!   valid, restored into a small mixed network and run on.

mod checkpoint_load;
mod config_build;

pub use checkpoint_load::{NET_TOML, fuzz_checkpoint_load, genuine_checkpoints};
pub use config_build::{MAX_DELAY_STEPS, MAX_NEURONS, MAX_STEPS, MAX_SYNAPSES, fuzz_config_build};
