//! What each tensor of a model is: its *role* (token embedding, attention query, MLP down
//! projection, norm, …), whether it is the weight or the bias of that module, its layer and the
//! model's depth. A recipe maps a role to a spec; a builder names roles and never a
//! distribution.

use std::fmt;

/// The module a tensor belongs to, as a recipe sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The token embedding (and, tied, the output head).
    Embedding,
    /// Learned absolute positions (GPT-2's `wpe`, BERT's, ViT's `position_embeddings`).
    PositionEmbedding,
    /// BERT's segment embedding.
    TokenTypeEmbedding,
    /// T5's per-head relative position bias.
    RelativePositionBias,
    /// ViT's patch projection (a convolution).
    PatchEmbedding,
    /// ViT's `cls_token`.
    ClassToken,
    /// Attention query projection.
    AttentionQ,
    /// Attention key projection.
    AttentionK,
    /// Attention value projection.
    AttentionV,
    /// Query, key and value in one projection (GPT-2's `c_attn`).
    AttentionQkv,
    /// Attention output projection.
    AttentionO,
    /// The gate of a gated MLP (`gate_proj`, T5's `wi_0`).
    MlpGate,
    /// The MLP's projection up to its inner width (`up_proj`, `c_fc`, `intermediate.dense`).
    MlpUp,
    /// The MLP's projection back down to the model width (`down_proj`, `c_proj`, `wo`).
    MlpDown,
    /// A normalization's scale (and shift, as its bias).
    Norm,
    /// The output projection to the vocabulary (or BERT's MLM decoder and its bias).
    OutputHead,
    /// BERT's MLM head transform before the decoder.
    HeadTransform,
    /// BERT's and ViT's pooler.
    Pooler,
    /// A classification head.
    Classifier,
}

impl Role {
    /// The name printed by `init --dry-run` and recorded in metadata.
    pub fn name(self) -> &'static str {
        match self {
            Role::Embedding => "embedding",
            Role::PositionEmbedding => "position_embedding",
            Role::TokenTypeEmbedding => "token_type_embedding",
            Role::RelativePositionBias => "relative_position_bias",
            Role::PatchEmbedding => "patch_embedding",
            Role::ClassToken => "class_token",
            Role::AttentionQ => "attention.q",
            Role::AttentionK => "attention.k",
            Role::AttentionV => "attention.v",
            Role::AttentionQkv => "attention.qkv",
            Role::AttentionO => "attention.o",
            Role::MlpGate => "mlp.gate",
            Role::MlpUp => "mlp.up",
            Role::MlpDown => "mlp.down",
            Role::Norm => "norm",
            Role::OutputHead => "output_head",
            Role::HeadTransform => "head_transform",
            Role::Pooler => "pooler",
            Role::Classifier => "classifier",
        }
    }
}

/// Which parameter of its module a tensor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// The weight (a norm's scale).
    Weight,
    /// The bias (a norm's shift).
    Bias,
}

/// A tensor's role, part, layer and the depth of its model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TensorRole {
    /// The module.
    pub role: Role,
    /// Which of its parameters.
    pub part: Part,
    /// The layer (block) it belongs to, counted from 0; `None` outside the layers.
    pub layer: Option<u64>,
    /// The number of layers of its stack (T5: of its encoder or decoder).
    pub depth: u64,
}

impl fmt::Display for TensorRole {
    /// `attention.q`, `attention.q.bias`, `norm.bias`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.role.name())?;
        if self.part == Part::Bias {
            f.write_str(".bias")?;
        }
        Ok(())
    }
}
