//! Adapter and device selection: wgpu's environment variables without wgpu's panics, and the
//! adapter's own limits.

use std::sync::{Arc, OnceLock};

use crate::error::{Error, Result};

/// Finds an adapter the way wgpu's own helpers do — `WGPU_BACKEND` limits the backends (default:
/// Vulkan, Metal, DX12),
/// `WGPU_ADAPTER_NAME` picks the first adapter whose name contains it (case-insensitive),
/// `WGPU_POWER_PREF` sets the preference otherwise — but returns an error instead of panicking
/// when nothing matches.
///
/// Every adapter comes from one wgpu instance per process, so that wgpu can tell the devices of
/// two handles apart: a buffer of one device used with another is then a validation error (an
/// [`Error::Gpu`]), where across instances wgpu mistakes it for one of its own and panics.
pub async fn request_adapter() -> Result<wgpu::Adapter> {
    static INSTANCE: OnceLock<wgpu::Instance> = OnceLock::new();
    // Without WGPU_BACKEND, the primary backends only (Vulkan, Metal, DX12): the GL backend's
    // EGL probing on headless Linux is noisy and was seen to panic inside wgpu-hal when its
    // adapters are dropped. `WGPU_BACKEND=gl` still selects it.
    let backends = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::PRIMARY);
    let instance = INSTANCE.get_or_init(|| {
        let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        descriptor.backends = backends;
        wgpu::Instance::new(descriptor)
    });
    if let Ok(wanted) = std::env::var("WGPU_ADAPTER_NAME") {
        let wanted_lower = wanted.to_lowercase();
        let adapters = instance.enumerate_adapters(backends).await;
        let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
        return adapters
            .into_iter()
            .find(|a| a.get_info().name.to_lowercase().contains(&wanted_lower))
            .ok_or_else(|| Error::NoAdapter {
                reason: format!("WGPU_ADAPTER_NAME={wanted:?} matches none of {names:?}"),
            });
    }
    instance
        .request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::from_env()
                .unwrap_or(wgpu::PowerPreference::HighPerformance),
            force_fallback_adapter: false,
            compatible_surface: None,
            ..Default::default()
        })
        .await
        .map_err(|e| Error::NoAdapter {
            reason: format!("{e}; backends {backends:?}"),
        })
}

/// A device with the adapter's own limits (not wgpu's defaults: lavapipe binds only 128 MiB under
/// those, real GPUs far more), whose uncaptured errors are logged instead of panicking.
pub async fn request_device(adapter: &wgpu::Adapter) -> Result<(wgpu::Device, wgpu::Queue)> {
    let (device, queue) = adapter
        .request_device(&wgpu::DeviceDescriptor {
            label: Some("nninit"),
            // 64-bit integers where the adapter has them: the fill kernels then use one wide
            // multiply for Philox's mul-hi (same values; 12–20% less work on lavapipe).
            required_features: adapter.features() & wgpu::Features::SHADER_INT64,
            required_limits: adapter.limits(),
            ..Default::default()
        })
        .await
        .map_err(|e| Error::RequestDevice {
            adapter: adapter.get_info().name,
            reason: e.to_string(),
        })?;
    device.on_uncaptured_error(Arc::new(|error| {
        log::error!("uncaptured wgpu error: {error}")
    }));
    Ok((device, queue))
}

/// Whether an adapter is a hardware one — a discrete, integrated or virtual GPU — rather than a
/// software rasterizer such as lavapipe (which draws slower than the CPU reference on the same
/// cores): what `--device auto` draws on.
pub fn is_hardware(info: &wgpu::AdapterInfo) -> bool {
    matches!(
        info.device_type,
        wgpu::DeviceType::DiscreteGpu
            | wgpu::DeviceType::IntegratedGpu
            | wgpu::DeviceType::VirtualGpu
    )
}
