//! Leaky integrate-and-fire neurons: spec `../shared/specs/lif-model.md` (sections 1–4).
//!
//! The membrane potential is stored relative to the leak potential, `u = V − E_L`
//! (as NEST does), which keeps f32 precision where the dynamics happen. Propagators
//! are derived once on the host in f64 ([`derive`]) and then rounded to the working
//! precision; [`lif_update`] is the scalar step that `shaders/lif_step.wgsl` mirrors
//! line for line.

use crate::real::Real;

use super::{Init, Param};

/// `synapse = "delta"`: a spike of weight w (mV) jumps V by w.
pub const SYN_DELTA: u32 = 0;
/// `synapse = "exp_current"`: exponentially decaying currents (pA).
pub const SYN_EXP_CURRENT: u32 = 1;
/// `synapse = "exp_conductance"`: exponentially decaying conductances (nS) with reversal
/// potentials; V by exponential Euler with the conductances held over the step.
pub const SYN_EXP_CONDUCTANCE: u32 = 2;
/// `synapse = "alpha_current"`: alpha-shaped currents (pA), `I(t) = w·(t/τ)·e^{1−t/τ}`
/// (peak w at t = τ), integrated exactly as NEST's `iaf_psc_alpha`.
pub const SYN_ALPHA_CURRENT: u32 = 3;
/// `synapse = "alpha_conductance"`: alpha-shaped conductances (nS) with reversal
/// potentials (NEST `iaf_cond_alpha`): g exactly, V by exponential Euler with each
/// conductance averaged over the step.
pub const SYN_ALPHA_CONDUCTANCE: u32 = 4;

/// The synapse kinds (`synapse = "..."`) and their codes (`LifParams::kind`), the
/// default first.
pub const SYNAPSE_KINDS: &[(&str, u32)] = &[
    ("exp_current", SYN_EXP_CURRENT),
    ("delta", SYN_DELTA),
    ("exp_conductance", SYN_EXP_CONDUCTANCE),
    ("alpha_current", SYN_ALPHA_CURRENT),
    ("alpha_conductance", SYN_ALPHA_CONDUCTANCE),
];

/// Whether a kind's synaptic variables are conductances (weights in nS, >= 0).
pub fn is_conductance(kind: u32) -> bool {
    kind == SYN_EXP_CONDUCTANCE || kind == SYN_ALPHA_CONDUCTANCE
}

/// Whether a kind's synapses are alpha functions (dI/dt or dg/dt per receptor kept as
/// state).
pub fn is_alpha(kind: u32) -> bool {
    kind == SYN_ALPHA_CURRENT || kind == SYN_ALPHA_CONDUCTANCE
}

/// The code of a synapse kind named in a config (`None`: the default, `exp_current`).
pub fn kind_code(name: Option<&str>) -> Option<u32> {
    match name {
        None => Some(SYN_EXP_CURRENT),
        Some(n) => SYNAPSE_KINDS.iter().find(|k| k.0 == n).map(|k| k.1),
    }
}

/// Parameter names a `model = "lif"` population accepts, with the spec's defaults.
pub const PARAMS: &[Param] = &[
    Param::new("tau_m_ms", "ms", 20.0, "Membrane time constant τ_m."),
    Param::new("c_m_pf", "pF", 250.0, "Membrane capacitance C_m."),
    Param::new("e_l_mv", "mV", -70.0, "Leak (resting) potential E_L."),
    Param::new("v_th_mv", "mV", -55.0, "Spike threshold V_th."),
    Param::new("v_reset_mv", "mV", -70.0, "Reset potential V_reset."),
    Param::new(
        "t_ref_ms",
        "ms",
        2.0,
        "Absolute refractory period t_ref (rounded to whole steps).",
    ),
    Param::new("i_e_pa", "pA", 0.0, "Constant injected current I_e."),
    Param::new(
        "tau_ampa_ms",
        "ms",
        5.0,
        "Excitatory (AMPA) synaptic time constant (τ_syn of the alpha function for \
         `alpha_current`).",
    ),
    Param::new(
        "tau_gaba_a_ms",
        "ms",
        10.0,
        "Inhibitory (GABA-A) synaptic time constant (τ_syn of the alpha function for \
         `alpha_current`).",
    ),
    Param::new(
        "e_ampa_mv",
        "mV",
        0.0,
        "AMPA reversal potential (exp_conductance synapses).",
    ),
    Param::new(
        "e_gaba_a_mv",
        "mV",
        -80.0,
        "GABA-A reversal potential (exp_conductance synapses).",
    ),
];

/// Initial-value names a LIF population accepts.
pub const INIT: &[Init] = &[Init::new(
    "v_mv",
    "mV",
    "E_L (at rest)",
    "Membrane potential at t = 0.",
)];

/// Primary parameters of one LIF neuron (f64, spec units).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LifPrimary {
    /// τ_m (ms).
    pub tau_m_ms: f64,
    /// C_m (pF).
    pub c_m_pf: f64,
    /// E_L (mV).
    pub e_l_mv: f64,
    /// V_th (mV).
    pub v_th_mv: f64,
    /// V_reset (mV).
    pub v_reset_mv: f64,
    /// t_ref (ms).
    pub t_ref_ms: f64,
    /// I_e (pA).
    pub i_e_pa: f64,
    /// τ_AMPA (ms).
    pub tau_ampa_ms: f64,
    /// τ_GABA-A (ms).
    pub tau_gaba_a_ms: f64,
    /// E_AMPA (mV), conductance synapses.
    pub e_ampa_mv: f64,
    /// E_GABA-A (mV), conductance synapses.
    pub e_gaba_a_mv: f64,
}

impl LifPrimary {
    /// Builds from a lookup of parameter values by name (see [`PARAMS`]).
    pub fn from_lookup(get: impl Fn(&str) -> f64) -> Self {
        LifPrimary {
            tau_m_ms: get("tau_m_ms"),
            c_m_pf: get("c_m_pf"),
            e_l_mv: get("e_l_mv"),
            v_th_mv: get("v_th_mv"),
            v_reset_mv: get("v_reset_mv"),
            t_ref_ms: get("t_ref_ms"),
            i_e_pa: get("i_e_pa"),
            tau_ampa_ms: get("tau_ampa_ms"),
            tau_gaba_a_ms: get("tau_gaba_a_ms"),
            e_ampa_mv: get("e_ampa_mv"),
            e_gaba_a_mv: get("e_gaba_a_mv"),
        }
    }
}

/// Per-neuron constants of the LIF step, derived on the host.
///
/// WGSL twin: `struct LifParams` in `shaders/shared/types.wgsl` (layout checked by
/// `tests/suite/layout.rs`; `LifParams<f32>` is what crosses the bus, 112 bytes). The
/// GPU reads it from a table of the network's distinct sets, not per neuron.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LifParams<F> {
    /// exp(−dt/τ_m).
    pub p33: F,
    /// (τ_m/C_m)(1 − P33), mV/pA.
    pub p30: F,
    /// AMPA current → V propagator, mV/pA.
    pub p31_ampa: F,
    /// GABA-A current → V propagator, mV/pA.
    pub p31_gaba: F,
    /// exp(−dt/τ_AMPA).
    pub p11_ampa: F,
    /// exp(−dt/τ_GABA-A).
    pub p11_gaba: F,
    /// Constant injected current I_e (pA).
    pub i_e: F,
    /// V_th − E_L (mV).
    pub theta: F,
    /// V_reset − E_L (mV).
    pub reset: F,
    /// E_L (mV), to report absolute voltages.
    pub e_l: F,
    /// `exp_conductance`: E_AMPA − E_L (mV).
    pub e_ampa_rel: F,
    /// `exp_conductance`: E_GABA-A − E_L (mV).
    pub e_gaba_rel: F,
    /// `exp_conductance`: dt/C_m (ms/pF).
    pub dt_c_m: F,
    /// `exp_conductance`: dt/τ_m.
    pub dt_tau_m: F,
    /// round(t_ref/dt), steps.
    pub ref_steps: u32,
    /// `SYN_DELTA`, `SYN_EXP_CURRENT`, `SYN_EXP_CONDUCTANCE`, `SYN_ALPHA_CURRENT` or
    /// `SYN_ALPHA_CONDUCTANCE`.
    pub kind: u32,
    /// `alpha_current`: expm1(−dt/τ_m) (NEST's V update is `expm1·u + u`).
    pub expm1_m: F,
    /// `alpha_current`: AMPA dI → V propagator (NEST's P31), mV/(pA/ms).
    pub pd_ampa: F,
    /// `alpha_current`: GABA-A dI → V propagator, mV/(pA/ms).
    pub pd_gaba: F,
    /// alpha kinds: AMPA dI → I (or dg → g) propagator, dt·P11 (NEST's P21), ms.
    pub p21_ampa: F,
    /// alpha kinds: GABA-A dI → I propagator, ms.
    pub p21_gaba: F,
    /// alpha kinds: the jump of dI (dg) per unit of weight, e/τ_AMPA (1/ms), so that a
    /// weight w peaks at w pA (nS).
    pub jump_ampa: F,
    /// alpha kinds: e/τ_GABA-A (1/ms).
    pub jump_gaba: F,
    /// `alpha_conductance`: the AMPA conductance averaged over a step is
    /// `g·avg_g_ampa + dg·avg_d_ampa` (exact for the alpha shape).
    pub avg_g_ampa: F,
    /// `alpha_conductance`: see `avg_g_ampa` (ms).
    pub avg_d_ampa: F,
    /// `alpha_conductance`: the same for GABA-A.
    pub avg_g_gaba: F,
    /// `alpha_conductance`: the same for GABA-A (ms).
    pub avg_d_gaba: F,
    /// Padding to a multiple of 16 bytes.
    pub _pad: u32,
}

// SAFETY: with F = f32 every field is 4 bytes and 4-aligned: no padding, and every bit
// pattern is valid. (`LifParams<f64>` is host-only and never cast to bytes.)
unsafe impl bytemuck::Zeroable for LifParams<f32> {}
unsafe impl bytemuck::Pod for LifParams<f32> {}
const _: () = assert!(std::mem::size_of::<LifParams<f32>>() == 112);

/// Per-neuron LIF state.
///
/// WGSL twin: `struct LifState` in `shaders/shared/types.wgsl` (16 bytes for f32).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LifState<F> {
    /// V − E_L (mV).
    pub u: F,
    /// AMPA current (pA).
    pub i_ampa: F,
    /// GABA-A current (pA).
    pub i_gaba: F,
    /// Remaining refractory steps.
    pub refrac: u32,
}

// SAFETY: as for LifParams<f32>: four 4-byte fields, no padding.
unsafe impl bytemuck::Zeroable for LifState<f32> {}
unsafe impl bytemuck::Pod for LifState<f32> {}
const _: () = assert!(std::mem::size_of::<LifState<f32>>() == 16);

/// e^x − 1 as NEST 3.10 computes it (`numerics::expm1` in libnestutil/numerics.h, in a
/// build without `HAVE_EXPM1`, such as the `nest-simulator` wheel): its own Taylor
/// series for |x| ≤ ln 2, e^x − 1 beyond. It differs from the C library's `expm1` in
/// the last bit now and then (for x = −0.01, one ulp), so the constants of
/// `iaf_psc_alpha` use it to be NEST's bit for bit.
pub fn nest_expm1(x: f64) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    if x.abs() > std::f64::consts::LN_2 {
        return x.exp() - 1.0;
    }
    let (mut sum, mut term, mut n) = (x, x * x / 2.0, 2.0);
    while term.abs() > sum.abs() * f64::EPSILON {
        sum += term;
        n += 1.0;
        term *= x / n;
    }
    sum
}

/// NEST's `IAFPropagator` for a synaptic time constant, membrane time constant and
/// capacitance (libnestutil/iaf_propagator.cpp): its derived quantities, in its
/// expressions, so that f64 runs reproduce NEST's constants bit for bit.
struct IafPropagator {
    h_min_regular: f64,
    beta: f64,
    gamma: f64,
    inv_tau_syn: f64,
    inv_tau_m: f64,
    inv_c_m: f64,
    inv_beta: f64,
}

impl IafPropagator {
    fn new(tau_syn: f64, tau_m: f64, c_m: f64) -> Self {
        IafPropagator {
            // below this step the regular P31 loses its digits to cancellation
            h_min_regular: 1e-7 * tau_m * tau_m / (tau_m - tau_syn).abs(),
            // ∞ for τ_syn = τ_m: well defined
            beta: tau_syn * tau_m / (tau_m - tau_syn),
            gamma: tau_syn * tau_m / (tau_m - tau_syn) / c_m,
            inv_tau_syn: 1.0 / tau_syn,
            inv_tau_m: 1.0 / tau_m,
            inv_c_m: 1.0 / c_m,
            inv_beta: (tau_m - tau_syn) / (tau_syn * tau_m),
        }
    }

    fn exp_h_tau(&self, h: f64) -> f64 {
        (-h * self.inv_tau_m).exp()
    }

    /// NEST's `evaluate_P32_`: the I → V propagator (the singular form where the
    /// regular one is not a positive normal number), with exp(−h/τ_syn) and
    /// expm1(h/β).
    fn p32(&self, h: f64) -> (f64, f64, f64) {
        let exp_h_tau_syn = (-h * self.inv_tau_syn).exp();
        let expm1_h_tau = nest_expm1(h * self.inv_beta);
        let regular = self.gamma * exp_h_tau_syn * expm1_h_tau;
        let p32 = if regular.is_normal() && regular > 0.0 {
            regular
        } else {
            h * self.inv_c_m * self.exp_h_tau(h)
        };
        (p32, exp_h_tau_syn, expm1_h_tau)
    }
}

/// The exact propagator of an exponentially decaying current into the membrane over a
/// step h (I → V): NEST 3.10's `IAFPropagatorExp` (`iaf_psc_exp`'s P21), with its
/// singular form for τ_syn → τ_m.
pub fn exp_propagator(tau_syn: f64, tau_m: f64, c_m: f64, h: f64) -> f64 {
    IafPropagator::new(tau_syn, tau_m, c_m).p32(h).0
}

/// The exact propagators of an alpha-shaped current into the membrane over a step h:
/// (dI → V, I → V), NEST's (P31, P32) of `iaf_psc_alpha`. The expressions, their order
/// and the switches to the singular forms (τ_syn → τ_m) follow NEST 3.10's
/// `IAFPropagatorAlpha` (libnestutil/iaf_propagator.cpp), so that f64 runs reproduce
/// NEST's constants bit for bit.
pub fn alpha_propagators(tau_syn: f64, tau_m: f64, c_m: f64, h: f64) -> (f64, f64) {
    let q = IafPropagator::new(tau_syn, tau_m, c_m);
    let (p32, exp_h_tau_syn, expm1_h_tau) = q.p32(h);
    let (gamma, beta, inv_c_m) = (q.gamma, q.beta, q.inv_c_m);
    let exp_h_tau = || q.exp_h_tau(h);
    let p31 = if h > q.h_min_regular {
        gamma * exp_h_tau_syn * (beta * expm1_h_tau - h)
    } else {
        0.5 * h * h * inv_c_m * exp_h_tau()
    };
    (p31, p32)
}

/// Derives the step constants of one neuron in f64 (spec section 3), each with the
/// expression of the NEST model the kind reproduces (`iaf_psc_delta`, `iaf_psc_exp`,
/// `iaf_psc_alpha`), so that an f64 run gives NEST's membrane potential bit for bit.
pub fn derive(p: &LifPrimary, kind: u32, dt: f64) -> LifParams<f64> {
    let (tau, c) = (p.tau_m_ms, p.c_m_pf);
    let p33 = (-dt / tau).exp();
    let p30 = match kind {
        // iaf_psc_delta: P30 = 1/C (1 − P33) τ
        SYN_DELTA => 1.0 / c * (1.0 - p33) * tau,
        // iaf_psc_alpha: −τ/C · expm1(−h/τ)
        SYN_ALPHA_CURRENT => -tau / c * nest_expm1(-dt / tau),
        // iaf_psc_exp: P20 = τ/C (1 − P22) (the conductance kinds do not use it)
        _ => tau / c * (1.0 - p33),
    };
    let mut q = LifParams {
        p33,
        p30,
        p31_ampa: exp_propagator(p.tau_ampa_ms, tau, c, dt),
        p31_gaba: exp_propagator(p.tau_gaba_a_ms, tau, c, dt),
        p11_ampa: (-dt / p.tau_ampa_ms).exp(),
        p11_gaba: (-dt / p.tau_gaba_a_ms).exp(),
        i_e: p.i_e_pa,
        theta: p.v_th_mv - p.e_l_mv,
        reset: p.v_reset_mv - p.e_l_mv,
        e_l: p.e_l_mv,
        e_ampa_rel: p.e_ampa_mv - p.e_l_mv,
        e_gaba_rel: p.e_gaba_a_mv - p.e_l_mv,
        dt_c_m: dt / p.c_m_pf,
        dt_tau_m: dt / p.tau_m_ms,
        ref_steps: (p.t_ref_ms / dt).round() as u32,
        kind,
        ..Default::default()
    };
    if kind == SYN_ALPHA_CURRENT {
        // NEST's iaf_psc_alpha::pre_run_hook, with NEST's expm1: the I → V propagator
        // replaces the exponential kernel's, P22 = P11
        let (pd_a, p31_a) = alpha_propagators(p.tau_ampa_ms, p.tau_m_ms, p.c_m_pf, dt);
        let (pd_g, p31_g) = alpha_propagators(p.tau_gaba_a_ms, p.tau_m_ms, p.c_m_pf, dt);
        q.p31_ampa = p31_a;
        q.p31_gaba = p31_g;
        q.pd_ampa = pd_a;
        q.pd_gaba = pd_g;
        q.expm1_m = nest_expm1(-dt / p.tau_m_ms);
        q.p21_ampa = dt * q.p11_ampa;
        q.p21_gaba = dt * q.p11_gaba;
        q.jump_ampa = 1.0 * std::f64::consts::E / p.tau_ampa_ms;
        q.jump_gaba = 1.0 * std::f64::consts::E / p.tau_gaba_a_ms;
    }
    if kind == SYN_ALPHA_CONDUCTANCE {
        q.p21_ampa = dt * q.p11_ampa;
        q.p21_gaba = dt * q.p11_gaba;
        q.jump_ampa = std::f64::consts::E / p.tau_ampa_ms;
        q.jump_gaba = std::f64::consts::E / p.tau_gaba_a_ms;
        (q.avg_g_ampa, q.avg_d_ampa) = alpha_step_average(p.tau_ampa_ms, dt);
        (q.avg_g_gaba, q.avg_d_gaba) = alpha_step_average(p.tau_gaba_a_ms, dt);
    }
    q
}

/// The mean over a step h of an alpha-shaped variable that starts the step at g with
/// derivative-state D, `g(s) = (g + D s)·e^{−s/τ}`: `g·a + D·b`, returned as (a, b):
/// a = τ(1 − e^{−h/τ})/h, b = τ(τ(1 − e^{−h/τ}) − h e^{−h/τ})/h.
pub fn alpha_step_average(tau: f64, h: f64) -> (f64, f64) {
    let one_minus = -(-h / tau).exp_m1();
    let e = (-h / tau).exp();
    (tau * one_minus / h, tau * (tau * one_minus - h * e) / h)
}

impl LifParams<f64> {
    /// Rounds the derived constants to the working precision.
    pub fn cast<F: Real>(&self) -> LifParams<F> {
        LifParams {
            p33: F::of(self.p33).flush(),
            p30: F::of(self.p30).flush(),
            p31_ampa: F::of(self.p31_ampa).flush(),
            p31_gaba: F::of(self.p31_gaba).flush(),
            p11_ampa: F::of(self.p11_ampa).flush(),
            p11_gaba: F::of(self.p11_gaba).flush(),
            i_e: F::of(self.i_e).flush(),
            theta: F::of(self.theta).flush(),
            reset: F::of(self.reset).flush(),
            e_l: F::of(self.e_l).flush(),
            e_ampa_rel: F::of(self.e_ampa_rel).flush(),
            e_gaba_rel: F::of(self.e_gaba_rel).flush(),
            dt_c_m: F::of(self.dt_c_m).flush(),
            dt_tau_m: F::of(self.dt_tau_m).flush(),
            ref_steps: self.ref_steps,
            kind: self.kind,
            expm1_m: F::of(self.expm1_m).flush(),
            pd_ampa: F::of(self.pd_ampa).flush(),
            pd_gaba: F::of(self.pd_gaba).flush(),
            p21_ampa: F::of(self.p21_ampa).flush(),
            p21_gaba: F::of(self.p21_gaba).flush(),
            jump_ampa: F::of(self.jump_ampa).flush(),
            jump_gaba: F::of(self.jump_gaba).flush(),
            avg_g_ampa: F::of(self.avg_g_ampa).flush(),
            avg_d_ampa: F::of(self.avg_d_ampa).flush(),
            avg_g_gaba: F::of(self.avg_g_gaba).flush(),
            avg_d_gaba: F::of(self.avg_d_gaba).flush(),
            _pad: 0,
        }
    }
}

/// Whether any neuron has alpha synapses (the backends then keep dI/dt or dg/dt per
/// neuron and receptor).
pub fn has_alpha<F>(params: &[LifParams<F>]) -> bool {
    params.iter().any(|p| is_alpha(p.kind))
}

/// The initial state for an absolute voltage `v0` (mV): `u = v0 − E_L` in f64, then rounded.
pub fn initial_state<F: Real>(v0_mv: f64, e_l_mv: f64) -> LifState<F> {
    LifState {
        u: F::of(v0_mv - e_l_mv).flush(),
        ..Default::default()
    }
}

/// One step of one neuron (spec section 4), given the synaptic input arriving in this
/// step on each receptor (pA for current synapses, mV for delta) and the stimulus
/// current of this step (pA, added to I_e: `(I_e + i_stim)·P30`, as NEST does; exact
/// for i_stim = 0). `di` holds dI/dt of the two alpha currents (`alpha_current` only;
/// other kinds leave it alone). Returns whether it spiked (stamped at the end of the
/// step).
///
/// Mirrors `lif_update` in `lif_step.wgsl`; the operation order follows NEST's
/// `iaf_psc_exp` / `iaf_psc_delta` / `iaf_psc_alpha` so that f64 runs reproduce them
/// bit for bit.
#[inline(always)]
pub fn lif_update<F: Real>(
    p: &LifParams<F>,
    s: &mut LifState<F>,
    di: &mut [F; 2],
    in_ampa: F,
    in_gaba: F,
    i_stim: F,
) -> bool {
    let (u, ia, ig, r) = (&mut s.u, &mut s.i_ampa, &mut s.i_gaba, &mut s.refrac);
    match p.kind {
        SYN_DELTA => lif_kernel::<F, SYN_DELTA>(p, u, ia, ig, r, di, in_ampa, in_gaba, i_stim),
        SYN_EXP_CURRENT => {
            lif_kernel::<F, SYN_EXP_CURRENT>(p, u, ia, ig, r, di, in_ampa, in_gaba, i_stim)
        }
        SYN_ALPHA_CURRENT => {
            lif_kernel::<F, SYN_ALPHA_CURRENT>(p, u, ia, ig, r, di, in_ampa, in_gaba, i_stim)
        }
        SYN_ALPHA_CONDUCTANCE => {
            lif_kernel::<F, SYN_ALPHA_CONDUCTANCE>(p, u, ia, ig, r, di, in_ampa, in_gaba, i_stim)
        }
        _ => lif_kernel::<F, SYN_EXP_CONDUCTANCE>(p, u, ia, ig, r, di, in_ampa, in_gaba, i_stim),
    }
}

/// [`lif_update`] on separate state variables, with the synapse kind a compile-time
/// constant (`KIND` = `p.kind`). For the conductance kinds the fields `i_ampa`, `i_gaba`
/// hold the conductances (nS), and `di` their dg/dt (alpha).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn lif_kernel<F: Real, const KIND: u32>(
    p: &LifParams<F>,
    u: &mut F,
    i_ampa: &mut F,
    i_gaba: &mut F,
    refrac: &mut u32,
    di: &mut [F; 2],
    in_ampa: F,
    in_gaba: F,
    i_stim: F,
) -> bool {
    // 1. membrane (inputs held from the start of the step) or refractory countdown
    if *refrac == 0 {
        *u = match KIND {
            SYN_DELTA => p.p30 * (p.i_e + i_stim) + p.p33 * *u + (in_ampa + in_gaba),
            SYN_EXP_CURRENT => {
                *u * p.p33 + *i_ampa * p.p31_ampa + *i_gaba * p.p31_gaba + (p.i_e + i_stim) * p.p30
            }
            // NEST's iaf_psc_alpha: P30 (y0 + I_e) + P31 dI_ex + P32 I_ex + P31 dI_in
            // + P32 I_in + expm1 y3 + y3
            SYN_ALPHA_CURRENT => {
                p.p30 * (p.i_e + i_stim)
                    + p.pd_ampa * di[0]
                    + p.p31_ampa * *i_ampa
                    + p.pd_gaba * di[1]
                    + p.p31_gaba * *i_gaba
                    + p.expm1_m * *u
                    + *u
            }
            SYN_ALPHA_CONDUCTANCE => {
                // as exp_conductance, with each conductance's mean over the step (exact
                // for the alpha shape) in place of its value at the start
                let ga = *i_ampa * p.avg_g_ampa + di[0] * p.avg_d_ampa;
                let gg = *i_gaba * p.avg_g_gaba + di[1] * p.avg_d_gaba;
                let a_dt = p.dt_tau_m + (ga + gg) * p.dt_c_m;
                let b_dt = (ga * p.e_ampa_rel + gg * p.e_gaba_rel + (p.i_e + i_stim)) * p.dt_c_m;
                let u_inf = b_dt / a_dt;
                u_inf + (*u - u_inf) * (-a_dt).exp()
            }
            _ => {
                // du/dt = −A·u + B with the conductances held: u → u∞ + (u − u∞)·e^{−A·dt}
                let a_dt = p.dt_tau_m + (*i_ampa + *i_gaba) * p.dt_c_m;
                let b_dt =
                    (*i_ampa * p.e_ampa_rel + *i_gaba * p.e_gaba_rel + (p.i_e + i_stim)) * p.dt_c_m;
                let u_inf = b_dt / a_dt;
                u_inf + (*u - u_inf) * (-a_dt).exp()
            }
        };
    } else {
        *refrac -= 1;
    }
    // 2. synaptic currents decay and take this step's arrivals (also while refractory)
    if KIND == SYN_ALPHA_CURRENT || KIND == SYN_ALPHA_CONDUCTANCE {
        // I ← P21·dI + P22·I (P22 = P11); dI ← dI·P11, then + (e/τ)·(arrivals):
        // NEST's order, one rounding each
        *i_ampa = (p.p21_ampa * di[0] + p.p11_ampa * *i_ampa).flush();
        di[0] = (di[0] * p.p11_ampa + p.jump_ampa * in_ampa).flush();
        *i_gaba = (p.p21_gaba * di[1] + p.p11_gaba * *i_gaba).flush();
        di[1] = (di[1] * p.p11_gaba + p.jump_gaba * in_gaba).flush();
    } else if KIND != SYN_DELTA {
        // subnormals flushed where stored (Real::flush); u at the end, after the
        // threshold has seen it as computed
        *i_ampa = (*i_ampa * p.p11_ampa + in_ampa).flush();
        *i_gaba = (*i_gaba * p.p11_gaba + in_gaba).flush();
    }
    // 3. threshold, reset, refractoriness
    if *u >= p.theta {
        *u = p.reset;
        *refrac = p.ref_steps;
        return true;
    }
    *u = u.flush();
    false
}

/// The LIF model as the rest of galvani sees it ([`super::NeuronModel`]).
pub struct Lif;

impl super::NeuronModel for Lif {
    fn name(&self) -> &'static str {
        "lif"
    }
    fn summary(&self) -> &'static str {
        "Leaky integrate-and-fire neuron, integrated exactly (NEST `iaf_psc_delta`, \
         `iaf_psc_exp`, `iaf_psc_alpha`; `iaf_cond_exp`- and `iaf_cond_alpha`-like; PyNN \
         `IF_curr_exp`, `IF_curr_alpha`, `IF_cond_exp`, `IF_cond_alpha`)."
    }
    fn spec(&self) -> &'static str {
        "src/model/lif/spec.md"
    }
    fn params(&self) -> &'static [Param] {
        PARAMS
    }
    fn init(&self) -> &'static [Init] {
        INIT
    }
    fn synapses(&self) -> &'static [&'static str] {
        const NAMES: [&str; SYNAPSE_KINDS.len()] = {
            let mut n = [""; SYNAPSE_KINDS.len()];
            let mut k = 0;
            while k < n.len() {
                n[k] = SYNAPSE_KINDS[k].0;
                k += 1;
            }
            n
        };
        &NAMES
    }
    fn probes(&self) -> &'static [&'static str] {
        &["v_mv", "syn_ampa", "syn_gaba_a", "dsyn_ampa", "dsyn_gaba_a"]
    }
    fn kernels(&self) -> &'static [&'static str] {
        &["lif_step"]
    }
}
