//! The thread count of the CPU backend: one bound, checked in one place for every face
//! (config key `simulation.threads`, the CLI's `--threads`, Python's `threads=`).

/// The most threads (partitions) the CPU backend runs on.
pub const MAX_THREADS: usize = 1024;

/// Checks a requested thread count: 1 to [`MAX_THREADS`]. The error says what was
/// expected and what was given; callers prefix the key or option it came from.
pub fn check_threads(n: u64) -> Result<usize, String> {
    if (1..=MAX_THREADS as u64).contains(&n) {
        Ok(n as usize)
    } else {
        Err(format!("expected 1 to {MAX_THREADS} threads, got {n}"))
    }
}
