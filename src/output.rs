//! Files a run writes: `spikes.csv`, `voltages.csv`, `summary.json`.
//!
//! CSVs are streamed batch by batch while the simulation runs. `summary.json` is written
//! last, only when the run completed; a stale one is removed when a run starts.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::backend::BatchOutput;
use crate::error::{Error, Result};
use crate::network::Network;
use crate::real::Real;
use crate::sim::{RunStats, Sink, stamp_ms};

/// Streams spikes and voltages to CSV files in an output folder.
pub struct CsvSink {
    dir: PathBuf,
    spikes: BufWriter<File>,
    voltages: Option<BufWriter<File>>,
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
        let voltages = if net.probes.is_empty() {
            let _ = std::fs::remove_file(dir.join("voltages.csv"));
            None
        } else {
            let mut w = open("voltages.csv")?;
            writeln!(w, "time_ms,population,neuron,v_mv")
                .map_err(|e| Error::io(dir.join("voltages.csv"), e))?;
            Some(w)
        };
        Ok(CsvSink {
            dir: dir.to_path_buf(),
            spikes,
            voltages,
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
        Ok(())
    }
}

impl<F: Real> Sink<F> for CsvSink {
    fn initial(&mut self, net: &Network, v: &[f64]) -> Result<()> {
        if let Some(w) = &mut self.voltages {
            for (k, p) in net.probes.iter().enumerate() {
                writeln!(
                    w,
                    "0.0,{},{},{}",
                    net.populations[p.pop].name, p.neuron, v[k]
                )
                .map_err(|e| Error::io(self.dir.join("voltages.csv"), e))?;
            }
        }
        Ok(())
    }

    fn batch(&mut self, net: &Network, out: &BatchOutput<F>) -> Result<()> {
        for (step, i) in out.spikes() {
            let (p, local) = net.locate(i);
            let pop = &net.populations[p];
            if pop.record_spikes {
                writeln!(
                    self.spikes,
                    "{:?},{},{}",
                    stamp_ms(step, net.dt_ms),
                    pop.name,
                    local
                )
                .map_err(|e| Error::io(self.dir.join("spikes.csv"), e))?;
            }
        }
        if let Some(w) = &mut self.voltages {
            let np = net.probes.len();
            for s in 0..out.steps as usize {
                let step = out.first_step + s as u64;
                for (k, p) in net.probes.iter().enumerate() {
                    if (step + 1) % p.every as u64 == 0 {
                        let v = out.voltages[s * np + k];
                        writeln!(
                            w,
                            "{:?},{},{},{}",
                            stamp_ms(step, net.dt_ms),
                            net.populations[p.pop].name,
                            p.neuron,
                            v
                        )
                        .map_err(|e| Error::io(self.dir.join("voltages.csv"), e))?;
                    }
                }
            }
        }
        self.flush()
    }
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
    /// Neurons.
    pub neurons: usize,
    /// Stored synapses (multapses merged).
    pub synapses: usize,
    /// Connections drawn (multapses counted).
    pub synapses_drawn: u64,
    /// Steps simulated.
    pub steps: u64,
    /// Time step (ms).
    pub dt_ms: f64,
    /// Simulated time (ms).
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
    /// Steps per wall second.
    pub steps_per_s: f64,
    /// Whether the run completed.
    pub complete: bool,
}

/// Per-population counts.
#[derive(Debug, serde::Serialize)]
pub struct PopSummary {
    /// Name.
    pub name: String,
    /// Neurons.
    pub size: usize,
    /// Spikes.
    pub spikes: u64,
    /// Mean rate (Hz).
    pub rate_hz: f64,
}

impl Summary {
    /// Assembles the summary of a finished run.
    pub fn new(config: &Path, net: &Network, stats: &RunStats, build_s: f64) -> Self {
        let duration_ms = net.steps as f64 * net.dt_ms;
        let populations: Vec<PopSummary> = net
            .populations
            .iter()
            .zip(&stats.spikes_per_pop)
            .map(|(p, &s)| PopSummary {
                name: p.name.clone(),
                size: p.size,
                spikes: s,
                rate_hz: if duration_ms > 0.0 {
                    s as f64 / p.size as f64 / (duration_ms / 1000.0)
                } else {
                    0.0
                },
            })
            .collect();
        Summary {
            config: config.display().to_string(),
            backend: stats.info.backend.clone(),
            device: stats.info.device.clone(),
            precision: stats.info.precision.to_string(),
            neurons: net.n,
            synapses: net.synapses.len(),
            synapses_drawn: net.synapses.drawn,
            steps: net.steps,
            dt_ms: net.dt_ms,
            duration_ms,
            seed: net.seed,
            spikes: stats.spikes_per_pop.iter().sum(),
            populations,
            build_s,
            simulate_s: stats.simulate_s,
            steps_per_s: if stats.simulate_s > 0.0 {
                net.steps as f64 / stats.simulate_s
            } else {
                0.0
            },
            complete: true,
        }
    }

    /// Writes `dir/summary.json`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let p = dir.join("summary.json");
        let text = serde_json::to_string_pretty(self).expect("summary serialises");
        std::fs::write(&p, text + "\n").map_err(|e| Error::io(&p, e))
    }
}
