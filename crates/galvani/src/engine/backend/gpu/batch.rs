//! Batching and pipelined readback shared by the LIF kernels ([`super::LifGpu`]) and the
//! HV kernels ([`super::hv::HvGpu`]): the per-step uniforms and probe entries written
//! once per batch, the encoder and compute pass of the open batch, the two record sets
//! and the batch in flight (see the module docs of [`super`]). Each model adds its own
//! buffers to a record set (`X`), its own copies to the staging buffer and its own
//! decoding of what follows the spike and voltage rows.

use std::sync::mpsc;

use super::context::GpuContext;
use super::layout::{GpuProbe, STEP_STRIDE, StepUniform};
use crate::backend::{BatchOutput, GpuCounters, SpikeRows};
use crate::error::{Error, Result};
use crate::network::Network;

/// Record buffers of one batch in flight: written by the kernels, copied to `staging`
/// (spike rows, then voltage rows, then the model's data); `ext` holds the model's
/// buffers and bind groups of this set.
pub(super) struct RecordSet<X> {
    pub spike_bits: wgpu::Buffer,
    /// The batch's spike lists (LIF): `[total, a count per row, ids…]`, read back in
    /// place of the bits when the spikes are few enough; None where the model writes
    /// only bits (HV).
    pub spike_rec: Option<wgpu::Buffer>,
    pub volt: wgpu::Buffer,
    pub staging: wgpu::Buffer,
    pub ext: X,
}

/// The batch being encoded.
pub(super) struct OpenBatch {
    // Declared before `encoder`: the pass must end (drop) before the encoder finishes.
    pass: Option<wgpu::ComputePass<'static>>,
    pub encoder: wgpu::CommandEncoder,
    pub first_step: u64,
    pub steps: u32,
    pub set: usize,
    /// The compute pass's label.
    label: &'static str,
    /// Commands encoded so far (clears, dispatches, copies) and of those dispatches
    /// ([`GpuCounters`]); a model adds its dispatches with [`OpenBatch::dispatched`].
    commands: u64,
    dispatches: u64,
    /// Spike ids the batch reads back with its lists' header (0: it reads back bit rows).
    rec_cap: u32,
}

impl OpenBatch {
    /// The open compute pass.
    pub fn pass(&mut self) -> &mut wgpu::ComputePass<'static> {
        self.pass.as_mut().expect("an open batch has a pass")
    }

    /// Counts `k` dispatches encoded into the pass.
    pub fn dispatched(&mut self, k: u64) {
        self.dispatches += k;
        self.commands += k;
    }

    /// Ends the compute pass, lets `f` encode commands outside it (buffer copies, one
    /// counted), and opens a new pass.
    pub fn outside_pass(&mut self, f: impl FnOnce(&mut wgpu::CommandEncoder)) {
        drop(self.pass.take());
        self.commands += 1;
        f(&mut self.encoder);
        self.pass = Some(open_pass(&mut self.encoder, self.label));
    }
}

fn open_pass(
    encoder: &mut wgpu::CommandEncoder,
    label: &'static str,
) -> wgpu::ComputePass<'static> {
    encoder
        .begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(label),
            timestamp_writes: None,
        })
        .forget_lifetime()
}

/// A submitted batch whose output has not been read yet.
pub(super) struct InFlight {
    pub first_step: u64,
    pub steps: u32,
    pub set: usize,
    index: wgpu::SubmissionIndex,
    rec_cap: u32,
}

/// The batch bookkeeping of one backend: uniforms, probes, record sets, the open batch
/// and the batch in flight.
pub(super) struct Batches<X> {
    ctx: GpuContext,
    uniforms: wgpu::Buffer,
    probe_buf: wgpu::Buffer,
    pub sets: [RecordSet<X>; 2],
    pub base: StepUniform,
    /// (global neuron, every) per probe.
    pub probes: Vec<(u32, u32, u32)>,
    /// The distinct sampling intervals, to skip the record kernel when no probe is due.
    everys: Vec<u32>,
    batch_cap: u32,
    batches: u64,
    /// Spikes per step of the last batch read (None before the first), to size the
    /// next batches' spike lists.
    rate: Option<f64>,
    /// What was encoded and moved since the backend's last `take_counters`.
    pub counters: GpuCounters,
    open: Option<OpenBatch>,
    in_flight: Option<InFlight>,
}

impl<X> Batches<X> {
    /// Batches of up to `batch_cap` steps of `net`, with the uniform buffer `uniforms`
    /// (`batch_cap` × [`STEP_STRIDE`] bytes) and the probe buffer `probe_buf` that the
    /// kernels of `sets` bind.
    pub fn new(
        ctx: &GpuContext,
        net: &Network,
        base: StepUniform,
        batch_cap: u32,
        uniforms: wgpu::Buffer,
        probe_buf: wgpu::Buffer,
        sets: [RecordSet<X>; 2],
    ) -> Self {
        let mut everys: Vec<u32> = net.probes.iter().map(|p| p.every.max(1)).collect();
        everys.sort_unstable();
        everys.dedup();
        Batches {
            ctx: ctx.clone(),
            uniforms,
            probe_buf,
            sets,
            base,
            probes: net
                .probes
                .iter()
                .map(|p| (p.global as u32, p.every.max(1), p.var))
                .collect(),
            everys,
            batch_cap,
            batches: 0,
            rate: None,
            counters: GpuCounters::default(),
            open: None,
            in_flight: None,
        }
    }

    /// Fails unless a batch of `steps` steps can begin now.
    pub fn check(&self, steps: u32) -> Result<()> {
        if self.open.is_some() {
            return Err(Error::Gpu(
                "begin_batch: the previous batch was not ended".into(),
            ));
        }
        if steps == 0 || steps > self.batch_cap {
            return Err(Error::Gpu(format!(
                "begin_batch: {steps} steps; this backend runs batches of 1 to {} steps",
                self.batch_cap
            )));
        }
        Ok(())
    }

    /// Opens a batch (after [`check`](Self::check)): writes its uniforms and probe
    /// entries, creates the encoder (labelled `label`), clears the record rows of its set
    /// and opens the compute pass (labelled `pass_label`).
    pub fn begin(
        &mut self,
        first_step: u64,
        steps: u32,
        label: &str,
        pass_label: &'static str,
    ) -> Result<()> {
        self.check(steps)?;
        let set = (self.batches % 2) as usize;
        let rec_cap = if self.sets[set].spike_rec.is_some() {
            self.list_capacity(steps)
        } else {
            0
        };
        self.base.rec_at = 1 + steps;
        let queue = self.ctx.queue();
        // One StepUniform per step, 256 bytes apart; applied before this batch's submit
        // and after the previous one (queue order), so one buffer serves every batch.
        let mut uni = vec![0u8; steps as usize * STEP_STRIDE as usize];
        for r in 0..steps as usize {
            let step = first_step + r as u64;
            let mut e = StepUniform::for_step(self.base, first_step, step);
            e.probe_due = self.probe_due(step) as u32;
            let at = r * STEP_STRIDE as usize;
            uni[at..at + size_of::<StepUniform>()].copy_from_slice(bytemuck::bytes_of(&e));
        }
        queue.write_buffer(&self.uniforms, 0, &uni);
        self.counters.upload_bytes += uni.len() as u64;
        self.counters.steps += steps as u64;
        let mut commands = 1; // the spike rows' clear
        let has_rec = self.sets[set].spike_rec.is_some();
        commands += has_rec as u64; // the spike lists' counts
        if !self.probes.is_empty() {
            let p: Vec<GpuProbe> = self
                .probes
                .iter()
                .map(|&(g, every, var)| GpuProbe::for_batch(g, every, var, first_step))
                .collect();
            queue.write_buffer(&self.probe_buf, 0, bytemuck::cast_slice(&p));
            self.counters.upload_bytes += (p.len() * size_of::<GpuProbe>()) as u64;
            commands += 1; // the voltage rows' clear
        }
        let mut encoder = self
            .ctx
            .device()
            .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
        let rs = &self.sets[set];
        // The bits are written even when the lists are read: they are the fallback
        // when a batch has more spikes than its lists hold.
        encoder.clear_buffer(
            &rs.spike_bits,
            0,
            Some(steps as u64 * self.base.words as u64 * 4),
        );
        if let Some(rec) = &rs.spike_rec {
            encoder.clear_buffer(rec, 0, Some((1 + steps as u64) * 4));
        }
        if !self.probes.is_empty() {
            encoder.clear_buffer(
                &rs.volt,
                0,
                Some(steps as u64 * self.probes.len() as u64 * 4),
            );
        }
        let pass = open_pass(&mut encoder, pass_label);
        self.open = Some(OpenBatch {
            pass: Some(pass),
            encoder,
            first_step,
            steps,
            set,
            label: pass_label,
            commands,
            dispatches: 0,
            rec_cap,
        });
        Ok(())
    }

    /// The spike ids a batch of `steps` steps reads back in place of its bit rows: twice
    /// the last batch's spikes per step (none before the first), plus 8 a step; 0, i.e.
    /// the bit rows, where those are no larger. A batch with more spikes reads the rest
    /// in a second copy ([`Batches::read`]).
    fn list_capacity(&self, steps: u32) -> u32 {
        let words = self.base.words as u64;
        let rate = self.rate.unwrap_or(0.0);
        let cap = (2.0 * rate * steps as f64).ceil() as u64 + 8 * steps as u64;
        // the list's header (total and a count per row) and ids against the bit rows;
        // the device buffer holds as many ids as the bit rows hold words
        if 1 + steps as u64 + cap < steps as u64 * words {
            cap as u32
        } else {
            0
        }
    }

    /// The open batch, its record set and the uniform offset of `step`, which must lie
    /// in the batch.
    pub fn stage(&mut self, step: u64) -> Result<(&mut OpenBatch, &RecordSet<X>, u32)> {
        let Some(b) = self.open.as_mut() else {
            return Err(Error::Gpu("run_stage outside a batch".into()));
        };
        if step < b.first_step || step >= b.first_step + b.steps as u64 {
            return Err(Error::Gpu(format!(
                "run_stage: step {step} is outside the batch {}..{}",
                b.first_step,
                b.first_step + b.steps as u64
            )));
        }
        let offset = ((step - b.first_step) * STEP_STRIDE) as u32;
        let set = b.set;
        Ok((b, &self.sets[set], offset))
    }

    /// Whether a probe samples at the end of `step`.
    pub fn probe_due(&self, step: u64) -> bool {
        self.everys
            .iter()
            .any(|&e| (step + 1).is_multiple_of(e as u64))
    }

    /// Ends the open batch, if any: copies its spike and voltage rows to the staging
    /// buffer, lets `extra` encode the model's copies (`extra_copies` of them; given
    /// the set, the batch's steps and the staging offset after the rows), submits, and
    /// returns the previous batch in flight, now to be read.
    pub fn submit(
        &mut self,
        extra_copies: u64,
        extra: impl FnOnce(&mut wgpu::CommandEncoder, &RecordSet<X>, u32, u64),
    ) -> Result<Option<InFlight>> {
        let Some(mut b) = self.open.take() else {
            return Ok(None);
        };
        drop(b.pass.take());
        let rs = &self.sets[b.set];
        let bits_bytes = spike_bytes(b.steps, self.base.words, b.rec_cap);
        let volt_bytes = b.steps as u64 * self.probes.len() as u64 * 4;
        match (&rs.spike_rec, b.rec_cap) {
            (Some(rec), 1..) => b
                .encoder
                .copy_buffer_to_buffer(rec, 0, &rs.staging, 0, bits_bytes),
            _ => b
                .encoder
                .copy_buffer_to_buffer(&rs.spike_bits, 0, &rs.staging, 0, bits_bytes),
        }
        if volt_bytes > 0 {
            b.encoder
                .copy_buffer_to_buffer(&rs.volt, 0, &rs.staging, bits_bytes, volt_bytes);
        }
        extra(&mut b.encoder, rs, b.steps, bits_bytes + volt_bytes);
        let commands = b.commands + 1 + (volt_bytes > 0) as u64 + extra_copies;
        self.counters.dispatches += b.dispatches;
        self.counters.barriers += commands - 1;
        let index = self.ctx.queue().submit([b.encoder.finish()]);
        self.batches += 1;
        self.ctx.take_error()?;
        Ok(self.in_flight.replace(InFlight {
            first_step: b.first_step,
            steps: b.steps,
            set: b.set,
            index,
            rec_cap: b.rec_cap,
        }))
    }

    /// Whether a batch is open (begun, not submitted).
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// The last batch submitted, if it has not been read.
    pub fn take_in_flight(&mut self) -> Option<InFlight> {
        self.in_flight.take()
    }

    /// Waits for the submitted batch `f` and reads its staging buffer: the spike and
    /// voltage rows, decoded, then the `extra` bytes of model data after them, which
    /// `decode` reads into the output.
    pub fn read(
        &mut self,
        f: InFlight,
        extra: u64,
        decode: impl FnOnce(&mut BatchOutput<f32>, &[u8]) -> Result<()>,
    ) -> Result<BatchOutput<f32>> {
        let words = self.base.words as usize;
        let bits_bytes = spike_bytes(f.steps, self.base.words, f.rec_cap);
        let volt_bytes = f.steps as u64 * self.probes.len() as u64 * 4;
        self.counters.readback_bytes += bits_bytes + volt_bytes + extra;
        let data = read_mapped(
            &self.ctx,
            &self.sets[f.set].staging,
            bits_bytes + volt_bytes + extra,
            f.index,
        )?;
        let (bits, rest) = data.split_at(bits_bytes as usize);
        let (volt, rest) = rest.split_at(volt_bytes as usize);
        let spikes = if f.rec_cap == 0 {
            SpikeRows::Bits {
                bits: bytemuck::pod_collect_to_vec(bits),
                words,
            }
        } else {
            let mut rec: Vec<u32> = bytemuck::pod_collect_to_vec(bits);
            let total = rec[0];
            self.rate = Some(total as f64 / f.steps as f64);
            let rs = &self.sets[f.set];
            if total <= f.rec_cap {
                spike_lists(&rec, f.steps)?
            } else if total <= self.base.rec_cap {
                // More spikes than the copy held, all of them in the device's list (which
                // the set keeps until its next batch begins): the rest in a second copy.
                let at = (rec.len() as u64) * 4;
                let bytes = (total - f.rec_cap) as u64 * 4;
                self.counters.readback_bytes += bytes;
                let rec_buf = rs
                    .spike_rec
                    .as_ref()
                    .expect("lists come from a spike record");
                let more = download_into(&self.ctx, rec_buf, at, &rs.staging, bytes)?;
                rec.extend_from_slice(&bytemuck::pod_collect_to_vec::<u8, u32>(&more));
                spike_lists(&rec, f.steps)?
            } else {
                // More spikes than the device's list holds: the batch's bit rows.
                let bytes = f.steps as u64 * words as u64 * 4;
                self.counters.readback_bytes += bytes;
                let bits = download_into(&self.ctx, &rs.spike_bits, 0, &rs.staging, bytes)?;
                SpikeRows::Bits {
                    bits: bytemuck::pod_collect_to_vec(&bits),
                    words,
                }
            }
        };
        let mut out = BatchOutput {
            first_step: f.first_step,
            steps: f.steps,
            spikes,
            voltages: bytemuck::pod_collect_to_vec(volt),
            interp: Vec::new(),
        };
        decode(&mut out, rest)?;
        Ok(out)
    }
}

/// Bytes of a batch's spike readback: the bit rows, or with `rec_cap` > 0 the lists'
/// header (total and a count per row) and `rec_cap` ids.
fn spike_bytes(steps: u32, words: u32, rec_cap: u32) -> u64 {
    if rec_cap == 0 {
        steps as u64 * words as u64 * 4
    } else {
        (1 + steps as u64 + rec_cap as u64) * 4
    }
}

/// The rows of a spike record `[total, count per row (steps), ids…]` (total within the
/// ids read), each row's ids sorted: the device appends them in no particular order.
fn spike_lists(rec: &[u32], steps: u32) -> Result<SpikeRows> {
    let steps = steps as usize;
    let total = rec[0] as usize;
    let at = 1 + steps;
    let mut ptr = Vec::with_capacity(steps + 1);
    ptr.push(0u32);
    let mut sum = 0usize;
    for &c in &rec[1..at] {
        sum += c as usize;
        ptr.push(sum as u32);
    }
    if sum != total || at + total > rec.len() {
        return Err(Error::Gpu(format!(
            "the spike record is inconsistent: {total} spikes, {sum} in its rows"
        )));
    }
    let mut ids = rec[at..at + total].to_vec();
    for w in ptr.windows(2) {
        ids[w[0] as usize..w[1] as usize].sort_unstable();
    }
    Ok(SpikeRows::Lists { ptr, ids })
}

/// Waits for submission `index`, having asked for `buffer`'s first `bytes` to be mapped,
/// and returns a copy of them.
pub(super) fn read_mapped(
    ctx: &GpuContext,
    buffer: &wgpu::Buffer,
    bytes: u64,
    index: wgpu::SubmissionIndex,
) -> Result<Vec<u8>> {
    if bytes == 0 {
        return Ok(Vec::new());
    }
    let slice = buffer.slice(0..bytes);
    let (tx, rx) = mpsc::channel();
    slice.map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    let device = ctx.device();
    let poll_err = |e: wgpu::PollError| Error::Gpu(format!("waiting for the device: {e}"));
    device
        .poll(wgpu::PollType::Wait {
            submission_index: Some(index),
            timeout: None,
        })
        .map_err(poll_err)?;
    let mapped = match rx.try_recv() {
        Ok(r) => r,
        Err(_) => {
            // The map callback fires on a later poll on some backends.
            device
                .poll(wgpu::PollType::wait_indefinitely())
                .map_err(poll_err)?;
            rx.recv()
                .map_err(|_| Error::Gpu("a buffer map was never answered".into()))?
        }
    };
    mapped.map_err(|e| Error::Gpu(format!("mapping a readback buffer: {e}")))?;
    let data = {
        let view = slice
            .get_mapped_range()
            .map_err(|e| Error::Gpu(format!("reading a mapped buffer: {e}")))?;
        view.to_vec()
    };
    buffer.unmap();
    ctx.take_error()?;
    Ok(data)
}

/// A copy of `bytes` of `buffer` from `offset` on, through `staging` (unmapped, large
/// enough), waiting for the device.
fn download_into(
    ctx: &GpuContext,
    buffer: &wgpu::Buffer,
    offset: u64,
    staging: &wgpu::Buffer,
    bytes: u64,
) -> Result<Vec<u8>> {
    if bytes == 0 {
        return Ok(Vec::new());
    }
    let mut encoder = ctx
        .device()
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("download"),
        });
    encoder.copy_buffer_to_buffer(buffer, offset, staging, 0, bytes);
    let index = ctx.queue().submit([encoder.finish()]);
    ctx.take_error()?;
    read_mapped(ctx, staging, bytes, index)
}

/// A copy of `buffer`'s first `bytes` (a multiple of 4), through a temporary staging
/// buffer: for checkpoints, between runs.
pub(super) fn download(ctx: &GpuContext, buffer: &wgpu::Buffer, bytes: u64) -> Result<Vec<u8>> {
    if bytes == 0 {
        return Ok(Vec::new());
    }
    let staging = ctx.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("checkpoint staging"),
        size: bytes,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    download_into(ctx, buffer, 0, &staging, bytes)
}

/// Closes the two error scopes opened around a backend's uploads (validation, the inner
/// one, first) and turns what they caught into an error; `what` names the network for
/// the out-of-memory message.
pub(super) fn end_upload(
    ctx: &GpuContext,
    oom: wgpu::ErrorScopeGuard,
    val: wgpu::ErrorScopeGuard,
    what: impl FnOnce() -> String,
) -> Result<()> {
    let val = pollster::block_on(val.pop());
    let oom = pollster::block_on(oom.pop());
    if let Some(e) = oom {
        return Err(Error::Gpu(format!(
            "out of device memory while uploading {}: {e}",
            what()
        )));
    }
    if let Some(e) = val {
        return Err(Error::Gpu(format!("creating the device buffers: {e}")));
    }
    ctx.take_error()
}
