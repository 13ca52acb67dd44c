//! The compact synapse table: the synapses onto one partition's neurons (the whole
//! network, for the GPU), CSR by *global* presynaptic neuron so that a partition reads
//! the shared list of the step's spikes directly. Within a row, the order of the
//! network's rows ([`crate::connectivity::Synapses::row`]).
//!
//! Each synapse is one `u32` word: the local target `2·post + receptor` in the low
//! `shift` bits and, above them, either
//! - [`Values::Palette`]: the index of its (weight, delay) pair in a small table, when
//!   every projection has a constant weight and delay: **4 bytes per synapse**;
//! - [`Values::Packed`]: its delay in steps, with the weight in a second array
//!   (accumulator units: i32 in f32 runs, f64 in f64 runs): **8 bytes per synapse** in
//!   f32, 12 in f64;
//! - [`Values::Wide`]: nothing, when the longest delay does not fit the spare bits
//!   (delays then in a third array: 12 bytes per synapse in f32).
//!
//! Row offsets are `usize`: nothing overflows at 2^32 synapses. The layout is chosen
//! per table from the network; the arithmetic of `propagate` does not depend on it.

use crate::connectivity::Row;
use crate::network::Network;
use crate::real::Real;

use super::Partition;

/// Where a synapse's weight and delay live.
#[derive(Clone, Debug, PartialEq)]
pub enum Values<A> {
    /// `word >> shift` indexes `palette`: (weight, delay).
    Palette {
        /// Bits of the target.
        shift: u32,
        /// The distinct (weight, delay) pairs.
        palette: Vec<(A, u32)>,
    },
    /// `word >> shift` is the delay; the weight is `weight[k]`.
    Packed {
        /// Bits of the target.
        shift: u32,
        /// Weight per synapse.
        weight: Vec<A>,
    },
    /// `word` is the target; weight and delay per synapse.
    Wide {
        /// Weight per synapse.
        weight: Vec<A>,
        /// Delay per synapse (steps).
        delay: Vec<u32>,
    },
}

/// The synapses onto one partition's neurons, in working precision (weights converted
/// once to accumulator units), in the layout of the module doc.
pub struct CpuSynapses<F: Real> {
    /// Row start per presynaptic neuron (length n + 1).
    pub row_ptr: Vec<usize>,
    /// `target | extra << shift` per synapse (`target = 2·post + receptor`, post local).
    pub word: Vec<u32>,
    /// Weights and delays.
    pub values: Values<F::Acc>,
}

/// Bits that hold `2·len` local targets (at least 1).
pub fn target_bits(len: usize) -> u32 {
    let max = (2 * len).saturating_sub(1).max(1) as u64;
    64 - max.leading_zeros()
}

/// A layout forced on every table built from now on (tests: the layouts a network would
/// not choose by itself); `None` returns to the automatic choice. Process-wide.
#[doc(hidden)]
pub fn force_layout(layout: Option<&str>) {
    let code = match layout {
        Some("palette") => 1,
        Some("packed") => 2,
        Some("wide") => 3,
        _ => 0,
    };
    FORCED.store(code, std::sync::atomic::Ordering::SeqCst);
}

static FORCED: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// The layout a table onto `len` neurons takes: `Palette` when every projection's values
/// are constant and their distinct pairs fit the spare bits, else `Packed` when the
/// longest delay fits them, else `Wide`. Returns the empty `Values` and the palette
/// code per projection (palette layout only).
pub fn choose_layout<A: Copy + PartialEq>(
    net: &Network,
    len: usize,
    to_acc: impl Fn(f64) -> A,
) -> (Values<A>, Vec<u32>) {
    let shift = target_bits(len);
    let spare = 32 - shift;
    let room = if spare == 0 { 0 } else { 1u64 << spare };
    let forced = FORCED.load(std::sync::atomic::Ordering::SeqCst);
    let constants = net.synapses.constants();
    if forced <= 1 && spare > 0 && constants.iter().all(Option::is_some) {
        let mut palette: Vec<(A, u32)> = Vec::new();
        let mut codes = Vec::with_capacity(constants.len());
        for c in &constants {
            let (w, d) = c.expect("all constant");
            let e = (to_acc(w), d);
            let code = match palette.iter().position(|&p| p == e) {
                Some(i) => i,
                None => {
                    palette.push(e);
                    palette.len() - 1
                }
            };
            codes.push(code as u32);
        }
        if palette.len() as u64 <= room {
            return (Values::Palette { shift, palette }, codes);
        }
    }
    if forced != 3 && (net.synapses.max_delay as u64) < room {
        (
            Values::Packed {
                shift,
                weight: Vec::new(),
            },
            Vec::new(),
        )
    } else {
        (
            Values::Wide {
                weight: Vec::new(),
                delay: Vec::new(),
            },
            Vec::new(),
        )
    }
}

/// Rows per block of [`CpuSynapses::build_consuming`]: the patterns are freed behind
/// each block.
const CONSUME_BLOCK: usize = 4096;

impl<F: Real> CpuSynapses<F> {
    /// The tables of every partition of `parts`, built from the last row to the first
    /// and freeing the network's patterns behind them (`Synapses::free_rows_from`), so
    /// that the host holds about the larger of patterns and tables at once, not their
    /// sum. The tables equal [`CpuSynapses::build`]'s; the network's synapses are
    /// released afterwards. `run(tables, f)` runs `f` on every table (threads).
    pub fn build_consuming(
        net: &mut Network,
        parts: &[super::Partition],
        run: impl Fn(&mut [Filling<F>], &(dyn Fn(&mut Filling<F>) + Sync)),
    ) -> Result<Vec<Self>, String> {
        Self::build_consuming_in(net, parts, CONSUME_BLOCK, run)
    }

    /// [`CpuSynapses::build_consuming`] with blocks of `block` rows (tests).
    #[doc(hidden)]
    pub fn build_consuming_in(
        net: &mut Network,
        parts: &[super::Partition],
        block: usize,
        run: impl Fn(&mut [Filling<F>], &(dyn Fn(&mut Filling<F>) + Sync)),
    ) -> Result<Vec<Self>, String> {
        let block = block.max(1);
        if net.synapses.released() {
            return Err("the host copy of the synapses was released".into());
        }
        let mut fill: Vec<Filling<F>> = parts.iter().map(|r| Filling::new(*r)).collect();
        {
            let net = &*net;
            run(&mut fill, &|f: &mut Filling<F>| f.size(net));
        }
        let n = net.n;
        let mut hi = n;
        while hi > 0 {
            let lo = hi.saturating_sub(block);
            {
                let net = &*net;
                for f in fill.iter_mut() {
                    f.rows = lo..hi;
                }
                run(&mut fill, &|f: &mut Filling<F>| f.fill(net));
            }
            if let Some(e) = fill.iter_mut().find_map(|f| f.error.take()) {
                return Err(e);
            }
            net.synapses.free_rows_from(lo);
            hi = lo;
        }
        net.synapses.release();
        Ok(fill.into_iter().map(|f| f.table).collect())
    }

    /// The table of the synapses of `net` onto the neurons of `r`: one pass over the
    /// targets to size the rows, one over the rows (weights and delays drawn again from
    /// their streams) to fill them. Nothing of the size of the network's synapses is
    /// allocated besides the table itself.
    pub fn build(net: &Network, r: &Partition) -> Result<Self, String> {
        if net.synapses.released() {
            return Err("the host copy of the synapses was released".into());
        }
        let mut f = Filling::new(*r);
        f.size(net);
        f.rows = 0..net.n;
        f.fill(net);
        match f.error {
            Some(e) => Err(e),
            None => Ok(f.table),
        }
    }

    /// Number of synapses.
    pub fn len(&self) -> usize {
        self.word.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.word.is_empty()
    }

    /// Synapse `k` as (local target `2·post + receptor`, weight, delay in steps).
    #[inline(always)]
    pub fn get(&self, k: usize) -> (u32, F::Acc, u32) {
        let w = self.word[k];
        match &self.values {
            Values::Palette { shift, palette } => {
                let (wt, d) = palette[(w >> shift) as usize];
                (w & ((1 << shift) - 1), wt, d)
            }
            Values::Packed { shift, weight } => (w & ((1 << shift) - 1), weight[k], w >> shift),
            Values::Wide { weight, delay } => (w, weight[k], delay[k]),
        }
    }

    /// Bytes held (row pointers and synapses).
    pub fn bytes(&self) -> usize {
        let acc = std::mem::size_of::<F::Acc>();
        let values = match &self.values {
            Values::Palette { palette, .. } => palette.len() * (acc + 4),
            Values::Packed { weight, .. } => weight.len() * acc,
            Values::Wide { weight, delay } => weight.len() * acc + delay.len() * 4,
        };
        self.row_ptr.len() * 8 + self.word.len() * 4 + values
    }

    /// The layout's name: "palette", "packed" or "wide".
    pub fn layout(&self) -> &'static str {
        match self.values {
            Values::Palette { .. } => "palette",
            Values::Packed { .. } => "packed",
            Values::Wide { .. } => "wide",
        }
    }
}

/// One partition's table while it is filled ([`CpuSynapses::build`] in one pass,
/// [`CpuSynapses::build_consuming`] block by block).
pub struct Filling<F: Real> {
    r: Partition,
    table: CpuSynapses<F>,
    codes: Vec<u32>,
    rows: std::ops::Range<usize>,
    error: Option<String>,
}

impl<F: Real> Filling<F> {
    /// Nothing sized or filled yet.
    fn new(r: Partition) -> Self {
        Filling {
            r,
            table: CpuSynapses {
                row_ptr: Vec::new(),
                word: Vec::new(),
                values: Values::Wide {
                    weight: Vec::new(),
                    delay: Vec::new(),
                },
            },
            codes: Vec::new(),
            rows: 0..0,
            error: None,
        }
    }

    /// Row pointers, layout and zeroed arrays (their pages are not touched yet).
    fn size(&mut self, net: &Network) {
        let s = &net.synapses;
        let (lo, hi) = (2 * self.r.start as u32, 2 * self.r.end as u32);
        let mut row_ptr = Vec::with_capacity(net.n + 1);
        row_ptr.push(0usize);
        let mut count = 0usize;
        for pre in 0..net.n {
            s.row_targets(pre, |t| count += (t >= lo && t < hi) as usize);
            row_ptr.push(count);
        }
        let (mut values, codes) =
            choose_layout(net, self.r.len(), |w| F::acc_weight(w, &net.fixed));
        match &mut values {
            Values::Palette { .. } => {}
            Values::Packed { weight, .. } => *weight = vec![F::Acc::default(); count],
            Values::Wide { weight, delay } => {
                *weight = vec![F::Acc::default(); count];
                *delay = vec![0; count];
            }
        }
        self.table = CpuSynapses {
            row_ptr,
            word: vec![0; count],
            values,
        };
        self.codes = codes;
    }

    /// The rows `self.rows`, written in place (each row at its row pointer).
    fn fill(&mut self, net: &Network) {
        let (lo, hi) = (2 * self.r.start as u32, 2 * self.r.end as u32);
        let fixed = net.fixed;
        let t = &mut self.table;
        let codes = &self.codes;
        let res = net
            .synapses
            .for_each_row(self.rows.clone(), |pre, row: &Row| {
                let mut at = t.row_ptr[pre];
                for k in 0..row.target.len() {
                    let tg = row.target[k];
                    if tg < lo || tg >= hi {
                        continue;
                    }
                    let tg = tg - lo;
                    match &mut t.values {
                        Values::Palette { shift, .. } => {
                            t.word[at] = tg | codes[row.projection[k] as usize] << *shift
                        }
                        Values::Packed { shift, weight } => {
                            t.word[at] = tg | row.delay[k] << *shift;
                            weight[at] = F::acc_weight(row.weight[k], &fixed);
                        }
                        Values::Wide { weight, delay } => {
                            t.word[at] = tg;
                            weight[at] = F::acc_weight(row.weight[k], &fixed);
                            delay[at] = row.delay[k];
                        }
                    }
                    at += 1;
                }
                debug_assert_eq!(at, t.row_ptr[pre + 1]);
            });
        if let Err((i, e)) = res {
            self.error = Some(format!("projection[{i}].{e}"));
        }
    }
}
