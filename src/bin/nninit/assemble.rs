//! `nninit assemble`: a sharded run's rank files placed back into the unsharded checkpoint.

use std::path::PathBuf;

use clap::Args;
use nninit::model::checkpoint::{CONFIG, WEIGHTS};
use nninit::model::parallel::manifest::assemble;
use nninit::{Error, Result};

use crate::device::check_output_dir;

#[derive(Args)]
pub struct AssembleArgs {
    /// The directory of rank files and manifest.json that `init --tp/--dp` wrote.
    pub dir: PathBuf,
    /// The unsharded file (FILE.safetensors); for a run from a Hugging Face config, a
    /// directory that gets config.json and model.safetensors.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: AssembleArgs) -> Result<()> {
    let config = args.dir.join(CONFIG);
    let weights = if config.is_file() {
        if args.out.exists() && !args.out.is_dir() {
            return Err(Error::invalid(
                "out",
                args.out.display(),
                "a directory for config.json and model.safetensors (this is a file)",
            ));
        }
        std::fs::create_dir_all(&args.out).map_err(|source| Error::Io {
            path: args.out.display().to_string(),
            source,
        })?;
        args.out.join(WEIGHTS)
    } else {
        if args.out.extension().and_then(|e| e.to_str()) != Some("safetensors") {
            return Err(Error::invalid(
                "out",
                args.out.display(),
                "a path ending in .safetensors",
            ));
        }
        args.out.clone()
    };
    check_output_dir(&weights)?;
    let summary = assemble(&args.dir, &weights)?;
    if config.is_file() {
        // After the weights, as save_pretrained's directory is written.
        let text = std::fs::read_to_string(&config).map_err(|source| Error::Io {
            path: config.display().to_string(),
            source,
        })?;
        nninit::model::atomic_file::write_text(&args.out.join(CONFIG), &text)?;
    }
    println!(
        "{}: {} tensors from {} rank files ({} replicated boxes compared equal)",
        weights.display(),
        summary.tensors,
        summary.ranks,
        summary.replicas_compared
    );
    Ok(())
}
