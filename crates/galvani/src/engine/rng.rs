//! Counter-based random numbers: Philox4x32-10 (Salmon et al. 2011), keyed by the run
//! seed and addressed by (stream, neuron, step, block) — so any draw can be made on any
//! backend, in any order, and come out the same. `shaders/shared/rng.wgsl` is the GPU
//! twin (it forms the 32×32→64-bit products from 16-bit halves, since WGSL has no u64 on
//! every adapter); both produce identical bits.
//!
//! Poisson counts are drawn by inversion in f32 with the same operations on both
//! backends, so the CPU (f32 or f64) and the GPU see exactly the same input events.

const M0: u32 = 0xD251_1F53;
const M1: u32 = 0xCD9E_8D57;
const W0: u32 = 0x9E37_79B9;
const W1: u32 = 0xBB67_AE85;

#[inline(always)]
fn mulhilo(a: u32, b: u32) -> (u32, u32) {
    let p = a as u64 * b as u64;
    ((p >> 32) as u32, p as u32)
}

/// Philox4x32 with 10 rounds: four random u32 from a 128-bit counter and a 64-bit key.
#[inline]
pub fn philox4x32(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let (mut c, mut k) = (ctr, key);
    for r in 0..10 {
        if r > 0 {
            k[0] = k[0].wrapping_add(W0);
            k[1] = k[1].wrapping_add(W1);
        }
        let (hi0, lo0) = mulhilo(M0, c[0]);
        let (hi1, lo1) = mulhilo(M1, c[2]);
        c = [hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0];
    }
    c
}

/// The key of a run: the 64-bit seed split in two words.
pub fn key(seed: u64) -> [u32; 2] {
    [seed as u32, (seed >> 32) as u32]
}

/// A uniform f32 in [0, 1) from the top 24 bits (exact in f32 on every backend).
#[inline(always)]
pub fn uniform(x: u32) -> f32 {
    (x >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// Largest mean drawn with one uniform; larger means are split into blocks of at most
/// this size (a sum of independent Poisson counts is Poisson), keeping the inversion
/// table short and its terms far from f32 underflow.
pub const POISSON_BLOCK: f64 = 8.0;

/// Host-derived constants of a Poisson stream of mean `lambda` per step: the number of
/// blocks and the cumulative distribution of one block, computed in f64 and rounded to
/// f32 (uploaded as is to the GPU), ending where it reaches 1 in f32 (at most 64 terms).
#[derive(Clone, Debug, PartialEq)]
pub struct PoissonPlan {
    /// Number of blocks.
    pub blocks: u32,
    /// `cdf[k]` = P(X ≤ k) for one block.
    pub cdf: Vec<f32>,
}

impl PoissonPlan {
    /// Splits `lambda` (events per step) into equal blocks of at most [`POISSON_BLOCK`].
    pub fn new(lambda: f64) -> Self {
        let blocks = (lambda / POISSON_BLOCK).ceil().max(1.0) as u32;
        let l = lambda / blocks as f64;
        let mut cdf = Vec::new();
        let (mut p, mut f) = ((-l).exp(), 0.0f64);
        for k in 0..64 {
            f += p;
            cdf.push(f as f32);
            if f as f32 >= 1.0 {
                break;
            }
            p *= l / (k + 1) as f64;
        }
        PoissonPlan { blocks, cdf }
    }
}

/// Poisson count by inversion of one uniform `u`: the number of cumulative terms `u` is
/// at or above (mirrors `poisson_inv` in rng.wgsl).
#[inline]
pub fn poisson_inv(u: f32, cdf: &[f32]) -> u32 {
    // The entries at or below u, counted without a data-dependent branch (as the shader
    // counts them): the table ascends, so this is the index where a search from 0 would
    // stop, and a search's random stopping point mispredicts about once per draw.
    cdf.iter().map(|&c| (u >= c) as u32).sum()
}

/// Counters run side by side in [`poisson_bits_many`].
const LANES: usize = 8;

/// [`poisson_bits`] of every neuron of `neurons` (same stream, step and block), passed
/// to `out(k, bits)` for `neurons[k]` in order. The Philox rounds run on [`LANES`]
/// counters side by side, which the compiler turns into SIMD multiplies (compiled for
/// several instruction sets, chosen at run time); the integer arithmetic is the same, so
/// are the bits.
#[multiversion::multiversion(targets(
    "x86_64+avx512f+avx512vl+avx512bw+avx512dq+avx2+fma+bmi1+bmi2+lzcnt+popcnt",
    "x86_64+avx2+fma+bmi1+bmi2+lzcnt+popcnt",
    "x86_64+sse4.1",
    "aarch64+neon",
))]
pub fn poisson_bits_many(
    key: [u32; 2],
    stream: u32,
    neurons: &[u32],
    step: u32,
    block: u32,
    mut out: impl FnMut(usize, [u32; 4]),
) {
    for (g, ids) in neurons.chunks(LANES).enumerate() {
        let mut c = [[0u32; LANES]; 4];
        for (l, &i) in ids.iter().enumerate() {
            c[0][l] = i;
        }
        c[1] = [step >> 2; LANES];
        c[2] = [stream; LANES];
        c[3] = [block; LANES];
        let mut k = key;
        for r in 0..10 {
            if r > 0 {
                k[0] = k[0].wrapping_add(W0);
                k[1] = k[1].wrapping_add(W1);
            }
            let mut n = [[0u32; LANES]; 4];
            for l in 0..LANES {
                let p0 = M0 as u64 * c[0][l] as u64;
                let p1 = M1 as u64 * c[2][l] as u64;
                n[0][l] = (p1 >> 32) as u32 ^ c[1][l] ^ k[0];
                n[1][l] = p1 as u32;
                n[2][l] = (p0 >> 32) as u32 ^ c[3][l] ^ k[1];
                n[3][l] = p0 as u32;
            }
            c = n;
        }
        for l in 0..ids.len() {
            out(g * LANES + l, [c[0][l], c[1][l], c[2][l], c[3][l]]);
        }
    }
}

/// The Philox output that holds the uniform of `(stream, neuron, step, block)`: one call
/// serves four consecutive steps (lane `step % 4`), so a backend may cache it.
#[inline]
pub fn poisson_bits(key: [u32; 2], stream: u32, neuron: u32, step: u32, block: u32) -> [u32; 4] {
    philox4x32([neuron, step >> 2, stream, block], key)
}

/// The Poisson count of `(stream, neuron, step)`.
#[inline]
pub fn poisson_count(
    key: [u32; 2],
    stream: u32,
    neuron: u32,
    step: u32,
    plan: &PoissonPlan,
) -> u32 {
    (0..plan.blocks)
        .map(|b| {
            poisson_inv(
                uniform(poisson_bits(key, stream, neuron, step, b)[(step & 3) as usize]),
                &plan.cdf,
            )
        })
        .sum()
}
