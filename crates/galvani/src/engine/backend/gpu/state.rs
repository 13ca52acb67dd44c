//! Checkpoint sections of the GPU LIF kernels, in the CPU f32 backend's layout
//! ([`crate::backend::cpu::state`]): the state and ring buffers as stored, the stimulus
//! current from its host copy.

use super::LifGpu;
use super::batch::download;
use crate::backend::cpu::state::{LIF_DSYN, LIF_RING, STIM};
use crate::checkpoint::Checkpoint;
use crate::error::Result;

impl LifGpu {
    pub(super) fn save_sections(&mut self, ck: &mut Checkpoint) -> Result<()> {
        let n = self.n as u64;
        ck.put(
            self.cells.section,
            download(&self.ctx, &self.state, n * self.cells.state_bytes)?,
        );
        if self.alpha {
            ck.put(LIF_DSYN, download(&self.ctx, &self.shared.dsyn, n * 8)?);
        }
        ck.put(LIF_RING, download(&self.ctx, &self.ring, self.ring_bytes)?);
        ck.put(STIM, bytemuck::cast_slice(&self.host_i_stim).to_vec());
        Ok(())
    }

    pub(super) fn load_sections(&mut self, ck: &Checkpoint) -> Result<()> {
        let n = self.n;
        let state = ck.reader(self.cells.section, n, self.cells.state_bytes as usize)?;
        let ring = ck.reader(LIF_RING, self.ring_bytes as usize / 4, 4)?;
        let stim = ck.reader(STIM, self.host_i_stim.len(), 4)?;
        let dsyn = if self.alpha {
            ck.reader(LIF_DSYN, 2 * n, 4)?.rest()
        } else {
            &[]
        };
        let (state, ring, stim) = (state.rest(), ring.rest(), stim.rest());
        let q = self.ctx.queue();
        if !dsyn.is_empty() {
            q.write_buffer(&self.shared.dsyn, 0, dsyn);
        }
        if !state.is_empty() {
            q.write_buffer(&self.state, 0, state);
        }
        if !ring.is_empty() {
            q.write_buffer(&self.ring, 0, ring);
        }
        // The step counters start over: a restored step may have the other parity than
        // the last step run, whose counters would otherwise still hold its spikes.
        q.write_buffer(
            &self.counts,
            0,
            bytemuck::cast_slice(&super::layout::counts_init()),
        );
        self.host_i_stim = bytemuck::pod_collect_to_vec(stim);
        if !stim.is_empty() {
            q.write_buffer(&self.i_stim, 0, stim);
        }
        self.ctx.take_error()
    }
}
