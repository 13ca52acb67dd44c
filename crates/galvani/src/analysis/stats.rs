//! The statistics `galvani compare` reports: how two recorded runs of one network agree,
//! spike for spike (LIF, [`agreement`]) or in distribution (HV, [`hv_agreement`]).

use crate::network::Network;
use crate::sim::{self, Collect};

/// Per-population agreement of two spike trains.
#[derive(Debug, Clone, PartialEq)]
pub struct PopAgreement {
    /// Population name.
    pub name: String,
    /// Spikes on each side.
    pub counts: (usize, usize),
    /// Leading spikes that are identical (same step, same neuron, same order).
    pub identical_prefix: usize,
    /// Time (ms) of the first differing spike, if any.
    pub first_divergence_ms: Option<f64>,
}

/// Compares two collected runs population by population.
pub fn agreement(net: &Network, a: &Collect, b: &Collect) -> Vec<PopAgreement> {
    net.populations
        .iter()
        .enumerate()
        .map(|(p, pop)| {
            let sa: Vec<_> = a.spikes.iter().filter(|s| s.1 as usize == p).collect();
            let sb: Vec<_> = b.spikes.iter().filter(|s| s.1 as usize == p).collect();
            let prefix = sa.iter().zip(&sb).take_while(|(x, y)| x == y).count();
            let div = match (sa.get(prefix), sb.get(prefix)) {
                (None, None) => None,
                (Some(x), None) => Some(x.0),
                (None, Some(y)) => Some(y.0),
                (Some(x), Some(y)) => Some(x.0.min(y.0)),
            };
            PopAgreement {
                name: pop.name.clone(),
                counts: (sa.len(), sb.len()),
                identical_prefix: prefix,
                first_divergence_ms: div.map(|s| sim::stamp_ms(s, net.dt_ms)),
            }
        })
        .collect()
}

/// How two runs of an HV network agree (spec hv-model.md 10.1): spike for spike over an
/// initial span, then in statistics only (the networks are chaotic: rounding differences
/// of a few ulps in `exp` grow until trajectories decorrelate).
#[derive(Debug, Clone, PartialEq)]
pub struct HvAgreement {
    /// Spikes on each side.
    pub counts: (usize, usize),
    /// Spikes before the match span compared one for one (pairs).
    pub matched: usize,
    /// Largest |Δt| (ms) of those pairs (infinite if one side lacks a partner).
    pub max_dt_ms: f64,
    /// The earliest time at which the spike trains stop agreeing within the tolerance:
    /// a spike without partner or a pair farther apart ("none" if they agree to the end).
    pub horizon_ms: Option<f64>,
    /// Neurons whose spike counts differ.
    pub neurons_differing: usize,
    /// Mean |Δcount| per neuron.
    pub mean_abs_dcount: f64,
    /// Pearson correlation of the per-neuron counts (1 when both are constant and equal).
    pub count_corr: f64,
    /// The difference of the total counts in units of its own run-to-run variability:
    /// D / sqrt(Σ d_k²), with d_k the differences (b − a) of the counts in 10 ms windows (a
    /// chaotic network's population rate fluctuates, so its total count does too).
    pub count_z: f64,
}

/// Compares two collected HV runs neuron by neuron: the k-th spikes of a neuron are
/// paired; pairs with either time before `match_ms` are the "matched" ones.
pub fn hv_agreement(
    net: &Network,
    a: &Collect,
    b: &Collect,
    match_ms: f64,
    t_tol_ms: f64,
) -> HvAgreement {
    let per_neuron = |c: &Collect| {
        let mut v: Vec<Vec<f64>> = vec![Vec::new(); net.n];
        for (s, &t) in c.spikes.iter().zip(&c.times_ms) {
            v[net.populations[s.1 as usize].offset + s.2 as usize].push(t);
        }
        v
    };
    let (ta, tb) = (per_neuron(a), per_neuron(b));
    let (mut matched, mut max_dt, mut horizon) = (0, 0f64, f64::INFINITY);
    let (mut differing, mut sum_abs) = (0usize, 0f64);
    for (x, y) in ta.iter().zip(&tb) {
        for k in 0..x.len().max(y.len()) {
            let (p, q) = (x.get(k), y.get(k));
            let first = p.into_iter().chain(q).fold(f64::INFINITY, |m, &t| m.min(t));
            let d = match (p, q) {
                (Some(p), Some(q)) => (p - q).abs(),
                _ => f64::INFINITY,
            };
            if d > t_tol_ms {
                horizon = horizon.min(first);
            }
            if first < match_ms {
                matched += 1;
                max_dt = max_dt.max(d);
            }
        }
        let dc = (x.len() as f64 - y.len() as f64).abs();
        differing += (dc > 0.0) as usize;
        sum_abs += dc;
    }
    let n = net.n.max(1) as f64;
    let ca: Vec<f64> = ta.iter().map(|v| v.len() as f64).collect();
    let cb: Vec<f64> = tb.iter().map(|v| v.len() as f64).collect();
    let (ma, mb) = (ca.iter().sum::<f64>() / n, cb.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in ca.iter().zip(&cb) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    let count_corr = if saa == 0.0 && sbb == 0.0 {
        if ca == cb { 1.0 } else { 0.0 }
    } else {
        sab / (saa * sbb).sqrt()
    };
    let window = |c: &Collect| {
        let mut w = vec![0f64; ((net.steps as f64 * net.dt_ms) / 10.0).ceil().max(1.0) as usize];
        for &t in &c.times_ms {
            let k = ((t / 10.0) as usize).min(w.len() - 1);
            w[k] += 1.0;
        }
        w
    };
    let (wa, wb) = (window(a), window(b));
    let d: f64 = wa.iter().zip(&wb).map(|(x, y)| y - x).sum();
    let ss: f64 = wa.iter().zip(&wb).map(|(x, y)| (x - y) * (x - y)).sum();
    let count_z = if d == 0.0 { 0.0 } else { d / ss.sqrt() };
    HvAgreement {
        count_z,
        counts: (a.spikes.len(), b.spikes.len()),
        matched,
        max_dt_ms: max_dt,
        horizon_ms: horizon.is_finite().then_some(horizon),
        neurons_differing: differing,
        mean_abs_dcount: sum_abs / n,
        count_corr,
    }
}
