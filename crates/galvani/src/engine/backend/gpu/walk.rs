//! The row-parallel decomposition of `propagate` (`shaders/propagate.wgsl`), on the host:
//! the CPU twin of how the GPU splits a step's spikes into work, so that the counters
//! ([`crate::backend::GpuCounters`]) can show the longest serial walk without a GPU, and
//! so that tests can check it on any network.
//!
//! A spiking neuron's row of `len` synapses becomes [`row_blocks`]`(len)` blocks of
//! [`BLOCK`] synapses (appended by `lif_step` / `source_spikes`, `shaders/shared/
//! spike_out.wgsl`); `propagate` runs min(blocks, max_groups) workgroups, each walking
//! its blocks in turn, at most [`BLOCK_ITER`] iterations per block.

pub use super::layout::row_blocks;
use super::layout::{BLOCK, BLOCK_ITER};

/// The strides (iterations) a workgroup makes over block `b` of a row of `len` synapses:
/// [`BLOCK_ITER`], or fewer for a row's last block, as `propagate` computes them.
pub fn block_iters(len: u64, b: u64) -> u64 {
    let left = len.saturating_sub(b * BLOCK as u64);
    left.div_ceil(super::layout::WG_SIZE as u64)
        .min(BLOCK_ITER as u64)
}

/// The longest serial loop of any `propagate` workgroup in a step whose spiking neurons
/// are `spikes` (rows of `row_len[i]` synapses), with at most `max_groups` workgroups:
/// each workgroup takes every `groups`-th block of the step's list, so the busiest
/// takes ceil(blocks / groups) of them, each at most as long as the longest block. Exact
/// when every block has its own workgroup (the list's order, set by the device's
/// atomics, does not matter then); an upper bound otherwise. 0 for a step without
/// blocks (the indirect dispatch runs no workgroup).
pub fn propagate_walk(
    row_len: &[u32],
    spikes: impl IntoIterator<Item = u32>,
    max_groups: u32,
) -> u64 {
    StepWalk::of(row_len, spikes).iterations(max_groups)
}

/// [`propagate_walk`] built up one spiking row at a time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StepWalk {
    /// Row blocks so far.
    pub blocks: u64,
    /// Strides of the longest block so far.
    pub longest: u64,
}

impl StepWalk {
    /// The walk of a step whose spiking neurons are `spikes` (rows of `row_len[i]`).
    pub fn of(row_len: &[u32], spikes: impl IntoIterator<Item = u32>) -> Self {
        let mut w = StepWalk::default();
        for i in spikes {
            w.add(*row_len.get(i as usize).unwrap_or(&0) as u64);
        }
        w
    }

    /// Adds a spiking row of `len` synapses.
    pub fn add(&mut self, len: u64) {
        self.blocks += row_blocks(len);
        self.longest = self.longest.max(block_iters(len, 0));
    }

    /// The busiest workgroup's walk with at most `max_groups` workgroups.
    pub fn iterations(&self, max_groups: u32) -> u64 {
        if self.blocks == 0 {
            return 0;
        }
        let groups = self.blocks.min(max_groups.max(1) as u64);
        self.longest * self.blocks.div_ceil(groups)
    }
}

/// The row blocks of a step whose spiking neurons are `spikes`, with outgoing rows of
/// `row_len[i]` synapses.
pub fn step_blocks(row_len: &[u32], spikes: impl IntoIterator<Item = u32>) -> u64 {
    StepWalk::of(row_len, spikes).blocks
}

/// Entries one parity's block list needs so that every neuron may spike in one step:
/// the blocks of all rows.
pub fn block_capacity(row_len: &[u32]) -> u64 {
    row_len.iter().map(|&l| row_blocks(l as u64)).sum()
}
