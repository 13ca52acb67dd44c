//! Impossible requests are refused up front: the five oversized configs of the
//! robustness issue stop with exit 2 and a message naming the key, the estimate and the
//! limit, within seconds, without an allocation abort.

use std::process::Command;
use std::time::{Duration, Instant};

fn config(duration: &str, dt: &str, size: u64, delay: &str, connect: &str) -> String {
    format!(
        r#"[simulation]
duration_ms = {duration}
dt_ms = {dt}
[[population]]
name = "a"
size = {size}
model = "lif"
[[projection]]
pre = "a"
post = "a"
receptor = "ampa"
weight = 1.0
delay_ms = {delay}
connect = {connect}
"#
    )
}

#[test]
fn oversized_networks_stop_with_exit_2_and_a_message_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let indeg = r#"{ rule = "fixed_indegree", k = 10 }"#;
    let cases = [
        (
            config(
                "1000.0",
                "0.1",
                1_100_000,
                "1.0",
                r#"{ rule = "all_to_all" }"#,
            ),
            [
                "projection[0] (a -> a).connect",
                "1.210e12 synapses",
                "2^40 − 1",
            ],
        ),
        (
            config("1000.0", "0.1", 1000, "1e9", indeg),
            [
                "projection[0] (a -> a).delay_ms",
                "1e10 steps",
                "1048576 steps",
            ],
        ),
        (
            config(
                "1000.0",
                "0.1",
                1_000_000,
                "1.0",
                r#"{ rule = "fixed_indegree", k = 10000000 }"#,
            ),
            ["fixed_indegree", "1.000e13 synapses", "2^40 − 1"],
        ),
        (
            config("1e300", "0.1", 100, "1.0", indeg),
            ["simulation.duration_ms", "1e301 steps", "2^32 − 1"],
        ),
        (
            config("1000.0", "1e-300", 100, "1.0", indeg),
            ["dt_ms", "1e303 steps", "2^32 − 1"],
        ),
    ];
    for (k, (text, want)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("big{k}.toml"));
        std::fs::write(&path, text).unwrap();
        let t0 = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_galvani"))
            .args([
                "run",
                path.to_str().unwrap(),
                "--backend",
                "cpu",
                "--quiet",
                "--out",
            ])
            .arg(dir.path().join("out"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "case {k}: {err}");
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "case {k} took {:?}",
            t0.elapsed()
        );
        for w in want {
            assert!(err.contains(w), "case {k}: '{w}' missing in: {err}");
        }
        assert!(
            err.contains(path.to_str().unwrap()),
            "names the file: {err}"
        );
        assert!(!err.contains("memory allocation"), "{err}");
    }
}

/// A network within the count limits but beyond the memory available is refused by the
/// estimate, with no allocation (checked against a stated amount, not this machine's).
#[test]
fn memory_estimate_refuses_without_allocating() {
    let cfg = galvani::config::parse(
        &config(
            "10.0",
            "0.1",
            100_000,
            "1.5",
            r#"{ rule = "fixed_indegree", k = 30000 }"#,
        ),
        std::path::Path::new("mem.toml"),
    )
    .unwrap();
    let e = galvani::estimate::check(&cfg, 10.0, Some(8_000_000_000)).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("24.1 GB") && msg.contains("8.0 GB is available"),
        "{msg}"
    );
    assert!(msg.contains("3000000000 synapses"), "{msg}");
    assert_eq!(e.exit_code(), 2);
    // the same network with a tenth of the in-degree fits in 12 GB, and the estimate
    // is an upper bound on what building it needs per synapse
    let small = galvani::config::parse(
        &config(
            "10.0",
            "0.1",
            1000,
            "1.5",
            r#"{ rule = "fixed_indegree", k = 300 }"#,
        ),
        std::path::Path::new("ok.toml"),
    )
    .unwrap();
    let est = galvani::estimate::check(&small, 10.0, Some(12_000_000_000)).unwrap();
    assert_eq!(est.synapses, 300_000);
    assert_eq!(est.steps, 100);
    assert_eq!(est.max_delay_steps, 15);
    let net = galvani::network::Network::build(&small, None, None).unwrap();
    assert_eq!(net.synapses.len() as u64, est.synapses);
}
