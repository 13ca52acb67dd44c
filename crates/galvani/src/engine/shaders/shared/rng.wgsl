// Counter-based random numbers: Philox4x32-10 and Poisson counts by inversion (the
// Philox counter of a Poisson draw is (neuron, step >> 2, stream, block), lane step & 3:
// see poisson_drive in model/lif/lif_step.wgsl).
// CPU twin: src/rng.rs (identical bits; keep in sync).

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;

// mulhilo(a, b): the 32x32 -> 64-bit product as (hi, lo), from shared/mulhilo.wgsl
// (16-bit halves, any device) or shared/mulhilo_u64.wgsl (a 64-bit multiply, devices
// with SHADER_INT64); the same bits.
#import mulhilo

fn philox4x32(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
    var c = ctr;
    var k = key;
    for (var r = 0u; r < 10u; r = r + 1u) {
        if (r > 0u) {
            k = k + vec2<u32>(PHILOX_W0, PHILOX_W1);
        }
        let p0 = mulhilo(PHILOX_M0, c.x);
        let p1 = mulhilo(PHILOX_M1, c.z);
        c = vec4<u32>(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
    }
    return c;
}

fn uniform01(x: u32) -> f32 {
    return f32(x >> 8u) * (1.0 / 16777216.0);
}

// Poisson count by inversion: the number of cumulative terms cdf[k] (host-computed,
// stored at cdf_at .. cdf_at + cdf_len in `poisson_cdf`) that u is at or above.
// Needs `poisson_cdf: array<f32>` bound by the including shader.
// The CDF entries at or below u: the table ascends, so this is where a search from 0
// would stop. CPU twin: src/rng.rs poisson_inv (the same count, without a branch).
fn poisson_inv(u: f32, cdf_at: u32, cdf_len: u32) -> u32 {
    var k = 0u;
    for (var j = 0u; j < cdf_len; j = j + 1u) {
        k = k + select(0u, 1u, u >= poisson_cdf[cdf_at + j]);
    }
    return k;
}
