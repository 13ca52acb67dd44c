//! Checks of a checkpoint's state sections against the network they are about to be
//! loaded into, made before any backend takes them (a checkpoint is untrusted input: it
//! may be damaged, of another network, or crafted with a valid checksum).
//!
//! Both backends store the state in one layout ([`super::cpu::state`]), so one check
//! serves both: every section has the length this network needs, every float is finite,
//! refractory counters are within the neuron's t_ref, HV spike detectors are 0 or 1, and
//! every delay-ring accumulator is within twice the most input that can arrive in one
//! step ([`Network::input_bound`]; the factor covers the rounding of each weight to the
//! fixed-point grid, `|round(w·s)| ≤ 2·|w|·s`). A value outside these ranges cannot arise
//! from a run, and would make one continue with garbage.

use super::cpu::state::{HV_COUPLING, HV_STATE, LIF_DSYN, LIF_RING, LIF_STATE, POINT_STATE, STIM};
use crate::checkpoint::{Checkpoint, INPUTS_ALLOWANCE, real_bytes};
use crate::error::Result;
use crate::network::{Network, Neurons};
use crate::real::{Precision, Real};

/// Per-section bytes beyond the data: name length, name (at most 64 bytes here) and
/// length.
const SECTION_OVERHEAD: u64 = 2 + 64 + 8;

/// The state sections a checkpoint of `net` holds, with their byte lengths (`stim`:
/// whether the network has current pulses, which keep a stimulus current per neuron).
pub fn state_sections(net: &Network, precision: Precision, stim: bool) -> Vec<(&'static str, u64)> {
    let n = net.n as u64;
    let rb = match precision {
        Precision::F32 => 4,
        Precision::F64 => 8,
    };
    match &net.neurons {
        Neurons::Lif { params, .. } => {
            let slots = net.synapses.max_delay as u64 + 1;
            let mut s = vec![
                (LIF_STATE, n * (3 * rb + 4)),
                (LIF_RING, slots * 2 * n * rb),
                (STIM, if stim { n * rb } else { 0 }),
            ];
            if crate::model::lif::has_alpha(params) {
                s.push((LIF_DSYN, n * 2 * rb));
            }
            s
        }
        Neurons::Point(p) => {
            let slots = net.synapses.max_delay as u64 + 1;
            vec![
                (POINT_STATE, n * p.width() as u64 * rb),
                (LIF_RING, slots * 2 * n * rb),
                (STIM, if stim { n * rb } else { 0 }),
            ]
        }
        Neurons::Hv(_) => vec![(HV_STATE, n * (2 * rb + 8)), (HV_COUPLING, 4 * n * rb)],
    }
}

/// The largest checkpoint file of `net` in `precision` that can be genuine: its state,
/// parameter and ISI sections (sizes that follow from the network), plus
/// [`INPUTS_ALLOWANCE`] for the metadata and the inputs a script may have set.
/// Files beyond it are refused before they are read.
pub fn max_checkpoint_bytes(net: &Network, precision: Precision) -> u64 {
    let n = net.n as u64;
    let state: u64 = state_sections(net, precision, true)
        .iter()
        .map(|(_, b)| b + SECTION_OVERHEAD)
        .sum();
    let params = net.primary.len() as u64 * (8 * n + SECTION_OVERHEAD);
    let isi = 28 * n + 4 * SECTION_OVERHEAD;
    let header = 8 + 4 + 4 + 4 + 4;
    state
        .saturating_add(params)
        .saturating_add(isi)
        .saturating_add(header + 2 * SECTION_OVERHEAD)
        .saturating_add(INPUTS_ALLOWANCE)
}

/// Checks the state sections of `ck` for `net` in precision `F` (see the module docs);
/// the error names the section, the neuron and what was expected.
/// `neurons`: the model data the state is for (the network's, or what the checkpoint's
/// parameters derive).
pub fn check_state<F: Real>(
    ck: &Checkpoint,
    net: &Network,
    neurons: &Neurons,
    stim: bool,
) -> Result<()> {
    let n = net.n;
    let rb = real_bytes::<F>();
    let bad = |section: &str, msg: String| ck.error(format!("section '{section}': {msg}"));
    match neurons {
        Neurons::Lif { params, .. } => {
            let mut d = ck.reader(LIF_STATE, n, 3 * rb + 4)?;
            for (i, p) in params.iter().enumerate() {
                let (u, ia, ig) = (d.real::<F>(), d.real::<F>(), d.real::<F>());
                let refrac = d.word();
                for (name, x) in [("V − E_L", u), ("I_AMPA", ia), ("I_GABA", ig)] {
                    if !x.f64().is_finite() {
                        return Err(bad(
                            LIF_STATE,
                            format!("neuron {i}: {name} is {x}, expected a finite number"),
                        ));
                    }
                }
                if refrac > p.ref_steps {
                    return Err(bad(
                        LIF_STATE,
                        format!(
                            "neuron {i}: {refrac} refractory steps left, more than the {} of its t_ref",
                            p.ref_steps
                        ),
                    ));
                }
            }
            if crate::model::lif::has_alpha(params) {
                let mut d = ck.reader(LIF_DSYN, 2 * n, rb)?;
                for i in 0..2 * n {
                    let x = d.real::<F>();
                    if !x.f64().is_finite() {
                        return Err(bad(
                            LIF_DSYN,
                            format!(
                                "neuron {}: dI/dt ({}) is {x}, expected a finite number",
                                i / 2,
                                if i % 2 == 0 { "AMPA" } else { "GABA-A" }
                            ),
                        ));
                    }
                }
            }
            check_ring::<F>(ck, net, stim)?;
        }
        Neurons::Point(p) => {
            let names = p.dynamics.state();
            let mut d = ck.reader(POINT_STATE, n * names.len(), rb)?;
            for k in 0..n * names.len() {
                let x = d.real::<F>();
                if !x.f64().is_finite() {
                    return Err(bad(
                        POINT_STATE,
                        format!(
                            "neuron {}: {} is {x}, expected a finite number",
                            k / names.len(),
                            names[k % names.len()]
                        ),
                    ));
                }
            }
            check_ring::<F>(ck, net, stim)?;
        }
        Neurons::Hv(_) => {
            let mut d = ck.reader(HV_STATE, n, 2 * rb + 8)?;
            for i in 0..n {
                let (y, w) = (d.real::<F>(), d.real::<F>());
                let (armed, pad) = (d.word(), d.word());
                for (name, x) in [("y", y), ("w", w)] {
                    if !x.f64().is_finite() {
                        return Err(bad(
                            HV_STATE,
                            format!("neuron {i}: {name} is {x}, expected a finite number"),
                        ));
                    }
                }
                if armed > 1 || pad != 0 {
                    return Err(bad(
                        HV_STATE,
                        format!(
                            "neuron {i}: spike detector {armed} (padding {pad}), expected 0 or 1 (and padding 0)"
                        ),
                    ));
                }
            }
            let mut d = ck.reader(HV_COUPLING, 4 * n, rb)?;
            for k in 0..4 * n {
                let x = d.real::<F>();
                if !x.f64().is_finite() {
                    return Err(bad(
                        HV_COUPLING,
                        format!("neuron {}: coupling {x}, expected a finite number", k / 4),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The spiking engine's delay ring and stimulus current (LIF and point models).
fn check_ring<F: Real>(ck: &Checkpoint, net: &Network, stim: bool) -> Result<()> {
    let n = net.n;
    let rb = real_bytes::<F>();
    let bad = |section: &str, msg: String| ck.error(format!("section '{section}': {msg}"));
    let slots = net.synapses.max_delay as usize + 1;
    let mut d = ck.reader(LIF_RING, slots * 2 * n, rb)?;
    let f32 = F::NAME == "f32";
    let scale = if f32 { net.fixed.scale } else { 1.0 };
    for slot in 0..slots {
        for (k, &b) in net.input_bound.iter().enumerate() {
            let x = if f32 { d.word() as i32 as f64 } else { d.f64() };
            let max = 2.0 * b * scale;
            if x.is_nan() || x.abs() > max {
                return Err(bad(
                    LIF_RING,
                    format!(
                        "slot {slot}, neuron {} ({}): pending input {x}, expected at most {max} in magnitude (every incoming synapse at once{})",
                        k / 2,
                        if k % 2 == 0 { "AMPA" } else { "GABA-A" },
                        if f32 { ", in fixed-point units" } else { "" }
                    ),
                ));
            }
        }
    }
    let len = if stim { n } else { 0 };
    let mut d = ck.reader(STIM, len, rb)?;
    for i in 0..len {
        let x = d.real::<F>();
        if !x.f64().is_finite() {
            return Err(bad(
                STIM,
                format!("neuron {i}: stimulus current {x}, expected a finite number"),
            ));
        }
    }
    Ok(())
}
