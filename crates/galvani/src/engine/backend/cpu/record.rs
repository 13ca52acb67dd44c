//! CPU twins of the recording stage (`record` in `model/lif/lif_step.wgsl`, which samples
//! a neuron's probes at the end of its step, and `model/hv/hv_record_voltage.wgsl`; the
//! spike record is written inside `lif_step.wgsl` and `hv_step.wgsl`).

use crate::model::hv::{HvParams, HvState};
use crate::model::lif::{LifParams, LifState};
use crate::network::{PROBE_DSYN_AMPA, PROBE_DSYN_GABA, PROBE_SYN_AMPA, PROBE_SYN_GABA};
use crate::real::Real;

/// Sets the bit of every neuron that spiked in a step's row of the spike bitfield.
pub fn record_spikes(spiked: &[u32], row: &mut [u32]) {
    for &i in spiked {
        row[i as usize / 32] |= 1 << (i % 32);
    }
}

/// Writes what each probe that samples after `step` samples into `row`: the absolute
/// voltage, the AMPA / GABA-A synaptic variable or (alpha kinds, `dsyn`) its derivative
/// state (`var`, see [`crate::network::Probe`]). The arrays are a partition's; a probe is
/// (its slot in `row`, local neuron, period, variable).
pub fn record_voltage<F: Real>(
    params: &[LifParams<F>],
    state: &[LifState<F>],
    dsyn: &[[F; 2]],
    probes: &[(usize, usize, u32, u32)],
    step: u64,
    row: &mut [F],
) {
    for &(k, g, every, var) in probes {
        if (step + 1).is_multiple_of(every as u64) {
            row[k] = match var {
                PROBE_SYN_AMPA => state[g].i_ampa,
                PROBE_SYN_GABA => state[g].i_gaba,
                PROBE_DSYN_AMPA => dsyn[g][0],
                PROBE_DSYN_GABA => dsyn[g][1],
                _ => state[g].u + params[g].e_l,
            };
        }
    }
}

/// HV: writes v = v_T·y (mV) of each probe that samples after `step` into `row`.
pub fn record_voltage_hv<F: Real>(
    params: &[HvParams<F>],
    state: &[HvState<F>],
    probes: &[(usize, usize, u32, u32)],
    step: u64,
    row: &mut [F],
) {
    for &(k, g, every, _) in probes {
        if (step + 1).is_multiple_of(every as u64) {
            row[k] = params[g].v_t * state[g].y;
        }
    }
}
