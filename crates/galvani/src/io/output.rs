//! Files a run writes: `spikes.csv`, `voltages.csv`, `synaptic.csv` (probes of
//! synaptic variables), `summary.json`.
//!
//! CSVs are streamed batch by batch while the simulation runs (and flushed after each
//! batch, so memory stays flat and a stopped run leaves valid files). `summary.json` is
//! written last: when the run completed, or with `"complete": false` when it was stopped
//! (Ctrl-C); a stale one is removed when a run starts.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::backend::BatchOutput;
use crate::error::{Error, Result};
use crate::network::{Network, PROBE_V};
use crate::real::Real;
use crate::sim::{RunStats, Sink, stamp_ms};

/// Per-neuron inter-spike-interval statistics, accumulated spike by spike in O(neurons)
/// memory (Welford's running mean and sum of squares), for `cv_isi` in `summary.json`.
#[derive(Debug, Clone)]
pub struct IsiStats {
    /// Time of each neuron's last spike (ms), NaN before its first.
    last: Vec<f64>,
    /// ISIs seen per neuron.
    count: Vec<u32>,
    /// Running mean ISI (ms).
    mean: Vec<f64>,
    /// Running sum of squared deviations (ms²).
    m2: Vec<f64>,
}

impl IsiStats {
    /// Empty statistics for `n` neurons.
    pub fn new(n: usize) -> Self {
        IsiStats {
            last: vec![f64::NAN; n],
            count: vec![0; n],
            mean: vec![0.0; n],
            m2: vec![0.0; n],
        }
    }

    /// Records a spike of global neuron `i` at `t_ms` (spikes of a neuron arrive in time order).
    #[inline]
    pub fn spike(&mut self, i: usize, t_ms: f64) {
        let last = self.last[i];
        self.last[i] = t_ms;
        if last.is_nan() {
            return;
        }
        let isi = t_ms - last;
        let c = self.count[i] + 1;
        self.count[i] = c;
        let d = isi - self.mean[i];
        self.mean[i] += d / c as f64;
        self.m2[i] += d * (isi - self.mean[i]);
    }

    /// Coefficient of variation of the ISIs of neurons `range`: the mean, over the
    /// neurons with at least 3 spikes (2 ISIs), of std(ISI)/mean(ISI) (std with 1/n).
    /// Returns (cv, neurons that entered the mean); cv is None when no neuron did.
    pub fn cv(&self, range: std::ops::Range<usize>) -> (Option<f64>, usize) {
        let mut sum = 0.0;
        let mut k = 0usize;
        for i in range {
            let c = self.count[i];
            if c >= 2 && self.mean[i] > 0.0 {
                let sd = (self.m2[i] / c as f64).max(0.0).sqrt();
                sum += sd / self.mean[i];
                k += 1;
            }
        }
        ((k > 0).then(|| sum / k as f64), k)
    }
}

impl IsiStats {
    /// Adds the statistics to a checkpoint (sections `isi.*`).
    pub fn save(&self, ck: &mut crate::checkpoint::Checkpoint) {
        ck.put("isi.last", bytemuck::cast_slice(&self.last).to_vec());
        ck.put("isi.count", bytemuck::cast_slice(&self.count).to_vec());
        ck.put("isi.mean", bytemuck::cast_slice(&self.mean).to_vec());
        ck.put("isi.m2", bytemuck::cast_slice(&self.m2).to_vec());
    }

    /// The statistics of a checkpoint of a network of `n` neurons at step `step` (of
    /// `dt_ms`), checked: a neuron's last spike is before the step's end (or NaN before
    /// its first), it has fewer ISIs than steps, and its running mean and sum of squares
    /// are finite and not negative.
    pub fn load(
        ck: &crate::checkpoint::Checkpoint,
        n: usize,
        step: u64,
        dt_ms: f64,
    ) -> Result<Self> {
        let f = |name: &str| -> Result<Vec<f64>> {
            Ok(bytemuck::pod_collect_to_vec(ck.reader(name, n, 8)?.rest()))
        };
        let me = IsiStats {
            last: f("isi.last")?,
            count: bytemuck::pod_collect_to_vec(ck.reader("isi.count", n, 4)?.rest()),
            mean: f("isi.mean")?,
            m2: f("isi.m2")?,
        };
        let t_end = step as f64 * dt_ms;
        for i in 0..n {
            let (last, c, mean, m2) = (me.last[i], me.count[i], me.mean[i], me.m2[i]);
            let bad = if !(last.is_nan() || (last >= 0.0 && last <= t_end)) {
                Some((
                    "isi.last",
                    format!("{last}, expected a time in [0, {t_end}] ms"),
                ))
            } else if c as u64 > step {
                Some(("isi.count", format!("{c} intervals in {step} steps")))
            } else if !(mean.is_finite() && mean >= 0.0) {
                Some(("isi.mean", format!("{mean}, expected a finite number >= 0")))
            } else if !(m2.is_finite() && m2 >= 0.0) {
                Some(("isi.m2", format!("{m2}, expected a finite number >= 0")))
            } else {
                None
            };
            if let Some((section, msg)) = bad {
                return Err(ck.error(format!("section '{section}': neuron {i}: {msg}")));
            }
        }
        Ok(me)
    }
}

/// Byte lengths of the CSVs of a run (None: the file is not written), as a checkpoint
/// records them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CsvOffsets {
    /// `spikes.csv`.
    pub spikes: u64,
    /// `voltages.csv`.
    pub voltages: Option<u64>,
    /// `synaptic.csv`.
    pub synaptic: Option<u64>,
}

/// Streams spikes and voltages to CSV files in an output folder.
pub struct CsvSink {
    dir: PathBuf,
    spikes: BufWriter<File>,
    voltages: Option<BufWriter<File>>,
    synaptic: Option<BufWriter<File>>,
    /// ISI statistics of every neuron (recorded or not).
    pub isi: IsiStats,
}

impl CsvSink {
    /// Creates `dir` and the CSV files (with headers); removes a stale `summary.json`.
    pub fn create(dir: &Path, net: &Network) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let summary = dir.join("summary.json");
        if summary.exists() {
            std::fs::remove_file(&summary).map_err(|e| Error::io(&summary, e))?;
        }
        let open = |name: &str| -> Result<BufWriter<File>> {
            let p = dir.join(name);
            Ok(BufWriter::with_capacity(
                1 << 20,
                File::create(&p).map_err(|e| Error::io(&p, e))?,
            ))
        };
        let mut spikes = open("spikes.csv")?;
        writeln!(spikes, "time_ms,population,neuron")
            .map_err(|e| Error::io(dir.join("spikes.csv"), e))?;
        let voltages = if !net.probes.iter().any(|p| p.var == PROBE_V) {
            let _ = std::fs::remove_file(dir.join("voltages.csv"));
            None
        } else {
            let mut w = open("voltages.csv")?;
            writeln!(w, "time_ms,population,neuron,v_mv")
                .map_err(|e| Error::io(dir.join("voltages.csv"), e))?;
            Some(w)
        };
        let synaptic = if net.probes.iter().all(|p| p.var == PROBE_V) {
            let _ = std::fs::remove_file(dir.join("synaptic.csv"));
            None
        } else {
            let mut w = open("synaptic.csv")?;
            writeln!(w, "time_ms,population,neuron,variable,value")
                .map_err(|e| Error::io(dir.join("synaptic.csv"), e))?;
            Some(w)
        };
        Ok(CsvSink {
            dir: dir.to_path_buf(),
            spikes,
            voltages,
            synaptic,
            isi: IsiStats::new(net.n),
        })
    }

    /// Reopens the CSVs of `dir` to continue a run from a checkpoint at step `step`
    /// with spike counts `counts`: each is cut back to its checkpoint length and
    /// appended to. Before anything is written, each file must be a regular file at
    /// least that long whose first `at` bytes are its header and exactly the rows a run
    /// writes up to `step` (one per spike of a recorded population, one per sample of a
    /// probe), ending at a row boundary; otherwise resume refuses. The scan stops at a
    /// stop signal.
    pub fn resume(
        dir: &Path,
        net: &Network,
        at: &CsvOffsets,
        step: u64,
        counts: &[u64],
        isi: IsiStats,
    ) -> Result<Self> {
        let (spike_rows, v_rows, syn_rows) = expected_rows(net, step, counts);
        let wanted_v = net.probes.iter().any(|p| p.var == PROBE_V);
        let wanted_syn = !net.probes.iter().all(|p| p.var == PROBE_V);
        let files = [
            ("spikes.csv", Some(at.spikes), true, spike_rows),
            ("voltages.csv", at.voltages, wanted_v, v_rows),
            ("synaptic.csv", at.synaptic, wanted_syn, syn_rows),
        ];
        for (name, len, wanted, rows) in files {
            match (len, wanted) {
                (Some(len), true) => check_prefix(&dir.join(name), len, rows)?,
                (None, false) => {}
                _ => {
                    return Err(Error::Usage(format!(
                        "{}: the checkpoint's {name} does not match the config's [record] section",
                        dir.display()
                    )));
                }
            }
        }
        let summary = dir.join("summary.json");
        if summary.exists() {
            std::fs::remove_file(&summary).map_err(|e| Error::io(&summary, e))?;
        }
        let reopen = |name: &str, len: u64| -> Result<BufWriter<File>> {
            let p = dir.join(name);
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(&p)
                .map_err(|e| Error::io(&p, e))?;
            f.set_len(len).map_err(|e| Error::io(&p, e))?;
            std::io::Seek::seek(&mut f, std::io::SeekFrom::End(0)).map_err(|e| Error::io(&p, e))?;
            Ok(BufWriter::with_capacity(1 << 20, f))
        };
        let opt = |name: &str, len: Option<u64>| len.map(|l| reopen(name, l)).transpose();
        Ok(CsvSink {
            dir: dir.to_path_buf(),
            spikes: reopen("spikes.csv", at.spikes)?,
            voltages: opt("voltages.csv", at.voltages)?,
            synaptic: opt("synaptic.csv", at.synaptic)?,
            isi,
        })
    }

    /// Flushes the files and syncs them to disk; returns their lengths, the offsets a
    /// checkpoint records.
    pub fn sync(&mut self) -> Result<CsvOffsets> {
        self.flush()?;
        let dir = self.dir.clone();
        let sync = |w: &mut BufWriter<File>, name: &str| -> Result<u64> {
            let f = w.get_mut();
            f.sync_data().map_err(|e| Error::io(dir.join(name), e))?;
            Ok(f.metadata()
                .map_err(|e| Error::io(dir.join(name), e))?
                .len())
        };
        Ok(CsvOffsets {
            spikes: sync(&mut self.spikes, "spikes.csv")?,
            voltages: match &mut self.voltages {
                Some(w) => Some(sync(w, "voltages.csv")?),
                None => None,
            },
            synaptic: match &mut self.synaptic {
                Some(w) => Some(sync(w, "synaptic.csv")?),
                None => None,
            },
        })
    }

    fn err(&self, name: &str, e: std::io::Error) -> Error {
        Error::io(self.dir.join(name), e)
    }

    /// Flushes both files.
    pub fn flush(&mut self) -> Result<()> {
        self.spikes.flush().map_err(|e| self.err("spikes.csv", e))?;
        if let Some(v) = &mut self.voltages {
            v.flush()
                .map_err(|e| Error::io(self.dir.join("voltages.csv"), e))?;
        }
        if let Some(v) = &mut self.synaptic {
            v.flush()
                .map_err(|e| Error::io(self.dir.join("synaptic.csv"), e))?;
        }
        Ok(())
    }
}

impl<F: Real> Sink<F> for CsvSink {
    fn initial(&mut self, net: &Network, v: &[f64]) -> Result<()> {
        for (k, p) in net.probes.iter().enumerate() {
            self.sample(net, p, "0.0".into(), v[k])?;
        }
        Ok(())
    }

    fn batch(&mut self, net: &Network, out: &BatchOutput<F>) -> Result<()> {
        for (_, i, t) in out.spike_times(net.dt_ms) {
            self.isi.spike(i, t);
            let (p, local) = net.locate(i);
            let pop = &net.populations[p];
            if pop.record_spikes {
                writeln!(self.spikes, "{t:?},{},{}", pop.name, local)
                    .map_err(|e| Error::io(self.dir.join("spikes.csv"), e))?;
            }
        }
        let np = net.probes.len();
        for s in 0..out.steps as usize {
            let step = out.first_step + s as u64;
            for (k, p) in net.probes.iter().enumerate() {
                if (step + 1).is_multiple_of(p.every as u64) {
                    let v = out.voltages[s * np + k];
                    self.sample(net, p, format!("{:?}", stamp_ms(step, net.dt_ms)), v)?;
                }
            }
        }
        self.flush()
    }
}

impl CsvSink {
    /// One sample of a probe: to `voltages.csv` (v) or `synaptic.csv`.
    fn sample(
        &mut self,
        net: &Network,
        p: &crate::network::Probe,
        t: String,
        v: impl std::fmt::Display,
    ) -> Result<()> {
        let pop = &net.populations[p.pop].name;
        if p.var == PROBE_V {
            if let Some(w) = &mut self.voltages {
                writeln!(w, "{t},{pop},{},{v}", p.neuron)
                    .map_err(|e| Error::io(self.dir.join("voltages.csv"), e))?;
            }
        } else if let Some(w) = &mut self.synaptic {
            writeln!(w, "{t},{pop},{},{},{v}", p.neuron, p.var_name())
                .map_err(|e| Error::io(self.dir.join("synaptic.csv"), e))?;
        }
        Ok(())
    }
}

/// The rows (header not counted) a run writes to `spikes.csv`, `voltages.csv` and
/// `synaptic.csv` up to step `step` with spike counts `counts` per population: one per
/// spike of a recorded population; per probe, the t = 0 sample and one per `every`
/// steps.
pub fn expected_rows(net: &Network, step: u64, counts: &[u64]) -> (u64, u64, u64) {
    let spikes = net
        .populations
        .iter()
        .zip(counts)
        .filter(|(p, _)| p.record_spikes)
        .fold(0u64, |a, (_, &c)| a.saturating_add(c));
    let (mut v, mut syn) = (0u64, 0u64);
    for p in &net.probes {
        let k = 1 + step / p.every.max(1) as u64;
        if p.var == PROBE_V {
            v = v.saturating_add(k);
        } else {
            syn = syn.saturating_add(k);
        }
    }
    (spikes, v, syn)
}

/// Checks that `path` is a regular file of at least `len` bytes whose first `len` bytes
/// are a header and `rows` rows, ending at a row boundary (the state a checkpoint
/// recorded), reading that prefix in pieces and stopping at a stop signal.
fn check_prefix(path: &Path, len: u64, rows: u64) -> Result<()> {
    use std::io::Read;
    let f = crate::checkpoint::open_regular(path, u64::MAX, "an output CSV")?;
    let have = f.metadata().map_err(|e| Error::io(path, e))?.len();
    let refuse = |what: String| {
        Error::Usage(format!(
            "{}: {what}; the output was changed or damaged, or the checkpoint does not belong to it, and the run cannot be resumed",
            path.display()
        ))
    };
    if have < len {
        return Err(refuse(format!(
            "{have} bytes, shorter than the {len} bytes it had at the checkpoint"
        )));
    }
    let mut lines = 0u64;
    let mut last = 0u8;
    let mut buf = vec![0u8; 1 << 20];
    let mut r = f.take(len);
    loop {
        if crate::stop::stop_requested() {
            let signal = crate::stop::stop_signal().unwrap_or(crate::stop::StopSignal::Interrupt);
            return Err(Error::Interrupted {
                signal,
                msg: format!(
                    "interrupted by {} while checking {}; nothing was changed",
                    signal.name(),
                    path.display()
                ),
            });
        }
        let k = r.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if k == 0 {
            break;
        }
        lines += buf[..k].iter().filter(|&&b| b == b'\n').count() as u64;
        last = buf[k - 1];
    }
    if len == 0 || last != b'\n' {
        return Err(refuse(format!(
            "the checkpoint's length {len} does not end a row"
        )));
    }
    if lines != rows + 1 {
        return Err(refuse(format!(
            "its first {len} bytes hold {} rows after the header, the checkpoint's step and spike counts make {rows}",
            lines.saturating_sub(1)
        )));
    }
    Ok(())
}

/// `summary.json`.
#[derive(Debug, serde::Serialize)]
pub struct Summary {
    /// Config file.
    pub config: String,
    /// `"cpu"` / `"gpu"`.
    pub backend: String,
    /// Device description.
    pub device: String,
    /// `"f32"` / `"f64"`.
    pub precision: String,
    /// Host threads the CPU backend ran on (null on the GPU backend).
    pub threads: Option<usize>,
    /// Neurons.
    pub neurons: usize,
    /// Synapses (every connection, multapses counted, as NEST counts them).
    pub synapses: usize,
    /// Connections drawn (multapses counted).
    pub synapses_drawn: u64,
    /// Steps simulated (fewer than `steps_requested` when the run was stopped).
    pub steps: u64,
    /// Steps the config (or `--duration-ms`) asked for.
    pub steps_requested: u64,
    /// Time step (ms).
    pub dt_ms: f64,
    /// Simulated time (ms): steps · dt.
    pub duration_ms: f64,
    /// Seed.
    pub seed: u64,
    /// Total spikes (all populations).
    pub spikes: u64,
    /// Per population.
    pub populations: Vec<PopSummary>,
    /// Wall seconds to build the network and the backend.
    pub build_s: f64,
    /// Wall seconds of the simulation loop (including output streaming).
    pub simulate_s: f64,
    /// Steps per wall second achieved by the simulation loop (output streaming included).
    pub steps_per_s: f64,
    /// Whether the run completed; false when it was stopped (Ctrl-C): the CSVs then hold
    /// every batch up to `duration_ms`.
    pub complete: bool,
    /// Host memory (MB) resident when the run ended: the steady state of the simulation
    /// (network, backend, output buffers), where the platform reports it.
    pub rss_mb: Option<f64>,
    /// Peak host memory (MB) of the process up to then (the build usually sets it).
    pub peak_rss_mb: Option<f64>,
    /// Where `galvani resume` continued the run from (ms); null for a run in one piece.
    /// `build_s`, `simulate_s`, `steps_per_s`, `rss_mb` are then the resuming process's.
    pub resumed_from_ms: Option<f64>,
    /// The GPU backend's counts, per step ([`crate::backend::GpuReport`]); absent on
    /// the CPU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu: Option<crate::backend::GpuReport>,
}

/// Per-population statistics.
#[derive(Debug, serde::Serialize)]
pub struct PopSummary {
    /// Name.
    pub name: String,
    /// Neurons.
    pub size: usize,
    /// Whether its spikes are in spikes.csv.
    pub recorded: bool,
    /// Spikes.
    pub spikes: u64,
    /// Mean rate over neurons and simulated time (Hz).
    pub rate_hz: f64,
    /// Coefficient of variation of inter-spike intervals: the mean, over the neurons with
    /// at least 3 spikes, of std(ISI)/mean(ISI); null when no neuron has 3 spikes.
    pub cv_isi: Option<f64>,
    /// Neurons that entered `cv_isi`.
    pub cv_isi_neurons: usize,
}

impl Summary {
    /// Assembles the summary of a run (stopped or complete); `isi` gives `cv_isi`
    /// (None: null).
    pub fn new(
        config: &Path,
        net: &Network,
        stats: &RunStats,
        isi: Option<&IsiStats>,
        build_s: f64,
    ) -> Self {
        let duration_ms = stats.steps as f64 * net.dt_ms;
        let populations: Vec<PopSummary> = net
            .populations
            .iter()
            .zip(&stats.spikes_per_pop)
            .map(|(p, &s)| {
                let (cv_isi, cv_isi_neurons) = isi
                    .map(|x| x.cv(p.offset..p.offset + p.size))
                    .unwrap_or((None, 0));
                PopSummary {
                    name: p.name.clone(),
                    size: p.size,
                    recorded: p.record_spikes,
                    spikes: s,
                    rate_hz: if duration_ms > 0.0 {
                        s as f64 / p.size as f64 / (duration_ms / 1000.0)
                    } else {
                        0.0
                    },
                    cv_isi,
                    cv_isi_neurons,
                }
            })
            .collect();
        Summary {
            config: config.display().to_string(),
            backend: stats.info.backend.clone(),
            device: stats.info.device.clone(),
            precision: stats.info.precision.to_string(),
            threads: stats.info.threads,
            neurons: net.n,
            synapses: net.synapses.len(),
            synapses_drawn: net.synapses.drawn,
            steps: stats.steps,
            steps_requested: net.steps,
            dt_ms: net.dt_ms,
            duration_ms,
            seed: net.seed,
            spikes: stats.spikes_per_pop.iter().sum(),
            populations,
            build_s,
            simulate_s: stats.simulate_s,
            steps_per_s: if stats.simulate_s > 0.0 {
                stats.steps as f64 / stats.simulate_s
            } else {
                0.0
            },
            complete: stats.complete,
            rss_mb: crate::mem::rss_bytes().map(crate::mem::mb),
            peak_rss_mb: crate::mem::peak_rss_bytes().map(crate::mem::mb),
            resumed_from_ms: None,
            gpu: stats.gpu.map(|c| c.report()),
        }
    }

    /// Writes `dir/summary.json`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let p = dir.join("summary.json");
        let text = serde_json::to_string_pretty(self).expect("summary serialises");
        std::fs::write(&p, text + "\n").map_err(|e| Error::io(&p, e))
    }
}
