//! Neuron models: specs in `../shared/specs/`, scalar steps here, shaders in `shaders/`.

pub mod hv;
pub mod lif;
