// Stage Record: absolute voltages (or, for probes of var 1 and 2, the AMPA and GABA-A
// synaptic variables) of the probes that sample after this step, into this
// step's row of the batch's voltage record. One invocation per probe. (The spike bits are
// set by lif_step.)
// CPU twin: src/backend/cpu/record.rs (record_voltage).
#import types

@group(0) @binding(0) var<uniform> u: StepUniform;
@group(0) @binding(1) var<storage, read> params: array<LifParams>;
@group(0) @binding(2) var<storage, read> state: array<LifState>;
@group(0) @binding(3) var<storage, read> probes: array<Probe>;
// rows × n_probes voltages (mV).
@group(0) @binding(4) var<storage, read_write> volt: array<f32>;

@compute @workgroup_size(WG_SIZE)
fn record_voltage(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let k = flat_index(wg, nwg, li);
    if k >= u.n_probes {
        return;
    }
    let p = probes[k];
    // (step + 1) % every == 0, with the batch's phase precomputed on the host
    if u.row % p.every == p.first_row {
        let g = p.neuron;
        var x = state[g].u + params[g].e_l;
        if p.variable == 1u {
            x = state[g].i_ampa;
        } else if p.variable == 2u {
            x = state[g].i_gaba;
        }
        volt[u.row * u.n_probes + k] = x;
    }
}
