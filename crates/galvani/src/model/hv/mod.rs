//! The Herrera-Valdez (HV) neuron with instantaneous AMPA/GABA-A coupling: spec
//! `../shared/specs/hv-model.md`.
//!
//! State per neuron: the normalised membrane potential `y = v/v_T` and the KaD activation
//! `w` (section 1). The primary parameters ([`HvPrimary`], spec units) are turned once on
//! the host, in f64, into the constants of the right-hand side ([`derive`] →
//! [`HvParams`], section 2.2), then rounded to the working precision. [`hv_rhs`],
//! [`hv_rk4`], [`hv_release`] and [`hv_detect`] are the scalar functions that
//! `shaders/hv_step.wgsl` mirrors line for line.
//!
//! Every transmembrane flux is evaluated in the general two-exponential form of spec 2.3
//! (any η = ±1 and rectification r ∈ [0, 1]); η is folded into the exponent coefficients
//! (`k1 = η(1 − r)`, `k2 = −ηr`) and the amplitude (`amp = N·A·η`). Multiplying by η = ±1
//! is exact, so `k1·(y − y_X)` is bit-identical to the spec's `(1 − r)·u`.

use crate::real::Real;

use super::{Init, Param};

/// Parameter names a `model = "hv"` population accepts, with the spec's defaults
/// (section 3). `i_e_pa` is the constant injected current (section 5).
pub const PARAMS: &[Param] = &[
    Param::new("c_m_pf", "pF", 20.0, "C_m (pF)."),
    Param::new("v_t_mv", "mV", 26.7, "v_T = kT/q (mV)."),
    Param::new("g_nat", "1", 5.0, "Gain of NaT activation."),
    Param::new("v_half_nat_mv", "mV", -17.0, "Half-activation of NaT (mV)."),
    Param::new("g_kad", "1", 3.5, "Gain of KaD activation."),
    Param::new("v_half_kad_mv", "mV", 0.0, "Half-activation of KaD (mV)."),
    Param::new(
        "r_kad_per_ms",
        "1/ms",
        2.0,
        "Basal rate of KaD activation r_KaD (1/ms).",
    ),
    Param::new("s_kad", "1", 0.3, "Bias s_KaD of the KaD rate."),
    Param::new("p_kad", "1", 1.0, "Exponent p of the `w^p` factor."),
    Param::new("v_na_mv", "mV", 60.0, "Na reversal (mV)."),
    Param::new("v_ka_mv", "mV", -90.0, "K reversal (mV)."),
    Param::new(
        "v_atp_mv",
        "mV",
        -430.0,
        "ATP potential (mV); v_NaKa = 3 v_Na − 2 v_Ka + v_ATP.",
    ),
    Param::new("v_ampa_mv", "mV", 0.0, "AMPA reversal (mV)."),
    Param::new("v_gaba_a_mv", "mV", -70.0, "GABA-A reversal (mV)."),
    Param::new("a_nat_pa", "pA", 1.2, "Single-channel amplitude, NaT."),
    Param::new("a_kad_pa", "pA", 1.0, "Single-channel amplitude, KaD."),
    Param::new("a_naka_pa", "pA", 1.0, "Single-channel amplitude, NaKa."),
    Param::new("a_ampa_pa", "pA", 1.0, "Single-channel amplitude, AMPA."),
    Param::new(
        "a_gaba_a_pa",
        "pA",
        1.0,
        "Single-channel amplitude, GABA-A.",
    ),
    Param::new(
        "n_nat",
        "1",
        1400.0,
        "Channel, pump or receptor count, NaT.",
    ),
    Param::new(
        "n_kad",
        "1",
        4500.0,
        "Channel, pump or receptor count, KaD.",
    ),
    Param::new(
        "n_naka",
        "1",
        200.0,
        "Channel, pump or receptor count, NaKa.",
    ),
    Param::new(
        "n_ampa",
        "1",
        10.0,
        "Channel, pump or receptor count, AMPA.",
    ),
    Param::new(
        "n_gaba_a",
        "1",
        10.0,
        "Channel, pump or receptor count, GABA-A.",
    ),
    Param::new("eta_nat", "1", -1.0, "Direction η (±1), NaT."),
    Param::new("eta_kad", "1", 1.0, "Direction η (±1), KaD."),
    Param::new("eta_naka", "1", 1.0, "Direction η (±1), NaKa."),
    Param::new("eta_ampa", "1", -1.0, "Direction η (±1), AMPA."),
    Param::new("eta_gaba_a", "1", 1.0, "Direction η (±1), GABA-A."),
    Param::new("rect_nat", "1", 0.5, "Rectification r ∈ [0, 1], NaT."),
    Param::new("rect_kad", "1", 0.5, "Rectification r ∈ [0, 1], KaD."),
    Param::new("rect_naka", "1", 0.5, "Rectification r ∈ [0, 1], NaKa."),
    Param::new("rect_ampa", "1", 0.5, "Rectification r ∈ [0, 1], AMPA."),
    Param::new("rect_gaba_a", "1", 0.5, "Rectification r ∈ [0, 1], GABA-A."),
    Param::new(
        "g_syn_ampa",
        "1",
        5.0,
        "Single-channel amplitudes (pA): NaT, KaD, NaKa, AMPA, GABA-A. pub a_pa: [f64; 5], Channel / pump / receptor counts: NaT, KaD, NaKa, AMPA, GABA-A. pub n: [f64; 5], Directions η (±1): NaT, KaD, NaKa, AMPA, GABA-A. pub eta: [f64; 5], Rectifications r ∈ [0, 1]: NaT, KaD, NaKa, AMPA, GABA-A. pub rect: [f64; 5], Release gain, AMPA (presynaptic).",
    ),
    Param::new(
        "v_half_syn_ampa_mv",
        "mV",
        -20.0,
        "Release half-activation, AMPA (mV).",
    ),
    Param::new(
        "g_syn_gaba_a",
        "1",
        5.0,
        "Release gain, GABA-A (presynaptic).",
    ),
    Param::new(
        "v_half_syn_gaba_a_mv",
        "mV",
        -20.0,
        "Release half-activation, GABA-A (mV).",
    ),
    Param::new("v_spike_mv", "mV", 0.0, "Spike threshold θ_spike (mV)."),
    Param::new("v_rearm_mv", "mV", -20.0, "Re-arm level θ_rearm (mV)."),
    Param::new(
        "i_e_pa",
        "pA",
        0.0,
        "Constant injected current (pA, positive depolarises).",
    ),
];

/// Initial-value names an HV population accepts: `v_mv` (mV) and `w` (dimensionless).
pub const INIT: &[Init] = &[
    Init::new(
        "v_mv",
        "mV",
        "the resting state",
        "Membrane potential at t = 0.",
    ),
    Init::new(
        "w",
        "1",
        "the resting state",
        "KaD activation at t = 0, in [0, 1].",
    ),
];

/// Primary parameters of one HV neuron (spec section 3 units: mV, pA, pF, 1/ms).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HvPrimary {
    /// C_m (pF).
    pub c_m_pf: f64,
    /// v_T = kT/q (mV).
    pub v_t_mv: f64,
    /// Gain of NaT activation.
    pub g_nat: f64,
    /// Half-activation of NaT (mV).
    pub v_half_nat_mv: f64,
    /// Gain of KaD activation.
    pub g_kad: f64,
    /// Half-activation of KaD (mV).
    pub v_half_kad_mv: f64,
    /// Basal rate of KaD activation r_KaD (1/ms).
    pub r_kad_per_ms: f64,
    /// Bias s_KaD of the KaD rate.
    pub s_kad: f64,
    /// Exponent p of the `w^p` factor.
    pub p_kad: f64,
    /// Na reversal (mV).
    pub v_na_mv: f64,
    /// K reversal (mV).
    pub v_ka_mv: f64,
    /// ATP potential (mV); v_NaKa = 3 v_Na − 2 v_Ka + v_ATP.
    pub v_atp_mv: f64,
    /// AMPA reversal (mV).
    pub v_ampa_mv: f64,
    /// GABA-A reversal (mV).
    pub v_gaba_a_mv: f64,
    /// Single-channel amplitudes (pA): NaT, KaD, NaKa, AMPA, GABA-A.
    pub a_pa: [f64; 5],
    /// Channel / pump / receptor counts: NaT, KaD, NaKa, AMPA, GABA-A.
    pub n: [f64; 5],
    /// Directions η (±1): NaT, KaD, NaKa, AMPA, GABA-A.
    pub eta: [f64; 5],
    /// Rectifications r ∈ [0, 1]: NaT, KaD, NaKa, AMPA, GABA-A.
    pub rect: [f64; 5],
    /// Release gain, AMPA (presynaptic).
    pub g_syn_ampa: f64,
    /// Release half-activation, AMPA (mV).
    pub v_half_syn_ampa_mv: f64,
    /// Release gain, GABA-A (presynaptic).
    pub g_syn_gaba_a: f64,
    /// Release half-activation, GABA-A (mV).
    pub v_half_syn_gaba_a_mv: f64,
    /// Spike threshold θ_spike (mV).
    pub v_spike_mv: f64,
    /// Re-arm level θ_rearm (mV).
    pub v_rearm_mv: f64,
    /// Constant injected current (pA, positive depolarises).
    pub i_e_pa: f64,
}

/// Index of each current in the per-current arrays of [`HvPrimary`].
pub const CURRENTS: [&str; 5] = ["nat", "kad", "naka", "ampa", "gaba_a"];

impl HvPrimary {
    /// Builds from a lookup of parameter values by name (see [`PARAMS`]).
    pub fn from_lookup(get: impl Fn(&str) -> f64) -> Self {
        let per =
            |prefix: &str, suffix: &str| CURRENTS.map(|c| get(&format!("{prefix}{c}{suffix}")));
        HvPrimary {
            c_m_pf: get("c_m_pf"),
            v_t_mv: get("v_t_mv"),
            g_nat: get("g_nat"),
            v_half_nat_mv: get("v_half_nat_mv"),
            g_kad: get("g_kad"),
            v_half_kad_mv: get("v_half_kad_mv"),
            r_kad_per_ms: get("r_kad_per_ms"),
            s_kad: get("s_kad"),
            p_kad: get("p_kad"),
            v_na_mv: get("v_na_mv"),
            v_ka_mv: get("v_ka_mv"),
            v_atp_mv: get("v_atp_mv"),
            v_ampa_mv: get("v_ampa_mv"),
            v_gaba_a_mv: get("v_gaba_a_mv"),
            a_pa: per("a_", "_pa"),
            n: per("n_", ""),
            eta: per("eta_", ""),
            rect: per("rect_", ""),
            g_syn_ampa: get("g_syn_ampa"),
            v_half_syn_ampa_mv: get("v_half_syn_ampa_mv"),
            g_syn_gaba_a: get("g_syn_gaba_a"),
            v_half_syn_gaba_a_mv: get("v_half_syn_gaba_a_mv"),
            v_spike_mv: get("v_spike_mv"),
            v_rearm_mv: get("v_rearm_mv"),
            i_e_pa: get("i_e_pa"),
        }
    }

    /// The spec's defaults.
    pub fn defaults() -> Self {
        Self::from_lookup(|k| {
            PARAMS
                .iter()
                .find(|d| d.name == k)
                .map(|d| d.default)
                .expect("known key")
        })
    }

    /// The derived Na/K-ATPase reversal `3 v_Na − 2 v_Ka + v_ATP` (mV).
    pub fn v_naka_mv(&self) -> f64 {
        3.0 * self.v_na_mv - 2.0 * self.v_ka_mv + self.v_atp_mv
    }

    /// Why these parameters cannot be simulated, if they cannot: (key, message).
    #[allow(clippy::neg_cmp_op_on_partial_ord)] // `!(x > 0)` also rejects NaN
    pub fn check(&self) -> Option<(String, String)> {
        let bad = |k: &str, m: String| Some((k.to_string(), m));
        if !(self.c_m_pf > 0.0) {
            return bad(
                "c_m_pf",
                format!("expected a positive capacitance, got {}", self.c_m_pf),
            );
        }
        if !(self.v_t_mv > 0.0) {
            return bad(
                "v_t_mv",
                format!("expected a positive thermal potential, got {}", self.v_t_mv),
            );
        }
        for (i, c) in CURRENTS.iter().enumerate() {
            if self.eta[i] != 1.0 && self.eta[i] != -1.0 {
                return bad(
                    &format!("eta_{c}"),
                    format!("expected 1 or -1, got {}", self.eta[i]),
                );
            }
            if !(0.0..=1.0).contains(&self.rect[i]) {
                return bad(
                    &format!("rect_{c}"),
                    format!("expected a rectification in [0, 1], got {}", self.rect[i]),
                );
            }
            if !(self.n[i] >= 0.0) {
                return bad(
                    &format!("n_{c}"),
                    format!("expected a non-negative count, got {}", self.n[i]),
                );
            }
            if !(self.a_pa[i] >= 0.0) {
                return bad(
                    &format!("a_{c}_pa"),
                    format!("expected a non-negative amplitude, got {}", self.a_pa[i]),
                );
            }
        }
        if !(self.p_kad > 0.0) {
            return bad(
                "p_kad",
                format!("expected a positive exponent, got {}", self.p_kad),
            );
        }
        if !(self.r_kad_per_ms > 0.0) {
            return bad(
                "r_kad_per_ms",
                format!("expected a positive rate, got {}", self.r_kad_per_ms),
            );
        }
        if !(self.v_rearm_mv < self.v_spike_mv) {
            return bad(
                "v_rearm_mv",
                format!(
                    "the re-arm level ({}) must be below the spike threshold v_spike_mv ({})",
                    self.v_rearm_mv, self.v_spike_mv
                ),
            );
        }
        None
    }
}

/// Per-neuron constants of the HV step, derived on the host (spec 2.2), with the time step
/// and the neuron's range of receptor pulses.
///
/// For each current X: `amp_X = N_X·A_X·η_X` (1/ms), `k1_X = η_X(1 − r_X)`,
/// `k2_X = −η_X·r_X` and the normalised reversal `y_X`, so that
/// `N_X·J_X(y) = amp_X·(exp(k1_X·(y − y_X)) − exp(k2_X·(y − y_X)))`.
///
/// When every rectification is 0.5 (the default), `sinh_form` is 1 and the fluxes take the
/// form spec 2.3.3 allows for r = 0.5, `N_X·J_X = 2·N_X·A_X·sinh((y − y_X)/2)`, evaluated
/// as `ap_X·e − am_X/e` with `e = exp(y/2)`, `ap_X = N_X·A_X·exp(−y_X/2)` and
/// `am_X = N_X·A_X·exp(y_X/2)`: one `exp` for all five currents instead of ten. The two
/// forms are algebraically identical and differ by rounding only (`tests` below).
///
/// WGSL twin: `struct HvParams` in `shaders/shared/types.wgsl` (checked by
/// `tests/layout.rs`; `HvParams<f32>` crosses the bus, 208 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HvParams<F> {
    /// N_NaT·A_NaT·η_NaT (1/ms).
    pub nat_amp: F,
    /// η_NaT(1 − r_NaT).
    pub nat_k1: F,
    /// −η_NaT·r_NaT.
    pub nat_k2: F,
    /// y_Na.
    pub y_na: F,
    /// N_KaD·A_KaD·η_KaD (1/ms).
    pub kad_amp: F,
    /// η_KaD(1 − r_KaD).
    pub kad_k1: F,
    /// −η_KaD·r_KaD.
    pub kad_k2: F,
    /// y_Ka.
    pub y_ka: F,
    /// N_NaKa·A_NaKa·η_NaKa (1/ms).
    pub naka_amp: F,
    /// η_NaKa(1 − r_NaKa).
    pub naka_k1: F,
    /// −η_NaKa·r_NaKa.
    pub naka_k2: F,
    /// y_NaKa (from the derived v_NaKa).
    pub y_naka: F,
    /// N_Ampa·A_Ampa·η_Ampa (1/ms per unit of P^A).
    pub ampa_amp: F,
    /// η_Ampa(1 − r_Ampa).
    pub ampa_k1: F,
    /// −η_Ampa·r_Ampa.
    pub ampa_k2: F,
    /// y_Ampa.
    pub y_ampa: F,
    /// N_GabaA·A_GabaA·η_GabaA (1/ms per unit of P^G).
    pub gaba_amp: F,
    /// η_GabaA(1 − r_GabaA).
    pub gaba_k1: F,
    /// −η_GabaA·r_GabaA.
    pub gaba_k2: F,
    /// y_GabaA.
    pub y_gaba: F,
    /// g_NaT.
    pub g_nat: F,
    /// y_half_NaT.
    pub y_half_nat: F,
    /// g_KaD.
    pub g_kad: F,
    /// y_half_KaD.
    pub y_half_kad: F,
    /// r_KaD (1/ms).
    pub r_kad: F,
    /// s_KaD.
    pub s_kad: F,
    /// s_KaD − 1.
    pub s_kad_m1: F,
    /// p (exponent of w^p); exactly 1 selects plain `w`.
    pub p_kad: F,
    /// Release gain, AMPA.
    pub g_syn_ampa: F,
    /// Release half-activation, AMPA (normalised).
    pub y_half_syn_ampa: F,
    /// Release gain, GABA-A.
    pub g_syn_gaba: F,
    /// Release half-activation, GABA-A (normalised).
    pub y_half_syn_gaba: F,
    /// c = I_ext/(C_m·v_T) (1/ms).
    pub c: F,
    /// v_T (mV): v = v_T·y.
    pub v_t: F,
    /// θ_spike (mV).
    pub v_spike: F,
    /// θ_rearm (mV).
    pub v_rearm: F,
    /// dt (ms).
    pub dt: F,
    /// dt/2 (ms).
    pub half_dt: F,
    /// First of this neuron's receptor pulses in the pulse table.
    pub pulse_at: u32,
    /// Number of its receptor pulses.
    pub pulse_len: u32,
    /// 1: every rectification is 0.5 and the fluxes use the `ap`/`am` constants below.
    pub sinh_form: u32,
    /// N_NaT·A_NaT·exp(−y_Na/2).
    pub nat_ap: F,
    /// N_NaT·A_NaT·exp(y_Na/2).
    pub nat_am: F,
    /// N_KaD·A_KaD·exp(−y_Ka/2).
    pub kad_ap: F,
    /// N_KaD·A_KaD·exp(y_Ka/2).
    pub kad_am: F,
    /// N_NaKa·A_NaKa·exp(−y_NaKa/2).
    pub naka_ap: F,
    /// N_NaKa·A_NaKa·exp(y_NaKa/2).
    pub naka_am: F,
    /// N_Ampa·A_Ampa·exp(−y_Ampa/2).
    pub ampa_ap: F,
    /// N_Ampa·A_Ampa·exp(y_Ampa/2).
    pub ampa_am: F,
    /// N_GabaA·A_GabaA·exp(−y_GabaA/2).
    pub gaba_ap: F,
    /// N_GabaA·A_GabaA·exp(y_GabaA/2).
    pub gaba_am: F,
    /// Padding to 208 bytes.
    pub pad: u32,
}

// SAFETY: with F = f32 every field is a 4-byte f32 or u32: no padding, every bit pattern
// valid. (`HvParams<f64>` is host-only and never cast to bytes.)
unsafe impl bytemuck::Zeroable for HvParams<f32> {}
unsafe impl bytemuck::Pod for HvParams<f32> {}
const _: () = assert!(std::mem::size_of::<HvParams<f32>>() == 208);

/// Per-neuron HV state.
///
/// WGSL twin: `struct HvState` in `shaders/shared/types.wgsl` (16 bytes for f32).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HvState<F> {
    /// y = v/v_T.
    pub y: F,
    /// KaD activation.
    pub w: F,
    /// 1 while the spike detector is armed (section 7).
    pub armed: u32,
    /// Padding (keeps the struct 16 bytes).
    pub pad: u32,
}

// SAFETY: four 4-byte fields for F = f32, no padding.
unsafe impl bytemuck::Zeroable for HvState<f32> {}
unsafe impl bytemuck::Pod for HvState<f32> {}
const _: () = assert!(std::mem::size_of::<HvState<f32>>() == 16);

/// One receptor-activation pulse as seen by one neuron (spec section 5): `amp` is added to
/// P^A (`receptor` 0) or P^G (`receptor` 1) during steps `on <= n < off`.
///
/// WGSL twin: `struct HvPulse` in `shaders/shared/types.wgsl` (16 bytes for f32).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HvPulse<F> {
    /// First step.
    pub on: u32,
    /// One past the last step.
    pub off: u32,
    /// 0 = AMPA, 1 = GABA-A.
    pub receptor: u32,
    /// Activation added.
    pub amp: F,
}

// SAFETY: four 4-byte fields for F = f32, no padding.
unsafe impl bytemuck::Zeroable for HvPulse<f32> {}
unsafe impl bytemuck::Pod for HvPulse<f32> {}
const _: () = assert!(std::mem::size_of::<HvPulse<f32>>() == 16);

impl HvPulse<f64> {
    /// Rounds the amplitude to the working precision.
    pub fn cast<F: Real>(&self) -> HvPulse<F> {
        HvPulse {
            on: self.on,
            off: self.off,
            receptor: self.receptor,
            amp: F::of(self.amp),
        }
    }
}

/// Adds the neuron's pulses active in step `step` to (pa, pg), in table order. Mirrors
/// the pulse loop of `shaders/hv_step.wgsl`.
#[inline(always)]
pub fn hv_pulses<F: Real>(
    p: &HvParams<F>,
    pulses: &[HvPulse<F>],
    step: u32,
    pa: &mut F,
    pg: &mut F,
) {
    for k in p.pulse_at..p.pulse_at + p.pulse_len {
        let q = &pulses[k as usize];
        if q.on <= step && step < q.off {
            if q.receptor == 0 {
                *pa = *pa + q.amp;
            } else {
                *pg = *pg + q.amp;
            }
        }
    }
}

/// Derives the constants of one neuron in f64 (spec 2.2): always from the primary values,
/// so editing any `v_*` or `a_*` is never left stale. The pulse range is left empty.
pub fn derive(p: &HvPrimary, dt: f64) -> HvParams<f64> {
    let vt = p.v_t_mv;
    let vtcm = p.c_m_pf * vt;
    let rev = [
        p.v_na_mv,
        p.v_ka_mv,
        p.v_naka_mv(),
        p.v_ampa_mv,
        p.v_gaba_a_mv,
    ];
    // (amp, k1, k2, y_X) per current
    let cur = |i: usize| {
        let a = p.a_pa[i] / vtcm;
        (
            p.n[i] * a * p.eta[i],
            p.eta[i] * (1.0 - p.rect[i]),
            -p.eta[i] * p.rect[i],
            rev[i] / vt,
        )
    };
    let (nat, kad, naka, ampa, gaba) = (cur(0), cur(1), cur(2), cur(3), cur(4));
    // sinh form: (N·A·exp(−y_X/2), N·A·exp(y_X/2)); N·A = η·amp ≥ 0
    let sinh = |i: usize, c: (f64, f64, f64, f64)| {
        let na = p.eta[i] * c.0;
        (na * (-c.3 / 2.0).exp(), na * (c.3 / 2.0).exp())
    };
    let (s_nat, s_kad, s_naka, s_ampa, s_gaba) = (
        sinh(0, nat),
        sinh(1, kad),
        sinh(2, naka),
        sinh(3, ampa),
        sinh(4, gaba),
    );
    HvParams {
        nat_amp: nat.0,
        nat_k1: nat.1,
        nat_k2: nat.2,
        y_na: nat.3,
        kad_amp: kad.0,
        kad_k1: kad.1,
        kad_k2: kad.2,
        y_ka: kad.3,
        naka_amp: naka.0,
        naka_k1: naka.1,
        naka_k2: naka.2,
        y_naka: naka.3,
        ampa_amp: ampa.0,
        ampa_k1: ampa.1,
        ampa_k2: ampa.2,
        y_ampa: ampa.3,
        gaba_amp: gaba.0,
        gaba_k1: gaba.1,
        gaba_k2: gaba.2,
        y_gaba: gaba.3,
        g_nat: p.g_nat,
        y_half_nat: p.v_half_nat_mv / vt,
        g_kad: p.g_kad,
        y_half_kad: p.v_half_kad_mv / vt,
        r_kad: p.r_kad_per_ms,
        s_kad: p.s_kad,
        s_kad_m1: p.s_kad - 1.0,
        p_kad: p.p_kad,
        g_syn_ampa: p.g_syn_ampa,
        y_half_syn_ampa: p.v_half_syn_ampa_mv / vt,
        g_syn_gaba: p.g_syn_gaba_a,
        y_half_syn_gaba: p.v_half_syn_gaba_a_mv / vt,
        c: p.i_e_pa / vtcm,
        v_t: vt,
        v_spike: p.v_spike_mv,
        v_rearm: p.v_rearm_mv,
        dt,
        half_dt: dt / 2.0,
        pulse_at: 0,
        pulse_len: 0,
        sinh_form: p.rect.iter().all(|&r| r == 0.5) as u32,
        nat_ap: s_nat.0,
        nat_am: s_nat.1,
        kad_ap: s_kad.0,
        kad_am: s_kad.1,
        naka_ap: s_naka.0,
        naka_am: s_naka.1,
        ampa_ap: s_ampa.0,
        ampa_am: s_ampa.1,
        gaba_ap: s_gaba.0,
        gaba_am: s_gaba.1,
        pad: 0,
    }
}

impl HvParams<f64> {
    /// Rounds the derived constants to the working precision.
    pub fn cast<F: Real>(&self) -> HvParams<F> {
        let f = F::of;
        HvParams {
            nat_amp: f(self.nat_amp),
            nat_k1: f(self.nat_k1),
            nat_k2: f(self.nat_k2),
            y_na: f(self.y_na),
            kad_amp: f(self.kad_amp),
            kad_k1: f(self.kad_k1),
            kad_k2: f(self.kad_k2),
            y_ka: f(self.y_ka),
            naka_amp: f(self.naka_amp),
            naka_k1: f(self.naka_k1),
            naka_k2: f(self.naka_k2),
            y_naka: f(self.y_naka),
            ampa_amp: f(self.ampa_amp),
            ampa_k1: f(self.ampa_k1),
            ampa_k2: f(self.ampa_k2),
            y_ampa: f(self.y_ampa),
            gaba_amp: f(self.gaba_amp),
            gaba_k1: f(self.gaba_k1),
            gaba_k2: f(self.gaba_k2),
            y_gaba: f(self.y_gaba),
            g_nat: f(self.g_nat),
            y_half_nat: f(self.y_half_nat),
            g_kad: f(self.g_kad),
            y_half_kad: f(self.y_half_kad),
            r_kad: f(self.r_kad),
            s_kad: f(self.s_kad),
            s_kad_m1: f(self.s_kad_m1),
            p_kad: f(self.p_kad),
            g_syn_ampa: f(self.g_syn_ampa),
            y_half_syn_ampa: f(self.y_half_syn_ampa),
            g_syn_gaba: f(self.g_syn_gaba),
            y_half_syn_gaba: f(self.y_half_syn_gaba),
            c: f(self.c),
            v_t: f(self.v_t),
            v_spike: f(self.v_spike),
            v_rearm: f(self.v_rearm),
            dt: f(self.dt),
            half_dt: f(self.half_dt),
            pulse_at: self.pulse_at,
            pulse_len: self.pulse_len,
            sinh_form: self.sinh_form,
            nat_ap: f(self.nat_ap),
            nat_am: f(self.nat_am),
            kad_ap: f(self.kad_ap),
            kad_am: f(self.kad_am),
            naka_ap: f(self.naka_ap),
            naka_am: f(self.naka_am),
            ampa_ap: f(self.ampa_ap),
            ampa_am: f(self.ampa_am),
            gaba_ap: f(self.gaba_ap),
            gaba_am: f(self.gaba_am),
            pad: self.pad,
        }
    }
}

/// Logistic σ(x) = 1/(1 + exp(−x)) (spec 2.3.1: no overflow for large positive x).
#[inline(always)]
pub fn sigmoid<F: Real>(x: F) -> F {
    F::one() / (F::one() + (-x).exp())
}

/// `amp·(exp(k1·d) − exp(k2·d))` with `d = y − y_X`: N_X times the flux J_X (spec 2.3.3).
#[inline(always)]
pub fn flux<F: Real>(amp: F, k1: F, k2: F, y_x: F, y: F) -> F {
    let d = y - y_x;
    amp * ((k1 * d).exp() - (k2 * d).exp())
}

/// The right-hand side (dy/dt, dw/dt) of spec 2.4/2.5 for receptor activations `pa`, `pg`
/// (held constant over the step). Mirrors `hv_rhs` in `shaders/hv_step.wgsl`.
#[inline(always)]
pub fn hv_rhs<F: Real>(p: &HvParams<F>, y: F, w: F, pa: F, pg: F) -> (F, F) {
    let one = F::one();
    let m_inf = sigmoid(p.g_nat * (y - p.y_half_nat));
    let x_w = p.g_kad * (y - p.y_half_kad);
    let w_inf = sigmoid(x_w);
    let lambda = p.r_kad * ((p.s_kad * x_w).exp() + (p.s_kad_m1 * x_w).exp());
    let (j_nat, j_kad, j_naka, j_ampa, j_gaba);
    if p.sinh_form != 0 {
        // every r = 0.5: N·J = ap·e − am/e, e = exp(y/2)
        let e = (y * F::of(0.5)).exp();
        let ei = one / e;
        j_nat = p.nat_ap * e - p.nat_am * ei;
        j_kad = p.kad_ap * e - p.kad_am * ei;
        j_naka = p.naka_ap * e - p.naka_am * ei;
        j_ampa = p.ampa_ap * e - p.ampa_am * ei;
        j_gaba = p.gaba_ap * e - p.gaba_am * ei;
    } else {
        j_nat = flux(p.nat_amp, p.nat_k1, p.nat_k2, p.y_na, y);
        j_kad = flux(p.kad_amp, p.kad_k1, p.kad_k2, p.y_ka, y);
        j_naka = flux(p.naka_amp, p.naka_k1, p.naka_k2, p.y_naka, y);
        j_ampa = flux(p.ampa_amp, p.ampa_k1, p.ampa_k2, p.y_ampa, y);
        j_gaba = flux(p.gaba_amp, p.gaba_k1, p.gaba_k2, p.y_gaba, y);
    }
    let dy = -(m_inf * (one - w)) * j_nat - w * j_kad - j_naka - pa * j_ampa - pg * j_gaba + p.c;
    let wp = if p.p_kad == one { w } else { w.powf(p.p_kad) };
    let dw = wp * lambda * (w_inf - w);
    (dy, dw)
}

/// One classic RK4 step of (y, w) with the coupling frozen over the step (spec 6.2).
/// Mirrors `hv_rk4` in `shaders/hv_step.wgsl`.
#[inline(always)]
pub fn hv_rk4<F: Real>(p: &HvParams<F>, y: F, w: F, pa: F, pg: F) -> (F, F) {
    let two = F::of(2.0);
    let six = F::of(6.0);
    let h = p.half_dt;
    let dt = p.dt;
    let (k1y, k1w) = hv_rhs(p, y, w, pa, pg);
    let (k2y, k2w) = hv_rhs(p, y + h * k1y, w + h * k1w, pa, pg);
    let (k3y, k3w) = hv_rhs(p, y + h * k2y, w + h * k2w, pa, pg);
    let (k4y, k4w) = hv_rhs(p, y + dt * k3y, w + dt * k3w, pa, pg);
    (
        y + dt * (k1y + two * k2y + two * k3y + k4y) / six,
        w + dt * (k1w + two * k2w + two * k3w + k4w) / six,
    )
}

/// Presynaptic release (s^A, s^G) at normalised voltage `y` (spec 4.2). Mirrors
/// `hv_release` in `shaders/hv_step.wgsl`.
#[inline(always)]
pub fn hv_release<F: Real>(p: &HvParams<F>, y: F) -> (F, F) {
    (
        sigmoid(p.g_syn_ampa * (y - p.y_half_syn_ampa)),
        sigmoid(p.g_syn_gaba * (y - p.y_half_syn_gaba)),
    )
}

/// Spike detection of spec 7 on v^n = `v_old`, v^{n+1} = `v_new` (mV). Returns the
/// fraction of the step at which v crossed θ_spike (linear interpolation, in (0, 1]) when
/// a spike is emitted. Mirrors `hv_detect` in `shaders/hv_step.wgsl`.
#[inline(always)]
pub fn hv_detect<F: Real>(p: &HvParams<F>, v_old: F, v_new: F, armed: &mut u32) -> Option<F> {
    if *armed != 0 && v_new >= p.v_spike {
        *armed = 0;
        Some((p.v_spike - v_old) / (v_new - v_old))
    } else {
        if *armed == 0 && v_new < p.v_rearm {
            *armed = 1;
        }
        None
    }
}

/// w_inf(v) for a voltage in mV (spec 2.4), in f64.
pub fn w_inf(p: &HvPrimary, v_mv: f64) -> f64 {
    let d = derive(p, 1.0);
    sigmoid(d.g_kad * (v_mv / d.v_t - d.y_half_kad))
}

/// The initial state for `v0` (mV) and `w0`, rounded to the working precision; the
/// detector starts armed when v0 < θ_spike (spec 7).
pub fn initial_state<F: Real>(p: &HvParams<f64>, v0_mv: f64, w0: f64) -> HvState<F> {
    HvState {
        y: F::of(v0_mv / p.v_t),
        w: F::of(w0),
        armed: (v0_mv < p.v_spike) as u32,
        pad: 0,
    }
}

/// The resting state (v*, w_inf(v*)) of an uncoupled cell without injected current (spec
/// section 8): the lowest zero of `dy/dt(y, w_inf(y))` with a stable crossing (+ below,
/// − above), found by scanning −200…+100 mV in 0.25 mV steps and bisecting to full f64
/// precision. `None` if there is none in that range.
pub fn resting_state(p: &HvPrimary) -> Option<(f64, f64)> {
    let d = HvParams {
        c: 0.0,
        ..derive(p, 1.0)
    };
    let f = |v: f64| {
        let y = v / d.v_t;
        let w = sigmoid(d.g_kad * (y - d.y_half_kad));
        hv_rhs(&d, y, w, 0.0, 0.0).0
    };
    let mut lo = -200.0;
    let mut f_lo = f(lo);
    let mut hi = None;
    for k in 1..=1200 {
        let v = -200.0 + 0.25 * k as f64;
        let fv = f(v);
        if f_lo > 0.0 && fv <= 0.0 {
            hi = Some(v);
            break;
        }
        lo = v;
        f_lo = fv;
    }
    let mut hi = hi?;
    if f(hi) == 0.0 {
        return Some((hi, w_inf(p, hi)));
    }
    loop {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if f(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    // the endpoint with the smaller |f|
    let v = if f(lo).abs() <= f(hi).abs() { lo } else { hi };
    Some((v, w_inf(p, v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_constants_match_spec_2_2() {
        let d = derive(&HvPrimary::defaults(), 1.0);
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-15 * b.abs().max(1.0);
        assert!(close(d.y_na, 2.247191011235955));
        assert!(close(d.y_ka, -3.370786516853933));
        assert!(close(d.y_naka, -2.6217228464419478));
        assert!(close(d.y_gaba, -2.6217228464419478));
        assert_eq!(d.y_ampa, 0.0);
        assert!(close(d.y_half_nat, -0.6367041198501873));
        assert_eq!(d.y_half_kad, 0.0);
        assert!(close(d.y_half_syn_ampa, -0.7490636704119851));
        assert!(close(d.nat_amp, -1400.0 * 0.002247191011235955));
        assert!(close(d.kad_amp, 4500.0 * 0.0018726591760299626));
        assert!(close(d.ampa_amp, -10.0 * 0.0018726591760299626));
        assert_eq!((d.nat_k1, d.nat_k2), (-0.5, 0.5));
        assert_eq!((d.kad_k1, d.kad_k2), (0.5, -0.5));
        assert_eq!(HvPrimary::defaults().v_naka_mv(), -70.0);
    }

    /// With r = 0.5 the flux is 2·A·sinh((y − y_X)/2) whatever η (spec 2.3.3).
    #[test]
    fn flux_is_sinh_for_half_rectification() {
        let d = derive(&HvPrimary::defaults(), 1.0);
        for &y in &[-3.0, -2.62, -1.0, 0.0, 0.5, 2.0] {
            let sinh = |a: f64, yx: f64| a * 2.0 * ((y - yx) / 2.0).sinh();
            let a = 1.2 / 534.0 * 1400.0;
            let j = flux(d.nat_amp, d.nat_k1, d.nat_k2, d.y_na, y);
            assert!((j - sinh(a, d.y_na)).abs() < 1e-12, "{j}");
            let a = 200.0 / 534.0;
            let j = flux(d.naka_amp, d.naka_k1, d.naka_k2, d.y_naka, y);
            assert!((j - sinh(a, d.y_naka)).abs() < 1e-12, "{j}");
        }
    }

    /// The sinh form (r = 0.5) and the general two-exponential form give the same
    /// right-hand side to rounding, over the whole physiological range and beyond.
    #[test]
    fn sinh_form_equals_the_general_form() {
        let p = derive(&HvPrimary::defaults(), 1.0 / 70.0);
        assert_eq!(p.sinh_form, 1);
        let general = HvParams { sinh_form: 0, ..p };
        let mut worst = 0f64;
        for i in 0..=400 {
            let y = -5.0 + 8.0 * i as f64 / 400.0;
            for &(w, pa, pg) in &[(1e-4, 0.0, 0.0), (0.2, 1.0, 0.5), (0.9, 30.0, 24.0)] {
                let (a, b) = (hv_rhs(&p, y, w, pa, pg), hv_rhs(&general, y, w, pa, pg));
                let scale = 1.0 + a.0.abs();
                worst = worst.max((a.0 - b.0).abs() / scale);
                assert!((a.0 - b.0).abs() <= 1e-13 * scale, "y {y}: {a:?} vs {b:?}");
                assert!((a.1 - b.1).abs() <= 1e-13 * (1.0 + a.1.abs()), "y {y}");
            }
        }
        eprintln!("largest relative difference of dy/dt: {worst:.2e}");
        let mut r = HvPrimary::defaults();
        r.rect[2] = 0.3;
        assert_eq!(
            derive(&r, 1.0).sinh_form,
            0,
            "any r != 0.5 takes the general form"
        );
    }

    #[test]
    fn resting_state_is_spec_8() {
        let (v, w) = resting_state(&HvPrimary::defaults()).unwrap();
        assert!((v - -69.92248177745992).abs() < 1e-9, "{v}");
        assert!((w - 1.0453663854758004e-4).abs() < 1e-15, "{w}");
    }
}

/// The HV model as the rest of galvani sees it ([`super::NeuronModel`]).
pub struct Hv;

impl super::NeuronModel for Hv {
    fn name(&self) -> &'static str {
        "hv"
    }
    fn summary(&self) -> &'static str {
        "Herrera-Valdez neuron: membrane potential and KaD activation driven by \
         channel currents of the thermodynamic form, with graded AMPA and GABA-A \
         release (no NEST or PyNN counterpart)."
    }
    fn spec(&self) -> &'static str {
        "src/model/hv/spec.md"
    }
    fn params(&self) -> &'static [Param] {
        PARAMS
    }
    fn init(&self) -> &'static [Init] {
        INIT
    }
    fn no_synapse_reason(&self) -> &'static str {
        "HV populations take no synapse kind (their AMPA and GABA-A receptors are part of the model)"
    }
    fn probes(&self) -> &'static [&'static str] {
        &["v_mv"]
    }
    fn kernels(&self) -> &'static [&'static str] {
        &["hv_step", "hv_gather", "hv_record_voltage"]
    }
    fn default_dt_ms(&self) -> f64 {
        1.0 / 70.0
    }
}
