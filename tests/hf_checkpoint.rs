//! `nninit init --config`: checkpoint directories as `save_pretrained` lays them out — shards in
//! key order, the index, `config.json` with the dtype written, `format: pt` in every file —
//! that `nninit verify DIR` checks, with every tensor regenerable alone by `nninit fill`; and
//! bad configs or outputs refused with exit 2 and nothing written.

mod common;

use std::path::Path;

use common::cli::{assert_nothing_left_in, assert_success, assert_usage_error, nninit, temp_dir};
use nninit::model::hf::HfModel;
use serde_json::Value;

const LLAMA: &str = r#"{"model_type": "llama", "vocab_size": 256, "hidden_size": 64,
    "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 2, "pad_token_id": 5}"#;

fn header(path: &Path) -> serde_json::Map<String, Value> {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    serde_json::from_slice(&bytes[8..8 + n]).unwrap()
}

fn tensor_bytes(path: &Path, name: &str) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    file.tensor(name).unwrap().data().to_vec()
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_sharded_bf16_checkpoint_has_its_index_config_and_metadata() {
    let dir = temp_dir("hf-sharded");
    std::fs::write(dir.join("config.json"), LLAMA).unwrap();
    let out = dir.join("out");
    let run = nninit(&[
        "init",
        "--config",
        dir.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--dtype",
        "bf16",
        "--max-shard-size",
        "20KB",
        "--seed",
        "3",
        "--device",
        "cpu",
    ]);
    assert_success(&run);

    let model = HfModel::from_config_json(LLAMA).unwrap();
    let index = json(&out.join("model.safetensors.index.json"));
    let weight_map = index["weight_map"].as_object().unwrap();
    assert_eq!(weight_map.len(), model.tensors.len());
    let shards: Vec<String> = {
        let mut files: Vec<String> = weight_map
            .values()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        files.sort();
        files.dedup();
        files
    };
    let count = shards.len();
    assert!(count >= 3, "{count} shards");
    for (i, shard) in shards.iter().enumerate() {
        assert_eq!(
            shard,
            &format!("model-{:05}-of-{count:05}.safetensors", i + 1)
        );
    }
    // Shards hold consecutive tensors in key order, each under 20 kB unless it holds one tensor
    // larger than that (the 256×64 bf16 embedding is 32 kB).
    let mut total = 0;
    let mut position = 0;
    for shard in &shards {
        let header = header(&out.join(shard));
        let metadata = header["__metadata__"].as_object().unwrap();
        assert_eq!(metadata["format"], "pt");
        assert_eq!(metadata["nninit.seed"], "3");
        let mut in_shard: Vec<(&String, u64)> = header
            .iter()
            .filter(|(k, _)| *k != "__metadata__")
            .map(|(k, v)| (k, v["data_offsets"][0].as_u64().unwrap()))
            .collect();
        in_shard.sort_by_key(|(_, offset)| *offset);
        let bytes: u64 = header
            .iter()
            .filter(|(k, _)| *k != "__metadata__")
            .map(|(_, v)| {
                v["data_offsets"][1].as_u64().unwrap() - v["data_offsets"][0].as_u64().unwrap()
            })
            .sum();
        assert!(
            bytes <= 20_000 || in_shard.len() == 1,
            "{shard}: {bytes} bytes"
        );
        for (name, _) in in_shard {
            assert_eq!(name, &model.tensors[position].param.name);
            assert_eq!(weight_map[name.as_str()], shard.as_str());
            assert_eq!(header[name.as_str()]["dtype"], "BF16");
            position += 1;
        }
        total += bytes;
    }
    assert_eq!(position, model.tensors.len());
    assert_eq!(index["metadata"]["total_size"], total);
    let config = json(&out.join("config.json"));
    assert_eq!(config["dtype"], "bfloat16");
    assert_eq!(config["architectures"][0], "LlamaForCausalLM");

    let verify = nninit(&["verify", out.to_str().unwrap()]);
    assert_success(&verify);
    let report = String::from_utf8_lossy(&verify.stdout);
    assert!(
        report.contains(&format!("21 tensors in {count} files, 21 passed, 0 failed")),
        "{report}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn every_tensor_is_its_own_stream_on_gpu_and_cpu() {
    let dir = temp_dir("hf-streams");
    let config = dir.join("gemma.json");
    std::fs::write(
        &config,
        r#"{"model_type": "gemma", "vocab_size": 64, "hidden_size": 32, "intermediate_size": 48,
            "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 16}"#,
    )
    .unwrap();
    let mut files = Vec::new();
    for device in ["cpu", "gpu"] {
        let out = dir.join(device);
        let run = nninit(&[
            "init",
            "--config",
            config.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--seed",
            "11",
            "--device",
            device,
        ]);
        assert_success(&run);
        files.push(std::fs::read(out.join("model.safetensors")).unwrap());
    }
    assert_eq!(files[0], files[1], "GPU and CPU checkpoints differ");

    // One tensor regenerated alone from its name.
    let weights = dir.join("cpu").join("model.safetensors");
    let alone = dir.join("up.safetensors");
    let fill = nninit(&[
        "fill",
        "--shape",
        "48,32",
        "--init",
        "normal(std=0.02)",
        "--seed",
        "11",
        "--name",
        "model.layers.0.mlp.up_proj.weight",
        "--device",
        "cpu",
        "--out",
        alone.to_str().unwrap(),
    ]);
    assert_success(&fill);
    let regenerated = std::fs::read(&alone).unwrap();
    let file = safetensors::SafeTensors::deserialize(&regenerated).unwrap();
    let (_, view) = file.tensors().into_iter().next().unwrap();
    assert_eq!(
        view.data(),
        tensor_bytes(&weights, "model.layers.0.mlp.up_proj.weight")
    );
    // Gemma's norms are 0 and its padding row (pad_token_id 0) is 0.
    assert!(
        tensor_bytes(&weights, "model.norm.weight")
            .iter()
            .all(|&b| b == 0)
    );
    let embed = tensor_bytes(&weights, "model.embed_tokens.weight");
    assert!(embed[..32 * 4].iter().all(|&b| b == 0));
    assert!(embed[32 * 4..].iter().any(|&b| b != 0));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn existing_weights_are_replaced_only_with_force_and_stale_shards_go() {
    let dir = temp_dir("hf-force");
    let config = dir.join("config.json");
    std::fs::write(&config, LLAMA).unwrap();
    let out = dir.join("ckpt");
    let init = |extra: &[&str]| {
        let mut args = vec![
            "init",
            "--config",
            config.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--device",
            "cpu",
        ];
        args.extend_from_slice(extra);
        nninit(&args)
    };
    assert_success(&init(&["--max-shard-size", "30KB"]));
    assert!(out.join("model.safetensors.index.json").exists());
    let before = std::fs::read_dir(&out).unwrap().count();

    let again = init(&[]);
    let (line, _) = assert_usage_error(&["init", "--config"], &again);
    assert!(line.contains("--force"), "{line}");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), before);

    assert_success(&init(&["--force"]));
    let mut left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, vec!["config.json", "model.safetensors"]);
    assert_success(&nninit(&["verify", out.to_str().unwrap()]));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_default_directory_is_named_after_the_model_type() {
    let dir = temp_dir("hf-default-dir");
    std::fs::write(
        dir.join("config.json"),
        r#"{"model_type": "bert", "vocab_size": 50, "hidden_size": 16, "intermediate_size": 32,
            "num_hidden_layers": 1, "num_attention_heads": 2, "max_position_embeddings": 8}"#,
    )
    .unwrap();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_nninit"))
        .args(["init", "--config", "config.json", "--device", "cpu"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_success(&run);
    assert!(dir.join("bert-init").join("model.safetensors").is_file());
    assert_eq!(
        json(&dir.join("bert-init").join("config.json"))["dtype"],
        "float32"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_configs_and_outputs_exit_2_and_write_nothing() {
    let dir = temp_dir("hf-bad");
    let scratch = dir.join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let a_file = scratch.join("taken");
    let cases: [(&str, &[&str], &str); 10] = [
        ("{\"model_type\": ", &[], "cannot parse config.json"),
        (
            r#"{"model_type": "rwkv"}"#,
            &[],
            "model_type = rwkv: one of llama, mistral, qwen2, qwen3, gemma, gemma2,",
        ),
        (
            r#"{"model_type": "llama", "hidden_size": 64.5}"#,
            &[],
            "config.json hidden_size = 64.5",
        ),
        (
            r#"{"model_type": "llama", "num_attention_heads": 0}"#,
            &[],
            "num_attention_heads = 0",
        ),
        (
            r#"{"model_type": "llama", "hidden_size": 96, "num_attention_heads": 64}"#,
            &[],
            "a multiple of num_attention_heads = 64",
        ),
        (
            r#"{"model_type": "mistral", "num_key_value_heads": 3}"#,
            &[],
            "a multiple of num_key_value_heads = 3",
        ),
        (
            r#"{"model_type": "gpt2", "n_layer": 1, "n_embd": 8, "n_head": 2, "vocab_size": 4611686018427387904}"#,
            &[],
            "config.json sizes",
        ),
        (LLAMA, &["--max-shard-size", "5XB"], "max-shard-size"),
        (LLAMA, &["--out", "FILE"], "a directory (this is a file)"),
        (LLAMA, &["--dtype", "f8"], "dtype"),
    ];
    for (config, extra, expected) in cases {
        std::fs::write(&a_file, "not a directory").unwrap();
        let path = dir.join("config.json");
        std::fs::write(&path, config).unwrap();
        let default_out = scratch.join("out");
        let mut args = vec!["init", "--config", path.to_str().unwrap()];
        let extra: Vec<&str> = extra
            .iter()
            .map(|a| {
                if *a == "FILE" {
                    a_file.to_str().unwrap()
                } else {
                    a
                }
            })
            .collect();
        if !extra.contains(&"--out") {
            args.extend(["--out", default_out.to_str().unwrap()]);
        }
        args.extend(&extra);
        let run = nninit(&args);
        let (line, _) = assert_usage_error(&args, &run);
        assert!(line.contains(expected), "{config} {extra:?}: {line}");
        std::fs::remove_file(&a_file).unwrap();
        assert_nothing_left_in(&scratch);
    }
    let conflicting = nninit(&["init", "--config", "x.json", "--shard", "0/2"]);
    assert_usage_error(&["init", "--config", "--shard"], &conflicting);
    let missing = nninit(&[
        "init",
        "--config",
        dir.join("absent.json").to_str().unwrap(),
    ]);
    let (line, _) = assert_usage_error(&["init", "--config", "absent"], &missing);
    assert!(line.contains("a readable config.json"), "{line}");
    std::fs::remove_dir_all(dir).unwrap();
}
