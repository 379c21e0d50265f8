//! `GPT2LMHeadModel` (transformers 5.24.0 `GPT2Config`), the `gpt2` preset's layout with every
//! size from the config.
//!
//! Recipe (`GPT2PreTrainedModel._init_weights`): Conv1D weights (stored (in, out))
//! N(0, `initializer_range`), the embeddings N(0, σ) with σ = `initializer_range or 0.02`, every `c_proj.weight` N(0, initializer_range/√(2·n_layer)),
//! biases 0, LayerNorm 1/0. The LM head is tied to `transformer.wte.weight` (and not saved)
//! unless `tie_word_embeddings` is false; then it is a Linear N(0, σ).

use crate::error::Result;
use crate::model::hf::config::{Config, divide, times};
use crate::model::hf::{Tensors, base_std};
use crate::scheme::Init;

/// `GPT2Config.attribute_map`: the generic names of its fields.
pub const ALIASES: &[(&str, &str)] = &[
    ("n_embd", "hidden_size"),
    ("n_positions", "max_position_embeddings"),
    ("n_head", "num_attention_heads"),
    ("n_layer", "num_hidden_layers"),
];

/// The state dict `save_pretrained` writes.
pub fn tensors(config: &Config<'_>) -> Result<Tensors> {
    let vocab = config.count("vocab_size", 50257)?;
    let positions = config.count("n_positions", 1024)?;
    let d = config.count("n_embd", 768)?;
    let layers = config.layers("n_layer", 12)?;
    let heads = config.count("n_head", 12)?;
    divide(config, ("n_embd", d), ("n_head", heads))?;
    let inner = match config.optional_count("n_inner")? {
        Some(inner) => inner,
        None => times(config, "n_embd", 4, d)?,
    };
    let qkv = times(config, "n_embd", 3, d)?;
    // Cross-attention adds tensors this module does not build.
    config.require_flag("add_cross_attention", false)?;
    let tied = config.flag("tie_word_embeddings", true)?;
    let range = config.number("initializer_range", 0.02)?;
    let normal = |std: f64| Init::Normal { mean: 0.0, std };
    let c_proj = normal(range / (2.0 * layers as f64).sqrt());

    let mut out = Tensors::new(base_std(config)?);
    out.plan = crate::model::presets::gpt2_tp_plan(heads);
    // The embeddings get the base recipe's σ, the Conv1D weights `initializer_range` itself.
    out.embedding("transformer.wte.weight", vocab, d, None);
    out.embedding("transformer.wpe.weight", positions, d, None);
    for block in 0..layers {
        let p = |name: &str| format!("transformer.h.{block}.{name}");
        out.layer_norm(&p("ln_1"), d);
        out.push(&p("attn.c_attn.weight"), &[d, qkv], normal(range), None);
        out.constant(&p("attn.c_attn.bias"), &[qkv], Init::Zeros);
        out.push(&p("attn.c_proj.weight"), &[d, d], c_proj.clone(), None);
        out.constant(&p("attn.c_proj.bias"), &[d], Init::Zeros);
        out.layer_norm(&p("ln_2"), d);
        out.push(&p("mlp.c_fc.weight"), &[d, inner], normal(range), None);
        out.constant(&p("mlp.c_fc.bias"), &[inner], Init::Zeros);
        out.push(&p("mlp.c_proj.weight"), &[inner, d], c_proj.clone(), None);
        out.constant(&p("mlp.c_proj.bias"), &[d], Init::Zeros);
    }
    out.layer_norm("transformer.ln_f", d);
    if !tied {
        out.linear("lm_head", d, vocab, false);
    }
    Ok(out)
}
