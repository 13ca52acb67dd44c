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
        let (m, drawn) = connectivity::fixed_probability(n_pre, n_post, p, false, 1.0, &mut rng);
        let mean = (n_pre * n_post) as f64 * p;
        let sd = (mean * (1.0 - p)).sqrt();
        assert!(
            (drawn as f64 - mean).abs() <= 5.0 * sd,
            "{drawn} vs {mean} ± {sd}"
        );
        assert_eq!(m.nnz() as u64, drawn);
        assert_eq!(m.shape(), (n_pre, n_post));
        // each row's indices strictly increase (CsMat guarantees it; no multapses here)
        for row in m.outer_iterator() {
            assert!(row.indices().windows(2).all(|w| w[0] < w[1]));
        }
        // columns uniform: the first and second half of the post range get similar counts
        let first = m
            .iter()
            .filter(|(_, (_, j))| (*j as usize) < n_post / 2)
            .count() as f64;
        let half_sd = (drawn as f64 * 0.25).sqrt();
        assert!((first - drawn as f64 / 2.0).abs() <= 5.0 * half_sd);
    }
}

#[test]
fn degenerate_probabilities_are_certain() {
    let mut rng = stream(1, &[]);
    assert_eq!(
        connectivity::fixed_probability(30, 40, 0.0, false, 1.0, &mut rng).1,
        0
    );
    assert_eq!(
        connectivity::fixed_probability(30, 40, 1.0, false, 1.0, &mut rng).1,
        1200
    );
    let (m, n) = connectivity::fixed_probability(30, 30, 1.0, true, 1.0, &mut rng);
    assert_eq!(n, 870);
    assert!(m.iter().all(|(_, (i, j))| i != j), "no autapses");
}

#[test]
fn fixed_indegree_gives_each_target_exactly_k_drawn_inputs() {
    let mut rng = stream(3, &[]);
    let (m, drawn) = connectivity::fixed_indegree(50, 200, 30, true, 0.5, &mut rng).unwrap();
    assert_eq!(drawn, 200 * 30);
    let csc = m.to_csc();
    for (j, col) in csc.outer_iterator().enumerate() {
        // multapses are merged: the weights of a column add up to k·w
        let total: f64 = col.iter().map(|(_, w)| *w).sum();
        assert_eq!(total, 30.0 * 0.5);
        assert!(col.iter().all(|(i, _)| i != j), "no autapses");
    }
}

#[test]
fn same_seed_same_network_other_seed_other_network() {
    let a = connectivity::fixed_probability(200, 200, 0.1, false, 1.0, &mut stream(5, &[3, 0])).0;
    let b = connectivity::fixed_probability(200, 200, 0.1, false, 1.0, &mut stream(5, &[3, 0])).0;
    let c = connectivity::fixed_probability(200, 200, 0.1, false, 1.0, &mut stream(6, &[3, 0])).0;
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn file_edges_merge_duplicates_and_reject_conflicting_delays() {
    let (m, d, drawn) =
        connectivity::from_edges(3, 3, vec![(2, 1, 1.0, 1), (0, 2, 2.0, 3), (2, 1, 0.5, 1)])
            .unwrap();
    assert_eq!(drawn, 3);
    assert_eq!(m.nnz(), 2);
    assert_eq!(m.get(2, 1), Some(&1.5));
    assert_eq!(d, vec![3, 1]);
    assert!(connectivity::from_edges(3, 3, vec![(2, 1, 1.0, 1), (2, 1, 1.0, 2)]).is_err());
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
