//! Model presets: the full `state_dict` of real models — every key, shape and dtype, buffers
//! included — with each model's own initialization recipe.
//!
//! - `gpt2`: Hugging Face `transformers` `GPT2LMHeadModel(GPT2Config())` (124M). Its
//!   `_init_weights`: Conv1D weights and embeddings N(0, 0.02), every `c_proj.weight`
//!   N(0, 0.02/√(2·n_layer)), biases 0, LayerNorm 1/0; `lm_head.weight` is tied to
//!   `transformer.wte.weight` and written identical to it. The causal-mask buffers are not
//!   persistent in current `transformers`, so they are not in the state dict.
//! - `resnet18`, `resnet50`: torchvision's recipes: every conv `kaiming_normal_(mode="fan_out",
//!   nonlinearity="relu")`, BatchNorm weight 1, bias 0, running_mean 0, running_var 1,
//!   num_batches_tracked 0 (int64); the final Linear keeps PyTorch's default.
//! - `mlp`: 784 → 256 → 10 with PyTorch Linear defaults, for quick trials.

use crate::contract::dtype::Dtype;
use crate::error::{Error, Result};
use crate::model::parallel::plan::{Placement, PlanRule, TpPlan};
use crate::model::role::{Role, TensorRole};
use crate::scheme::Init;
use crate::scheme::fans::{FanMode, Nonlinearity};
use crate::scheme::layers::{self, Param, ParamInit};

/// A named tensor of a model, and where its values come from.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelTensor {
    /// The parameter or buffer.
    pub param: Param,
    /// For tied weights: the name of the tensor whose values (and stream) it repeats.
    pub tied_to: Option<String>,
    /// What it is in its model: every Hugging Face builder's and preset's tensor, and every
    /// parameter of a model description's layers (a bare tensor entry has none).
    pub role: Option<TensorRole>,
    /// A dtype of its own, whatever the run's (DeepSeek-V3's router is F32 in every checkpoint).
    pub dtype: Option<Dtype>,
}

/// The presets `nninit init --model` knows.
pub const PRESETS: [&str; 4] = ["gpt2", "resnet18", "resnet50", "mlp"];

/// The tensors of preset `name`, in `state_dict` order.
///
/// ```
/// let gpt2 = nninit::model::presets::preset("gpt2")?;
/// assert_eq!(gpt2.len(), 149);
/// assert_eq!(gpt2[0].param.name, "transformer.wte.weight");
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn preset(name: &str) -> Result<Vec<ModelTensor>> {
    let params = match name {
        "gpt2" => return Ok(with_roles(gpt2(&Gpt2Config::default()))),
        "resnet18" => resnet("", ResNetBlock::Basic, [2, 2, 2, 2]),
        "resnet50" => resnet("", ResNetBlock::Bottleneck, [3, 4, 6, 3]),
        "mlp" => [
            layers::linear("fc1", 784, 256, true),
            layers::linear("fc2", 256, 10, true),
        ]
        .concat(),
        other => {
            return Err(Error::invalid(
                "model",
                other,
                format!("one of {}", PRESETS.join(", ")),
            ));
        }
    };
    Ok(with_roles(
        params
            .into_iter()
            .map(|param| ModelTensor {
                param,
                tied_to: None,
                role: None,
                dtype: None,
            })
            .collect(),
    ))
}

/// The presets' tensors with their roles, read from their module names: GPT-2's as its
/// Hugging Face builder names them (with their block and depth), the ResNets' convolutions,
/// BatchNorms and classifier, the MLP's Linears.
fn with_roles(mut tensors: Vec<ModelTensor>) -> Vec<ModelTensor> {
    let depth = tensors
        .iter()
        .filter_map(|t| block_of(&t.param.name))
        .max()
        .map_or(0, |last| last + 1);
    for tensor in &mut tensors {
        let name = &tensor.param.name;
        let module = name
            .rsplit_once('.')
            .map_or(name.as_str(), |(module, _)| module);
        let last = module.rsplit('.').next().unwrap_or(module);
        let role = match last {
            "wte" => Role::Embedding,
            "wpe" => Role::PositionEmbedding,
            "c_attn" => Role::AttentionQkv,
            "c_fc" => Role::MlpUp,
            "c_proj" if module.contains(".attn.") => Role::AttentionO,
            "c_proj" => Role::MlpDown,
            "lm_head" => Role::OutputHead,
            "fc" => Role::Classifier,
            "fc1" | "fc2" => Role::Linear,
            _ if last.starts_with("ln")
                || last.starts_with("bn")
                || module.ends_with("downsample.1") =>
            {
                Role::Norm
            }
            _ if last.starts_with("conv") || module.ends_with("downsample.0") => Role::Conv,
            _ => continue,
        };
        let mut role = TensorRole::of_layer(role, name, &tensor.param.shape);
        if let Some(block) = block_of(name) {
            (role.layer, role.depth) = (Some(block), depth);
        }
        tensor.role = Some(role);
    }
    tensors
}

/// The block of a GPT-2 tensor (`transformer.h.{block}.…`).
fn block_of(name: &str) -> Option<u64> {
    name.strip_prefix("transformer.h.")?
        .split('.')
        .next()?
        .parse()
        .ok()
}

/// The tensor-parallel plan of preset `name` (`crate::model::parallel`):
/// - `gpt2`: [`gpt2_tp_plan`] with its 12 heads;
/// - `resnet18`, `resnet50`: the classifier `fc` column-parallel; convolutions and BatchNorm
///   replicated (ResNets are not tensor-parallel models; `--dp` shards them FSDP-style);
/// - `mlp`: `fc1` column-parallel, `fc2` row-parallel (its bias replicated), Megatron's MLP.
pub fn tp_plan(name: &str) -> Result<TpPlan> {
    let rules = match name {
        "gpt2" => gpt2_tp_plan(12),
        "resnet18" | "resnet50" => vec![PlanRule::new("fc.*", Placement::Shard(0))],
        "mlp" => vec![
            PlanRule::new("fc1.*", Placement::Shard(0)),
            PlanRule::new("fc2.weight", Placement::Shard(1)),
        ],
        other => {
            return Err(Error::invalid(
                "model",
                other,
                format!("one of {}", PRESETS.join(", ")),
            ));
        }
    };
    Ok(TpPlan {
        rules,
        strict: false,
    })
}

/// GPT-2's tensor-parallel plan for `heads` attention heads. Conv1D stores (in, out), so the
/// column-parallel `c_attn` and `c_fc` split dim 1 (their biases dim 0) and the row-parallel
/// `c_proj`s dim 0. `c_attn` holds q, k and v side by side; it is split as DTensor's `Shard(1)`
/// splits it, into contiguous columns of whole heads (tp must divide 3 × heads), so one rank
/// may hold q heads and another k heads of the same positions.
pub fn gpt2_tp_plan(heads: u64) -> Vec<PlanRule> {
    let qkv_heads = 3 * heads;
    vec![
        PlanRule::new("transformer.wte.weight", Placement::Shard(0)),
        PlanRule::grouped(
            "transformer.h.*.attn.c_attn.weight",
            Placement::Shard(1),
            "3 × n_head",
            qkv_heads,
        ),
        PlanRule::grouped(
            "transformer.h.*.attn.c_attn.bias",
            Placement::Shard(0),
            "3 × n_head",
            qkv_heads,
        ),
        PlanRule::grouped(
            "transformer.h.*.attn.c_proj.weight",
            Placement::Shard(0),
            "n_head",
            heads,
        ),
        PlanRule::new("transformer.h.*.mlp.c_fc.weight", Placement::Shard(1)),
        PlanRule::new("transformer.h.*.mlp.c_fc.bias", Placement::Shard(0)),
        PlanRule::new("transformer.h.*.mlp.c_proj.weight", Placement::Shard(0)),
        PlanRule::new("lm_head.weight", Placement::Shard(0)),
    ]
}

/// `transformers.GPT2Config` defaults.
#[derive(Debug, Clone, Copy)]
pub struct Gpt2Config {
    /// Vocabulary size.
    pub vocab_size: u64,
    /// Context length.
    pub n_positions: u64,
    /// Embedding width.
    pub n_embd: u64,
    /// Transformer blocks.
    pub n_layer: u64,
    /// `initializer_range`.
    pub initializer_range: f64,
}

impl Default for Gpt2Config {
    fn default() -> Self {
        Self {
            vocab_size: 50257,
            n_positions: 1024,
            n_embd: 768,
            n_layer: 12,
            initializer_range: 0.02,
        }
    }
}

fn scheme(name: String, shape: Vec<u64>, init: Init) -> ModelTensor {
    ModelTensor {
        param: Param {
            name,
            shape,
            init: ParamInit::Scheme {
                init,
                zero_row: None,
            },
        },
        tied_to: None,
        role: None,
        dtype: None,
    }
}

/// `GPT2LMHeadModel`'s state dict with its `_init_weights` recipe.
pub fn gpt2(config: &Gpt2Config) -> Vec<ModelTensor> {
    let d = config.n_embd;
    let normal = |std| Init::Normal { mean: 0.0, std };
    let weight = normal(config.initializer_range);
    let c_proj = normal(config.initializer_range / (2.0 * config.n_layer as f64).sqrt());
    let mut tensors = vec![
        scheme(
            "transformer.wte.weight".into(),
            vec![config.vocab_size, d],
            weight.clone(),
        ),
        scheme(
            "transformer.wpe.weight".into(),
            vec![config.n_positions, d],
            weight.clone(),
        ),
    ];
    for block in 0..config.n_layer {
        let p = |name: &str| format!("transformer.h.{block}.{name}");
        // Conv1D weights are (in, out).
        tensors.extend([
            scheme(p("ln_1.weight"), vec![d], Init::Ones),
            scheme(p("ln_1.bias"), vec![d], Init::Zeros),
            scheme(p("attn.c_attn.weight"), vec![d, 3 * d], weight.clone()),
            scheme(p("attn.c_attn.bias"), vec![3 * d], Init::Zeros),
            scheme(p("attn.c_proj.weight"), vec![d, d], c_proj.clone()),
            scheme(p("attn.c_proj.bias"), vec![d], Init::Zeros),
            scheme(p("ln_2.weight"), vec![d], Init::Ones),
            scheme(p("ln_2.bias"), vec![d], Init::Zeros),
            scheme(p("mlp.c_fc.weight"), vec![d, 4 * d], weight.clone()),
            scheme(p("mlp.c_fc.bias"), vec![4 * d], Init::Zeros),
            scheme(p("mlp.c_proj.weight"), vec![4 * d, d], c_proj.clone()),
            scheme(p("mlp.c_proj.bias"), vec![d], Init::Zeros),
        ]);
    }
    tensors.push(scheme(
        "transformer.ln_f.weight".into(),
        vec![d],
        Init::Ones,
    ));
    tensors.push(scheme("transformer.ln_f.bias".into(), vec![d], Init::Zeros));
    let mut lm_head = scheme("lm_head.weight".into(), vec![config.vocab_size, d], weight);
    lm_head.tied_to = Some("transformer.wte.weight".into());
    tensors.push(lm_head);
    tensors
}

/// torchvision's ResNet block kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResNetBlock {
    /// Two 3×3 convs (ResNet-18/34), expansion 1.
    Basic,
    /// 1×1, 3×3, 1×1 convs (ResNet-50/101/152), expansion 4.
    Bottleneck,
}

/// `kaiming_normal_(mode="fan_out", nonlinearity="relu")` conv weight, no bias (torchvision).
fn resnet_conv(name: String, out: u64, input: u64, kernel: u64) -> Param {
    let init = Init::KaimingNormal {
        a: 0.0,
        mode: FanMode::FanOut,
        nonlinearity: Nonlinearity::Relu,
    };
    Param {
        name,
        shape: vec![out, input, kernel, kernel],
        init: ParamInit::Scheme {
            init,
            zero_row: None,
        },
    }
}

/// torchvision `ResNet(block, layers)` with 1000 classes, under `prefix`.
pub fn resnet(prefix: &str, block: ResNetBlock, blocks_per_stage: [u64; 4]) -> Vec<Param> {
    let name = |n: &str| {
        if prefix.is_empty() {
            n.to_string()
        } else {
            format!("{prefix}.{n}")
        }
    };
    let expansion = match block {
        ResNetBlock::Basic => 1,
        ResNetBlock::Bottleneck => 4,
    };
    let mut params = vec![resnet_conv(name("conv1.weight"), 64, 3, 7)];
    params.extend(layers::batch_norm(&name("bn1"), 64));
    let mut inplanes = 64;
    for (stage, (&count, planes)) in blocks_per_stage
        .iter()
        .zip([64u64, 128, 256, 512])
        .enumerate()
    {
        for index in 0..count {
            let p = |n: &str| name(&format!("layer{}.{index}.{n}", stage + 1));
            let stride_or_expand = index == 0 && (stage > 0 || inplanes != planes * expansion);
            match block {
                ResNetBlock::Basic => {
                    params.push(resnet_conv(p("conv1.weight"), planes, inplanes, 3));
                    params.extend(layers::batch_norm(&p("bn1"), planes));
                    params.push(resnet_conv(p("conv2.weight"), planes, planes, 3));
                    params.extend(layers::batch_norm(&p("bn2"), planes));
                }
                ResNetBlock::Bottleneck => {
                    params.push(resnet_conv(p("conv1.weight"), planes, inplanes, 1));
                    params.extend(layers::batch_norm(&p("bn1"), planes));
                    params.push(resnet_conv(p("conv2.weight"), planes, planes, 3));
                    params.extend(layers::batch_norm(&p("bn2"), planes));
                    params.push(resnet_conv(
                        p("conv3.weight"),
                        planes * expansion,
                        planes,
                        1,
                    ));
                    params.extend(layers::batch_norm(&p("bn3"), planes * expansion));
                }
            }
            if stride_or_expand {
                params.push(resnet_conv(
                    p("downsample.0.weight"),
                    planes * expansion,
                    inplanes,
                    1,
                ));
                params.extend(layers::batch_norm(&p("downsample.1"), planes * expansion));
            }
            inplanes = planes * expansion;
        }
    }
    params.extend(layers::linear(&name("fc"), 512 * expansion, 1000, true));
    params
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(tensors: &[ModelTensor]) -> u64 {
        tensors
            .iter()
            .filter(|t| t.tied_to.is_none() && !matches!(t.param.init, ParamInit::ZeroI64))
            .filter(|t| !t.param.name.contains("running_"))
            .map(|t| t.param.shape.iter().product::<u64>())
            .sum()
    }

    #[test]
    fn parameter_counts_match_the_published_models() {
        // GPT-2 small: 124,439,808 parameters (sum of numel over model.parameters(), tied once).
        assert_eq!(count(&preset("gpt2").unwrap()), 124_439_808);
        // torchvision: resnet18 11,689,512; resnet50 25,557,032 parameters.
        assert_eq!(count(&preset("resnet18").unwrap()), 11_689_512);
        assert_eq!(count(&preset("resnet50").unwrap()), 25_557_032);
        assert_eq!(preset("gpt2").unwrap().len(), 149);
        assert_eq!(preset("resnet18").unwrap().len(), 122);
        assert_eq!(preset("resnet50").unwrap().len(), 320);
        assert!(preset("vgg").is_err());
    }
}
