//! Checks of `[[population]]` tables: unique names, sizes, and each population's keys
//! and values against its model's tables ([`crate::model::check_population`]).

use super::*;

impl Config {
    /// Every `[[population]]`: names, sizes, the model's keys and values.
    pub(super) fn check_populations(&self) -> Result<()> {
        let mut names = std::collections::HashSet::new();
        for (i, p) in self.populations.iter().enumerate() {
            let at = format!("population[{i}] ('{}')", p.name);
            if p.name.is_empty() || p.name.contains([',', '"', '\n']) {
                return Err(self.err(format!(
                    "{at}.name: expected a non-empty name without commas or quotes"
                )));
            }
            if !names.insert(p.name.as_str()) {
                return Err(self.err(format!(
                    "{at}.name: population name '{}' is used twice",
                    p.name
                )));
            }
            if p.size <= 0 || p.size > (1 << 30) {
                return Err(self.err(format!(
                    "{at}.size: expected a positive neuron count (at most 2^30), got {}",
                    p.size
                )));
            }
            crate::model::check_population(self, &at, p)?;
            if crate::source::is_source(&p.model) {
                if self.model() == "hv" {
                    return Err(self.err(format!(
                        "{at}.model: source populations drive LIF networks; HV neurons couple through graded release, not spikes"
                    )));
                }
            } else if p.model != self.model() {
                return Err(self.err(format!(
                    "{at}.model: all neuron populations of a network must use the same model (the first is \"{}\")",
                    self.model()
                )));
            }
            if p.spike_times.is_some() && p.model != "spike_source" {
                return Err(self.err(format!(
                    "{at}.spike_times: only spike_source populations take spike times"
                )));
            }
            for (k, v) in p
                .params
                .iter()
                .map(|(k, v)| (format!("params.{k}"), v))
                .chain(p.init.iter().map(|(k, v)| (format!("init.{k}"), v)))
            {
                self.check_value(&format!("{at}.{k}"), v)?;
                if let ValueSpec::Array(a) = v
                    && a.len() as i64 != p.size
                {
                    return Err(self.err(format!(
                        "{at}.{k}: expected one value per neuron ({}), got {}",
                        p.size,
                        a.len()
                    )));
                }
            }
        }
        Ok(())
    }
}
