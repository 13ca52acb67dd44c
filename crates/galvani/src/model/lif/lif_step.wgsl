// Stage NeuronStep for LIF: one invocation per neuron. Besides the neuron update it
// does the per-neuron work of the step that needs no other neuron, so a LIF step is two
// dispatches (this one and propagate's): the neuron's Poisson drive events of this step
// into its own ring entries, its voltage probes, and, when it spikes, its spike record
// and its row blocks for propagate.
// CPU twins: src/model/lif/cpu_step.rs (lif_step), src/model/lif/mod.rs (lif_update),
// src/backend/cpu/drive.rs (poisson_input, twin of shared/poisson_drive.wgsl),
// src/backend/cpu/record.rs (record_voltage).
#import types
#import rng
#import spike_out
#import poisson_drive

@group(0) @binding(0) var<uniform> u: StepUniform;
// The distinct parameter sets (a network has few; each neuron's index into them is
// aux[i], so 4 bytes a neuron are read instead of 96).
@group(0) @binding(1) var<storage, read> params: array<LifParams>;
// alpha kinds: dI/dt (dg/dt) of the two alpha currents (conductances) per neuron (one
// entry when the network has no alpha neuron: only those read it).
@group(0) @binding(2) var<storage, read_write> dsyn: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> state: array<LifState>;
// slots × 2n i32 fixed-point accumulators. This kernel reads and clears slot u.slot of
// neuron i and adds neuron i's Poisson events to its later slots; propagate, the next
// dispatch, adds the synaptic input atomically.
@group(0) @binding(4) var<storage, read_write> ring: array<i32>;
// The step counters (COUNT_* at 8·parity; see types.wgsl).
@group(0) @binding(5) var<storage, read_write> counts: array<atomic<u32>, 16>;
// Two block lists of block_cap entries, by step parity: (presynaptic neuron, block).
@group(0) @binding(6) var<storage, read_write> blocks: array<vec2<u32>>;
// Row start per neuron, 64-bit (low word, high word), as propagate reads it.
@group(0) @binding(7) var<storage, read> row_ptr: array<vec2<u32>>;
// The batch's spike-record bitfield, rows × words.
@group(0) @binding(8) var<storage, read_write> spike_bits: array<atomic<u32>>;
// The batch's spike lists: [total, one count per row, then up to rec_cap ids from
// rec_at]; rows follow each other, so row r's ids are the count of rows before it on.
@group(0) @binding(9) var<storage, read_write> spike_rec: array<atomic<u32>>;
// Stimulus current per neuron (pA): current pulses, set by the host at pulse edges.
@group(0) @binding(10) var<storage, read> i_stim: array<f32>;
// The Poisson drive streams and their CDF tables (rng.wgsl reads poisson_cdf by name).
@group(0) @binding(11) var<storage, read> streams: array<PoissonStream>;
@group(0) @binding(12) var<storage, read> poisson_cdf: array<f32>;
// Per-neuron indexes: [param index (n), drive_ptr (n + 1), (stream, cache entry) pairs,
// then at probe_at probe_ptr (n + 1), probe ids]; the pointers are positions in aux.
@group(0) @binding(13) var<storage, read> aux: array<u32>;
@group(0) @binding(14) var<storage, read> probes: array<Probe>;
// rows × n_probes recorded values.
@group(0) @binding(15) var<storage, read_write> volt: array<f32>;
// Per (neuron, stream): a tag (x = the group of four steps held, + 1; 0 = none), then
// the Philox outputs of that group, one vec4 per block.
@group(0) @binding(16) var<storage, read_write> drive_cache: array<vec4<u32>>;

// One step of one neuron (spec section 4). Mirrors lif_update / lif_kernel in
// src/model/lif.rs line for line, in the same operation order; the Rust expression is
// quoted above each pinned one. Every product and partial sum goes through pin()
// (shared/types.wgsl), so the driver rounds exactly there, as the CPU does: without the
// pins Mesa's lavapipe reassociated the delta update ((a + b) + c as (a + c) + b), one
// ulp off now and then. exp_conductance also needs a division and exp(), which a GPU
// computes to within a few ulps (not correctly rounded): close to the CPU, not equal.
// The state is flushed where subnormal when stored (flush(), shared/types.wgsl), as the
// CPU does (Real::flush), so a GPU that flushes subnormals computes the same.
fn lif_update(p: LifParams, s: ptr<function, LifState>, di: ptr<function, vec2<f32>>, in_ampa: f32, in_gaba: f32, i_stim: f32) -> bool {
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
        } else if p.kind == SYN_ALPHA_CURRENT {
            // u = p30 * (i_e + i_stim) + pd_ampa * di[0] + p31_ampa * i_ampa
            //     + pd_gaba * di[1] + p31_gaba * i_gaba + expm1_m * u + u
            let a = pin(p.p30 * pin(p.i_e + i_stim));
            let b = pin(p.pd_ampa * (*di).x);
            let c = pin(p.p31_ampa * (*s).i_ampa);
            let d = pin(p.pd_gaba * (*di).y);
            let e = pin(p.p31_gaba * (*s).i_gaba);
            let f = pin(p.expm1_m * (*s).u);
            (*s).u = pin(pin(pin(pin(pin(pin(a + b) + c) + d) + e) + f) + (*s).u);
        } else if p.kind == SYN_ALPHA_CONDUCTANCE {
            // ga = i_ampa * avg_g_ampa + di[0] * avg_d_ampa (and gg), then as
            // exp_conductance with ga, gg for the conductances
            let ga = pin(pin((*s).i_ampa * p.avg_g_ampa) + pin((*di).x * p.avg_d_ampa));
            let gg = pin(pin((*s).i_gaba * p.avg_g_gaba) + pin((*di).y * p.avg_d_gaba));
            let a_dt = pin(p.dt_tau_m + pin(pin(ga + gg) * p.dt_c_m));
            let ea = pin(ga * p.e_ampa_rel);
            let eg = pin(gg * p.e_gaba_rel);
            let b_dt = pin(pin(pin(ea + eg) + pin(p.i_e + i_stim)) * p.dt_c_m);
            let u_inf = pin(b_dt / a_dt);
            (*s).u = pin(u_inf + pin(pin((*s).u - u_inf) * exp(-a_dt)));
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
    if p.kind == SYN_ALPHA_CURRENT || p.kind == SYN_ALPHA_CONDUCTANCE {
        // i_ampa = p21_ampa * di[0] + p11_ampa * i_ampa
        // di[0] = di[0] * p11_ampa + jump_ampa * in_ampa (and the same for GABA-A)
        (*s).i_ampa = flush(pin(pin(p.p21_ampa * (*di).x) + pin(p.p11_ampa * (*s).i_ampa)));
        (*di).x = flush(pin(pin((*di).x * p.p11_ampa) + pin(p.jump_ampa * in_ampa)));
        (*s).i_gaba = flush(pin(pin(p.p21_gaba * (*di).y) + pin(p.p11_gaba * (*s).i_gaba)));
        (*di).y = flush(pin(pin((*di).y * p.p11_gaba) + pin(p.jump_gaba * in_gaba)));
    } else if p.kind != SYN_DELTA {
        // i_ampa = i_ampa * p11_ampa + in_ampa; i_gaba = i_gaba * p11_gaba + in_gaba
        (*s).i_ampa = flush(pin(pin((*s).i_ampa * p.p11_ampa) + in_ampa));
        (*s).i_gaba = flush(pin(pin((*s).i_gaba * p.p11_gaba) + in_gaba));
    }
    // 3. threshold, reset, refractoriness
    if (*s).u >= p.theta {
        (*s).u = p.reset;
        (*s).refrac = p.ref_steps;
        return true;
    }
    // subnormals flushed where stored, after the threshold saw u as computed (as the
    // CPU twin)
    (*s).u = flush((*s).u);
    return false;
}

// The neuron's probes that sample after this step (CPU twin: record_voltage).
fn record(i: u32, s: LifState, di: vec2<f32>, e_l: f32) {
    for (var j = aux[u.probe_at + i]; j < aux[u.probe_at + i + 1u]; j++) {
        let k = aux[j];
        let p = probes[k];
        // (step + 1) % every == 0, with the batch's phase precomputed on the host
        if u.row % p.every == p.first_row {
            var x = s.u + e_l;
            if p.variable == 1u {
                x = s.i_ampa;
            } else if p.variable == 2u {
                x = s.i_gaba;
            } else if p.variable == 3u {
                x = di.x;
            } else if p.variable == 4u {
                x = di.y;
            }
            volt[u.row * u.n_probes + k] = x;
        }
    }
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
        // The counters of the next step's parity were last read by the previous step's
        // propagate, which has finished: reset them for the next step (the indirect
        // y and z stay 1).
        let c1 = 8u * (1u - u.parity);
        atomicStore(&counts[c1 + COUNT_SPIKES], 0u);
        atomicStore(&counts[c1 + COUNT_BLOCKS], 0u);
        atomicStore(&counts[c1 + COUNT_GROUPS], 0u);
    }
    if i >= u.n {
        return;
    }
    // Read and clear this step's input slot (f32(acc) * inv_scale, as Real::acc_value).
    let a = u.slot * 2u * u.n + 2u * i;
    // (never subnormal: inv_scale ≥ 2^-24, connectivity::choose_fixed_point)
    let in_ampa = pin(f32(ring[a]) * u.inv_scale);
    let in_gaba = pin(f32(ring[a + 1u]) * u.inv_scale);
    ring[a] = 0;
    ring[a + 1u] = 0;
    if u.n_targets > 0u {
        poisson_drive(i);
    }
    let p = params[aux[i]];
    var s = state[i];
    let alpha = p.kind == SYN_ALPHA_CURRENT || p.kind == SYN_ALPHA_CONDUCTANCE;
    var di = vec2<f32>(0.0, 0.0);
    if alpha {
        di = dsyn[i];
    }
    let fired = lif_update(p, &s, &di, in_ampa, in_gaba, i_stim[i]);
    state[i] = s;
    if alpha {
        dsyn[i] = di;
    }
    if u.probe_due != 0u {
        record(i, s, di, p.e_l);
    }
    if fired {
        spiked(i);
    }
}
