//! CPU twin of `shaders/source_spikes.wgsl`: append this step's source spikes (computed
//! on the host for the batch by [`crate::source::source_batch`]) to the step's spikes.

use crate::source::SourceBatch;

/// Appends the source spikes of batch row `row` to `spiked`, keeping it ascending (the
/// order the f64 propagate sums in).
pub fn source_spikes(batch: &SourceBatch, row: usize, spiked: &mut Vec<u32>) {
    let (a, b) = (batch.ptr[row] as usize, batch.ptr[row + 1] as usize);
    if a == b {
        return;
    }
    let lif = spiked.len();
    spiked.extend_from_slice(&batch.ids[a..b]);
    if lif > 0 {
        spiked.sort_unstable();
    }
}
