//! The pipeline's second stage: where the model's tensors go — whole, one `--shard I/N`, or
//! the ranks of a tp × dp (× ep) mesh that flags or the launcher give, each rank's boxes in the
//! manifest.

use std::path::Path;

use nninit::model::init::Shard;
use nninit::model::parallel::launcher::{self, Launch};
use nninit::model::parallel::manifest::Manifest;
use nninit::model::parallel::{Mesh, TpPlan, place};
use nninit::{Error, Result};

use super::source::Model;

/// The placement flags of `nninit init`.
pub struct Flags<'a> {
    pub tp: Option<u64>,
    pub dp: Option<u64>,
    pub ep: Option<u64>,
    pub plan: Option<&'a Path>,
    pub rank: Option<u64>,
    pub world_size: Option<u64>,
    pub shard: Option<&'a str>,
}

/// Where the tensors go.
pub enum Placement {
    /// Every tensor whole, in one file or checkpoint.
    Whole,
    /// One of N contiguous dim-0 row blocks of every tensor (`--shard I/N`).
    Shard(Shard),
    /// The ranks of a mesh: the manifest (without its run id), and the launch this process is
    /// part of (`None`: no launcher, so this process writes every rank).
    Ranks {
        manifest: Manifest,
        launch: Option<Launch>,
    },
}

/// The placement `flags` (and the launcher's environment) ask for `model`.
pub fn choose(flags: &Flags<'_>, model: &Model) -> Result<Placement> {
    let launch = launcher::detect(flags.rank, flags.world_size, |name| {
        std::env::var(name).ok()
    })?;
    let ranks = flags.tp.is_some()
        || flags.dp.is_some()
        || flags.ep.is_some()
        || flags.plan.is_some()
        || launch
            .as_ref()
            .is_some_and(|l| l.world_size > 1 || flags.rank.is_some());
    if ranks {
        let manifest = manifest(flags, launch.as_ref(), model)?;
        return Ok(Placement::Ranks { manifest, launch });
    }
    match flags.shard {
        Some(shard) => Ok(Placement::Shard(Shard::parse(shard)?)),
        None => Ok(Placement::Whole),
    }
}

/// Every tensor of `model` placed on the mesh `flags` give (the launcher's world size must be
/// its size), by `--plan` or the model's own plan.
fn manifest(flags: &Flags<'_>, launch: Option<&Launch>, model: &Model) -> Result<Manifest> {
    let mesh =
        Mesh::new(flags.tp.unwrap_or(1), flags.dp.unwrap_or(1))?.with_ep(flags.ep.unwrap_or(1))?;
    if let Some(Launch {
        world_size, source, ..
    }) = launch
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
    let plan = match (flags.plan, &model.plan) {
        (Some(path), _) => read_plan(path)?,
        (None, Some(plan)) => plan.clone(),
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
    place(&model.name, &model.job, &plan, mesh)
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
