//! Files: checkpoints ([`checkpoint`]), and the CSV sinks and summary of a run's output
//! folder ([`output`]).

pub mod checkpoint;
pub mod output;
