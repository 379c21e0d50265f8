//! Tensor- and data-parallel ranks: which box of every tensor each rank of a device mesh holds.
//!
//! A tensor is placed as PyTorch's DTensor places it, on each of two mesh dimensions:
//! - **tp** (tensor parallel, `--tp N`): [`Placement::Replicate`], or [`Placement::Shard`] of
//!   one dimension, as a [`TpPlan`] says (built in for every Hugging Face architecture and
//!   preset, in the Megatron/torchtitan convention, or from `--plan FILE.json`);
//! - **dp** (data parallel, `--dp M`): FSDP2's `Shard(0)` of each tp-local tensor (a 0-dim
//!   tensor is replicated).
//!
//! A dimension is split like `torch.chunk`: ⌈n/N⌉ per rank, the last ranks shorter or empty
//! ([`chunk`]), as DTensor and FSDP2 split it; the dp split divides the tp-local extent again.
//! Ranks are numbered with tp fastest, as Megatron and torchtitan number them:
//! `rank = dp_rank · tp + tp_rank` ([`Mesh::coords`]).
//!
//! Values never depend on any of this: a rank's box holds exactly the values of those elements
//! of the unsharded tensor, computed directly ([`crate::contract::slice`]).

pub mod launcher;
pub mod manifest;
pub mod plan;

use crate::error::{Error, Result};
use crate::model::init::{InitJob, Part};
use crate::model::role::TensorRole;
use crate::scheme::layers::ParamInit;
use manifest::{Manifest, PlacedTensor};
pub use plan::{
    ExpertPlacement, MAX_WORLD, Mesh, Placement, PlanRule, TpPlan, chunk, matches_pattern,
};

/// Places every tensor of `job` (whole, as an unsharded run would write it) on `mesh` as `plan`
/// says: the manifest of a sharded run of model `model`.
pub fn place(model: &str, job: &InitJob, plan: &TpPlan, mesh: Mesh) -> Result<Manifest> {
    let names: Vec<(&str, &[u64])> = job
        .tensors
        .iter()
        .map(|t| {
            (
                t.tensor.param.name.as_str(),
                t.tensor.param.shape.as_slice(),
            )
        })
        .collect();
    let placements = plan.placements(&names, mesh.tp)?;
    let mut experts = 0;
    let tensors = job
        .tensors
        .iter()
        .zip(placements)
        .map(|(t, tp)| {
            let param = &t.tensor.param;
            let dtype = match param.init {
                ParamInit::ZeroI64 => safetensors::Dtype::I64,
                ParamInit::Scheme { .. } => t.dtype.unwrap_or(job.dtype).safetensors_dtype(),
            };
            let ep = expert_placement(t.tensor.role.as_ref(), &param.shape, mesh).map_err(
                |allowed| Error::invalid("ep", mesh.ep, format!("{allowed} ({})", param.name)),
            )?;
            experts += usize::from(ep.is_some());
            let dp = match ep {
                Some(_) => Placement::Replicate,
                None => mesh.dp_placement(param.shape.len()),
            };
            Ok(PlacedTensor {
                name: param.name.clone(),
                shape: param.shape.clone(),
                dtype: dtype.to_string(),
                tp,
                dp,
                ep,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if mesh.ep > 1 && experts == 0 {
        return Err(Error::invalid(
            "ep",
            mesh.ep,
            format!("1 ({model} has no routed experts)"),
        ));
    }
    Ok(Manifest {
        model: model.to_string(),
        seed: job.seed,
        run: None,
        mesh,
        tensors,
    })
}

/// How a tensor in role `role` lies over the expert-parallel ranks of `mesh`: `None` but for a
/// routed expert's tensor on a mesh with `ep > 1`; an error (what `ep` must be) where the
/// experts do not split into whole experts per ep rank.
fn expert_placement(
    role: Option<&TensorRole>,
    shape: &[u64],
    mesh: Mesh,
) -> std::result::Result<Option<ExpertPlacement>, String> {
    let Some(role) = role.filter(|r| mesh.ep > 1 && r.role.is_routed_expert()) else {
        return Ok(None);
    };
    let (placement, count) = match role.expert {
        Some(expert) => (
            ExpertPlacement::Own {
                index: expert.index,
                count: expert.count,
            },
            expert.count,
        ),
        None => (ExpertPlacement::Fused, shape.first().copied().unwrap_or(0)),
    };
    if count.is_multiple_of(mesh.ep) && count > 0 {
        Ok(Some(placement))
    } else {
        Err(format!("a divisor of the {count} routed experts"))
    }
}

/// The job of `rank`: `job`'s tensors, each only the box the manifest gives the rank, with
/// the job's metadata and the rank and mesh (`nninit.rank` = `R/W`, `nninit.mesh` =
/// [`Mesh::metadata`], e.g.
/// `tp=T,dp=D`).
pub fn rank_job(job: &InitJob, manifest: &Manifest, rank: u64) -> InitJob {
    let slices = manifest
        .tensors
        .iter()
        .map(|tensor| manifest.slice(tensor, rank))
        .collect();
    let mesh = manifest.mesh;
    let mut metadata = job.metadata.clone();
    metadata.extend([
        (
            "nninit.rank".to_string(),
            format!("{rank}/{}", mesh.world_size()),
        ),
        ("nninit.mesh".to_string(), mesh.metadata()),
    ]);
    InitJob {
        part: Part::Slices(slices),
        metadata,
        ..job.clone()
    }
}
