//! PyTorch layers' default initialization (`reset_parameters` of each `torch.nn` module, as of
//! PyTorch 2.x), as lists of named parameters with the scheme that initializes each. Names follow
//! the module's `state_dict` keys under a prefix (`fc1` → `fc1.weight`, `fc1.bias`).

use crate::error::{Error, Result};
use crate::scheme::Init;
use crate::scheme::fans::{FanMode, Nonlinearity};

/// How one parameter or buffer is initialized.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamInit {
    /// A float tensor drawn by a scheme; `zero_row` is a row (dim 0 index) set to 0 afterwards,
    /// for `Embedding(padding_idx=…)`.
    Scheme {
        /// The scheme.
        init: Init,
        /// Row zeroed after drawing.
        zero_row: Option<u64>,
    },
    /// An int64 zero (BatchNorm's `num_batches_tracked`).
    ZeroI64,
}

/// One named tensor of a layer.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// Full `state_dict` key.
    pub name: String,
    /// Shape.
    pub shape: Vec<u64>,
    /// Initialization.
    pub init: ParamInit,
}

fn param(prefix: &str, name: &str, shape: Vec<u64>, init: Init) -> Param {
    let name = if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    };
    Param {
        name,
        shape,
        init: ParamInit::Scheme {
            init,
            zero_row: None,
        },
    }
}

/// `kaiming_uniform_(w, a=√5)`, the weight default of Linear and Conv: U(±1/√fan_in).
pub fn kaiming_uniform_sqrt5() -> Init {
    let a = 5f64.sqrt();
    Init::KaimingUniform {
        a,
        mode: FanMode::FanIn,
        nonlinearity: Nonlinearity::LeakyRelu(Some(a)),
    }
}

/// `uniform_(b, -1/√fan_in, 1/√fan_in)`, the bias default; PyTorch uses bound 0 when fan_in is 0.
fn bias_init(fan_in: u64) -> Init {
    if fan_in == 0 {
        Init::Zeros
    } else {
        let bound = 1.0 / (fan_in as f64).sqrt();
        Init::Uniform {
            a: -bound,
            b: bound,
        }
    }
}

/// `a × b`, or an error naming `what` when the product does not fit in u64.
fn product(what: &str, a: u64, b: u64) -> Result<u64> {
    a.checked_mul(b).ok_or_else(|| {
        Error::invalid(
            what,
            format!("{a} × {b}"),
            "sizes whose product fits in u64",
        )
    })
}

/// Most recurrent layers one entry may stack (each adds 2–4 tensors).
pub const MAX_RECURRENT_LAYERS: u64 = 1024;

fn positive(name: &str, value: u64) -> Result<u64> {
    if value == 0 {
        Err(Error::invalid(name, value, "must be ≥ 1"))
    } else {
        Ok(value)
    }
}

/// `nn.Linear(in, out, bias)`.
pub fn linear(prefix: &str, in_features: u64, out_features: u64, bias: bool) -> Vec<Param> {
    let mut params = vec![param(
        prefix,
        "weight",
        vec![out_features, in_features],
        kaiming_uniform_sqrt5(),
    )];
    if bias {
        params.push(param(
            prefix,
            "bias",
            vec![out_features],
            bias_init(in_features),
        ));
    }
    params
}

/// `nn.Bilinear(in1, in2, out, bias)`: weight and bias U(±1/√in1).
pub fn bilinear(prefix: &str, in1: u64, in2: u64, out: u64, bias: bool) -> Vec<Param> {
    let mut params = vec![param(prefix, "weight", vec![out, in1, in2], bias_init(in1))];
    if bias {
        params.push(param(prefix, "bias", vec![out], bias_init(in1)));
    }
    params
}

/// `nn.Conv{1,2,3}d` (`transposed = false`) and `nn.ConvTranspose{1,2,3}d` (`transposed = true`)
/// with `kernel` of 1 to 3 dims. ConvTranspose weights are `(in, out/groups, *kernel)`, so
/// PyTorch's fan_in for them — and their bias bound — is `out/groups·∏kernel` (the quirk kept).
pub fn conv(
    prefix: &str,
    in_channels: u64,
    out_channels: u64,
    kernel: &[u64],
    groups: u64,
    bias: bool,
    transposed: bool,
) -> Result<Vec<Param>> {
    positive("groups", groups)?;
    if !(1..=3).contains(&kernel.len()) {
        return Err(Error::invalid(
            "kernel",
            format!("{kernel:?}"),
            "1 to 3 kernel dims",
        ));
    }
    if !in_channels.is_multiple_of(groups) || !out_channels.is_multiple_of(groups) {
        return Err(Error::invalid(
            "groups",
            groups,
            "must divide in_channels and out_channels",
        ));
    }
    let (dim0, dim1) = if transposed {
        (in_channels, out_channels / groups)
    } else {
        (out_channels, in_channels / groups)
    };
    let receptive = kernel
        .iter()
        .try_fold(1u64, |n, &k| product("kernel", n, k))?;
    let mut shape = vec![dim0, dim1];
    shape.extend_from_slice(kernel);
    let mut params = vec![param(prefix, "weight", shape, kaiming_uniform_sqrt5())];
    if bias {
        params.push(param(
            prefix,
            "bias",
            vec![out_channels],
            bias_init(product("fan_in", dim1, receptive)?),
        ));
    }
    Ok(params)
}

/// `nn.Embedding(num, dim, padding_idx)`: N(0, 1), the padding row zeroed.
pub fn embedding(
    prefix: &str,
    num_embeddings: u64,
    dim: u64,
    padding_idx: Option<u64>,
) -> Result<Vec<Param>> {
    if let Some(row) = padding_idx.filter(|&row| row >= num_embeddings) {
        return Err(Error::invalid(
            "padding_idx",
            row,
            format!("must be < num_embeddings = {num_embeddings}"),
        ));
    }
    let mut weight = param(
        prefix,
        "weight",
        vec![num_embeddings, dim],
        Init::Normal {
            mean: 0.0,
            std: 1.0,
        },
    );
    if let ParamInit::Scheme { zero_row, .. } = &mut weight.init {
        *zero_row = padding_idx;
    }
    Ok(vec![weight])
}

/// The recurrent cell kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recurrent {
    /// `nn.RNN`: one gate.
    Rnn,
    /// `nn.LSTM`: four gates.
    Lstm,
    /// `nn.GRU`: three gates.
    Gru,
}

/// `nn.RNN`/`nn.LSTM`/`nn.GRU`: every parameter U(±1/√hidden).
pub fn recurrent(
    prefix: &str,
    kind: Recurrent,
    input: u64,
    hidden: u64,
    num_layers: u64,
    bias: bool,
    bidirectional: bool,
) -> Result<Vec<Param>> {
    positive("hidden_size", hidden)?;
    positive("num_layers", num_layers)?;
    let gates = match kind {
        Recurrent::Rnn => 1,
        Recurrent::Lstm => 4,
        Recurrent::Gru => 3,
    };
    let bound = 1.0 / (hidden as f64).sqrt();
    let init = Init::Uniform {
        a: -bound,
        b: bound,
    };
    let directions: &[&str] = if bidirectional {
        &["", "_reverse"]
    } else {
        &[""]
    };
    let mut params = Vec::new();
    if num_layers > MAX_RECURRENT_LAYERS {
        return Err(Error::invalid(
            "num_layers",
            num_layers,
            format!("at most {MAX_RECURRENT_LAYERS}"),
        ));
    }
    let rows = product("hidden_size", gates, hidden)?;
    let stacked_input = product("hidden_size", hidden, directions.len() as u64)?;
    for layer in 0..num_layers {
        let layer_input = if layer == 0 { input } else { stacked_input };
        for suffix in directions {
            params.push(param(
                prefix,
                &format!("weight_ih_l{layer}{suffix}"),
                vec![rows, layer_input],
                init.clone(),
            ));
            params.push(param(
                prefix,
                &format!("weight_hh_l{layer}{suffix}"),
                vec![rows, hidden],
                init.clone(),
            ));
            if bias {
                params.push(param(
                    prefix,
                    &format!("bias_ih_l{layer}{suffix}"),
                    vec![rows],
                    init.clone(),
                ));
                params.push(param(
                    prefix,
                    &format!("bias_hh_l{layer}{suffix}"),
                    vec![rows],
                    init.clone(),
                ));
            }
        }
    }
    Ok(params)
}

/// `nn.LayerNorm(shape)` / `nn.GroupNorm(groups, channels)` affine parameters: weight 1, bias 0.
pub fn norm_affine(prefix: &str, shape: Vec<u64>) -> Vec<Param> {
    vec![
        param(prefix, "weight", shape.clone(), Init::Ones),
        param(prefix, "bias", shape, Init::Zeros),
    ]
}

/// `nn.BatchNorm{1,2,3}d(features)`: weight 1, bias 0, running_mean 0, running_var 1,
/// num_batches_tracked 0 (int64, shape `[]`).
pub fn batch_norm(prefix: &str, features: u64) -> Vec<Param> {
    let mut params = norm_affine(prefix, vec![features]);
    params.push(param(prefix, "running_mean", vec![features], Init::Zeros));
    params.push(param(prefix, "running_var", vec![features], Init::Ones));
    let name = if prefix.is_empty() {
        "num_batches_tracked".to_string()
    } else {
        format!("{prefix}.num_batches_tracked")
    };
    params.push(Param {
        name,
        shape: vec![],
        init: ParamInit::ZeroI64,
    });
    params
}

/// `nn.MultiheadAttention(embed_dim, num_heads, bias)` with equal q/k/v dims: `in_proj_weight`
/// xavier_uniform, `in_proj_bias` 0, `out_proj.weight` Linear's default, `out_proj.bias` 0.
pub fn multihead_attention(
    prefix: &str,
    embed_dim: u64,
    num_heads: u64,
    bias: bool,
) -> Result<Vec<Param>> {
    positive("num_heads", num_heads)?;
    let in_proj_rows = product("embed_dim", 3, embed_dim)?;
    if !embed_dim.is_multiple_of(num_heads) {
        return Err(Error::invalid(
            "num_heads",
            num_heads,
            format!("must divide embed_dim = {embed_dim}"),
        ));
    }
    let mut params = vec![param(
        prefix,
        "in_proj_weight",
        vec![in_proj_rows, embed_dim],
        Init::XavierUniform { gain: 1.0 },
    )];
    if bias {
        params.push(param(
            prefix,
            "in_proj_bias",
            vec![in_proj_rows],
            Init::Zeros,
        ));
    }
    let out_prefix = if prefix.is_empty() {
        "out_proj".to_string()
    } else {
        format!("{prefix}.out_proj")
    };
    params.push(param(
        &out_prefix,
        "weight",
        vec![embed_dim, embed_dim],
        kaiming_uniform_sqrt5(),
    ));
    if bias {
        params.push(param(&out_prefix, "bias", vec![embed_dim], Init::Zeros));
    }
    Ok(params)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::sampler::Sampler;
    use crate::scheme::{Draw, FanRule};

    fn bound(param: &Param) -> f32 {
        let ParamInit::Scheme { init, .. } = &param.init else {
            panic!("not a scheme")
        };
        match init.plan(&param.shape, &FanRule::torch()).unwrap().draw {
            Draw::Sample(Sampler::Uniform { high, .. }) => high,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn linear_and_conv_bounds_are_one_over_sqrt_fan_in() {
        // nn.Linear(784, 256): weight and bias bound 1/√784 = 1/28.
        let params = linear("fc1", 784, 256, true);
        assert_eq!(params[0].name, "fc1.weight");
        assert_eq!(params[0].shape, [256, 784]);
        assert!((bound(&params[0]) - 1.0 / 28.0).abs() < 1e-7);
        assert!((bound(&params[1]) - 1.0 / 28.0).abs() < 1e-7);
        // nn.Conv2d(16, 32, 3, groups=2): fan_in 8·9 = 72.
        let params = conv("c", 16, 32, &[3, 3], 2, true, false).unwrap();
        assert_eq!(params[0].shape, [32, 8, 3, 3]);
        assert!((bound(&params[0]) - 1.0 / 72f32.sqrt()).abs() < 1e-7);
        assert!((bound(&params[1]) - 1.0 / 72f32.sqrt()).abs() < 1e-7);
        // nn.ConvTranspose2d(16, 32, 3): weight (16, 32, 3, 3), fan_in = 32·9 = 288 (the quirk).
        let params = conv("t", 16, 32, &[3, 3], 1, true, true).unwrap();
        assert_eq!(params[0].shape, [16, 32, 3, 3]);
        assert!((bound(&params[0]) - 1.0 / 288f32.sqrt()).abs() < 1e-7);
        assert!((bound(&params[1]) - 1.0 / 288f32.sqrt()).abs() < 1e-7);
    }

    #[test]
    fn recurrent_state_dict_keys_and_bounds() {
        let params = recurrent("lstm", Recurrent::Lstm, 10, 20, 2, true, true).unwrap();
        assert_eq!(params.len(), 16);
        assert_eq!(params[0].name, "lstm.weight_ih_l0");
        assert_eq!(params[0].shape, [80, 10]);
        assert_eq!(params[4].name, "lstm.weight_ih_l0_reverse");
        assert_eq!(params[8].shape, [80, 40]); // layer 1 input = 2 directions × hidden
        assert!(
            params
                .iter()
                .all(|p| (bound(p) - 1.0 / 20f32.sqrt()).abs() < 1e-7)
        );
    }

    #[test]
    fn norms_embedding_attention() {
        let bn = batch_norm("bn1", 64);
        let names: Vec<&str> = bn.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "bn1.weight",
                "bn1.bias",
                "bn1.running_mean",
                "bn1.running_var",
                "bn1.num_batches_tracked"
            ]
        );
        assert_eq!(bn[4].init, ParamInit::ZeroI64);
        let emb = embedding("wte", 100, 8, Some(0)).unwrap();
        assert!(matches!(
            emb[0].init,
            ParamInit::Scheme {
                zero_row: Some(0),
                ..
            }
        ));
        assert!(embedding("wte", 100, 8, Some(100)).is_err());
        let mha = multihead_attention("attn", 64, 8, true).unwrap();
        let names: Vec<&str> = mha.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "attn.in_proj_weight",
                "attn.in_proj_bias",
                "attn.out_proj.weight",
                "attn.out_proj.bias"
            ]
        );
        assert!(multihead_attention("attn", 64, 7, true).is_err());
        assert_eq!(bilinear("b", 5, 6, 7, true)[0].shape, [7, 5, 6]);
    }
}
