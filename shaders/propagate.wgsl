// Stage Propagate for LIF: push each spiking neuron's outgoing CSR row into the delay
// ring of its targets, in i32 fixed point. Work is proportional to spikes × fan-out: a
// fixed number of workgroups loop over this step's spike list, and the invocations of a
// workgroup stride over one row. Integer atomics make the sum independent of the order.
// CPU twin: src/backend/cpu/propagate.rs (propagate).
//
// Chunking is a binding detail only (the CPU twin has one array per field): each
// synapse array may exceed one storage binding (max_storage_buffer_binding_size), so the
// host splits it into up to 3 chunks (limits::SYN_CHUNKS) of 2^u.syn_shift elements,
// one binding each. Synapse j lives in chunk j >> syn_shift at j & (2^syn_shift − 1).
// A network that fits one binding has only chunk 0 (c is always 0).
#import types

@group(0) @binding(0) var<uniform> u: StepUniform;
@group(0) @binding(1) var<storage, read> row_ptr: array<u32>;
// 2·post + receptor (chunk 0).
@group(0) @binding(2) var<storage, read> syn_target: array<u32>;
// round(w · scale) (chunk 0).
@group(0) @binding(3) var<storage, read> syn_weight: array<i32>;
// Delay in steps, 1 ≤ delay < slots (chunk 0).
@group(0) @binding(4) var<storage, read> syn_delay: array<u32>;
@group(0) @binding(5) var<storage, read_write> ring: array<atomic<i32>>;
@group(0) @binding(6) var<storage, read> spike_count: array<u32, 2>;
@group(0) @binding(7) var<storage, read> spike_list: array<u32>;
// Chunks 1 and 2 of the synapse arrays (a small unused buffer when not needed).
@group(0) @binding(8) var<storage, read> syn_target1: array<u32>;
@group(0) @binding(9) var<storage, read> syn_target2: array<u32>;
@group(0) @binding(10) var<storage, read> syn_weight1: array<i32>;
@group(0) @binding(11) var<storage, read> syn_weight2: array<i32>;
@group(0) @binding(12) var<storage, read> syn_delay1: array<u32>;
@group(0) @binding(13) var<storage, read> syn_delay2: array<u32>;

// (target, weight as u32 bits, delay) of synapse `o` of chunk `c`.
fn synapse(c: u32, o: u32) -> vec3<u32> {
    switch c {
        case 0u: {
            return vec3<u32>(syn_target[o], bitcast<u32>(syn_weight[o]), syn_delay[o]);
        }
        case 1u: {
            return vec3<u32>(syn_target1[o], bitcast<u32>(syn_weight1[o]), syn_delay1[o]);
        }
        default: {
            return vec3<u32>(syn_target2[o], bitcast<u32>(syn_weight2[o]), syn_delay2[o]);
        }
    }
}

@compute @workgroup_size(WG_SIZE)
fn propagate(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let count = spike_count[u.parity];
    let width = 2u * u.n;
    let groups = nwg.x * nwg.y;
    let mask = (1u << u.syn_shift) - 1u;
    for (var k = wg.y * nwg.x + wg.x; k < count; k += groups) {
        let pre = spike_list[u.parity * u.n + k];
        let a = row_ptr[pre];
        let b = row_ptr[pre + 1u];
        for (var j = a + li; j < b; j += WG_SIZE) {
            let s = synapse(j >> u.syn_shift, j & mask);
            // (step + delay) % slots, with step % slots = u.slot from the host; since
            // 1 <= delay < slots a conditional subtraction does (as the CPU twin)
            var slot = u.slot + s.z;
            if slot >= u.slots {
                slot -= u.slots;
            }
            atomicAdd(&ring[slot * width + s.x], bitcast<i32>(s.y));
        }
    }
}
