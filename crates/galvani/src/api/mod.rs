//! The library's API: [`Simulation`](simulation::Simulation) (build, run in pieces,
//! read records, get and set neurons, checkpoint), the checkpointed run of a config into
//! an output folder and its resume ([`run`]), compare's typed verdicts ([`compare`]),
//! and the stop signals a run honours ([`stop`]).

pub mod compare;
pub mod fi;
pub mod run;
pub mod simulation;
pub mod stop;
