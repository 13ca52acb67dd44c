//! Per-synapse weights and delays from distributions: moments, bounds and redraw,
//! rounding of delays, multapses in built networks, and the errors for bad specs.

use galvani::config::{SynDist, SynSpec};
use galvani::connectivity::{Sampler, stream};

/// Mean and sd of `n` draws.
fn moments(spec: &SynSpec, n: usize) -> (f64, f64, Vec<f64>) {
    let s = Sampler::new(spec);
    let mut rng = stream(11, &[7]);
    let x: Vec<f64> = (0..n).map(|_| s.draw(&mut rng).unwrap()).collect();
    let m = x.iter().sum::<f64>() / n as f64;
    let v = x.iter().map(|a| (a - m).powi(2)).sum::<f64>() / (n - 1) as f64;
    (m, v.sqrt(), x)
}

fn spec(dist: SynDist, min: Option<f64>, max: Option<f64>) -> SynSpec {
    SynSpec { dist, min, max }
}

/// Sample means within 5 standard errors of the analytic mean, sds within 5 % (n = 10^5:
/// the sd's relative standard error is about 0.2–0.5 % for these shapes).
#[test]
fn distributions_have_their_moments() {
    let n = 100_000;
    let cases = [
        // (spec, mean, sd)
        (
            spec(
                SynDist::Normal {
                    mean: 87.8,
                    sd: 8.78,
                },
                None,
                None,
            ),
            87.8,
            8.78,
        ),
        (
            spec(SynDist::Uniform { lo: -2.0, hi: 6.0 }, None, None),
            2.0,
            8.0 / 12f64.sqrt(),
        ),
        (
            spec(
                SynDist::Lognormal {
                    mu: 0.5,
                    sigma: 0.4,
                },
                None,
                None,
            ),
            (0.5f64 + 0.08).exp(),
            ((0.16f64).exp_m1() * (1.0 + 0.16f64).exp()).sqrt(),
        ),
        // a normal redrawn into [0, ∞): the half-normal, mean σ·√(2/π), sd σ·√(1 − 2/π)
        (
            spec(SynDist::Normal { mean: 0.0, sd: 3.0 }, Some(0.0), None),
            3.0 * (2.0 / std::f64::consts::PI).sqrt(),
            3.0 * (1.0 - 2.0 / std::f64::consts::PI).sqrt(),
        ),
    ];
    for (s, mean, sd) in cases {
        let (m, d, _) = moments(&s, n);
        assert!(
            (m - mean).abs() <= 5.0 * sd / (n as f64).sqrt(),
            "{s:?}: mean {m} vs {mean}"
        );
        assert!((d / sd - 1.0).abs() <= 0.05, "{s:?}: sd {d} vs {sd}");
    }
}

#[test]
fn redraw_keeps_every_value_inside_the_bounds() {
    let s = spec(
        SynDist::Normal {
            mean: 1.5,
            sd: 0.75,
        },
        Some(0.05),
        Some(2.0),
    );
    let (_, _, x) = moments(&s, 50_000);
    assert!(x.iter().all(|&v| (0.05..=2.0).contains(&v)));
    // redrawn, not clipped: no pile-up at the bounds
    assert!(!x.iter().any(|&v| v == 0.05 || v == 2.0));
    // P(0.05 <= X <= 2) for N(1.5, 0.75) is 0.723; the share below 1.5 among those is
    // (0.5 − 0.0264)/0.723 = 0.655
    let below = x.iter().filter(|&&v| v < 1.5).count() as f64 / x.len() as f64;
    assert!((below - 0.655).abs() < 0.01, "{below}");
}

#[test]
fn impossible_bounds_fail_instead_of_looping() {
    // inside the support, but with a probability of about 1e-23
    let s = spec(
        SynDist::Normal { mean: 0.0, sd: 1.0 },
        Some(10.0),
        Some(11.0),
    );
    let e = Sampler::new(&s).draw(&mut stream(1, &[])).unwrap_err();
    assert!(e.contains("outside [10, 11]"), "{e}");
}

fn pd_like(weight: &str, delay: &str, connect: &str) -> String {
    format!(
        r#"
[simulation]
duration_ms = 1.0
[[population]]
name = "e"
size = 400
model = "lif"
[[population]]
name = "i"
size = 100
model = "lif"
[[projection]]
pre = "e"
post = "i"
receptor = "ampa"
weight = {weight}
delay_ms = {delay}
connect = {connect}
"#
    )
}

#[test]
fn networks_draw_per_synapse_weights_and_round_delays_to_steps() {
    let net = crate::common::net(&pd_like(
        "{ normal = [87.8, 8.78], min = 0.0 }",
        "{ normal = [1.5, 0.75], min = 0.05 }",
        r#"{ rule = "fixed_total_number", n = 20000 }"#,
    ));
    assert_eq!(net.synapses.len(), 20000, "every connection is a synapse");
    assert_eq!(net.synapses.drawn, 20000);
    let s = &net.synapses.table(net.n).unwrap();
    assert!(s.weight.iter().all(|&w| w >= 0.0));
    let m = s.weight.iter().sum::<f64>() / s.target.len() as f64;
    assert!(
        (m - 87.8).abs() < 5.0 * 8.78 / (s.target.len() as f64).sqrt(),
        "{m}"
    );
    // delays: whole steps, at least one; 0.05 ms (half a step) rounds up to one
    assert!(s.delay.iter().all(|&d| d >= 1));
    assert!(s.delay.contains(&1));
    let mean_ms = s.delay.iter().map(|&d| d as f64 * 0.1).sum::<f64>() / s.target.len() as f64;
    // the redrawn N(1.5, 0.75) on [0.05, ∞) has mean 1.5 + 0.75·φ(1.933)/Φ(1.933) = 1.545
    assert!((mean_ms - 1.545).abs() < 0.02, "{mean_ms}");
    // same config, same network; other seed, other weights
    let again = crate::common::net(&pd_like(
        "{ normal = [87.8, 8.78], min = 0.0 }",
        "{ normal = [1.5, 0.75], min = 0.05 }",
        r#"{ rule = "fixed_total_number", n = 20000 }"#,
    ));
    assert_eq!(&again.synapses.table(again.n).unwrap(), s);
}

#[test]
fn multapses_are_kept_as_separate_synapses() {
    for connect in [
        r#"{ rule = "fixed_indegree", k = 300 }"#,
        r#"{ rule = "fixed_outdegree", k = 75 }"#,
        r#"{ rule = "fixed_total_number", n = 30000 }"#,
    ] {
        let net = crate::common::net(&pd_like(
            "{ uniform = [1.0, 2.0] }",
            "{ uniform = [0.1, 3.0] }",
            connect,
        ));
        assert_eq!(net.synapses.len(), 30000, "{connect}");
        let s = &net.synapses.table(net.n).unwrap();
        // find a pair connected twice with different weights
        let mut seen = std::collections::HashMap::new();
        let mut found = false;
        for pre in 0..400 {
            for k in s.row_ptr[pre]..s.row_ptr[pre + 1] {
                if let Some(&(w, d)) = seen.get(&(pre, s.target[k])) {
                    found |= w != s.weight[k] || d != s.delay[k];
                }
                seen.insert((pre, s.target[k]), (s.weight[k], s.delay[k]));
            }
        }
        assert!(
            found,
            "{connect}: multapses keep their own weights and delays"
        );
    }
    // the alias of fixed_probability
    let net = crate::common::net(&pd_like(
        "2.0",
        "1.0",
        r#"{ rule = "pairwise_bernoulli", p = 0.1 }"#,
    ));
    assert!(net.synapses.len() > 3000 && net.synapses.len() < 5000);
}

fn config_error(text: &str) -> String {
    galvani::config::parse(text, std::path::Path::new("bad.toml"))
        .expect_err("the config is invalid")
        .to_string()
}

#[test]
fn bad_distribution_specs_get_clear_errors() {
    let cases = [
        ("{ normal = [87.8, 8.78] }", "1.0", "can draw both signs"),
        (
            "{ normal = [87.8, 8.78], min = 0.0 }",
            "{ normal = [1.5, 0.75] }",
            "min = 0.05",
        ),
        ("{ normal = [1.0, -1.0], min = 0.0 }", "1.0", "sd >= 0"),
        ("{ uniform = [3.0, 1.0] }", "1.0", "lo <= hi"),
        (
            "{ normal = [1.0, 1.0], min = 2.0, max = 1.0 }",
            "1.0",
            "min (2) is above max (1)",
        ),
        (
            "{ uniform = [1.0, 2.0], min = 3.0 }",
            "1.0",
            "no value of this distribution",
        ),
        ("{ gamma = [1.0, 2.0] }", "1.0", "unknown key `gamma`"),
        (
            "{ normal = [1.0] , min = 0.0 }",
            "1.0",
            "`normal` needs an array of two numbers",
        ),
        ("{ min = 0.0 }", "1.0", "expected a number, { normal"),
        (
            "{ normal = [1, 2], uniform = [1, 2] }",
            "1.0",
            "two distributions",
        ),
        (
            "{ lognormal = [0.0, 1.0] }",
            "{ uniform = [-1.0, 1.0] }",
            "negative delays",
        ),
    ];
    for (w, d, want) in cases {
        let e = config_error(&pd_like(w, d, r#"{ rule = "fixed_total_number", n = 10 }"#));
        assert!(e.contains(want), "weight {w}, delay {d}: {e}");
        assert!(e.contains("bad.toml"), "names the file: {e}");
        assert!(
            e.contains("projection[0] (e -> i)") || e.contains("weight") || e.contains("delay"),
            "{e}"
        );
    }
    // conductance synapses: weights must be >= 0, which a normal without a bound breaks
    let text = pd_like(
        "{ normal = [5.0, 1.0] }",
        "1.0",
        r#"{ rule = "fixed_total_number", n = 10 }"#,
    )
    .replace(
        "size = 100\nmodel = \"lif\"",
        "size = 100\nmodel = \"lif\"\nsynapse = \"exp_conductance\"",
    );
    let e = config_error(&text);
    assert!(
        e.contains("conductance synapses") && e.contains("min = 0.0"),
        "{e}"
    );
    // rules
    let e = config_error(&pd_like(
        "1.0",
        "1.0",
        r#"{ rule = "fixed_total_number", n = -1 }"#,
    ));
    assert!(e.contains("connect.n"), "{e}");
    let e = galvani::network::Network::build(
        &crate::common::cfg(&pd_like(
            "1.0",
            "1.0",
            r#"{ rule = "fixed_indegree", k = 401, multapses = false }"#,
        )),
        None,
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("k <= 400"), "{e}");
}
