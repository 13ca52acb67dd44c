// Stage Propagate, external drive: this step's Poisson events of every stream into the
// delay ring, count × weight in i32 fixed point on the stream's receptor, at slot
// (step + delay) % slots. One invocation per (stream, target neuron); the counts come
// from the counter-based generator (shared/rng.wgsl), so they are the CPU's exactly.
// CPU twin: src/backend/cpu/drive.rs (poisson_input).
#import types
#import rng

@group(0) @binding(0) var<uniform> u: StepUniform;
@group(0) @binding(1) var<storage, read> streams: array<PoissonStream>;
// (target neuron, stream index) for every stream's targets.
@group(0) @binding(2) var<storage, read> poisson_targets: array<vec2<u32>>;
// The streams' CDF tables, concatenated (rng.wgsl reads it by this name).
@group(0) @binding(3) var<storage, read> poisson_cdf: array<f32>;
@group(0) @binding(4) var<storage, read_write> ring: array<atomic<i32>>;

@compute @workgroup_size(WG_SIZE)
fn poisson_input(
    @builtin(workgroup_id) wg: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) li: u32,
) {
    let k = flat_index(wg, nwg, li);
    if k >= u.n_targets {
        return;
    }
    let t = poisson_targets[k];
    let s = streams[t.y];
    let key = vec2<u32>(u.key_lo, u.key_hi);
    let c = poisson_count(key, s.stream, t.x, u.step, s.blocks, s.cdf_at, s.cdf_len);
    if c > 0u {
        // (step + delay) % slots, with step % slots = u.slot from the host
        let slot = (u.slot + s.delay) % u.slots;
        atomicAdd(&ring[slot * 2u * u.n + 2u * t.x + s.receptor], s.weight * i32(c));
    }
}
