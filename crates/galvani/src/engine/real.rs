//! The working precision of a simulation, and the accumulator its synaptic input uses.
//!
//! `f32` is the default on both backends and accumulates synaptic input in `i32` fixed
//! point, exactly like the GPU (integer addition is associative, so the sum does not
//! depend on the order in which spikes arrive). `f64` exists on the CPU backend to
//! reproduce NEST and Brian2 spike for spike; it accumulates in plain `f64`, in the
//! fixed order of the CPU backend (ascending presynaptic neuron, then synapse).

use std::fmt::{Debug, Display};

/// Fixed-point scale of the `i32` synaptic-input accumulators (see [`crate::connectivity`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FixedPoint {
    /// Accumulator units per unit of weight (a power of two).
    pub scale: f64,
}

impl FixedPoint {
    /// The reciprocal of `scale` (exact: `scale` is a power of two).
    pub fn inv_scale(&self) -> f64 {
        1.0 / self.scale
    }
    /// Converts a weight to accumulator units (round to nearest).
    pub fn to_fixed(&self, w: f64) -> i32 {
        (w * self.scale).round() as i32
    }
}

/// A floating-point working precision.
pub trait Real:
    num_traits::Float + Copy + Default + Send + Sync + Debug + Display + 'static
{
    /// Synaptic-input accumulator.
    type Acc: Copy + Default + Send + Sync + Debug + PartialEq;
    /// `"f32"` or `"f64"`.
    const NAME: &'static str;
    /// Rounds an `f64` into this precision.
    fn of(x: f64) -> Self;
    /// Widens to `f64`.
    fn f64(self) -> f64;
    /// A weight in accumulator units.
    fn acc_weight(w: f64, fixed: &FixedPoint) -> Self::Acc;
    /// `a += b` in the accumulator (wrapping for fixed point; overflow is excluded by the
    /// choice of scale, see `connectivity::choose_fixed_point`).
    fn acc_add(a: &mut Self::Acc, b: Self::Acc);
    /// The accumulated input as a value of this precision.
    fn acc_value(a: Self::Acc, inv_scale: Self) -> Self;
    /// `count` events of weight `w` (wrapping for fixed point, as on the GPU).
    fn acc_times(w: Self::Acc, count: u32) -> Self::Acc;
    /// The accumulator's bits (checkpoints): the i32's two's complement, or the f64's.
    fn acc_bits(a: Self::Acc) -> u64;
    /// The inverse of [`Real::acc_bits`].
    fn acc_from_bits(b: u64) -> Self::Acc;
    /// `x`, or 0 where it is subnormal in f32 (|x| < 2^-126): GPUs may flush f32
    /// subnormals to zero (Vulkan leaves it to the implementation), so the LIF state
    /// and its constants never hold one on either backend (its inputs cannot: see
    /// `acc_value`), and a GPU that flushes computes what the CPU computes. f64 keeps its subnormals (CPU only, as
    /// NEST). WGSL twin: `flush` in `shaders/shared/types.wgsl`.
    #[inline(always)]
    fn flush(self) -> Self {
        self
    }
}

impl Real for f32 {
    type Acc = i32;
    const NAME: &'static str = "f32";
    fn of(x: f64) -> Self {
        x as f32
    }
    fn f64(self) -> f64 {
        self as f64
    }
    fn acc_weight(w: f64, fixed: &FixedPoint) -> i32 {
        fixed.to_fixed(w)
    }
    fn acc_add(a: &mut i32, b: i32) {
        *a = a.wrapping_add(b);
    }
    fn acc_value(a: i32, inv_scale: f32) -> f32 {
        // Mirrors `f32(acc) * inv_scale` in model/lif/lif_step.wgsl. Never subnormal:
        // the scale is at most 2^24 (connectivity::choose_fixed_point), so a nonzero
        // input is at least 2^-24.
        (a as f32) * inv_scale
    }
    fn acc_times(w: i32, count: u32) -> i32 {
        w.wrapping_mul(count as i32)
    }
    fn acc_bits(a: i32) -> u64 {
        a as u32 as u64
    }
    fn acc_from_bits(b: u64) -> i32 {
        b as u32 as i32
    }
    #[inline(always)]
    fn flush(self) -> f32 {
        // without a branch (neurons share SIMD lanes): the bits masked to +0 where
        // |x| < 2^-126, kept otherwise (NaN included)
        let tiny = self.abs() < f32::MIN_POSITIVE;
        f32::from_bits(self.to_bits() & (tiny as u32).wrapping_sub(1))
    }
}

impl Real for f64 {
    type Acc = f64;
    const NAME: &'static str = "f64";
    fn of(x: f64) -> Self {
        x
    }
    fn f64(self) -> f64 {
        self
    }
    fn acc_weight(w: f64, _fixed: &FixedPoint) -> f64 {
        w
    }
    fn acc_add(a: &mut f64, b: f64) {
        *a += b;
    }
    fn acc_value(a: f64, _inv_scale: f64) -> f64 {
        a
    }
    fn acc_times(w: f64, count: u32) -> f64 {
        w * count as f64
    }
    fn acc_bits(a: f64) -> u64 {
        a.to_bits()
    }
    fn acc_from_bits(b: u64) -> f64 {
        f64::from_bits(b)
    }
}

/// The precision a run uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit floats (default; both backends).
    F32,
    /// 64-bit floats (CPU backend).
    F64,
}

impl Precision {
    /// The names the faces accept, in order.
    pub const NAMES: [&'static str; 2] = ["f32", "f64"];
}

impl std::str::FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "f32" => Ok(Precision::F32),
            "f64" => Ok(Precision::F64),
            _ => Err(format!("expected \"f32\" or \"f64\", got \"{s}\"")),
        }
    }
}

impl Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        })
    }
}
