//! Checkpoint sections of the CPU backend ([`crate::checkpoint`]). The layout is the GPU
//! backend's buffers' for f32 (`lif.state` is `LifState<f32>` as the shader stores it,
//! `lif.ring` its i32 accumulators slot-major, `hv.state` `HvState<f32>`), so a
//! checkpoint of either f32 backend loads into the other.

use super::{HvCpu, SpikingCpu};
use crate::checkpoint::{Checkpoint, Enc, real_bytes};
use crate::error::Result;
use crate::real::Real;

/// Section names shared with the GPU backend.
pub const LIF_STATE: &str = "lif.state";
/// The delay ring (pending synaptic input), `slots × 2n` accumulators.
pub const LIF_RING: &str = "lif.ring";
/// dI/dt of the alpha currents, two per neuron (only in networks with `alpha_current`
/// neurons).
pub const LIF_DSYN: &str = "lif.dsyn";
/// The stimulus current per neuron (empty without current pulses).
pub const STIM: &str = "stim.i";
/// Point-model state per neuron: its state variables in the model's order
/// ([`crate::model::point::PointDynamics::state`]).
pub const POINT_STATE: &str = "point.state";
/// HV state per neuron.
pub const HV_STATE: &str = "hv.state";
/// HV coupling (s^A, s^G, P^A, P^G) per neuron, for the next step.
pub const HV_COUPLING: &str = "hv.coupling";

fn acc_bytes<F: Real>() -> usize {
    real_bytes::<F>()
}

// The partitions are contiguous and in order, so walking them in turn gives the
// network's global order; the ring is slot-major over all neurons.
impl<F: Real> SpikingCpu<F> {
    pub(super) fn save(&self, ck: &mut Checkpoint) {
        let rb = real_bytes::<F>();
        let n: usize = self.parts.iter().map(|p| p.cells.len()).sum();
        // the model's sections, each partition's records in turn
        let sections = self.parts[0].cells.sections();
        let mut enc: Vec<Enc> = sections
            .iter()
            .map(|(_, b)| Enc::with_capacity(n * b))
            .collect();
        for p in &self.parts {
            p.cells.save(&mut enc);
        }
        for ((name, _), e) in sections.iter().zip(enc) {
            ck.put(name, e.0);
        }
        let ring_len: usize = self.parts.iter().map(|p| p.ring.acc.len()).sum();
        let slots = self.parts[0].ring.slots;
        let mut e = Enc::with_capacity(ring_len * acc_bytes::<F>());
        for slot in 0..slots {
            for p in &self.parts {
                let w = p.ring.width;
                for &a in &p.ring.acc[slot * w..(slot + 1) * w] {
                    e.acc::<F>(a);
                }
            }
        }
        ck.put(LIF_RING, e.0);
        let stim_len: usize = self.parts.iter().map(|p| p.i_stim.len()).sum();
        let mut e = Enc::with_capacity(stim_len * rb);
        for &x in self.parts.iter().flat_map(|p| &p.i_stim) {
            e.real(x);
        }
        ck.put(STIM, e.0);
    }

    pub(super) fn load(&mut self, ck: &Checkpoint) -> Result<()> {
        let rb = real_bytes::<F>();
        let n: usize = self.parts.iter().map(|p| p.cells.len()).sum();
        let ring_len: usize = self.parts.iter().map(|p| p.ring.acc.len()).sum();
        let stim_len: usize = self.parts.iter().map(|p| p.i_stim.len()).sum();
        let sections = self.parts[0].cells.sections();
        let mut dec = sections
            .iter()
            .map(|(name, b)| ck.reader(name, n, *b))
            .collect::<Result<Vec<_>>>()?;
        let mut ring = ck.reader(LIF_RING, ring_len, acc_bytes::<F>())?;
        let mut stim = ck.reader(STIM, stim_len, rb)?;
        for p in &mut self.parts {
            p.cells.load(&mut dec);
        }
        let slots = self.parts[0].ring.slots;
        for slot in 0..slots {
            for p in &mut self.parts {
                let w = p.ring.width;
                for a in &mut p.ring.acc[slot * w..(slot + 1) * w] {
                    *a = ring.acc::<F>();
                }
            }
        }
        for x in self.parts.iter_mut().flat_map(|p| &mut p.i_stim) {
            *x = stim.real();
        }
        self.pending = None;
        Ok(())
    }
}

impl<F: Real> HvCpu<F> {
    pub(super) fn save(&self, ck: &mut Checkpoint) {
        let rb = real_bytes::<F>();
        let n = self.release.len() / 2;
        let mut e = Enc::with_capacity(n * (2 * rb + 8));
        for s in self.parts.iter().flat_map(|p| &p.state) {
            e.real(s.y);
            e.real(s.w);
            e.u32(s.armed);
            e.u32(s.pad);
        }
        ck.put(HV_STATE, e.0);
        let mut e = Enc::with_capacity(4 * n * rb);
        for p in &self.parts {
            for k in 0..p.state.len() {
                let g = p.first + k;
                e.real(self.release[2 * g]);
                e.real(self.release[2 * g + 1]);
                e.real(p.p[2 * k]);
                e.real(p.p[2 * k + 1]);
            }
        }
        ck.put(HV_COUPLING, e.0);
    }

    pub(super) fn load(&mut self, ck: &Checkpoint) -> Result<()> {
        let rb = real_bytes::<F>();
        let n = self.release.len() / 2;
        let mut d = ck.reader(HV_STATE, n, 2 * rb + 8)?;
        let mut c = ck.reader(HV_COUPLING, 4 * n, rb)?;
        for s in self.parts.iter_mut().flat_map(|p| &mut p.state) {
            s.y = d.real();
            s.w = d.real();
            s.armed = d.word();
            s.pad = d.word();
        }
        for p in &mut self.parts {
            for k in 0..p.state.len() {
                let g = p.first + k;
                self.release[2 * g] = c.real();
                self.release[2 * g + 1] = c.real();
                p.p[2 * k] = c.real();
                p.p[2 * k + 1] = c.real();
            }
        }
        Ok(())
    }
}
