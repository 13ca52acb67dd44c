// Stage NeuronStep for HV (spec hv-model.md 6.2 steps 3–4, fused with step 1 of the next
// step): one invocation per neuron, fully independent. Classic RK4 of (y, w) with the
// receptor activations held over the step, spike detection with linear interpolation of
// the 0 mV crossing, and the presynaptic release of the new voltage for hv_gather.
// CPU twin: src/backend/cpu/hv_step.rs (hv_step) and src/model/hv.rs (hv_rhs, hv_rk4,
// hv_release, hv_detect, hv_pulses), line for line. No pins (see pin() in types.wgsl):
// exp() differs from the CPU's by a few ulps anyway, so the results agree to rounding,
// not bit for bit.
#import types

@group(0) @binding(0) var<uniform> u: StepUniform;
@group(0) @binding(1) var<storage, read> params: array<HvParams>;
@group(0) @binding(2) var<storage, read_write> state: array<HvState>;
// Four per neuron: s^A, s^G (release, written here), P^A, P^G (gathered, read here).
@group(0) @binding(3) var<storage, read_write> coupling: array<f32>;
@group(0) @binding(4) var<storage, read> pulses: array<HvPulse>;
// The batch's spike-record bitfield, rows × words.
@group(0) @binding(5) var<storage, read_write> spike_bits: array<atomic<u32>>;
// rows × n: the fraction of the step at which a neuron that spiked crossed θ_spike
// (only entries whose spike bit is set are meaningful).
@group(0) @binding(6) var<storage, read_write> spike_frac: array<f32>;
// (step, neuron) of the first non-finite state: the earliest step, its lowest neuron.
@group(0) @binding(7) var<storage, read_write> bad: array<atomic<u32>, 2>;

// σ(x) = 1/(1 + exp(−x)) (spec 2.3.1). Mirrors sigmoid in src/model/hv.rs.
fn sigmoid(x: f32) -> f32 {
    return 1.0 / (1.0 + exp(-x));
}

// amp·(exp(k1·d) − exp(k2·d)), d = y − y_x: N_X·J_X (spec 2.3.3). Mirrors flux.
fn flux(amp: f32, k1: f32, k2: f32, y_x: f32, y: f32) -> f32 {
    let d = y - y_x;
    return amp * (exp(k1 * d) - exp(k2 * d));
}

// (dy/dt, dw/dt) of spec 2.4/2.5. Mirrors hv_rhs.
fn hv_rhs(p: HvParams, y: f32, w: f32, pa: f32, pg: f32) -> vec2<f32> {
    let m_inf = sigmoid(p.g_nat * (y - p.y_half_nat));
    let x_w = p.g_kad * (y - p.y_half_kad);
    let w_inf = sigmoid(x_w);
    let lambda = p.r_kad * (exp(p.s_kad * x_w) + exp(p.s_kad_m1 * x_w));
    var j_nat: f32;
    var j_kad: f32;
    var j_naka: f32;
    var j_ampa: f32;
    var j_gaba: f32;
    if p.sinh_form != 0u {
        // every r = 0.5: N·J = ap·e − am/e, e = exp(y/2)
        let e = exp(y * 0.5);
        let ei = 1.0 / e;
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
    let dy = -(m_inf * (1.0 - w)) * j_nat - w * j_kad - j_naka - pa * j_ampa - pg * j_gaba + p.c;
    var wp = w;
    if p.p_kad != 1.0 {
        wp = pow(w, p.p_kad);
    }
    let dw = wp * lambda * (w_inf - w);
    return vec2<f32>(dy, dw);
}

// One classic RK4 step with the coupling frozen (spec 6.2). Mirrors hv_rk4.
fn hv_rk4(p: HvParams, y: f32, w: f32, pa: f32, pg: f32) -> vec2<f32> {
    let h = p.half_dt;
    let dt = p.dt;
    let k1 = hv_rhs(p, y, w, pa, pg);
    let k2 = hv_rhs(p, y + h * k1.x, w + h * k1.y, pa, pg);
    let k3 = hv_rhs(p, y + h * k2.x, w + h * k2.y, pa, pg);
    let k4 = hv_rhs(p, y + dt * k3.x, w + dt * k3.y, pa, pg);
    return vec2<f32>(
        y + dt * (k1.x + 2.0 * k2.x + 2.0 * k3.x + k4.x) / 6.0,
        w + dt * (k1.y + 2.0 * k2.y + 2.0 * k3.y + k4.y) / 6.0,
    );
}

// Presynaptic release (s^A, s^G) at y (spec 4.2). Mirrors hv_release.
fn hv_release(p: HvParams, y: f32) -> vec2<f32> {
    return vec2<f32>(
        sigmoid(p.g_syn_ampa * (y - p.y_half_syn_ampa)),
        sigmoid(p.g_syn_gaba * (y - p.y_half_syn_gaba)),
    );
}

// Infinite or NaN (WGSL has no isnan/isinf; a bit test cannot be optimised away).
fn non_finite(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

@compute @workgroup_size(WG_SIZE)
fn hv_step(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = flat_index(wg, nwg, li);
    if i >= u.n {
        return;
    }
    let p = params[i];
    var s = state[i];
    // P = gathered activation + this step's receptor pulses (hv_pulses), held over the step
    var pa = coupling[4u * i + 2u];
    var pg = coupling[4u * i + 3u];
    for (var k = p.pulse_at; k < p.pulse_at + p.pulse_len; k++) {
        let q = pulses[k];
        if q.on <= u.step && u.step < q.off {
            if q.receptor == 0u {
                pa = pa + q.amp;
            } else {
                pg = pg + q.amp;
            }
        }
    }
    let next = hv_rk4(p, s.y, s.w, pa, pg);
    if non_finite(next.x) || non_finite(next.y) {
        // Earlier steps' dispatches have finished: bad[0] is NONE, an earlier step (then
        // keep it), or this step (set by another invocation of this dispatch).
        if atomicLoad(&bad[0]) >= u.step {
            atomicMin(&bad[0], u.step);
            atomicMin(&bad[1], i);
        }
    }
    // spike detection (spec 7; mirrors hv_detect)
    let v_old = p.v_t * s.y;
    let v_new = p.v_t * next.x;
    if s.armed != 0u && v_new >= p.v_spike {
        s.armed = 0u;
        spike_frac[u.row * u.n + i] = (p.v_spike - v_old) / (v_new - v_old);
        atomicOr(&spike_bits[u.row * u.words + i / 32u], 1u << (i % 32u));
    } else if s.armed == 0u && v_new < p.v_rearm {
        s.armed = 1u;
    }
    s.y = next.x;
    s.w = next.y;
    state[i] = s;
    let r = hv_release(p, next.x);
    coupling[4u * i] = r.x;
    coupling[4u * i + 1u] = r.y;
}
