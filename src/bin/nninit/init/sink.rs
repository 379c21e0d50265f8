//! The pipeline's last stage: the files a placement becomes — one `.safetensors` file (a preset
//! or model description, whole or one `--shard`), a checkpoint directory (a config), or the
//! rank files and manifest of a mesh ([`ranks`]). Each is claimed before the device is opened,
//! so a second writer fails first, with one line.

mod ranks;

use std::path::{Path, PathBuf};
use std::time::Duration;

use nninit::model::checkpoint;
use nninit::model::init::{FileClaim, InitJob, Part};
use nninit::{Error, Result};

use super::placement::Placement;
use super::progress::{advance, finish, print_summary, progress_bar};
use super::source::Model;
use crate::device::{Device, backend, check_output_dir};

/// Where and how the files are written.
pub struct Options<'a> {
    /// The output file or directory (default: from the model's name and the placement).
    pub out: Option<&'a Path>,
    /// Replace what is there, and remove what an interrupted run left.
    pub force: bool,
    pub device: Device,
    /// How long rank 0 of a launch waits for the other ranks' files.
    pub rank_timeout: Duration,
    /// A checkpoint's most bytes per shard (`--max-shard-size`).
    pub max_shard_size: Option<&'a str>,
}

/// Writes `model` as `placement` places it.
pub fn write(model: Model, placement: Placement, options: &Options<'_>) -> Result<()> {
    match placement {
        Placement::Ranks { manifest, launch } => ranks::write(model, manifest, launch, options),
        Placement::Whole if model.config_json.is_some() => checkpoint(model, options),
        Placement::Whole => file(model, Part::Whole, options),
        Placement::Shard(shard) => file(model, Part::Shard(shard), options),
    }
}

/// One `.safetensors` file: `MODEL.safetensors` or `MODEL.shard-I-of-N.safetensors` by default.
fn file(model: Model, part: Part, options: &Options<'_>) -> Result<()> {
    let out = options
        .out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| match &part {
            Part::Shard(s) => PathBuf::from(format!(
                "{}.shard-{}-of-{}.safetensors",
                model.stem, s.index, s.count
            )),
            _ => PathBuf::from(format!("{}.safetensors", model.stem)),
        });
    if out.extension().and_then(|e| e.to_str()) != Some("safetensors") {
        return Err(Error::invalid(
            "out",
            out.display(),
            "a path ending in .safetensors",
        ));
    }
    check_output_dir(&out)?;
    let job = InitJob { part, ..model.job };
    let claim = FileClaim::new(&out, job.run_id(), options.force)?;
    let gpu = options.device.open()?;
    let bar = progress_bar(job.tensors.len());
    let summary = claim.write(backend(&gpu), &job, |done, total| {
        advance(&bar, done, total)
    })?;
    finish(bar);
    print_summary(&out.display().to_string(), &summary, gpu.is_some());
    Ok(())
}

/// A Hugging Face checkpoint directory (`MODEL_TYPE-init` by default).
fn checkpoint(model: Model, options: &Options<'_>) -> Result<()> {
    let max_shard_bytes = match options.max_shard_size {
        Some(size) => checkpoint::parse_size(size)?,
        None => checkpoint::DEFAULT_MAX_SHARD_SIZE,
    };
    let dir = options
        .out
        .map_or_else(|| PathBuf::from(&model.stem), Path::to_path_buf);
    let config_json = model.config_json.unwrap_or_default();
    let claim = checkpoint::CheckpointClaim::new(&dir, model.job.run_id(), options.force)?;
    let gpu = options.device.open()?;
    let bar = progress_bar(model.job.tensors.len());
    let written = claim.write(
        backend(&gpu),
        &model.job,
        &config_json,
        max_shard_bytes,
        |done, total| advance(&bar, done, total),
    )?;
    finish(bar);
    let place = format!(
        "{} ({}, {} weights file{})",
        dir.display(),
        model.name,
        written.files.len(),
        if written.files.len() == 1 { "" } else { "s" }
    );
    print_summary(&place, &written.init, gpu.is_some());
    Ok(())
}
