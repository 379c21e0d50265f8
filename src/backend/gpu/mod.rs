//! The GPU backend: adapter and device setup, the compiled fill kernels, and recording fills into a
//! caller's encoder. Everything takes `&wgpu::Device` / `&mut wgpu::CommandEncoder` /
//! `&wgpu::Buffer` so it composes with the caller's resources; [`GpuContext`] is a thin owner on top.

mod adapter;
mod context;
mod kernels;
pub mod orthogonal;
mod resources;
pub mod sparse;

pub use adapter::{is_hardware, request_adapter, request_device};
pub use context::GpuContext;
pub use kernels::{Destination, FillKernels, FillRequest};
