//! Host memory of this process, as the kernel counts it (Linux `/proc/self/status`):
//! the resident set now and its peak, for summaries and benchmarks. `None` elsewhere.

/// Reads one `Vm…:   N kB` line of `/proc/self/status`, in bytes.
fn status_kb(key: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
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
    status_kb("VmRSS:")
}

/// Peak resident set size of the process so far (bytes).
pub fn peak_rss_bytes() -> Option<u64> {
    status_kb("VmHWM:")
}

/// Bytes as MB (10^6), rounded to 0.1.
pub fn mb(bytes: u64) -> f64 {
    (bytes as f64 / 1e5).round() / 10.0
}
