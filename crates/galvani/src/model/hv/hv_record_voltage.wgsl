// Stage Record for HV: v = v_T·y (mV) of the probes that sample after this step, into
// this step's row of the batch's voltage record. One invocation per probe. (Spike bits
// and crossing fractions are written by hv_step.)
// CPU twin: src/backend/cpu/record.rs (record_voltage_hv).
#import types

@group(0) @binding(0) var<uniform> u: StepUniform;
@group(0) @binding(1) var<storage, read> params: array<HvParams>;
@group(0) @binding(2) var<storage, read> state: array<HvState>;
@group(0) @binding(3) var<storage, read> probes: array<Probe>;
// rows × n_probes voltages (mV).
@group(0) @binding(4) var<storage, read_write> volt: array<f32>;

@compute @workgroup_size(WG_SIZE)
fn hv_record_voltage(
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
        volt[u.row * u.n_probes + k] = params[g].v_t * state[g].y;
    }
}
