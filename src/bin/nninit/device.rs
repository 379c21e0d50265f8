//! `--device`: which backend a subcommand draws on, and the output checks every writer shares.

use std::path::Path;

use clap::ValueEnum;
use nninit::backend::gpu::{is_hardware, request_adapter};
use nninit::{Backend, GpuContext, Result};

/// Where a subcommand draws. The values are the same on every choice (the value contract); only
/// the speed differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Device {
    /// A hardware adapter (discrete, integrated or virtual GPU) when there is one, otherwise the
    /// CPU reference: a software adapter such as lavapipe draws slower than the vectorized CPU
    /// reference on the same cores. `WGPU_ADAPTER_NAME` names an adapter explicitly, and then
    /// that adapter is used, whatever its type.
    Auto,
    /// The adapter wgpu picks (`WGPU_BACKEND`, `WGPU_ADAPTER_NAME`); an error without one.
    Gpu,
    /// The CPU reference on all cores.
    Cpu,
}

impl Device {
    /// The GPU handle to draw on, or `None` for the CPU reference; pass it to [`backend`].
    /// `auto` prints one line to stderr saying which it chose and why.
    pub fn open(self) -> Result<Option<GpuContext>> {
        match self {
            Device::Gpu => GpuContext::new().map(Some),
            Device::Cpu => Ok(None),
            Device::Auto => {
                let (gpu, why) = auto()?;
                let chosen = match &gpu {
                    Some(gpu) => format!("GPU {}", gpu.adapter_info().name),
                    None => "the CPU reference".to_string(),
                };
                eprintln!("nninit: device auto: {chosen} ({why})");
                Ok(gpu)
            }
        }
    }
}

/// `--device auto`'s choice and the reason for it.
fn auto() -> Result<(Option<GpuContext>, String)> {
    if std::env::var_os("WGPU_ADAPTER_NAME").is_some() {
        return Ok((
            Some(GpuContext::new()?),
            "named by WGPU_ADAPTER_NAME".into(),
        ));
    }
    if !gpu_device_node() {
        return Ok((None, "no GPU device node in /dev".into()));
    }
    let Ok(adapter) = pollster::block_on(request_adapter()) else {
        return Ok((None, "no GPU adapter found".into()));
    };
    let info = adapter.get_info();
    if is_hardware(&info) {
        let why = format!("a hardware adapter, {:?}", info.device_type);
        Ok((Some(GpuContext::from_adapter(&adapter)?), why))
    } else {
        let why = format!(
            "wgpu's adapter, {}, is a software rasterizer; --device gpu uses it anyway",
            info.name
        );
        Ok((None, why))
    }
}

/// Whether a hardware GPU could be behind a Vulkan driver here: on Linux every one needs a device
/// node (`/dev/dri/renderD*` for Mesa's and the open kernel drivers, `/dev/nvidia*` for NVIDIA's,
/// `/dev/dxg` under WSL2), and looking costs nothing where asking wgpu to list its adapters costs
/// about 50 ms (loading every driver, lavapipe's LLVM included) — an eighth of writing GPT-2.
/// Elsewhere, always `true`.
fn gpu_device_node() -> bool {
    if !cfg!(target_os = "linux") {
        return true;
    }
    let named = |dir: &str, prefix: &str| {
        std::fs::read_dir(dir).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with(prefix))
        })
    };
    named("/dev/dri", "renderD") || named("/dev", "nvidia") || Path::new("/dev/dxg").exists()
}

/// The backend a `Device::open` result stands for.
pub fn backend(gpu: &Option<GpuContext>) -> Backend<'_> {
    gpu.as_ref().map_or(Backend::Cpu, Backend::Gpu)
}

/// Refuses an output path whose directory does not exist or takes no files, before any work.
pub fn check_output_dir(path: &Path) -> Result<()> {
    nninit::model::atomic_file::check_writable(path)
}
