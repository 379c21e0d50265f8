//! Hugging Face architectures from config.json: nninit's tensors for every test config equal,
//! key for key and in order, what transformers 5.25.0's real class saves, and in bf16 the dtype
//! of each key (`tests/data/hf/keys.json`, recorded by `scripts/hf_keys.py`); bad configs are
//! refused with an error that names the field.

use nninit::model::hf::{ARCHITECTURES, HfModel};
use nninit::scheme::Init;
use nninit::scheme::layers::ParamInit;
use serde_json::Value;

fn data(name: &str) -> Value {
    let path = format!("{}/tests/data/hf/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn every_config_gives_the_keys_shapes_and_order_transformers_saves() {
    let configs = data("configs.json");
    let recorded = data("keys.json");
    assert_eq!(recorded["versions"]["transformers"], "5.25.0");
    let cases = configs["cases"].as_object().unwrap();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    let mut classes_seen = std::collections::BTreeSet::new();
    let mut bf16_cases = 0;
    for (case, config) in cases {
        let model = HfModel::from_config_json(&config.to_string())
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        let expected = &recorded["cases"][case];
        assert_eq!(model.class, expected["class"], "{case}");
        classes_seen.insert(model.class);
        let ours: Vec<(String, Vec<u64>, &str)> = model
            .tensors
            .iter()
            .map(|t| (t.param.name.clone(), t.param.shape.clone(), "F32"))
            .collect();
        let theirs: Vec<(String, Vec<u64>, &str)> = expected["tensors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                let shape = t[1].as_array().unwrap().iter().map(|d| d.as_u64().unwrap());
                (
                    t[0].as_str().unwrap().to_string(),
                    shape.collect(),
                    t[2].as_str().unwrap(),
                )
            })
            .collect();
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(a, b, "{case}: tensor {i}");
        }
        assert_eq!(ours.len(), theirs.len(), "{case}: tensor count");
        // In a bf16 checkpoint every key is BF16, but what the class keeps in F32.
        if let Some(bf16) = expected["bf16"].as_array() {
            let ours: Vec<(&str, String)> = model
                .tensors
                .iter()
                .map(|t| {
                    let dtype = t.dtype.unwrap_or(nninit::Dtype::Bf16);
                    (t.param.name.as_str(), dtype.safetensors_dtype().to_string())
                })
                .collect();
            let theirs: Vec<(&str, String)> = bf16
                .iter()
                .map(|t| (t[0].as_str().unwrap(), t[1].as_str().unwrap().to_string()))
                .collect();
            assert_eq!(ours, theirs, "{case}: bf16 dtypes");
            bf16_cases += 1;
        }
    }
    assert!(bf16_cases >= 30, "{bf16_cases} cases with bf16 dtypes");
    let all: std::collections::BTreeSet<&str> = ARCHITECTURES.iter().map(|(_, c)| *c).collect();
    assert_eq!(
        classes_seen, all,
        "every supported class has a recorded case"
    );
}

fn normal_std(model: &HfModel, name: &str) -> f64 {
    let tensor = model.tensors.iter().find(|t| t.param.name == name).unwrap();
    match &tensor.param.init {
        ParamInit::Scheme {
            init: Init::Normal { mean, std },
            ..
        } => {
            assert_eq!(*mean, 0.0);
            *std
        }
        other => panic!("{name}: {other:?}"),
    }
}

fn init_of(model: &HfModel, name: &str) -> (Init, Option<u64>) {
    let tensor = model.tensors.iter().find(|t| t.param.name == name).unwrap();
    match &tensor.param.init {
        ParamInit::Scheme { init, zero_row } => (init.clone(), *zero_row),
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn recipes_follow_each_class_init_weights() {
    let configs = data("configs.json");
    let model =
        |case: &str| HfModel::from_config_json(&configs["cases"][case].to_string()).unwrap();

    let llama = model("llama-bias-head-dim-tied");
    assert_eq!(
        normal_std(&llama, "model.layers.0.self_attn.q_proj.weight"),
        0.02
    );
    assert_eq!(init_of(&llama, "model.embed_tokens.weight").1, Some(3));
    assert_eq!(
        init_of(&llama, "model.layers.1.mlp.down_proj.bias").0,
        Init::Zeros
    );
    assert_eq!(init_of(&llama, "model.norm.weight").0, Init::Ones);

    let gemma = model("gemma");
    assert_eq!(init_of(&gemma, "model.norm.weight").0, Init::Zeros);
    assert_eq!(
        init_of(&gemma, "model.layers.0.input_layernorm.weight").0,
        Init::Zeros
    );
    assert_eq!(init_of(&gemma, "model.embed_tokens.weight").1, Some(0));

    let qwen3 = model("qwen3");
    assert_eq!(
        init_of(&qwen3, "model.layers.1.self_attn.k_norm.weight").0,
        Init::Ones
    );

    let t5 = model("t5");
    let (d_model, d_kv, heads, d_ff) = (32f64, 8f64, 4f64, 64f64);
    let q = normal_std(&t5, "encoder.block.0.layer.0.SelfAttention.q.weight");
    assert!((q - (d_model * d_kv).powf(-0.5)).abs() < 1e-15);
    let o = normal_std(&t5, "decoder.block.2.layer.1.EncDecAttention.o.weight");
    assert!((o - (heads * d_kv).powf(-0.5)).abs() < 1e-15);
    let wo = normal_std(&t5, "decoder.block.1.layer.2.DenseReluDense.wo.weight");
    assert!((wo - d_ff.powf(-0.5)).abs() < 1e-15);
    assert_eq!(normal_std(&t5, "shared.weight"), 1.0);
    let bias = normal_std(
        &t5,
        "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
    );
    assert!((bias - d_model.powf(-0.5)).abs() < 1e-15);
    assert_eq!(
        init_of(&t5, "encoder.final_layer_norm.weight").0,
        Init::Constant { val: 1.0 }
    );

    let gpt2 = model("gpt2-inner");
    assert_eq!(normal_std(&gpt2, "transformer.h.0.mlp.c_fc.weight"), 0.05);
    let c_proj = normal_std(&gpt2, "transformer.h.2.attn.c_proj.weight");
    assert!((c_proj - 0.05 / 6f64.sqrt()).abs() < 1e-15);

    let vit = model("vit-model");
    assert_eq!(
        init_of(&vit, "embeddings.position_embeddings").0,
        Init::TruncNormal {
            mean: 0.0,
            std: 0.02,
            a: -2.0,
            b: 2.0
        }
    );
    let bert = model("bert-mlm");
    assert_eq!(
        init_of(&bert, "bert.embeddings.word_embeddings.weight").1,
        Some(0)
    );
    assert_eq!(init_of(&bert, "cls.predictions.bias").0, Init::Zeros);
}

/// The error of a config that must be refused, as the CLI prints it.
fn refused(config: &str) -> String {
    match HfModel::from_config_json(config) {
        Ok(model) => panic!("{config} was accepted as {}", model.class),
        Err(error) => error.to_string(),
    }
}

#[test]
fn bad_configs_name_the_field_and_what_is_allowed() {
    let cases = [
        ("{not json", "config.json"),
        ("[1, 2]", "a JSON object"),
        (
            r#"{"model_type": "mamba"}"#,
            "one of llama, mistral, qwen2, qwen3, gemma, gemma2, gemma3_text, phi3, olmo2, \
             granite, smollm3, starcoder2, mixtral, qwen2_moe, qwen3_moe, deepseek_v3, gpt_oss, \
             llama4_text, bert, vit, t5, gpt2",
        ),
        // A family's name, changed: not a type nninit guesses at.
        (
            r#"{"model_type": "qwen3_moe_v2"}"#,
            "config.json model_type = qwen3_moe_v2",
        ),
        (
            r#"{"model_type": "mixtral", "num_local_experts": 4, "num_experts_per_tok": 5}"#,
            "num_experts_per_tok = 5: at most num_local_experts = 4",
        ),
        (
            r#"{"model_type": "qwen3_moe", "num_experts": 4, "num_experts_per_tok": 8}"#,
            "num_experts_per_tok = 8: at most num_experts = 4",
        ),
        (
            r#"{"model_type": "deepseek_v3", "n_routed_experts": 10, "n_group": 4}"#,
            "n_routed_experts = 10: a multiple of n_group = 4",
        ),
        (
            r#"{"model_type": "deepseek_v3", "n_group": 4, "topk_group": 5}"#,
            "topk_group = 5: at most n_group = 4",
        ),
        (
            r#"{"model_type": "qwen2_moe", "num_hidden_layers": 2, "mlp_only_layers": [0, 1]}"#,
            "mlp_only_layers and decoder_sparse_step = no MoE layer",
        ),
        (
            r#"{"model_type": "qwen2_moe", "num_hidden_layers": 2, "decoder_sparse_step": 3}"#,
            "mlp_only_layers and decoder_sparse_step = no MoE layer",
        ),
        (
            r#"{"model_type": "llama4_text", "num_hidden_layers": 4, "moe_layers": [9]}"#,
            "moe_layers = [9]: a list of layer indices in [0, 4)",
        ),
        (
            r#"{"model_type": "deepseek_v3", "num_hidden_layers": 3, "first_k_dense_replace": 3}"#,
            "first_k_dense_replace = no MoE layer",
        ),
        (
            r#"{"model_type": "deepseek_v3", "kv_lora_rank": 0}"#,
            "kv_lora_rank = 0: an integer ≥ 1",
        ),
        (
            r#"{"model_type": "deepseek_v3", "q_lora_rank": 0}"#,
            "q_lora_rank = 0: an integer ≥ 1",
        ),
        (
            r#"{"architectures": ["MambaForCausalLM"]}"#,
            "LlamaForCausalLM",
        ),
        (
            r#"{"model_type": "llama", "architectures": ["BertModel"]}"#,
            "a llama class",
        ),
        (r#"{}"#, "model_type = missing"),
        (
            r#"{"model_type": "llama", "hidden_size": "big"}"#,
            "config.json hidden_size = \"big\": an integer ≥ 1",
        ),
        (
            r#"{"model_type": "llama", "num_hidden_layers": 0}"#,
            "num_hidden_layers = 0",
        ),
        (
            r#"{"model_type": "llama", "vocab_size": -5}"#,
            "vocab_size = -5",
        ),
        (
            r#"{"model_type": "llama", "hidden_size": 100, "num_attention_heads": 8}"#,
            "hidden_size = 100: a multiple of num_attention_heads = 8",
        ),
        (
            r#"{"model_type": "llama", "num_attention_heads": 32, "num_key_value_heads": 5}"#,
            "num_attention_heads = 32: a multiple of num_key_value_heads = 5",
        ),
        (
            r#"{"model_type": "llama", "tie_word_embeddings": "yes"}"#,
            "tie_word_embeddings = \"yes\": true or false",
        ),
        (
            r#"{"model_type": "llama", "pad_token_id": 40000}"#,
            "pad_token_id = 40000",
        ),
        (
            r#"{"model_type": "qwen3", "num_attention_heads": 4294967296, "num_key_value_heads": 1, "head_dim": 4294967296}"#,
            "num_attention_heads",
        ),
        (
            r#"{"model_type": "gpt2", "vocab_size": 9007199254740993, "n_embd": 1024, "n_head": 1}"#,
            "config.json sizes",
        ),
        (
            r#"{"model_type": "t5", "feed_forward_proj": "gated-gelu-x"}"#,
            "feed_forward_proj",
        ),
        (
            r#"{"model_type": "vit", "patch_size": 300}"#,
            "patch_size = 300",
        ),
        (
            r#"{"model_type": "bert", "add_cross_attention": true}"#,
            "add_cross_attention = true",
        ),
        (
            r#"{"model_type": "gpt2", "initializer_range": -1}"#,
            "initializer_range = -1",
        ),
    ];
    for (config, expected) in cases {
        let error = refused(config);
        assert!(
            error.contains(expected),
            "{config}: {error:?} lacks {expected:?}"
        );
        assert!(!error.contains('\n'), "{config}: one line, got {error:?}");
    }
}

#[test]
fn aliases_and_nulls_read_as_transformers_reads_them() {
    // GPT2Config's attribute_map: hidden_size is n_embd.
    let by_alias = HfModel::from_config_json(
        r#"{"model_type": "gpt2", "hidden_size": 64, "n_head": 4, "n_layer": 1, "vocab_size": 10, "n_positions": 8}"#,
    )
    .unwrap();
    assert_eq!(by_alias.tensors[0].param.shape, vec![10, 64]);
    // Qwen2's num_key_value_heads defaults to 32, but null means "as many as the heads".
    let small =
        r#""hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 1, "vocab_size": 10"#;
    let null = HfModel::from_config_json(&format!(
        r#"{{"model_type": "qwen2", {small}, "num_key_value_heads": null}}"#
    ))
    .unwrap();
    assert_eq!(null.tensors[3].param.shape, vec![64, 64]);
    // A negative pad_token_id counts from the end, as nn.Embedding's padding_idx does.
    let negative = HfModel::from_config_json(&format!(
        r#"{{"model_type": "llama", {small}, "pad_token_id": -1}}"#
    ))
    .unwrap();
    assert_eq!(init_of(&negative, "model.embed_tokens.weight").1, Some(9));
}

#[test]
fn the_written_config_names_class_type_and_dtype() {
    let model = HfModel::from_config_json(
        r#"{"model_type": "llama", "torch_dtype": "float16", "hidden_size": 64, "num_attention_heads": 4, "num_hidden_layers": 1, "vocab_size": 10, "rope_theta": 500000.0}"#,
    )
    .unwrap();
    let written: Value = serde_json::from_str(&model.config_json("bfloat16")).unwrap();
    assert_eq!(written["dtype"], "bfloat16");
    assert_eq!(written["architectures"][0], "LlamaForCausalLM");
    assert_eq!(written["model_type"], "llama");
    assert_eq!(written["rope_theta"], 500000.0);
    assert!(written.get("torch_dtype").is_none());
}
