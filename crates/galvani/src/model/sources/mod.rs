//! Source populations as models: `spike_source` (spikes at given times) and
//! `poisson_source` (independent Poisson trains). Their neurons have no input and no
//! membrane; their spikes are decided on the host one batch at a time and appended to
//! each step's spike list by the `source_spikes` stage. The implementation lives in
//! [`crate::source`]; these values register them with the model table. Both are one
//! [`SourceModel`] each: models as data.

use crate::config::{Config, Population};
use crate::error::Result;

use super::{Init, NeuronModel, Param};

/// A source model: its name, its one-line description and its parameters.
pub struct SourceModel {
    name: &'static str,
    summary: &'static str,
    params: &'static [Param],
}

/// `model = "spike_source"` (NEST `spike_generator` + `parrot_neuron`, PyNN
/// `SpikeSourceArray`).
pub static SPIKE_SOURCE: SourceModel = SourceModel {
    name: "spike_source",
    summary: "Each neuron spikes at the times given in `spike_times` (NEST `spike_generator` \
              behind a `parrot_neuron`; PyNN `SpikeSourceArray`).",
    params: &[],
};

/// `model = "poisson_source"` (NEST `poisson_generator` + `parrot_neuron`, PyNN
/// `SpikeSourcePoisson`).
pub static POISSON_SOURCE: SourceModel = SourceModel {
    name: "poisson_source",
    summary: "Each neuron spikes as an independent Poisson process of `rate_hz`, seen at \
              one spike per step at most (NEST `poisson_generator` behind a \
              `parrot_neuron`; PyNN `SpikeSourcePoisson`).",
    params: crate::source::POISSON_PARAMS,
};

impl NeuronModel for SourceModel {
    fn name(&self) -> &'static str {
        self.name
    }
    fn summary(&self) -> &'static str {
        self.summary
    }
    fn spec(&self) -> &'static str {
        ""
    }
    fn params(&self) -> &'static [Param] {
        self.params
    }
    fn init(&self) -> &'static [Init] {
        &[]
    }
    fn no_synapse_reason(&self) -> &'static str {
        "source populations take no synapse kind (they have no input)"
    }
    fn probes(&self) -> &'static [&'static str] {
        &[]
    }
    fn kernels(&self) -> &'static [&'static str] {
        &["source_spikes"]
    }
    fn is_source(&self) -> bool {
        true
    }
    fn check_population(&self, cfg: &Config, at: &str, p: &Population) -> Result<()> {
        crate::source::check_population(cfg, at, p)
    }
}
