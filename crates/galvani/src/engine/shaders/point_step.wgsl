// Stage NeuronStep for a point model (src/model/point.rs): one invocation per neuron.
// The engine's part is LIF's (lif_step.wgsl): the neuron's input slot read and cleared,
// its Poisson drive, its probes, its spike record and row blocks for propagate. The
// model's part is `point_update`, spliced in at `#model` from the model's folder
// (e.g. src/model/izhikevich/izhikevich.wgsl), with POINT_WIDTH (state values per
// neuron) and POINT_CONSTS (constants per set) declared before it.
// CPU twins: point_step in src/model/point.rs, the model's update function,
// src/engine/backend/cpu/drive.rs (poisson_input), PointCells::record.
#import types
#import rng
#import spike_out
#import poisson_drive

@group(0) @binding(0) var<uniform> u: StepUniform;
// The distinct constant sets, POINT_CONSTS each; neuron i's set is aux[i] (SILENT: a
// source population's slot, never updated).
@group(0) @binding(1) var<storage, read> consts: array<f32>;
// (unused by point models: LIF's alpha state; one entry)
@group(0) @binding(2) var<storage, read_write> dsyn: array<vec2<f32>>;
// POINT_WIDTH values per neuron, the model's state variables in order (V first).
@group(0) @binding(3) var<storage, read_write> state: array<f32>;
@group(0) @binding(4) var<storage, read_write> ring: array<i32>;
@group(0) @binding(5) var<storage, read_write> counts: array<atomic<u32>, 16>;
@group(0) @binding(6) var<storage, read_write> blocks: array<vec2<u32>>;
@group(0) @binding(7) var<storage, read> row_ptr: array<vec2<u32>>;
@group(0) @binding(8) var<storage, read_write> spike_bits: array<atomic<u32>>;
@group(0) @binding(9) var<storage, read_write> spike_rec: array<atomic<u32>>;
@group(0) @binding(10) var<storage, read> i_stim: array<f32>;
@group(0) @binding(11) var<storage, read> streams: array<PoissonStream>;
@group(0) @binding(12) var<storage, read> poisson_cdf: array<f32>;
@group(0) @binding(13) var<storage, read> aux: array<u32>;
@group(0) @binding(14) var<storage, read> probes: array<Probe>;
@group(0) @binding(15) var<storage, read_write> volt: array<f32>;
@group(0) @binding(16) var<storage, read_write> drive_cache: array<vec4<u32>>;

const SILENT: u32 = 0xffffffffu;

#model

// The neuron's probes that sample after this step: state variable p.variable.
fn record(i: u32) {
    for (var j = aux[u.probe_at + i]; j < aux[u.probe_at + i + 1u]; j++) {
        let k = aux[j];
        let p = probes[k];
        if u.row % p.every == p.first_row {
            volt[u.row * u.n_probes + k] = state[i * POINT_WIDTH + p.variable];
        }
    }
}

@compute @workgroup_size(WG_SIZE)
fn point_step(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    pin_zero = u.zero;
    let i = flat_index(wg, nwg, li);
    if i == 0u {
        // reset the next step's counters (as lif_step)
        let c1 = 8u * (1u - u.parity);
        atomicStore(&counts[c1 + COUNT_SPIKES], 0u);
        atomicStore(&counts[c1 + COUNT_BLOCKS], 0u);
        atomicStore(&counts[c1 + COUNT_GROUPS], 0u);
    }
    if i >= u.n {
        return;
    }
    let a = u.slot * 2u * u.n + 2u * i;
    let in_ampa = pin(f32(ring[a]) * u.inv_scale);
    let in_gaba = pin(f32(ring[a + 1u]) * u.inv_scale);
    ring[a] = 0;
    ring[a + 1u] = 0;
    if u.n_targets > 0u {
        poisson_drive(i);
    }
    let pset = aux[i];
    if pset == SILENT {
        return;
    }
    let fired = point_update(pset * POINT_CONSTS, i * POINT_WIDTH, in_ampa, in_gaba, i_stim[i]);
    if u.probe_due != 0u {
        record(i);
    }
    if fired {
        spiked(i);
    }
}
