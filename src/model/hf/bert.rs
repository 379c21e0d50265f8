//! `BertForMaskedLM` and `BertModel` (transformers 5.25.0 `BertConfig`).
//!
//! Recipe: the base `_init_weights` — Linear weights and the three embeddings N(0, σ) with
//! σ = `initializer_range or 0.02`, biases 0, the word embedding's `pad_token_id` row 0,
//! LayerNorm 1/0 — and the MLM head's own bias 0. The MLM decoder is tied to the word
//! embedding (and its bias to `cls.predictions.bias`) unless `tie_word_embeddings` is false.
//! `position_ids` and `token_type_ids` are non-persistent buffers, so they are not saved.

use crate::error::Result;
use crate::model::hf::config::{Config, divide};
use crate::model::hf::{Tensors, base_recipe, base_std};
use crate::model::role::Role;

/// The state dict `save_pretrained` writes for `class` (`BertForMaskedLM` or `BertModel`).
pub fn tensors(class: &str, config: &Config<'_>) -> Result<Tensors> {
    let vocab = config.count("vocab_size", 30522)?;
    let hidden = config.count("hidden_size", 768)?;
    let layers = config.layers("num_hidden_layers", 12)?;
    let heads = config.count("num_attention_heads", 12)?;
    let intermediate = config.count("intermediate_size", 3072)?;
    let positions = config.count("max_position_embeddings", 512)?;
    let type_vocab = config.count("type_vocab_size", 2)?;
    divide(
        config,
        ("hidden_size", hidden),
        ("num_attention_heads", heads),
    )?;
    // Cross-attention adds tensors this module does not build.
    config.require_flag("add_cross_attention", false)?;
    let pad = config.padding_row("pad_token_id", Some(0), vocab)?;
    let tied = config.flag("tie_word_embeddings", true)?;
    let masked_lm = class == "BertForMaskedLM";

    let std = base_std(config, 0.02)?;
    let mut out = Tensors::new(layers, move |role| base_recipe(role, std));
    let bert = if masked_lm { "bert." } else { "" };
    let embeddings = format!("{bert}embeddings");
    let attention = [
        Role::AttentionQ,
        Role::AttentionK,
        Role::AttentionV,
        Role::AttentionO,
    ];
    out.group(&attention, "num_attention_heads", heads);
    let embedding = |out: &mut Tensors, name: &str, rows: u64, padding: Option<u64>, role: Role| {
        out.embedding(
            &format!("{embeddings}.{name}.weight"),
            rows,
            hidden,
            padding,
            role,
        );
    };
    embedding(&mut out, "word_embeddings", vocab, pad, Role::Embedding);
    embedding(
        &mut out,
        "position_embeddings",
        positions,
        None,
        Role::PositionEmbedding,
    );
    embedding(
        &mut out,
        "token_type_embeddings",
        type_vocab,
        None,
        Role::TokenTypeEmbedding,
    );
    out.layer_norm(&format!("{embeddings}.LayerNorm"), hidden);
    for layer in 0..layers {
        out.in_layer(Some(layer));
        let p = format!("{bert}encoder.layer.{layer}");
        for (projection, role) in [
            ("query", Role::AttentionQ),
            ("key", Role::AttentionK),
            ("value", Role::AttentionV),
        ] {
            let prefix = format!("{p}.attention.self.{projection}");
            out.linear(&prefix, hidden, hidden, true, role);
        }
        let prefix = format!("{p}.attention.output.dense");
        out.linear(&prefix, hidden, hidden, true, Role::AttentionO);
        out.layer_norm(&format!("{p}.attention.output.LayerNorm"), hidden);
        let prefix = format!("{p}.intermediate.dense");
        out.linear(&prefix, hidden, intermediate, true, Role::MlpUp);
        let prefix = format!("{p}.output.dense");
        out.linear(&prefix, intermediate, hidden, true, Role::MlpDown);
        out.layer_norm(&format!("{p}.output.LayerNorm"), hidden);
    }
    out.in_layer(None);
    if masked_lm {
        out.bias("cls.predictions.bias", &[vocab], Role::OutputHead);
        let prefix = "cls.predictions.transform.dense";
        out.linear(prefix, hidden, hidden, true, Role::HeadTransform);
        out.layer_norm("cls.predictions.transform.LayerNorm", hidden);
        if !tied {
            out.linear(
                "cls.predictions.decoder",
                hidden,
                vocab,
                true,
                Role::OutputHead,
            );
        }
    } else {
        out.linear("pooler.dense", hidden, hidden, true, Role::Pooler);
    }
    Ok(out)
}
