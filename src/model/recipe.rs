//! The pretraining frameworks' recipes as tables from a tensor's role (with its layer, the
//! model's depth and the weight's fan-in) to a spec: torchtitan 0.3.0, megatron-core 0.19 and
//! OLMo-core 3.0. Hugging Face's recipes are each builder's own ([`Recipe::Hf`]); the others
//! replace them over the roles, so adding a recipe touches no builder.
//!
//! Every formula is the framework's as `../shared/RECIPES.md` cites it (file and commit), and as
//! the installed packages were read (`docs/frameworks/`): torch's `trunc_normal_` bounds are
//! absolute (`a=-2, b=2` with σ = 0.02 cuts at ±100σ), OLMo-core's are ±3σ of each tensor's own
//! σ; depth scaling is torchtitan's `0.02/√(2(l+1))` on attention out, MLP up and down, the
//! router and the experts' up and down, Megatron's `0.02/√(2L)` on attention out and MLP down
//! only.

use std::fmt;

use crate::contract::dtype::Dtype;
use crate::error::{Error, Result};
use crate::model::init::InitJob;
use crate::model::json::FileTensor;
use crate::model::presets::ModelTensor;
use crate::model::role::{Part, Role, TensorRole};
use crate::scheme::Init;
use crate::scheme::layers::{ParamInit, kaiming_uniform_sqrt5};

/// The metadata key naming the recipe a file's tensors were drawn with.
pub const RECIPE_KEY: &str = "nninit.recipe";

/// The base σ of every recipe here (torchtitan's `0.02`, Megatron's `init_method_std`,
/// OLMo-core's `init_std` defaults).
pub const BASE_STD: f64 = 0.02;

/// Whose recipe draws a model's tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipe {
    /// transformers' `_init_weights` of the class (each builder's table); a preset's or model
    /// description's own.
    Hf,
    /// torchtitan 0.3.0, one of the model families it ships.
    Torchtitan(Titan),
    /// megatron-core's `init_method_normal(σ)` and `scaled_init_method_normal(σ, L)`.
    Megatron,
    /// OLMo-core 3.0's `InitMethod`.
    Olmo(OlmoInit),
}

/// The torchtitan 0.3.0 model family whose recipe is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Titan {
    /// `torchtitan/models/llama3`: the depth-scaled recipe, N(0, 1) embeddings, a
    /// `dim^-1/2` ±3σ head.
    Llama3,
    /// `torchtitan/models/qwen3`, dense (0.3.0 has PR #4104, "align initialization with Qwen
    /// defaults"): every linear, the embedding and the head N(0, 0.02²).
    Qwen3,
    /// `torchtitan/models/qwen3`, MoE flavours: Qwen3's, with attention out and the experts'
    /// down N(0, 0.02²/(2L)).
    Qwen3Moe,
    /// `torchtitan/models/deepseek_v3`: llama3's recipe over MLA and the experts.
    DeepseekV3,
}

/// OLMo-core 3.0's `InitMethod`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OlmoInit {
    /// `normal` (OLMo 2's): every weight TN(σ; ±3σ).
    Normal,
    /// `llama`: N(0, 1) embeddings; attention out, MLP up and down, router and experts
    /// TN(σ/√(2L)); a `d^-1/2` head.
    Llama,
    /// `llama_depth`: `llama` with σ/√(2(l+1)).
    LlamaDepth,
    /// `fan_in`: every weight TN(1/√fan_in), N(0, 1) embeddings, a `d^-1/2` head.
    FanIn,
}

/// The recipe names `--recipe` and `init_module_(recipe=…)` take.
pub const RECIPE_NAMES: &str = "hf, torchtitan[:llama3|qwen3|qwen3_moe|deepseek_v3], megatron, \
                                olmo[:normal|llama|llama_depth|fan_in]";

impl Recipe {
    /// Parses `hf`, `torchtitan[:family]`, `megatron`, `olmo[:method]`. A bare `torchtitan`
    /// takes the family of `model_type` (a Hugging Face config's), llama3 for any other.
    pub fn parse(text: &str, model_type: Option<&str>) -> Result<Recipe> {
        let (name, variant) = match text.split_once(':') {
            Some((name, variant)) => (name, Some(variant)),
            None => (text, None),
        };
        let unknown = || Error::invalid("recipe", text, format!("one of {RECIPE_NAMES}"));
        Ok(match (name, variant) {
            ("hf", None) => Recipe::Hf,
            ("megatron", None) => Recipe::Megatron,
            ("torchtitan", None) => Recipe::Torchtitan(match model_type {
                Some("qwen3") => Titan::Qwen3,
                Some("qwen3_moe") => Titan::Qwen3Moe,
                Some("deepseek_v3") => Titan::DeepseekV3,
                _ => Titan::Llama3,
            }),
            ("torchtitan", Some("llama3")) => Recipe::Torchtitan(Titan::Llama3),
            ("torchtitan", Some("qwen3")) => Recipe::Torchtitan(Titan::Qwen3),
            ("torchtitan", Some("qwen3_moe")) => Recipe::Torchtitan(Titan::Qwen3Moe),
            ("torchtitan", Some("deepseek_v3")) => Recipe::Torchtitan(Titan::DeepseekV3),
            ("olmo", None | Some("normal")) => Recipe::Olmo(OlmoInit::Normal),
            ("olmo", Some("llama")) => Recipe::Olmo(OlmoInit::Llama),
            ("olmo", Some("llama_depth")) => Recipe::Olmo(OlmoInit::LlamaDepth),
            ("olmo", Some("fan_in")) => Recipe::Olmo(OlmoInit::FanIn),
            _ => return Err(unknown()),
        })
    }

    /// The spec of a tensor in `role`, or `None` where the recipe has no rule for it.
    /// `tied_embeddings`: the token embedding is also the output head (only it is drawn).
    pub fn spec(&self, role: &TensorRole, tied_embeddings: bool) -> Option<Init> {
        // What every recipe here shares: biases and saved buffers 0, norm scales 1, DeepSeek's
        // router score correction 0 (torchtitan's `expert_bias`, Megatron's too).
        match (role.role, role.part) {
            (Role::RouterScoreBias, _) | (_, Part::Buffer) => return Some(Init::Zeros),
            (Role::Norm, Part::Weight) => return Some(Init::Ones),
            (Role::Router, Part::Bias) if *self == Recipe::Megatron => {}
            // A plain Linear's bias is `reset_parameters`' U(±1/√fan_in): no rule here draws it.
            (Role::Linear, Part::Bias) => return None,
            (_, Part::Bias) => return Some(Init::Zeros),
            _ => {}
        }
        match *self {
            Recipe::Hf => None,
            Recipe::Torchtitan(family) => titan(family, role, tied_embeddings),
            Recipe::Megatron => megatron(role),
            Recipe::Olmo(method) => olmo(method, role),
        }
    }

    /// Draws `tensors` (a model's, in order) as this recipe says, every tensor with a role:
    /// its spec replaced (an embedding's padding row no longer zeroed: no framework here zeroes
    /// one). Tensors without a role (a model description's bare entries) keep their own spec,
    /// tied tensors their owner's values. [`Recipe::Hf`] leaves everything as built.
    ///
    /// Whether the output head is the token embedding is `tied_embeddings`, or when `None`
    /// read from the tensors: an embedding and no output head weight of its own (a whole
    /// model's tensors; a pipeline stage's must say).
    ///
    /// A tensor whose role the recipe has no rule for is an error naming it.
    pub fn apply<'a>(
        &self,
        tensors: impl IntoIterator<Item = &'a mut ModelTensor>,
        tied_embeddings: Option<bool>,
    ) -> Result<()> {
        if *self == Recipe::Hf {
            return Ok(());
        }
        let mut tensors: Vec<&mut ModelTensor> = tensors.into_iter().collect();
        let tied = tied_embeddings.unwrap_or_else(|| tied_in(&tensors));
        for tensor in tensors.iter_mut().filter(|t| t.tied_to.is_none()) {
            let (Some(role), ParamInit::Scheme { .. }) = (&tensor.role, &tensor.param.init) else {
                continue;
            };
            let init = self.spec(role, tied).ok_or_else(|| {
                Error::invalid(
                    "recipe",
                    self,
                    format!(
                        "a recipe with a rule for {} ({role}); {self} has none",
                        tensor.param.name
                    ),
                )
            })?;
            tensor.param.init = ParamInit::Scheme {
                init,
                zero_row: None,
            };
        }
        Ok(())
    }

    /// `tensors` (a whole model's) drawn by this recipe, as the job of a run with `seed` and
    /// default `dtype`, whose files record the recipe under [`RECIPE_KEY`].
    pub fn job(&self, mut tensors: Vec<FileTensor>, seed: u64, dtype: Dtype) -> Result<InitJob> {
        self.apply(tensors.iter_mut().map(|t| &mut t.tensor), None)?;
        let mut job = InitJob::whole(tensors, seed, dtype);
        job.metadata
            .push((RECIPE_KEY.to_string(), self.to_string()));
        Ok(job)
    }
}

impl fmt::Display for Recipe {
    /// The name `parse` reads back, with the variant: `torchtitan:llama3`, `olmo:normal`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Recipe::Hf => "hf",
            Recipe::Megatron => "megatron",
            Recipe::Torchtitan(Titan::Llama3) => "torchtitan:llama3",
            Recipe::Torchtitan(Titan::Qwen3) => "torchtitan:qwen3",
            Recipe::Torchtitan(Titan::Qwen3Moe) => "torchtitan:qwen3_moe",
            Recipe::Torchtitan(Titan::DeepseekV3) => "torchtitan:deepseek_v3",
            Recipe::Olmo(OlmoInit::Normal) => "olmo:normal",
            Recipe::Olmo(OlmoInit::Llama) => "olmo:llama",
            Recipe::Olmo(OlmoInit::LlamaDepth) => "olmo:llama_depth",
            Recipe::Olmo(OlmoInit::FanIn) => "olmo:fan_in",
        })
    }
}

/// Whether a whole model's output head is its token embedding: it has an embedding and no
/// output head weight of its own.
fn tied_in(tensors: &[&mut ModelTensor]) -> bool {
    let has = |wanted: fn(&ModelTensor) -> bool| tensors.iter().any(|t| wanted(t));
    has(|t| t.role.is_some_and(|r| r.role == Role::Embedding))
        && !has(|t| {
            t.tied_to.is_none()
                && t.role
                    .is_some_and(|r| r.role == Role::OutputHead && r.part == Part::Weight)
        })
}

/// `normal_(std)`.
fn normal(std: f64) -> Init {
    Init::Normal { mean: 0.0, std }
}

/// `trunc_normal_(std, a, b)` with torch's default absolute bounds ±2.
fn trunc_normal(std: f64) -> Init {
    Init::TruncNormal {
        mean: 0.0,
        std,
        a: -2.0,
        b: 2.0,
    }
}

/// `trunc_normal_(std, a=-3·std, b=3·std)`.
fn trunc_normal_3(std: f64) -> Init {
    Init::TruncNormal {
        mean: 0.0,
        std,
        a: -3.0 * std,
        b: 3.0 * std,
    }
}

/// σ/√(2(l+1)): torchtitan's `depth_scaled_std`, OLMo-core's `llama_depth`.
fn per_layer(role: &TensorRole) -> Option<f64> {
    Some(BASE_STD / (2.0 * (role.layer? + 1) as f64).sqrt())
}

/// σ/√(2L): Megatron's `scaled_init_method_normal`, OLMo-core's `llama`.
fn per_depth(role: &TensorRole) -> Option<f64> {
    (role.depth > 0).then(|| BASE_STD / (2.0 * role.depth as f64).sqrt())
}

/// `d^-1/2` with `d` the head's input features (the embedding's width when tied).
fn inverse_sqrt_fan_in(role: &TensorRole) -> Option<f64> {
    (role.fan_in > 0).then(|| (role.fan_in as f64).powf(-0.5))
}

/// torchtitan 0.3.0 (`torchtitan/models/{llama3,qwen3,deepseek_v3}/__init__.py`); a module
/// with no `param_init` (DeepSeek's MTP `eh_proj`, any plain `nn.Linear`) falls back to its
/// `reset_parameters`.
fn titan(family: Titan, role: &TensorRole, tied: bool) -> Option<Init> {
    if role.role == Role::Linear {
        return Some(kaiming_uniform_sqrt5());
    }
    if matches!(family, Titan::Qwen3 | Titan::Qwen3Moe) {
        return qwen3(family, role);
    }
    let head = || Some(trunc_normal_3(inverse_sqrt_fan_in(role)?));
    Some(match role.role {
        // A tied embedding is drawn as the head: its `param_init` is skipped.
        Role::Embedding if tied => head()?,
        Role::Embedding => normal(1.0),
        Role::OutputHead => head()?,
        Role::AttentionQ
        | Role::AttentionK
        | Role::AttentionV
        | Role::AttentionQkv
        | Role::MlaQA
        | Role::MlaQB
        | Role::MlaKvA
        | Role::MlaKvB
        | Role::MlpGate
        | Role::ExpertGate
        | Role::SharedExpertGate => trunc_normal(BASE_STD),
        Role::AttentionO
        | Role::MlpUp
        | Role::MlpDown
        | Role::Router
        | Role::ExpertUp
        | Role::ExpertDown
        | Role::SharedExpertUp
        | Role::SharedExpertDown => trunc_normal(per_layer(role)?),
        _ => return None,
    })
}

/// torchtitan 0.3.0's Qwen3: plain `normal_(0.02)` (a tied head too), the MoE flavours' attention
/// out and routed experts' down `normal_(0.02/√(2L))`.
fn qwen3(family: Titan, role: &TensorRole) -> Option<Init> {
    Some(match role.role {
        Role::AttentionO | Role::ExpertDown if family == Titan::Qwen3Moe => {
            normal(per_depth(role)?)
        }
        Role::Embedding
        | Role::OutputHead
        | Role::AttentionQ
        | Role::AttentionK
        | Role::AttentionV
        | Role::AttentionQkv
        | Role::AttentionO
        | Role::MlpGate
        | Role::MlpUp
        | Role::MlpDown
        | Role::Router
        | Role::ExpertGate
        | Role::ExpertUp
        | Role::ExpertDown => normal(BASE_STD),
        _ => return None,
    })
}

/// megatron-core (`megatron/core/transformer/transformer_config.py`, `utils.py`): `normal_`
/// with σ on inputs, embeddings, routers and the untied head; σ/√(2L) on attention out and MLP
/// down (dense, routed, shared); a router's bias drawn as its weight.
fn megatron(role: &TensorRole) -> Option<Init> {
    Some(match role.role {
        Role::Embedding
        | Role::PositionEmbedding
        | Role::TokenTypeEmbedding
        | Role::AttentionQ
        | Role::AttentionK
        | Role::AttentionV
        | Role::AttentionQkv
        | Role::MlaQA
        | Role::MlaQB
        | Role::MlaKvA
        | Role::MlaKvB
        | Role::MlpGate
        | Role::MlpUp
        | Role::MlpGateUp
        | Role::Router
        | Role::ExpertGate
        | Role::ExpertUp
        | Role::ExpertGateUp
        | Role::SharedExpertGate
        | Role::SharedExpertUp
        | Role::SharedExpertGateUp
        | Role::SharedExpertRouter
        | Role::OutputHead => normal(BASE_STD),
        Role::AttentionO | Role::MlpDown | Role::ExpertDown | Role::SharedExpertDown => {
            normal(per_depth(role)?)
        }
        _ => return None,
    })
}

/// OLMo-core 3.0 (`src/olmo_core/nn/transformer/init.py`): every weight TN(σ; ±3σ) of its own σ.
fn olmo(method: OlmoInit, role: &TensorRole) -> Option<Init> {
    use OlmoInit::*;
    let std = match role.role {
        Role::Embedding if method == Normal => BASE_STD,
        Role::Embedding => return Some(normal(1.0)),
        Role::OutputHead if method == Normal => BASE_STD,
        Role::OutputHead => inverse_sqrt_fan_in(role)?,
        other if !olmo_linear(other) => return None,
        other => match method {
            Normal => BASE_STD,
            FanIn => inverse_sqrt_fan_in(role)?,
            // q, k, v and the dense gate keep σ; gate and up in one tensor would need two.
            Llama | LlamaDepth if other == Role::MlpGateUp => return None,
            Llama | LlamaDepth if olmo_unscaled(other) => BASE_STD,
            Llama => per_depth(role)?,
            LlamaDepth => per_layer(role)?,
        },
    };
    Some(trunc_normal_3(std))
}

/// The linears of OLMo-core's transformer blocks (attention, MLP, router, experts).
fn olmo_linear(role: Role) -> bool {
    olmo_unscaled(role)
        || matches!(
            role,
            Role::AttentionO
                | Role::MlpUp
                | Role::MlpGateUp
                | Role::MlpDown
                | Role::Router
                | Role::ExpertGate
                | Role::ExpertUp
                | Role::ExpertGateUp
                | Role::ExpertDown
                | Role::SharedExpertUp
                | Role::SharedExpertDown
        )
}

/// The linears `llama` and `llama_depth` leave at σ: q, k, v and the dense (and shared) gate.
fn olmo_unscaled(role: Role) -> bool {
    matches!(
        role,
        Role::AttentionQ
            | Role::AttentionK
            | Role::AttentionV
            | Role::AttentionQkv
            | Role::MlpGate
            | Role::SharedExpertGate
    )
}
