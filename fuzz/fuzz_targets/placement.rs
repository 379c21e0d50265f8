//! Fuzzes the placement flags and the launcher environment of `nninit init --tp/--dp`: the flags
//! `--tp`, `--dp`, `--rank`, `--world-size`, the variables torchrun, Open MPI and Slurm set, and a
//! `--plan` file, as `nninit init` takes them, on a small fixed model. The input is text:
//!
//! ```text
//! model=llama            (mlp, llama, t5 or json; default mlp)
//! tp=2
//! dp=2
//! rank=3                 (--rank; absent: not given)
//! world=4                (--world-size)
//! RANK=3                 (any other NAME=value line: an environment variable)
//! plan=[{"pattern": "fc1.*", "placement": "Shard(0)"}]     (the rest of the input: --plan)
//! ```
//!
//! `launcher::detect`, `Mesh::new`, `TpPlan::from_json`, `place`, `rank_job` must never panic,
//! and where they succeed:
//! - every rank's box of every tensor lies inside it, and over all ranks the boxes hold each
//!   element once per replica (tp replicas of a replicated tensor, every rank of a 0-dim one);
//! - every rank's job plans (nothing is drawn);
//! - the manifest (when small) reads back from `to_json` equal, and `to_json` of that is the
//!   same text.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use nninit::Dtype;
use nninit::model::hf::HfModel;
use nninit::model::init::{InitJob, Part};
use nninit::model::json::{FileTensor, parse_model_json};
use nninit::model::parallel::manifest::Manifest;
use nninit::model::parallel::{Mesh, Placement, TpPlan, launcher, place, rank_job};
use nninit::model::presets;

#[path = "../common/plan_only.rs"]
mod plan_only;

/// A model: its name, its job and its built-in plan (none for a model JSON file).
struct Model {
    name: String,
    job: InitJob,
    plan: Option<TpPlan>,
}

const LLAMA: &str = r#"{"model_type": "llama", "vocab_size": 96, "hidden_size": 48,
    "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "attention_bias": true}"#;
const T5: &str = r#"{"model_type": "t5", "vocab_size": 64, "d_model": 32, "d_kv": 8, "d_ff": 48,
    "num_layers": 1, "num_heads": 4, "feed_forward_proj": "gated-gelu"}"#;
/// Edge shapes and names: a scalar, an empty dimension, a long name, non-ASCII names, 1-D and
/// 4-D tensors.
const JSON_MODEL: &str = r#"[
    {"name": "step", "shape": [], "init": "zeros"},
    {"name": "empty.weight", "shape": [0, 4], "init": "normal(std=0.02)"},
    {"name": "a_rather_long_tensor_name_without_any_dots_in_it", "shape": [7, 5], "init": "ones"},
    {"name": "ünï.cødé.wéight", "shape": [4, 6], "init": "zeros"},
    {"layer": "conv2d", "name": "conv", "in": 3, "out": 5, "kernel": 3},
    {"layer": "embedding", "name": "embed", "num": 11, "dim": 6, "padding_idx": 0}
]"#;

fn models() -> &'static [Model] {
    static MODELS: OnceLock<Vec<Model>> = OnceLock::new();
    MODELS.get_or_init(|| {
        let job = |tensors: Vec<FileTensor>| InitJob::whole(tensors, 7, Dtype::F32);
        let hf = |config: &str| {
            let model = HfModel::from_config_json(config).expect("a valid config");
            let tensors = model.tensors.into_iter().map(FileTensor::from).collect();
            Model {
                name: model.class.to_string(),
                job: job(tensors),
                plan: Some(model.tp_plan),
            }
        };
        let mlp = presets::preset("mlp").expect("a preset");
        vec![
            Model {
                name: "mlp".to_string(),
                job: job(mlp.into_iter().map(FileTensor::from).collect()),
                plan: Some(presets::tp_plan("mlp").expect("a preset")),
            },
            hf(LLAMA),
            hf(T5),
            Model {
                name: "model".to_string(),
                job: job(parse_model_json(JSON_MODEL).expect("a valid model")),
                plan: None,
            },
        ]
    })
}

/// The input's fields.
#[derive(Default)]
struct Input<'a> {
    model: usize,
    tp: Option<u64>,
    dp: Option<u64>,
    rank: Option<u64>,
    world: Option<u64>,
    env: Vec<(&'a str, &'a str)>,
    plan: Option<&'a str>,
}

fn parse(text: &str) -> Input<'_> {
    let (head, plan) = match text.find("plan=") {
        Some(at) => (&text[..at], Some(&text[at + "plan=".len()..])),
        None => (text, None),
    };
    let mut input = Input {
        plan,
        ..Input::default()
    };
    for line in head.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        match key {
            "model" => {
                let names = ["mlp", "llama", "t5", "json"];
                input.model = names.iter().position(|n| *n == value).unwrap_or(0);
            }
            "tp" => input.tp = value.parse().ok(),
            "dp" => input.dp = value.parse().ok(),
            "rank" => input.rank = value.parse().ok(),
            "world" => input.world = value.parse().ok(),
            _ => input.env.push((key, value)),
        }
    }
    input
}

/// Ranks whose every box is compared (more than this: only a few ranks are planned).
const ALL_RANKS: u64 = 64;
/// Manifests with at most this many boxes (tensors × ranks) are written and read back.
const ROUND_TRIP_BOXES: u64 = 1 << 14;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let input = parse(text);
    let env = |name: &str| {
        input
            .env
            .iter()
            .rev()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    };
    let Ok(launch) = launcher::detect(input.rank, input.world, env) else {
        return;
    };
    if let Some(launch) = &launch {
        assert!(launch.rank < launch.world_size, "{launch:?}");
        assert!(launch.local_rank.is_none_or(|local| local <= launch.rank));
    }
    let Ok(mesh) = Mesh::new(input.tp.unwrap_or(1), input.dp.unwrap_or(1)) else {
        return;
    };
    let world = mesh.world_size();
    if launch.as_ref().is_some_and(|l| l.world_size != world) {
        return;
    }
    let model = &models()[input.model];
    let plan = match (input.plan, &model.plan) {
        (Some(text), _) => match TpPlan::from_json(text) {
            Ok(plan) => plan,
            Err(_) => return,
        },
        (None, Some(plan)) => plan.clone(),
        (None, None) if mesh.tp == 1 => TpPlan::default(),
        (None, None) => return,
    };
    let Ok(manifest) = place(&model.name, &model.job, &plan, mesh) else {
        return;
    };
    assert_eq!(manifest.mesh, mesh);
    assert_eq!(manifest.tensors.len(), model.job.tensors.len());
    for tensor in &manifest.tensors {
        assert_eq!(tensor.dp, mesh.dp_placement(tensor.shape.len()));
        if let Placement::Shard(dim) = tensor.tp {
            assert!(
                dim < tensor.shape.len(),
                "{} placed {}",
                tensor.name,
                tensor.tp
            );
        }
    }

    let ranks: Vec<u64> = match &launch {
        Some(launch) => vec![launch.rank],
        None if world <= ALL_RANKS => (0..world).collect(),
        None => vec![0, world / 2, world - 1],
    };
    for &rank in &ranks {
        let job = rank_job(&model.job, &manifest, rank);
        let Part::Slices(slices) = &job.part else {
            panic!("a rank's job is its boxes");
        };
        for (slice, tensor) in slices.iter().zip(&manifest.tensors) {
            assert_eq!(slice.shape, tensor.shape);
            let inside = slice.ranges.len() == slice.shape.len()
                && slice
                    .ranges
                    .iter()
                    .zip(&slice.shape)
                    .all(|(r, &d)| r.start <= r.end && r.end <= d);
            assert!(inside, "rank {rank}: {:?} of {}", slice.ranges, tensor.name);
        }
        if let Err(error) = plan_only::plan(&job) {
            panic!("rank {rank} of {mesh:?}: its job does not plan: {error}");
        }
    }
    if launch.is_none() && world <= ALL_RANKS {
        // Each element once per replica.
        for tensor in &manifest.tensors {
            let numel: u128 = tensor.shape.iter().map(|&d| u128::from(d)).product();
            let held: u128 = (0..world)
                .map(|rank| u128::from(manifest.slice(tensor, rank).numel()))
                .sum();
            let tp_copies = match tensor.tp {
                Placement::Replicate => u128::from(mesh.tp),
                Placement::Shard(_) => 1,
            };
            let dp_copies = if tensor.shape.is_empty() {
                u128::from(mesh.dp)
            } else {
                1
            };
            assert_eq!(
                held,
                numel * tp_copies * dp_copies,
                "{} on {mesh:?}",
                tensor.name
            );
        }
    }

    if manifest.tensors.len() as u64 * world <= ROUND_TRIP_BOXES {
        let text = manifest.to_json();
        let back = Manifest::from_json(&text, "fuzz")
            .unwrap_or_else(|e| panic!("a manifest of {mesh:?} does not read back: {e}"));
        assert!(
            back == manifest,
            "the manifest of {mesh:?} reads back differently"
        );
        assert!(back.to_json() == text);
    }
});
