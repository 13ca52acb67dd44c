//! The counter-based generator: known-answer vectors, and the Poisson counts' statistics
//! with reasoned thresholds (5σ bounds: a correct generator fails one with probability
//! below 6e-7; χ² at α = 1e-6).

use galvani::rng::{PoissonPlan, key, philox4x32, poisson_count, uniform};

/// Random123's published known-answer vectors for Philox4x32-10.
#[test]
fn philox_known_answers() {
    assert_eq!(
        philox4x32([0, 0, 0, 0], [0, 0]),
        [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
    );
    assert_eq!(
        philox4x32([u32::MAX; 4], [u32::MAX; 2]),
        [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]
    );
    assert_eq!(
        philox4x32(
            [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
            [0xa4093822, 0x299f31d0]
        ),
        [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]
    );
}

#[test]
fn uniform_is_in_unit_interval_with_the_right_moments() {
    let n = 1_000_000u32;
    let (mut s, mut s2) = (0f64, 0f64);
    for i in 0..n / 4 {
        for x in philox4x32([i, 7, 0, 0], key(99)) {
            let u = uniform(x) as f64;
            assert!((0.0..1.0).contains(&u));
            s += u;
            s2 += u * u;
        }
    }
    let mean = s / n as f64;
    let var = s2 / n as f64 - mean * mean;
    // U(0,1): mean 1/2 (sd 1/√(12n)), variance 1/12 (sd √(1/180/n))
    assert!(
        (mean - 0.5).abs() < 5.0 * (1.0 / (12.0 * n as f64)).sqrt(),
        "mean {mean}"
    );
    assert!(
        (var - 1.0 / 12.0).abs() < 5.0 * (1.0 / 180.0 / n as f64).sqrt(),
        "variance {var}"
    );
}

fn counts(lambda: f64, neurons: u32, steps: u32) -> Vec<Vec<u32>> {
    let plan = PoissonPlan::new(lambda);
    let k = key(1234);
    (0..steps)
        .map(|s| {
            (0..neurons)
                .map(|i| poisson_count(k, 3, i, s, &plan))
                .collect()
        })
        .collect()
}

#[test]
fn poisson_mean_and_variance() {
    for lambda in [0.05, 2.0, 20.0, 150.0] {
        let c = counts(lambda, 1000, 200);
        let xs: Vec<f64> = c.iter().flatten().map(|&x| x as f64).collect();
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        // sd of the mean √(λ/n); sd of the sample variance √((μ4 − σ⁴)/n) = √((λ + 2λ²)/n)
        assert!(
            (mean - lambda).abs() < 5.0 * (lambda / n).sqrt(),
            "λ={lambda}: mean {mean}"
        );
        assert!(
            (var - lambda).abs() < 5.0 * ((lambda + 2.0 * lambda * lambda) / n).sqrt(),
            "λ={lambda}: variance {var}"
        );
    }
}

#[test]
fn poisson_distribution_chi_square() {
    let lambda = 2.0f64;
    let c = counts(lambda, 500, 400);
    let n = (500 * 400) as f64;
    let mut hist = [0f64; 9]; // 0..=7, and ≥ 8
    for &x in c.iter().flatten() {
        hist[(x as usize).min(8)] += 1.0;
    }
    let mut p = (-lambda).exp();
    let mut cum = 0.0;
    let mut chi2 = 0.0;
    for (k, &h) in hist.iter().enumerate() {
        let pk = if k < 8 { p } else { 1.0 - cum };
        chi2 += (h - n * pk).powi(2) / (n * pk);
        cum += p;
        p *= lambda / (k + 1) as f64;
    }
    // 8 degrees of freedom: P(χ² > 41.0) ≈ 2e-6
    assert!(chi2 < 41.0, "χ² = {chi2}");
}

#[test]
fn poisson_counts_are_independent_across_neurons_and_steps() {
    let c = counts(2.0, 400, 500);
    let corr = |pairs: &[(f64, f64)]| {
        let n = pairs.len() as f64;
        let (ma, mb) = (
            pairs.iter().map(|p| p.0).sum::<f64>() / n,
            pairs.iter().map(|p| p.1).sum::<f64>() / n,
        );
        let cov = pairs.iter().map(|p| (p.0 - ma) * (p.1 - mb)).sum::<f64>();
        let va = pairs.iter().map(|p| (p.0 - ma).powi(2)).sum::<f64>();
        let vb = pairs.iter().map(|p| (p.1 - mb).powi(2)).sum::<f64>();
        (cov / (va * vb).sqrt(), n)
    };
    let neigh_neuron: Vec<(f64, f64)> = c
        .iter()
        .flat_map(|row| row.windows(2).map(|w| (w[0] as f64, w[1] as f64)))
        .collect();
    let neigh_step: Vec<(f64, f64)> = c
        .windows(2)
        .flat_map(|w| w[0].iter().zip(&w[1]).map(|(a, b)| (*a as f64, *b as f64)))
        .collect();
    for (name, pairs) in [("neurons", neigh_neuron), ("steps", neigh_step)] {
        let (r, n) = corr(&pairs);
        // under independence r is ~ N(0, 1/n)
        assert!(r.abs() < 5.0 / n.sqrt(), "{name}: correlation {r}");
    }
    // other streams and seeds give other numbers
    let plan = PoissonPlan::new(2.0);
    let a: Vec<u32> = (0..100)
        .map(|i| poisson_count(key(1), 0, i, 0, &plan))
        .collect();
    let b: Vec<u32> = (0..100)
        .map(|i| poisson_count(key(1), 1, i, 0, &plan))
        .collect();
    let d: Vec<u32> = (0..100)
        .map(|i| poisson_count(key(2), 0, i, 0, &plan))
        .collect();
    assert_ne!(a, b);
    assert_ne!(a, d);
}

#[test]
fn zero_rate_never_fires() {
    let plan = PoissonPlan::new(0.0);
    assert!((0..1000).all(|i| poisson_count(key(5), 0, i, i, &plan) == 0));
}

/// The SIMD batch of Philox outputs (the CPU's Poisson drive) equals the scalar
/// `poisson_bits` of each neuron, also for a count that is not a multiple of the lanes.
#[test]
fn poisson_bits_many_equals_poisson_bits() {
    use galvani::rng::{poisson_bits, poisson_bits_many};
    let key = galvani::rng::key(0x1234_5678_9abc_def0);
    let neurons: Vec<u32> = (0..1003u32).map(|i| i * 7 + 3).collect();
    for (step, block) in [(0u32, 0u32), (4, 1), (4_000_000_001, 3)] {
        let mut got = vec![[0u32; 4]; neurons.len()];
        poisson_bits_many(key, 9, &neurons, step, block, |k, b| got[k] = b);
        for (k, &i) in neurons.iter().enumerate() {
            assert_eq!(
                got[k],
                poisson_bits(key, 9, i, step, block),
                "neuron {i} step {step}"
            );
        }
    }
}
