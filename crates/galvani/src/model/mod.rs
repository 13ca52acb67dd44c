//! Neuron models as data. Each model is one folder here: its spec (`spec.md`, normative),
//! its parameter table with units and defaults, its host-derived constants and CPU step
//! (`cpu_step.rs`, the twin of its WGSL kernels, which sit beside it), and one value
//! implementing [`NeuronModel`] that tells the rest of galvani what it needs to know:
//! name, parameters, initial values, synapse kinds, probe-able variables, kernels and
//! checks. The registry [`MODELS`] is the one list of models; config validation, the
//! documentation's parameter tables ([`parameter_reference`]) and the faces (`galvani
//! models`, Python) read it.
//!
//! The trait takes `&self` and returns plain data, so a model declared from equations
//! at run time can implement it as a value.

use crate::config::{Config, Population};
use crate::error::Result;

pub mod adex;
pub mod hh;
pub mod hv;
pub mod izhikevich;
pub mod lif;
pub mod point;
pub mod sources;

/// One parameter of a neuron model: the config key, its unit, the spec's default and
/// what it means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Param {
    /// The key under `params` (units are part of the name: `_ms`, `_mv`, `_pa`, ...).
    pub name: &'static str,
    /// The unit ("1" for dimensionless).
    pub unit: &'static str,
    /// The default (the spec's).
    pub default: f64,
    /// What it is.
    pub doc: &'static str,
}

impl Param {
    /// A table entry.
    pub const fn new(
        name: &'static str,
        unit: &'static str,
        default: f64,
        doc: &'static str,
    ) -> Self {
        Param {
            name,
            unit,
            default,
            doc,
        }
    }
}

/// One state variable a population may initialise (`init.<name>`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Init {
    /// The key under `init`.
    pub name: &'static str,
    /// The unit ("1" for dimensionless).
    pub unit: &'static str,
    /// The default, in words (it may depend on the parameters).
    pub default: &'static str,
    /// What it is.
    pub doc: &'static str,
}

impl Init {
    /// A table entry.
    pub const fn new(
        name: &'static str,
        unit: &'static str,
        default: &'static str,
        doc: &'static str,
    ) -> Self {
        Init {
            name,
            unit,
            default,
            doc,
        }
    }
}

/// What galvani knows of a neuron model. One value per model, registered in [`MODELS`].
pub trait NeuronModel: Sync {
    /// The config name (`model = "lif"`).
    fn name(&self) -> &'static str;
    /// One line: what the model is, and its NEST and PyNN names where they exist.
    fn summary(&self) -> &'static str;
    /// The spec this model implements (path inside the core crate), or "" for none.
    fn spec(&self) -> &'static str;
    /// The parameters, in the order the model's host tables use.
    fn params(&self) -> &'static [Param];
    /// The initial values a population may set.
    fn init(&self) -> &'static [Init];
    /// The synapse kinds it accepts (`synapse = "..."`), the default first; empty for
    /// models that take no `synapse` key.
    fn synapses(&self) -> &'static [&'static str] {
        &[]
    }
    /// Why a `synapse` key is refused, for models that take none.
    fn no_synapse_reason(&self) -> &'static str {
        "this model takes no synapse kind"
    }
    /// The variables `record.voltage` may sample (`variable = "..."`), the default first.
    fn probes(&self) -> &'static [&'static str];
    /// The WGSL kernels (entry points registered in `engine::backend::gpu::shaders`)
    /// its GPU step runs.
    fn kernels(&self) -> &'static [&'static str];
    /// Whether its neurons are spike sources (no input, no membrane).
    fn is_source(&self) -> bool {
        false
    }
    /// The dynamics of a point model ([`point::PointDynamics`]): models that run on the
    /// spiking-synapse engine through the generic point-model path. `None` for LIF and HV
    /// (their own engines) and the sources.
    fn dynamics(&self) -> Option<&'static dyn point::PointDynamics> {
        None
    }
    /// The step (ms) a network of this model defaults to.
    fn default_dt_ms(&self) -> f64 {
        0.1
    }
    /// Checks a population's table beyond the keys (model-specific rules). The default
    /// checks nothing more.
    fn check_population(&self, _cfg: &Config, _at: &str, _p: &Population) -> Result<()> {
        Ok(())
    }
}

/// Every neuron model galvani knows, in the order errors and documentation list them.
pub static MODELS: &[&dyn NeuronModel] = &[
    &lif::Lif,
    &hv::Hv,
    &izhikevich::IZHIKEVICH,
    &adex::ADEX,
    &hh::HH,
    &sources::SPIKE_SOURCE,
    &sources::POISSON_SOURCE,
];

/// The model named `name`.
pub fn by_name(name: &str) -> Option<&'static dyn NeuronModel> {
    MODELS.iter().copied().find(|m| m.name() == name)
}

/// `"a", "b" or "c"`: a list of names as messages give them.
pub fn quoted_list(names: &[&str]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
    match q.len() {
        0 => String::new(),
        1 => q[0].clone(),
        k => format!("{} or {}", q[..k - 1].join(", "), q[k - 1]),
    }
}

/// Checks a population's `synapse`, `params` and `init` keys against its model's tables,
/// then the model's own rules. Errors name the key and list what was expected.
pub fn check_population(cfg: &Config, at: &str, p: &Population) -> Result<()> {
    let Some(model) = by_name(&p.model) else {
        let names: Vec<&str> = MODELS.iter().map(|m| m.name()).collect();
        return Err(cfg.err(format!(
            "{at}.model: unknown model \"{}\"; expected {}",
            p.model,
            quoted_list(&names)
        )));
    };
    let kinds = model.synapses();
    match (&p.synapse, kinds.is_empty()) {
        (Some(_), true) => {
            return Err(cfg.err(format!("{at}.synapse: {}", model.no_synapse_reason())));
        }
        (Some(s), false) if !kinds.contains(&s.as_str()) => {
            return Err(cfg.err(format!(
                "{at}.synapse: unknown synapse kind \"{s}\"; expected {}",
                quoted_list(kinds)
            )));
        }
        _ => {}
    }
    if !model.is_source() {
        crate::config::check_keys(
            cfg,
            at,
            "params",
            p.params.keys(),
            model.params().iter().map(|x| x.name),
        )?;
        crate::config::check_keys(
            cfg,
            at,
            "init",
            p.init.keys(),
            model.init().iter().map(|x| x.name),
        )?;
    }
    model.check_population(cfg, at, p)
}

/// The parameter tables of every model as Markdown: the documentation's
/// `docs/reference/parameters.md` is this text (a test keeps them equal), so the
/// reference cannot drift from the code.
pub fn parameter_reference() -> String {
    let mut s = String::from(
        "# Model parameters\n\n\
         <!-- Generated from the models' own tables (crates/galvani/src/model/); \
         do not edit. Regenerate: GALVANI_BLESS=1 cargo test docs_parameter_tables -->\n\n\
         Every neuron model's `params` and `init` keys, with units and defaults. Any value \
         may be a constant, one value per neuron, or a distribution (see the \
         [config reference](config.md)).\n",
    );
    for m in MODELS {
        s += &format!("\n## `model = \"{}\"`\n\n{}\n\n", m.name(), m.summary());
        if !m.spec().is_empty() {
            s += &format!("Spec: `crates/galvani/{}`.\n\n", m.spec());
        }
        if !m.synapses().is_empty() {
            s += &format!(
                "Synapse kinds (`synapse`): {} (default `{}`).\n\n",
                m.synapses()
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                m.synapses()[0]
            );
        }
        if !m.params().is_empty() {
            s += "| parameter | unit | default | meaning |\n|---|---|---|---|\n";
            for p in m.params() {
                s += &format!(
                    "| `{}` | {} | {} | {} |\n",
                    p.name,
                    p.unit,
                    fmt_default(p.default),
                    p.doc
                );
            }
            s += "\n";
        }
        if !m.init().is_empty() {
            s += "| initial value | unit | default | meaning |\n|---|---|---|---|\n";
            for p in m.init() {
                s += &format!(
                    "| `{}` | {} | {} | {} |\n",
                    p.name, p.unit, p.default, p.doc
                );
            }
            s += "\n";
        }
        if !m.probes().is_empty() {
            s += &format!(
                "Recordable (`record.voltage` `variable`): {}.\n",
                m.probes()
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    s
}

fn fmt_default(x: f64) -> String {
    if x.is_infinite() {
        if x > 0.0 {
            "∞".into()
        } else {
            "−∞".into()
        }
    } else {
        crate::run::fmt_num(x)
    }
}
