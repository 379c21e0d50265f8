//! `nninit bench`: GPU fills, the same adapter's write ceiling, the CPU reference, the peer a Rust
//! user would pick (`rand` + `rand_distr`) and host memory bandwidth, measured side by side in one
//! run on this machine.
//!
//! Only the fill is timed. GPU: pipelines compiled, destination buffers created and filled once
//! (so wgpu's lazy zero-fill and the first touch of fresh memory are paid before timing), then
//! each run records the fill into a fresh encoder, submits it and waits for the device. CPU:
//! preallocated, already touched output. Every measurement is repeated (at least 5 runs) and
//! reported as median, min and max; the runs of the cases that are compared alternate (each
//! round runs every case of one size once), so they see the same load on a shared machine.
//!
//! The model benchmark initializes a model of 300 tensors of 1k to 4M elements (deterministic
//! sizes, one GPU buffer each, written nowhere else: the values stay in the GPU buffers) with
//! `FillKernels::record_fill_batch` (one encoder, one submit) and compares it with one
//! fill of the same total size.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use nninit::{Error, Result};

use crate::device::check_output_dir;

pub mod cases;
mod harness;
pub mod peer;
mod report;
mod runs;

#[derive(Args)]
pub struct BenchArgs {
    /// 1M and 16M elements only (within a minute on lavapipe).
    #[arg(long)]
    pub quick: bool,
    /// The CPU cases only (the CPU reference on every instruction set, the peer, memset): no
    /// adapter needed.
    #[arg(long)]
    pub cpu_only: bool,
    /// Also write the numbers as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// `nninit bench [--quick] [--cpu-only] [--json FILE]`.
pub fn run(args: BenchArgs) -> Result<()> {
    if let Some(path) = &args.json {
        check_output_dir(path)?;
    }
    let report = runs::run(args.quick, args.cpu_only)?;
    print!("{}", report.table());
    if let Some(path) = &args.json {
        let json = report.to_json();
        nninit::model::atomic_file::write_atomically(path, |file| {
            file.write_all(json.as_bytes()).map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })
        })?;
    }
    Ok(())
}
