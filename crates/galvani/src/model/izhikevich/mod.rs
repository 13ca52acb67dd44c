//! Izhikevich (2003) neurons with NEST's `consistent_integration` scheme: spec
//! [`spec.md`](spec.md) (normative). The update is [`izhikevich_update`] (CPU, generic
//! over the precision) and `point_update` in `izhikevich.wgsl` (GPU), twins in the same
//! operation order, which is NEST's: f64 runs are NEST 3.10's bit for bit.
//!
//! A point model ([`PointDynamics`]): state (V, u), constants derived on the host, delta
//! synapses (a weight is a jump of V in mV, either receptor).

use crate::config::{Config, Population};
use crate::error::Result;
use crate::model::point::{CheckError, PointDynamics, StepFn};
use crate::model::{Init, NeuronModel, Param};
use crate::real::Real;

/// The parameters (`params.<name>`), NEST's defaults.
pub const PARAMS: &[Param] = &[
    Param::new("a", "1/ms", 0.02, "Time scale of the recovery variable u."),
    Param::new("b", "1", 0.2, "Sensitivity of u to V."),
    Param::new("c_mv", "mV", -65.0, "Reset value of V after a spike."),
    Param::new("d", "mV/ms", 8.0, "Increment of u after a spike."),
    Param::new(
        "v_th_mv",
        "mV",
        30.0,
        "Spike cutoff: V ≥ v_th_mv is a spike.",
    ),
    Param::new(
        "v_min_mv",
        "mV",
        f64::NEG_INFINITY,
        "Lower bound of V (none by default).",
    ),
    Param::new(
        "i_e_pa",
        "pA",
        0.0,
        "Constant input current I_e (enters dV/dt as a number, as in NEST).",
    ),
];

/// The initial values (`init.<name>`), NEST's defaults.
pub const INIT: &[Init] = &[
    Init::new("v_mv", "mV", "−65", "Membrane potential V at t = 0."),
    Init::new("u", "mV/ms", "0", "Recovery variable u at t = 0."),
];

/// The derived constants, in their storage order (`consts[C_*]`).
pub const C_H: usize = 0;
/// h·a.
pub const C_HA: usize = 1;
/// b.
pub const C_B: usize = 2;
/// c (mV).
pub const C_C: usize = 3;
/// d.
pub const C_D: usize = 4;
/// V_th (mV).
pub const C_VTH: usize = 5;
/// V_min (mV).
pub const C_VMIN: usize = 6;
/// I_e.
pub const C_IE: usize = 7;
/// The number of constants.
pub const N_CONSTS: usize = 8;

/// One step of one neuron (spec section 3), in NEST's operation order:
/// V ← V + (h·(((0.04·V·V + 5·V) + 140 − u) + I + I_e) + input); u ← u + h·a·(b·V_old −
/// u_old); V ← max(V, V_min); a spike when V ≥ V_th, then V ← c, u ← u + d.
#[inline(always)]
pub fn izhikevich_update<F: Real>(c: &[F], s: &mut [F], in_ampa: F, in_gaba: F, i_stim: F) -> bool {
    let (v_old, u_old) = (s[0], s[1]);
    let drive =
        F::of(0.04) * v_old * v_old + F::of(5.0) * v_old + F::of(140.0) - u_old + i_stim + c[C_IE];
    let mut v = v_old + (c[C_H] * drive + (in_ampa + in_gaba));
    let mut u = u_old + c[C_HA] * (c[C_B] * v_old - u_old);
    if v < c[C_VMIN] {
        v = c[C_VMIN];
    }
    let spike = v >= c[C_VTH];
    if spike {
        v = c[C_C];
        u = u + c[C_D];
    }
    s[0] = v.flush();
    s[1] = u.flush();
    spike
}

fn step_f32(c: &[f32], s: &mut [f32], a: f32, g: f32, i: f32) -> bool {
    izhikevich_update(c, s, a, g, i)
}

fn step_f64(c: &[f64], s: &mut [f64], a: f64, g: f64, i: f64) -> bool {
    izhikevich_update(c, s, a, g, i)
}

/// The Izhikevich model ([`NeuronModel`] and [`PointDynamics`]).
pub struct Izhikevich;

/// The registered value.
pub static IZHIKEVICH: Izhikevich = Izhikevich;

impl NeuronModel for Izhikevich {
    fn name(&self) -> &'static str {
        "izhikevich"
    }
    fn summary(&self) -> &'static str {
        "Izhikevich (2003) neuron with delta synapses (a weight is a jump of V in mV), \
         NEST's consistent integration; f64 NEST-exact (NEST `izhikevich`, PyNN `Izhikevich`)."
    }
    fn spec(&self) -> &'static str {
        "src/model/izhikevich/spec.md"
    }
    fn params(&self) -> &'static [Param] {
        PARAMS
    }
    fn init(&self) -> &'static [Init] {
        INIT
    }
    fn no_synapse_reason(&self) -> &'static str {
        "izhikevich neurons take no synapse kind: their synapses are delta synapses (a weight is a jump of V in mV)"
    }
    fn probes(&self) -> &'static [&'static str] {
        &["v_mv", "u"]
    }
    fn kernels(&self) -> &'static [&'static str] {
        &["point_step"]
    }
    fn dynamics(&self) -> Option<&'static dyn PointDynamics> {
        Some(&IZHIKEVICH)
    }
    fn check_population(&self, _cfg: &Config, _at: &str, _p: &Population) -> Result<()> {
        Ok(())
    }
}

#[allow(
    clippy::neg_cmp_op_on_partial_ord,
    reason = "!(x > 0) also rejects NaN"
)]
impl PointDynamics for Izhikevich {
    fn state(&self) -> &'static [&'static str] {
        &["v_mv", "u"]
    }
    fn n_consts(&self) -> usize {
        N_CONSTS
    }
    fn derive(&self, p: &dyn Fn(&str) -> f64, _synapse: &str, dt_ms: f64) -> Vec<f64> {
        let mut c = vec![0.0; N_CONSTS];
        c[C_H] = dt_ms;
        c[C_HA] = dt_ms * p("a");
        c[C_B] = p("b");
        c[C_C] = p("c_mv");
        c[C_D] = p("d");
        c[C_VTH] = p("v_th_mv");
        c[C_VMIN] = p("v_min_mv");
        c[C_IE] = p("i_e_pa");
        c
    }
    fn check(&self, p: &dyn Fn(&str) -> f64) -> std::result::Result<(), CheckError> {
        for k in ["a", "b", "c_mv", "d", "v_th_mv", "i_e_pa"] {
            if !p(k).is_finite() {
                return Err((k, format!("expected a finite number, got {}", p(k))));
            }
        }
        if p("v_min_mv").is_nan() || p("v_min_mv") == f64::INFINITY {
            return Err((
                "v_min_mv",
                format!("expected a number or -inf, got {}", p("v_min_mv")),
            ));
        }
        if !(p("c_mv") < p("v_th_mv")) {
            return Err((
                "c_mv",
                format!(
                    "the reset c_mv ({}) must be below v_th_mv ({}), or every step would spike",
                    p("c_mv"),
                    p("v_th_mv")
                ),
            ));
        }
        if !(p("v_min_mv") < p("v_th_mv")) {
            return Err((
                "v_min_mv",
                format!(
                    "the lower bound v_min_mv ({}) must be below v_th_mv ({})",
                    p("v_min_mv"),
                    p("v_th_mv")
                ),
            ));
        }
        Ok(())
    }
    fn initial(&self, _p: &dyn Fn(&str) -> f64, init: &dyn Fn(&str) -> Option<f64>) -> Vec<f64> {
        vec![init("v_mv").unwrap_or(-65.0), init("u").unwrap_or(0.0)]
    }
    fn step_f32(&self) -> StepFn<f32> {
        step_f32
    }
    fn step_f64(&self) -> StepFn<f64> {
        step_f64
    }
    fn wgsl(&self) -> &'static str {
        include_str!("izhikevich.wgsl")
    }
    fn wgsl_path(&self) -> &'static str {
        "src/model/izhikevich/izhikevich.wgsl"
    }
    fn bitwise_portable(&self) -> bool {
        true
    }
}
