//! The GPU backend: adapter and device setup, the compiled fill kernels, and recording fills into a
//! caller's encoder. Everything takes `&wgpu::Device` / `&mut wgpu::CommandEncoder` /
//! `&wgpu::Buffer` so it composes with the caller's resources; [`GpuContext`] is a thin owner on top.

mod context;
mod kernels;
pub mod orthogonal;
pub mod sparse;

pub use context::{GpuContext, request_adapter, request_device};
pub use kernels::{Destination, FillKernels, FillRequest};

/// A compute-stage read-write storage buffer at `binding`, of any size.
fn storage_entry(binding: u32) -> wgpu::BindGroupLayoutEntry {
    buffer_entry(
        binding,
        wgpu::BufferBindingType::Storage { read_only: false },
        None,
    )
}

/// A compute-stage uniform buffer at `binding`; with `dynamic_size`, bound at a dynamic offset
/// and at least that many bytes (one record of several in one buffer).
fn uniform_entry(binding: u32, dynamic_size: Option<u64>) -> wgpu::BindGroupLayoutEntry {
    buffer_entry(binding, wgpu::BufferBindingType::Uniform, dynamic_size)
}

fn buffer_entry(
    binding: u32,
    ty: wgpu::BufferBindingType,
    dynamic_size: Option<u64>,
) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty,
            has_dynamic_offset: dynamic_size.is_some(),
            min_binding_size: dynamic_size.and_then(wgpu::BufferSize::new),
        },
        count: None,
    }
}
