//! How the CPU backend splits a network across threads.
//!
//! Each thread owns a contiguous range of neurons (a partition): their state, their
//! input ring and the synapses onto them, so a thread writes nothing another reads while
//! a step runs. The partitions share one thing, the ascending list of the step's spikes
//! (HV: the release of every neuron), as the ranks of a distributed simulator share the
//! spikes they exchange: a partition could live in another process unchanged.

use super::team::Team;
use crate::error::{Error, Result};
use crate::network::{Network, Neurons};

/// The most threads the CPU backend takes.
pub use crate::engine::threads::MAX_THREADS;

/// A partition's neurons: global ids `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    /// First neuron.
    pub start: usize,
    /// One past the last.
    pub end: usize,
}

impl Partition {
    /// Number of neurons.
    pub fn len(&self) -> usize {
        self.end - self.start
    }
    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
    /// Whether global neuron `i` is in it.
    pub fn contains(&self, i: usize) -> bool {
        self.start <= i && i < self.end
    }
}

/// The default thread count: every core the process may use.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(MAX_THREADS)
}

/// A neuron's cost, in units of one synapse delivered or gathered: its update.
const NEURON_COST: u64 = 16;
/// An HV neuron's cost for [`auto_threads`]: an RK4 step with exponentials.
const HV_NEURON_COST: u64 = 256;

/// The least work per step (cost units, as [`partition`] counts them) worth a thread of
/// its own: below it, a round of the team ([`super::Team`]) costs more than the share
/// saves. Measured on the 2-core development machine, best of 3 interleaved, f32: CUBA
/// 4000 (3.8·10^5 units) 0.039 s on 1 thread and 0.034 s on 2; Brunel 12 500
/// (1.6·10^7 units) 1.90 s and 1.10 s.
pub const MIN_WORK_PER_THREAD: u64 = 1 << 17;

/// The default thread count for `net`: every core ([`default_threads`]), but no more
/// threads than the network has [`MIN_WORK_PER_THREAD`] units of work per step for (at
/// least one). Results do not depend on it.
pub fn auto_threads(net: &Network) -> usize {
    let work = match &net.neurons {
        Neurons::Hv(h) => {
            HV_NEURON_COST * net.n as u64 + h.incoming.row_ptr.last().copied().unwrap_or(0) as u64
        }
        Neurons::Lif { .. } | Neurons::Point(_) => {
            NEURON_COST * net.n as u64 + net.synapses.len() as u64
        }
    };
    default_threads().min((work / MIN_WORK_PER_THREAD).max(1) as usize)
}

/// Splits the neurons into `threads` contiguous partitions (fewer when there are fewer
/// neurons) of about equal cost: its incoming synapses plus [`NEURON_COST`] per neuron.
/// The partition changes nothing in the results, only who computes them.
pub fn partition(net: &Network, threads: usize) -> Vec<Partition> {
    let n = net.n;
    let parts = threads.clamp(1, MAX_THREADS).min(n.max(1));
    if parts == 1 {
        return vec![Partition { start: 0, end: n }];
    }
    let mut cost = vec![NEURON_COST; n];
    match &net.neurons {
        Neurons::Hv(h) => {
            for (i, c) in cost.iter_mut().enumerate() {
                *c += (h.incoming.row_ptr[i + 1] - h.incoming.row_ptr[i]) as u64;
            }
        }
        Neurons::Lif { .. } | Neurons::Point(_) => {
            for pre in 0..n {
                net.synapses
                    .row_targets(pre, |t| cost[(t >> 1) as usize] += 1);
            }
        }
    }
    let total: u64 = cost.iter().sum();
    let mut out = Vec::with_capacity(parts);
    let (mut start, mut acc, mut i) = (0usize, 0u64, 0usize);
    for k in 1..parts {
        let goal = (total as u128 * k as u128 / parts as u128) as u64;
        // at least one neuron each, and one left for each partition after this one
        while i < n - (parts - k) && (acc < goal || i == start) {
            acc += cost[i];
            i += 1;
        }
        out.push(Partition { start, end: i });
        start = i;
    }
    out.push(Partition { start, end: n });
    out
}

/// The threads for `threads` partitions: a [`Team`] of that many members (the caller
/// and `threads − 1` workers), or none for one thread.
pub fn team(threads: usize) -> Result<Option<Team>> {
    if threads <= 1 {
        return Ok(None);
    }
    Team::new(threads)
        .map(Some)
        .map_err(|e| Error::Usage(format!("cannot start {threads} threads: {e}")))
}
