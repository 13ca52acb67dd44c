// Stage NeuronStep, source populations: this step's source spikes, right after lif_step,
// with the same outputs as a LIF spike (spike_out.wgsl: record bit and id, row blocks for
// propagate). The host computes a batch's source spikes before encoding it
// (src/source.rs, source_batch: given spike times, and Poisson draws from the
// counter-based generator) as rows of a CSR list, and dispatches one invocation per spike
// of the step, so the work is the spike count.
// CPU twin: src/backend/cpu/source.rs (source_spikes).
#import types
#import spike_out

@group(0) @binding(0) var<uniform> u: StepUniform;
@group(0) @binding(1) var<storage, read_write> counts: array<atomic<u32>, 16>;
@group(0) @binding(2) var<storage, read_write> blocks: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read> row_ptr: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read_write> spike_bits: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> spike_rec: array<atomic<u32>>;
// steps + 1 offsets into source_ids, one row per step of the batch.
@group(0) @binding(6) var<storage, read> source_ptr: array<u32>;
// Global ids of the spiking source neurons, row by row.
@group(0) @binding(7) var<storage, read> source_ids: array<u32>;

@compute @workgroup_size(WG_SIZE)
fn source_spikes(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let k = source_ptr[u.row] + flat_index(wg, nwg, li);
    if k >= source_ptr[u.row + 1u] {
        return;
    }
    spiked(source_ids[k]);
}
