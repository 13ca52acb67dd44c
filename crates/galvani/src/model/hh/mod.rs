//! Hodgkin-Huxley neurons with Traub's rate functions and exponential conductance
//! synapses: NEST's `hh_cond_exp_traub`, PyNN's `HH_cond_exp`. Spec:
//! [`spec.md`](spec.md) (normative).
//!
//! NEST integrates the model with GSL's adaptive RKF45 (tolerance 1e-3); galvani with
//! classical RK4 on a fixed grid of [`SUBSTEPS_PER_MS`] substeps per ms, then NEST's
//! order: the step's arrivals, then the spike test (V ≥ V_T + 30 mV and falling, outside
//! the refractory count). [`hh_update`] (CPU, generic over the precision) and
//! `point_update` in `hh.wgsl` are twins.

use crate::config::{Config, Population};
use crate::error::Result;
use crate::model::point::{CheckError, PointDynamics, StepFn};
use crate::model::{Init, NeuronModel, Param};
use crate::real::Real;

/// RK4 substeps per ms (0.01 ms; the fastest rate of the default cell, g_Na/C_m = 100/ms,
/// keeps RK4 stable up to about 0.028 ms).
pub const SUBSTEPS_PER_MS: f64 = 100.0;

/// The parameters (`params.<name>`), NEST's defaults.
pub const PARAMS: &[Param] = &[
    Param::new("c_m_pf", "pF", 200.0, "Membrane capacitance C_m."),
    Param::new("g_na_ns", "nS", 20000.0, "Sodium peak conductance g_Na."),
    Param::new("g_k_ns", "nS", 6000.0, "Potassium peak conductance g_K."),
    Param::new("g_l_ns", "nS", 10.0, "Leak conductance g_L."),
    Param::new("e_na_mv", "mV", 50.0, "Sodium reversal potential."),
    Param::new("e_k_mv", "mV", -90.0, "Potassium reversal potential."),
    Param::new("e_l_mv", "mV", -60.0, "Leak reversal potential."),
    Param::new(
        "v_t_mv",
        "mV",
        -63.0,
        "Voltage offset V_T of the rate functions (spikes are detected above V_T + 30 mV).",
    ),
    Param::new(
        "t_ref_ms",
        "ms",
        2.0,
        "Refractory period of the spike detection (the dynamics go on).",
    ),
    Param::new("i_e_pa", "pA", 0.0, "Constant input current I_e."),
    Param::new(
        "tau_ampa_ms",
        "ms",
        5.0,
        "Excitatory (AMPA) conductance time constant.",
    ),
    Param::new(
        "tau_gaba_a_ms",
        "ms",
        10.0,
        "Inhibitory (GABA-A) conductance time constant.",
    ),
    Param::new("e_ampa_mv", "mV", 0.0, "AMPA reversal potential."),
    Param::new("e_gaba_a_mv", "mV", -80.0, "GABA-A reversal potential."),
];

/// The initial values (`init.<name>`).
pub const INIT: &[Init] = &[
    Init::new("v_mv", "mV", "E_L", "Membrane potential at t = 0."),
    Init::new(
        "m",
        "1",
        "α_m/(α_m+β_m) at V(0)",
        "Sodium activation at t = 0.",
    ),
    Init::new(
        "h",
        "1",
        "α_h/(α_h+β_h) at V(0)",
        "Sodium inactivation at t = 0.",
    ),
    Init::new(
        "n",
        "1",
        "α_n/(α_n+β_n) at V(0)",
        "Potassium activation at t = 0.",
    ),
];

/// The state variables.
pub const STATE: &[&str] = &[
    "v_mv",
    "m",
    "h",
    "n",
    "syn_ampa",
    "syn_gaba_a",
    "refractory_steps",
];

mod c {
    pub const H: usize = 0;
    pub const N_SUB: usize = 1;
    pub const INV_C: usize = 2;
    pub const G_NA: usize = 3;
    pub const G_K: usize = 4;
    pub const G_L: usize = 5;
    pub const E_NA: usize = 6;
    pub const E_K: usize = 7;
    pub const E_L: usize = 8;
    pub const V_T: usize = 9;
    pub const E_EX: usize = 10;
    pub const E_IN: usize = 11;
    pub const INV_TAU_EX: usize = 12;
    pub const INV_TAU_IN: usize = 13;
    pub const I_E: usize = 14;
    pub const REF: usize = 15;
    pub const N: usize = 16;
}

/// Traub's rate functions at u = V − V_T: (α_m, β_m, α_h, β_h, α_n, β_n) in 1/ms.
#[inline(always)]
pub fn rates<F: Real>(u: F) -> [F; 6] {
    let f = F::of;
    [
        f(0.32) * (f(13.0) - u) / (((f(13.0) - u) / f(4.0)).exp() - F::one()),
        f(0.28) * (u - f(40.0)) / (((u - f(40.0)) / f(5.0)).exp() - F::one()),
        f(0.128) * ((f(17.0) - u) / f(18.0)).exp(),
        f(4.0) / (F::one() + ((f(40.0) - u) / f(5.0)).exp()),
        f(0.032) * (f(15.0) - u) / (((f(15.0) - u) / f(5.0)).exp() - F::one()),
        f(0.5) * ((f(10.0) - u) / f(40.0)).exp(),
    ]
}

/// NEST's right-hand side at y = (V, m, h, n, g_ex, g_in).
#[inline(always)]
fn rhs<F: Real>(c: &[F], y: &[F; 6], i_stim: F) -> [F; 6] {
    let (v, m, h, n, g_ex, g_in) = (y[0], y[1], y[2], y[3], y[4], y[5]);
    let i_na = c[c::G_NA] * m * m * m * h * (v - c[c::E_NA]);
    let i_k = c[c::G_K] * n * n * n * n * (v - c[c::E_K]);
    let i_l = c[c::G_L] * (v - c[c::E_L]);
    let i_ex = g_ex * (v - c[c::E_EX]);
    let i_in = g_in * (v - c[c::E_IN]);
    let [am, bm, ah, bh, an, bn] = rates(v - c[c::V_T]);
    [
        (-i_na - i_k - i_l - i_ex - i_in + i_stim + c[c::I_E]) * c[c::INV_C],
        am - (am + bm) * m,
        ah - (ah + bh) * h,
        an - (an + bn) * n,
        -g_ex * c[c::INV_TAU_EX],
        -g_in * c[c::INV_TAU_IN],
    ]
}

/// One step of one neuron (spec section 3): RK4 substeps over the step; the step's
/// arrivals (g += w); then, outside the refractory count (which counts down), a spike
/// where V ≥ V_T + 30 mV and V fell over the step (just past the peak).
#[inline(always)]
pub fn hh_update<F: Real>(c: &[F], s: &mut [F], in_ampa: F, in_gaba: F, i_stim: F) -> bool {
    let mut y = [s[0], s[1], s[2], s[3], s[4], s[5]];
    let v_old = y[0];
    let h = c[c::H];
    let half = h * F::of(0.5);
    let sixth = h / F::of(6.0);
    let two = F::of(2.0);
    let mut k = F::zero();
    while k < c[c::N_SUB] {
        let k1 = rhs(c, &y, i_stim);
        let y2: [F; 6] = std::array::from_fn(|j| y[j] + half * k1[j]);
        let k2 = rhs(c, &y2, i_stim);
        let y3: [F; 6] = std::array::from_fn(|j| y[j] + half * k2[j]);
        let k3 = rhs(c, &y3, i_stim);
        let y4: [F; 6] = std::array::from_fn(|j| y[j] + h * k3[j]);
        let k4 = rhs(c, &y4, i_stim);
        for j in 0..6 {
            y[j] = y[j] + sixth * (k1[j] + two * k2[j] + two * k3[j] + k4[j]);
        }
        k = k + F::one();
    }
    y[4] = y[4] + in_ampa;
    y[5] = y[5] + in_gaba;
    let mut r = s[6];
    let mut spiked = false;
    if r > F::zero() {
        r = r - F::one();
    } else if y[0] >= c[c::V_T] + F::of(30.0) && v_old > y[0] {
        r = c[c::REF];
        spiked = true;
    }
    for j in 0..6 {
        s[j] = y[j].flush();
    }
    s[6] = r;
    spiked
}

fn step_f32(c: &[f32], s: &mut [f32], a: f32, g: f32, i: f32) -> bool {
    hh_update(c, s, a, g, i)
}

fn step_f64(c: &[f64], s: &mut [f64], a: f64, g: f64, i: f64) -> bool {
    hh_update(c, s, a, g, i)
}

/// The HH model ([`NeuronModel`] and [`PointDynamics`]).
pub struct Hh;

/// The registered value.
pub static HH: Hh = Hh;

impl NeuronModel for Hh {
    fn name(&self) -> &'static str {
        "hh"
    }
    fn summary(&self) -> &'static str {
        "Hodgkin-Huxley neuron with Traub's rate functions and exponential conductance \
         synapses, RK4 on a fixed grid of 0.01 ms substeps (NEST `hh_cond_exp_traub`, PyNN \
         `HH_cond_exp`)."
    }
    fn spec(&self) -> &'static str {
        "src/model/hh/spec.md"
    }
    fn params(&self) -> &'static [Param] {
        PARAMS
    }
    fn init(&self) -> &'static [Init] {
        INIT
    }
    fn synapses(&self) -> &'static [&'static str] {
        &["exp_conductance"]
    }
    fn probes(&self) -> &'static [&'static str] {
        STATE
    }
    fn kernels(&self) -> &'static [&'static str] {
        &["point_step"]
    }
    fn dynamics(&self) -> Option<&'static dyn PointDynamics> {
        Some(&HH)
    }
    fn check_population(&self, _cfg: &Config, _at: &str, _p: &Population) -> Result<()> {
        Ok(())
    }
}

#[allow(
    clippy::neg_cmp_op_on_partial_ord,
    reason = "!(x > 0) also rejects NaN"
)]
impl PointDynamics for Hh {
    fn state(&self) -> &'static [&'static str] {
        STATE
    }
    fn n_consts(&self) -> usize {
        c::N
    }
    fn derive(&self, p: &dyn Fn(&str) -> f64, _synapse: &str, dt_ms: f64) -> Vec<f64> {
        let n_sub = (dt_ms * SUBSTEPS_PER_MS - 1e-9).ceil().max(1.0);
        let mut k = vec![0.0; c::N];
        k[c::H] = dt_ms / n_sub;
        k[c::N_SUB] = n_sub;
        k[c::INV_C] = 1.0 / p("c_m_pf");
        k[c::G_NA] = p("g_na_ns");
        k[c::G_K] = p("g_k_ns");
        k[c::G_L] = p("g_l_ns");
        k[c::E_NA] = p("e_na_mv");
        k[c::E_K] = p("e_k_mv");
        k[c::E_L] = p("e_l_mv");
        k[c::V_T] = p("v_t_mv");
        k[c::E_EX] = p("e_ampa_mv");
        k[c::E_IN] = p("e_gaba_a_mv");
        k[c::INV_TAU_EX] = 1.0 / p("tau_ampa_ms");
        k[c::INV_TAU_IN] = 1.0 / p("tau_gaba_a_ms");
        k[c::I_E] = p("i_e_pa");
        k[c::REF] = (p("t_ref_ms") / dt_ms).round();
        k
    }
    fn check(&self, p: &dyn Fn(&str) -> f64) -> std::result::Result<(), CheckError> {
        for q in PARAMS {
            if !p(q.name).is_finite() {
                return Err((
                    q.name,
                    format!("expected a finite number, got {}", p(q.name)),
                ));
            }
        }
        for k in ["c_m_pf", "tau_ampa_ms", "tau_gaba_a_ms"] {
            if !(p(k) > 0.0) {
                return Err((k, format!("expected a positive value, got {}", p(k))));
            }
        }
        for k in ["g_na_ns", "g_k_ns", "g_l_ns", "t_ref_ms"] {
            if !(p(k) >= 0.0) {
                return Err((k, format!("expected a non-negative value, got {}", p(k))));
            }
        }
        Ok(())
    }
    fn initial(&self, p: &dyn Fn(&str) -> f64, init: &dyn Fn(&str) -> Option<f64>) -> Vec<f64> {
        let v = init("v_mv").unwrap_or(p("e_l_mv"));
        let [am, bm, ah, bh, an, bn] = rates(v - p("v_t_mv"));
        vec![
            v,
            init("m").unwrap_or(am / (am + bm)),
            init("h").unwrap_or(ah / (ah + bh)),
            init("n").unwrap_or(an / (an + bn)),
            0.0,
            0.0,
            0.0,
        ]
    }
    fn step_f32(&self) -> StepFn<f32> {
        step_f32
    }
    fn step_f64(&self) -> StepFn<f64> {
        step_f64
    }
    fn wgsl(&self) -> &'static str {
        include_str!("hh.wgsl")
    }
    fn wgsl_path(&self) -> &'static str {
        "src/model/hh/hh.wgsl"
    }
    fn bitwise_portable(&self) -> bool {
        false
    }
}
