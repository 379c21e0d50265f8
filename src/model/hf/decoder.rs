//! The Llama-style decoders: `LlamaForCausalLM`, `MistralForCausalLM`, `Qwen2ForCausalLM`,
//! `Qwen3ForCausalLM` and `GemmaForCausalLM`. One layout — embedding, `num_hidden_layers` of
//! (q/k/v/o attention with grouped KV heads, gated MLP, two RMSNorms), final RMSNorm, LM head —
//! with each family's biases, norms and defaults from its transformers 5.24.0 config class.
//!
//! Recipe (the base `_init_weights`; these classes have none of their own, Gemma aside):
//! Linear weights and the embedding N(0, σ) with σ = `initializer_range or 0.02`, biases 0, the
//! embedding's `pad_token_id` row 0, RMSNorm weights 1 — 0 for Gemma, whose norm computes
//! x·(1 + w). A tied LM head is not saved: `save_pretrained` drops it.

use crate::error::Result;
use crate::model::hf::config::{Config, divide, head_dim, times};
use crate::model::hf::{Tensors, base_recipe, base_std};
use crate::model::role::{Part, Role, TensorRole};
use crate::scheme::Init;

/// Where a family's projection biases come from.
#[derive(Clone, Copy)]
enum Bias {
    Never,
    Always,
    /// The config flag of that name (default false).
    Field(&'static str),
}

impl Bias {
    fn read(self, config: &Config<'_>) -> Result<bool> {
        match self {
            Bias::Never => Ok(false),
            Bias::Always => Ok(true),
            Bias::Field(name) => config.flag(name, false),
        }
    }
}

/// One family: its config class's defaults and its layout's differences.
pub struct Family {
    vocab_size: u64,
    hidden_size: u64,
    intermediate_size: u64,
    num_hidden_layers: u64,
    num_attention_heads: u64,
    /// `None`: as many as the attention heads.
    num_key_value_heads: Option<u64>,
    /// `None`: `hidden_size / num_attention_heads`.
    head_dim: Option<u64>,
    pad_token_id: Option<u64>,
    tie_word_embeddings: bool,
    qkv_bias: Bias,
    o_bias: Bias,
    mlp_bias: Bias,
    /// Qwen3's per-head RMSNorm of q and k.
    qk_norm: bool,
    /// RMSNorm weights: 1, or 0 where the norm computes x·(1 + w).
    norm: Init,
}

/// transformers 5.24.0 `LlamaConfig` and `LlamaForCausalLM`.
pub const LLAMA: Family = Family {
    vocab_size: 32000,
    hidden_size: 4096,
    intermediate_size: 11008,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: None,
    head_dim: None,
    pad_token_id: None,
    tie_word_embeddings: false,
    qkv_bias: Bias::Field("attention_bias"),
    o_bias: Bias::Field("attention_bias"),
    mlp_bias: Bias::Field("mlp_bias"),
    qk_norm: false,
    norm: Init::Ones,
};

/// `MistralConfig` and `MistralForCausalLM`: no biases anywhere.
pub const MISTRAL: Family = Family {
    intermediate_size: 14336,
    num_key_value_heads: Some(8),
    qkv_bias: Bias::Never,
    o_bias: Bias::Never,
    mlp_bias: Bias::Never,
    ..LLAMA
};

/// `Qwen2Config` and `Qwen2ForCausalLM`: q, k and v always have biases, o and the MLP none.
pub const QWEN2: Family = Family {
    vocab_size: 151936,
    intermediate_size: 22016,
    num_key_value_heads: Some(32),
    qkv_bias: Bias::Always,
    o_bias: Bias::Never,
    mlp_bias: Bias::Never,
    ..LLAMA
};

/// `Qwen3Config` and `Qwen3ForCausalLM`: `attention_bias`, `head_dim` 128, q_norm and k_norm.
pub const QWEN3: Family = Family {
    head_dim: Some(128),
    qkv_bias: Bias::Field("attention_bias"),
    o_bias: Bias::Field("attention_bias"),
    qk_norm: true,
    ..QWEN2
};

/// `GemmaConfig` and `GemmaForCausalLM`: RMSNorm weights 0, tied embeddings, padding row 0.
pub const GEMMA: Family = Family {
    vocab_size: 256000,
    hidden_size: 3072,
    intermediate_size: 24576,
    num_hidden_layers: 28,
    num_attention_heads: 16,
    num_key_value_heads: Some(16),
    head_dim: Some(256),
    pad_token_id: Some(0),
    tie_word_embeddings: true,
    mlp_bias: Bias::Never,
    norm: Init::Zeros,
    ..LLAMA
};

/// The state dict `save_pretrained` writes for `family` under `config`.
pub fn tensors(family: &Family, config: &Config<'_>) -> Result<Tensors> {
    let vocab = config.count("vocab_size", family.vocab_size)?;
    let hidden = config.count("hidden_size", family.hidden_size)?;
    let intermediate = config.count("intermediate_size", family.intermediate_size)?;
    let layers = config.layers("num_hidden_layers", family.num_hidden_layers)?;
    let heads = config.count("num_attention_heads", family.num_attention_heads)?;
    let kv_heads = config
        .count_or_none("num_key_value_heads", family.num_key_value_heads)?
        .unwrap_or(heads);
    divide(
        config,
        ("num_attention_heads", heads),
        ("num_key_value_heads", kv_heads),
    )?;
    let head_dim = head_dim(config, family.head_dim, hidden, heads)?;
    let q_width = times(config, "num_attention_heads", heads, head_dim)?;
    let kv_width = times(config, "num_key_value_heads", kv_heads, head_dim)?;
    let tied = config.flag("tie_word_embeddings", family.tie_word_embeddings)?;
    let pad = config.padding_row("pad_token_id", family.pad_token_id, vocab)?;
    let (qkv_bias, o_bias, mlp_bias) = (
        family.qkv_bias.read(config)?,
        family.o_bias.read(config)?,
        family.mlp_bias.read(config)?,
    );

    let mut out = Tensors::new(layers, recipe(family, base_std(config)?));
    out.shard("model.embed_tokens.weight", 0);
    let attn = "model.layers.*.self_attn";
    out.shard_heads(&format!("{attn}.q_proj.*"), 0, "num_attention_heads", heads);
    out.shard_heads(
        &format!("{attn}.k_proj.*"),
        0,
        "num_key_value_heads",
        kv_heads,
    );
    out.shard_heads(
        &format!("{attn}.v_proj.*"),
        0,
        "num_key_value_heads",
        kv_heads,
    );
    out.shard_heads(
        &format!("{attn}.o_proj.weight"),
        1,
        "num_attention_heads",
        heads,
    );
    out.shard("model.layers.*.mlp.gate_proj.*", 0);
    out.shard("model.layers.*.mlp.up_proj.*", 0);
    out.shard("model.layers.*.mlp.down_proj.weight", 1);
    out.shard("lm_head.weight", 0);
    out.embedding(
        "model.embed_tokens.weight",
        vocab,
        hidden,
        pad,
        Role::Embedding,
    );
    for layer in 0..layers {
        out.in_layer(Some(layer));
        let attn = format!("model.layers.{layer}.self_attn");
        out.linear(
            &format!("{attn}.q_proj"),
            hidden,
            q_width,
            qkv_bias,
            Role::AttentionQ,
        );
        out.linear(
            &format!("{attn}.k_proj"),
            hidden,
            kv_width,
            qkv_bias,
            Role::AttentionK,
        );
        out.linear(
            &format!("{attn}.v_proj"),
            hidden,
            kv_width,
            qkv_bias,
            Role::AttentionV,
        );
        out.linear(
            &format!("{attn}.o_proj"),
            q_width,
            hidden,
            o_bias,
            Role::AttentionO,
        );
        if family.qk_norm {
            out.norm(&format!("{attn}.q_norm.weight"), head_dim);
            out.norm(&format!("{attn}.k_norm.weight"), head_dim);
        }
        let mlp = format!("model.layers.{layer}.mlp");
        out.linear(
            &format!("{mlp}.gate_proj"),
            hidden,
            intermediate,
            mlp_bias,
            Role::MlpGate,
        );
        out.linear(
            &format!("{mlp}.up_proj"),
            hidden,
            intermediate,
            mlp_bias,
            Role::MlpUp,
        );
        out.linear(
            &format!("{mlp}.down_proj"),
            intermediate,
            hidden,
            mlp_bias,
            Role::MlpDown,
        );
        for norm in ["input_layernorm", "post_attention_layernorm"] {
            out.norm(&format!("model.layers.{layer}.{norm}.weight"), hidden);
        }
    }
    out.in_layer(None);
    out.norm("model.norm.weight", hidden);
    if !tied {
        out.linear("lm_head", hidden, vocab, false, Role::OutputHead);
    }
    Ok(out)
}

/// The recipe of these classes: the base `_init_weights` with σ = `std`, the norm weights
/// `family.norm`.
fn recipe(family: &Family, std: f64) -> impl Fn(&TensorRole) -> Init + 'static {
    let norm = family.norm.clone();
    move |role| match (role.role, role.part) {
        (Role::Norm, Part::Weight) => norm.clone(),
        _ => base_recipe(role, std),
    }
}
