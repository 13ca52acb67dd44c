//! Connection rules: counts against their distributions, structural promises, seeds.

use galvani::connectivity::{self, choose_fixed_point, stream};

/// Bernoulli(p) over n_pre·n_post pairs: the count is Binomial; |count − mean| ≤ 5σ fails
/// a correct implementation with probability < 6e-7.
#[test]
fn fixed_probability_count_is_binomial_and_rows_are_sorted() {
    for &(n_pre, n_post, p) in &[
        (1000usize, 800usize, 0.02f64),
        (300, 300, 0.5),
        (50, 2000, 0.001),
    ] {
        let mut rng = stream(42, &[1]);
        let m = connectivity::fixed_probability(n_pre, n_post, p, false, &mut rng);
        let drawn = m.len();
        let mean = (n_pre * n_post) as f64 * p;
        let sd = (mean * (1.0 - p)).sqrt();
        assert!(
            (drawn as f64 - mean).abs() <= 5.0 * sd,
            "{drawn} vs {mean} ± {sd}"
        );
        assert_eq!((m.n_pre, m.n_post), (n_pre, n_post));
        // each row's indices strictly increase (no multapses from this rule)
        for i in 0..n_pre {
            assert!(m.row(i).windows(2).all(|w| w[0] < w[1]));
        }
        assert!(!m.has_multapses());
        // columns uniform: the first and second half of the post range get similar counts
        let first = m
            .pairs()
            .filter(|&(_, j)| (j as usize) < n_post / 2)
            .count() as f64;
        let half_sd = (drawn as f64 * 0.25).sqrt();
        assert!((first - drawn as f64 / 2.0).abs() <= 5.0 * half_sd);
    }
}

#[test]
fn degenerate_probabilities_are_certain() {
    let mut rng = stream(1, &[]);
    assert_eq!(
        connectivity::fixed_probability(30, 40, 0.0, false, &mut rng).len(),
        0
    );
    assert_eq!(
        connectivity::fixed_probability(30, 40, 1.0, false, &mut rng).len(),
        1200
    );
    let m = connectivity::fixed_probability(30, 30, 1.0, true, &mut rng);
    assert_eq!(m.len(), 870);
    assert!(m.pairs().all(|(i, j)| i != j), "no autapses");
}

/// Column counts of a pattern (in-degrees).
fn indegrees(m: &connectivity::Pattern) -> Vec<usize> {
    let mut c = vec![0; m.n_post];
    for (_, j) in m.pairs() {
        c[j as usize] += 1;
    }
    c
}

#[test]
fn fixed_indegree_gives_each_target_exactly_k_inputs_and_keeps_multapses() {
    let mut rng = stream(3, &[]);
    let m = connectivity::fixed_indegree(50, 200, 30, true, true, &mut rng).unwrap();
    assert_eq!(m.len(), 200 * 30);
    assert!(indegrees(&m).iter().all(|&k| k == 30));
    assert!(m.pairs().all(|(i, j)| i != j), "no autapses");
    // 30 draws from 49 sources: multapses are all but certain (birthday problem), and
    // each is kept as its own synapse
    assert!(m.has_multapses());
    for i in 0..50 {
        assert!(m.row(i).windows(2).all(|w| w[0] <= w[1]), "rows ascend");
    }
    // without multapses: k distinct sources per target
    let m = connectivity::fixed_indegree(50, 200, 49, true, false, &mut rng).unwrap();
    assert!(!m.has_multapses());
    assert!(indegrees(&m).iter().all(|&k| k == 49));
    assert!(m.pairs().all(|(i, j)| i != j));
    let e = connectivity::fixed_indegree(50, 200, 50, true, false, &mut rng).unwrap_err();
    assert!(e.contains("k <= 49"), "{e}");
}

#[test]
fn fixed_outdegree_gives_each_source_exactly_k_targets() {
    let mut rng = stream(4, &[]);
    let m = connectivity::fixed_outdegree(120, 40, 25, false, true, &mut rng).unwrap();
    assert_eq!(m.len(), 120 * 25);
    assert!((0..120).all(|i| m.row(i).len() == 25));
    assert!(m.has_multapses());
    let m = connectivity::fixed_outdegree(120, 120, 119, true, false, &mut rng).unwrap();
    assert!((0..120).all(|i| m.row(i).len() == 119));
    assert!(!m.has_multapses());
    assert!(m.pairs().all(|(i, j)| i != j));
    assert!(connectivity::fixed_outdegree(120, 40, 41, false, false, &mut rng).is_err());
}

/// χ² of counts against equal expectation; returns (statistic, degrees of freedom).
fn chi2_uniform(counts: &[usize]) -> (f64, f64) {
    let total: usize = counts.iter().sum();
    let e = total as f64 / counts.len() as f64;
    let x: f64 = counts.iter().map(|&c| (c as f64 - e).powi(2) / e).sum();
    (x, (counts.len() - 1) as f64)
}

/// Exactly n connections; sources and targets uniform: χ² within 5σ of its mean
/// (σ = √(2·df)) for the marginals of 10^5 draws.
#[test]
fn fixed_total_number_draws_exactly_n_with_uniform_marginals() {
    let mut rng = stream(5, &[]);
    let (n_pre, n_post, n) = (300, 200, 100_000);
    let m = connectivity::fixed_total_number(n_pre, n_post, n, false, true, &mut rng).unwrap();
    assert_eq!(m.len(), n);
    let out: Vec<usize> = (0..n_pre).map(|i| m.row(i).len()).collect();
    for counts in [out, indegrees(&m)] {
        let (x, df) = chi2_uniform(&counts);
        assert!(
            (x - df).abs() <= 5.0 * (2.0 * df).sqrt(),
            "χ² {x} for {df} df"
        );
    }
    // about n²/(2·pairs) repeated pairs are expected: multapses kept
    assert!(m.has_multapses());
    // autapses excluded within one population; no pair twice without multapses
    let m = connectivity::fixed_total_number(30, 30, 870, true, false, &mut rng).unwrap();
    assert_eq!(m.len(), 870);
    assert!(!m.has_multapses());
    assert!(m.pairs().all(|(i, j)| i != j));
    let e = connectivity::fixed_total_number(30, 30, 871, true, false, &mut rng).unwrap_err();
    assert!(e.contains("n <= 870"), "{e}");
}

#[test]
fn same_seed_same_network_other_seed_other_network() {
    let a = connectivity::fixed_probability(200, 200, 0.1, false, &mut stream(5, &[3, 0]));
    let b = connectivity::fixed_probability(200, 200, 0.1, false, &mut stream(5, &[3, 0]));
    let c = connectivity::fixed_probability(200, 200, 0.1, false, &mut stream(6, &[3, 0]));
    assert_eq!(a, b);
    assert_ne!(a, c);
    let a = connectivity::fixed_total_number(200, 100, 5000, true, true, &mut stream(5, &[3, 1]));
    let b = connectivity::fixed_total_number(200, 100, 5000, true, true, &mut stream(5, &[3, 1]));
    assert_eq!(a.unwrap(), b.unwrap());
}

#[test]
fn file_edges_keep_multapses_with_their_own_weights_and_delays() {
    let (m, w, d) = connectivity::from_edges(
        3,
        3,
        vec![
            (2, 1, Some(1.0), Some(1)),
            (0, 2, Some(2.0), Some(3)),
            (2, 1, Some(0.5), Some(4)),
        ],
    );
    assert_eq!(m.len(), 3);
    assert_eq!(m.row(2), &[1, 1]);
    assert_eq!(
        w.unwrap(),
        vec![2.0, 1.0, 0.5],
        "file order kept within a pair"
    );
    assert_eq!(d.unwrap(), vec![3, 1, 4]);
    let (_, w, d) = connectivity::from_edges(3, 3, vec![(0, 1, None, None)]);
    assert!(w.is_none() && d.is_none());
}

/// The fixed-point scale makes overflow impossible: the worst case (every incoming
/// synapse of a neuron arriving in one step) fits in i32 with a factor-2 margin.
#[test]
fn fixed_point_scale_excludes_overflow() {
    for bound in [0.5, 20.25 * 100.0, 112.5 * 250.0, 1e6, 3e9] {
        let fp = choose_fixed_point(bound);
        assert!(bound * fp.scale <= i32::MAX as f64 / 2.0);
        assert_eq!(fp.scale.log2().fract(), 0.0, "a power of two");
        if bound < 1e6 {
            assert!(
                bound * fp.scale * 2.0 > i32::MAX as f64 / 2.0 || fp.scale == 2f64.powi(24),
                "the largest such power"
            );
        }
    }
    // CUBA's weights are exact in fixed point
    let fp = choose_fixed_point(112.5 * 60.0);
    assert_eq!(fp.to_fixed(20.25) as f64 / fp.scale, 20.25);
    assert_eq!(fp.to_fixed(-112.5) as f64 / fp.scale, -112.5);
}
