//! Every struct that crosses the bus has the same size and field offsets in Rust as its
//! WGSL twin in `shaders/shared/types.wgsl`, as naga lays it out; shared constants agree.
//! No GPU needed.

use std::mem::{offset_of, size_of};

use galvani::backend::gpu::hv::NO_BAD;
use galvani::backend::gpu::layout::{
    BLOCK, BLOCK_ITER, COUNT_BLOCKS, COUNT_GROUPS, COUNT_SPIKES, GpuPoissonStream, GpuProbe,
    STEP_STRIDE, StepUniform, WG_SIZE,
};
use galvani::backend::gpu::shaders::{SHARED, preprocess};
use galvani::model::hv::{HvParams, HvPulse, HvState};
use galvani::model::lif::{
    LifParams, LifState, SYN_ALPHA_CONDUCTANCE, SYN_ALPHA_CURRENT, SYN_DELTA, SYN_EXP_CONDUCTANCE,
    SYN_EXP_CURRENT,
};

fn types_module() -> naga::Module {
    let file = SHARED.iter().find(|f| f.name == "types").unwrap();
    let src = preprocess(file.source, SHARED).unwrap();
    naga::front::wgsl::parse_str(&src)
        .map_err(|e| e.emit_to_string(&src))
        .unwrap()
}

/// Checks one WGSL struct against (Rust size, [(field, Rust offset)]) in declaration order.
fn check(m: &naga::Module, wgsl: &str, size: usize, fields: &[(&str, usize)]) {
    let (_, ty) = m
        .types
        .iter()
        .find(|(_, t)| t.name.as_deref() == Some(wgsl))
        .unwrap_or_else(|| panic!("no struct {wgsl} in types.wgsl"));
    let naga::TypeInner::Struct { members, span } = &ty.inner else {
        panic!("{wgsl} is not a struct");
    };
    assert_eq!(
        *span as usize, size,
        "{wgsl}: WGSL size {span} vs Rust {size}"
    );
    let wgsl_fields: Vec<(&str, usize)> = members
        .iter()
        .map(|mb| (mb.name.as_deref().unwrap_or("?"), mb.offset as usize))
        .collect();
    assert_eq!(wgsl_fields, fields, "{wgsl}: fields (name, offset) differ");
    // Every member is a 4-byte scalar here, so the fields tile the struct exactly.
    assert_eq!(fields.len() * 4, size, "{wgsl}: padding or wider fields");
}

#[test]
fn lif_params_matches_wgsl() {
    type P = LifParams<f32>;
    check(
        &types_module(),
        "LifParams",
        size_of::<P>(),
        &[
            ("p33", offset_of!(P, p33)),
            ("p30", offset_of!(P, p30)),
            ("p31_ampa", offset_of!(P, p31_ampa)),
            ("p31_gaba", offset_of!(P, p31_gaba)),
            ("p11_ampa", offset_of!(P, p11_ampa)),
            ("p11_gaba", offset_of!(P, p11_gaba)),
            ("i_e", offset_of!(P, i_e)),
            ("theta", offset_of!(P, theta)),
            ("reset", offset_of!(P, reset)),
            ("e_l", offset_of!(P, e_l)),
            ("e_ampa_rel", offset_of!(P, e_ampa_rel)),
            ("e_gaba_rel", offset_of!(P, e_gaba_rel)),
            ("dt_c_m", offset_of!(P, dt_c_m)),
            ("dt_tau_m", offset_of!(P, dt_tau_m)),
            ("ref_steps", offset_of!(P, ref_steps)),
            ("kind", offset_of!(P, kind)),
            ("expm1_m", offset_of!(P, expm1_m)),
            ("pd_ampa", offset_of!(P, pd_ampa)),
            ("pd_gaba", offset_of!(P, pd_gaba)),
            ("p21_ampa", offset_of!(P, p21_ampa)),
            ("p21_gaba", offset_of!(P, p21_gaba)),
            ("jump_ampa", offset_of!(P, jump_ampa)),
            ("jump_gaba", offset_of!(P, jump_gaba)),
            ("avg_g_ampa", offset_of!(P, avg_g_ampa)),
            ("avg_d_ampa", offset_of!(P, avg_d_ampa)),
            ("avg_g_gaba", offset_of!(P, avg_g_gaba)),
            ("avg_d_gaba", offset_of!(P, avg_d_gaba)),
            ("_pad", offset_of!(P, _pad)),
        ],
    );
}

#[test]
fn lif_state_matches_wgsl() {
    type S = LifState<f32>;
    check(
        &types_module(),
        "LifState",
        size_of::<S>(),
        &[
            ("u", offset_of!(S, u)),
            ("i_ampa", offset_of!(S, i_ampa)),
            ("i_gaba", offset_of!(S, i_gaba)),
            ("refrac", offset_of!(S, refrac)),
        ],
    );
}

#[test]
fn step_uniform_matches_wgsl() {
    type U = StepUniform;
    check(
        &types_module(),
        "StepUniform",
        size_of::<U>(),
        &[
            ("n", offset_of!(U, n)),
            ("words", offset_of!(U, words)),
            ("slots", offset_of!(U, slots)),
            ("n_probes", offset_of!(U, n_probes)),
            ("inv_scale", offset_of!(U, inv_scale)),
            ("slot", offset_of!(U, slot)),
            ("parity", offset_of!(U, parity)),
            ("row", offset_of!(U, row)),
            ("zero", offset_of!(U, zero)),
            ("step", offset_of!(U, step)),
            ("key_lo", offset_of!(U, key_lo)),
            ("key_hi", offset_of!(U, key_hi)),
            ("n_targets", offset_of!(U, n_targets)),
            ("syn_shift", offset_of!(U, syn_shift)),
            ("syn_mode", offset_of!(U, syn_mode)),
            ("tgt_shift", offset_of!(U, tgt_shift)),
            ("block_cap", offset_of!(U, block_cap)),
            ("max_groups", offset_of!(U, max_groups)),
            ("probe_at", offset_of!(U, probe_at)),
            ("rec_cap", offset_of!(U, rec_cap)),
            ("rec_at", offset_of!(U, rec_at)),
            ("probe_due", offset_of!(U, probe_due)),
            ("_pad1", offset_of!(U, _pad)),
            ("_pad2", offset_of!(U, _pad) + 4),
        ],
    );
    // One entry per step at a dynamic offset: the stride must satisfy any adapter.
    assert!(size_of::<U>() as u64 <= STEP_STRIDE && STEP_STRIDE.is_multiple_of(256));
}

#[test]
fn probe_matches_wgsl() {
    type P = GpuProbe;
    check(
        &types_module(),
        "Probe",
        size_of::<P>(),
        &[
            ("neuron", offset_of!(P, neuron)),
            ("every", offset_of!(P, every)),
            ("first_row", offset_of!(P, first_row)),
            ("variable", offset_of!(P, variable)),
        ],
    );
}

#[test]
fn poisson_stream_matches_wgsl() {
    type P = GpuPoissonStream;
    check(
        &types_module(),
        "PoissonStream",
        size_of::<P>(),
        &[
            ("stream", offset_of!(P, stream)),
            ("blocks", offset_of!(P, blocks)),
            ("cdf_at", offset_of!(P, cdf_at)),
            ("cdf_len", offset_of!(P, cdf_len)),
            ("weight", offset_of!(P, weight)),
            ("receptor", offset_of!(P, receptor)),
            ("delay", offset_of!(P, delay)),
            ("_pad", offset_of!(P, _pad)),
        ],
    );
}

/// naga's own layouter agrees with the spans the front end recorded (size and a 4-byte
/// alignment, so arrays of these structs have stride = size on both sides).
#[test]
fn naga_layouter_agrees() {
    let m = types_module();
    let mut l = naga::proc::Layouter::default();
    l.update(m.to_ctx()).unwrap();
    for (name, size) in [
        ("LifParams", size_of::<LifParams<f32>>()),
        ("LifState", size_of::<LifState<f32>>()),
        ("StepUniform", size_of::<StepUniform>()),
        ("Probe", size_of::<GpuProbe>()),
        ("PoissonStream", size_of::<GpuPoissonStream>()),
    ] {
        let (h, _) = m
            .types
            .iter()
            .find(|(_, t)| t.name.as_deref() == Some(name))
            .unwrap();
        assert_eq!(l[h].size as usize, size, "{name}");
        assert_eq!(
            l[h].alignment.round_up(size as u32) as usize,
            size,
            "{name}: stride"
        );
    }
}

fn wgsl_u32_const(m: &naga::Module, name: &str) -> u32 {
    let (_, c) = m
        .constants
        .iter()
        .find(|(_, c)| c.name.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no const {name} in types.wgsl"));
    match m.global_expressions[c.init] {
        naga::Expression::Literal(naga::Literal::U32(v)) => v,
        ref e => panic!("{name} = {e:?}"),
    }
}

#[test]
fn shared_constants_match() {
    let m = types_module();
    assert_eq!(wgsl_u32_const(&m, "WG_SIZE"), WG_SIZE);
    assert_eq!(wgsl_u32_const(&m, "BLOCK_ITER"), BLOCK_ITER);
    assert_eq!(wgsl_u32_const(&m, "BLOCK"), BLOCK);
    assert_eq!(wgsl_u32_const(&m, "COUNT_SPIKES"), COUNT_SPIKES as u32);
    assert_eq!(wgsl_u32_const(&m, "COUNT_BLOCKS"), COUNT_BLOCKS as u32);
    assert_eq!(wgsl_u32_const(&m, "COUNT_GROUPS"), COUNT_GROUPS as u32);
    assert_eq!(wgsl_u32_const(&m, "SYN_DELTA"), SYN_DELTA);
    assert_eq!(wgsl_u32_const(&m, "SYN_EXP_CURRENT"), SYN_EXP_CURRENT);
    assert_eq!(
        wgsl_u32_const(&m, "SYN_EXP_CONDUCTANCE"),
        SYN_EXP_CONDUCTANCE
    );
    assert_eq!(wgsl_u32_const(&m, "SYN_ALPHA_CURRENT"), SYN_ALPHA_CURRENT);
    assert_eq!(
        wgsl_u32_const(&m, "SYN_ALPHA_CONDUCTANCE"),
        SYN_ALPHA_CONDUCTANCE
    );
}

/// The host-side encodings the kernels rely on: `record_voltage` samples after row r of
/// a batch iff `r % every == first_row`, which must equal the CPU's
/// `(step + 1) % every == 0`; and the step entries carry `step % slots`, `step % 2`.
#[test]
fn per_batch_encodings_match_the_cpu_conditions() {
    for every in [1u32, 2, 3, 7, 10, 1000, 4093] {
        for first in [0u64, 1, 5, 999, 1000, 12345, u32::MAX as u64 + 17] {
            let p = GpuProbe::for_batch(3, every, 0, first);
            assert!(p.first_row < every);
            for r in 0..50u32 {
                let cpu = (first + r as u64 + 1).is_multiple_of(every as u64);
                assert_eq!(
                    r % p.every == p.first_row,
                    cpu,
                    "every {every} first {first} row {r}"
                );
            }
        }
    }
    let base = StepUniform {
        n: 10,
        words: 1,
        slots: 16,
        n_probes: 0,
        inv_scale: 1.0,
        ..Default::default()
    };
    let e = StepUniform::for_step(base, 4_000_000_000, 4_000_000_037);
    assert_eq!(
        (e.slot, e.parity, e.row, e.step),
        (
            (4_000_000_037u64 % 16) as u32,
            1,
            37,
            4_000_000_037u64 as u32
        )
    );
}

#[test]
fn hv_params_matches_wgsl() {
    type P = HvParams<f32>;
    let fields: Vec<(&str, usize)> = vec![
        ("nat_amp", offset_of!(P, nat_amp)),
        ("nat_k1", offset_of!(P, nat_k1)),
        ("nat_k2", offset_of!(P, nat_k2)),
        ("y_na", offset_of!(P, y_na)),
        ("kad_amp", offset_of!(P, kad_amp)),
        ("kad_k1", offset_of!(P, kad_k1)),
        ("kad_k2", offset_of!(P, kad_k2)),
        ("y_ka", offset_of!(P, y_ka)),
        ("naka_amp", offset_of!(P, naka_amp)),
        ("naka_k1", offset_of!(P, naka_k1)),
        ("naka_k2", offset_of!(P, naka_k2)),
        ("y_naka", offset_of!(P, y_naka)),
        ("ampa_amp", offset_of!(P, ampa_amp)),
        ("ampa_k1", offset_of!(P, ampa_k1)),
        ("ampa_k2", offset_of!(P, ampa_k2)),
        ("y_ampa", offset_of!(P, y_ampa)),
        ("gaba_amp", offset_of!(P, gaba_amp)),
        ("gaba_k1", offset_of!(P, gaba_k1)),
        ("gaba_k2", offset_of!(P, gaba_k2)),
        ("y_gaba", offset_of!(P, y_gaba)),
        ("g_nat", offset_of!(P, g_nat)),
        ("y_half_nat", offset_of!(P, y_half_nat)),
        ("g_kad", offset_of!(P, g_kad)),
        ("y_half_kad", offset_of!(P, y_half_kad)),
        ("r_kad", offset_of!(P, r_kad)),
        ("s_kad", offset_of!(P, s_kad)),
        ("s_kad_m1", offset_of!(P, s_kad_m1)),
        ("p_kad", offset_of!(P, p_kad)),
        ("g_syn_ampa", offset_of!(P, g_syn_ampa)),
        ("y_half_syn_ampa", offset_of!(P, y_half_syn_ampa)),
        ("g_syn_gaba", offset_of!(P, g_syn_gaba)),
        ("y_half_syn_gaba", offset_of!(P, y_half_syn_gaba)),
        ("c", offset_of!(P, c)),
        ("v_t", offset_of!(P, v_t)),
        ("v_spike", offset_of!(P, v_spike)),
        ("v_rearm", offset_of!(P, v_rearm)),
        ("dt", offset_of!(P, dt)),
        ("half_dt", offset_of!(P, half_dt)),
        ("pulse_at", offset_of!(P, pulse_at)),
        ("pulse_len", offset_of!(P, pulse_len)),
        ("sinh_form", offset_of!(P, sinh_form)),
        ("nat_ap", offset_of!(P, nat_ap)),
        ("nat_am", offset_of!(P, nat_am)),
        ("kad_ap", offset_of!(P, kad_ap)),
        ("kad_am", offset_of!(P, kad_am)),
        ("naka_ap", offset_of!(P, naka_ap)),
        ("naka_am", offset_of!(P, naka_am)),
        ("ampa_ap", offset_of!(P, ampa_ap)),
        ("ampa_am", offset_of!(P, ampa_am)),
        ("gaba_ap", offset_of!(P, gaba_ap)),
        ("gaba_am", offset_of!(P, gaba_am)),
        ("pad", offset_of!(P, pad)),
    ];
    check(&types_module(), "HvParams", size_of::<P>(), &fields);
}

#[test]
fn hv_state_and_pulse_match_wgsl() {
    type S = HvState<f32>;
    check(
        &types_module(),
        "HvState",
        size_of::<S>(),
        &[
            ("y", offset_of!(S, y)),
            ("w", offset_of!(S, w)),
            ("armed", offset_of!(S, armed)),
            ("pad", offset_of!(S, pad)),
        ],
    );
    type Q = HvPulse<f32>;
    check(
        &types_module(),
        "HvPulse",
        size_of::<Q>(),
        &[
            ("on", offset_of!(Q, on)),
            ("off", offset_of!(Q, off)),
            ("receptor", offset_of!(Q, receptor)),
            ("amp", offset_of!(Q, amp)),
        ],
    );
    let m = types_module();
    assert_eq!(wgsl_u32_const(&m, "HV_NO_BAD"), NO_BAD);
    let mut l = naga::proc::Layouter::default();
    l.update(m.to_ctx()).unwrap();
    for (name, size) in [
        ("HvParams", size_of::<HvParams<f32>>()),
        ("HvState", size_of::<S>()),
        ("HvPulse", size_of::<Q>()),
    ] {
        let (h, _) = m
            .types
            .iter()
            .find(|(_, t)| t.name.as_deref() == Some(name))
            .unwrap();
        assert_eq!(l[h].size as usize, size, "{name}");
        assert_eq!(
            l[h].alignment.round_up(size as u32) as usize,
            size,
            "{name}: stride"
        );
    }
}
