//! External drive against closed forms: current pulses (exact solution of the membrane
//! equation) and Poisson input (stationary moments of shot noise on the grid).

use crate::common::*;

/// A 100 pA pulse on [20, 40) ms into a neuron at rest (threshold out of reach):
/// V = E_L + R·I·(1 − e^{−(t−20)/τ}) during the pulse, then relaxation from its end value.
#[test]
fn current_pulse_matches_closed_form() {
    let net = net(r#"
[simulation]
dt_ms = 0.1
duration_ms = 60.0
[[population]]
name = "n"
size = 3
model = "lif"
[population.params]
tau_m_ms = 10.0
c_m_pf = 250.0
v_th_mv = 100.0
[[stimulus]]
kind = "current_pulse"
target = "n"
neurons = [1]
start_ms = 20.0
stop_ms = 40.0
amplitude_pa = 100.0
[record]
voltage = [{ population = "n", neurons = [0, 1] }]
"#);
    for (name, run) in every_backend(&net) {
        let (r, tau, el) = (10.0 / 250.0, 10.0, -70.0);
        let v_end = el + r * 100.0 * (1.0 - (-20.0f64 / tau).exp());
        for &(t, v) in &trace(&run, &net, 1) {
            let exact = if t <= 20.0 + 1e-9 {
                el
            } else if t <= 40.0 + 1e-9 {
                el + r * 100.0 * (1.0 - (-(t - 20.0) / tau).exp())
            } else {
                el + (v_end - el) * (-(t - 40.0) / tau).exp()
            };
            assert!((v - exact).abs() < 1e-4, "{name}: t={t}: {v} vs {exact}");
        }
        assert!(
            trace(&run, &net, 0).iter().all(|&(_, v)| v == el),
            "{name}: untargeted neuron stays at rest"
        );
    }
}

/// Poisson events of weight w on a delta synapse, rate ν: on the grid
/// u_{n+1} = u_n·P33 + w·c_n with c_n ~ Poisson(λ = ν·dt) i.i.d., so the stationary mean
/// is wλ/(1 − P33) and the variance w²λ/(1 − P33²). Across 2000 independent neurons the
/// sample mean lies within 5 standard errors of it (fails with probability < 6e-7), and
/// the sample variance within 5 of its standard errors.
#[test]
fn poisson_drive_has_the_shot_noise_moments() {
    let n = 2000;
    let net = net(&format!(
        r#"
[simulation]
dt_ms = 0.1
duration_ms = 300.0
[[population]]
name = "n"
size = {n}
model = "lif"
synapse = "delta"
[population.params]
tau_m_ms = 20.0
e_l_mv = 0.0
v_reset_mv = -10.0
v_th_mv = 1000.0
[population.init]
v_mv = 0.0
[[stimulus]]
kind = "poisson"
target = "n"
rate_hz = 1000.0
weight = 0.1
receptor = "ampa"
[record]
voltage = [{{ population = "n", every_steps = 3000 }}]
"#
    ));
    let (w, lambda, p33) = (0.1f64, 1000.0 * 0.1 / 1000.0, (-0.1f64 / 20.0).exp());
    let mean = w * lambda / (1.0 - p33);
    let var = w * w * lambda / (1.0 - p33 * p33);
    let mut results = vec![];
    for (name, run) in every_backend(&net) {
        let last: Vec<f64> = run
            .voltages
            .iter()
            .filter(|v| v.0 == Some(2999))
            .map(|v| v.2)
            .collect();
        assert_eq!(last.len(), n);
        let m = last.iter().sum::<f64>() / n as f64;
        let s2 = last.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
        assert!(
            (m - mean).abs() < 5.0 * (var / n as f64).sqrt(),
            "{name}: mean {m} vs {mean}"
        );
        // for a near-Gaussian sum, sd(s²) ≈ σ²·√(2/(n−1))
        assert!(
            (s2 - var).abs() < 5.0 * var * (2.0 / (n - 1) as f64).sqrt(),
            "{name}: variance {s2} vs {var}"
        );
        results.push(last);
    }
    // the same events on both precisions: the voltages agree to f32 rounding
    let d = results[0]
        .iter()
        .zip(&results[1])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(
        d < 1e-4,
        "cpu-f32 vs cpu-f64 differ by {d} mV: not the same input events"
    );
}
