//! The simulation loop, shared by every backend: batches of steps, each step the
//! [`SCHEDULE`](crate::backend::SCHEDULE), outputs handed to a [`Sink`] batch by batch.

use std::time::Instant;

use crate::backend::{Backend, BackendInfo, BatchOutput, SCHEDULE};
use crate::error::Result;
use crate::network::Network;
use crate::real::Real;

/// Receives recorded data as batches complete.
pub trait Sink<F> {
    /// Initial voltages of the probes (t = 0).
    fn initial(&mut self, net: &Network, v: &[f64]) -> Result<()>;
    /// One completed batch.
    fn batch(&mut self, net: &Network, out: &BatchOutput<F>) -> Result<()>;
}

/// Watches a run between batches: progress display and a stop request (Ctrl-C).
///
/// Called once per completed batch on the host, never per step.
pub trait Monitor {
    /// `done` of `total` steps have been handed to the sink.
    fn batch_done(&mut self, done: u64, total: u64);
    /// Whether the run should stop after the current batch.
    fn stop_requested(&self) -> bool {
        false
    }
}

/// A monitor that shows nothing and never stops.
pub struct Unmonitored;

impl Monitor for Unmonitored {
    fn batch_done(&mut self, _done: u64, _total: u64) {}
}

/// Counts of a finished (or stopped) run.
#[derive(Debug, Clone)]
pub struct RunStats {
    /// Backend description.
    pub info: BackendInfo,
    /// Steps simulated (fewer than requested when the run was stopped).
    pub steps: u64,
    /// Whether all requested steps ran.
    pub complete: bool,
    /// Spikes per population (all populations, recorded or not).
    pub spikes_per_pop: Vec<u64>,
    /// Wall seconds of the loop.
    pub simulate_s: f64,
    /// What the GPU backend encoded and moved in these steps ([`crate::backend::GpuCounters`];
    /// `.report()` gives the per-step figures); `None` on the CPU.
    pub gpu: Option<crate::backend::GpuCounters>,
}

/// Runs `net.steps` steps on `backend`, feeding `sink`.
pub fn run<B: Backend>(
    net: &Network,
    backend: &mut B,
    sink: &mut dyn Sink<B::Float>,
) -> Result<RunStats> {
    run_with(net, backend, sink, &mut Unmonitored)
}

/// [`run`], reporting each batch to `monitor` and stopping early (between batches) when
/// it asks to; the sink then has every batch up to the stop, and the stats say
/// `complete: false`.
pub fn run_with<B: Backend>(
    net: &Network,
    backend: &mut B,
    sink: &mut dyn Sink<B::Float>,
    monitor: &mut dyn Monitor,
) -> Result<RunStats> {
    run_from(net, backend, 0, net.steps, sink, monitor)
}

/// Runs steps `first..first + steps` on `backend`, which holds the state after step
/// `first - 1` (the initial state when `first` is 0): the shared schedule, batch by
/// batch. The t = 0 voltage sample goes to the sink only when `first` is 0, so runs that
/// continue one another (`first` = the previous run's end) feed a sink exactly what one
/// run over the whole span would. The stats count this call's steps and spikes.
pub fn run_from<B: Backend>(
    net: &Network,
    backend: &mut B,
    first: u64,
    steps: u64,
    sink: &mut dyn Sink<B::Float>,
    monitor: &mut dyn Monitor,
) -> Result<RunStats> {
    let t0 = Instant::now();
    // counts of this run only
    let _ = backend.take_counters();
    if first == 0 {
        let v = backend.voltages()?;
        // LIF's synaptic variables start at 0
        let v0: Vec<f64> = net
            .probes
            .iter()
            .map(|p| {
                if p.var == crate::network::PROBE_V {
                    v[p.global]
                } else if let crate::network::Neurons::Point(pn) = &net.neurons {
                    // a point model's other state variables: their initial values
                    pn.state0[p.global * pn.width() + p.var as usize]
                } else {
                    0.0
                }
            })
            .collect();
        sink.initial(net, &v0)?;
    }
    let mut spikes_per_pop = vec![0u64; net.populations.len()];
    let mut count = |out: &BatchOutput<B::Float>| {
        for (_, i) in out.spikes() {
            spikes_per_pop[net.locate(i).0] += 1;
        }
    };
    let per_batch = crate::backend::batch_steps(net) as u64;
    let end = first + steps;
    let mut step = first;
    while step < end {
        if monitor.stop_requested() {
            break;
        }
        let k = per_batch.min(end - step);
        backend.begin_batch(step, k as u32)?;
        for n in step..step + k {
            for stage in SCHEDULE {
                backend.run_stage(stage, n)?;
            }
        }
        for out in backend.end_batch()? {
            count(&out);
            sink.batch(net, &out)?;
            monitor.batch_done(out.first_step + out.steps as u64, end);
        }
        step += k;
    }
    for out in backend.finish()? {
        count(&out);
        sink.batch(net, &out)?;
        monitor.batch_done(out.first_step + out.steps as u64, end);
    }
    Ok(RunStats {
        gpu: backend.take_counters(),
        info: backend.info(),
        steps: step - first,
        complete: step == end,
        spikes_per_pop,
        simulate_s: t0.elapsed().as_secs_f64(),
    })
}

/// Runs any backend through the shared loop, from t = 0 for `net.steps` steps.
pub fn drive<B: Backend>(
    net: &Network,
    backend: B,
    sink: &mut dyn Sink<B::Float>,
) -> Result<RunStats> {
    drive_with(net, backend, sink, &mut Unmonitored)
}

/// [`drive`] with a [`Monitor`] (progress, Ctrl-C).
pub fn drive_with<B: Backend>(
    net: &Network,
    mut backend: B,
    sink: &mut dyn Sink<B::Float>,
    monitor: &mut dyn Monitor,
) -> Result<RunStats> {
    run_with(net, &mut backend, sink, monitor)
}

/// Discards everything (benchmarks).
pub struct Discard;

impl<F> Sink<F> for Discard {
    fn initial(&mut self, _net: &Network, _v: &[f64]) -> Result<()> {
        Ok(())
    }
    fn batch(&mut self, _net: &Network, _out: &BatchOutput<F>) -> Result<()> {
        Ok(())
    }
}

/// A spike: (step, population, population-local neuron).
pub type Spike = (u64, u32, u32);

/// Collects everything in memory (tests, `galvani compare`).
#[derive(Debug, Default, Clone)]
pub struct Collect {
    /// Spikes of recorded populations, sorted by step, population, neuron.
    pub spikes: Vec<Spike>,
    /// The time (ms) of each spike of `spikes`: the interpolated threshold crossing for
    /// models that interpolate (HV), otherwise the end of the step.
    pub times_ms: Vec<f64>,
    /// Voltage samples: (step after which it was taken, or None for t = 0; probe index; mV).
    pub voltages: Vec<(Option<u64>, usize, f64)>,
}

impl<F: Real> Sink<F> for Collect {
    fn initial(&mut self, _net: &Network, v: &[f64]) -> Result<()> {
        self.voltages
            .extend(v.iter().enumerate().map(|(k, &x)| (None, k, x)));
        Ok(())
    }
    fn batch(&mut self, net: &Network, out: &BatchOutput<F>) -> Result<()> {
        for (step, i, t) in out.spike_times(net.dt_ms) {
            let (p, local) = net.locate(i);
            if net.populations[p].record_spikes {
                self.spikes.push((step, p as u32, local as u32));
                self.times_ms.push(t);
            }
        }
        let np = net.probes.len();
        for s in 0..out.steps as usize {
            let step = out.first_step + s as u64;
            for (k, probe) in net.probes.iter().enumerate() {
                if (step + 1).is_multiple_of(probe.every as u64) {
                    self.voltages
                        .push((Some(step), k, out.voltages[s * np + k].f64()));
                }
            }
        }
        Ok(())
    }
}

/// The time stamp of a spike in step `step`: the end of the step, (step + 1)·dt, rounded
/// to 1e-9 ms so that it prints as the grid value (0.3, not 0.30000000000000004).
pub fn stamp_ms(step: u64, dt: f64) -> f64 {
    ((step + 1) as f64 * dt * 1e9).round() / 1e9
}
