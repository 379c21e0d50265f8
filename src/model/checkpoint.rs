//! A checkpoint directory as transformers' `save_pretrained` lays it out, so `from_pretrained`
//! loads it:
//!
//! - `model.safetensors` when every tensor fits in one shard of `max_shard_size` bytes, else
//!   `model-00001-of-0000N.safetensors` … and `model.safetensors.index.json`
//!   (`{"metadata": {"total_parameters", "total_size"}, "weight_map": {key: file}}`);
//!   shards are filled greedily in key order, and a tensor larger than the limit gets a shard
//!   of its own (huggingface_hub's `split_state_dict_into_shards_factory` does the same, but
//!   puts such a tensor's shard before the one it interrupts);
//! - `config.json` beside them.
//!
//! A run writes the directory whole or not at all ([`write`], [`crate::model::run`]): its shards
//! are drawn into hidden staging files and renamed into place together at the end, the config
//! after them and the index last, so no index ever names a missing shard, and a run that fails
//! leaves nothing. Weights already in the directory are replaced only with `force`; then the old
//! index goes first, and stale shards of the old layout last.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::backend::draw::Backend;
use crate::error::{Error, Result};
use crate::model::atomic_file::{check_dir_writable, write_text};
use crate::model::init::{InitJob, InitSummary, OutputFile, run_split};
use crate::model::run::{Destination, RUN_KEY, RunGuard, RunId};
use crate::model::safetensors::TensorRecord;

/// The single-file weights name.
pub const WEIGHTS: &str = "model.safetensors";
/// The index of a sharded checkpoint.
pub const INDEX: &str = "model.safetensors.index.json";
/// The config beside the weights.
pub const CONFIG: &str = "config.json";
/// transformers 4.x's `max_shard_size` default, which the issue asks for (5.x saves 50GB).
pub const DEFAULT_MAX_SHARD_SIZE: u64 = 5_000_000_000;

/// Parses a shard size as `save_pretrained` takes it: bytes as an integer, or a number with a
/// unit, decimal (`KB`, `MB`, `GB`, `TB`) or binary (`KiB`, `MiB`, `GiB`, `TiB`), in any case.
///
/// ```
/// use nninit::model::checkpoint::parse_size;
/// assert_eq!(parse_size("5GB")?, 5_000_000_000);
/// assert_eq!(parse_size("40KB")?, 40_000);
/// assert_eq!(parse_size("2GiB")?, 2 << 30);
/// assert_eq!(parse_size("1000")?, 1000);
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn parse_size(text: &str) -> Result<u64> {
    let invalid = || {
        Error::invalid(
            "max-shard-size",
            text,
            "a size ≥ 1 byte such as 500MB, 5GB, 2GiB or a byte count",
        )
    };
    let trimmed = text.trim();
    let digits = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(digits);
    let scale: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        "KIB" => 1 << 10,
        "MIB" => 1 << 20,
        "GIB" => 1 << 30,
        "TIB" => 1 << 40,
        _ => return Err(invalid()),
    };
    let value: f64 = number.parse().map_err(|_| invalid())?;
    let bytes = value * scale as f64;
    if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(invalid());
    }
    Ok(bytes as u64)
}

/// The shard file names for `count` shards.
pub fn shard_names(count: usize) -> Vec<String> {
    if count == 1 {
        return vec![WEIGHTS.to_string()];
    }
    (1..=count)
        .map(|i| format!("model-{i:05}-of-{count:05}.safetensors"))
        .collect()
}

/// How many consecutive tensors of `sizes` (bytes, in key order) go in each shard: greedily up
/// to `max_bytes`, a larger tensor alone. Always at least one shard.
pub fn split_sizes(sizes: &[u64], max_bytes: u64) -> Vec<usize> {
    let mut shards = Vec::new();
    let (mut count, mut bytes) = (0usize, 0u64);
    for &size in sizes {
        if count > 0 && bytes.saturating_add(size) > max_bytes {
            shards.push(count);
            (count, bytes) = (0, 0);
        }
        count += 1;
        bytes = bytes.saturating_add(size);
    }
    if count > 0 || shards.is_empty() {
        shards.push(count);
    }
    shards
}

/// Whether `name` is a weights file of a checkpoint: `model.safetensors`, its index, or a
/// shard `model-NNNNN-of-NNNNN.safetensors`.
fn is_weights_file(name: &str) -> bool {
    if name == WEIGHTS || name == INDEX {
        return true;
    }
    let Some(middle) = name
        .strip_prefix("model-")
        .and_then(|n| n.strip_suffix(".safetensors"))
    else {
        return false;
    };
    match middle.split_once("-of-") {
        Some((i, n)) => {
            i.len() >= 5
                && n.len() >= 5
                && i.bytes().all(|b| b.is_ascii_digit())
                && n.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// The weights files already in `dir` (none when it does not exist).
fn existing_weights(dir: &Path) -> Result<Vec<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::Io {
                path: dir.display().to_string(),
                source,
            });
        }
    };
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| is_weights_file(name))
        .collect();
    names.sort();
    Ok(names)
}

/// Checks, before any work, that a checkpoint can be written into `dir`: it is a directory or
/// does not exist yet (its parent must then be writable), and holds no weights unless `force`.
/// Errors are [`Error::InvalidParameter`] named `out`: usage errors, found before anything is
/// computed.
pub fn check_dir(dir: &Path, force: bool) -> Result<()> {
    checked_weights(dir, force).map(drop)
}

/// [`check_dir`], returning the weights files already in `dir` (which `force` allows).
fn checked_weights(dir: &Path, force: bool) -> Result<Vec<String>> {
    check_output_dir(dir, WEIGHTS)?;
    weights_to_replace(dir, force)
}

/// Before any work: `dir` is a directory, or can be made one whose parent accepts a file named
/// `probe`. An [`Error::InvalidParameter`] named `out` otherwise.
pub fn check_output_dir(dir: &Path, probe: &str) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::invalid(
            "out",
            dir.display(),
            "a directory (this is a file)",
        ));
    }
    check_dir_writable(dir, probe)
}

/// The weights files already in `dir`, which only `force` allows to replace.
fn weights_to_replace(dir: &Path, force: bool) -> Result<Vec<String>> {
    let existing = existing_weights(dir)?;
    if !existing.is_empty() && !force {
        let mut named = existing[..existing.len().min(3)].join(", ");
        if existing.len() > 3 {
            named += &format!(" and {} more", existing.len() - 3);
        }
        return Err(Error::invalid(
            "out",
            dir.display(),
            format!("a directory without weights; it holds {named}: pass --force to replace them"),
        ));
    }
    Ok(existing)
}

/// Where a checkpoint was written.
#[derive(Debug, Clone)]
pub struct CheckpointSummary {
    /// The run's summary.
    pub init: InitSummary,
    /// The weights files, in order.
    pub files: Vec<PathBuf>,
}

/// Writes the tensors of `job` into checkpoint directory `dir` (created if needed) with
/// `config_json` as its `config.json`: one shard per `max_shard_bytes` at most, the index last.
///
/// Whole or absent: the run locks `dir` first ([`RunGuard`]: another run writing it is an
/// [`Error::Busy`]), draws every shard into a hidden staging file, and only when all are
/// written renames them into place, then writes the config and the index. A run that fails
/// before that leaves the directory as it found it (and removes it if it created it); what an
/// earlier run that was killed left is refused by name, or removed with `force`. Every shard
/// records the run's id (`nninit.run`).
pub fn write(
    backend: Backend<'_>,
    job: &InitJob,
    config_json: &str,
    dir: &Path,
    max_shard_bytes: u64,
    force: bool,
    progress: impl FnMut(usize, usize),
) -> Result<CheckpointSummary> {
    CheckpointClaim::new(dir, job.run_id(), force)?.write(
        backend,
        job,
        config_json,
        max_shard_bytes,
        progress,
    )
}

/// [`write`] in two steps, so that a caller learns that it may write `dir` before it opens a
/// device: the claim, then the write.
#[derive(Debug)]
pub struct CheckpointClaim {
    guard: RunGuard,
    dir: PathBuf,
    old_weights: Vec<String>,
}

impl CheckpointClaim {
    /// Locks `dir` for run `run` ([`InitJob::run_id`] of the job it will write), creating it, and
    /// refuses weights already there, or what an earlier run left, without `force`.
    pub fn new(dir: &Path, run: RunId, force: bool) -> Result<CheckpointClaim> {
        check_output_dir(dir, WEIGHTS)?;
        let mut guard = RunGuard::claim(Destination::Dir(dir), run)?;
        guard.remove_leftovers(dir, force)?;
        let old_weights = weights_to_replace(dir, force)?;
        Ok(CheckpointClaim {
            guard,
            dir: dir.to_path_buf(),
            old_weights,
        })
    }

    /// Draws `job` into the claimed directory and commits it: see [`write`].
    pub fn write(
        self,
        backend: Backend<'_>,
        job: &InitJob,
        config_json: &str,
        max_shard_bytes: u64,
        progress: impl FnMut(usize, usize),
    ) -> Result<CheckpointSummary> {
        let CheckpointClaim {
            guard,
            dir,
            old_weights,
        } = self;
        let dir = dir.as_path();
        let run = guard.run().to_string();
        let mut job = job.clone();
        job.metadata.push((RUN_KEY.to_string(), run.clone()));
        let io_error = |path: &Path| {
            let path = path.display().to_string();
            move |source| Error::Io { path, source }
        };
        // Where each shard is drawn before the run commits it.
        let staged = |name: &str| dir.join(format!(".nninit-staged-{run}-{name}"));
        // The shard names and the index's weight_map (key → shard), once the tensors are planned.
        let mut layout: Option<(Vec<String>, Map<String, Value>)> = None;
        let split = |records: &[TensorRecord]| -> Result<Vec<OutputFile>> {
            let sizes = records
                .iter()
                .map(TensorRecord::byte_len)
                .collect::<Result<Vec<_>>>()?;
            let counts = split_sizes(&sizes, max_shard_bytes);
            let names = shard_names(counts.len());
            let mut weight_map = Map::new();
            let mut tensors = records.iter();
            for (name, &count) in names.iter().zip(&counts) {
                for record in tensors.by_ref().take(count) {
                    weight_map.insert(record.name.clone(), Value::from(name.as_str()));
                }
            }
            let files = names
                .iter()
                .zip(&counts)
                .map(|(name, &tensors)| OutputFile {
                    path: staged(name),
                    tensors,
                })
                .collect();
            layout = Some((names, weight_map));
            Ok(files)
        };
        // An error names the shard, not its staging file.
        let staging = format!(".nninit-staged-{run}-");
        let init = run_split(backend, &job, split, progress).map_err(|error| match error {
            Error::Io { path, source } => Error::Io {
                path: path.replace(&staging, ""),
                source,
            },
            other => other,
        })?;
        let (names, weight_map) = layout.ok_or_else(|| {
            Error::invalid("output files", "none", "the checkpoint's shard layout")
        })?;
        // Commit. No index may point at shards while they are being replaced: the old one goes
        // first.
        if old_weights.iter().any(|name| name == INDEX) {
            let index = dir.join(INDEX);
            std::fs::remove_file(&index).map_err(io_error(&index))?;
        }
        for name in &names {
            let (from, to) = (staged(name), dir.join(name));
            guard.created(&to);
            std::fs::rename(&from, &to).map_err(io_error(&to))?;
        }
        write_text(&dir.join(CONFIG), config_json)?;
        if names.len() > 1 {
            write_text(&dir.join(INDEX), &index_json(weight_map, &init))?;
        }
        for stale in old_weights
            .iter()
            .filter(|old| !names.contains(old) && *old != INDEX)
        {
            let path = dir.join(stale);
            std::fs::remove_file(&path).map_err(io_error(&path))?;
        }
        guard.finish();
        Ok(CheckpointSummary {
            init,
            files: names.iter().map(|name| dir.join(name)).collect(),
        })
    }
}

/// `model.safetensors.index.json` as transformers 5.x writes it (keys sorted, 2-space indent).
fn index_json(weight_map: Map<String, Value>, init: &InitSummary) -> String {
    let index = json!({
        "metadata": {"total_parameters": init.parameters, "total_size": init.bytes},
        "weight_map": weight_map,
    });
    let mut text = serde_json::to_string_pretty(&index).expect("a JSON object always serializes");
    text.push('\n');
    text
}

/// The `.safetensors` files `nninit verify PATH` checks: PATH itself when it is a file; every
/// rank file of a sharded run's directory, checked against its manifest
/// ([`crate::model::parallel::manifest::check_ranks`]); or a checkpoint directory's weights,
/// checked against its index ([`weight_files`]).
pub fn files_to_verify(path: &Path) -> Result<Vec<PathBuf>> {
    if path
        .join(crate::model::parallel::manifest::MANIFEST)
        .exists()
    {
        Ok(crate::model::parallel::manifest::check_ranks(path)?.1)
    } else if path.is_dir() {
        weight_files(path)
    } else {
        Ok(vec![path.to_path_buf()])
    }
}

/// Whether `files` come from one run: the same run id (`nninit.run`) and seed (`nninit.seed`)
/// in every file's metadata. `None` when they do; otherwise which files hold what, one group per
/// (run, seed), for an error message.
pub fn mixed_runs(files: &[PathBuf]) -> Result<Option<String>> {
    let mut groups: Vec<((String, String), Vec<String>)> = Vec::new();
    for file in files {
        let header = crate::model::safetensors::Header::read(file)?;
        let said = |key: &str| {
            header
                .metadata
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or("none")
                .to_string()
        };
        let key = (said(RUN_KEY), said("nninit.seed"));
        let name = file
            .file_name()
            .map_or(file.display().to_string(), |n| n.to_string_lossy().into());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, names)) => names.push(name),
            None => groups.push((key, vec![name])),
        }
    }
    if groups.len() <= 1 {
        return Ok(None);
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|((run, seed), names)| {
            let shown = if names.len() > 3 {
                format!("{} and {} more", names[..3].join(", "), names.len() - 3)
            } else {
                names.join(", ")
            };
            format!("{shown} (run {run}, seed {seed})")
        })
        .collect();
    Ok(Some(parts.join("; ")))
}

/// The weights files of checkpoint directory `dir`, checked against its index: with an index,
/// every file it names must exist and hold exactly the keys the index maps to it; without one,
/// `model.safetensors`.
pub fn weight_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let index_path = dir.join(INDEX);
    if !index_path.exists() {
        let single = dir.join(WEIGHTS);
        if !single.is_file() {
            return Err(Error::invalid(
                "file",
                dir.display(),
                format!("a .safetensors file, or a directory with {WEIGHTS} or {INDEX}"),
            ));
        }
        return Ok(vec![single]);
    }
    let bad_index = |reason: String| Error::Parse {
        what: "checkpoint index",
        input: index_path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(&index_path).map_err(|source| Error::Io {
        path: index_path.display().to_string(),
        source,
    })?;
    let index: Value = serde_json::from_str(&text).map_err(|e| bad_index(e.to_string()))?;
    let weight_map = index["weight_map"]
        .as_object()
        .ok_or_else(|| bad_index("no weight_map object".into()))?;
    let mut files: Vec<String> = Vec::new();
    for file in weight_map.values() {
        let file = file
            .as_str()
            .ok_or_else(|| bad_index("a weight_map value is not a file name".into()))?;
        if !files.iter().any(|f| f == file) {
            files.push(file.to_string());
        }
    }
    files.sort();
    for file in &files {
        let path = dir.join(file);
        let mut keys = safetensors_keys(&path)?;
        keys.sort();
        let mut listed: Vec<&String> = weight_map
            .iter()
            .filter(|(_, f)| f.as_str() == Some(file))
            .map(|(key, _)| key)
            .collect();
        listed.sort();
        if keys.iter().collect::<Vec<_>>() != listed {
            return Err(bad_index(format!(
                "{file} holds {} tensors, the index maps {} to it",
                keys.len(),
                listed.len()
            )));
        }
    }
    Ok(files.iter().map(|file| dir.join(file)).collect())
}

/// The tensor names in a safetensors file's header, read without its data.
fn safetensors_keys(path: &Path) -> Result<Vec<String>> {
    use std::io::Read;
    let io_error = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    let bad = |reason: String| Error::Parse {
        what: "safetensors file",
        input: path.display().to_string(),
        reason,
    };
    let mut file = std::fs::File::open(path).map_err(io_error)?;
    let mut length = [0u8; 8];
    file.read_exact(&mut length).map_err(io_error)?;
    let length = u64::from_le_bytes(length);
    if length > 100 << 20 {
        return Err(bad(format!("a {length}-byte header")));
    }
    let mut header = vec![0u8; length as usize];
    file.read_exact(&mut header).map_err(io_error)?;
    let header: Map<String, Value> =
        serde_json::from_slice(&header).map_err(|e| bad(e.to_string()))?;
    Ok(header
        .into_iter()
        .map(|(key, _)| key)
        .filter(|key| key != "__metadata__")
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_fill_in_key_order_and_a_large_tensor_stands_alone() {
        assert_eq!(split_sizes(&[4, 4, 4, 4], 8), vec![2, 2]);
        assert_eq!(split_sizes(&[4, 20, 4, 4], 8), vec![1, 1, 2]);
        assert_eq!(split_sizes(&[20], 8), vec![1]);
        assert_eq!(split_sizes(&[3, 3, 3], 9), vec![3]);
        assert_eq!(split_sizes(&[], 9), vec![0]);
        assert_eq!(shard_names(1), vec!["model.safetensors"]);
        assert_eq!(
            shard_names(2),
            vec![
                "model-00001-of-00002.safetensors",
                "model-00002-of-00002.safetensors"
            ]
        );
    }

    #[test]
    fn sizes_read_as_save_pretrained_reads_them() {
        assert_eq!(parse_size("500MB").unwrap(), 500_000_000);
        assert_eq!(parse_size("1.5gb").unwrap(), 1_500_000_000);
        assert_eq!(parse_size("10MiB").unwrap(), 10 << 20);
        assert_eq!(parse_size(" 7 B").unwrap(), 7);
        for bad in ["", "0", "GB", "5XB", "-1GB", "1e3", "0.1B"] {
            let error = parse_size(bad).unwrap_err().to_string();
            assert!(error.contains("max-shard-size"), "{bad}: {error}");
        }
    }

    #[test]
    fn weights_files_are_recognized_by_name() {
        for name in [WEIGHTS, INDEX, "model-00001-of-00003.safetensors"] {
            assert!(is_weights_file(name), "{name}");
        }
        for name in [
            CONFIG,
            "model-1-of-3.safetensors",
            "other.safetensors",
            "model.bin",
        ] {
            assert!(!is_weights_file(name), "{name}");
        }
    }
}
