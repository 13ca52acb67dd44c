//! Checkpoint sections of the CPU backend ([`crate::checkpoint`]). The layout is the GPU
//! backend's buffers' for f32 (`lif.state` is `LifState<f32>` as the shader stores it,
//! `lif.ring` its i32 accumulators slot-major, `hv.state` `HvState<f32>`), so a
//! checkpoint of either f32 backend loads into the other.

use super::{CpuBackend, HvCpu, LifCpu, Model};
use crate::checkpoint::{Checkpoint, Enc, real_bytes};
use crate::error::Result;
use crate::real::Real;

/// Section names shared with the GPU backend.
pub const LIF_STATE: &str = "lif.state";
/// The delay ring (pending synaptic input), `slots × 2n` accumulators.
pub const LIF_RING: &str = "lif.ring";
/// The stimulus current per neuron (empty without current pulses).
pub const STIM: &str = "stim.i";
/// HV state per neuron.
pub const HV_STATE: &str = "hv.state";
/// HV coupling (s^A, s^G, P^A, P^G) per neuron, for the next step.
pub const HV_COUPLING: &str = "hv.coupling";

fn acc_bytes<F: Real>() -> usize {
    real_bytes::<F>()
}

impl<F: Real> LifCpu<F> {
    fn save(&self, ck: &mut Checkpoint) {
        let rb = real_bytes::<F>();
        let mut e = Enc::with_capacity(self.state.len() * (3 * rb + 4));
        for s in &self.state {
            e.real(s.u);
            e.real(s.i_ampa);
            e.real(s.i_gaba);
            e.u32(s.refrac);
        }
        ck.put(LIF_STATE, e.0);
        let mut e = Enc::with_capacity(self.ring.acc.len() * acc_bytes::<F>());
        for &a in &self.ring.acc {
            e.acc::<F>(a);
        }
        ck.put(LIF_RING, e.0);
        let mut e = Enc::with_capacity(self.i_stim.len() * rb);
        for &x in &self.i_stim {
            e.real(x);
        }
        ck.put(STIM, e.0);
    }

    fn load(&mut self, ck: &Checkpoint) -> Result<()> {
        let rb = real_bytes::<F>();
        let mut d = ck.reader(LIF_STATE, self.state.len(), 3 * rb + 4)?;
        let mut ring = ck.reader(LIF_RING, self.ring.acc.len(), acc_bytes::<F>())?;
        let mut stim = ck.reader(STIM, self.i_stim.len(), rb)?;
        for s in &mut self.state {
            s.u = d.real();
            s.i_ampa = d.real();
            s.i_gaba = d.real();
            s.refrac = d.word();
        }
        for a in &mut self.ring.acc {
            *a = ring.acc::<F>();
        }
        for x in &mut self.i_stim {
            *x = stim.real();
        }
        Ok(())
    }
}

impl<F: Real> HvCpu<F> {
    fn save(&self, ck: &mut Checkpoint) {
        let rb = real_bytes::<F>();
        let mut e = Enc::with_capacity(self.state.len() * (2 * rb + 8));
        for s in &self.state {
            e.real(s.y);
            e.real(s.w);
            e.u32(s.armed);
            e.u32(s.pad);
        }
        ck.put(HV_STATE, e.0);
        let mut e = Enc::with_capacity(self.coupling.len() * rb);
        for &x in &self.coupling {
            e.real(x);
        }
        ck.put(HV_COUPLING, e.0);
    }

    fn load(&mut self, ck: &Checkpoint) -> Result<()> {
        let rb = real_bytes::<F>();
        let mut d = ck.reader(HV_STATE, self.state.len(), 2 * rb + 8)?;
        let mut c = ck.reader(HV_COUPLING, self.coupling.len(), rb)?;
        for s in &mut self.state {
            s.y = d.real();
            s.w = d.real();
            s.armed = d.word();
            s.pad = d.word();
        }
        for x in &mut self.coupling {
            *x = c.real();
        }
        Ok(())
    }
}

impl<F: Real> CpuBackend<F> {
    pub(super) fn save_sections(&self, ck: &mut Checkpoint) {
        match &self.model {
            Model::Lif(m) => m.save(ck),
            Model::Hv(m) => m.save(ck),
        }
    }

    pub(super) fn load_sections(&mut self, ck: &Checkpoint) -> Result<()> {
        match &mut self.model {
            Model::Lif(m) => m.load(ck),
            Model::Hv(m) => m.load(ck),
        }
    }
}
