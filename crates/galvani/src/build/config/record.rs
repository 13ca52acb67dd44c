//! Checks of the `[record]` table: recorded populations and voltage probes.

use super::*;

impl Config {
    /// The `[record]` table.
    pub(super) fn check_record(&self) -> Result<()> {
        if let SpikeSelection::Some(list) = &self.record.spikes {
            for name in list {
                if self.population_index(name).is_none() {
                    return Err(self.err(format!("record.spikes: unknown population '{name}'")));
                }
            }
        }
        for (i, v) in self.record.voltage.iter().enumerate() {
            let Some(pi) = self.population_index(&v.population) else {
                return Err(self.err(format!(
                    "record.voltage[{i}].population: unknown population '{}'",
                    v.population
                )));
            };
            let size = self.populations[pi].size;
            if crate::source::is_source(&self.populations[pi].model) {
                return Err(self.err(format!(
                    "record.voltage[{i}].population: '{}' is a source population: it has no membrane potential",
                    v.population
                )));
            }
            let var = v.variable.as_deref().unwrap_or("v_mv");
            let p = &self.populations[pi];
            let probes = crate::model::by_name(&p.model).map_or(&[][..], |m| m.probes());
            if !probes.contains(&var) {
                return Err(self.err(format!(
                    "record.voltage[{i}].variable: unknown variable \"{var}\" for '{}' (model \"{}\"); expected {}",
                    v.population,
                    p.model,
                    crate::model::quoted_list(probes)
                )));
            }
            match var {
                "syn_ampa" | "syn_gaba_a" if p.synapse.as_deref() == Some("delta") => {
                    return Err(self.err(format!(
                        "record.voltage[{i}].variable: '{var}' is the synaptic current or conductance of LIF populations with current or conductance synapses (not delta); '{}' has none",
                        v.population
                    )));
                }
                "dsyn_ampa" | "dsyn_gaba_a" => {
                    let kind = crate::model::lif::kind_code(p.synapse.as_deref());
                    if !kind.is_some_and(crate::model::lif::is_alpha) {
                        return Err(self.err(format!(
                            "record.voltage[{i}].variable: '{var}' is the derivative state of alpha synapses (alpha_current, alpha_conductance); '{}' has none",
                            v.population
                        )));
                    }
                }
                _ => {}
            }
            if let Some(ns) = &v.neurons
                && let Some(bad) = ns.iter().find(|&&n| n < 0 || n >= size)
            {
                return Err(self.err(format!(
                    "record.voltage[{i}].neurons: index {bad} is out of range for '{}' (0..{size})",
                    v.population
                )));
            }
            if let Some(e) = v.every_steps
                && e < 1
            {
                return Err(self.err(format!(
                    "record.voltage[{i}].every_steps: expected a positive integer, got {e}"
                )));
            }
        }
        Ok(())
    }
}
