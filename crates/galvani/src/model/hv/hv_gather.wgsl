// Stage Propagate for HV (spec hv-model.md 4.2, 6.2 step 2): the graded activation of the
// next step, P^A_i = Σ_j W^A_ij s^A_j and P^G_i = Σ_j W^G_ij s^G_j, one invocation per
// postsynaptic neuron over its incoming row (both receptors), summed in ascending
// presynaptic order: no atomics, deterministic.
// CPU twin: src/backend/cpu/hv_gather.rs (hv_gather).
#import types

@group(0) @binding(0) var<uniform> u: StepUniform;
@group(0) @binding(1) var<storage, read> row_ptr: array<u32>;
// 2·pre + receptor per incoming synapse, rows ascending in pre.
@group(0) @binding(2) var<storage, read> src: array<u32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
// Four per neuron: s^A, s^G (read here), P^A, P^G (written here).
@group(0) @binding(4) var<storage, read_write> coupling: array<f32>;

@compute @workgroup_size(WG_SIZE)
fn hv_gather(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let i = flat_index(wg, nwg, li);
    if i >= u.n {
        return;
    }
    var pa = 0.0;
    var pg = 0.0;
    let end = row_ptr[i + 1u];
    for (var k = row_ptr[i]; k < end; k++) {
        let s = src[k];
        // release of (pre, receptor) = coupling[4·pre + receptor] = coupling[2·src − receptor]
        let x = weight[k] * coupling[2u * s - (s & 1u)];
        // branch-free: x·1 and x·0 are exact, so this is the same sum as an if/else
        let g = f32(s & 1u);
        pa = pa + x * (1.0 - g);
        pg = pg + x * g;
    }
    coupling[4u * i + 2u] = pa;
    coupling[4u * i + 3u] = pg;
}
