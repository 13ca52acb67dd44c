//! Adaptive exponential integrate-and-fire neurons (Brette & Gerstner 2005) with
//! conductance synapses: NEST's `aeif_cond_exp` and `aeif_cond_alpha`, PyNN's
//! `EIF_cond_exp_isfa_ista` and `EIF_cond_alpha_isfa_ista`. Spec: [`spec.md`](spec.md)
//! (normative).
//!
//! NEST integrates these with GSL's adaptive RKF45 and handles spikes after every
//! integration step inside the simulation step. galvani keeps that structure on a fixed
//! grid of classical RK4 steps: 0.05 ms intervals ([`COARSE_PER_MS`]), each taken in
//! 0.005 ms substeps ([`SUBSTEPS_PER_MS`]) where V starts it above V_T, with
//! NEST's right-hand side (V clamped to V_peak, to V_reset while refractory) and its
//! spike and refractory handling after each (sub)step. [`adex_update`] (CPU, generic over the
//! precision) and `point_update` in `adex.wgsl` are twins.

use crate::config::{Config, Population};
use crate::error::Result;
use crate::model::point::{CheckError, PointDynamics, StepFn};
use crate::model::{Init, NeuronModel, Param};
use crate::real::Real;

/// RK4 substeps per ms near the spike (0.005 ms; with 0.01 ms a driven neuron's spikes
/// were up to 0.2 ms off NEST's, with 0.005 ms all within 0.1 ms).
pub const SUBSTEPS_PER_MS: f64 = 200.0;

/// RK4 steps per ms where V is well below V_T (20 at dt = 0.1 ms: 0.05 ms steps).
pub const COARSE_PER_MS: f64 = 20.0;

/// The fine substeps are taken for an interval that starts with V above V_T − this many
/// Δ_T. Measured against NEST (tests/suite/adex.rs): margins of 4, 1 and 0 gave the same
/// spike steps for every driven neuron and pattern; 0 costs a third of 4 in a neuron
/// firing at 20 Hz (0.62 against 2.0 µs per step).
pub const FINE_MARGIN: f64 = 0.0;

/// The parameters (`params.<name>`), NEST's defaults for `aeif_cond_exp`.
pub const PARAMS: &[Param] = &[
    Param::new("c_m_pf", "pF", 281.0, "Membrane capacitance C_m."),
    Param::new("g_l_ns", "nS", 30.0, "Leak conductance g_L."),
    Param::new("e_l_mv", "mV", -70.6, "Leak reversal potential E_L."),
    Param::new(
        "delta_t_mv",
        "mV",
        2.0,
        "Slope factor Δ_T (0: no exponential term).",
    ),
    Param::new(
        "v_t_mv",
        "mV",
        -50.4,
        "Threshold of the exponential term V_T (NEST's V_th).",
    ),
    Param::new(
        "v_peak_mv",
        "mV",
        0.0,
        "Spike detection: V ≥ V_peak is a spike.",
    ),
    Param::new("v_reset_mv", "mV", -60.0, "Reset potential."),
    Param::new(
        "t_ref_ms",
        "ms",
        0.0,
        "Refractory period (V clamped to V_reset).",
    ),
    Param::new("a_ns", "nS", 4.0, "Subthreshold adaptation a."),
    Param::new("b_pa", "pA", 80.5, "Spike-triggered adaptation b."),
    Param::new("tau_w_ms", "ms", 144.0, "Adaptation time constant τ_w."),
    Param::new("i_e_pa", "pA", 0.0, "Constant input current I_e."),
    Param::new(
        "tau_ampa_ms",
        "ms",
        0.2,
        "Excitatory (AMPA) conductance time constant.",
    ),
    Param::new(
        "tau_gaba_a_ms",
        "ms",
        2.0,
        "Inhibitory (GABA-A) conductance time constant.",
    ),
    Param::new("e_ampa_mv", "mV", 0.0, "AMPA reversal potential."),
    Param::new("e_gaba_a_mv", "mV", -85.0, "GABA-A reversal potential."),
];

/// The initial values (`init.<name>`).
pub const INIT: &[Init] = &[
    Init::new("v_mv", "mV", "E_L", "Membrane potential at t = 0."),
    Init::new("w", "pA", "0", "Adaptation current at t = 0."),
];

/// Indices of the derived constants.
mod c {
    pub const ALPHA: usize = 0;
    pub const H: usize = 1;
    pub const N_SUB: usize = 2;
    pub const INV_C: usize = 3;
    pub const G_L: usize = 4;
    pub const E_L: usize = 5;
    pub const DELTA_T: usize = 6;
    pub const INV_DELTA_T: usize = 7;
    pub const V_T: usize = 8;
    pub const V_PEAK: usize = 9;
    pub const V_RESET: usize = 10;
    pub const REF: usize = 11;
    pub const A: usize = 12;
    pub const B: usize = 13;
    pub const INV_TAU_W: usize = 14;
    pub const I_E: usize = 15;
    pub const INV_TAU_EX: usize = 16;
    pub const INV_TAU_IN: usize = 17;
    pub const E_EX: usize = 18;
    pub const E_IN: usize = 19;
    pub const G0_EX: usize = 20;
    pub const G0_IN: usize = 21;
    pub const H_COARSE: usize = 22;
    pub const N_COARSE: usize = 23;
    pub const V_FINE: usize = 24;
    pub const N: usize = 25;
}

/// The state variables: V, w, g_AMPA, g_GABA-A, their derivative states (alpha kind),
/// and the refractory steps left.
pub const STATE: &[&str] = &[
    "v_mv",
    "w",
    "syn_ampa",
    "syn_gaba_a",
    "dsyn_ampa",
    "dsyn_gaba_a",
    "refractory_steps",
];

/// The constants [`adex_update`] reads, out of the set once per step.
struct K<F> {
    alpha: bool,
    inv_c: F,
    g_l: F,
    e_l: F,
    delta_t: F,
    inv_delta_t: F,
    v_t: F,
    v_peak: F,
    v_reset: F,
    a: F,
    inv_tau_w: F,
    i_e: F,
    inv_tau_ex: F,
    inv_tau_in: F,
    e_ex: F,
    e_in: F,
}

/// NEST's right-hand side at state y = (V, w, g_ex, g_in, dg_ex, dg_in).
#[inline(always)]
fn rhs<F: Real>(k: &K<F>, y: &[F; 6], refractory: bool, i_stim: F) -> [F; 6] {
    let v = if refractory {
        k.v_reset
    } else {
        y[0].min(k.v_peak)
    };
    let (w, g_ex, g_in) = (y[1], y[2], y[3]);
    let i_ex = g_ex * (v - k.e_ex);
    let i_in = g_in * (v - k.e_in);
    let i_spike = if k.delta_t == F::zero() {
        F::zero()
    } else {
        k.g_l * k.delta_t * ((v - k.v_t) * k.inv_delta_t).exp()
    };
    let dv = if refractory {
        F::zero()
    } else {
        (-k.g_l * (v - k.e_l) + i_spike - i_ex - i_in - w + k.i_e + i_stim) * k.inv_c
    };
    let dw = (k.a * (v - k.e_l) - w) * k.inv_tau_w;
    if k.alpha {
        [
            dv,
            dw,
            y[4] - g_ex * k.inv_tau_ex,
            y[5] - g_in * k.inv_tau_in,
            -y[4] * k.inv_tau_ex,
            -y[5] * k.inv_tau_in,
        ]
    } else {
        [
            dv,
            dw,
            -g_ex * k.inv_tau_ex,
            -g_in * k.inv_tau_in,
            F::zero(),
            F::zero(),
        ]
    }
}

/// One classical RK4 step of length h.
#[inline(always)]
fn rk4<F: Real>(k: &K<F>, y: &mut [F; 6], h: F, refractory: bool, i_stim: F) {
    let half = h * F::of(0.5);
    let sixth = h / F::of(6.0);
    let two = F::of(2.0);
    let k1 = rhs(k, y, refractory, i_stim);
    let y2: [F; 6] = std::array::from_fn(|j| y[j] + half * k1[j]);
    let k2 = rhs(k, &y2, refractory, i_stim);
    let y3: [F; 6] = std::array::from_fn(|j| y[j] + half * k2[j]);
    let k3 = rhs(k, &y3, refractory, i_stim);
    let y4: [F; 6] = std::array::from_fn(|j| y[j] + h * k3[j]);
    let k4 = rhs(k, &y4, refractory, i_stim);
    for j in 0..6 {
        y[j] = y[j] + sixth * (k1[j] + two * k2[j] + two * k3[j] + k4[j]);
    }
}

/// One step of one neuron (spec section 3): `n_coarse` intervals, each one RK4 step, or
/// `n_fine` RK4 substeps where V starts the interval above `v_fine` (near or past V_T,
/// where the exponential term drives the spike), each substep followed by NEST's spike
/// and refractory handling; then the refractory count, then this step's arrivals
/// (g += w, or dg += w·e/τ for alpha). Returns whether it spiked.
#[inline(always)]
pub fn adex_update<F: Real>(c: &[F], s: &mut [F], in_ampa: F, in_gaba: F, i_stim: F) -> bool {
    let k = K {
        alpha: c[c::ALPHA] != F::zero(),
        inv_c: c[c::INV_C],
        g_l: c[c::G_L],
        e_l: c[c::E_L],
        delta_t: c[c::DELTA_T],
        inv_delta_t: c[c::INV_DELTA_T],
        v_t: c[c::V_T],
        v_peak: c[c::V_PEAK],
        v_reset: c[c::V_RESET],
        a: c[c::A],
        inv_tau_w: c[c::INV_TAU_W],
        i_e: c[c::I_E],
        inv_tau_ex: c[c::INV_TAU_EX],
        inv_tau_in: c[c::INV_TAU_IN],
        e_ex: c[c::E_EX],
        e_in: c[c::E_IN],
    };
    let (h_coarse, h_fine) = (c[c::H_COARSE], c[c::H]);
    let (n_coarse, n_fine, v_fine) = (c[c::N_COARSE], c[c::N_SUB], c[c::V_FINE]);
    let mut y = [s[0], s[1], s[2], s[3], s[4], s[5]];
    let mut r = s[6];
    let mut spiked = false;
    let mut i = F::zero();
    while i < n_coarse {
        let fine = r <= F::zero() && y[0] > v_fine;
        let (h, n) = if fine {
            (h_fine, n_fine)
        } else {
            (h_coarse, F::one())
        };
        let mut j = F::zero();
        while j < n {
            let refractory = r > F::zero();
            rk4(&k, &mut y, h, refractory, i_stim);
            if refractory {
                y[0] = k.v_reset;
            } else if y[0] >= k.v_peak {
                y[0] = k.v_reset;
                y[1] = y[1] + c[c::B];
                // + 1: the count-down after the step (none without a refractory period)
                r = if c[c::REF] > F::zero() {
                    c[c::REF] + F::one()
                } else {
                    F::zero()
                };
                spiked = true;
            }
            j = j + F::one();
        }
        i = i + F::one();
    }
    if r > F::zero() {
        r = r - F::one();
    }
    if k.alpha {
        y[4] = y[4] + in_ampa * c[c::G0_EX];
        y[5] = y[5] + in_gaba * c[c::G0_IN];
    } else {
        y[2] = y[2] + in_ampa;
        y[3] = y[3] + in_gaba;
    }
    for j in 0..6 {
        s[j] = y[j].flush();
    }
    s[6] = r;
    spiked
}

fn step_f32(c: &[f32], s: &mut [f32], a: f32, g: f32, i: f32) -> bool {
    adex_update(c, s, a, g, i)
}

fn step_f64(c: &[f64], s: &mut [f64], a: f64, g: f64, i: f64) -> bool {
    adex_update(c, s, a, g, i)
}

/// The AdEx model ([`NeuronModel`] and [`PointDynamics`]).
pub struct Adex;

/// The registered value.
pub static ADEX: Adex = Adex;

impl NeuronModel for Adex {
    fn name(&self) -> &'static str {
        "adex"
    }
    fn summary(&self) -> &'static str {
        "Adaptive exponential integrate-and-fire neuron with conductance synapses, RK4 on \
         a fixed grid (0.05 ms, 0.005 ms near the spike) (NEST `aeif_cond_exp`, `aeif_cond_alpha`; PyNN \
         `EIF_cond_exp_isfa_ista`, `EIF_cond_alpha_isfa_ista`)."
    }
    fn spec(&self) -> &'static str {
        "src/model/adex/spec.md"
    }
    fn params(&self) -> &'static [Param] {
        PARAMS
    }
    fn init(&self) -> &'static [Init] {
        INIT
    }
    fn synapses(&self) -> &'static [&'static str] {
        &["exp_conductance", "alpha_conductance"]
    }
    fn probes(&self) -> &'static [&'static str] {
        STATE
    }
    fn kernels(&self) -> &'static [&'static str] {
        &["point_step"]
    }
    fn dynamics(&self) -> Option<&'static dyn PointDynamics> {
        Some(&ADEX)
    }
    fn check_population(&self, _cfg: &Config, _at: &str, _p: &Population) -> Result<()> {
        Ok(())
    }
}

#[allow(
    clippy::neg_cmp_op_on_partial_ord,
    reason = "!(x > 0) also rejects NaN"
)]
impl PointDynamics for Adex {
    fn state(&self) -> &'static [&'static str] {
        STATE
    }
    fn n_consts(&self) -> usize {
        c::N
    }
    fn derive(&self, p: &dyn Fn(&str) -> f64, synapse: &str, dt_ms: f64) -> Vec<f64> {
        let n_coarse = (dt_ms * COARSE_PER_MS - 1e-9).ceil().max(1.0);
        let n_sub = (dt_ms / n_coarse * SUBSTEPS_PER_MS - 1e-9).ceil().max(1.0);
        let alpha = synapse == "alpha_conductance";
        let delta_t = p("delta_t_mv");
        let mut k = vec![0.0; c::N];
        k[c::ALPHA] = alpha as u8 as f64;
        k[c::H_COARSE] = dt_ms / n_coarse;
        k[c::N_COARSE] = n_coarse;
        k[c::H] = dt_ms / n_coarse / n_sub;
        k[c::N_SUB] = n_sub;
        // the fine substeps from FINE_MARGIN slope factors below V_T (2 mV without the
        // exponential term)
        k[c::V_FINE] = p("v_t_mv")
            - if delta_t > 0.0 {
                FINE_MARGIN * delta_t
            } else {
                2.0
            };
        k[c::INV_C] = 1.0 / p("c_m_pf");
        k[c::G_L] = p("g_l_ns");
        k[c::E_L] = p("e_l_mv");
        k[c::DELTA_T] = delta_t;
        k[c::INV_DELTA_T] = if delta_t > 0.0 { 1.0 / delta_t } else { 0.0 };
        k[c::V_T] = p("v_t_mv");
        // NEST: without the exponential term the spike is at V_T
        k[c::V_PEAK] = if delta_t > 0.0 {
            p("v_peak_mv")
        } else {
            p("v_t_mv")
        };
        k[c::V_RESET] = p("v_reset_mv");
        k[c::REF] = (p("t_ref_ms") / dt_ms).round();
        k[c::A] = p("a_ns");
        k[c::B] = p("b_pa");
        k[c::INV_TAU_W] = 1.0 / p("tau_w_ms");
        k[c::I_E] = p("i_e_pa");
        k[c::INV_TAU_EX] = 1.0 / p("tau_ampa_ms");
        k[c::INV_TAU_IN] = 1.0 / p("tau_gaba_a_ms");
        k[c::E_EX] = p("e_ampa_mv");
        k[c::E_IN] = p("e_gaba_a_mv");
        // alpha: a weight w nS is the conductance's peak, reached τ after the arrival
        k[c::G0_EX] = std::f64::consts::E / p("tau_ampa_ms");
        k[c::G0_IN] = std::f64::consts::E / p("tau_gaba_a_ms");
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
        for k in [
            "c_m_pf",
            "g_l_ns",
            "tau_w_ms",
            "tau_ampa_ms",
            "tau_gaba_a_ms",
        ] {
            if !(p(k) > 0.0) {
                return Err((k, format!("expected a positive value, got {}", p(k))));
            }
        }
        for k in ["delta_t_mv", "t_ref_ms"] {
            if !(p(k) >= 0.0) {
                return Err((k, format!("expected a non-negative value, got {}", p(k))));
            }
        }
        if p("delta_t_mv") > 0.0 && !(p("v_peak_mv") > p("v_t_mv")) {
            return Err((
                "v_peak_mv",
                format!(
                    "v_peak_mv ({}) must be above v_t_mv ({}) (NEST's V_peak > V_th)",
                    p("v_peak_mv"),
                    p("v_t_mv")
                ),
            ));
        }
        let peak = if p("delta_t_mv") > 0.0 {
            p("v_peak_mv")
        } else {
            p("v_t_mv")
        };
        if !(p("v_reset_mv") < peak) {
            return Err((
                "v_reset_mv",
                format!(
                    "v_reset_mv ({}) must be below the spike detection ({peak} mV)",
                    p("v_reset_mv")
                ),
            ));
        }
        // exp((V_peak − V_T)/Δ_T) must stay finite in f32 (NEST refuses large ratios too)
        if p("delta_t_mv") > 0.0 && (p("v_peak_mv") - p("v_t_mv")) / p("delta_t_mv") > 60.0 {
            return Err((
                "delta_t_mv",
                format!(
                    "(v_peak_mv − v_t_mv) / delta_t_mv = {} would overflow exp() in f32; expected at most 60",
                    (p("v_peak_mv") - p("v_t_mv")) / p("delta_t_mv")
                ),
            ));
        }
        Ok(())
    }
    fn initial(&self, p: &dyn Fn(&str) -> f64, init: &dyn Fn(&str) -> Option<f64>) -> Vec<f64> {
        vec![
            init("v_mv").unwrap_or(p("e_l_mv")),
            init("w").unwrap_or(0.0),
            0.0,
            0.0,
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
        include_str!("adex.wgsl")
    }
    fn wgsl_path(&self) -> &'static str {
        "src/model/adex/adex.wgsl"
    }
    fn bitwise_portable(&self) -> bool {
        false
    }
}
