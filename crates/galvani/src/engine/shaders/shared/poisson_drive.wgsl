// A neuron's Poisson drive, shared by the kernels of the spiking-synapse engine
// (lif_step, point_step). Needs, bound by the including kernel: u (StepUniform), ring
// (array<i32>), aux (array<u32>, the neuron index), streams (array<PoissonStream>),
// poisson_cdf (array<f32>) and drive_cache (array<vec4<u32>>).
// CPU twin: src/engine/backend/cpu/drive.rs (poisson_input).
#import types
#import rng

// This step's events of the Poisson streams that drive neuron i, into its ring entries
// at slot (step + delay) % slots (never this step's slot: delay ≥ 1). As poisson_input
// on the CPU: the same counts from the counter-based generator, the same integer adds,
// and the same use of Philox: one call per block serves a group of four steps (lane
// step % 4), so its four outputs are kept in drive_cache, behind a tag naming the group
// (refreshed whenever the step is in another group, which also covers a step restored
// from a checkpoint).
fn poisson_drive(i: u32) {
    let key = vec2<u32>(u.key_lo, u.key_hi);
    let group = u.step >> 2u;
    let lane = u.step & 3u;
    for (var j = aux[u.n + i]; j < aux[u.n + i + 1u]; j += 2u) {
        let s = streams[aux[j]];
        let at = aux[j + 1u];
        let fresh = drive_cache[at].x != group + 1u;
        if fresh {
            drive_cache[at] = vec4<u32>(group + 1u, 0u, 0u, 0u);
        }
        var c = 0u;
        for (var b = 0u; b < s.blocks; b++) {
            var x: u32;
            if fresh {
                let r = philox4x32(vec4<u32>(i, group, s.stream, b), key);
                drive_cache[at + 1u + b] = r;
                x = r[lane];
            } else {
                x = drive_cache[at + 1u + b][lane];
            }
            c += poisson_inv(uniform01(x), s.cdf_at, s.cdf_len);
        }
        if c > 0u {
            let slot = (u.slot + s.delay) % u.slots;
            let r = slot * 2u * u.n + 2u * i + s.receptor;
            ring[r] = ring[r] + s.weight * i32(c);
        }
    }
}
