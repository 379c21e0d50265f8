//! Small wgpu resource helpers the GPU kernels share: bind-group-layout entries and buffers
//! created with contents, without wgpu's panicking helper.

use crate::error::{Error, Result};

/// A compute-stage read-write storage buffer at `binding`, of any size.
pub(super) fn storage_entry(binding: u32) -> wgpu::BindGroupLayoutEntry {
    buffer_entry(
        binding,
        wgpu::BufferBindingType::Storage { read_only: false },
        None,
    )
}

/// A compute-stage uniform buffer at `binding`; with `dynamic_size`, bound at a dynamic offset
/// and at least that many bytes (one record of several in one buffer).
pub(super) fn uniform_entry(binding: u32, dynamic_size: Option<u64>) -> wgpu::BindGroupLayoutEntry {
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

/// Bytes `offset .. offset + size` of `buffer` bound at `binding`.
pub(super) fn bound_range(
    binding: u32,
    buffer: &wgpu::Buffer,
    offset: u64,
    size: u64,
) -> wgpu::BindGroupEntry<'_> {
    wgpu::BindGroupEntry {
        binding,
        resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer,
            offset,
            size: wgpu::BufferSize::new(size),
        }),
    }
}

/// [`wgpu::util::DeviceExt::create_buffer_init`] without its panic. wgpu's helper creates the
/// buffer mapped and unwraps the mapping, which fails — and so panics — when the device is lost or
/// the allocation failed; here that is an [`Error::Gpu`] (the failed creation itself is reported
/// to the error scopes as usual). Same padding as wgpu's: the size is `contents.len()` rounded up
/// to a multiple of 4, at least 4; empty contents give an unmapped buffer of size 0.
pub(crate) fn create_buffer_init(
    device: &wgpu::Device,
    descriptor: &wgpu::util::BufferInitDescriptor<'_>,
) -> Result<wgpu::Buffer> {
    let contents = descriptor.contents;
    let padded = (contents.len() as u64)
        .next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT)
        .max(if contents.is_empty() {
            0
        } else {
            wgpu::COPY_BUFFER_ALIGNMENT
        });
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: descriptor.label,
        size: padded,
        usage: descriptor.usage,
        mapped_at_creation: !contents.is_empty(),
    });
    if contents.is_empty() {
        return Ok(buffer);
    }
    {
        let mut view = buffer
            .get_mapped_range_mut(..)
            .map_err(|e| Error::gpu("buffer creation", format!("cannot map a new buffer: {e}")))?;
        view.slice(..contents.len()).copy_from_slice(contents);
    }
    buffer.unmap();
    Ok(buffer)
}
