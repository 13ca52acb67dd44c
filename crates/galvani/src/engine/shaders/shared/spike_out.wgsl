// A spike's outputs, shared by lif_step and source_spikes: its bit and id in the batch's
// spike record, and its row blocks in this step's block list for propagate.
// Needs, bound by the including kernel: u (StepUniform), counts (array<atomic<u32>, 16>),
// blocks (array<vec2<u32>>), row_ptr (array<vec2<u32>>), spike_bits and spike_rec
// (array<atomic<u32>>).
// CPU twin of the block list: src/backend/gpu/walk.rs (row_blocks, propagate_walk).
#import types

// Records neuron i's spike and appends its row blocks to this step's block list.
fn spiked(i: u32) {
    atomicOr(&spike_bits[u.row * u.words + i / 32u], 1u << (i % 32u));
    let r = atomicAdd(&spike_rec[0], 1u);
    atomicAdd(&spike_rec[1u + u.row], 1u);
    if r < u.rec_cap {
        atomicStore(&spike_rec[u.rec_at + r], i);
    }
    let c0 = 8u * u.parity;
    atomicAdd(&counts[c0 + COUNT_SPIKES], 1u);
    let len = row_ptr[i + 1u].x - row_ptr[i].x;
    let nb = len / BLOCK + select(0u, 1u, len % BLOCK != 0u);
    if nb > 0u {
        let b0 = atomicAdd(&counts[c0 + COUNT_BLOCKS], nb);
        let at = u.parity * u.block_cap + b0;
        for (var j = 0u; j < nb; j++) {
            blocks[at + j] = vec2<u32>(i, j);
        }
        atomicMax(&counts[c0 + COUNT_GROUPS], min(b0 + nb, u.max_groups));
    }
}

