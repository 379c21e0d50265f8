//! The decoder-only families: one layout — embedding, `num_hidden_layers` of (attention, MLP or
//! mixture of experts, norms), final norm, LM head — with each family's layout choices,
//! defaults and recipe from its transformers 5.25.0 config and model classes.
//!
//! - Dense: Llama, Mistral, Qwen2, Qwen3, Gemma, Gemma 2, Gemma 3 (text), Phi-3 (fused q/k/v and
//!   gate/up), OLMo 2 (whole-width q/k norms after the blocks), Granite, SmolLM3, StarCoder2
//!   (LayerNorms, biases, a plain MLP).
//! - Mixtures of experts: Mixtral and the Qwen2-MoE/Qwen3-MoE/DeepSeek-V3 line (one key per
//!   expert, as `save_pretrained` splits the fused experts back), gpt-oss and Llama 4 (fused
//!   `[E, H, 2I]` experts on disk); DeepSeek-V3's multi-head latent attention.
//!
//! Recipe (the base `_init_weights` and each family's additions, `../shared/HF_MOE.md`):
//! weights, embeddings, routers and experts N(0, σ) with σ = `initializer_range or 0.02`,
//! biases 0, the embedding's `pad_token_id` row 0, norm weights 1 — 0 for the Gemmas, whose
//! norms compute x·(1 + w); gpt-oss's router bias and attention sinks N(0, σ); DeepSeek-V3's
//! score correction 0, it and the router kept in F32. A tied LM head is not saved.

use crate::contract::dtype::Dtype;
use crate::error::{Error, Result};
use crate::model::hf::config::{Config, divide, head_dim, times};
use crate::model::hf::{Tensors, base_recipe, base_std};
use crate::model::role::{Expert, Part, Role, TensorRole};
use crate::scheme::Init;

/// Where a family's projection biases come from.
#[derive(Clone, Copy)]
enum Bias {
    Never,
    Always,
    /// The config flag of that name, with the class's default.
    Field(&'static str, bool),
}

impl Bias {
    fn read(self, config: &Config<'_>) -> Result<bool> {
        match self {
            Bias::Never => Ok(false),
            Bias::Always => Ok(true),
            Bias::Field(name, default) => config.flag(name, default),
        }
    }
}

/// The attention's projections.
#[derive(Clone, Copy, PartialEq)]
enum Attention {
    /// `q_proj`, `k_proj`, `v_proj`, `o_proj`.
    Separate,
    /// `qkv_proj` (rows q, k, v) and `o_proj` (Phi-3).
    FusedQkv,
    /// Multi-head latent attention (DeepSeek-V3).
    Latent,
}

/// Norms of the queries and keys.
#[derive(Clone, Copy, PartialEq)]
enum QkNorm {
    None,
    /// One of `head_dim` shared by the heads (Qwen3, Gemma 3).
    PerHead,
    /// Over all the heads' width: q `[heads·head_dim]`, k `[kv_heads·head_dim]` (OLMo 2).
    Whole,
}

/// A dense MLP.
#[derive(Clone, Copy, PartialEq)]
enum Mlp {
    /// `gate_proj`, `up_proj`, `down_proj`.
    Gated,
    /// `gate_up_proj` (gate the first half) and `down_proj` (Phi-3).
    FusedGateUp,
    /// `c_fc`, `c_proj` (StarCoder2).
    Plain,
}

/// Which layers hold a mixture of experts instead of the dense MLP.
#[derive(Clone, Copy)]
enum MoeLayers {
    All,
    /// Qwen2-MoE: not in `mlp_only_layers`, and `(L + 1) % decoder_sparse_step == 0`.
    SparseStep,
    /// DeepSeek: from `first_k_dense_replace` on.
    AfterDense,
    /// Llama 4: `moe_layers`, by default every `interleave_moe_layer_step`-th from step − 1.
    Interleaved,
}

/// How the routed experts are saved.
#[derive(Clone, Copy, PartialEq)]
enum Experts {
    /// `experts.{e}.{gate}.weight [I, H]`, `.{up}` and `.{down} [H, I]`, with these names.
    PerExpert {
        gate: &'static str,
        up: &'static str,
        down: &'static str,
    },
    /// `experts.gate_up_proj [E, H, 2I]` and `experts.down_proj [E, I, H]` (Llama 4), with
    /// `gate_up_proj_bias [E, 2I]` and `down_proj_bias [E, H]` where `biases` (gpt-oss).
    Fused { biases: bool },
}

/// Shared experts beside the routed ones.
#[derive(Clone, Copy)]
enum Shared {
    None,
    /// `shared_expert` of `shared_expert_intermediate_size` and its `shared_expert_gate [1, H]`
    /// (Qwen2-MoE).
    GatedOne,
    /// `shared_experts` of `moe_intermediate_size × n_shared_experts` (DeepSeek-V3).
    Many,
    /// `shared_expert` of the experts' size (Llama 4).
    One,
}

/// A family's mixture-of-experts block.
#[derive(Clone, Copy)]
struct Moe {
    /// The block's module: `block_sparse_moe` (Mixtral on disk), `mlp` or `feed_forward`.
    block: &'static str,
    /// The config field of the routed expert count, its default, and the top-k's default.
    experts_field: &'static str,
    experts: u64,
    top_k: u64,
    /// The config field of each expert's inner width, and its default.
    size_field: &'static str,
    size: u64,
    /// `gate` or `router`; with a bias (gpt-oss) or a score correction (DeepSeek-V3).
    router: &'static str,
    router_bias: bool,
    score_bias: bool,
    /// The experts' module comes before the router's (Qwen3-MoE).
    experts_first: bool,
    layout: Experts,
    shared: Shared,
    layers: MoeLayers,
}

/// One family: its config class's defaults and its layout's differences.
pub struct Family {
    vocab_size: u64,
    hidden_size: u64,
    intermediate_size: u64,
    /// The config field of the dense MLP's width (Llama 4: `intermediate_size_mlp`).
    intermediate_field: &'static str,
    num_hidden_layers: u64,
    num_attention_heads: u64,
    /// `None`: as many as the attention heads.
    num_key_value_heads: Option<u64>,
    /// `None`: `hidden_size / num_attention_heads`.
    head_dim: Option<u64>,
    pad_token_id: Option<u64>,
    tie_word_embeddings: bool,
    initializer_range: f64,
    qkv_bias: Bias,
    o_bias: Bias,
    mlp_bias: Bias,
    attention: Attention,
    qk_norm: QkNorm,
    /// gpt-oss's attention sinks.
    sinks: bool,
    mlp: Mlp,
    /// The MLP's module name: `mlp`, or `feed_forward` (Llama 4).
    mlp_module: &'static str,
    moe: Option<Moe>,
    /// RMSNorm weights: 1, or 0 where the norm computes x·(1 + w).
    norm: Init,
    /// LayerNorms, with a bias (StarCoder2).
    norm_bias: bool,
    /// Each layer's norms, in the class's order.
    layer_norms: &'static [&'static str],
}

const PRE_POST: &[&str] = &["input_layernorm", "post_attention_layernorm"];

/// transformers 5.25.0 `LlamaConfig` and `LlamaForCausalLM`.
pub const LLAMA: Family = Family {
    vocab_size: 32000,
    hidden_size: 4096,
    intermediate_size: 11008,
    intermediate_field: "intermediate_size",
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: None,
    head_dim: None,
    pad_token_id: None,
    tie_word_embeddings: false,
    initializer_range: 0.02,
    qkv_bias: Bias::Field("attention_bias", false),
    o_bias: Bias::Field("attention_bias", false),
    mlp_bias: Bias::Field("mlp_bias", false),
    attention: Attention::Separate,
    qk_norm: QkNorm::None,
    sinks: false,
    mlp: Mlp::Gated,
    mlp_module: "mlp",
    moe: None,
    norm: Init::Ones,
    norm_bias: false,
    layer_norms: PRE_POST,
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
    qkv_bias: Bias::Field("attention_bias", false),
    o_bias: Bias::Field("attention_bias", false),
    qk_norm: QkNorm::PerHead,
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

/// `Gemma2Config` and `Gemma2ForCausalLM`: Gemma's norms, four of them per layer.
pub const GEMMA2: Family = Family {
    hidden_size: 2304,
    intermediate_size: 9216,
    num_hidden_layers: 26,
    num_attention_heads: 8,
    num_key_value_heads: Some(4),
    layer_norms: &[
        "input_layernorm",
        "post_attention_layernorm",
        "pre_feedforward_layernorm",
        "post_feedforward_layernorm",
    ],
    ..GEMMA
};

/// `Gemma3TextConfig` and `Gemma3ForCausalLM`: Gemma 2 with per-head q and k norms (0 too).
pub const GEMMA3_TEXT: Family = Family {
    vocab_size: 262208,
    qk_norm: QkNorm::PerHead,
    ..GEMMA2
};

/// `Phi3Config` and `Phi3ForCausalLM`: fused q/k/v and gate/up, no biases.
pub const PHI3: Family = Family {
    vocab_size: 32064,
    hidden_size: 3072,
    intermediate_size: 8192,
    pad_token_id: Some(32000),
    qkv_bias: Bias::Never,
    o_bias: Bias::Never,
    mlp_bias: Bias::Never,
    attention: Attention::FusedQkv,
    mlp: Mlp::FusedGateUp,
    ..LLAMA
};

/// `Olmo2Config` and `Olmo2ForCausalLM`: q and k norms over their whole width, the norms after
/// each block (none before), padding row 1.
pub const OLMO2: Family = Family {
    vocab_size: 50304,
    pad_token_id: Some(1),
    mlp_bias: Bias::Never,
    qk_norm: QkNorm::Whole,
    layer_norms: &["post_attention_layernorm", "post_feedforward_layernorm"],
    ..LLAMA
};

/// `GraniteConfig` and `GraniteForCausalLM`: Llama's layout (its multipliers act in the forward).
pub const GRANITE: Family = LLAMA;

/// `SmolLM3Config` and `SmolLM3ForCausalLM`: Llama's layout, tied, padding row 128004.
pub const SMOLLM3: Family = Family {
    vocab_size: 128256,
    hidden_size: 2048,
    num_hidden_layers: 36,
    num_attention_heads: 16,
    num_key_value_heads: Some(4),
    pad_token_id: Some(128004),
    tie_word_embeddings: true,
    ..LLAMA
};

/// `Starcoder2Config` and `Starcoder2ForCausalLM`: LayerNorms, `use_bias` biases everywhere, a
/// plain `c_fc`/`c_proj` MLP, σ = 0.018042, tied.
pub const STARCODER2: Family = Family {
    vocab_size: 49152,
    hidden_size: 3072,
    intermediate_size: 12288,
    num_hidden_layers: 30,
    num_attention_heads: 24,
    num_key_value_heads: Some(2),
    tie_word_embeddings: true,
    initializer_range: 0.018042,
    qkv_bias: Bias::Field("use_bias", true),
    o_bias: Bias::Field("use_bias", true),
    mlp_bias: Bias::Field("use_bias", true),
    mlp: Mlp::Plain,
    norm_bias: true,
    ..LLAMA
};

/// `MixtralConfig` and `MixtralForCausalLM`: every layer 8 experts, saved as `w1`/`w3`/`w2`
/// under `block_sparse_moe`.
pub const MIXTRAL: Family = Family {
    intermediate_size: 14336,
    num_key_value_heads: Some(8),
    qkv_bias: Bias::Never,
    o_bias: Bias::Never,
    mlp_bias: Bias::Never,
    moe: Some(Moe {
        block: "block_sparse_moe",
        experts_field: "num_local_experts",
        experts: 8,
        top_k: 2,
        size_field: "intermediate_size",
        size: 14336,
        router: "gate",
        router_bias: false,
        score_bias: false,
        experts_first: false,
        layout: Experts::PerExpert {
            gate: "w1",
            up: "w3",
            down: "w2",
        },
        shared: Shared::None,
        layers: MoeLayers::All,
    }),
    ..LLAMA
};

/// The Qwen/DeepSeek line's per-expert keys.
const PROJ_EXPERTS: Experts = Experts::PerExpert {
    gate: "gate_proj",
    up: "up_proj",
    down: "down_proj",
};

/// `Qwen2MoeConfig` and `Qwen2MoeForCausalLM`: 60 experts and a gated shared expert, q/k/v biases.
pub const QWEN2_MOE: Family = Family {
    vocab_size: 151936,
    hidden_size: 2048,
    intermediate_size: 5632,
    num_hidden_layers: 24,
    num_attention_heads: 16,
    num_key_value_heads: Some(16),
    qkv_bias: Bias::Field("qkv_bias", true),
    o_bias: Bias::Never,
    mlp_bias: Bias::Never,
    moe: Some(Moe {
        block: "mlp",
        experts_field: "num_experts",
        experts: 60,
        top_k: 4,
        size_field: "moe_intermediate_size",
        size: 1408,
        router: "gate",
        router_bias: false,
        score_bias: false,
        experts_first: false,
        layout: PROJ_EXPERTS,
        shared: Shared::GatedOne,
        layers: MoeLayers::SparseStep,
    }),
    ..LLAMA
};

/// `Qwen3MoeConfig` and `Qwen3MoeForCausalLM`: 128 experts, no shared one, Qwen3's attention.
pub const QWEN3_MOE: Family = Family {
    intermediate_size: 6144,
    num_attention_heads: 32,
    num_key_value_heads: Some(4),
    qkv_bias: Bias::Field("attention_bias", false),
    o_bias: Bias::Field("attention_bias", false),
    qk_norm: QkNorm::PerHead,
    moe: Some(Moe {
        experts: 128,
        top_k: 8,
        size: 768,
        experts_first: true,
        shared: Shared::None,
        ..match QWEN2_MOE.moe {
            Some(moe) => moe,
            None => panic!("Qwen2-MoE has experts"),
        }
    }),
    ..QWEN2_MOE
};

/// `DeepseekV3Config` and `DeepseekV3ForCausalLM` (defaults: the 671B model): latent attention,
/// 3 dense layers, then 256 routed experts and a shared one per layer.
pub const DEEPSEEK_V3: Family = Family {
    vocab_size: 129280,
    hidden_size: 7168,
    intermediate_size: 18432,
    num_hidden_layers: 61,
    num_attention_heads: 128,
    num_key_value_heads: Some(128),
    qkv_bias: Bias::Field("attention_bias", false),
    o_bias: Bias::Field("attention_bias", false),
    mlp_bias: Bias::Never,
    attention: Attention::Latent,
    moe: Some(Moe {
        block: "mlp",
        experts_field: "n_routed_experts",
        experts: 256,
        top_k: 8,
        size_field: "moe_intermediate_size",
        size: 2048,
        router: "gate",
        router_bias: false,
        score_bias: true,
        experts_first: false,
        layout: PROJ_EXPERTS,
        shared: Shared::Many,
        layers: MoeLayers::AfterDense,
    }),
    ..LLAMA
};

/// `GptOssConfig` and `GptOssForCausalLM` (defaults: gpt-oss-120b): attention biases and sinks,
/// a router with a bias, fused interleaved experts with biases.
pub const GPT_OSS: Family = Family {
    vocab_size: 201088,
    hidden_size: 2880,
    intermediate_size: 2880,
    num_hidden_layers: 36,
    num_attention_heads: 64,
    num_key_value_heads: Some(8),
    head_dim: Some(64),
    qkv_bias: Bias::Field("attention_bias", true),
    o_bias: Bias::Field("attention_bias", true),
    mlp_bias: Bias::Never,
    sinks: true,
    moe: Some(Moe {
        block: "mlp",
        experts_field: "num_local_experts",
        experts: 128,
        top_k: 4,
        size_field: "intermediate_size",
        size: 2880,
        router: "router",
        router_bias: true,
        score_bias: false,
        experts_first: false,
        layout: Experts::Fused { biases: true },
        shared: Shared::None,
        layers: MoeLayers::All,
    }),
    ..LLAMA
};

/// `Llama4TextConfig` and `Llama4ForCausalLM`: fused experts and a shared expert under
/// `feed_forward`, dense layers of `intermediate_size_mlp` between.
pub const LLAMA4_TEXT: Family = Family {
    vocab_size: 202048,
    hidden_size: 5120,
    intermediate_size: 16384,
    intermediate_field: "intermediate_size_mlp",
    num_hidden_layers: 48,
    num_attention_heads: 40,
    num_key_value_heads: Some(8),
    head_dim: Some(128),
    qkv_bias: Bias::Field("attention_bias", false),
    o_bias: Bias::Field("attention_bias", false),
    mlp_bias: Bias::Never,
    mlp_module: "feed_forward",
    moe: Some(Moe {
        block: "feed_forward",
        experts_field: "num_local_experts",
        experts: 16,
        top_k: 1,
        size_field: "intermediate_size",
        size: 8192,
        router: "router",
        router_bias: false,
        score_bias: false,
        experts_first: true,
        layout: Experts::Fused { biases: false },
        shared: Shared::One,
        layers: MoeLayers::Interleaved,
    }),
    ..LLAMA
};

/// The state dict `save_pretrained` writes for `family` under `config`.
pub fn tensors(family: &Family, config: &Config<'_>) -> Result<Tensors> {
    let vocab = config.count("vocab_size", family.vocab_size)?;
    let hidden = config.count("hidden_size", family.hidden_size)?;
    let intermediate = config.count(family.intermediate_field, family.intermediate_size)?;
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
    let tied = config.flag("tie_word_embeddings", family.tie_word_embeddings)?;
    let pad = config.padding_row("pad_token_id", family.pad_token_id, vocab)?;
    let biases = Biases {
        qkv: family.qkv_bias.read(config)?,
        o: family.o_bias.read(config)?,
        mlp: family.mlp_bias.read(config)?,
    };
    let moe = family
        .moe
        .as_ref()
        .map(|moe| MoeSizes::read(moe, config, layers))
        .transpose()?;
    let std = base_std(config, family.initializer_range)?;

    let mut out = Tensors::new(layers, recipe(family, std));
    let attention = match family.attention {
        Attention::Latent => AttentionSizes::latent(config, heads)?,
        _ => AttentionSizes::heads(config, family, hidden, heads, kv_heads)?,
    };
    // The tensor-parallel split follows each tensor's role (`Role::split`), attention by whole
    // heads (Phi-3's fused q/k/v, and MLA, by rows), as transformers' plans place these
    // families (`tests/roles.rs`); gpt-oss's plan splits only its embedding, Qwen2-MoE's leaves
    // its shared expert whole.
    if family.attention == Attention::Separate {
        out.group(
            &[Role::AttentionQ, Role::AttentionO],
            "num_attention_heads",
            heads,
        );
        out.group(
            &[Role::AttentionK, Role::AttentionV],
            "num_key_value_heads",
            kv_heads,
        );
    }
    if family.sinks {
        out.keep_whole(&[
            Role::AttentionQ,
            Role::AttentionK,
            Role::AttentionV,
            Role::AttentionO,
        ]);
    }
    if let Some(Moe {
        shared: Shared::GatedOne,
        ..
    }) = family.moe
    {
        out.keep_whole(&[
            Role::SharedExpertGate,
            Role::SharedExpertUp,
            Role::SharedExpertDown,
        ]);
    }
    out.embedding(
        "model.embed_tokens.weight",
        vocab,
        hidden,
        pad,
        Role::Embedding,
    );
    for layer in 0..layers {
        out.in_layer(Some(layer));
        let p = format!("model.layers.{layer}");
        attention.build(&mut out, family, &format!("{p}.self_attn"), hidden, biases);
        let mlp = format!("{p}.{}", family.mlp_module);
        match &moe {
            Some(moe) if moe.holds(layer) => moe.build(&mut out, &p, hidden),
            _ => dense_mlp(&mut out, family, &mlp, hidden, intermediate, biases.mlp),
        }
        for norm in family.layer_norms {
            norm_module(&mut out, family, &format!("{p}.{norm}"), hidden);
        }
    }
    out.in_layer(None);
    norm_module(&mut out, family, "model.norm", hidden);
    if !tied {
        out.linear("lm_head", hidden, vocab, false, Role::OutputHead);
    }
    if let Some(Moe {
        layout: Experts::PerExpert { up, down, .. },
        ..
    }) = family.moe
    {
        out.list
            .sort_by_cached_key(|t| converted_order(&t.param.name, up, down));
    }
    Ok(out)
}

/// Where `save_pretrained` puts key `name` of a family whose experts it splits back per expert
/// (Mixtral, the Qwen-MoE and DeepSeek line): it walks the in-memory keys sorted with numbers
/// compared as numbers — `mlp.experts.down_proj` before `mlp.experts.gate_up_proj` before
/// `mlp.gate` — and writes each fused expert tensor as the experts' downs, or their gates then
/// their ups. `up` and `down` name the family's per-expert up and down projections.
fn converted_order(name: &str, up: &str, down: &str) -> (Vec<NaturalPart>, u8, u64) {
    let memory = name.replace(".block_sparse_moe.", ".mlp.");
    let parts: Vec<&str> = memory.split('.').collect();
    if let Some(at) = parts.iter().position(|&p| p == "experts")
        && let Some(expert) = parts.get(at + 1).and_then(|e| e.parse::<u64>().ok())
    {
        let projection = parts[at + 2];
        let (fused, slot) = if projection == down {
            ("down_proj", 0)
        } else {
            ("gate_up_proj", u8::from(projection == up))
        };
        let key = format!("{}.experts.{fused}", parts[..at].join("."));
        return (natural(&key), slot, expert);
    }
    (natural(&memory), 0, 0)
}

/// A key's runs of digits and of other characters, the digits compared as numbers.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum NaturalPart {
    Number(u64),
    Text(String),
}

fn natural(key: &str) -> Vec<NaturalPart> {
    let mut parts = Vec::new();
    let mut rest = key;
    while let Some(c) = rest.chars().next() {
        let digits = c.is_ascii_digit();
        let end = rest
            .find(|x: char| x.is_ascii_digit() != digits)
            .unwrap_or(rest.len());
        let run = &rest[..end];
        parts.push(match run.parse::<u64>() {
            Ok(n) if digits => NaturalPart::Number(n),
            _ => NaturalPart::Text(run.to_string()),
        });
        rest = &rest[end..];
    }
    parts
}

/// The recipe of these classes: the base `_init_weights` with σ = `std`, the norm weights
/// `family.norm`, gpt-oss's router bias N(0, σ) (its other biases 0), DeepSeek-V3's score
/// correction 0.
fn recipe(family: &Family, std: f64) -> impl Fn(&TensorRole) -> Init + 'static {
    let norm = family.norm.clone();
    move |role| match (role.role, role.part) {
        (Role::Norm, Part::Weight) => norm.clone(),
        (Role::Router, Part::Bias) => Init::Normal { mean: 0.0, std },
        (Role::RouterScoreBias, _) => Init::Zeros,
        _ => base_recipe(role, std),
    }
}

/// The projections' biases.
#[derive(Clone, Copy)]
struct Biases {
    qkv: bool,
    o: bool,
    mlp: bool,
}

/// A norm module's weight (and bias, for LayerNorms).
fn norm_module(out: &mut Tensors, family: &Family, prefix: &str, dim: u64) {
    if family.norm_bias {
        out.layer_norm(prefix, dim);
    } else {
        out.norm(&format!("{prefix}.weight"), dim);
    }
}

/// A dense MLP of width `inner` under `prefix`.
fn dense_mlp(
    out: &mut Tensors,
    family: &Family,
    prefix: &str,
    hidden: u64,
    inner: u64,
    bias: bool,
) {
    let p = |name: &str| format!("{prefix}.{name}");
    match family.mlp {
        Mlp::Gated => {
            out.linear(&p("gate_proj"), hidden, inner, bias, Role::MlpGate);
            out.linear(&p("up_proj"), hidden, inner, bias, Role::MlpUp);
            out.linear(&p("down_proj"), inner, hidden, bias, Role::MlpDown);
        }
        Mlp::FusedGateUp => {
            out.linear(&p("gate_up_proj"), hidden, 2 * inner, bias, Role::MlpGateUp);
            out.linear(&p("down_proj"), inner, hidden, bias, Role::MlpDown);
        }
        Mlp::Plain => {
            out.linear(&p("c_fc"), hidden, inner, bias, Role::MlpUp);
            out.linear(&p("c_proj"), inner, hidden, bias, Role::MlpDown);
        }
    }
}

/// The attention's widths.
enum AttentionSizes {
    Heads {
        heads: u64,
        head_dim: u64,
        q: u64,
        kv: u64,
    },
    /// MLA: the query's low rank (none: a plain `q_proj`), the key-value low rank, and the
    /// per-head widths.
    Latent {
        heads: u64,
        q_lora: Option<u64>,
        kv_lora: u64,
        qk_head: u64,
        rope: u64,
        v_head: u64,
    },
}

impl AttentionSizes {
    fn heads(
        config: &Config<'_>,
        family: &Family,
        hidden: u64,
        heads: u64,
        kv_heads: u64,
    ) -> Result<AttentionSizes> {
        let head_dim = head_dim(config, family.head_dim, hidden, heads)?;
        Ok(AttentionSizes::Heads {
            heads,
            head_dim,
            q: times(config, "num_attention_heads", heads, head_dim)?,
            kv: times(config, "num_key_value_heads", kv_heads, head_dim)?,
        })
    }

    /// DeepSeek-V3's sizes; a rank of 0 is refused (`count` wants ≥ 1), `q_lora_rank: null`
    /// means a plain `q_proj`.
    fn latent(config: &Config<'_>, heads: u64) -> Result<AttentionSizes> {
        let nope = config.count("qk_nope_head_dim", 128)?;
        let rope = config.count("qk_rope_head_dim", 64)?;
        Ok(AttentionSizes::Latent {
            heads,
            q_lora: config.count_or_none("q_lora_rank", Some(1536))?,
            kv_lora: config.count("kv_lora_rank", 512)?,
            qk_head: nope.checked_add(rope).ok_or_else(|| {
                config.error("qk_nope_head_dim", "a sum with qk_rope_head_dim that fits")
            })?,
            rope,
            v_head: config.count("v_head_dim", 128)?,
        })
    }

    fn build(&self, out: &mut Tensors, family: &Family, prefix: &str, hidden: u64, biases: Biases) {
        let p = |name: &str| format!("{prefix}.{name}");
        match *self {
            AttentionSizes::Heads {
                heads,
                head_dim,
                q,
                kv,
            } => {
                // gpt-oss defines its sinks first.
                if family.sinks {
                    out.weight(&p("sinks"), &[heads], Role::AttentionSinks);
                }
                if family.attention == Attention::FusedQkv {
                    // Phi-3 defines o_proj first.
                    out.linear(&p("o_proj"), q, hidden, biases.o, Role::AttentionO);
                    let qkv = q + 2 * kv;
                    out.linear(&p("qkv_proj"), hidden, qkv, biases.qkv, Role::AttentionQkv);
                } else {
                    out.linear(&p("q_proj"), hidden, q, biases.qkv, Role::AttentionQ);
                    out.linear(&p("k_proj"), hidden, kv, biases.qkv, Role::AttentionK);
                    out.linear(&p("v_proj"), hidden, kv, biases.qkv, Role::AttentionV);
                    out.linear(&p("o_proj"), q, hidden, biases.o, Role::AttentionO);
                }
                match family.qk_norm {
                    QkNorm::None => {}
                    QkNorm::PerHead => {
                        out.norm(&p("q_norm.weight"), head_dim);
                        out.norm(&p("k_norm.weight"), head_dim);
                    }
                    QkNorm::Whole => {
                        out.norm(&p("q_norm.weight"), q);
                        out.norm(&p("k_norm.weight"), kv);
                    }
                }
            }
            AttentionSizes::Latent {
                heads,
                q_lora,
                kv_lora,
                qk_head,
                rope,
                v_head,
            } => {
                let q_width = heads * qk_head;
                match q_lora {
                    None => out.linear(&p("q_proj"), hidden, q_width, false, Role::AttentionQ),
                    Some(rank) => {
                        out.linear(&p("q_a_proj"), hidden, rank, biases.qkv, Role::MlaQA);
                        out.norm(&p("q_a_layernorm.weight"), rank);
                        out.linear(&p("q_b_proj"), rank, q_width, false, Role::MlaQB);
                    }
                }
                let kv_a = kv_lora + rope;
                out.linear(
                    &p("kv_a_proj_with_mqa"),
                    hidden,
                    kv_a,
                    biases.qkv,
                    Role::MlaKvA,
                );
                out.norm(&p("kv_a_layernorm.weight"), kv_lora);
                let kv_b = heads * (qk_head - rope + v_head);
                out.linear(&p("kv_b_proj"), kv_lora, kv_b, false, Role::MlaKvB);
                out.linear(
                    &p("o_proj"),
                    heads * v_head,
                    hidden,
                    biases.o,
                    Role::AttentionO,
                );
            }
        }
    }
}

/// A mixture of experts as a config sizes it.
struct MoeSizes {
    moe: Moe,
    experts: u64,
    /// Each routed expert's inner width.
    size: u64,
    /// The shared experts' inner width, if any.
    shared: Option<u64>,
    /// Which layers hold experts.
    layers: Vec<bool>,
}

impl MoeSizes {
    fn read(moe: &Moe, config: &Config<'_>, layers: u64) -> Result<MoeSizes> {
        let experts = config.count(moe.experts_field, moe.experts)?;
        let top_k = config.count("num_experts_per_tok", moe.top_k)?;
        if top_k > experts {
            return Err(config.error(
                "num_experts_per_tok",
                format!("at most {} = {experts}", moe.experts_field),
            ));
        }
        let size = config.count(moe.size_field, moe.size)?;
        let shared = match moe.shared {
            Shared::None => None,
            Shared::GatedOne => Some(config.count("shared_expert_intermediate_size", 5632)?),
            Shared::Many => {
                let count = config.count("n_shared_experts", 1)?;
                Some(times(config, "n_shared_experts", count, size)?)
            }
            Shared::One => Some(size),
        };
        if let MoeLayers::AfterDense = moe.layers {
            let groups = config.count("n_group", 8)?;
            divide(config, (moe.experts_field, experts), ("n_group", groups))?;
            let topk_group = config.count("topk_group", 4)?;
            if topk_group > groups {
                return Err(config.error("topk_group", format!("at most n_group = {groups}")));
            }
        }
        let held = moe_layers(moe.layers, config, layers)?;
        Ok(MoeSizes {
            moe: *moe,
            experts,
            size,
            shared,
            layers: held,
        })
    }

    fn holds(&self, layer: u64) -> bool {
        self.layers[layer as usize]
    }

    /// The block of layer `p` (`model.layers.L`).
    fn build(&self, out: &mut Tensors, p: &str, hidden: u64) {
        let moe = &self.moe;
        let block = format!("{p}.{}", moe.block);
        if !moe.experts_first {
            self.router(out, &block, hidden);
        }
        let (e, size) = (self.experts, self.size);
        match moe.layout {
            Experts::PerExpert { gate, up, down } => {
                for expert in 0..e {
                    out.in_expert(Some(Expert {
                        index: expert,
                        count: e,
                    }));
                    let x = |name: &str| format!("{block}.experts.{expert}.{name}");
                    out.linear(&x(gate), hidden, size, false, Role::ExpertGate);
                    out.linear(&x(up), hidden, size, false, Role::ExpertUp);
                    out.linear(&x(down), size, hidden, false, Role::ExpertDown);
                }
                out.in_expert(None);
            }
            Experts::Fused { biases } => {
                let x = |name: &str| format!("{block}.experts.{name}");
                out.weight_in_out(
                    &x("gate_up_proj"),
                    &[e, hidden, 2 * size],
                    Role::ExpertGateUp,
                );
                if biases {
                    out.bias(&x("gate_up_proj_bias"), &[e, 2 * size], Role::ExpertGateUp);
                }
                out.weight_in_out(&x("down_proj"), &[e, size, hidden], Role::ExpertDown);
                if biases {
                    out.bias(&x("down_proj_bias"), &[e, hidden], Role::ExpertDown);
                }
            }
        }
        if moe.experts_first {
            self.router(out, &block, hidden);
        }
        if let Some(shared) = self.shared {
            let module = match moe.shared {
                Shared::Many => "shared_experts",
                _ => "shared_expert",
            };
            let s = |name: &str| format!("{block}.{module}.{name}");
            out.linear(
                &s("gate_proj"),
                hidden,
                shared,
                false,
                Role::SharedExpertGate,
            );
            out.linear(&s("up_proj"), hidden, shared, false, Role::SharedExpertUp);
            out.linear(
                &s("down_proj"),
                shared,
                hidden,
                false,
                Role::SharedExpertDown,
            );
            if let Shared::GatedOne = moe.shared {
                let name = format!("{block}.shared_expert_gate");
                out.linear(&name, hidden, 1, false, Role::SharedExpertRouter);
            }
        }
    }

    /// The router: `[E, H]`, with gpt-oss's bias or DeepSeek-V3's score correction, the latter
    /// two in F32 for DeepSeek-V3.
    fn router(&self, out: &mut Tensors, block: &str, hidden: u64) {
        let moe = &self.moe;
        let router = format!("{block}.{}", moe.router);
        out.linear(&router, hidden, self.experts, moe.router_bias, Role::Router);
        if moe.score_bias {
            // `_keep_in_fp32_modules_strict`: F32 in a checkpoint of any dtype.
            out.keep_last_in(Dtype::F32);
            let name = format!("{router}.e_score_correction_bias");
            out.weight(&name, &[self.experts], Role::RouterScoreBias);
            out.keep_last_in(Dtype::F32);
        }
    }
}

/// Which of `layers` hold experts under `rule`.
fn moe_layers(rule: MoeLayers, config: &Config<'_>, layers: u64) -> Result<Vec<bool>> {
    let held: Vec<bool> = match rule {
        MoeLayers::All => vec![true; layers as usize],
        MoeLayers::SparseStep => {
            let step = config.count("decoder_sparse_step", 1)?;
            let dense = config
                .layer_list("mlp_only_layers", layers)?
                .unwrap_or_default();
            (0..layers)
                .map(|l| !dense.contains(&l) && (l + 1) % step == 0)
                .collect()
        }
        MoeLayers::AfterDense => {
            let dense = config.count_or_zero("first_k_dense_replace", 3)?;
            (0..layers).map(|l| l >= dense).collect()
        }
        MoeLayers::Interleaved => match config.layer_list("moe_layers", layers)? {
            Some(listed) => (0..layers).map(|l| listed.contains(&l)).collect(),
            None => {
                let step = config.count("interleave_moe_layer_step", 1)?;
                (0..layers).map(|l| (l + 1) % step == 0).collect()
            }
        },
    };
    if !held.contains(&true) {
        let fields = match rule {
            MoeLayers::All => "num_hidden_layers",
            MoeLayers::SparseStep => "mlp_only_layers and decoder_sparse_step",
            MoeLayers::AfterDense => "first_k_dense_replace",
            MoeLayers::Interleaved => "moe_layers or interleave_moe_layer_step",
        };
        return Err(Error::invalid(
            format!("config.json {fields}"),
            "no MoE layer",
            format!("a choice that names at least one of the {layers} layers"),
        ));
    }
    Ok(held)
}
