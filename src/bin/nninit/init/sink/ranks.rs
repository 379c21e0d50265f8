//! The sink of a placement on ranks: each rank's box of every tensor in its own file, and the
//! manifest. Under a launcher this process writes its own rank; without one, every rank's file,
//! one after another. Rank 0 writes the manifest last, once every rank's file is in place.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nninit::model::atomic_file::write_text;
use nninit::model::checkpoint::CONFIG;
use nninit::model::parallel::launcher::Launch;
use nninit::model::parallel::manifest::{
    MANIFEST, Manifest, check_rank_file, rank_file_name, write_manifest,
};
use nninit::model::parallel::rank_job;
use nninit::model::run::{Destination, RUN_KEY, RunGuard};
use nninit::{Error, Result};

use super::Options;
use crate::device::backend;
use crate::init::progress::{advance, finish, print_summary, progress_bar};
use crate::init::source::Model;

/// Writes the rank files this process owns of `model` as `manifest` places it — one rank
/// under a launcher, every rank without one — and, from rank 0 once every rank's file is in
/// place, the config and the manifest.
pub fn write(
    model: Model,
    mut manifest: Manifest,
    launch: Option<Launch>,
    options: &Options<'_>,
) -> Result<()> {
    let mesh = manifest.mesh;
    // Every rank computes the same id: the ranks of one run share the directory.
    let run = model.job.run_id();
    manifest.run = Some(run.to_string());
    let dir = options.out.map(Path::to_path_buf).unwrap_or_else(|| {
        let ep = match mesh.ep {
            1 => String::new(),
            ep => format!("-ep{ep}"),
        };
        PathBuf::from(format!("{}-tp{}-dp{}{ep}", model.stem, mesh.tp, mesh.dp))
    });
    let ranks: Vec<u64> = match &launch {
        Some(launch) => vec![launch.rank],
        None => (0..mesh.world_size()).collect(),
    };
    let writes_manifest = ranks.contains(&0);
    nninit::model::checkpoint::check_output_dir(&dir, MANIFEST)?;
    // One rank of a launch locks its own rank; a process that writes every rank, the directory.
    let destination = match &launch {
        Some(launch) => Destination::Rank(&dir, launch.rank),
        None => Destination::Dir(&dir),
    };
    let mut guard = RunGuard::claim(destination, run)?;
    guard.remove_leftovers(&dir, options.force)?;
    check_dir(&dir, &manifest, &ranks, writes_manifest, options.force)?;
    if writes_manifest && options.force {
        // The old manifest goes first, so it never points at files being replaced.
        remove_if_present(&dir.join(MANIFEST))?;
    }
    let gpu = options.device.open()?;
    for &rank in &ranks {
        let mut job = rank_job(&model.job, &manifest, rank);
        job.metadata.push((RUN_KEY.to_string(), run.to_string()));
        let path = dir.join(rank_file_name(rank, mesh.world_size()));
        let bar = progress_bar(job.tensors.len());
        let summary = nninit::model::init::run(backend(&gpu), &job, &path, |done, total| {
            advance(&bar, done, total)
        })?;
        finish(bar);
        print_summary(&path.display().to_string(), &summary, gpu.is_some());
    }
    if writes_manifest {
        if launch.is_some()
            && let Err(error) = wait_for_ranks(&dir, &manifest, options.force, options.rank_timeout)
        {
            // The other ranks' files of this run go too: without a manifest they are not a
            // checkpoint. (This rank's own go with its guard.)
            remove_files_of_run(&dir, &manifest);
            return Err(error);
        }
        if let Some(config) = &model.config_json {
            write_text(&dir.join(CONFIG), config)?;
        }
        write_manifest(&dir, &manifest)?;
        if options.force {
            remove_stale_rank_files(&dir, &manifest)?;
        }
        println!(
            "{}: {MANIFEST} for {} ranks (tp {} × dp {}, ep {})",
            dir.display(),
            mesh.world_size(),
            mesh.tp,
            mesh.dp,
            mesh.ep
        );
    }
    guard.finish();
    Ok(())
}

/// Before any work, with the directory locked: without `force` it holds neither the files these
/// ranks write nor (for rank 0) a manifest.
fn check_dir(
    dir: &Path,
    manifest: &Manifest,
    ranks: &[u64],
    writes_manifest: bool,
    force: bool,
) -> Result<()> {
    let world = manifest.mesh.world_size();
    let mut ours: Vec<String> = ranks.iter().map(|&r| rank_file_name(r, world)).collect();
    if writes_manifest {
        ours.push(MANIFEST.to_string());
    }
    if let Some(existing) = ours.iter().find(|name| dir.join(name).exists())
        && !force
    {
        return Err(Error::invalid(
            "out",
            dir.display(),
            format!("a directory without {existing}: pass --force to replace it"),
        ));
    }
    Ok(())
}

/// Rank 0 of a launch waits until every rank's file is in `dir` as the manifest describes it
/// (files appear whole, by rename), for at most `timeout`. A file there that belongs to another
/// run (another seed, world size, layout or model) fails at once, naming the file and the field,
/// unless `force`: then this run's rank is expected to replace it.
fn wait_for_ranks(dir: &Path, manifest: &Manifest, force: bool, timeout: Duration) -> Result<()> {
    let start = Instant::now();
    let files = manifest.files();
    let mut pending: Vec<u64> = (0..files.len() as u64).collect();
    loop {
        let mut still = Vec::new();
        for &rank in &pending {
            let path = dir.join(&files[rank as usize]);
            if !path.exists() {
                still.push(rank);
                continue;
            }
            let Err(error) = check_rank_file(manifest, rank, &path) else {
                continue;
            };
            if force {
                still.push(rank);
                continue;
            }
            let why = contradiction(manifest, rank, &path).unwrap_or_else(|| error.to_string());
            return Err(Error::Io {
                path: path.display().to_string(),
                source: std::io::Error::other(format!(
                    "a file of another run ({why}), which this run's rank {rank} will not \
                     replace without --force; {MANIFEST} was not written"
                )),
            });
        }
        pending = still;
        if pending.is_empty() {
            return Ok(());
        }
        if start.elapsed() > timeout {
            let missing: Vec<String> = pending.iter().map(u64::to_string).collect();
            return Err(Error::Io {
                path: dir.display().to_string(),
                source: std::io::Error::other(format!(
                    "rank{} {} wrote no file of this run within {} s (--rank-timeout), so \
                     {MANIFEST} was not written",
                    if missing.len() == 1 { "" } else { "s" },
                    missing.join(", "),
                    timeout.as_secs()
                )),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// How the rank file at `path` differs from what this run writes there, by its first field that
/// does: seed, world size, layout, or run (another model or dtype).
fn contradiction(manifest: &Manifest, rank: u64, path: &Path) -> Option<String> {
    let header = nninit::model::safetensors::Header::read(path).ok()?;
    let said = |key: &str| {
        header
            .metadata
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or("none")
            .to_string()
    };
    let world = manifest.mesh.world_size();
    let fields = [
        ("seed", "nninit.seed", manifest.seed.to_string()),
        ("rank/world size", "nninit.rank", format!("{rank}/{world}")),
        ("layout", "nninit.mesh", manifest.mesh.metadata()),
        ("run", RUN_KEY, manifest.run.clone().unwrap_or_default()),
    ];
    fields.into_iter().find_map(|(field, key, ours)| {
        let theirs = said(key);
        (theirs != ours).then(|| format!("{field} {theirs}, this run's {ours}"))
    })
}

/// Removes the rank files in `dir` that carry this run's id: what the other ranks of a run that
/// failed wrote.
fn remove_files_of_run(dir: &Path, manifest: &Manifest) {
    for name in manifest.files() {
        let path = dir.join(name);
        let ours = nninit::model::safetensors::Header::read(&path).is_ok_and(|h| {
            h.metadata.get(RUN_KEY).and_then(|v| v.as_str()) == manifest.run.as_deref()
        });
        if ours {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// With `--force`: rank files of another world size, left by an earlier run, go after the
/// manifest is in place.
fn remove_stale_rank_files(dir: &Path, manifest: &Manifest) -> Result<()> {
    let current = manifest.files();
    let listing = std::fs::read_dir(dir).map_err(|source| Error::Io {
        path: dir.display().to_string(),
        source,
    })?;
    for entry in listing.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_rank_file_name(&name) && !current.contains(&name) {
            remove_if_present(&entry.path())?;
        }
    }
    Ok(())
}

/// `rank-NNNNN-of-NNNNN.safetensors`.
fn is_rank_file_name(name: &str) -> bool {
    let digits = |s: &str| s.len() >= 5 && s.bytes().all(|b| b.is_ascii_digit());
    name.strip_prefix("rank-")
        .and_then(|rest| rest.strip_suffix(".safetensors"))
        .and_then(|rest| rest.split_once("-of-"))
        .is_some_and(|(rank, world)| digits(rank) && digits(world))
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(Error::Io {
            path: path.display().to_string(),
            source: error,
        }),
        _ => Ok(()),
    }
}
