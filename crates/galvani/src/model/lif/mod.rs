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
        "Excitatory (AMPA) synaptic time constant.",
    ),
    Param::new(
        "tau_gaba_a_ms",
        "ms",
        10.0,
        "Inhibitory (GABA-A) synaptic time constant.",
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
/// `tests/layout.rs`; `LifParams<f32>` is what crosses the bus, 64 bytes).
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
    /// `SYN_DELTA`, `SYN_EXP_CURRENT` or `SYN_EXP_CONDUCTANCE`.
    pub kind: u32,
}

// SAFETY: with F = f32 every field is 4 bytes and 4-aligned: no padding, and every bit
// pattern is valid. (`LifParams<f64>` is host-only and never cast to bytes.)
unsafe impl bytemuck::Zeroable for LifParams<f32> {}
unsafe impl bytemuck::Pod for LifParams<f32> {}
const _: () = assert!(std::mem::size_of::<LifParams<f32>>() == 64);

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

/// NEST's `propagator_32`: the exact current → voltage propagator for an exponential
/// synaptic current, with the singular limit τ_syn → τ_m handled (spec section 3).
pub fn propagator_31(tau_syn: f64, tau_m: f64, c_m: f64, h: f64) -> f64 {
    let p_linear =
        1.0 / (2.0 * c_m * tau_m * tau_m) * h * h * (tau_syn - tau_m) * (-h / tau_m).exp();
    let p_singular = h / c_m * (-h / tau_m).exp();
    let p = -tau_m / (c_m * (1.0 - tau_m / tau_syn))
        * (-h / tau_syn).exp()
        * (h * (1.0 / tau_syn - 1.0 / tau_m)).exp_m1();
    let dev = (p - p_singular).abs();
    if tau_m == tau_syn || ((tau_m - tau_syn).abs() < 0.1 && dev > 2.0 * p_linear.abs()) {
        p_singular
    } else {
        p
    }
}

/// Derives the step constants of one neuron in f64 (spec section 3), using the same
/// expressions as NEST (`expm1` for P30) so that an f64 run reproduces it.
pub fn derive(p: &LifPrimary, kind: u32, dt: f64) -> LifParams<f64> {
    let p33 = (-dt / p.tau_m_ms).exp();
    let p30 = -p.tau_m_ms / p.c_m_pf * (-dt / p.tau_m_ms).exp_m1();
    LifParams {
        p33,
        p30,
        p31_ampa: propagator_31(p.tau_ampa_ms, p.tau_m_ms, p.c_m_pf, dt),
        p31_gaba: propagator_31(p.tau_gaba_a_ms, p.tau_m_ms, p.c_m_pf, dt),
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
    }
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
        }
    }
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
/// for i_stim = 0). Returns whether it
/// spiked (stamped at the end of the step).
///
/// Mirrors `lif_update` in `shaders/lif_step.wgsl`; the operation order follows NEST's
/// `iaf_psc_exp` / `iaf_psc_delta` so that f64 runs reproduce them bit for bit.
#[inline(always)]
pub fn lif_update<F: Real>(
    p: &LifParams<F>,
    s: &mut LifState<F>,
    in_ampa: F,
    in_gaba: F,
    i_stim: F,
) -> bool {
    let (u, ia, ig, r) = (&mut s.u, &mut s.i_ampa, &mut s.i_gaba, &mut s.refrac);
    match p.kind {
        SYN_DELTA => lif_kernel::<F, SYN_DELTA>(p, u, ia, ig, r, in_ampa, in_gaba, i_stim),
        SYN_EXP_CURRENT => {
            lif_kernel::<F, SYN_EXP_CURRENT>(p, u, ia, ig, r, in_ampa, in_gaba, i_stim)
        }
        _ => lif_kernel::<F, SYN_EXP_CONDUCTANCE>(p, u, ia, ig, r, in_ampa, in_gaba, i_stim),
    }
}

/// [`lif_update`] on separate state variables, with the synapse kind a compile-time
/// constant (`KIND` = `p.kind`). For `exp_conductance` the fields `i_ampa`, `i_gaba`
/// hold the conductances (nS).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub fn lif_kernel<F: Real, const KIND: u32>(
    p: &LifParams<F>,
    u: &mut F,
    i_ampa: &mut F,
    i_gaba: &mut F,
    refrac: &mut u32,
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
    if KIND != SYN_DELTA {
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
         `iaf_psc_exp`, `iaf_cond_exp`-like; PyNN `IF_curr_exp`, `IF_cond_exp`)."
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
        &["exp_current", "delta", "exp_conductance"]
    }
    fn probes(&self) -> &'static [&'static str] {
        &["v_mv", "syn_ampa", "syn_gaba_a"]
    }
    fn kernels(&self) -> &'static [&'static str] {
        &["lif_step"]
    }
}
