//! Fuzzes the Hugging Face config reader: `HfModel::from_config_json` on arbitrary text must
//! return a model or an error, never panic, hang or allocate without bound. For every model that
//! parses, it then does what `nninit init --config` does before drawing a value — the
//! `config.json` written beside the weights, the job of every tensor planned (records, byte sizes,
//! the checkpoint's shard split), and the architecture's tensor-parallel plan placed on a few
//! meshes with each rank's box planned — and checks:
//! - at most 64 × `MAX_LAYERS` tensors, their names unique, every tensor of at most `MAX_DIM`
//!   elements, a padding row inside its tensor;
//! - the written `config.json` parses back to the same class, tensors and plan;
//! - when the whole model plans, every rank's job of every placement plans too, and a manifest
//!   (when small) reads back from its own text.
//!
//! Nothing is drawn, so no allocation is proportional to a tensor's size: a config describing a
//! huge model is an error or a cheap plan.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use nninit::model::hf::HfModel;
use nninit::model::hf::config::{MAX_DIM, MAX_LAYERS};
use nninit::model::init::InitJob;
use nninit::model::json::FileTensor;
use nninit::model::parallel::manifest::Manifest;
use nninit::model::parallel::{Mesh, place, rank_job};
use nninit::scheme::layers::ParamInit;
use nninit::{Dtype, Result};

#[path = "../common/plan_only.rs"]
mod plan_only;

/// Meshes the built-in plan is placed on: (tp, dp).
const MESHES: [(u64, u64); 6] = [(1, 1), (2, 1), (1, 2), (2, 2), (3, 1), (4, 2)];

/// Manifests with at most this many boxes (tensors × ranks) are written and read back.
const ROUND_TRIP_BOXES: usize = 256;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(model) = HfModel::from_config_json(text) else {
        return;
    };
    check_tensors(&model);

    // The config.json written beside the weights is one the same model is read from (the dtype
    // only sets its "dtype" field).
    let written = model.config_json(Dtype::Bf16.torch_name());
    let again = HfModel::from_config_json(&written)
        .unwrap_or_else(|e| panic!("{text:?} wrote config.json {written:?}, which fails: {e}"));
    assert_eq!(
        (again.model_type, again.class),
        (model.model_type, model.class)
    );
    assert!(
        again.tensors == model.tensors,
        "{text:?}: tensors differ after config_json"
    );
    assert!(
        again.tp_plan == model.tp_plan,
        "{text:?}: tp plan differs after config_json"
    );

    let tensors: Vec<FileTensor> = model
        .tensors
        .iter()
        .cloned()
        .map(FileTensor::from)
        .collect();
    let job = InitJob::whole(tensors, 0, Dtype::Bf16);
    // A model whose recipe cannot be planned (say a σ beyond f32) is refused here, with an error.
    if plan_only::plan(&job).is_err() {
        return;
    }
    for (tp, dp) in MESHES {
        place_and_plan(&model, &job, Mesh::new(tp, dp).expect("a small mesh"));
    }
});

/// What every model built from a config must be.
fn check_tensors(model: &HfModel) {
    // Bounded work: at most two stacks of MAX_LAYERS layers of a few dozen tensors each.
    assert!(
        model.tensors.len() <= 64 * MAX_LAYERS as usize,
        "{} tensors",
        model.tensors.len()
    );
    let mut names = HashSet::new();
    for tensor in &model.tensors {
        let param = &tensor.param;
        assert!(
            names.insert(param.name.as_str()),
            "tensor {} twice",
            param.name
        );
        let numel = param.shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d));
        assert!(
            numel.is_some_and(|n| n <= MAX_DIM),
            "{} of shape {:?} passed the size check",
            param.name,
            param.shape
        );
        if let ParamInit::Scheme {
            zero_row: Some(row),
            ..
        } = &param.init
        {
            assert!(
                param.shape.first().is_some_and(|rows| row < rows),
                "{}: padding row {row} outside {:?}",
                param.name,
                param.shape
            );
        }
    }
}

/// Places `job` on `mesh` with the model's plan; where that succeeds, the first and last ranks'
/// jobs must plan, and a small manifest must read back from its text.
fn place_and_plan(model: &HfModel, job: &InitJob, mesh: Mesh) {
    let Ok(manifest) = place(model.class, job, &model.tp_plan, mesh) else {
        return;
    };
    assert_eq!(manifest.tensors.len(), job.tensors.len());
    let world = mesh.world_size();
    for rank in [0, world - 1] {
        let result: Result<()> = plan_only::plan(&rank_job(job, &manifest, rank));
        if let Err(error) = result {
            panic!("rank {rank} of {mesh:?}: the whole model plans, its box does not: {error}");
        }
    }
    if manifest.tensors.len() * world as usize <= ROUND_TRIP_BOXES {
        let text = manifest.to_json();
        let back = Manifest::from_json(&text, "fuzz")
            .unwrap_or_else(|e| panic!("a manifest of {mesh:?} does not read back: {e}"));
        assert!(
            back == manifest,
            "the manifest of {mesh:?} reads back differently"
        );
    }
}
