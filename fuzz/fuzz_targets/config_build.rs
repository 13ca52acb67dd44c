//! TOML config text (and edge / column CSVs after NUL separators) through
//! `config::parse` and, when small, `Network::build`. The body lives in
//! `galvani::fuzz_harness` so that tests/fuzz_corpus.rs replays the corpus on stable.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    galvani::fuzz_harness::fuzz_config_build(data);
});
