// Stage Propagate for LIF: push each spiking neuron's outgoing CSR row into the delay
// ring of its targets, in i32 fixed point. Work is proportional to spikes × fan-out: a
// fixed number of workgroups loop over this step's spike list, and the invocations of a
// workgroup stride over one row. Integer atomics make the sum independent of the order.
// CPU twin: src/backend/cpu/propagate.rs (propagate).
//
// The synapse table is the CPU's compact one (src/backend/cpu/synapses.rs), for the whole
// network: one u32 word per synapse, `target | extra << u.tgt_shift`, where extra is the
// index of a (weight, delay) pair in `palette` (SYN_PALETTE, 4 bytes per synapse) or the
// delay with the weight in syn_weight (SYN_PACKED, 8 bytes); SYN_WIDE keeps the word for
// the target and both values in arrays.
//
// Row offsets are 64-bit, (lo, hi) pairs, so a table may pass 2^32 synapses. Chunking is
// a binding detail only (the CPU twin has one array per field): each synapse array may
// exceed one storage binding (max_storage_buffer_binding_size), so the host splits it
// into up to 3 chunks (limits::SYN_CHUNKS) of 2^u.syn_shift elements, one binding each.
// Synapse j lives in chunk j >> syn_shift at j & (2^syn_shift − 1).
#import types

@group(0) @binding(0) var<uniform> u: StepUniform;
// Row start per presynaptic neuron, 64-bit: (low word, high word).
@group(0) @binding(1) var<storage, read> row_ptr: array<vec2<u32>>;
// target | extra << tgt_shift (chunk 0).
@group(0) @binding(2) var<storage, read> syn_word: array<u32>;
// round(w · scale) (chunk 0; SYN_PACKED and SYN_WIDE).
@group(0) @binding(3) var<storage, read> syn_weight: array<i32>;
// Delay in steps, 1 ≤ delay < slots (chunk 0; SYN_WIDE).
@group(0) @binding(4) var<storage, read> syn_delay: array<u32>;
@group(0) @binding(5) var<storage, read_write> ring: array<atomic<i32>>;
@group(0) @binding(6) var<storage, read> spike_count: array<u32, 2>;
@group(0) @binding(7) var<storage, read> spike_list: array<u32>;
// Chunks 1 and 2 of the synapse arrays (a small unused buffer when not needed).
@group(0) @binding(8) var<storage, read> syn_word1: array<u32>;
@group(0) @binding(9) var<storage, read> syn_word2: array<u32>;
@group(0) @binding(10) var<storage, read> syn_weight1: array<i32>;
@group(0) @binding(11) var<storage, read> syn_weight2: array<i32>;
@group(0) @binding(12) var<storage, read> syn_delay1: array<u32>;
@group(0) @binding(13) var<storage, read> syn_delay2: array<u32>;
// (weight as i32 bits, delay) per palette entry (SYN_PALETTE).
@group(0) @binding(14) var<storage, read> palette: array<vec2<u32>>;

fn word_at(c: u32, o: u32) -> u32 {
    switch c {
        case 0u: { return syn_word[o]; }
        case 1u: { return syn_word1[o]; }
        default: { return syn_word2[o]; }
    }
}

fn weight_at(c: u32, o: u32) -> u32 {
    switch c {
        case 0u: { return bitcast<u32>(syn_weight[o]); }
        case 1u: { return bitcast<u32>(syn_weight1[o]); }
        default: { return bitcast<u32>(syn_weight2[o]); }
    }
}

fn delay_at(c: u32, o: u32) -> u32 {
    switch c {
        case 0u: { return syn_delay[o]; }
        case 1u: { return syn_delay1[o]; }
        default: { return syn_delay2[o]; }
    }
}

// (target, weight as u32 bits, delay) of synapse `o` of chunk `c`, in any layout.
fn synapse(c: u32, o: u32) -> vec3<u32> {
    let w = word_at(c, o);
    let tmask = (1u << u.tgt_shift) - 1u;
    if u.syn_mode == SYN_PALETTE {
        let e = palette[w >> u.tgt_shift];
        return vec3<u32>(w & tmask, e.x, e.y);
    }
    if u.syn_mode == SYN_PACKED {
        return vec3<u32>(w & tmask, weight_at(c, o), w >> u.tgt_shift);
    }
    return vec3<u32>(w, weight_at(c, o), delay_at(c, o));
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
        // a row holds fewer than 2^32 synapses: its length is the low words' difference
        let len = b.x - a.x;
        for (var q = li; q < len; q += WG_SIZE) {
            // j = a + q in 64 bits, then its chunk and offset
            let lo = a.x + q;
            let hi = a.y + select(0u, 1u, lo < a.x);
            let c = (hi << (32u - u.syn_shift)) | (lo >> u.syn_shift);
            let s = synapse(c, lo & mask);
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
