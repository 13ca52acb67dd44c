//! The wgpu backend (stub: being written): kernels, their bind layouts and the structs
//! that cross the bus.

pub mod layout;
pub mod pipelines;
pub mod shaders;

pub use shaders::shader_sources;

use super::{Backend, BackendInfo, BatchOutput, Stage};
use crate::error::{Error, Result};
use crate::network::Network;

/// A wgpu device and queue.
pub struct GpuContext {}

impl GpuContext {
    /// Opens the default adapter, or fails with [`Error::NoAdapter`].
    pub fn new() -> Result<Self> {
        Err(Error::NoAdapter("the GPU backend is not built yet".into()))
    }
}

/// Adapters wgpu can see, one line each (`galvani devices`).
pub fn list_adapters() -> Vec<String> {
    Vec::new()
}

/// The GPU backend.
pub struct GpuBackend {}

impl GpuBackend {
    /// Uploads a network.
    pub fn new(_ctx: &GpuContext, _net: &Network) -> Result<Self> {
        Err(Error::NoAdapter("the GPU backend is not built yet".into()))
    }
}

impl Backend for GpuBackend {
    type Float = f32;
    fn info(&self) -> BackendInfo {
        unimplemented!()
    }
    fn begin_batch(&mut self, _first_step: u64, _steps: u32) -> Result<()> {
        unimplemented!()
    }
    fn run_stage(&mut self, _stage: Stage, _step: u64) -> Result<()> {
        unimplemented!()
    }
    fn end_batch(&mut self) -> Result<Vec<BatchOutput<f32>>> {
        unimplemented!()
    }
    fn finish(&mut self) -> Result<Vec<BatchOutput<f32>>> {
        unimplemented!()
    }
    fn voltages(&mut self) -> Result<Vec<f64>> {
        unimplemented!()
    }
}
