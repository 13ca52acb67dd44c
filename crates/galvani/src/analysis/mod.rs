//! Analysis of recorded activity: rates, ISI statistics and the agreement measures used
//! by compare ([`stats`]).

pub mod stats;
