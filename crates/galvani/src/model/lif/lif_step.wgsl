// Stage NeuronStep for LIF: one invocation per neuron.
// CPU twin: src/backend/cpu/lif_step.rs (lif_step) and src/model/lif.rs (lif_update).
#import types

@group(0) @binding(0) var<uniform> u: StepUniform;
@group(0) @binding(1) var<storage, read> params: array<LifParams>;
@group(0) @binding(2) var<storage, read_write> state: array<LifState>;
// slots × 2n i32 fixed-point accumulators; this kernel alone touches slot u.slot.
@group(0) @binding(3) var<storage, read_write> ring: array<i32>;
// Spikes in the lists of parity 0 and 1.
@group(0) @binding(4) var<storage, read_write> spike_count: array<atomic<u32>, 2>;
// Two lists of n neuron ids: list p holds the spikes of the steps of parity p.
@group(0) @binding(5) var<storage, read_write> spike_list: array<u32>;
// The batch's spike-record bitfield, rows × words.
@group(0) @binding(6) var<storage, read_write> spike_bits: array<atomic<u32>>;
// Stimulus current per neuron (pA): current pulses, set by the host at pulse edges.
@group(0) @binding(7) var<storage, read> i_stim: array<f32>;

// One step of one neuron (spec section 4). Mirrors lif_update / lif_kernel in
// src/model/lif.rs line for line, in the same operation order; the Rust expression is
// quoted above each pinned one. Every product and partial sum goes through pin()
// (shared/types.wgsl), so the driver rounds exactly there, as the CPU does: without the
// pins Mesa's lavapipe reassociated the delta update ((a + b) + c as (a + c) + b), one
// ulp off now and then. exp_conductance also needs a division and exp(), which a GPU
// computes to within a few ulps (not correctly rounded): close to the CPU, not equal.
fn lif_update(p: LifParams, s: ptr<function, LifState>, in_ampa: f32, in_gaba: f32, i_stim: f32) -> bool {
    // 1. membrane (inputs held from the start of the step) or refractory countdown
    if (*s).refrac == 0u {
        if p.kind == SYN_DELTA {
            // u = p30 * (i_e + i_stim) + p33 * u + (in_ampa + in_gaba)
            let a = pin(p.p30 * pin(p.i_e + i_stim));
            let b = pin(p.p33 * (*s).u);
            (*s).u = pin(pin(a + b) + pin(in_ampa + in_gaba));
        } else if p.kind == SYN_EXP_CURRENT {
            // u = u * p33 + i_ampa * p31_ampa + i_gaba * p31_gaba + (i_e + i_stim) * p30
            let a = pin((*s).u * p.p33);
            let b = pin((*s).i_ampa * p.p31_ampa);
            let c = pin((*s).i_gaba * p.p31_gaba);
            let d = pin(pin(p.i_e + i_stim) * p.p30);
            (*s).u = pin(pin(pin(a + b) + c) + d);
        } else {
            // du/dt = -A u + B with the conductances held: u -> u_inf + (u - u_inf) e^(-A dt)
            // a_dt = dt_tau_m + (i_ampa + i_gaba) * dt_c_m
            let a_dt = pin(p.dt_tau_m + pin(pin((*s).i_ampa + (*s).i_gaba) * p.dt_c_m));
            // b_dt = (i_ampa * e_ampa_rel + i_gaba * e_gaba_rel + (i_e + i_stim)) * dt_c_m
            let ea = pin((*s).i_ampa * p.e_ampa_rel);
            let eg = pin((*s).i_gaba * p.e_gaba_rel);
            let b_dt = pin(pin(pin(ea + eg) + pin(p.i_e + i_stim)) * p.dt_c_m);
            // u_inf = b_dt / a_dt; u = u_inf + (u - u_inf) * exp(-a_dt)
            let u_inf = pin(b_dt / a_dt);
            (*s).u = pin(u_inf + pin(pin((*s).u - u_inf) * exp(-a_dt)));
        }
    } else {
        (*s).refrac -= 1u;
    }
    // 2. synaptic currents decay and take this step's arrivals (also while refractory)
    if p.kind != SYN_DELTA {
        // i_ampa = i_ampa * p11_ampa + in_ampa; i_gaba = i_gaba * p11_gaba + in_gaba
        (*s).i_ampa = pin(pin((*s).i_ampa * p.p11_ampa) + in_ampa);
        (*s).i_gaba = pin(pin((*s).i_gaba * p.p11_gaba) + in_gaba);
    }
    // 3. threshold, reset, refractoriness
    if (*s).u >= p.theta {
        (*s).u = p.reset;
        (*s).refrac = p.ref_steps;
        return true;
    }
    return false;
}

@compute @workgroup_size(WG_SIZE)
fn lif_step(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    pin_zero = u.zero;
    let i = flat_index(wg, nwg, li);
    if i == 0u {
        // The list of the next step's parity was last read by the previous step's
        // propagate, which has finished: reset its counter for the next step.
        atomicStore(&spike_count[1u - u.parity], 0u);
    }
    if i >= u.n {
        return;
    }
    // Read and clear this step's input slot (f32(acc) * inv_scale, as Real::acc_value).
    let a = u.slot * 2u * u.n + 2u * i;
    let in_ampa = pin(f32(ring[a]) * u.inv_scale);
    let in_gaba = pin(f32(ring[a + 1u]) * u.inv_scale);
    ring[a] = 0;
    ring[a + 1u] = 0;
    var s = state[i];
    let spiked = lif_update(params[i], &s, in_ampa, in_gaba, i_stim[i]);
    state[i] = s;
    if spiked {
        // Append to this step's spike list (order is arbitrary; propagate sums integers,
        // so the result is not) and set the neuron's bit in this step's record row.
        let k = atomicAdd(&spike_count[u.parity], 1u);
        spike_list[u.parity * u.n + k] = i;
        atomicOr(&spike_bits[u.row * u.words + i / 32u], 1u << (i % 32u));
    }
}
