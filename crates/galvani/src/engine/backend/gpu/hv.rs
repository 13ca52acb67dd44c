//! HV networks on the GPU: the same stages as the CPU backend (`backend/cpu/hv_*.rs`) as
//! compute kernels, batched and read back like the LIF kernels (see the module docs of
//! [`super`]).
//!
//! - `hv_step` (stage `NeuronStep`, one invocation per neuron): RK4 with the coupling
//!   frozen over the step, spike detection (bit in the batch's record row and the
//!   crossing's fraction of the step in a `rows × n` array), release of the new voltage.
//!   A non-finite state sets the device flag `bad` = (first step, its lowest neuron),
//!   which the host checks with every batch it reads back.
//! - `hv_gather` (stage `Propagate`, one invocation per postsynaptic neuron): the graded
//!   activation of the next step over the incoming row, ascending presynaptic order.
//! - `hv_record_voltage` (stage `Record`, one invocation per probe, when one is due).
//!
//! The coupling of step 0 (release of y^0 and its gather) is computed on the host by the
//! CPU twins in f32 and uploaded, so both f32 backends start from identical values.

use super::batch::{Batches, InFlight, end_upload, read_mapped};
use super::context::GpuContext;
use super::layout::{GpuProbe, STEP_STRIDE, StepUniform, WG_SIZE};
use super::limits::{self, BufferSpec, check_buffer, dispatch_2d, human_count};
use super::pipelines::{HV_GATHER, HV_RECORD_VOLTAGE, HV_STEP, Kernel};
use super::upload::{self, Uploader, padded};
use crate::backend::cpu::{COUPLING_STRIDE, hv_activate, hv_gather};
use crate::backend::{Backend, BackendInfo, BatchOutput, Stage, StateVar, nonfinite_error};
use crate::error::{Error, Result};
use crate::model::hv::{self, HvParams, HvPulse, HvState};
use crate::network::{HvNeurons, Network, Neurons, PopulationInfo};
use crate::real::Precision;

/// The value of `bad` (both words) until a non-finite state is found. WGSL twin:
/// `HV_NO_BAD` in `shaders/shared/types.wgsl`.
pub const NO_BAD: u32 = u32::MAX;

/// Storage buffers `hv_step` binds (the most of the HV kernels).
pub const HV_STORAGE_BINDINGS: u32 = 7;

/// The HV buffers and bind groups of one record set.
struct HvSet {
    spike_frac: wgpu::Buffer,
    bind_step: wgpu::BindGroup,
    bind_record: wgpu::BindGroup,
}

/// The HV kernels and their buffers.
pub struct HvGpu {
    ctx: GpuContext,
    step_kernel: Kernel,
    gather_kernel: Kernel,
    record_kernel: Kernel,
    state: wgpu::Buffer,
    state_staging: wgpu::Buffer,
    /// The derived constants and the coupling (rewritten between runs by
    /// `write_params` and `write_state`), with the host copy of the constants.
    params_buf: wgpu::Buffer,
    coupling: wgpu::Buffer,
    params: Vec<HvParams<f32>>,
    bad: wgpu::Buffer,
    /// The uniforms, probes, record sets and the batches open and in flight.
    batches: Batches<HvSet>,
    bind_gather: wgpu::BindGroup,
    /// v_T per neuron, to report v = v_T·y.
    v_t: Vec<f32>,
    has_synapses: bool,
    step_groups: (u32, u32),
    record_groups: (u32, u32),
    pops: Vec<PopulationInfo>,
    dt_ms: f64,
    /// The largest in-degree: the longest loop of one `hv_gather` invocation.
    max_in_degree: u64,
}

/// Every buffer of an HV network with batches of up to `batch` steps (two record sets).
pub fn hv_buffer_plan(net: &Network, h: &HvNeurons, batch: u32) -> Vec<BufferSpec> {
    let n = net.n as u64;
    let syn = h.incoming.src.len() as u64;
    let words = n.div_ceil(32).max(1);
    let probes = net.probes.len() as u64;
    let batch = batch as u64;
    let neurons = format!("{} neurons", human_count(n));
    let synapses = format!("{} synapses", human_count(syn));
    let rec = format!("{batch} steps per batch × {words} words");
    let frac = format!("{batch} steps per batch × {} neurons", human_count(n));
    let volt = format!("{batch} steps per batch × {probes} probes");
    let spec = |name, what, elements: u64, elem: u64, storage, cause: &String| BufferSpec {
        name,
        what,
        bytes: elements * elem,
        storage,
        elements,
        cause: cause.clone(),
    };
    vec![
        spec(
            "params",
            "HV neuron parameters",
            n,
            size_of::<HvParams<f32>>() as u64,
            true,
            &neurons,
        ),
        spec(
            "state",
            "HV neuron state",
            n,
            size_of::<HvState<f32>>() as u64,
            true,
            &neurons,
        ),
        spec(
            "coupling",
            "release and activation per neuron",
            COUPLING_STRIDE as u64 * n,
            4,
            true,
            &neurons,
        ),
        spec(
            "pulses",
            "receptor pulses",
            h.pulses.len() as u64,
            size_of::<HvPulse<f32>>() as u64,
            true,
            &format!(
                "{} (neuron, pulse) pairs",
                human_count(h.pulses.len() as u64)
            ),
        ),
        spec(
            "row_ptr",
            "incoming-synapse row pointers",
            n + 1,
            4,
            true,
            &neurons,
        ),
        spec("src", "synapse sources", syn, 4, true, &synapses),
        spec("weight", "synapse weights", syn, 4, true, &synapses),
        spec(
            "spike_bits",
            "spike-record rows",
            batch * words,
            4,
            true,
            &rec,
        ),
        spec(
            "spike_frac",
            "spike-crossing fractions",
            batch * n,
            4,
            true,
            &frac,
        ),
        spec(
            "volt",
            "voltage-record rows",
            batch * probes,
            4,
            true,
            &volt,
        ),
        spec(
            "probes",
            "voltage probes",
            probes,
            size_of::<GpuProbe>() as u64,
            true,
            &volt,
        ),
        BufferSpec {
            name: "u",
            what: "per-step uniforms",
            bytes: batch * STEP_STRIDE,
            storage: false,
            elements: batch,
            cause: format!("{batch} steps per batch"),
        },
        BufferSpec {
            name: "staging",
            what: "readback staging",
            bytes: batch * (words + probes + n) * 4 + 8,
            storage: false,
            elements: 0,
            cause: frac.clone(),
        },
    ]
}

/// Checks an HV network against the device limits before any buffer is created.
fn check_hv_limits(net: &Network, h: &HvNeurons, batch: u32, limits: &wgpu::Limits) -> Result<()> {
    limits::check_kernels_fit(
        net.n as u64,
        1 << 30,
        "hv_step",
        HV_STORAGE_BINDINGS,
        limits,
    )?;
    // The coupling array is indexed 4·neuron (u32), the fractions row·n + neuron.
    if batch as u64 * net.n as u64 > u32::MAX as u64 {
        return Err(Error::Limit(format!(
            "{} HV neurons is too many for one device",
            human_count(net.n as u64)
        )));
    }
    for b in hv_buffer_plan(net, h, batch) {
        check_buffer(&b, limits)?;
    }
    Ok(())
}

impl HvGpu {
    /// Checks the limits, uploads the network (with the coupling of step 0 computed on
    /// the host) and compiles the kernels.
    pub fn new(ctx: &GpuContext, net: &Network, h: &HvNeurons) -> Result<Self> {
        let device = ctx.device();
        let lim = ctx.limits();
        let batch_cap = crate::backend::batch_steps(net);
        check_hv_limits(net, h, batch_cap, &lim)?;
        ctx.take_error()?;

        let n = net.n;
        let params: Vec<HvParams<f32>> = h.params.iter().map(|p| p.cast::<f32>()).collect();
        let state0: Vec<HvState<f32>> = h
            .params
            .iter()
            .zip(h.v0.iter().zip(&h.w0))
            .map(|(p, (&v, &w))| hv::initial_state::<f32>(p, v, w))
            .collect();
        let weight: Vec<f32> = h.incoming.weight.iter().map(|&w| w as f32).collect();
        let pulses: Vec<HvPulse<f32>> = h.pulses.iter().map(|q| q.cast::<f32>()).collect();
        // the coupling of step 0, exactly as the CPU backend computes it
        let mut coupling = vec![0f32; COUPLING_STRIDE * n];
        hv_activate(&params, &state0, &mut coupling);
        hv_gather(&h.incoming.row_ptr, &h.incoming.src, &weight, &mut coupling);
        let words = n.div_ceil(32).max(1) as u64;
        let n_probes = net.probes.len() as u64;

        let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let val = device.push_error_scope(wgpu::ErrorFilter::Validation);
        use wgpu::BufferUsages as U;
        let up = Uploader { device };
        let init = |label: &str, data: &[u8], usage: U| up.init(label, data, usage);
        let empty = |label: &str, bytes: u64, usage: U| up.empty(label, bytes, usage);
        let st = U::STORAGE;
        let params_buf = init("params", bytemuck::cast_slice(&params), st | U::COPY_DST);
        let state = init(
            "state",
            bytemuck::cast_slice(&state0),
            st | U::COPY_SRC | U::COPY_DST,
        );
        let coupling_buf = init(
            "coupling",
            bytemuck::cast_slice(&coupling),
            st | U::COPY_SRC | U::COPY_DST,
        );
        let pulses_buf = init("pulses", bytemuck::cast_slice(&pulses), st);
        let row_ptr = init("row_ptr", bytemuck::cast_slice(&h.incoming.row_ptr), st);
        let src = init("src", bytemuck::cast_slice(&h.incoming.src), st);
        let weight_buf = init("weight", bytemuck::cast_slice(&weight), st);
        let bad = init(
            "bad",
            bytemuck::cast_slice(&[NO_BAD, NO_BAD]),
            st | U::COPY_SRC,
        );
        let probe_buf = empty("probes", n_probes * 16, st | U::COPY_DST);
        let uniforms = empty(
            "u",
            batch_cap as u64 * STEP_STRIDE,
            U::UNIFORM | U::COPY_DST,
        );
        let state_staging = empty(
            "state_staging",
            n as u64 * size_of::<HvState<f32>>() as u64,
            U::MAP_READ | U::COPY_DST,
        );
        let [step_kernel, gather_kernel, record_kernel] = upload::compile([
            ctx.kernel_named(HV_STEP),
            ctx.kernel_named(HV_GATHER),
            ctx.kernel_named(HV_RECORD_VOLTAGE),
        ])?;
        let make_set = |tag: &str| {
            // the spike-crossing fractions: one f32 per neuron and step, HV's own
            let spike_frac = empty(
                &format!("spike_frac {tag}"),
                batch_cap as u64 * n as u64 * 4,
                st | U::COPY_SRC | U::COPY_DST,
            );
            let staging = batch_cap as u64 * (words + n_probes + n as u64) * 4 + 8;
            up.record_set(
                tag,
                super::upload::RecordShape {
                    batch: batch_cap as u64,
                    words,
                    probes: n_probes,
                    lists: false,
                },
                staging,
                |spike_bits, volt, _| {
                    let bind_step = step_kernel.bind(
                        device,
                        &[
                            &uniforms,
                            &params_buf,
                            &state,
                            &coupling_buf,
                            &pulses_buf,
                            spike_bits,
                            &spike_frac,
                            &bad,
                        ],
                    );
                    let bind_record = record_kernel
                        .bind(device, &[&uniforms, &params_buf, &state, &probe_buf, volt]);
                    HvSet {
                        spike_frac,
                        bind_step,
                        bind_record,
                    }
                },
            )
        };
        let sets = [make_set("A"), make_set("B")];
        let bind_gather = gather_kernel.bind(
            device,
            &[&uniforms, &row_ptr, &src, &weight_buf, &coupling_buf],
        );
        end_upload(ctx, oom, val, || {
            format!("the HV network ({n} neurons, {} synapses)", weight.len())
        })?;
        let max_dim = lim.max_compute_workgroups_per_dimension;
        let groups = |items: u64| (items.div_ceil(WG_SIZE as u64)).max(1) as u32;
        let base = StepUniform {
            n: n as u32,
            words: words as u32,
            slots: 1,
            n_probes: n_probes as u32,
            inv_scale: 1.0,
            ..Default::default()
        };
        Ok(HvGpu {
            ctx: ctx.clone(),
            step_kernel,
            gather_kernel,
            record_kernel,
            state,
            state_staging,
            params_buf,
            coupling: coupling_buf,
            bad,
            batches: Batches::new(ctx, net, base, batch_cap, uniforms, probe_buf, sets),
            bind_gather,
            v_t: params.iter().map(|p| p.v_t).collect(),
            params,
            has_synapses: !weight.is_empty(),
            step_groups: dispatch_2d(groups(n as u64), max_dim),
            record_groups: dispatch_2d(groups(n_probes), max_dim),
            pops: net.populations.clone(),
            dt_ms: net.dt_ms,
            max_in_degree: h
                .incoming
                .row_ptr
                .windows(2)
                .map(|w| (w[1] - w[0]) as u64)
                .max()
                .unwrap_or(0),
        })
    }

    /// Reads a submitted batch back: spike bits, voltages, the non-finite flag and the
    /// crossing fraction of every spike.
    fn read_batch(&mut self, f: InFlight) -> Result<BatchOutput<f32>> {
        let n = self.batches.base.n as usize;
        let (pops, dt_ms) = (&self.pops, self.dt_ms);
        let frac_bytes = f.steps as u64 * n as u64 * 4;
        self.batches.read(f, 8 + frac_bytes, |out, rest| {
            let (bad, frac) = rest.split_at(8);
            let bad: Vec<u32> = bytemuck::pod_collect_to_vec(bad);
            if bad[0] != NO_BAD {
                return Err(nonfinite_error(
                    pops,
                    bad[1] as usize,
                    bad[0] as u64,
                    dt_ms,
                    None,
                ));
            }
            let frac: Vec<f32> = bytemuck::pod_collect_to_vec(frac);
            out.interp = out
                .spikes()
                .map(|(step, i)| {
                    let row = (step - out.first_step) as usize;
                    (step, i as u32, frac[row * n + i])
                })
                .collect();
            Ok(())
        })
    }
}

impl Backend for HvGpu {
    type Float = f32;

    /// Backend, device, precision.
    fn info(&self) -> BackendInfo {
        BackendInfo {
            backend: "gpu".into(),
            device: self.ctx.describe().to_string(),
            precision: Precision::F32,
            threads: None,
        }
    }

    /// See [`crate::backend::Backend::begin_batch`].
    fn begin_batch(&mut self, first_step: u64, steps: u32) -> Result<()> {
        self.batches
            .begin(first_step, steps, "hv batch", "hv steps")
    }

    /// See [`crate::backend::Backend::run_stage`]: encodes the stage's dispatch.
    fn run_stage(&mut self, stage: Stage, step: u64) -> Result<()> {
        let record = stage == Stage::Record && self.batches.probe_due(step);
        let (b, rs, offset) = self.batches.stage(step)?;
        let pass = b.pass();
        let rs = &rs.ext;
        let mut dispatches = 0;
        let mut gathered = false;
        match stage {
            Stage::NeuronStep => {
                pass.set_pipeline(&self.step_kernel.pipeline);
                pass.set_bind_group(0, &rs.bind_step, &[offset]);
                pass.dispatch_workgroups(self.step_groups.0, self.step_groups.1, 1);
                dispatches += 1;
            }
            Stage::Propagate => {
                // without synapses P stays 0, as uploaded
                if self.has_synapses {
                    pass.set_pipeline(&self.gather_kernel.pipeline);
                    pass.set_bind_group(0, &self.bind_gather, &[offset]);
                    pass.dispatch_workgroups(self.step_groups.0, self.step_groups.1, 1);
                    dispatches += 1;
                    gathered = true;
                }
            }
            Stage::Record => {
                if record {
                    pass.set_pipeline(&self.record_kernel.pipeline);
                    pass.set_bind_group(0, &rs.bind_record, &[offset]);
                    pass.dispatch_workgroups(self.record_groups.0, self.record_groups.1, 1);
                    dispatches += 1;
                }
            }
        }
        b.dispatched(dispatches);
        if gathered {
            // one invocation per neuron walks its whole incoming row
            let c = &mut self.batches.counters;
            c.max_propagate_iterations = c.max_propagate_iterations.max(self.max_in_degree);
        }
        Ok(())
    }

    /// See [`crate::backend::Backend::end_batch`]: submits this batch, returns the
    /// previous one.
    fn end_batch(&mut self) -> Result<Vec<BatchOutput<f32>>> {
        let (bad, n) = (&self.bad, self.batches.base.n as u64);
        let prev = self.batches.submit(2, |encoder, rs, steps, at| {
            encoder.copy_buffer_to_buffer(bad, 0, &rs.staging, at, 8);
            let frac = steps as u64 * n * 4;
            encoder.copy_buffer_to_buffer(&rs.ext.spike_frac, 0, &rs.staging, at + 8, frac);
        })?;
        match prev {
            Some(p) => Ok(vec![self.read_batch(p)?]),
            None => Ok(Vec::new()),
        }
    }

    /// See [`crate::backend::Backend::finish`].
    fn finish(&mut self) -> Result<Vec<BatchOutput<f32>>> {
        let mut out = self.end_batch()?;
        if let Some(f) = self.batches.take_in_flight() {
            out.push(self.read_batch(f)?);
        }
        Ok(out)
    }

    fn take_counters(&mut self) -> Option<crate::backend::GpuCounters> {
        Some(std::mem::take(&mut self.batches.counters))
    }

    /// v = v_T·y (mV) of every neuron, as of the work submitted so far.
    fn voltages(&mut self) -> Result<Vec<f64>> {
        let state = self.read_raw_state()?;
        Ok(state
            .iter()
            .zip(&self.v_t)
            .map(|(s, &vt)| (vt * s.y) as f64)
            .collect())
    }

    /// `v_mv` or `w` of every neuron, as of the work submitted so far.
    fn read_state(&mut self, var: StateVar) -> Result<Vec<f64>> {
        match var {
            StateVar::V => self.voltages(),
            StateVar::W => Ok(self.read_raw_state()?.iter().map(|s| s.w as f64).collect()),
            StateVar::Point(_, name) => Err(Error::Usage(format!(
                "state variable '{name}' does not exist in HV neurons"
            ))),
        }
    }

    /// Overwrites `v_mv` or `w` (between runs) and recomputes the coupling of the next
    /// step from the new state on the host, as the CPU backend does.
    fn write_state(&mut self, net: &Network, var: StateVar, values: &[f64]) -> Result<()> {
        let Neurons::Hv(h) = &net.neurons else {
            return Err(Error::Gpu("write_state: not an HV network".into()));
        };
        if let StateVar::Point(_, name) = var {
            return Err(Error::Usage(format!(
                "state variable '{name}' does not exist in HV neurons"
            )));
        }
        let mut state = self.read_raw_state()?;
        for ((s, p), &x) in state.iter_mut().zip(&self.params).zip(values) {
            if var == StateVar::V {
                s.y = (x / p.v_t as f64) as f32;
                s.armed = (x < p.v_spike as f64) as u32;
            } else {
                s.w = x as f32;
            }
        }
        let weight: Vec<f32> = h.incoming.weight.iter().map(|&w| w as f32).collect();
        let mut coupling = vec![0f32; COUPLING_STRIDE * state.len()];
        hv_activate(&self.params, &state, &mut coupling);
        hv_gather(&h.incoming.row_ptr, &h.incoming.src, &weight, &mut coupling);
        let q = self.ctx.queue();
        q.write_buffer(&self.state, 0, &padded(bytemuck::cast_slice(&state)));
        q.write_buffer(&self.coupling, 0, &padded(bytemuck::cast_slice(&coupling)));
        self.ctx.take_error()
    }

    /// Replaces the derived constants by those of `net` (between runs).
    fn write_params(&mut self, net: &Network) -> Result<()> {
        let Neurons::Hv(h) = &net.neurons else {
            return Err(Error::Gpu("write_params: not an HV network".into()));
        };
        self.params = h.params.iter().map(|p| p.cast::<f32>()).collect();
        self.v_t = self.params.iter().map(|p| p.v_t).collect();
        self.ctx.queue().write_buffer(
            &self.params_buf,
            0,
            &padded(bytemuck::cast_slice(&self.params)),
        );
        self.ctx.take_error()
    }

    /// Adds the state and the coupling of the next step to a checkpoint, in the CPU f32
    /// backend's layout ([`crate::backend::cpu::state`]).
    fn save_state(&mut self, ck: &mut crate::checkpoint::Checkpoint) -> Result<()> {
        use crate::backend::cpu::state::{HV_COUPLING, HV_STATE};
        let n = self.v_t.len() as u64;
        ck.put(
            HV_STATE,
            super::batch::download(&self.ctx, &self.state, n * 16)?,
        );
        let c = n * COUPLING_STRIDE as u64 * 4;
        ck.put(
            HV_COUPLING,
            super::batch::download(&self.ctx, &self.coupling, c)?,
        );
        Ok(())
    }

    /// Replaces the state and the coupling by a checkpoint's.
    fn load_state(&mut self, ck: &crate::checkpoint::Checkpoint) -> Result<()> {
        use crate::backend::cpu::state::{HV_COUPLING, HV_STATE};
        let n = self.v_t.len();
        let state = ck.reader(HV_STATE, n, 16)?.rest();
        let coupling = ck.reader(HV_COUPLING, n * COUPLING_STRIDE, 4)?.rest();
        if n > 0 {
            let q = self.ctx.queue();
            q.write_buffer(&self.state, 0, state);
            q.write_buffer(&self.coupling, 0, coupling);
        }
        self.ctx.take_error()
    }

    fn write_sources(&mut self, _net: &Network) -> Result<()> {
        Ok(()) // validated: HV networks have no sources
    }

    fn write_currents(&mut self, _net: &Network, _step: u64) -> Result<()> {
        Ok(()) // validated: HV networks take receptor pulses only
    }
}

impl HvGpu {
    fn read_raw_state(&mut self) -> Result<Vec<HvState<f32>>> {
        let bytes = self.v_t.len() as u64 * size_of::<HvState<f32>>() as u64;
        let mut encoder =
            self.ctx
                .device()
                .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                    label: Some("read hv state"),
                });
        if bytes > 0 {
            encoder.copy_buffer_to_buffer(&self.state, 0, &self.state_staging, 0, bytes);
        }
        let index = self.ctx.queue().submit([encoder.finish()]);
        self.ctx.take_error()?;
        let data = read_mapped(&self.ctx, &self.state_staging, bytes, index)?;
        Ok(bytemuck::pod_collect_to_vec(&data))
    }
}
