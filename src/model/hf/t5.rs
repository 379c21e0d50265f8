//! `T5ForConditionalGeneration` (transformers 5.24.0 `T5Config`).
//!
//! Recipe (`T5PreTrainedModel._init_weights`, factor = `initializer_factor`): `shared`
//! N(0, factor); q N(0, factor·(d_model·d_kv)^-½); k and v N(0, factor·d_model^-½); o
//! N(0, factor·(num_heads·d_kv)^-½); `wi`, `wi_0`, `wi_1` N(0, factor·d_model^-½); `wo`
//! N(0, factor·d_ff^-½); `relative_attention_bias` N(0, factor·d_model^-½), in block 0 of each
//! stack only; T5LayerNorm weights = factor. No projection has a bias.
//!
//! transformers 5.24.0 ties the LM head to `shared` whatever `tie_word_embeddings` says (the
//! config keeps only its effect on output scaling), so `lm_head.weight` is never saved, nor
//! are the stacks' `embed_tokens`, which are `shared` too.

use crate::error::Result;
use crate::model::hf::Tensors;
use crate::model::hf::config::{Config, times};
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
    let (d_model_f, d_ff_f) = (d_model as f64, d_ff as f64);
    let normal = |std: f64| Init::Normal { mean: 0.0, std };
    let weight = |out: &mut Tensors, name: String, shape: [u64; 2], std: f64| {
        out.push(&name, &shape, normal(std), None);
    };
    let attention = |out: &mut Tensors, p: &str, relative_bias: bool| {
        weight(
            out,
            format!("{p}.q.weight"),
            [inner, d_model],
            factor * (d_model_f * d_kv as f64).powf(-0.5),
        );
        weight(
            out,
            format!("{p}.k.weight"),
            [inner, d_model],
            factor * d_model_f.powf(-0.5),
        );
        weight(
            out,
            format!("{p}.v.weight"),
            [inner, d_model],
            factor * d_model_f.powf(-0.5),
        );
        weight(
            out,
            format!("{p}.o.weight"),
            [d_model, inner],
            factor * (inner as f64).powf(-0.5),
        );
        if relative_bias {
            let name = format!("{p}.relative_attention_bias.weight");
            weight(out, name, [buckets, heads], factor * d_model_f.powf(-0.5));
        }
    };
    let layer_norm = |out: &mut Tensors, name: String| {
        out.constant(&name, &[d_model], Init::Constant { val: factor });
    };
    let feed_forward = |out: &mut Tensors, p: &str| {
        let wi = if gated {
            &["wi_0", "wi_1"][..]
        } else {
            &["wi"][..]
        };
        for name in wi {
            weight(
                out,
                format!("{p}.DenseReluDense.{name}.weight"),
                [d_ff, d_model],
                factor * d_model_f.powf(-0.5),
            );
        }
        weight(
            out,
            format!("{p}.DenseReluDense.wo.weight"),
            [d_model, d_ff],
            factor * d_ff_f.powf(-0.5),
        );
        layer_norm(out, format!("{p}.layer_norm.weight"));
    };

    let mut out = Tensors::new(factor);
    out.shard("shared.weight", 0);
    for stack in ["encoder", "decoder"] {
        for attention in ["SelfAttention", "EncDecAttention"] {
            let p = format!("{stack}.block.*.layer.*.{attention}");
            for projection in ["q", "k", "v"] {
                let pattern = format!("{p}.{projection}.weight");
                out.shard_heads(&pattern, 0, "num_heads", heads);
            }
            out.shard_heads(&format!("{p}.o.weight"), 1, "num_heads", heads);
            // One column per head: each rank's heads keep their own position biases.
            let pattern = format!("{p}.relative_attention_bias.weight");
            out.shard_heads(&pattern, 1, "num_heads", heads);
        }
        out.shard(
            &format!("{stack}.block.*.layer.*.DenseReluDense.wi*.weight"),
            0,
        );
        out.shard(
            &format!("{stack}.block.*.layer.*.DenseReluDense.wo.weight"),
            1,
        );
    }
    out.push("shared.weight", &[vocab, d_model], normal(factor), None);
    for block in 0..encoder_layers {
        let p = format!("encoder.block.{block}");
        attention(&mut out, &format!("{p}.layer.0.SelfAttention"), block == 0);
        layer_norm(&mut out, format!("{p}.layer.0.layer_norm.weight"));
        feed_forward(&mut out, &format!("{p}.layer.1"));
    }
    layer_norm(&mut out, "encoder.final_layer_norm.weight".into());
    for block in 0..decoder_layers {
        let p = format!("decoder.block.{block}");
        attention(&mut out, &format!("{p}.layer.0.SelfAttention"), block == 0);
        layer_norm(&mut out, format!("{p}.layer.0.layer_norm.weight"));
        attention(&mut out, &format!("{p}.layer.1.EncDecAttention"), false);
        layer_norm(&mut out, format!("{p}.layer.1.layer_norm.weight"));
        feed_forward(&mut out, &format!("{p}.layer.2"));
    }
    layer_norm(&mut out, "decoder.final_layer_norm.weight".into());
    Ok(out)
}
