//! `T5ForConditionalGeneration` (transformers 5.25.0 `T5Config`).
//!
//! Recipe (`T5PreTrainedModel._init_weights`, factor = `initializer_factor`): `shared`
//! N(0, factor); q N(0, factor·(d_model·d_kv)^-½); k and v N(0, factor·d_model^-½); o
//! N(0, factor·(num_heads·d_kv)^-½); `wi`, `wi_0`, `wi_1` N(0, factor·d_model^-½); `wo`
//! N(0, factor·d_ff^-½); `relative_attention_bias` N(0, factor·d_model^-½), in block 0 of each
//! stack only; T5LayerNorm weights = factor. No projection has a bias.
//!
//! transformers 5.25.0 ties the LM head to `shared` whatever `tie_word_embeddings` says (the
//! config keeps only its effect on output scaling), so `lm_head.weight` is never saved, nor
//! are the stacks' `embed_tokens`, which are `shared` too.

use crate::error::Result;
use crate::model::hf::Tensors;
use crate::model::hf::config::{Config, times};
use crate::model::role::{Role, TensorRole};
use crate::scheme::Init;

/// `T5Config.attribute_map`: the generic names of its fields.
pub const ALIASES: &[(&str, &str)] = &[
    ("d_model", "hidden_size"),
    ("num_heads", "num_attention_heads"),
    ("num_layers", "num_hidden_layers"),
    ("d_kv", "head_dim"),
];

/// The state dict `save_pretrained` writes.
pub fn tensors(config: &Config<'_>) -> Result<Tensors> {
    let vocab = config.count("vocab_size", 32128)?;
    let d_model = config.count("d_model", 512)?;
    let d_kv = config.count("d_kv", 64)?;
    let d_ff = config.count("d_ff", 2048)?;
    let encoder_layers = config.layers("num_layers", 6)?;
    let decoder_layers = config.layers("num_decoder_layers", encoder_layers)?;
    let heads = config.count("num_heads", 8)?;
    let buckets = config.count("relative_attention_num_buckets", 32)?;
    let factor = config.number("initializer_factor", 1.0)?;
    let gated = match config
        .text("feed_forward_proj", "relu")?
        .split('-')
        .collect::<Vec<_>>()[..]
    {
        [_] => false,
        ["gated", _] => true,
        _ => {
            return Err(config.error(
                "feed_forward_proj",
                "an activation name or gated-ACTIVATION (relu, gated-gelu, …)",
            ));
        }
    };
    let inner = times(config, "num_heads", heads, d_kv)?;
    let std = |fan: u64| factor * (fan as f64).powf(-0.5);
    let (q_std, d_model_std, o_std, d_ff_std) = (
        factor * (d_model as f64 * d_kv as f64).powf(-0.5),
        std(d_model),
        std(inner),
        std(d_ff),
    );
    let recipe = move |role: &TensorRole| {
        let normal = |std: f64| Init::Normal { mean: 0.0, std };
        match role.role {
            Role::Embedding => normal(factor),
            Role::AttentionQ => normal(q_std),
            Role::AttentionO => normal(o_std),
            Role::MlpDown => normal(d_ff_std),
            Role::Norm => Init::Constant { val: factor },
            // k, v, wi (wi_0, wi_1) and the relative position bias.
            _ => normal(d_model_std),
        }
    };
    let attention = |out: &mut Tensors, p: &str, relative_bias: bool| {
        for (name, role) in [
            ("q", Role::AttentionQ),
            ("k", Role::AttentionK),
            ("v", Role::AttentionV),
        ] {
            out.weight(&format!("{p}.{name}.weight"), &[inner, d_model], role);
        }
        out.weight(
            &format!("{p}.o.weight"),
            &[d_model, inner],
            Role::AttentionO,
        );
        if relative_bias {
            let name = format!("{p}.relative_attention_bias.weight");
            out.weight_in_out(&name, &[buckets, heads], Role::RelativePositionBias);
        }
    };
    let feed_forward = |out: &mut Tensors, p: &str| {
        let wi = if gated {
            &[("wi_0", Role::MlpGate), ("wi_1", Role::MlpUp)][..]
        } else {
            &[("wi", Role::MlpUp)][..]
        };
        for &(name, role) in wi {
            let name = format!("{p}.DenseReluDense.{name}.weight");
            out.weight(&name, &[d_ff, d_model], role);
        }
        let name = format!("{p}.DenseReluDense.wo.weight");
        out.weight(&name, &[d_model, d_ff], Role::MlpDown);
        out.norm(&format!("{p}.layer_norm.weight"), d_model);
    };

    let mut out = Tensors::new(encoder_layers, recipe);
    // Attention splits by whole heads; the relative position bias `[buckets, heads]` with
    // them, one column per head.
    let by_heads = [
        Role::AttentionQ,
        Role::AttentionK,
        Role::AttentionV,
        Role::AttentionO,
        Role::RelativePositionBias,
    ];
    out.group(&by_heads, "num_heads", heads);
    out.embedding("shared.weight", vocab, d_model, None, Role::Embedding);
    for block in 0..encoder_layers {
        out.in_layer(Some(block));
        let p = format!("encoder.block.{block}");
        attention(&mut out, &format!("{p}.layer.0.SelfAttention"), block == 0);
        out.norm(&format!("{p}.layer.0.layer_norm.weight"), d_model);
        feed_forward(&mut out, &format!("{p}.layer.1"));
    }
    out.in_layer(None);
    out.norm("encoder.final_layer_norm.weight", d_model);
    out.depth = decoder_layers;
    for block in 0..decoder_layers {
        out.in_layer(Some(block));
        let p = format!("decoder.block.{block}");
        attention(&mut out, &format!("{p}.layer.0.SelfAttention"), block == 0);
        out.norm(&format!("{p}.layer.0.layer_norm.weight"), d_model);
        attention(&mut out, &format!("{p}.layer.1.EncDecAttention"), false);
        out.norm(&format!("{p}.layer.1.layer_norm.weight"), d_model);
        feed_forward(&mut out, &format!("{p}.layer.2"));
    }
    out.in_layer(None);
    out.norm("decoder.final_layer_norm.weight", d_model);
    Ok(out)
}
