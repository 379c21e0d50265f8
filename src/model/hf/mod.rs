//! Hugging Face architectures from their `config.json`: every tensor `save_pretrained` writes
//! for the class — keys, shapes and order as transformers 5.25.0 writes them — with the
//! class's `_init_weights` recipe.
//!
//! The class is `architectures[0]`, or the usual head of `model_type` when the config names
//! none ([`ARCHITECTURES`]). Every field the class reads is read, with the config class's
//! default where the file leaves it out, as transformers does for hub configs that hold only
//! the fields that differ from the defaults.
//!
//! What transformers 5.25.0 saves, and nninit therefore writes:
//! - tied weights once, under the key that owns them (`lm_head.weight` is not written when the
//!   embeddings are tied; T5 ties its LM head always, whatever `tie_word_embeddings` says);
//! - no non-persistent buffers (rotary `inv_freq`, BERT's `position_ids`, Gemma's
//!   `embed_scale`): these classes have no persistent buffers;
//! - ViT under its checkpoint names (`encoder.layer.N.attention.attention.query`, not the
//!   modeling names `layers.N.attention.q_proj`), in the order its renaming leaves them.
//!
//! `tests/data/hf/keys.json`, recorded from the real classes by `scripts/hf_keys.py`, pins the
//! keys, shapes and dtypes for every architecture.

mod bert;
pub mod config;
mod decoder;
mod gpt2;
mod t5;
mod vit;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::model::parallel::plan::{Placement, PlanRule, TpPlan};
use crate::model::presets::ModelTensor;
use crate::model::role::{Expert, Part, Role, Split, TensorRole, torch_fan_in};
use crate::scheme::Init;
use crate::scheme::layers::{Param, ParamInit};
use config::{Config, MAX_DIM};

/// The transformers version whose classes and recipes this module follows.
pub const TRANSFORMERS_VERSION: &str = "5.25.0";

/// Every supported class with its `model_type`; the first of each type is its usual head.
pub const ARCHITECTURES: [(&str, &str); 24] = [
    ("llama", "LlamaForCausalLM"),
    ("mistral", "MistralForCausalLM"),
    ("qwen2", "Qwen2ForCausalLM"),
    ("qwen3", "Qwen3ForCausalLM"),
    ("gemma", "GemmaForCausalLM"),
    ("gemma2", "Gemma2ForCausalLM"),
    ("gemma3_text", "Gemma3ForCausalLM"),
    ("phi3", "Phi3ForCausalLM"),
    ("olmo2", "Olmo2ForCausalLM"),
    ("granite", "GraniteForCausalLM"),
    ("smollm3", "SmolLM3ForCausalLM"),
    ("starcoder2", "Starcoder2ForCausalLM"),
    ("mixtral", "MixtralForCausalLM"),
    ("qwen2_moe", "Qwen2MoeForCausalLM"),
    ("qwen3_moe", "Qwen3MoeForCausalLM"),
    ("deepseek_v3", "DeepseekV3ForCausalLM"),
    ("gpt_oss", "GptOssForCausalLM"),
    ("llama4_text", "Llama4ForCausalLM"),
    ("bert", "BertForMaskedLM"),
    ("bert", "BertModel"),
    ("vit", "ViTForImageClassification"),
    ("vit", "ViTModel"),
    ("t5", "T5ForConditionalGeneration"),
    ("gpt2", "GPT2LMHeadModel"),
];

/// A model built from a `config.json`.
#[derive(Debug, Clone)]
pub struct HfModel {
    /// `model_type`.
    pub model_type: &'static str,
    /// The class, e.g. `LlamaForCausalLM`.
    pub class: &'static str,
    /// Every tensor `save_pretrained` writes, in its order.
    pub tensors: Vec<ModelTensor>,
    /// The tensor-parallel plan of the architecture, one rule per split tensor, from its role
    /// ([`crate::model::role::Role::split`], the Megatron/torchtitan convention):
    /// column-parallel (q/k/v, gate/up, the output head) split the output features,
    /// row-parallel (attention out, MLP down) the input features with their biases replicated,
    /// embeddings by vocabulary (dim 0), norms replicated; attention projections only by whole
    /// heads.
    pub tp_plan: TpPlan,
    /// The config as given, to be written beside the weights.
    config: Map<String, Value>,
}

impl HfModel {
    /// Parses `text` (a `config.json`) and builds its class's tensors.
    ///
    /// ```
    /// let config = r#"{"model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
    ///     "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    ///     "vocab_size": 100}"#;
    /// let model = nninit::model::hf::HfModel::from_config_json(config)?;
    /// assert_eq!(model.class, "LlamaForCausalLM");
    /// assert_eq!(model.tensors.len(), 1 + 2 * 9 + 2);
    /// assert_eq!(model.tensors[2].param.shape, vec![32, 64]); // k_proj: 2 KV heads × 16
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn from_config_json(text: &str) -> Result<HfModel> {
        let value: Value = serde_json::from_str(text).map_err(|e| Error::Parse {
            what: "config.json",
            input: text.chars().take(60).collect(),
            reason: e.to_string(),
        })?;
        let Value::Object(fields) = value else {
            return Err(Error::invalid(
                "config.json",
                "not an object",
                "a JSON object of config fields",
            ));
        };
        let (model_type, class) = architecture(&fields)?;
        let tensors = build(model_type, class, &fields)?;
        check_sizes(&tensors)?;
        Ok(HfModel {
            model_type,
            class,
            tensors: tensors.list,
            tp_plan: TpPlan {
                rules: tensors.plan,
                strict: false,
            },
            config: fields,
        })
    }

    /// The `config.json` to write beside weights of `dtype` (`float32`, `float16` or
    /// `bfloat16`): the given config with `model_type`, `architectures` and `dtype` set, as
    /// `save_pretrained` sets them (`from_pretrained` loads in the dtype it names). The
    /// pre-5.0 `torch_dtype` is dropped so the two cannot disagree.
    pub fn config_json(&self, dtype: &str) -> String {
        let mut config = self.config.clone();
        config.remove("torch_dtype");
        config.insert("architectures".into(), Value::from(vec![self.class]));
        config.insert("model_type".into(), Value::from(self.model_type));
        config.insert("dtype".into(), Value::from(dtype));
        let mut text = serde_json::to_string_pretty(&Value::Object(config))
            .expect("a JSON object always serializes");
        text.push('\n');
        text
    }
}

/// The `(model_type, class)` of a config: `architectures[0]` when given (and then it must agree
/// with `model_type`), else the usual head of `model_type`.
fn architecture(fields: &Map<String, Value>) -> Result<(&'static str, &'static str)> {
    let types: Vec<&str> = ARCHITECTURES.iter().map(|(t, _)| *t).collect();
    let mut types_listed = types.clone();
    types_listed.dedup();
    let classes: Vec<&str> = ARCHITECTURES.iter().map(|(_, c)| *c).collect();
    let named_class = match fields.get("architectures") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) if !items.is_empty() => {
            let name = items[0].as_str().unwrap_or_default();
            Some(classes.iter().position(|c| *c == name).ok_or_else(|| {
                Error::invalid(
                    "config.json architectures[0]",
                    &items[0],
                    format!("one of {}", classes.join(", ")),
                )
            })?)
        }
        Some(other) => {
            return Err(Error::invalid(
                "config.json architectures",
                other,
                "a non-empty list of class names",
            ));
        }
    };
    let model_type = match fields.get("model_type") {
        None if named_class.is_some() => None,
        Some(Value::String(name)) => {
            Some(types.iter().position(|t| t == name).ok_or_else(|| {
                Error::invalid(
                    "config.json model_type",
                    name,
                    format!("one of {}", types_listed.join(", ")),
                )
            })?)
        }
        other => {
            return Err(Error::invalid(
                "config.json model_type",
                other.map_or("missing".to_string(), Value::to_string),
                format!("one of {}", types_listed.join(", ")),
            ));
        }
    };
    match (named_class, model_type) {
        (Some(class), Some(first)) if ARCHITECTURES[class].0 != ARCHITECTURES[first].0 => {
            Err(Error::invalid(
                "config.json architectures[0]",
                ARCHITECTURES[class].1,
                format!("a {} class, as model_type says", ARCHITECTURES[first].0),
            ))
        }
        (Some(index), _) | (None, Some(index)) => Ok(ARCHITECTURES[index]),
        (None, None) => Err(Error::invalid(
            "config.json model_type",
            "missing",
            format!("one of {}", types_listed.join(", ")),
        )),
    }
}

fn build(model_type: &str, class: &str, fields: &Map<String, Value>) -> Result<Tensors> {
    let decoder =
        |family: &decoder::Family, aliases| decoder::tensors(family, &Config::new(fields, aliases));
    // The config classes' `attribute_map`s: a routed-expert count under either name.
    const LOCAL_EXPERTS: &[(&str, &str)] = &[("num_local_experts", "num_experts")];
    match model_type {
        "llama" => decoder(&decoder::LLAMA, &[]),
        "mistral" => decoder(&decoder::MISTRAL, &[]),
        "qwen2" => decoder(&decoder::QWEN2, &[]),
        "qwen3" => decoder(&decoder::QWEN3, &[]),
        "gemma" => decoder(&decoder::GEMMA, &[]),
        "gemma2" => decoder(&decoder::GEMMA2, &[]),
        "gemma3_text" => decoder(&decoder::GEMMA3_TEXT, &[]),
        "phi3" => decoder(&decoder::PHI3, &[]),
        "olmo2" => decoder(&decoder::OLMO2, &[]),
        "granite" => decoder(&decoder::GRANITE, &[]),
        "smollm3" => decoder(&decoder::SMOLLM3, &[]),
        "starcoder2" => decoder(&decoder::STARCODER2, &[]),
        "mixtral" => decoder(&decoder::MIXTRAL, LOCAL_EXPERTS),
        "qwen2_moe" => decoder(&decoder::QWEN2_MOE, &[]),
        "qwen3_moe" => decoder(&decoder::QWEN3_MOE, &[("num_experts", "num_local_experts")]),
        "deepseek_v3" => decoder(
            &decoder::DEEPSEEK_V3,
            &[("n_routed_experts", "num_local_experts")],
        ),
        "gpt_oss" => decoder(&decoder::GPT_OSS, LOCAL_EXPERTS),
        "llama4_text" => decoder(&decoder::LLAMA4_TEXT, &[]),
        "bert" => bert::tensors(class, &Config::new(fields, &[])),
        "vit" => vit::tensors(class, &Config::new(fields, &[])),
        "t5" => t5::tensors(&Config::new(fields, t5::ALIASES)),
        "gpt2" => gpt2::tensors(&Config::new(fields, gpt2::ALIASES)),
        other => Err(Error::invalid(
            "config.json model_type",
            other,
            "a type with a builder (this is a bug in ARCHITECTURES)",
        )),
    }
}

/// Every tensor's element count must be at most [`MAX_DIM`].
fn check_sizes(tensors: &Tensors) -> Result<()> {
    for tensor in &tensors.list {
        let shape = &tensor.param.shape;
        let fits = shape
            .iter()
            .try_fold(1u64, |n, &d| n.checked_mul(d))
            .is_some_and(|n| n <= MAX_DIM);
        if !fits {
            return Err(Error::invalid(
                "config.json sizes",
                format!("{} of shape {shape:?}", tensor.param.name),
                format!("tensors of at most {MAX_DIM} elements"),
            ));
        }
    }
    Ok(())
}

/// The base `_init_weights`'s σ: `initializer_range or 0.02` (so 0 means 0.02), the config
/// class giving `initializer_range` its `default`.
fn base_std(config: &Config<'_>, default: f64) -> Result<f64> {
    let range = config.number("initializer_range", default)?;
    Ok(if range == 0.0 { 0.02 } else { range })
}

/// A family's recipe, transformers' `_init_weights` of its class as a table: the spec of each
/// tensor from its role.
type Recipe = Box<dyn Fn(&TensorRole) -> Init>;

/// transformers' base `_init_weights` (`PreTrainedModel._init_weights`) by module: Linear,
/// convolution and embedding weights N(0, `std`), every bias 0, norm weights 1.
fn base_recipe(role: &TensorRole, std: f64) -> Init {
    match (role.role, role.part) {
        (_, Part::Bias) => Init::Zeros,
        (Role::Norm, Part::Weight) => Init::Ones,
        _ => Init::Normal { mean: 0.0, std },
    }
}

/// The tensors of a model as they are built: each with its role, its spec from the family's
/// recipe.
struct Tensors {
    recipe: Recipe,
    /// The number of layers of the stack being built.
    depth: u64,
    /// The layer being built, if any.
    layer: Option<u64>,
    /// The routed expert being built, if any.
    expert: Option<Expert>,
    list: Vec<ModelTensor>,
    /// The architecture's tensor-parallel plan: one rule per split tensor, from its role.
    plan: Vec<PlanRule>,
    /// Roles whose split dimension is made of groups tp must not cut (attention heads): what
    /// they are and how many.
    groups: Vec<(Role, &'static str, u64)>,
    /// Roles this family keeps whole whatever [`Role::split`] says (its transformers plan
    /// does).
    whole: Vec<Role>,
}

/// How a weight stores its features.
#[derive(Clone, Copy, PartialEq)]
enum Features {
    /// `[…, out, in]`, as `nn.Linear` (and per-expert keys).
    OutIn,
    /// `[…, in, out]`: GPT-2's Conv1D, the fused `[E, H, 2I]` experts, T5's `[buckets, heads]`
    /// relative position bias.
    InOut,
}

impl Tensors {
    fn new(depth: u64, recipe: impl Fn(&TensorRole) -> Init + 'static) -> Self {
        Self {
            recipe: Box::new(recipe),
            depth,
            layer: None,
            expert: None,
            list: Vec::new(),
            plan: Vec::new(),
            groups: Vec::new(),
            whole: Vec::new(),
        }
    }

    /// Tensors in `roles` split only by whole groups: `count` of `what` (attention heads).
    fn group(&mut self, roles: &[Role], what: &'static str, count: u64) {
        self.groups
            .extend(roles.iter().map(|&role| (role, what, count)));
    }

    /// Tensors in `roles` stay whole over the tensor-parallel ranks.
    fn keep_whole(&mut self, roles: &[Role]) {
        self.whole.extend_from_slice(roles);
    }

    /// The tensor-parallel placement of a tensor of `shape` in `role`, from its role's
    /// [`Split`]: the output or input features by `features`, a column bias with its outputs.
    fn split(&self, role: &TensorRole, shape: &[u64], features: Features) -> Placement {
        let dims = shape.len();
        let last = dims.checked_sub(1);
        let out_in = |out: Option<usize>, input: Option<usize>| match features {
            Features::OutIn => out,
            Features::InOut => input,
        };
        let dim = match (role.role.split(), role.part) {
            _ if self.whole.contains(&role.role) => None,
            (Split::Column, Part::Bias) => last,
            (Split::Column, Part::Weight) => out_in(dims.checked_sub(2), last),
            (Split::Row, Part::Weight) => out_in(last, dims.checked_sub(2)),
            (Split::Vocabulary, _) => Some(0).filter(|_| dims > 0),
            (Split::Row, Part::Bias) | (Split::Whole, _) | (_, Part::Buffer) => None,
        };
        dim.map_or(Placement::Replicate, Placement::Shard)
    }

    /// The tensors built next belong to `layer` (`None`: outside the layers).
    fn in_layer(&mut self, layer: Option<u64>) {
        self.layer = layer;
    }

    /// The tensors built next are routed expert `expert`'s own (`None`: no one expert's).
    fn in_expert(&mut self, expert: Option<Expert>) {
        self.expert = expert;
    }

    /// The `part` of a `role` module, in the current layer, drawn as the recipe says; an
    /// embedding's padding row `zero_row` is 0.
    fn push(&mut self, name: &str, shape: &[u64], role: Role, part: Part, zero_row: Option<u64>) {
        self.push_stored(name, shape, role, part, zero_row, Features::OutIn);
    }

    /// [`Self::push`] of a weight whose features are stored as `features` says.
    fn push_stored(
        &mut self,
        name: &str,
        shape: &[u64],
        role: Role,
        part: Part,
        zero_row: Option<u64>,
        features: Features,
    ) {
        let fan_in = match features {
            Features::OutIn => torch_fan_in(shape),
            Features::InOut => shape.len().checked_sub(2).map_or(0, |d| shape[d]),
        };
        let role = TensorRole {
            role,
            part,
            layer: self.layer,
            depth: self.depth,
            expert: self.expert,
            fan_in,
        };
        let init = (self.recipe)(&role);
        if let placement @ Placement::Shard(_) = self.split(&role, shape, features) {
            let rule = match self.groups.iter().find(|(r, ..)| *r == role.role) {
                Some(&(_, what, count)) => PlanRule::grouped(name, placement, what, count),
                None => PlanRule::new(name, placement),
            };
            self.plan.push(rule);
        }
        self.list.push(ModelTensor {
            param: Param {
                name: name.to_string(),
                shape: shape.to_vec(),
                init: ParamInit::Scheme { init, zero_row },
            },
            tied_to: None,
            role: Some(role),
            dtype: None,
        });
    }

    /// The tensor built last keeps `dtype` in a checkpoint of any dtype.
    fn keep_last_in(&mut self, dtype: crate::contract::dtype::Dtype) {
        if let Some(tensor) = self.list.last_mut() {
            tensor.dtype = Some(dtype);
        }
    }

    /// The weight of a `role` module.
    fn weight(&mut self, name: &str, shape: &[u64], role: Role) {
        self.push(name, shape, role, Part::Weight, None);
    }

    /// The weight of a `role` module stored `[…, in, out]` (GPT-2's Conv1D, fused experts).
    fn weight_in_out(&mut self, name: &str, shape: &[u64], role: Role) {
        self.push_stored(name, shape, role, Part::Weight, None, Features::InOut);
    }

    /// The bias of a `role` module.
    fn bias(&mut self, name: &str, shape: &[u64], role: Role) {
        self.push(name, shape, role, Part::Bias, None);
    }

    /// `nn.Embedding(rows, dim, padding_idx)`: the padding row 0.
    fn embedding(&mut self, name: &str, rows: u64, dim: u64, padding: Option<u64>, role: Role) {
        self.push(name, &[rows, dim], role, Part::Weight, padding);
    }

    /// `nn.Linear(input, output, bias)`: `{prefix}.weight` (output, input), then the bias.
    fn linear(&mut self, prefix: &str, input: u64, output: u64, bias: bool, role: Role) {
        self.weight(&format!("{prefix}.weight"), &[output, input], role);
        if bias {
            self.bias(&format!("{prefix}.bias"), &[output], role);
        }
    }

    /// A norm's weight (RMSNorm, T5's LayerNorm).
    fn norm(&mut self, name: &str, dim: u64) {
        self.weight(name, &[dim], Role::Norm);
    }

    /// A LayerNorm: weight, then bias.
    fn layer_norm(&mut self, prefix: &str, dim: u64) {
        self.norm(&format!("{prefix}.weight"), dim);
        self.bias(&format!("{prefix}.bias"), &[dim], Role::Norm);
    }
}
