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
    /// gpt-oss's per-head attention sinks.
    AttentionSinks,
    /// Multi-head latent attention (DeepSeek): the query's down projection (`q_a_proj`).
    MlaQA,
    /// MLA: the query's up projection (`q_b_proj`).
    MlaQB,
    /// MLA: the joint key-value down projection with the rotary key (`kv_a_proj_with_mqa`).
    MlaKvA,
    /// MLA: the key-value up projection (`kv_b_proj`).
    MlaKvB,
    /// The gate of a gated MLP (`gate_proj`, T5's `wi_0`).
    MlpGate,
    /// The MLP's projection up to its inner width (`up_proj`, `c_fc`, `intermediate.dense`).
    MlpUp,
    /// The MLP's projection back down to the model width (`down_proj`, `c_proj`, `wo`).
    MlpDown,
    /// Gate and up in one projection (Phi-3's `gate_up_proj`).
    MlpGateUp,
    /// A mixture of experts' router (its bias, gpt-oss's, as [`Part::Bias`]).
    Router,
    /// DeepSeek-V3's router score correction (`e_score_correction_bias`), a saved buffer.
    RouterScoreBias,
    /// The routed experts' gates (`experts.{e}.gate_proj`, Mixtral's `w1`).
    ExpertGate,
    /// The routed experts' up projections (`up_proj`, Mixtral's `w3`).
    ExpertUp,
    /// The routed experts' down projections (`down_proj`, Mixtral's `w2`, fused `[E, I, H]`).
    ExpertDown,
    /// Gate and up of every routed expert in one tensor (gpt-oss, Llama 4: `[E, H, 2I]`).
    ExpertGateUp,
    /// The shared experts' gate.
    SharedExpertGate,
    /// The shared experts' up projection.
    SharedExpertUp,
    /// The shared experts' down projection.
    SharedExpertDown,
    /// The shared experts' gate and up in one projection (Megatron's shared `linear_fc1`).
    SharedExpertGateUp,
    /// Qwen2-MoE's scalar gate on the shared expert (`shared_expert_gate`, `[1, H]`).
    SharedExpertRouter,
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
    /// A layer of a model description or preset, by its PyTorch type: `nn.Linear`.
    Linear,
    /// `nn.Bilinear`.
    Bilinear,
    /// `nn.Conv1d/2d/3d` and `nn.ConvTranspose1d/2d/3d`.
    Conv,
    /// `nn.RNN`, `nn.LSTM`, `nn.GRU`.
    Recurrent,
    /// `nn.MultiheadAttention`.
    MultiheadAttention,
}

/// How tensor parallelism splits a module, in Megatron's convention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Column-parallel: its output features (and its bias with them).
    Column,
    /// Row-parallel: its input features; its bias is added once, whole.
    Row,
    /// By vocabulary: dimension 0 of an embedding.
    Vocabulary,
    /// Not split.
    Whole,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 41] = [
        Role::Embedding,
        Role::PositionEmbedding,
        Role::TokenTypeEmbedding,
        Role::RelativePositionBias,
        Role::PatchEmbedding,
        Role::ClassToken,
        Role::AttentionQ,
        Role::AttentionK,
        Role::AttentionV,
        Role::AttentionQkv,
        Role::AttentionO,
        Role::AttentionSinks,
        Role::MlaQA,
        Role::MlaQB,
        Role::MlaKvA,
        Role::MlaKvB,
        Role::MlpGate,
        Role::MlpUp,
        Role::MlpDown,
        Role::MlpGateUp,
        Role::Router,
        Role::RouterScoreBias,
        Role::ExpertGate,
        Role::ExpertUp,
        Role::ExpertDown,
        Role::ExpertGateUp,
        Role::SharedExpertGate,
        Role::SharedExpertUp,
        Role::SharedExpertDown,
        Role::SharedExpertGateUp,
        Role::SharedExpertRouter,
        Role::Norm,
        Role::OutputHead,
        Role::HeadTransform,
        Role::Pooler,
        Role::Classifier,
        Role::Linear,
        Role::Bilinear,
        Role::Conv,
        Role::Recurrent,
        Role::MultiheadAttention,
    ];

    /// The role [`Role::name`] names.
    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.name() == name)
    }

    /// How tensor parallelism splits a module in this role: attention q/k/v, MLA's up
    /// projections, gate and up (dense, routed and shared experts), the output head and a
    /// classifier column-parallel; attention out and down row-parallel; the token embedding
    /// by vocabulary; T5's relative position bias, whose output features are its heads,
    /// column-parallel too; everything else (norms, position embeddings, routers, MLA's down
    /// projections, sinks, poolers) whole.
    pub fn split(self) -> Split {
        match self {
            Role::AttentionQ
            | Role::AttentionK
            | Role::AttentionV
            | Role::AttentionQkv
            | Role::MlaQB
            | Role::MlaKvB
            | Role::MlpGate
            | Role::MlpUp
            | Role::MlpGateUp
            | Role::ExpertGate
            | Role::ExpertUp
            | Role::ExpertGateUp
            | Role::SharedExpertGate
            | Role::SharedExpertUp
            | Role::SharedExpertGateUp
            | Role::OutputHead
            | Role::Classifier
            | Role::RelativePositionBias => Split::Column,
            Role::AttentionO | Role::MlpDown | Role::ExpertDown | Role::SharedExpertDown => {
                Split::Row
            }
            Role::Embedding => Split::Vocabulary,
            _ => Split::Whole,
        }
    }

    /// A routed expert's tensor (not a shared expert's, nor the router): what expert
    /// parallelism splits.
    pub fn is_routed_expert(self) -> bool {
        matches!(
            self,
            Role::ExpertGate | Role::ExpertUp | Role::ExpertDown | Role::ExpertGateUp
        )
    }

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
            Role::AttentionSinks => "attention.sinks",
            Role::MlaQA => "attention.q_a",
            Role::MlaQB => "attention.q_b",
            Role::MlaKvA => "attention.kv_a",
            Role::MlaKvB => "attention.kv_b",
            Role::MlpGate => "mlp.gate",
            Role::MlpUp => "mlp.up",
            Role::MlpDown => "mlp.down",
            Role::MlpGateUp => "mlp.gate_up",
            Role::Router => "router",
            Role::RouterScoreBias => "router.score_bias",
            Role::ExpertGate => "expert.gate",
            Role::ExpertUp => "expert.up",
            Role::ExpertDown => "expert.down",
            Role::ExpertGateUp => "expert.gate_up",
            Role::SharedExpertGate => "shared_expert.gate",
            Role::SharedExpertUp => "shared_expert.up",
            Role::SharedExpertDown => "shared_expert.down",
            Role::SharedExpertGateUp => "shared_expert.gate_up",
            Role::SharedExpertRouter => "shared_expert.router",
            Role::Norm => "norm",
            Role::OutputHead => "output_head",
            Role::HeadTransform => "head_transform",
            Role::Pooler => "pooler",
            Role::Classifier => "classifier",
            Role::Linear => "linear",
            Role::Bilinear => "bilinear",
            Role::Conv => "conv",
            Role::Recurrent => "recurrent",
            Role::MultiheadAttention => "multihead_attention",
        }
    }
}

impl Part {
    /// `weight`, `bias` or `buffer`.
    pub fn from_name(name: &str) -> Option<Part> {
        match name {
            "weight" => Some(Part::Weight),
            "bias" => Some(Part::Bias),
            "buffer" => Some(Part::Buffer),
            _ => None,
        }
    }
}

/// Which parameter of its module a tensor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// The weight (a norm's scale).
    Weight,
    /// The bias (a norm's shift; an RNN's `bias_ih_l0`).
    Bias,
    /// A saved buffer: BatchNorm's running statistics and step count.
    Buffer,
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
    /// The number of layers of its stack (T5: of its encoder or decoder); 0 for a model
    /// description's layers, which form no stack.
    pub depth: u64,
    /// The routed expert whose own tensor it is (a per-expert key); `None` for a fused tensor
    /// of every expert, and outside the experts.
    pub expert: Option<Expert>,
    /// The features a weight takes in (`nn.Linear`'s `in_features`, times a convolution's
    /// kernel; one expert's in a fused experts tensor; an embedding's width): what
    /// `d^-1/2` and fan-in recipes read. 0 for tensors of fewer than two dims.
    pub fan_in: u64,
}

impl TensorRole {
    /// Parameter `name` of `shape` of a `role` layer of a model description or preset, outside
    /// any layer stack: its part read from the parameter's own name (`bias`, `bias_ih_l0`,
    /// `in_proj_bias` a bias; `running_mean`, `running_var`, `num_batches_tracked` a buffer),
    /// its fan-in torch's (`shape[1]` times the kernel).
    pub fn of_layer(role: Role, name: &str, shape: &[u64]) -> TensorRole {
        let last = name.rsplit('.').next().unwrap_or(name);
        let part = match last {
            "running_mean" | "running_var" | "num_batches_tracked" => Part::Buffer,
            _ if last.ends_with("bias") || last.starts_with("bias_") => Part::Bias,
            _ => Part::Weight,
        };
        TensorRole {
            role,
            part,
            layer: None,
            depth: 0,
            expert: None,
            fan_in: torch_fan_in(shape),
        }
    }
}

/// torch's fan-in of a weight stored `[out, in, *kernel]`: `in` times the kernel; 0 below two
/// dims.
pub fn torch_fan_in(shape: &[u64]) -> u64 {
    match shape {
        [_, input, kernel @ ..] => kernel.iter().fold(*input, |n, k| n.saturating_mul(*k)),
        _ => 0,
    }
}

/// One routed expert of a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Expert {
    /// Which, from 0.
    pub index: u64,
    /// How many routed experts the layer has.
    pub count: u64,
}

impl fmt::Display for TensorRole {
    /// `attention.q`, `attention.q.bias`, `norm.bias`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.role.name())?;
        match self.part {
            Part::Weight => Ok(()),
            Part::Bias => f.write_str(".bias"),
            Part::Buffer => f.write_str(".buffer"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_reads_back_from_its_name() {
        let mut names: Vec<&str> = Role::ALL.iter().map(|r| r.name()).collect();
        for role in Role::ALL {
            assert_eq!(Role::from_name(role.name()), Some(role));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Role::ALL.len(), "two roles share a name");
        assert_eq!(Role::from_name("attention"), None);
    }
}
