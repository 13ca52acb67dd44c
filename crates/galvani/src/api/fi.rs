//! f–I sweeps of LIF neurons: what the closed-form rate of each recorded neuron needs
//! (spec section 6), worked out of the network's host-derived constants. `galvani plot
//! --fi` draws them against the measured rates.

use crate::network::{Network, Neurons};

/// One LIF neuron of an f–I sweep: what the closed form needs (spec section 6).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FiNeuron {
    /// Population index.
    pub pop: usize,
    /// Population-local index.
    pub neuron: u32,
    /// Injected current I_e (pA).
    pub i_e_pa: f64,
    /// Membrane resistance R_m = τ_m/C_m (GΩ, so that R_m·I in pA is in mV).
    pub r_gohm: f64,
    /// τ_m (ms).
    pub tau_m_ms: f64,
    /// V_th − E_L (mV).
    pub theta_mv: f64,
    /// V_reset − E_L (mV).
    pub reset_mv: f64,
    /// Refractory period (ms), as simulated (whole steps).
    pub t_ref_ms: f64,
}

impl FiNeuron {
    /// The closed-form rate (Hz) at current `i_pa`: 0 when E_L + R·I < V_th, else
    /// 1/(t_ref + T) with T = τ_m ln((V̄ − V_reset)/(V̄ − V_th)), V̄ = E_L + R·I.
    pub fn rate_hz(&self, i_pa: f64) -> f64 {
        let ri = self.r_gohm * i_pa;
        // At the rheobase itself T is infinite; rounding must not make it finite.
        if ri <= self.theta_mv * (1.0 + 1e-9) {
            return 0.0;
        }
        let t = self.tau_m_ms * ((ri - self.reset_mv) / (ri - self.theta_mv)).ln();
        1000.0 / (self.t_ref_ms + t)
    }

    /// Whether two entries are the same neuron (population and index).
    pub fn same_cell(&self, o: &FiNeuron) -> bool {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
        close(self.r_gohm, o.r_gohm)
            && close(self.tau_m_ms, o.tau_m_ms)
            && close(self.theta_mv, o.theta_mv)
            && close(self.reset_mv, o.reset_mv)
            && close(self.t_ref_ms, o.t_ref_ms)
    }
}

/// The recorded LIF neurons of `net`, with what the f–I closed form needs. `pop_index`
/// maps a population's name to the index the caller uses for it (`None` skips it).
/// A network of another model has none.
pub fn fi_neurons(net: &Network, pop_index: impl Fn(&str) -> Option<usize>) -> Vec<FiNeuron> {
    let Neurons::Lif { params, .. } = &net.neurons else {
        return Vec::new();
    };
    let dt = net.dt_ms;
    // the primary parameters the propagators were derived from, one column each
    let col = |k: &str| -> &[f64] {
        &net.primary
            .iter()
            .find(|(n, _)| *n == k)
            .expect("a LIF parameter")
            .1
    };
    let (tau_m, c_m) = (col("tau_m_ms"), col("c_m_pf"));
    let mut out = Vec::new();
    for pop in &net.populations {
        if !pop.record_spikes {
            continue;
        }
        let Some(mp) = pop_index(&pop.name) else {
            continue;
        };
        for i in 0..pop.size {
            let p = &params[pop.offset + i];
            out.push(FiNeuron {
                pop: mp,
                neuron: i as u32,
                i_e_pa: p.i_e,
                r_gohm: tau_m[pop.offset + i] / c_m[pop.offset + i],
                tau_m_ms: tau_m[pop.offset + i],
                theta_mv: p.theta,
                reset_mv: p.reset,
                t_ref_ms: p.ref_steps as f64 * dt,
            });
        }
    }
    out
}
