//! `--device`: which backend a subcommand draws on, and the output checks every writer shares.

use std::path::Path;

use clap::ValueEnum;
use nninit::{Backend, GpuContext, Result};

#[derive(Clone, Copy, ValueEnum)]
pub enum Device {
    Gpu,
    Cpu,
}

impl Device {
    /// The GPU handle for `--device gpu` (None for the CPU reference); pass it to `backend`.
    pub fn open(self) -> Result<Option<GpuContext>> {
        match self {
            Device::Gpu => GpuContext::new().map(Some),
            Device::Cpu => Ok(None),
        }
    }
}

/// The backend a `Device::open` result stands for.
pub fn backend(gpu: &Option<GpuContext>) -> Backend<'_> {
    gpu.as_ref().map_or(Backend::Cpu, Backend::Gpu)
}

/// Refuses an output path whose directory does not exist or takes no files, before any work.
pub fn check_output_dir(path: &Path) -> Result<()> {
    nninit::model::atomic_file::check_writable(path)
}
