//! Single-neuron physics against closed-form solutions (spec lif-model.md sections 1, 4, 6),
//! on every backend.

use crate::common::*;

fn single(extra_params: &str, v0: f64, duration: f64, probe_every: u32) -> String {
    format!(
        r#"
[simulation]
dt_ms = 0.1
duration_ms = {duration}
[[population]]
name = "n"
size = 1
model = "lif"
[population.params]
{extra_params}
[population.init]
v_mv = {v0}
[record]
voltage = [{{ population = "n", neurons = [0], every_steps = {probe_every} }}]
"#
    )
}

/// Spec section 1: with constant input, V(t) = E_L + R·I + (V0 − E_L − R·I)·exp(−t/τ_m).
/// The threshold is out of reach, so the step is a pure multiply-add; each step's
/// rounding (P33 rounded once, one rounding per operation) adds at most ~2 ulp of the
/// deviation, so after n steps the error is below (2n + 2)·eps·|V0 − V∞| + eps·|V∞|.
#[test]
fn leaky_relaxation_matches_closed_form() {
    for (i_e, v0) in [(0.0, -60.0), (150.0, -75.0)] {
        let text = single(
            &format!(
                "tau_m_ms = 10.0\nc_m_pf = 250.0\ne_l_mv = -70.0\nv_th_mv = 100.0\nv_reset_mv = -70.0\ni_e_pa = {i_e}"
            ),
            v0,
            50.0,
            1,
        );
        let net = net(&text);
        for (name, run) in every_backend(&net) {
            assert!(run.spikes.is_empty(), "{name}: no spike expected");
            let tr = trace(&run, &net, 0);
            assert_eq!(tr.len(), 501);
            let r = 10.0 / 250.0; // R = τ/C (GΩ), mV per pA
            let v_inf = -70.0 + r * i_e;
            let mut worst = 0f64;
            for (n, &(t, v)) in tr.iter().enumerate() {
                let exact = v_inf + (v0 - v_inf) * (-t / 10.0).exp();
                let tol = (2.0 * n as f64 + 2.0) * eps(name) * (v0 - v_inf).abs()
                    + eps(name) * v_inf.abs() * 2.0;
                assert!(
                    (v - exact).abs() <= tol,
                    "{name}: t={t} v={v} exact={exact} tol={tol}"
                );
                worst = worst.max((v - exact).abs());
            }
            eprintln!("{name}: I_e={i_e}: largest |V − exact| over 50 ms = {worst:.3e} mV");
        }
    }
}

/// Spec section 6 and the seed's Fig. 2: R·I = 12 mV settles at −58 mV without a spike
/// (τ_m = 10 ms, V_th = −55 mV, E_L = V_reset = −70 mV); R·I = 16 mV fires.
#[test]
fn fig2_subthreshold_settles_suprathreshold_fires() {
    let base = "tau_m_ms = 10.0\nc_m_pf = 250.0\ne_l_mv = -70.0\nv_th_mv = -55.0\nv_reset_mv = -70.0\nt_ref_ms = 2.0";
    // R = 10/250 = 0.04 mV/pA: 12 mV ↔ 300 pA, 16 mV ↔ 400 pA.
    let sub = net(&single(
        &format!("{base}\ni_e_pa = 300.0"),
        -70.0,
        300.0,
        100,
    ));
    let sup = net(&single(
        &format!("{base}\ni_e_pa = 400.0"),
        -70.0,
        300.0,
        100,
    ));
    for ((name, a), (_, b)) in every_backend(&sub).into_iter().zip(every_backend(&sup)) {
        assert!(a.spikes.is_empty(), "{name}: 12 mV must not fire");
        let v_end = trace(&a, &sub, 0).last().unwrap().1;
        // after 30 τ the transient is e^-30 ≈ 1e-13 of 12 mV: only rounding remains
        assert!(
            (v_end - (-58.0)).abs() < 1e-4,
            "{name}: settles at {v_end}, expected −58 mV"
        );
        assert!(!b.spikes.is_empty(), "{name}: 16 mV must fire");
    }
}

/// Spec section 6: on the grid, the inter-spike interval is exactly (round(t_ref/dt) + k)·dt
/// where k is the number of integration steps from V_reset to the first V ≥ V_th. The
/// first spike from V0 = V_reset comes after k steps, so a run of D steps has
/// floor((D − k)/(ref + k)) + 1 spikes. The closed-form rate 1/(t_ref + T) must agree
/// within one step of ISI.
#[test]
fn fi_curve_grid_exact_and_closed_form() {
    let n = 40;
    let (tau, c, dt, t_ref, th, el) = (10.0f64, 250.0f64, 0.1f64, 2.0f64, 15.0f64, -70.0f64);
    let (i_lo, i_hi) = (380.0, 1500.0);
    let text = format!(
        r#"
[simulation]
dt_ms = {dt}
duration_ms = 500.0
[[population]]
name = "fi"
size = {n}
model = "lif"
[population.params]
tau_m_ms = {tau}
c_m_pf = {c}
e_l_mv = {el}
v_th_mv = {}
v_reset_mv = {el}
t_ref_ms = {t_ref}
i_e_pa = {{ linspace = [{i_lo}, {i_hi}] }}
[population.init]
v_mv = {el}
"#,
        el + th
    );
    let net = net(&text);
    let d_steps = net.steps as i64;
    let ref_steps = (t_ref / dt).round() as i64;
    let p33 = (-dt / tau).exp();
    for (name, run) in every_backend(&net) {
        let mut checked = 0;
        for i in 0..n {
            let current = i_lo + i as f64 * (i_hi - i_lo) / (n - 1) as f64;
            let v_bar = tau / c * current; // relative to E_L = V_reset
            let t_closed = tau * (v_bar / (v_bar - th)).ln();
            // grid solution: u_k = v_bar·(1 − P33^k), first k with u_k ≥ θ
            let k = (1..).find(|&k| v_bar * (1.0 - p33.powi(k)) >= th).unwrap() as i64;
            // skip currents whose crossing is within rounding of a grid point
            let margin = v_bar * (1.0 - p33.powi(k as i32)) - th;
            if margin.abs() < 1e-4 || (v_bar * (1.0 - p33.powi(k as i32 - 1)) - th).abs() < 1e-4 {
                continue;
            }
            let times: Vec<u64> = run
                .spikes
                .iter()
                .filter(|s| s.2 as usize == i)
                .map(|s| s.0)
                .collect();
            let expect = if d_steps >= k {
                (d_steps - k) / (ref_steps + k) + 1
            } else {
                0
            };
            assert_eq!(
                times.len() as i64,
                expect,
                "{name}: I = {current} pA: spike count"
            );
            assert_eq!(times[0] as i64 + 1, k, "{name}: first spike after k steps");
            for w in times.windows(2) {
                assert_eq!(
                    (w[1] - w[0]) as i64,
                    ref_steps + k,
                    "{name}: ISI on the grid"
                );
            }
            let isi = (ref_steps + k) as f64 * dt;
            assert!(
                (isi - (t_ref + t_closed)).abs() <= dt,
                "{name}: ISI {isi} vs closed form {}",
                t_ref + t_closed
            );
            checked += 1;
        }
        assert!(checked >= n - 4, "{name}: only {checked} currents checked");
    }
}

/// Refractoriness and delta input (spec section 4): input arriving during the refractory
/// period is dropped; the potential is held at V_reset for round(t_ref/dt) steps.
#[test]
fn refractory_hold_and_delay_in_whole_steps() {
    // pre fires at once (V0 above threshold); post receives a 5 mV delta jump after 1.5 ms.
    let text = r#"
[simulation]
dt_ms = 0.1
duration_ms = 5.0
[[population]]
name = "pre"
size = 1
model = "lif"
synapse = "delta"
[population.params]
e_l_mv = -60.0
v_th_mv = -55.0
v_reset_mv = -70.0
t_ref_ms = 2.0
[population.init]
v_mv = -50.0
[[population]]
name = "post"
size = 1
model = "lif"
synapse = "delta"
[population.init]
v_mv = -70.0
[[projection]]
pre = "pre"
post = "post"
receptor = "ampa"
weight = 5.0
delay_ms = 1.5
connect = { rule = "one_to_one" }
[record]
voltage = [{ population = "pre", neurons = [0] }, { population = "post", neurons = [0] }]
"#;
    let net = net(text);
    for (name, run) in every_backend(&net) {
        // pre spikes in step 0 (stamped 0.1 ms)
        assert_eq!(run.spikes, vec![(0, 0, 0)], "{name}");
        let pre = trace(&run, &net, 0);
        // held at V_reset = −70 mV for the 20 steps of t_ref = 2 ms after the spike
        // (samples at t = 0.1 … 2.1 ms), then relaxing towards E_L = −60 mV
        for &(t, v) in &pre[1..=21] {
            assert_eq!(v, -70.0, "{name}: pre at t={t}");
        }
        let t22 = pre[22].0 - 2.1;
        let expect = -60.0 - 10.0 * (-t22 / 20.0).exp();
        assert!(
            (pre[22].1 - expect).abs() < 1e-5,
            "{name}: pre leaves the reset after t_ref: {} vs {expect}",
            pre[22].1
        );
        let post = trace(&run, &net, 1);
        // emitted in step 0, D = 15: arrives in step 15, i.e. visible after step 15 (t = 1.6 ms)
        for &(t, v) in &post {
            let expect = if t > 1.55 { -65.0 } else { -70.0 };
            // at rest E_L = −70 the jump decays with τ_m: −70 + 5·exp(−(t − 1.6)/20)
            let expect = if t > 1.55 {
                -70.0 + 5.0 * (-(t - 1.6) / 20.0).exp()
            } else {
                expect
            };
            assert!(
                (v - expect).abs() < 1e-5,
                "{name}: post at t={t}: {v} vs {expect}"
            );
        }
    }
}
