//! Building a network: the TOML config schema and its validation ([`config`]), the
//! [`network::Network`] built from it, connectivity rules ([`connectivity`]), input
//! sources ([`source`]), and the memory and size estimates checked before allocating
//! ([`estimate`], [`mem`]).

pub mod config;
pub mod connectivity;
pub mod estimate;
pub mod mem;
pub mod network;
pub mod source;
