//! Checkpoint files (checksum made valid) restored into a small mixed network and run
//! on. The body lives in `galvani::fuzz_harness` so that the test suite replays the
//! corpus on stable.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    galvani::fuzz_harness::fuzz_checkpoint_load(data);
});
