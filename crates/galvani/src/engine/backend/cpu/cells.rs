//! The neurons of one partition of the spiking-synapse engine ([`super::SpikingCpu`]):
//! the part that depends on the neuron model. The engine owns what every spiking model
//! shares (the delay ring, the synapse table, Poisson drive, pulses, sources, probes'
//! placement); a [`Cells`] value owns the model's constants and state and its stages.
//! [`LifCells`] is LIF (its specialised loops); [`PointCells`] is any point model
//! ([`crate::model::point`]), so a new point model needs nothing here.

use super::{InputRing, LocalProbe, NeuronRange, Partition, lif_ranges, lif_step, record_voltage};
use crate::checkpoint::{Dec, Enc, real_bytes};
use crate::model::lif::{self, LifParams, LifState};
use crate::model::point::{self, PointNeurons, StepFn};
use crate::network::{Network, Neurons, PopulationInfo};
use crate::real::Real;

/// A checkpoint section of a model's state: its name, and the bytes of one neuron's
/// record in it.
pub type Section = (&'static str, usize);

/// The model-dependent neurons of one partition (see the module docs).
pub(super) trait Cells<F: Real>: Send + Sync {
    /// The number of neurons.
    fn len(&self) -> usize;
    /// `NeuronStep`: reads and clears this step's input slot, advances every neuron and
    /// appends the global ids of those that spiked, ascending (neuron k is `first + k`).
    fn step(
        &mut self,
        i_stim: &[F],
        ring: &mut InputRing<F>,
        inv_scale: F,
        step: u64,
        first: usize,
        spiked: &mut Vec<u32>,
    );
    /// Writes what each probe samples after `step` into `row`.
    fn record(&self, probes: &[LocalProbe], step: u64, row: &mut [F]);
    /// State variable `var` of every neuron, appended (0: V in mV; point models: the
    /// index in their state).
    fn values(&self, var: usize, out: &mut Vec<f64>);
    /// Overwrites state variable `var` of every neuron.
    fn write_var(&mut self, var: usize, values: &[f64]);
    /// Replaces the constants by those of `net` (its neurons `r`).
    fn write_params(&mut self, net: &Network, pops: &[PopulationInfo], r: &Partition);
    /// The state's checkpoint sections (the same for every partition of a network).
    fn sections(&self) -> Vec<Section>;
    /// Appends this partition's records to each section's encoder (in `sections` order).
    fn save(&self, enc: &mut [Enc]);
    /// Reads this partition's records from each section's decoder.
    fn load(&mut self, dec: &mut [Dec]);
}

/// The cells of partition `r` of `net`'s neurons.
pub(super) fn cells<F: Real>(net: &Network, r: &Partition) -> Box<dyn Cells<F>> {
    match &net.neurons {
        Neurons::Lif { params, v0 } => Box::new(LifCells::new(net, params, v0, r)),
        Neurons::Point(p) => Box::new(PointCells::new(p, r)),
        Neurons::Hv(_) => unreachable!("HV neurons have their own engine"),
    }
}

/// LIF neurons: constants per neuron, ranges with shared constants, state, alpha state.
pub(super) struct LifCells<F: Real> {
    params: Vec<LifParams<F>>,
    ranges: Vec<NeuronRange<F>>,
    state: Vec<LifState<F>>,
    /// dI/dt of the two alpha currents per neuron (empty when the network has no alpha
    /// neurons).
    dsyn: Vec<[F; 2]>,
}

impl<F: Real> LifCells<F> {
    fn new(net: &Network, params: &[LifParams<f64>], v0: &[f64], r: &Partition) -> Self {
        let (a, b) = (r.start, r.end);
        let lp: Vec<LifParams<F>> = params[a..b].iter().map(|p| p.cast::<F>()).collect();
        LifCells {
            ranges: lif_ranges(&net.populations, r, &lp),
            params: lp,
            state: (a..b)
                .map(|i| lif::initial_state::<F>(v0[i], params[i].e_l))
                .collect(),
            dsyn: if lif::has_alpha(params) {
                vec![[F::zero(); 2]; r.len()]
            } else {
                Vec::new()
            },
        }
    }
}

impl<F: Real> Cells<F> for LifCells<F> {
    fn len(&self) -> usize {
        self.state.len()
    }
    fn step(
        &mut self,
        i_stim: &[F],
        ring: &mut InputRing<F>,
        inv_scale: F,
        step: u64,
        first: usize,
        spiked: &mut Vec<u32>,
    ) {
        lif_step(
            &self.params,
            &self.ranges,
            i_stim,
            &mut self.state,
            &mut self.dsyn,
            ring,
            inv_scale,
            step,
            first,
            spiked,
        );
    }
    fn record(&self, probes: &[LocalProbe], step: u64, row: &mut [F]) {
        record_voltage(&self.params, &self.state, &self.dsyn, probes, step, row)
    }
    fn values(&self, _var: usize, out: &mut Vec<f64>) {
        out.extend(
            self.params
                .iter()
                .zip(&self.state)
                .map(|(p, s)| (s.u + p.e_l).f64()),
        );
    }
    fn write_var(&mut self, _var: usize, values: &[f64]) {
        for ((s, p), &v) in self.state.iter_mut().zip(&self.params).zip(values) {
            s.u = F::of(v - p.e_l.f64()).flush();
        }
    }
    fn write_params(&mut self, net: &Network, pops: &[PopulationInfo], r: &Partition) {
        let Neurons::Lif { params, .. } = &net.neurons else {
            unreachable!("the backend was built from this network")
        };
        self.params = params[r.start..r.end]
            .iter()
            .map(|p| p.cast::<F>())
            .collect();
        self.ranges = lif_ranges(pops, r, &self.params);
    }
    fn sections(&self) -> Vec<Section> {
        let rb = real_bytes::<F>();
        let mut s = vec![(super::state::LIF_STATE, 3 * rb + 4)];
        if !self.dsyn.is_empty() {
            s.push((super::state::LIF_DSYN, 2 * rb));
        }
        s
    }
    fn save(&self, enc: &mut [Enc]) {
        for s in &self.state {
            enc[0].real(s.u);
            enc[0].real(s.i_ampa);
            enc[0].real(s.i_gaba);
            enc[0].u32(s.refrac);
        }
        for d in &self.dsyn {
            enc[1].real(d[0]);
            enc[1].real(d[1]);
        }
    }
    fn load(&mut self, dec: &mut [Dec]) {
        for s in &mut self.state {
            s.u = dec[0].real();
            s.i_ampa = dec[0].real();
            s.i_gaba = dec[0].real();
            s.refrac = dec[0].word();
        }
        for x in &mut self.dsyn {
            *x = [dec[1].real(), dec[1].real()];
        }
    }
}

/// Point-model neurons ([`crate::model::point`]): the distinct constant sets, each
/// neuron's set, `width` state values per neuron, and the model's update.
pub(super) struct PointCells<F: Real> {
    step_fn: StepFn<F>,
    k_consts: usize,
    consts: Vec<F>,
    set: Vec<u32>,
    width: usize,
    state: Vec<F>,
}

impl<F: Real> PointCells<F> {
    fn new(p: &PointNeurons, r: &Partition) -> Self {
        let width = p.width();
        PointCells {
            step_fn: point::step_fn::<F>(p.dynamics),
            k_consts: p.dynamics.n_consts(),
            consts: p.consts.iter().map(|&c| F::of(c)).collect(),
            set: p.set[r.start..r.end].to_vec(),
            width,
            state: p.state0[r.start * width..r.end * width]
                .iter()
                .map(|&x| F::of(x).flush())
                .collect(),
        }
    }
}

impl<F: Real> Cells<F> for PointCells<F> {
    fn len(&self) -> usize {
        self.set.len()
    }
    fn step(
        &mut self,
        i_stim: &[F],
        ring: &mut InputRing<F>,
        inv_scale: F,
        step: u64,
        first: usize,
        spiked: &mut Vec<u32>,
    ) {
        let slot = (step % ring.slots as u64) as usize;
        let input = &mut ring.acc[slot * ring.width..(slot + 1) * ring.width];
        point::point_step(
            self.step_fn,
            &self.consts,
            self.k_consts,
            &self.set,
            &mut self.state,
            self.width,
            i_stim,
            input,
            inv_scale,
            first,
            spiked,
        );
    }
    fn record(&self, probes: &[LocalProbe], step: u64, row: &mut [F]) {
        for &(k, g, every, var) in probes {
            if (step + 1).is_multiple_of(every as u64) {
                row[k] = self.state[g * self.width + var as usize];
            }
        }
    }
    fn values(&self, var: usize, out: &mut Vec<f64>) {
        out.extend(self.state.chunks_exact(self.width).map(|s| s[var].f64()));
    }
    fn write_var(&mut self, var: usize, values: &[f64]) {
        for (s, &v) in self.state.chunks_exact_mut(self.width).zip(values) {
            s[var] = F::of(v).flush();
        }
    }
    fn write_params(&mut self, net: &Network, _pops: &[PopulationInfo], r: &Partition) {
        let Neurons::Point(p) = &net.neurons else {
            unreachable!("the backend was built from this network")
        };
        self.consts = p.consts.iter().map(|&c| F::of(c)).collect();
        self.set = p.set[r.start..r.end].to_vec();
    }
    fn sections(&self) -> Vec<Section> {
        vec![(super::state::POINT_STATE, self.width * real_bytes::<F>())]
    }
    fn save(&self, enc: &mut [Enc]) {
        for &x in &self.state {
            enc[0].real(x);
        }
    }
    fn load(&mut self, dec: &mut [Dec]) {
        for x in &mut self.state {
            *x = dec[0].real();
        }
    }
}
