//! `nninit init --tp N --dp M`: a model's tensors placed on a tp × dp mesh, each rank's box of
//! every tensor in its own file, and the manifest. Ranks come from `--rank/--world-size` or the
//! launcher (`nninit::model::parallel::launcher`); without either, this process writes every
//! rank's file, one after another.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nninit::model::atomic_file::write_text;
use nninit::model::checkpoint::CONFIG;
use nninit::model::init::InitJob;
use nninit::model::parallel::launcher::{self, Launch};
use nninit::model::parallel::manifest::{
    MANIFEST, Manifest, check_rank_file, rank_file_name, write_manifest,
};
use nninit::model::parallel::{Mesh, TpPlan, place, rank_job};
use nninit::{Error, Result};

use crate::device::backend;
use crate::init::{InitArgs, advance, finish, print_summary, progress_bar};

/// What a distributed run writes: the model's tensors, its plan, its name, and for a Hugging
/// Face config the `config.json` to put beside the rank files.
pub struct Model {
    pub name: String,
    pub job: InitJob,
    pub plan: Option<TpPlan>,
    pub config_json: Option<String>,
    /// The default output directory's stem.
    pub stem: String,
}

/// How long rank 0 waits for the other ranks' files before it writes the manifest.
const WAIT_FOR_RANKS: Duration = Duration::from_secs(600);

/// A distributed run that `args` ask for, and the launch this process is part of (`None`: no
/// flags and no launcher, so this process writes every rank).
pub struct Request {
    launch: Option<Launch>,
}

/// The distributed run `args` ask for — `--tp`, `--dp`, `--plan`, `--rank`/`--world-size`, or a
/// launcher that started more than one process — if any.
pub fn requested(args: &InitArgs) -> Result<Option<Request>> {
    let launch = launcher::detect(args.rank, args.world_size, env)?;
    let wanted = args.tp.is_some()
        || args.dp.is_some()
        || args.plan.is_some()
        || launch
            .as_ref()
            .is_some_and(|l| l.world_size > 1 || args.rank.is_some());
    Ok(wanted.then_some(Request { launch }))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Runs the ranks this process owns of `model` on the mesh `args` give.
pub fn run(args: &InitArgs, request: Request, model: Model) -> Result<()> {
    let mesh = Mesh::new(args.tp.unwrap_or(1), args.dp.unwrap_or(1))?;
    let launch = request.launch;
    if let Some(Launch {
        world_size, source, ..
    }) = &launch
        && *world_size != mesh.world_size()
    {
        return Err(Error::invalid(
            "world size",
            format!("{world_size} (from {source})"),
            format!(
                "tp × dp = {} × {} = {}: give --tp and --dp that multiply to it",
                mesh.tp,
                mesh.dp,
                mesh.world_size()
            ),
        ));
    }
    let plan = match (&args.plan, model.plan) {
        (Some(path), _) => read_plan(path)?,
        (None, Some(plan)) => plan,
        (None, None) if mesh.tp == 1 => TpPlan::default(),
        (None, None) => {
            return Err(Error::invalid(
                "plan",
                "none",
                format!(
                    "--plan FILE.json: {} has no built-in tensor-parallel plan for --tp {}",
                    model.name, mesh.tp
                ),
            ));
        }
    };
    let manifest = place(&model.name, &model.job, &plan, mesh)?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}-tp{}-dp{}", model.stem, mesh.tp, mesh.dp)));
    let ranks: Vec<u64> = match &launch {
        Some(launch) => vec![launch.rank],
        None => (0..mesh.world_size()).collect(),
    };
    let writes_manifest = ranks.contains(&0);
    check_dir(&dir, &manifest, &ranks, writes_manifest, args.force)?;
    std::fs::create_dir_all(&dir).map_err(|source| Error::Io {
        path: dir.display().to_string(),
        source,
    })?;
    if writes_manifest && args.force {
        // The old manifest goes first, so it never points at files being replaced.
        remove_if_present(&dir.join(MANIFEST))?;
    }
    let gpu = args.device.open()?;
    for &rank in &ranks {
        let job = rank_job(&model.job, &manifest, rank);
        let path = dir.join(rank_file_name(rank, mesh.world_size()));
        let bar = progress_bar(job.tensors.len());
        let summary = nninit::model::init::run(backend(&gpu), &job, &path, |done, total| {
            advance(&bar, done, total)
        })?;
        finish(bar);
        print_summary(&path.display().to_string(), &summary, gpu.is_some());
    }
    if writes_manifest {
        if launch.is_some() {
            wait_for_ranks(&dir, &manifest)?;
        }
        if let Some(config) = &model.config_json {
            write_text(&dir.join(CONFIG), config)?;
        }
        write_manifest(&dir, &manifest)?;
        if args.force {
            remove_stale_rank_files(&dir, &manifest)?;
        }
        println!(
            "{}: {MANIFEST} for {} ranks (tp {} × dp {})",
            dir.display(),
            mesh.world_size(),
            mesh.tp,
            mesh.dp
        );
    }
    Ok(())
}

fn read_plan(path: &Path) -> Result<TpPlan> {
    let text = std::fs::read_to_string(path).map_err(|source| {
        Error::invalid(
            "plan",
            path.display(),
            format!("a readable plan FILE.json ({source})"),
        )
    })?;
    TpPlan::from_json(&text)
}

/// Before any work: `dir` is a directory or can be made one, and without `force` holds neither
/// the files these ranks write nor (for rank 0) a manifest.
fn check_dir(
    dir: &Path,
    manifest: &Manifest,
    ranks: &[u64],
    writes_manifest: bool,
    force: bool,
) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        return Err(Error::invalid(
            "out",
            dir.display(),
            "a directory (this is a file)",
        ));
    }
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
    nninit::model::atomic_file::check_dir_writable(dir, MANIFEST)
}

/// Waits until every rank's file is in `dir` as the manifest describes it (files appear whole,
/// by rename), or [`WAIT_FOR_RANKS`] has passed.
fn wait_for_ranks(dir: &Path, manifest: &Manifest) -> Result<()> {
    let start = Instant::now();
    let files = manifest.files();
    for (rank, name) in files.iter().enumerate() {
        let path = dir.join(name);
        loop {
            match check_rank_file(manifest, rank as u64, &path) {
                Ok(_) => break,
                Err(error) if start.elapsed() > WAIT_FOR_RANKS => {
                    return Err(Error::Io {
                        path: path.display().to_string(),
                        source: std::io::Error::other(format!(
                            "rank {rank}'s file was not in place after {} s, so {MANIFEST} \
                             was not written ({error})",
                            WAIT_FOR_RANKS.as_secs()
                        )),
                    });
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }
    Ok(())
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
