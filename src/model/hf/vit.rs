//! `ViTForImageClassification` and `ViTModel` (transformers 5.25.0 `ViTConfig`).
//!
//! Recipe: the base `_init_weights` — Linear and the patch Conv2d N(0, σ) with
//! σ = `initializer_range or 0.02`, biases 0, LayerNorm 1/0 — and `position_embeddings` and
//! `cls_token` `trunc_normal_(std=initializer_range)` with PyTorch's absolute cut-offs ±2.
//!
//! transformers 5.x builds ViT under new module names (`layers.N.attention.q_proj`) and
//! `save_pretrained` renames them back to the checkpoint names
//! (`encoder.layer.N.attention.attention.query`), having first sorted the keys by their
//! modeling names, numbers compared as numbers. The keys here come in that order: within a
//! layer k, o, q, v, the two LayerNorms, then the MLP.

use crate::error::Result;
use crate::model::hf::config::{Config, head_dim, times};
use crate::model::hf::{Tensors, base_recipe, base_std};
use crate::model::role::{Role, TensorRole};
use crate::scheme::Init;

/// The state dict `save_pretrained` writes for `class`.
pub fn tensors(class: &str, config: &Config<'_>) -> Result<Tensors> {
    let hidden = config.count("hidden_size", 768)?;
    let layers = config.layers("num_hidden_layers", 12)?;
    let heads = config.count("num_attention_heads", 12)?;
    let intermediate = config.count("intermediate_size", 3072)?;
    let (image_h, image_w) = config.size_pair("image_size", 224)?;
    let (patch_h, patch_w) = config.size_pair("patch_size", 16)?;
    let channels = config.count("num_channels", 3)?;
    let qkv_bias = config.flag("qkv_bias", true)?;
    let head_dim = head_dim(config, None, hidden, heads)?;
    let width = times(config, "num_attention_heads", heads, head_dim)?;
    if patch_h > image_h || patch_w > image_w {
        return Err(config.error(
            "patch_size",
            format!("at most image_size = {image_h}×{image_w}"),
        ));
    }
    let patches = times(config, "image_size", image_h / patch_h, image_w / patch_w)?;
    let classifier = class == "ViTForImageClassification";
    let (labels, pooler_width) = if classifier {
        (config.num_labels()?, 0)
    } else {
        (0, config.count("pooler_output_size", hidden)?)
    };
    let trunc_std = config.number("initializer_range", 0.02)?;
    let position_init = if trunc_std == 0.0 {
        Init::Zeros
    } else {
        Init::TruncNormal {
            mean: 0.0,
            std: trunc_std,
            a: -2.0,
            b: 2.0,
        }
    };

    let std = base_std(config, 0.02)?;
    let recipe = move |role: &TensorRole| match role.role {
        Role::PositionEmbedding | Role::ClassToken => position_init.clone(),
        _ => base_recipe(role, std),
    };
    let mut out = Tensors::new(layers, recipe);
    let vit = if classifier { "vit." } else { "" };
    // Sorted by modeling name: `classifier` < `vit`; `embeddings` < `layernorm` < `layers`
    // < `pooler`; and bias before weight.
    if labels > 0 {
        bias_then_weight(
            &mut out,
            "classifier",
            hidden,
            labels,
            true,
            Role::Classifier,
        );
    }
    let attention = [
        Role::AttentionQ,
        Role::AttentionK,
        Role::AttentionV,
        Role::AttentionO,
    ];
    out.group(&attention, "num_attention_heads", heads);
    let embeddings = format!("{vit}embeddings");
    out.weight(
        &format!("{embeddings}.cls_token"),
        &[1, 1, hidden],
        Role::ClassToken,
    );
    let projection = format!("{embeddings}.patch_embeddings.projection");
    out.bias(
        &format!("{projection}.bias"),
        &[hidden],
        Role::PatchEmbedding,
    );
    out.weight(
        &format!("{projection}.weight"),
        &[hidden, channels, patch_h, patch_w],
        Role::PatchEmbedding,
    );
    let positions = patches + 1;
    out.weight(
        &format!("{embeddings}.position_embeddings"),
        &[1, positions, hidden],
        Role::PositionEmbedding,
    );
    norm_bias_then_weight(&mut out, &format!("{vit}layernorm"), hidden);
    for layer in 0..layers {
        out.in_layer(Some(layer));
        let p = format!("{vit}encoder.layer.{layer}");
        let attention = format!("{p}.attention.attention");
        let dense = format!("{p}.attention.output.dense");
        bias_then_weight(
            &mut out,
            &format!("{attention}.key"),
            hidden,
            width,
            qkv_bias,
            Role::AttentionK,
        );
        bias_then_weight(&mut out, &dense, width, hidden, true, Role::AttentionO);
        bias_then_weight(
            &mut out,
            &format!("{attention}.query"),
            hidden,
            width,
            qkv_bias,
            Role::AttentionQ,
        );
        bias_then_weight(
            &mut out,
            &format!("{attention}.value"),
            hidden,
            width,
            qkv_bias,
            Role::AttentionV,
        );
        norm_bias_then_weight(&mut out, &format!("{p}.layernorm_after"), hidden);
        norm_bias_then_weight(&mut out, &format!("{p}.layernorm_before"), hidden);
        let prefix = format!("{p}.intermediate.dense");
        bias_then_weight(&mut out, &prefix, hidden, intermediate, true, Role::MlpUp);
        let prefix = format!("{p}.output.dense");
        bias_then_weight(&mut out, &prefix, intermediate, hidden, true, Role::MlpDown);
    }
    out.in_layer(None);
    if !classifier {
        bias_then_weight(
            &mut out,
            "pooler.dense",
            hidden,
            pooler_width,
            true,
            Role::Pooler,
        );
    }
    Ok(out)
}

/// A Linear, its bias (if any) first, as the sorted keys have it.
fn bias_then_weight(
    out: &mut Tensors,
    prefix: &str,
    input: u64,
    output: u64,
    bias: bool,
    role: Role,
) {
    if bias {
        out.bias(&format!("{prefix}.bias"), &[output], role);
    }
    out.weight(&format!("{prefix}.weight"), &[output, input], role);
}

/// A LayerNorm, bias first.
fn norm_bias_then_weight(out: &mut Tensors, prefix: &str, dim: u64) {
    out.bias(&format!("{prefix}.bias"), &[dim], Role::Norm);
    out.norm(&format!("{prefix}.weight"), dim);
}
