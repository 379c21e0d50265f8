//! `nninit adapter`: the adapter wgpu picks and its limits.

use nninit::{GpuContext, Result};

pub fn run() -> Result<()> {
    let gpu = GpuContext::new()?;
    let info = gpu.adapter_info();
    let limits = gpu.device().limits();
    println!(
        "adapter: {} ({:?}, {:?}, driver {} {})",
        info.name, info.backend, info.device_type, info.driver, info.driver_info
    );
    println!(
        "limits: max_buffer_size {} B, max_storage_buffer_binding_size {} B, \
         min_storage_buffer_offset_alignment {} B, max_compute_workgroups_per_dimension {}",
        limits.max_buffer_size,
        limits.max_storage_buffer_binding_size,
        limits.min_storage_buffer_offset_alignment,
        limits.max_compute_workgroups_per_dimension
    );
    Ok(())
}
