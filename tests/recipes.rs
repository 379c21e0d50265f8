//! The pretraining frameworks' recipes over the roles: each tensor's spec against the formulas
//! of torchtitan 0.3.0, megatron-core and OLMo-core 3.0 as `../shared/RECIPES.md` cites them
//! (written out here, not read from the library), `init --recipe` on the CLI (metadata,
//! `verify`, bad names), and pipeline stages holding the whole model's values.

mod common;

use common::cli::{assert_success, assert_usage_error, nninit, temp_dir};
use nninit::model::hf::HfModel;
use nninit::model::recipe::Recipe;
use nninit::scheme::Init;
use serde_json::{Value, json};

/// A Llama of `layers` layers, width 64, 4 heads (2 KV), MLP 160, vocabulary 128.
fn llama(layers: u64, tied: bool) -> Value {
    json!({"model_type": "llama", "vocab_size": 128, "hidden_size": 64,
           "intermediate_size": 160, "num_hidden_layers": layers, "num_attention_heads": 4,
           "num_key_value_heads": 2, "tie_word_embeddings": tied})
}

/// Every tensor's spec under `recipe`, by key.
fn specs(config: &Value, recipe: &str) -> Vec<(String, Init)> {
    let mut model = HfModel::from_config_json(&config.to_string()).unwrap();
    let model_type = model.model_type;
    Recipe::parse(recipe, Some(model_type))
        .unwrap()
        .apply(model.tensors.iter_mut(), None)
        .unwrap();
    model
        .tensors
        .into_iter()
        .map(|t| match t.param.init {
            nninit::scheme::layers::ParamInit::Scheme {
                init,
                zero_row: None,
            } => (t.param.name, init),
            other => panic!("{}: {other:?}", t.param.name),
        })
        .collect()
}

fn spec_of<'a>(specs: &'a [(String, Init)], key: &str) -> &'a Init {
    &specs
        .iter()
        .find(|(name, _)| name == key)
        .unwrap_or_else(|| panic!("no {key}"))
        .1
}

fn normal(std: f64) -> Init {
    Init::Normal { mean: 0.0, std }
}

/// torch's `trunc_normal_(std)` with its default absolute bounds ±2.
fn torch_trunc(std: f64) -> Init {
    Init::TruncNormal {
        mean: 0.0,
        std,
        a: -2.0,
        b: 2.0,
    }
}

/// `trunc_normal_(std, a=-3·std, b=3·std)`.
fn trunc3(std: f64) -> Init {
    Init::TruncNormal {
        mean: 0.0,
        std,
        a: -3.0 * std,
        b: 3.0 * std,
    }
}

fn assert_close(got: &Init, want: &Init, key: &str) {
    let numbers = |init: &Init| -> (String, Vec<f64>) {
        match *init {
            Init::Normal { mean, std } => ("normal".into(), vec![mean, std]),
            Init::TruncNormal { mean, std, a, b } => ("trunc".into(), vec![mean, std, a, b]),
            ref other => (format!("{other:?}"), vec![]),
        }
    };
    let ((kind, got_n), (want_kind, want_n)) = (numbers(got), numbers(want));
    assert_eq!(kind, want_kind, "{key}: {got:?} against {want:?}");
    for (g, w) in got_n.iter().zip(&want_n) {
        assert!(
            (g - w).abs() <= 1e-15 * w.abs().max(1.0),
            "{key}: {got:?} against {want:?}"
        );
    }
}

#[test]
fn torchtitan_llama3_scales_out_up_and_down_by_the_layer_and_cuts_the_head_at_three_sigma() {
    // torchtitan/models/llama3: depth_scaled_std(0.02, l) = 0.02 / (2 (l + 1))^½ on wo, w2 and
    // w3; trunc_normal_(0.02) on wq, wk, wv, w1; normal_(1) embeddings; the head
    // trunc_normal_(dim^-½, ±3 dim^-½); norms 1.
    let specs = specs(&llama(3, false), "torchtitan");
    for layer in 0..3u64 {
        let depth = 0.02 / (2.0 * (layer + 1) as f64).sqrt();
        let key = |m: &str| format!("model.layers.{layer}.{m}.weight");
        for module in [
            "self_attn.q_proj",
            "self_attn.k_proj",
            "self_attn.v_proj",
            "mlp.gate_proj",
        ] {
            assert_close(
                spec_of(&specs, &key(module)),
                &torch_trunc(0.02),
                &key(module),
            );
        }
        for module in ["self_attn.o_proj", "mlp.up_proj", "mlp.down_proj"] {
            assert_close(
                spec_of(&specs, &key(module)),
                &torch_trunc(depth),
                &key(module),
            );
        }
        assert_eq!(spec_of(&specs, &key("input_layernorm")), &Init::Ones);
    }
    assert_close(
        spec_of(&specs, "model.embed_tokens.weight"),
        &normal(1.0),
        "embed",
    );
    assert_close(
        spec_of(&specs, "lm_head.weight"),
        &trunc3(1.0 / 8.0),
        "lm_head",
    );
    assert_eq!(spec_of(&specs, "model.norm.weight"), &Init::Ones);
}

#[test]
fn torchtitan_draws_a_tied_embedding_as_its_head() {
    // The tied flavours skip the embedding's init: the shared matrix is the head's.
    let specs = specs(&llama(2, true), "torchtitan:llama3");
    assert!(specs.iter().all(|(name, _)| name != "lm_head.weight"));
    assert_close(
        spec_of(&specs, "model.embed_tokens.weight"),
        &trunc3(0.125),
        "tied",
    );
    // Megatron and OLMo-core draw the shared matrix as the embedding.
    let megatron = self::specs(&llama(2, true), "megatron");
    assert_close(
        spec_of(&megatron, "model.embed_tokens.weight"),
        &normal(0.02),
        "tied",
    );
}

#[test]
fn megatron_scales_only_attention_out_and_mlp_down_by_the_depth() {
    // init_method_normal(0.02) everywhere; scaled_init_method_normal(0.02, L) = 0.02/(2L)^½ on
    // linear_proj and linear_fc2; the untied output layer init_method, not scaled.
    let layers = 4;
    let specs = specs(&llama(layers, false), "megatron");
    let scaled = 0.02 / (2.0 * layers as f64).sqrt();
    for (key, init) in &specs {
        let want = if key.ends_with("norm.weight") {
            Init::Ones
        } else if key.ends_with("o_proj.weight") || key.ends_with("down_proj.weight") {
            normal(scaled)
        } else {
            normal(0.02)
        };
        assert_close(init, &want, key);
    }
}

#[test]
fn olmo_core_methods_follow_their_tables() {
    let layers = 4;
    let key = |m: &str| format!("model.layers.2.{m}.weight");
    // normal (OLMo 2): every weight TN(0.02; ±0.06), embeddings and head too.
    let specs = specs(&llama(layers, false), "olmo");
    for (name, init) in specs.iter().filter(|(n, _)| !n.ends_with("norm.weight")) {
        assert_close(init, &trunc3(0.02), name);
    }
    // llama: σ/√(2L) on attention out, up and down; d^-½ head; N(0,1) embeddings.
    let specs = self::specs(&llama(layers, false), "olmo:llama");
    let scaled = 0.02 / (2.0 * layers as f64).sqrt();
    assert_close(
        spec_of(&specs, &key("self_attn.q_proj")),
        &trunc3(0.02),
        "q",
    );
    assert_close(
        spec_of(&specs, &key("mlp.gate_proj")),
        &trunc3(0.02),
        "gate",
    );
    for module in ["self_attn.o_proj", "mlp.up_proj", "mlp.down_proj"] {
        assert_close(spec_of(&specs, &key(module)), &trunc3(scaled), module);
    }
    assert_close(spec_of(&specs, "lm_head.weight"), &trunc3(0.125), "head");
    assert_close(
        spec_of(&specs, "model.embed_tokens.weight"),
        &normal(1.0),
        "embed",
    );
    // llama_depth: σ/√(2(l+1)), layer 2.
    let specs = self::specs(&llama(layers, false), "olmo:llama_depth");
    let depth = 0.02 / 6f64.sqrt();
    assert_close(
        spec_of(&specs, &key("mlp.down_proj")),
        &trunc3(depth),
        "down",
    );
    // fan_in: 1/√fan_in: 1/8 for the width-64 inputs, 1/√160 for down.
    let specs = self::specs(&llama(layers, false), "olmo:fan_in");
    assert_close(spec_of(&specs, &key("mlp.up_proj")), &trunc3(0.125), "up");
    let down = 1.0 / 160f64.sqrt();
    assert_close(
        spec_of(&specs, &key("mlp.down_proj")),
        &trunc3(down),
        "down",
    );
}

#[test]
fn fused_experts_take_one_experts_fan_in() {
    // gpt-oss stores its experts [E, H, 2I] and [E, I, H] (in, out): one expert's fan-in is H
    // for gate-up and I for down, not torch's dim-1-times-the-rest.
    let config = json!({"model_type": "gpt_oss", "vocab_size": 64, "hidden_size": 32,
        "intermediate_size": 24, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "head_dim": 8, "num_local_experts": 4,
        "num_experts_per_tok": 2});
    let model = HfModel::from_config_json(&config.to_string()).unwrap();
    let fan_in = |suffix: &str| {
        let t = model
            .tensors
            .iter()
            .find(|t| t.param.name.ends_with(suffix))
            .unwrap();
        t.role.unwrap().fan_in
    };
    assert_eq!(fan_in("mlp.experts.gate_up_proj"), 32);
    assert_eq!(fan_in("mlp.experts.down_proj"), 24);
    assert_eq!(fan_in("self_attn.o_proj.weight"), 32);
}

fn config_file(dir: &std::path::Path, config: &Value) -> String {
    let path = dir.join("config.json");
    std::fs::write(&path, config.to_string()).unwrap();
    path.display().to_string()
}

#[test]
fn init_records_the_recipe_and_verify_checks_its_distributions() {
    let dir = temp_dir("recipe-verify");
    let config = config_file(&dir, &llama(2, false));
    let out = dir.join("titan");
    let out_text = out.display().to_string();
    let args = [
        "init",
        "--config",
        &config,
        "--recipe",
        "torchtitan",
        "--out",
        &out_text,
    ];
    assert_success(&nninit(&args));
    let weights = out.join("model.safetensors");
    let bytes = std::fs::read(&weights).unwrap();
    let (_, metadata) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let metadata = metadata.metadata().clone().unwrap();
    assert_eq!(metadata["nninit.recipe"], "torchtitan:llama3");
    let verify = nninit(&["verify", &weights.display().to_string()]);
    assert_success(&verify);
    // The head's values really are the ±3σ truncated normal of σ = 1/8.
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let head: Vec<f32> =
        bytemuck::pod_collect_to_vec(tensors.tensor("lm_head.weight").unwrap().data());
    let bound = 3.0 / 8.0;
    assert!(head.iter().all(|v| v.abs() <= bound), "a value beyond ±3σ");
    let max = head.iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!(
        max > 0.9 * bound,
        "largest |value| {max}: not a ±3σ cut of σ = 1/8"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unknown_recipe_or_an_uncovered_role_is_a_usage_error_naming_it() {
    let dir = temp_dir("recipe-bad");
    let config = config_file(&dir, &llama(2, false));
    let args = [
        "init",
        "--config",
        &config,
        "--recipe",
        "titan",
        "--dry-run",
    ];
    let (_, line) = assert_usage_error(&args, &nninit(&args));
    assert!(line.contains("recipe") && line.contains("titan"), "{line}");
    // Phi-3's gate and up in one tensor: torchtitan scales up and not gate.
    let phi3 = json!({"model_type": "phi3", "vocab_size": 64, "hidden_size": 32,
        "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4});
    let config = config_file(&dir, &phi3);
    let args = [
        "init",
        "--config",
        &config,
        "--recipe",
        "torchtitan",
        "--dry-run",
    ];
    let (_, line) = assert_usage_error(&args, &nninit(&args));
    assert!(
        line.contains("gate_up_proj") && line.contains("mlp.gate_up"),
        "{line}"
    );
    // A model description's linear layers are no framework's transformer.
    let mlp = [
        "init",
        "--model",
        "mlp",
        "--recipe",
        "megatron",
        "--dry-run",
    ];
    let (_, line) = assert_usage_error(&mlp, &nninit(&mlp));
    assert!(line.contains("(linear)"), "{line}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn presets_take_a_framework_recipe_over_their_roles() {
    // GPT-2's blocks: Megatron's GPT is GPT-2's layout.
    let args = [
        "init",
        "--model",
        "gpt2",
        "--recipe",
        "megatron",
        "--dry-run",
        "--json",
    ];
    let output = nninit(&args);
    assert_success(&output);
    let lines: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let spec = |key: &str| {
        let line = lines.iter().find(|l| l["key"] == key).unwrap();
        line["spec"].as_str().unwrap().to_string()
    };
    let scaled = 0.02 / 24f64.sqrt();
    assert_eq!(
        spec("transformer.h.3.attn.c_proj.weight"),
        format!("normal(mean=0,std={scaled})")
    );
    assert_eq!(
        spec("transformer.h.3.mlp.c_fc.weight"),
        "normal(mean=0,std=0.02)"
    );
    assert_eq!(spec("transformer.wpe.weight"), "normal(mean=0,std=0.02)");
}

#[test]
fn pipeline_stages_hold_the_whole_models_values() {
    let dir = temp_dir("recipe-pp");
    let config = config_file(&dir, &llama(5, false));
    let whole = dir.join("whole");
    let whole_text = whole.display().to_string();
    let base = [
        "init", "--config", &config, "--recipe", "megatron", "--seed", "7",
    ];
    assert_success(&nninit(&[&base[..], &["--out", &whole_text]].concat()));
    let whole_bytes = std::fs::read(whole.join("model.safetensors")).unwrap();
    let whole_tensors = safetensors::SafeTensors::deserialize(&whole_bytes).unwrap();
    let mut seen = Vec::new();
    // 5 layers over 3 stages: [0, 1), [1, 3), [3, 5).
    let layers = [vec![0], vec![1, 2], vec![3, 4]];
    for stage in 0..3u64 {
        let out = dir.join(format!("stage{stage}"));
        let out_text = out.display().to_string();
        let stage_text = stage.to_string();
        let extra = ["--pp", "3", "--pp-rank", &stage_text, "--out", &out_text];
        assert_success(&nninit(&[&base[..], &extra[..]].concat()));
        let bytes = std::fs::read(out.join("model.safetensors")).unwrap();
        let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let (_, metadata) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let metadata = metadata.metadata().clone().unwrap();
        assert_eq!(metadata["nninit.pipeline_stage"], format!("{stage} of 3"));
        for (name, view) in tensors.tensors() {
            assert_eq!(
                view.data(),
                whole_tensors.tensor(&name).unwrap().data(),
                "{name}"
            );
            let layer = name
                .strip_prefix("model.layers.")
                .map(|rest| rest.split('.').next().unwrap().parse::<u64>().unwrap());
            match layer {
                Some(layer) => assert!(layers[stage as usize].contains(&layer), "{name}"),
                None if name == "model.embed_tokens.weight" => assert_eq!(stage, 0),
                None => assert_eq!(stage, 2, "{name}"),
            }
            seen.push(name);
        }
    }
    seen.sort();
    let mut all: Vec<String> = whole_tensors
        .names()
        .into_iter()
        .map(String::from)
        .collect();
    all.sort();
    assert_eq!(seen, all, "the stages together hold every tensor once");
    let args = [
        "init",
        "--config",
        &config,
        "--pp",
        "6",
        "--pp-rank",
        "0",
        "--dry-run",
    ];
    let (_, line) = assert_usage_error(&args, &nninit(&args));
    assert!(line.contains("pp") && line.contains('5'), "{line}");
    let args = [
        "init",
        "--config",
        &config,
        "--pp",
        "2",
        "--pp-rank",
        "2",
        "--dry-run",
    ];
    let (_, line) = assert_usage_error(&args, &nninit(&args));
    assert!(line.contains("pp-rank"), "{line}");
    std::fs::remove_dir_all(&dir).unwrap();
}
