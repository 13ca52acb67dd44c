//! The model-dependent part of the GPU spiking-synapse engine ([`super::LifGpu`]): the
//! neuron kernel, its constant table (distinct sets, with an index per neuron), the
//! state buffer's layout, and how V is read from and written to it. LIF has its own
//! kernel (`lif_step`); every point model ([`crate::model::point`]) runs `point_step`
//! with its update spliced in, so a new point model needs nothing here.

use super::pipelines::{KernelSpec, LIF_STEP, POINT_STEP};
use super::shaders;
use crate::backend::cpu::state::{LIF_STATE, POINT_STATE};
use crate::error::{Error, Result};
use crate::model::lif::{self, LifParams, LifState};
use crate::model::point::{ConstTable, SILENT};
use crate::network::{Network, Neurons};
use crate::real::Real;

/// How the state buffer holds a neuron.
#[derive(Debug, Clone)]
pub(super) enum Layout {
    /// [`LifState`] per neuron (u = V − E_L), with E_L per neuron (f32) and whether the
    /// alpha state (`dsyn`) is kept.
    Lif { e_l: Vec<f32>, alpha: bool },
    /// `width` f32 per neuron, V first.
    Point { width: usize },
}

/// A network's neuron kernel and tables (see the module docs).
pub(super) struct GpuCells {
    /// The kernel's bindings and source.
    pub spec: KernelSpec,
    pub source: String,
    /// The distinct constant sets, as the kernel reads them.
    pub table: Vec<u8>,
    /// Bytes per set.
    pub set_bytes: u64,
    /// Each neuron's set.
    pub index: Vec<u32>,
    /// The initial state buffer.
    pub state0: Vec<u8>,
    /// Bytes per neuron in it.
    pub state_bytes: u64,
    /// Its checkpoint section.
    pub section: &'static str,
    pub layout: Layout,
}

impl GpuCells {
    /// The kernel and tables of `net` (`int64`: the device has SHADER_INT64).
    pub fn of(net: &Network, int64: bool) -> Result<GpuCells> {
        let (table, index, set_bytes) = tables(net);
        Ok(match &net.neurons {
            Neurons::Lif { params, v0 } => {
                let state0: Vec<LifState<f32>> = params
                    .iter()
                    .zip(v0)
                    .map(|(p, &v)| lif::initial_state::<f32>(v, p.e_l))
                    .collect();
                GpuCells {
                    spec: LIF_STEP,
                    source: shaders::kernel_source_for("lif_step", shaders::DEFAULT_CHUNKS, int64)
                        .map_err(Error::Gpu)?,
                    table,
                    set_bytes,
                    index,
                    state0: bytemuck::cast_slice(&state0).to_vec(),
                    state_bytes: size_of::<LifState<f32>>() as u64,
                    section: LIF_STATE,
                    layout: Layout::Lif {
                        e_l: params.iter().map(|p| p.e_l as f32).collect(),
                        alpha: lif::has_alpha(params),
                    },
                }
            }
            Neurons::Point(p) => {
                let state0: Vec<f32> = p.state0.iter().map(|&x| f32::of(x).flush()).collect();
                GpuCells {
                    spec: POINT_STEP,
                    source: shaders::point_source(p.dynamics, int64).map_err(Error::Gpu)?,
                    table,
                    set_bytes,
                    index,
                    state0: bytemuck::cast_slice(&state0).to_vec(),
                    state_bytes: 4 * p.width() as u64,
                    section: POINT_STATE,
                    layout: Layout::Point { width: p.width() },
                }
            }
            Neurons::Hv(_) => unreachable!("HV networks run hv::HvGpu"),
        })
    }

    /// Whether the LIF alpha state is kept (`dsyn`, 2 f32 per neuron).
    pub fn alpha(&self) -> bool {
        matches!(self.layout, Layout::Lif { alpha: true, .. })
    }

    /// State variable `var` (0: V in mV) of every neuron from the state buffer's bytes.
    pub fn values(&self, raw: &[u8], var: usize) -> Vec<f64> {
        match &self.layout {
            Layout::Lif { e_l, .. } => {
                let s: Vec<LifState<f32>> = bytemuck::pod_collect_to_vec(raw);
                s.iter().zip(e_l).map(|(s, &e)| (s.u + e) as f64).collect()
            }
            Layout::Point { width } => {
                let s: Vec<f32> = bytemuck::pod_collect_to_vec(raw);
                s.chunks_exact(*width).map(|x| x[var] as f64).collect()
            }
        }
    }

    /// The state buffer's bytes with variable `var` set to `values` (rounded as the CPU
    /// does).
    pub fn with_values(&self, raw: &[u8], var: usize, values: &[f64]) -> Vec<u8> {
        match &self.layout {
            Layout::Lif { e_l, .. } => {
                let mut s: Vec<LifState<f32>> = bytemuck::pod_collect_to_vec(raw);
                for ((s, &e), &v) in s.iter_mut().zip(e_l).zip(values) {
                    // as the CPU computes u (in f64, then rounded once)
                    s.u = Real::flush((v - e as f64) as f32);
                }
                bytemuck::cast_slice(&s).to_vec()
            }
            Layout::Point { width } => {
                let mut s: Vec<f32> = bytemuck::pod_collect_to_vec(raw);
                for (x, &v) in s.chunks_exact_mut(*width).zip(values) {
                    x[var] = Real::flush(v as f32);
                }
                bytemuck::cast_slice(&s).to_vec()
            }
        }
    }

    /// New constants from `net` (after a parameter change): the table and index again,
    /// and for LIF E_L.
    pub fn rederive(&mut self, net: &Network) {
        let (table, index, _) = tables(net);
        self.table = table;
        self.index = index;
        if let (Layout::Lif { e_l, .. }, Neurons::Lif { params, .. }) =
            (&mut self.layout, &net.neurons)
        {
            *e_l = params.iter().map(|p| p.e_l as f32).collect();
        }
    }

    /// The number of distinct sets.
    pub fn sets(&self) -> usize {
        self.table.len() / self.set_bytes as usize
    }
}

/// The distinct constant sets of `net` in f32 (the kernel's table, as bytes), each
/// neuron's index into them, and the bytes per set. Sets equal bit for bit share an
/// entry, so the kernel computes with exactly the neuron's own values.
pub(super) fn tables(net: &Network) -> (Vec<u8>, Vec<u32>, u64) {
    match &net.neurons {
        Neurons::Lif { params, .. } => {
            let p32: Vec<LifParams<f32>> = params.iter().map(|p| p.cast::<f32>()).collect();
            let (table, index) = super::param_table(&p32);
            (
                bytemuck::cast_slice(&table).to_vec(),
                index,
                size_of::<LifParams<f32>>() as u64,
            )
        }
        Neurons::Point(p) => {
            // the f64 sets may round to equal f32 sets: distinct again in f32
            let k = p.dynamics.n_consts();
            let mut t = ConstTable::default();
            let remap: Vec<u32> = p
                .consts
                .chunks_exact(k)
                .map(|c| t.index(c.iter().map(|&x| x as f32 as f64).collect()))
                .collect();
            let index = p
                .set
                .iter()
                .map(|&s| {
                    if s == SILENT {
                        SILENT
                    } else {
                        remap[s as usize]
                    }
                })
                .collect();
            let table: Vec<f32> = t.consts.iter().map(|&x| x as f32).collect();
            (bytemuck::cast_slice(&table).to_vec(), index, 4 * k as u64)
        }
        Neurons::Hv(_) => (Vec::new(), Vec::new(), 1),
    }
}
