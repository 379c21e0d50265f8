//! Inputs the cargo-fuzz targets in `fuzz/` found (or that were written by hand while fixing
//! what they found), each now refused with an error naming the parameter and its allowed range
//! (docs/fuzzing.md, "Findings"). Each must also be fast: before its fix, each hung or ran out of
//! memory.

use std::time::{Duration, Instant};

use nninit::model::hf::HfModel;
use nninit::model::init::InitJob;
use nninit::model::json::{FileTensor, parse_model_json};
use nninit::model::parallel::manifest::Manifest;
use nninit::model::parallel::{Mesh, Placement, TpPlan, matches_pattern, place};
use nninit::model::presets;
use nninit::{Dtype, Error};

/// `text` is refused with `Error::InvalidParameter` named `name`, saying `allowed`, within a
/// second.
fn refused(text: &str, name: &str, allowed: &str) {
    let start = Instant::now();
    let result = HfModel::from_config_json(text);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{text}: {:?}",
        start.elapsed()
    );
    match result {
        Err(Error::InvalidParameter {
            name: got,
            allowed: said,
            ..
        }) => {
            assert_eq!(got, name, "{text}");
            assert!(said.contains(allowed), "{text}: {said}");
        }
        other => panic!("{text}: {other:?}"),
    }
}

/// hf_config finding E: a layer count is bounded (the builders looped over every layer, so
/// `n_layer: 100000000` ran for minutes and exhausted memory).
#[test]
fn hf_layer_counts_are_bounded() {
    let cases = [
        (r#"{"model_type":"gpt2","n_layer":100000000}"#, "n_layer"),
        (
            r#"{"model_type":"llama","num_hidden_layers":4294967296}"#,
            "num_hidden_layers",
        ),
        (
            r#"{"model_type":"bert","num_hidden_layers":1025}"#,
            "num_hidden_layers",
        ),
        (
            r#"{"model_type":"vit","num_hidden_layers":1000000}"#,
            "num_hidden_layers",
        ),
        (
            r#"{"model_type":"t5","num_layers":18446744073709551615}"#,
            "num_layers",
        ),
        (
            r#"{"model_type":"t5","num_decoder_layers":100000000}"#,
            "num_decoder_layers",
        ),
        // GPT-2's generic name for n_layer is read too, and bounded the same.
        (
            r#"{"model_type":"gpt2","num_hidden_layers":2000}"#,
            "n_layer",
        ),
        (
            r#"{"model_type":"qwen3","num_hidden_layers":0}"#,
            "num_hidden_layers",
        ),
    ];
    for (text, field) in cases {
        refused(
            text,
            &format!("config.json {field}"),
            "an integer in [1, 1024]",
        );
    }
    // 1024 layers is still a model.
    let config = r#"{"model_type":"gpt2","n_layer":1024,"n_embd":4,"n_head":1,"vocab_size":8,
        "n_positions":4}"#;
    let model = HfModel::from_config_json(config).unwrap();
    assert_eq!(model.tensors.len(), 2 + 1024 * 12 + 2);
}

/// The mlp preset's job and names.
fn mlp_job() -> InitJob {
    let tensors = presets::preset("mlp").unwrap();
    InitJob::whole(
        tensors.into_iter().map(FileTensor::from).collect(),
        0,
        Dtype::F32,
    )
}

/// Placement finding F: a plan pattern's stars are matched in time linear in the pattern (40
/// stars took 15 s against `fc1.weight`; each star more multiplied it).
#[test]
fn plan_patterns_with_many_stars_match_fast() {
    let plan = format!(
        r#"[{{"pattern": "fc1.{}x", "placement": "Shard(0)"}}]"#,
        "*".repeat(40)
    );
    let plan = TpPlan::from_json(&plan).unwrap();
    let start = Instant::now();
    let error = place("mlp", &mlp_job(), &plan, Mesh::new(2, 1).unwrap()).unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    // A plan file's pattern must match a tensor.
    match error {
        Error::InvalidParameter { name, .. } => assert_eq!(name, "plan pattern"),
        other => panic!("{other:?}"),
    }
    let stars = "*".repeat(10_000);
    assert!(matches_pattern(
        &format!("fc1.{stars}t{stars}"),
        "fc1.weight"
    ));
}

/// Placement finding G: a star before a multi-byte character of a tensor name panicked
/// (`nninit init --model m.json --tp 2 --plan p.json` with a tensor `é.weight` and the
/// pattern `*.weight`).
#[test]
fn plan_patterns_match_non_ascii_names() {
    let model = r#"[{"name": "é.weight", "shape": [4, 2], "init": "ones"},
        {"name": "ünï.cødé", "shape": [3], "init": "zeros"}]"#;
    let job = InitJob::whole(parse_model_json(model).unwrap(), 0, Dtype::F32);
    let plan = r#"[{"pattern": "*.weight", "placement": "Shard(0)"},
        {"pattern": "*n*.c*d*", "placement": "Shard(0)"}]"#;
    let plan = TpPlan::from_json(plan).unwrap();
    let manifest = place("m", &job, &plan, Mesh::new(2, 1).unwrap()).unwrap();
    let placements: Vec<Placement> = manifest.tensors.iter().map(|t| t.tp).collect();
    assert_eq!(placements, [Placement::Shard(0), Placement::Shard(0)]);
}

/// The seeds of the targets that take whole documents are accepted, so that the fuzzer starts
/// from inputs that reach past the parser.
#[test]
fn fuzz_seeds_are_valid_documents() {
    let seeds = |target: &str| {
        let dir = format!("{}/fuzz/corpus/{target}", env!("CARGO_MANIFEST_DIR"));
        let mut seeds: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| {
                path.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("seed_")
            })
            .map(|path| {
                let text = std::fs::read_to_string(&path).unwrap();
                (path.display().to_string(), text)
            })
            .collect();
        seeds.sort();
        seeds
    };
    let configs = seeds("hf_config");
    assert!(configs.len() >= 20, "{} hf_config seeds", configs.len());
    for (path, text) in &configs {
        HfModel::from_config_json(text).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    let manifests = seeds("rank_manifest");
    assert!(
        manifests.len() >= 4,
        "{} rank_manifest seeds",
        manifests.len()
    );
    for (path, text) in &manifests {
        Manifest::from_json(text, path).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
}

/// Findings C and D of `rank_manifest` (docs/fuzzing.md): a Shard of a dimension the tensor
/// lacks panicked in `Mesh::slice`, and a 1 KB manifest of a 2^20-rank mesh made `to_json` write
/// gigabytes. Both are refused at once, with an error naming what is wrong.
#[test]
fn manifests_with_impossible_placements_or_unlisted_ranks_are_refused_fast() {
    let cases = [
        (
            r#"{"format":"nninit-ranks","mesh":{"dp":2,"tp":4},"model":"","seed":"0","tensors":[{"dtype":"","name":"","placements":{"dp":"Shard(0)","tp":"Shard(1)"},"shape":[]}],"version":1}"#,
            "files are not one per rank",
        ),
        (
            r#"{"format":"nninit-ranks","version":1,"mesh":{"tp":1048576,"dp":1},"model":"","seed":"0","tensors":[{"name":"","shape":[],"dtype":"","placements":{"tp":"Replicate","dp":"Replicate"}}]}"#,
            "files are not one per rank",
        ),
    ];
    for (text, says) in cases {
        let start = Instant::now();
        match Manifest::from_json(text, "fuzz") {
            Err(Error::Parse { reason, .. }) => assert!(reason.contains(says), "{reason}"),
            other => panic!("{text}: {other:?}"),
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "{:?}",
            start.elapsed()
        );
    }
    // With its files and boxes listed, the impossible placement itself is what is refused.
    let files: Vec<String> = (0..8)
        .map(|r| format!("\"rank-{r:05}-of-00008.safetensors\""))
        .collect();
    let boxes = ["[]"; 8].join(",");
    let text = format!(
        r#"{{"files":[{}],"format":"nninit-ranks","mesh":{{"dp":2,"tp":4}},"model":"","seed":"0","tensors":[{{"dtype":"","name":"w","placements":{{"dp":"Shard(0)","tp":"Shard(1)"}},"ranks":[{boxes}],"shape":[]}}],"version":1}}"#,
        files.join(",")
    );
    match Manifest::from_json(&text, "fuzz") {
        Err(Error::InvalidParameter { name, .. }) => assert_eq!(name, "tp placement of w"),
        other => panic!("{text}: {other:?}"),
    }
}
