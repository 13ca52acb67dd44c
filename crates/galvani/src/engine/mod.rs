//! The engine: the one schedule every backend follows ([`sim`]), the
//! [`backend::Backend`] trait with its CPU reference and GPU (wgpu) implementations,
//! the working precision ([`real`]) and counter-based random numbers ([`rng`]). The
//! engine-wide WGSL stages live in `engine/shaders/`; each model's own kernels live in
//! its folder under `model/`.

pub mod backend;
pub mod real;
pub mod rng;
pub mod sim;
pub mod threads;
