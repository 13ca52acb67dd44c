//! Host memory of this process, as the kernel counts it (Linux `/proc/self/status`):
//! the resident set now and its peak, for summaries and benchmarks, and the memory
//! available to the estimate of a network's cost. `None` elsewhere.

/// Reads one `Key:   N kB` line of a `/proc` file, in bytes.
fn proc_kb(file: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(file).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    let kb: u64 = line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Resident set size now (bytes).
pub fn rss_bytes() -> Option<u64> {
    proc_kb("/proc/self/status", "VmRSS:")
}

/// Peak resident set size of the process so far (bytes).
pub fn peak_rss_bytes() -> Option<u64> {
    proc_kb("/proc/self/status", "VmHWM:")
}

/// Memory available to new allocations (bytes): `MemAvailable` of `/proc/meminfo`.
pub fn available_bytes() -> Option<u64> {
    proc_kb("/proc/meminfo", "MemAvailable:")
}

/// Bytes as MB (10^6), rounded to 0.1.
pub fn mb(bytes: u64) -> f64 {
    (bytes as f64 / 1e5).round() / 10.0
}
