// Types shared by the kernels. Every struct mirrors a Rust #[repr(C)] Pod struct (named
// in its comment); tests/layout.rs checks size and field offsets against naga's layout.

// Invocations per workgroup of every kernel.
// keep in sync with src/backend/gpu/layout.rs WG_SIZE
const WG_SIZE: u32 = 64u;

// Synapse kinds (LifParams.kind).
// keep in sync with src/model/lif/mod.rs SYN_DELTA, SYN_EXP_CURRENT, SYN_EXP_CONDUCTANCE,
// SYN_ALPHA_CURRENT, SYN_ALPHA_CONDUCTANCE
const SYN_DELTA: u32 = 0u;
const SYN_EXP_CURRENT: u32 = 1u;
const SYN_EXP_CONDUCTANCE: u32 = 2u;
const SYN_ALPHA_CURRENT: u32 = 3u;
const SYN_ALPHA_CONDUCTANCE: u32 = 4u;

// Per-neuron constants of the LIF step, derived on the host (112 bytes).
// keep in sync with src/model/lif.rs LifParams (LifParams<f32>)
struct LifParams {
    p33: f32,
    p30: f32,
    p31_ampa: f32,
    p31_gaba: f32,
    p11_ampa: f32,
    p11_gaba: f32,
    i_e: f32,
    theta: f32,
    reset: f32,
    e_l: f32,
    e_ampa_rel: f32,
    e_gaba_rel: f32,
    dt_c_m: f32,
    dt_tau_m: f32,
    ref_steps: u32,
    kind: u32,
    expm1_m: f32,
    pd_ampa: f32,
    pd_gaba: f32,
    p21_ampa: f32,
    p21_gaba: f32,
    jump_ampa: f32,
    jump_gaba: f32,
    avg_g_ampa: f32,
    avg_d_ampa: f32,
    avg_g_gaba: f32,
    avg_d_gaba: f32,
    _pad: u32,
}

// Per-neuron LIF state (16 bytes): u = V - E_L.
// keep in sync with src/model/lif.rs LifState (LifState<f32>)
struct LifState {
    u: f32,
    i_ampa: f32,
    i_gaba: f32,
    refrac: u32,
}

// Per-step constants: one 256-byte-aligned entry per step of a batch, selected by a
// dynamic offset.
// keep in sync with src/backend/gpu/layout.rs StepUniform
struct StepUniform {
    n: u32,
    words: u32,
    slots: u32,
    n_probes: u32,
    inv_scale: f32,
    slot: u32,
    parity: u32,
    row: u32,
    zero: u32,
    step: u32,
    key_lo: u32,
    key_hi: u32,
    n_targets: u32,
    syn_shift: u32,
    syn_mode: u32,
    tgt_shift: u32,
    block_cap: u32,
    max_groups: u32,
    probe_at: u32,
    rec_cap: u32,
    rec_at: u32,
    probe_due: u32,
    _pad1: u32,
    _pad2: u32,
}

// Row-parallel delivery: a spike's outgoing row is cut into blocks of BLOCK synapses,
// and one workgroup walks one block with each invocation taking BLOCK_ITER synapses
// WG_SIZE apart. So no workgroup loops longer than BLOCK_ITER per block, however long
// the row.
// keep in sync with src/backend/gpu/layout.rs BLOCK_ITER
const BLOCK_ITER: u32 = 8u;
const BLOCK: u32 = 512u; // WG_SIZE * BLOCK_ITER

// The per-parity counters of a step (`counts` in lif_step, source_spikes, propagate):
// at 8·parity, [spikes, blocks, groups_x, 1, 1, 0, 0, 0]; groups_x..+3 are the
// propagate dispatch's indirect arguments (min(blocks, max_groups), 1, 1).
// keep in sync with src/backend/gpu/layout.rs COUNT_*
const COUNT_SPIKES: u32 = 0u;
const COUNT_BLOCKS: u32 = 1u;
const COUNT_GROUPS: u32 = 2u;

// The layouts of the synapse table (StepUniform.syn_mode).
// keep in sync with src/backend/gpu/layout.rs SYN_PALETTE, SYN_PACKED, SYN_WIDE
const SYN_PALETTE: u32 = 0u;
const SYN_PACKED: u32 = 1u;
const SYN_WIDE: u32 = 2u;

// One voltage probe for one batch: samples after rows r with r % every == first_row.
// keep in sync with src/backend/gpu/layout.rs GpuProbe
struct Probe {
    neuron: u32,
    every: u32,
    first_row: u32,
    // 0: v (mV); 1: AMPA, 2: GABA-A synaptic variable; 3, 4: their derivative states
    // (alpha kinds) (network::PROBE_*)
    variable: u32,
}

// One Poisson drive stream.
// keep in sync with src/backend/gpu/layout.rs GpuPoissonStream
struct PoissonStream {
    stream: u32,
    blocks: u32,
    cdf_at: u32,
    cdf_len: u32,
    weight: i32,
    receptor: u32,
    delay: u32,
    _pad: u32,
}

// The flat index of this invocation in a 1D or 2D dispatch (see limits::dispatch_2d).
fn flat_index(wg: vec3<u32>, nwg: vec3<u32>, li: u32) -> u32 {
    return (wg.y * nwg.x + wg.x) * WG_SIZE + li;
}

// Rounding points. `pin(x)` returns x unchanged, because `pin_zero` is StepUniform.zero,
// 0 at run time; the compiler cannot know that, so it can neither fuse a product into a
// following add (FMA contraction) nor reassociate a sum across a pinned value. Kernels
// set `pin_zero = u.zero;` first. With every product and partial sum pinned, the GPU
// rounds exactly where the CPU does (Vulkan's f32 add, mul and int-to-float conversion
// are correctly rounded), so its results can be bit-identical to the CPU's.
var<private> pin_zero: u32;

fn pin(x: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(x) ^ pin_zero);
}

// x, or 0 where it is subnormal (|x| < 2^-126). A GPU may flush f32 subnormals to zero
// and the CPU does not, so the LIF state and inputs are flushed on both (CPU twin:
// Real::flush in src/engine/real.rs); on a flushing GPU a subnormal compares as 0 here
// too, so both give +0.
fn flush(x: f32) -> f32 {
    return select(x, 0.0, abs(x) < 1.17549435e-38);
}

// ---- Herrera-Valdez (HV) model: spec ../shared/specs/hv-model.md ----

// Per-neuron constants of the HV step, derived on the host (208 bytes): for each current
// X, N_X·J_X(y) = amp·(exp(k1·(y − y_X)) − exp(k2·(y − y_X))), or when sinh_form = 1
// (every r = 0.5) ap·e − am/e with e = exp(y/2).
// keep in sync with src/model/hv.rs HvParams (HvParams<f32>)
struct HvParams {
    nat_amp: f32,
    nat_k1: f32,
    nat_k2: f32,
    y_na: f32,
    kad_amp: f32,
    kad_k1: f32,
    kad_k2: f32,
    y_ka: f32,
    naka_amp: f32,
    naka_k1: f32,
    naka_k2: f32,
    y_naka: f32,
    ampa_amp: f32,
    ampa_k1: f32,
    ampa_k2: f32,
    y_ampa: f32,
    gaba_amp: f32,
    gaba_k1: f32,
    gaba_k2: f32,
    y_gaba: f32,
    g_nat: f32,
    y_half_nat: f32,
    g_kad: f32,
    y_half_kad: f32,
    r_kad: f32,
    s_kad: f32,
    s_kad_m1: f32,
    p_kad: f32,
    g_syn_ampa: f32,
    y_half_syn_ampa: f32,
    g_syn_gaba: f32,
    y_half_syn_gaba: f32,
    c: f32,
    v_t: f32,
    v_spike: f32,
    v_rearm: f32,
    dt: f32,
    half_dt: f32,
    pulse_at: u32,
    pulse_len: u32,
    sinh_form: u32,
    nat_ap: f32,
    nat_am: f32,
    kad_ap: f32,
    kad_am: f32,
    naka_ap: f32,
    naka_am: f32,
    ampa_ap: f32,
    ampa_am: f32,
    gaba_ap: f32,
    gaba_am: f32,
    pad: u32,
}

// Per-neuron HV state (16 bytes): y = v / v_T, w, spike detector armed (1) or not (0).
// keep in sync with src/model/hv.rs HvState (HvState<f32>)
struct HvState {
    y: f32,
    w: f32,
    armed: u32,
    pad: u32,
}

// One receptor-activation pulse of one neuron: amp added to P^A (receptor 0) or P^G (1)
// on steps on <= step < off.
// keep in sync with src/model/hv.rs HvPulse (HvPulse<f32>)
struct HvPulse {
    on: u32,
    off: u32,
    receptor: u32,
    amp: f32,
}

// `bad` (hv_step.wgsl) holds this until a non-finite state is found.
// keep in sync with src/backend/gpu/hv.rs NO_BAD
const HV_NO_BAD: u32 = 0xffffffffu;
