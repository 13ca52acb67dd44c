// Stage Propagate for LIF: push each spiking neuron's outgoing CSR row into the delay
// ring of its targets, in i32 fixed point. Work is proportional to spikes × fan-out: a
// fixed number of workgroups loop over this step's spike list, and the invocations of a
// workgroup stride over one row. Integer atomics make the sum independent of the order.
// CPU twin: src/backend/cpu/propagate.rs (propagate).
#import types

@group(0) @binding(0) var<uniform> u: StepUniform;
@group(0) @binding(1) var<storage, read> row_ptr: array<u32>;
// 2·post + receptor.
@group(0) @binding(2) var<storage, read> syn_target: array<u32>;
// round(w · scale).
@group(0) @binding(3) var<storage, read> syn_weight: array<i32>;
// Delay in steps, 1 ≤ delay < slots.
@group(0) @binding(4) var<storage, read> syn_delay: array<u32>;
@group(0) @binding(5) var<storage, read_write> ring: array<atomic<i32>>;
@group(0) @binding(6) var<storage, read> spike_count: array<u32, 2>;
@group(0) @binding(7) var<storage, read> spike_list: array<u32>;

@compute @workgroup_size(WG_SIZE)
fn propagate(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let count = spike_count[u.parity];
    let width = 2u * u.n;
    let groups = nwg.x * nwg.y;
    for (var k = wg.y * nwg.x + wg.x; k < count; k += groups) {
        let pre = spike_list[u.parity * u.n + k];
        let a = row_ptr[pre];
        let b = row_ptr[pre + 1u];
        for (var j = a + li; j < b; j += WG_SIZE) {
            // (step + delay) % slots, with step % slots = u.slot from the host; since
            // 1 <= delay < slots a conditional subtraction does (as the CPU twin)
            var slot = u.slot + syn_delay[j];
            if slot >= u.slots {
                slot -= u.slots;
            }
            atomicAdd(&ring[slot * width + syn_target[j]], syn_weight[j]);
        }
    }
}
