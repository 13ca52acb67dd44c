// Stage NeuronStep, source populations: append this step's source spikes to the step's
// spike list and set their record bits, right after lif_step. The host computes a
// batch's source spikes before encoding it (src/source.rs, source_batch: given spike
// times, and Poisson draws from the counter-based generator) as rows of a CSR list; the
// host dispatches one invocation per spike of the step, so the work is the spike count.
// CPU twin: src/backend/cpu/source.rs (source_spikes).
#import types

@group(0) @binding(0) var<uniform> u: StepUniform;
@group(0) @binding(1) var<storage, read_write> spike_count: array<atomic<u32>, 2>;
@group(0) @binding(2) var<storage, read_write> spike_list: array<u32>;
@group(0) @binding(3) var<storage, read_write> spike_bits: array<atomic<u32>>;
// steps + 1 offsets into source_ids, one row per step of the batch.
@group(0) @binding(4) var<storage, read> source_ptr: array<u32>;
// Global ids of the spiking source neurons, row by row.
@group(0) @binding(5) var<storage, read> source_ids: array<u32>;

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
    let i = source_ids[k];
    let c = atomicAdd(&spike_count[u.parity], 1u);
    spike_list[u.parity * u.n + c] = i;
    atomicOr(&spike_bits[u.row * u.words + i / 32u], 1u << (i % 32u));
}
