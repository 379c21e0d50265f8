//! `GPT2LMHeadModel` (transformers 5.25.0 `GPT2Config`), the `gpt2` preset's layout with every
//! size from the config.
//!
//! Recipe (`GPT2PreTrainedModel._init_weights`): Conv1D weights (stored (in, out))
//! N(0, `initializer_range`), the embeddings N(0, σ) with σ = `initializer_range or 0.02`, every `c_proj.weight` N(0, initializer_range/√(2·n_layer)),
//! biases 0, LayerNorm 1/0. The LM head is tied to `transformer.wte.weight` (and not saved)
//! unless `tie_word_embeddings` is false; then it is a Linear N(0, σ).

use crate::error::Result;
use crate::model::hf::config::{Config, divide, times};
use crate::model::hf::{Tensors, base_recipe, base_std};
use crate::model::role::{Part, Role, TensorRole};
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
    let std = base_std(config, 0.02)?;
    let recipe = move |role: &TensorRole| match (role.role, role.part) {
        (Role::AttentionQkv | Role::MlpUp, Part::Weight) => normal(range),
        // Scaled by depth: the output projections that add to the residual stream.
        (Role::AttentionO | Role::MlpDown, Part::Weight) => {
            normal(range / (2.0 * role.depth as f64).sqrt())
        }
        // The embeddings, the untied head's Linear and the norms: the base recipe.
        _ => base_recipe(role, std),
    };

    let mut out = Tensors::new(layers, recipe);
    // c_attn holds q, k and v side by side: split into contiguous columns of whole heads.
    out.group(&[Role::AttentionQkv], "3 × n_head", 3 * heads);
    out.group(&[Role::AttentionO], "n_head", heads);
    out.embedding("transformer.wte.weight", vocab, d, None, Role::Embedding);
    out.embedding(
        "transformer.wpe.weight",
        positions,
        d,
        None,
        Role::PositionEmbedding,
    );
    for block in 0..layers {
        out.in_layer(Some(block));
        let p = format!("transformer.h.{block}");
        out.layer_norm(&format!("{p}.ln_1"), d);
        conv1d(
            &mut out,
            &format!("{p}.attn.c_attn"),
            d,
            qkv,
            Role::AttentionQkv,
        );
        conv1d(
            &mut out,
            &format!("{p}.attn.c_proj"),
            d,
            d,
            Role::AttentionO,
        );
        out.layer_norm(&format!("{p}.ln_2"), d);
        conv1d(&mut out, &format!("{p}.mlp.c_fc"), d, inner, Role::MlpUp);
        conv1d(
            &mut out,
            &format!("{p}.mlp.c_proj"),
            inner,
            d,
            Role::MlpDown,
        );
    }
    out.in_layer(None);
    out.layer_norm("transformer.ln_f", d);
    if !tied {
        out.linear("lm_head", d, vocab, false, Role::OutputHead);
    }
    Ok(out)
}

/// GPT-2's `Conv1D(output, input)`: the weight stored (input, output), then the bias.
fn conv1d(out: &mut Tensors, prefix: &str, input: u64, output: u64, role: Role) {
    out.weight_in_out(&format!("{prefix}.weight"), &[input, output], role);
    out.bias(&format!("{prefix}.bias"), &[output], role);
}

/// N(0, `std`).
fn normal(std: f64) -> Init {
    Init::Normal { mean: 0.0, std }
}
