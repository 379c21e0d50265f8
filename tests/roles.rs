//! Every tensor of every Hugging Face config has a role; the decoders' tensor-parallel split
//! agrees with transformers' own plans (`tests/data/hf/tp_plans.json`, recorded from
//! transformers 5.25.0's config classes by `scripts/hf_tp_plans.py`); `init --dry-run` prints
//! the boxes the rank files then hold.

mod common;

use std::collections::BTreeMap;

use common::cli::{assert_success, nninit, temp_dir};
use nninit::model::hf::HfModel;
use nninit::model::parallel::plan::Placement;
use nninit::model::role::{Part, Role};
use serde_json::Value;

fn data(name: &str) -> Value {
    let path = format!("{}/tests/data/hf/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn cases() -> Vec<(String, Value)> {
    let configs = data("configs.json");
    configs["cases"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(case, config)| (case.clone(), config.clone()))
        .collect()
}

#[test]
fn every_tensor_of_every_config_has_a_role_and_its_layer() {
    for (case, config) in cases() {
        let model = HfModel::from_config_json(&config.to_string()).unwrap();
        for tensor in &model.tensors {
            let name = &tensor.param.name;
            let role = tensor
                .role
                .unwrap_or_else(|| panic!("{case}: {name} has no role"));
            // A tensor inside a numbered block names its layer; one outside, none.
            let numbered = name
                .split('.')
                .zip(name.split('.').skip(1))
                .find(|(stack, _)| ["layers", "h", "layer", "block"].contains(stack))
                .and_then(|(_, n)| n.parse::<u64>().ok());
            assert_eq!(role.layer, numbered, "{case}: {name}");
            assert!(role.layer.is_none_or(|l| l < role.depth), "{case}: {name}");
            // Biases are biases, and named so.
            assert_eq!(
                role.part == Part::Bias,
                // The two buffers named so are not a module's bias.
                name.ends_with("bias")
                    && !name.ends_with("relative_attention_bias.weight")
                    && !name.ends_with("e_score_correction_bias"),
                "{case}: {name}"
            );
        }
    }
}

/// The tp placement of each of `model`'s tensors by its built-in plan, on one tp rank: every
/// config's head counts allow it, and the placements are the plan's all the same.
fn plan_placements(model: &HfModel) -> Vec<Placement> {
    let tensors: Vec<(&str, &[u64])> = model
        .tensors
        .iter()
        .map(|t| (t.param.name.as_str(), t.param.shape.as_slice()))
        .collect();
    model.tp_plan.placements(&tensors, 1).unwrap()
}

/// What transformers' plan value does to a module's weight and bias on the tp ranks, for the
/// tensor of `dims` dimensions asked about (a bias has one: only its own placement is read).
fn transformers_split(style: &str, dims: usize) -> (Placement, Placement) {
    let dims = dims.max(2);
    match style {
        // Output features (dim 0 of a Linear's weight), the bias with them.
        "colwise" | "colwise_gather_output" => (Placement::Shard(dims - 2), Placement::Shard(0)),
        // The vocabulary.
        "embedding_rowwise" => (Placement::Shard(0), Placement::Shard(0)),
        // Input features (the last dimension); the bias is added once, whole.
        "rowwise" | "rowwise_split_input" => (Placement::Shard(dims - 1), Placement::Replicate),
        // Llama 4's fused gate/up `[E, H, 2I]` by its last dimension: transformers strided (each
        // rank a part of the gates and of the ups), nninit in one box per rank.
        "packed_rowwise" => (Placement::Shard(dims - 1), Placement::Replicate),
        // Not split: the q/k norms, and MLA's joint key-value down projection.
        "replicated_with_grad_allreduce" | "mla_kv_a_proj" => {
            (Placement::Replicate, Placement::Replicate)
        }
        other => panic!("a plan style this test does not know: {other}"),
    }
}

#[test]
fn decoder_plans_split_as_transformers_plans_do() {
    let plans = data("tp_plans.json");
    assert!(plans["source"].as_str().unwrap().contains("transformers"));
    let mut families_checked = std::collections::BTreeSet::new();
    for (case, config) in cases() {
        let model = HfModel::from_config_json(&config.to_string()).unwrap();
        let family = &plans["families"][model.model_type];
        let Some(base) = family["base_model_tp_plan"].as_object() else {
            continue;
        };
        // transformers puts `embed_tokens: embedding_rowwise` in front of any base plan, and the
        // head's `_tp_plan` beside it; base-plan keys are under `model.`.
        let mut plan: Vec<(String, String)> =
            vec![("model.embed_tokens".into(), "embedding_rowwise".into())];
        for (pattern, style) in base {
            plan.push((
                format!("model.{pattern}"),
                style.as_str().unwrap().to_string(),
            ));
        }
        for (pattern, style) in family["head_tp_plan"].as_object().into_iter().flatten() {
            plan.push((pattern.clone(), style.as_str().unwrap().to_string()));
        }
        let ours = plan_placements(&model);
        let mut checked = BTreeMap::new();
        for (tensor, placement) in model.tensors.iter().zip(ours) {
            let name = &tensor.param.name;
            let (module, parameter) = name.rsplit_once('.').unwrap();
            // A plan key names a parameter (Llama 4's fused experts) or a module.
            let matching = |key: &str| {
                plan.iter().find(|(pattern, _)| {
                    nninit::model::parallel::plan::matches_pattern(pattern, key)
                })
            };
            let style = matching(name).or_else(|| matching(module));
            // Routed experts that transformers 5.25.0 leaves to its expert-parallel plan (all
            // but Llama 4's): nninit splits them over tp as the dense MLP, Megatron's expert
            // tensor parallelism: gate/up by their inner width (the output features), down by
            // its input features.
            if tensor.role.unwrap().role.is_routed_expert() && style.is_none() {
                let dims = tensor.param.shape.len();
                let want = match (tensor.role.unwrap().role, parameter) {
                    (Role::ExpertDown, "down_proj_bias") => Placement::Replicate,
                    (Role::ExpertDown, _) => Placement::Shard(dims - 1 - usize::from(dims == 3)),
                    (_, "gate_up_proj_bias") => Placement::Shard(1),
                    (_, _) if dims == 3 => Placement::Shard(2),
                    _ => Placement::Shard(0),
                };
                assert_eq!(placement, want, "{case}: {name}");
                continue;
            }
            let want = match style {
                None => Placement::Replicate,
                Some((_, style)) => {
                    let (weight, bias) = transformers_split(style, tensor.param.shape.len());
                    if parameter == "bias" { bias } else { weight }
                }
            };
            assert_eq!(placement, want, "{case}: {name} ({style:?})");
            *checked.entry(format!("{want}")).or_insert(0) += 1;
        }
        // The check saw the splits (gpt-oss's plan splits its embedding only).
        assert!(checked.len() >= 2, "{case}: {checked:?}");
        families_checked.insert(model.model_type);
    }
    assert_eq!(
        families_checked.into_iter().collect::<Vec<_>>(),
        [
            "deepseek_v3",
            "gemma",
            "gemma2",
            "gemma3_text",
            "gpt_oss",
            "granite",
            "llama",
            "llama4_text",
            "mistral",
            "mixtral",
            "olmo2",
            "phi3",
            "qwen2",
            "qwen2_moe",
            "qwen3",
            "qwen3_moe",
            "smollm3",
            "starcoder2"
        ]
    );
}

/// The role each decoder key's module names, read independently of the builders: the last
/// module name, with its parent where that decides (experts, shared experts, the router).
fn role_by_name(name: &str) -> Role {
    let parts: Vec<&str> = name.split('.').collect();
    let last = *parts.last().unwrap();
    let from_end = |k: usize| parts.len().checked_sub(k).map_or("", |i| parts[i]);
    let (module, parent) = match last {
        "weight" | "bias" => (from_end(2), from_end(3)),
        _ => (last, from_end(2)),
    };
    let in_experts = parts.contains(&"experts");
    let shared = parts.iter().any(|p| p.starts_with("shared_expert"));
    match module {
        "embed_tokens" => Role::Embedding,
        "q_proj" => Role::AttentionQ,
        "k_proj" => Role::AttentionK,
        "v_proj" => Role::AttentionV,
        "qkv_proj" => Role::AttentionQkv,
        "o_proj" => Role::AttentionO,
        "sinks" => Role::AttentionSinks,
        "q_a_proj" => Role::MlaQA,
        "q_b_proj" => Role::MlaQB,
        "kv_a_proj_with_mqa" => Role::MlaKvA,
        "kv_b_proj" => Role::MlaKvB,
        "gate_proj" | "w1" if in_experts => Role::ExpertGate,
        "up_proj" | "w3" if in_experts => Role::ExpertUp,
        "down_proj" | "w2" | "down_proj_bias" if in_experts => Role::ExpertDown,
        "gate_up_proj" | "gate_up_proj_bias" if in_experts => Role::ExpertGateUp,
        "gate_proj" if shared => Role::SharedExpertGate,
        "up_proj" if shared => Role::SharedExpertUp,
        "down_proj" if shared => Role::SharedExpertDown,
        "shared_expert_gate" => Role::SharedExpertRouter,
        "gate_proj" => Role::MlpGate,
        "up_proj" | "c_fc" => Role::MlpUp,
        "down_proj" | "c_proj" => Role::MlpDown,
        "gate_up_proj" => Role::MlpGateUp,
        "gate" | "router" => Role::Router,
        "e_score_correction_bias" if parent == "gate" => Role::RouterScoreBias,
        "lm_head" => Role::OutputHead,
        m if m == "norm" || m.ends_with("_norm") || m.ends_with("layernorm") => Role::Norm,
        other => panic!("no role expected for {other} in {name}"),
    }
}

#[test]
fn decoder_roles_follow_the_module_names() {
    let mut seen = std::collections::BTreeSet::new();
    for (case, config) in cases() {
        let model = HfModel::from_config_json(&config.to_string()).unwrap();
        if !model.class.ends_with("ForCausalLM") {
            continue;
        }
        for tensor in &model.tensors {
            let name = &tensor.param.name;
            let role = tensor.role.unwrap().role;
            assert_eq!(role, role_by_name(name), "{case}: {name}");
            seen.insert(role.name());
        }
    }
    // Every decoder role was met in some test config.
    assert!(seen.len() >= 27, "{} roles: {seen:?}", seen.len());
}

/// `--dry-run --json` prints every tensor once, and with `--tp/--dp --rank` the box each rank's
/// file then holds (its metadata's ranges), `null` for nothing; nothing is written.
#[test]
fn dry_run_prints_the_boxes_the_rank_files_hold() {
    let dir = temp_dir("dry-run");
    let config = dir.join("config.json");
    // A vocabulary of 3: on tp 2 × dp 2 one rank holds no row of the embedding.
    std::fs::write(
        &config,
        r#"{"model_type": "qwen3", "vocab_size": 3, "hidden_size": 32, "intermediate_size": 64,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
            "head_dim": 8}"#,
    )
    .unwrap();
    let out = dir.join("ranks");
    let config_arg = config.to_str().unwrap();
    let out_arg = out.to_str().unwrap();
    let whole = nninit(&["init", "--config", config_arg, "--dry-run", "--json"]);
    assert_success(&whole);
    let lines = |output: &std::process::Output| -> Vec<Value> {
        String::from_utf8(output.stdout.clone())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let model = HfModel::from_config_json(&std::fs::read_to_string(&config).unwrap()).unwrap();
    let whole = lines(&whole);
    assert_eq!(whole.len(), model.tensors.len());
    for (line, tensor) in whole.iter().zip(&model.tensors) {
        assert_eq!(line["key"], tensor.param.name.as_str());
        assert_eq!(line["role"], tensor.role.unwrap().to_string().as_str());
        assert_eq!(line["dtype"], "F32");
        let shape: Vec<u64> = serde_json::from_value(line["shape"].clone()).unwrap();
        assert_eq!(shape, tensor.param.shape);
        let full: Vec<[u64; 2]> = shape.iter().map(|&d| [0, d]).collect();
        assert_eq!(line["box"], serde_json::to_value(full).unwrap());
    }
    assert!(!out.exists(), "a dry run wrote {}", out.display());
    let run = nninit(&[
        "init", "--config", config_arg, "--tp", "2", "--dp", "2", "--device", "cpu", "--out",
        out_arg,
    ]);
    assert_success(&run);
    let mut nulls = 0;
    for rank in 0..4u64 {
        let rank_arg = rank.to_string();
        let dry = nninit(&[
            "init",
            "--config",
            config_arg,
            "--tp",
            "2",
            "--dp",
            "2",
            "--rank",
            &rank_arg,
            "--world-size",
            "4",
            "--dry-run",
            "--json",
        ]);
        assert_success(&dry);
        let file = out.join(format!("rank-{rank:05}-of-00004.safetensors"));
        let header = nninit::verify::Header::read(&file).unwrap();
        for line in lines(&dry) {
            let key = line["key"].as_str().unwrap();
            let record: Value = serde_json::from_str(
                header.metadata[&nninit::verify::tensor_key(key)]
                    .as_str()
                    .unwrap(),
            )
            .unwrap();
            let shape = &line["shape"];
            // The file's record: its box when partial, none when it holds all of the tensor.
            let held = match &record["box"] {
                Value::Array(ranges) => Value::Array(ranges.clone()),
                _ => {
                    let dims = shape.as_array().unwrap().iter();
                    serde_json::to_value(dims.map(|d| [0, d.as_u64().unwrap()]).collect::<Vec<_>>())
                        .unwrap()
                }
            };
            let empty = held
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r[0] == r[1]));
            if empty || line["box"].is_null() {
                nulls += 1;
                assert!(
                    line["box"].is_null(),
                    "rank {rank} {key}: {line} against {held}"
                );
            } else {
                assert_eq!(line["box"], held, "rank {rank} {key}");
            }
        }
    }
    assert!(nulls > 0, "no rank held nothing of any tensor");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Whether module `name` ends with the components of `pattern`, each matched as a plan pattern
/// (`*` within one component).
fn ends_with_components(pattern: &str, name: &str) -> bool {
    let (pattern, name): (Vec<&str>, Vec<&str>) =
        (pattern.split('.').collect(), name.split('.').collect());
    name.len() >= pattern.len()
        && pattern
            .iter()
            .zip(&name[name.len() - pattern.len()..])
            .all(|(p, n)| nninit::model::parallel::plan::matches_pattern(p, n))
}

/// BERT, ViT, T5 and GPT-2 have no tp plan in transformers 5.25.0: their transformer layers,
/// embeddings and norms split as megatron-core's layers do (`tests/data/hf/megatron_plans.json`,
/// which names the files): column-parallel output features (GPT-2's Conv1D stores them in dim 1),
/// row-parallel input features with the bias whole, the vocabulary of the word embedding.
#[test]
fn encoder_and_gpt2_plans_split_as_megatron_core_does() {
    let megatron = data("megatron_plans.json");
    assert!(
        megatron["source"]
            .as_str()
            .unwrap()
            .contains("megatron/core")
    );
    let mut checked = BTreeMap::new();
    for (case, config) in cases() {
        let model = HfModel::from_config_json(&config.to_string()).unwrap();
        let Some(modules) = megatron["modules"][model.model_type].as_array() else {
            continue;
        };
        let ours = plan_placements(&model);
        for (tensor, placement) in model.tensors.iter().zip(ours) {
            let name = &tensor.param.name;
            let (module, parameter) = name.rsplit_once('.').unwrap();
            let Some(kind) = modules.iter().find_map(|rule| {
                ends_with_components(rule[0].as_str().unwrap(), module)
                    .then(|| rule[1].as_str().unwrap())
            }) else {
                continue;
            };
            let split = megatron["splits"][kind].as_str().unwrap();
            // GPT-2's blocks are Conv1D, weights stored (in, out); its head is a Linear.
            let conv1d = model.model_type == "gpt2" && name.starts_with("transformer.h.");
            let bias = parameter == "bias" || tensor.param.shape.len() == 1;
            let want = match (split, bias) {
                ("replicated", _) => Placement::Replicate,
                ("vocabulary", _) | ("column", true) => Placement::Shard(0),
                ("row", true) => Placement::Replicate,
                ("column", false) => Placement::Shard(usize::from(conv1d)),
                ("row", false) => Placement::Shard(usize::from(!conv1d)),
                other => panic!("a split this test does not know: {other:?}"),
            };
            assert_eq!(placement, want, "{case}: {name} ({kind}, {split})");
            *checked.entry(model.model_type).or_insert(0) += 1;
        }
    }
    assert_eq!(
        checked.keys().copied().collect::<Vec<_>>(),
        ["bert", "gpt2", "t5", "vit"],
        "{checked:?}"
    );
}

/// Presets and model descriptions name roles too: GPT-2's as its Hugging Face builder does
/// (with its block and depth), the ResNets' convolutions, BatchNorms (their running statistics
/// buffers) and classifier, and each layer of a model description by its PyTorch type, its part
/// read from the parameter's name; a bare tensor entry has none.
#[test]
fn presets_and_model_descriptions_name_a_role_for_every_layer_tensor() {
    use nninit::model::presets::{PRESETS, preset};
    for name in PRESETS {
        for tensor in preset(name).unwrap() {
            assert!(
                tensor.role.is_some(),
                "{name}: {} has no role",
                tensor.param.name
            );
        }
    }
    let role_of = |preset_name: &str, tensor: &str| {
        preset(preset_name)
            .unwrap()
            .into_iter()
            .find(|t| t.param.name == tensor)
            .unwrap()
            .role
            .unwrap()
    };
    let c_proj = role_of("gpt2", "transformer.h.11.attn.c_proj.weight");
    assert_eq!(
        (c_proj.role, c_proj.layer, c_proj.depth),
        (Role::AttentionO, Some(11), 12)
    );
    assert_eq!(
        role_of("gpt2", "transformer.h.3.mlp.c_proj.bias").to_string(),
        "mlp.down.bias"
    );
    assert_eq!(role_of("gpt2", "lm_head.weight").role, Role::OutputHead);
    assert_eq!(
        role_of("resnet50", "layer1.0.downsample.0.weight").role,
        Role::Conv
    );
    assert_eq!(
        role_of("resnet50", "layer4.2.bn3.running_var").part,
        Part::Buffer
    );
    assert_eq!(
        role_of("resnet18", "fc.bias").to_string(),
        "classifier.bias"
    );

    let described = nninit::model::json::parse_model_json(
        r#"[{"layer": "linear", "name": "fc", "in": 4, "out": 3},
            {"layer": "conv_transpose2d", "name": "up", "in": 2, "out": 2, "kernel": 3},
            {"layer": "lstm", "name": "rnn", "input": 3, "hidden": 4},
            {"layer": "batch_norm1d", "name": "bn", "features": 4},
            {"layer": "embedding", "name": "emb", "num": 5, "dim": 2},
            {"layer": "multihead_attention", "name": "mha", "embed_dim": 4, "num_heads": 2},
            {"name": "scale", "shape": [3], "init": "ones"}]"#,
    )
    .unwrap();
    let roles: BTreeMap<String, Option<String>> = described
        .iter()
        .map(|t| {
            (
                t.tensor.param.name.clone(),
                t.tensor.role.map(|r| r.to_string()),
            )
        })
        .collect();
    let expect = [
        ("fc.weight", Some("linear")),
        ("fc.bias", Some("linear.bias")),
        ("up.weight", Some("conv")),
        ("rnn.weight_ih_l0", Some("recurrent")),
        ("rnn.bias_hh_l0", Some("recurrent.bias")),
        ("bn.running_mean", Some("norm.buffer")),
        ("bn.num_batches_tracked", Some("norm.buffer")),
        ("emb.weight", Some("embedding")),
        ("mha.in_proj_weight", Some("multihead_attention")),
        ("mha.in_proj_bias", Some("multihead_attention.bias")),
        ("scale", None),
    ];
    for (name, role) in expect {
        assert_eq!(
            roles
                .get(name)
                .unwrap_or_else(|| panic!("no tensor {name}: {roles:?}"))
                .as_deref(),
            role,
            "{name}"
        );
    }
}
