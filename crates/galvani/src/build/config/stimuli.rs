//! Checks of `[[stimulus]]` tables: targets, kinds per model, rates and times.

use super::*;

impl Config {
    /// Every `[[stimulus]]`.
    pub(super) fn check_stimuli(&self) -> Result<()> {
        let dt = self.dt_ms();
        for (i, s) in self.stimuli.iter().enumerate() {
            let at = format!("stimulus[{i}]");
            let Some(pi) = self.population_index(s.target()) else {
                return Err(self.err(format!("{at}.target: unknown population '{}'", s.target())));
            };
            let size = self.populations[pi].size;
            let model = self.populations[pi].model.as_str();
            match (s, model) {
                (_, "spike_source" | "poisson_source") => {
                    return Err(self.err(format!(
                        "{at}.target: '{}' is a {model} population: sources take no input",
                        s.target()
                    )));
                }
                (Stimulus::ReceptorPulse { .. }, "hv") => {}
                (Stimulus::ReceptorPulse { .. }, m) => {
                    return Err(self.err(format!(
                        "{at}.target: receptor pulses drive HV populations; '{}' is \"{m}\"",
                        s.target()
                    )));
                }
                (_, "hv") => {
                    return Err(self.err(format!(
                        "{at}.kind: HV populations ('{}') take receptor_pulse stimuli (and a constant i_e_pa), not this kind",
                        s.target()
                    )));
                }
                _ => {}
            }
            if let Some(ns) = s.neurons()
                && let Some(bad) = ns.iter().find(|&&n| n < 0 || n >= size)
            {
                return Err(self.err(format!(
                    "{at}.neurons: index {bad} is out of range for '{}' (0..{size})",
                    s.target()
                )));
            }
            match s {
                Stimulus::Poisson {
                    rate_hz,
                    weight,
                    receptor,
                    delay_ms,
                    ..
                } => {
                    if !(rate_hz.is_finite() && *rate_hz >= 0.0) {
                        return Err(self.err(format!(
                            "{at}.rate_hz: expected a non-negative rate, got {rate_hz}"
                        )));
                    }
                    if !weight.is_finite() {
                        return Err(self.err(format!(
                            "{at}.weight: expected a finite number, got {weight}"
                        )));
                    }
                    if !matches!(receptor.as_str(), "ampa" | "gaba_a") {
                        return Err(self.err(format!(
                            "{at}.receptor: expected \"ampa\" or \"gaba_a\", got \"{receptor}\""
                        )));
                    }
                    if let Some(d) = delay_ms
                        && (!d.is_finite() || (d / dt).round() < 1.0)
                    {
                        return Err(self.err(format!(
                            "{at}.delay_ms: {d} ms is shorter than one step (dt = {dt} ms)"
                        )));
                    }
                    if rate_hz * dt / 1000.0 > 1e4 {
                        return Err(self.err(format!(
                            "{at}.rate_hz: {rate_hz} Hz is more than 10^4 events per step"
                        )));
                    }
                }
                Stimulus::CurrentPulse {
                    start_ms,
                    stop_ms,
                    amplitude_pa,
                    ..
                } => {
                    if !(start_ms.is_finite()
                        && stop_ms.is_finite()
                        && start_ms <= stop_ms
                        && *start_ms >= 0.0)
                    {
                        return Err(self.err(format!(
                            "{at}: expected 0 <= start_ms <= stop_ms, got {start_ms} and {stop_ms}"
                        )));
                    }
                    if !amplitude_pa.is_finite() {
                        return Err(
                            self.err(format!("{at}.amplitude_pa: expected a finite number"))
                        );
                    }
                }
                Stimulus::DcCurrent {
                    amplitude_pa,
                    start_ms,
                    stop_ms,
                    ..
                } => {
                    let (a, b) = (start_ms.unwrap_or(0.0), stop_ms.unwrap_or(f64::MAX));
                    if !(a.is_finite() && a >= 0.0 && !b.is_nan() && a <= b) {
                        return Err(self.err(format!(
                            "{at}: expected 0 <= start_ms <= stop_ms, got {a} and {b}"
                        )));
                    }
                    if !amplitude_pa.is_finite() {
                        return Err(
                            self.err(format!("{at}.amplitude_pa: expected a finite number"))
                        );
                    }
                }
                Stimulus::StepCurrent {
                    times_ms,
                    amplitudes_pa,
                    ..
                } => crate::source::check_steps(times_ms, amplitudes_pa)
                    .map_err(|e| self.err(format!("{at}.{e}")))?,
                Stimulus::ReceptorPulse {
                    receptor,
                    amplitude,
                    start_ms,
                    stop_ms,
                    ..
                } => {
                    if !matches!(receptor.as_str(), "ampa" | "gaba_a") {
                        return Err(self.err(format!(
                            "{at}.receptor: expected \"ampa\" or \"gaba_a\", got \"{receptor}\""
                        )));
                    }
                    if !(amplitude.is_finite() && *amplitude >= 0.0) {
                        return Err(self.err(format!(
                            "{at}.amplitude: expected a finite activation >= 0, got {amplitude}"
                        )));
                    }
                    if !(start_ms.is_finite()
                        && stop_ms.is_finite()
                        && start_ms <= stop_ms
                        && *start_ms >= 0.0)
                    {
                        return Err(self.err(format!(
                            "{at}: expected 0 <= start_ms <= stop_ms, got {start_ms} and {stop_ms}"
                        )));
                    }
                    if (stop_ms / dt).round() > u32::MAX as f64 {
                        return Err(self.err(format!(
                            "{at}.stop_ms: {stop_ms} ms is more than 2^32 steps"
                        )));
                    }
                }
            }
        }
        Ok(())
    }
}
