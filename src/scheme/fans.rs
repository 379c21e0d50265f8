//! Fans and gains: the pure arithmetic that fan-based schemes (`xavier_*`, `kaiming_*`,
//! `variance_scaling`, layer defaults) need before anything is sampled. No GPU code.
//!
//! Every formula follows a named framework function exactly:
//!
//! - [`Layout::Torch`] follows `torch.nn.init._calculate_fan_in_and_fan_out`: shape
//!   `(out, in, *kernel)`.
//! - [`Layout::Jax`] follows `jax._src.nn.initializers._compute_fans`: shape `(..., in, out)` by
//!   default, with `in_axis`, `out_axis` and `batch_axis`.
//! - [`Layout::Keras`] follows `keras.src.initializers.random_initializers.compute_fans`:
//!   channels-last, with special rules for 0-D and 1-D shapes.
//! - [`Nonlinearity::gain`] follows `torch.nn.init.calculate_gain`.
//!
//! [`compute_fans`] reports a fan of 0 (a zero-size dimension) as it is; the schemes that divide
//! by a fan go through [`FanMode::select`], which rejects 0 with a clear error instead of dividing
//! by it.

use crate::error::{Error, Result};

/// How a weight shape's axes map to inputs, outputs and receptive field. Frameworks disagree, so
/// the same shape has different fans in each; pick the framework whose semantics you want.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Layout {
    /// PyTorch (`torch.nn.init._calculate_fan_in_and_fan_out`): `(out, in, *kernel)`. The default.
    #[default]
    Torch,
    /// JAX (`jax._src.nn.initializers._compute_fans`): fan axes given explicitly; negative axes
    /// count from the end as in Python.
    Jax {
        /// The axis holding the inputs (JAX default −2).
        in_axis: isize,
        /// The axis holding the outputs (JAX default −1).
        out_axis: isize,
        /// Axes excluded from the receptive field (JAX default none).
        batch_axis: Vec<isize>,
    },
    /// Keras 3 (`keras.src.initializers.random_initializers.compute_fans`): channels-last
    /// `(..., in, out)`, with rank 0 → fans 1 and rank 1 → both fans `shape[0]`.
    Keras,
}

impl Layout {
    /// JAX's defaults for `variance_scaling` and friends: `in_axis = -2`, `out_axis = -1`,
    /// `batch_axis = ()` (`jax.nn.initializers.variance_scaling`).
    pub fn jax_default() -> Self {
        Layout::Jax {
            in_axis: -2,
            out_axis: -1,
            batch_axis: Vec::new(),
        }
    }

    /// Parses a layout name as the CLI spells it: `torch`, `jax` (JAX's default axes) or `keras`.
    /// Case-sensitive.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "torch" => Ok(Layout::Torch),
            "jax" => Ok(Layout::jax_default()),
            "keras" => Ok(Layout::Keras),
            _ => Err(Error::invalid("layout", name, "one of torch, jax, keras")),
        }
    }

    /// The layout's name as [`Layout::parse`] accepts it (for messages and `--explain`).
    pub fn name(&self) -> &'static str {
        match self {
            Layout::Torch => "torch",
            Layout::Jax { .. } => "jax",
            Layout::Keras => "keras",
        }
    }
}

/// The effective number of inputs and outputs of a weight, as the variance formulas use them.
/// `f64` because JAX's fans are floats (its receptive field is computed by division).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fans {
    /// Effective number of inputs.
    pub fan_in: f64,
    /// Effective number of outputs.
    pub fan_out: f64,
}

impl Fans {
    /// Replaces either fan by an explicit value (the `fan_in=`/`fan_out=` override of a scheme),
    /// for weights whose shape does not say which axes are inputs. An override must be finite and
    /// > 0.
    pub fn with_overrides(self, fan_in: Option<f64>, fan_out: Option<f64>) -> Result<Fans> {
        let check = |name: &str, value: f64| {
            if value.is_finite() && value > 0.0 {
                Ok(value)
            } else {
                Err(Error::invalid(
                    name,
                    value,
                    "a fan override must be finite and > 0",
                ))
            }
        };
        Ok(Fans {
            fan_in: fan_in.map_or(Ok(self.fan_in), |v| check("fan_in", v))?,
            fan_out: fan_out.map_or(Ok(self.fan_out), |v| check("fan_out", v))?,
        })
    }
}

fn shape_text(shape: &[u64]) -> String {
    format!("{shape:?}")
}

fn overflow(shape: &[u64]) -> Error {
    Error::invalid(
        "shape",
        shape_text(shape),
        "the product of the dims must fit in 64 bits",
    )
}

/// Product of `dims`, or an error naming `shape` on 64-bit overflow.
fn product(dims: impl IntoIterator<Item = u64>, shape: &[u64]) -> Result<u64> {
    dims.into_iter()
        .try_fold(1u64, |acc, d| acc.checked_mul(d))
        .ok_or_else(|| overflow(shape))
}

/// `a·b` as f64, or an error on 64-bit overflow.
fn fan(a: u64, b: u64, shape: &[u64]) -> Result<f64> {
    a.checked_mul(b)
        .map(|v| v as f64)
        .ok_or_else(|| overflow(shape))
}

/// Python-style axis normalization: `-rank..rank` is valid, negative counts from the end;
/// anything else is the `IndexError` JAX would raise.
fn normalize_axis(axis: isize, rank: usize, name: &str) -> Result<usize> {
    let r = rank as isize;
    if (-r..r).contains(&axis) {
        Ok(if axis < 0 { axis + r } else { axis } as usize)
    } else {
        Err(Error::invalid(
            name,
            axis,
            format!(
                "must be an axis of the rank-{rank} shape, in {}..={} \
                 (negative counts from the end)",
                -r,
                r - 1
            ),
        ))
    }
}

/// Fan-in and fan-out of a weight of `shape` under `layout`, exactly as that framework computes
/// them (see [`Layout`] for the source of each). A zero-size dimension gives a fan of 0 here (as
/// the frameworks do); [`FanMode::select`] rejects it where a scheme would divide by it.
///
/// Errors: fewer than 2 dims in the torch and jax layouts (both frameworks raise), an axis out of
/// range or a zero in/out/batch size in the jax layout (JAX raises `IndexError` and
/// `ZeroDivisionError`), and products that overflow 64 bits.
pub fn compute_fans(shape: &[u64], layout: &Layout) -> Result<Fans> {
    match layout {
        // torch.nn.init._calculate_fan_in_and_fan_out:
        //   if dimensions < 2: raise ValueError(...)
        //   num_input_fmaps = tensor.size(1); num_output_fmaps = tensor.size(0)
        //   receptive_field_size = prod(tensor.shape[2:])
        //   fan_in = num_input_fmaps * rf; fan_out = num_output_fmaps * rf
        Layout::Torch => {
            if shape.len() < 2 {
                return Err(Error::invalid(
                    "shape",
                    shape_text(shape),
                    "fan-based schemes need at least 2 dims in the torch layout (out, in, *kernel)",
                ));
            }
            let rf = product(shape[2..].iter().copied(), shape)?;
            Ok(Fans {
                fan_in: fan(shape[1], rf, shape)?,
                fan_out: fan(shape[0], rf, shape)?,
            })
        }
        // jax._src.nn.initializers._compute_fans:
        //   if shape.rank <= 1: raise ValueError("... Must be at least 2D.")
        //   in_size = shape[in_axis]; out_size = shape[out_axis]
        //   batch_size = math.prod([shape[i] for i in batch_axis])
        //   receptive_field_size = shape.total / in_size / out_size / batch_size
        //   fan_in = in_size * rf; fan_out = out_size * rf
        // With distinct axes the receptive field is the product of the other dims; overlapping
        // axes are reproduced as JAX divides (e.g. in_axis == out_axis divides twice).
        Layout::Jax {
            in_axis,
            out_axis,
            batch_axis,
        } => {
            let rank = shape.len();
            if rank < 2 {
                return Err(Error::invalid(
                    "shape",
                    shape_text(shape),
                    "fan-based schemes need at least 2 dims in the jax layout \
                     (jax._src.nn.initializers._compute_fans: \"Must be at least 2D\")",
                ));
            }
            let in_size = shape[normalize_axis(*in_axis, rank, "in_axis")?];
            let out_size = shape[normalize_axis(*out_axis, rank, "out_axis")?];
            let batch_idx = batch_axis
                .iter()
                .map(|&a| normalize_axis(a, rank, "batch_axis"))
                .collect::<Result<Vec<_>>>()?;
            let batch_size = product(batch_idx.iter().map(|&i| shape[i]), shape)?;
            if in_size == 0 || out_size == 0 || batch_size == 0 {
                return Err(Error::invalid(
                    "shape",
                    shape_text(shape),
                    "the jax layout divides the element count by the in, out and batch sizes \
                     (jax._src.nn.initializers._compute_fans), so those dims must be > 0",
                ));
            }
            let total = product(shape.iter().copied(), shape)?;
            // Python's int / int is the correctly rounded quotient: an exact integer quotient
            // converted once matches it; otherwise (overlapping axes) divide in f64, as JAX then
            // does for the later divisions.
            let div = |num: f64, den: u64| num / den as f64;
            let first = if total % in_size == 0 {
                (total / in_size) as f64
            } else {
                total as f64 / in_size as f64
            };
            let rf = div(div(first, out_size), batch_size);
            Ok(Fans {
                fan_in: in_size as f64 * rf,
                fan_out: out_size as f64 * rf,
            })
        }
        // keras.src.initializers.random_initializers.compute_fans:
        //   len < 1: fan_in = fan_out = 1; len == 1: fan_in = fan_out = shape[0]
        //   len == 2: fan_in, fan_out = shape[0], shape[1]
        //   else: rf = prod(shape[:-2]); fan_in = shape[-2] * rf; fan_out = shape[-1] * rf
        Layout::Keras => match shape {
            [] => Ok(Fans {
                fan_in: 1.0,
                fan_out: 1.0,
            }),
            [n] => Ok(Fans {
                fan_in: *n as f64,
                fan_out: *n as f64,
            }),
            [.., i, o] => {
                let rf = product(shape[..shape.len() - 2].iter().copied(), shape)?;
                Ok(Fans {
                    fan_in: fan(*i, rf, shape)?,
                    fan_out: fan(*o, rf, shape)?,
                })
            }
        },
    }
}

/// Which fan a variance formula divides by: PyTorch's `mode` of `kaiming_*`
/// (`torch.nn.init._calculate_correct_fan`) and JAX/Keras `variance_scaling`'s `mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FanMode {
    /// `fan_in`: preserves the forward pass's variance.
    FanIn,
    /// `fan_out`: preserves the backward pass's variance.
    FanOut,
    /// `fan_avg`: `(fan_in + fan_out) / 2` (JAX/Keras `variance_scaling`; Xavier/Glorot).
    FanAvg,
}

impl FanMode {
    /// Parses `fan_in`, `fan_out` or `fan_avg` (case-sensitive, as JAX and Keras spell them).
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "fan_in" => Ok(FanMode::FanIn),
            "fan_out" => Ok(FanMode::FanOut),
            "fan_avg" => Ok(FanMode::FanAvg),
            _ => Err(Error::invalid(
                "mode",
                name,
                "one of fan_in, fan_out, fan_avg",
            )),
        }
    }

    /// The mode's name as [`FanMode::parse`] accepts it.
    pub fn name(self) -> &'static str {
        match self {
            FanMode::FanIn => "fan_in",
            FanMode::FanOut => "fan_out",
            FanMode::FanAvg => "fan_avg",
        }
    }

    /// The fan this mode divides by (`FanAvg` = `(fan_in + fan_out) / 2`, as
    /// `jax.nn.initializers.variance_scaling`). Returns an error rather than a value a scheme
    /// would divide by when it is not finite and > 0 — a zero-size dimension gives a fan of 0,
    /// on which PyTorch and JAX divide by zero.
    pub fn select(self, fans: Fans) -> Result<f64> {
        let value = match self {
            FanMode::FanIn => fans.fan_in,
            FanMode::FanOut => fans.fan_out,
            FanMode::FanAvg => (fans.fan_in + fans.fan_out) / 2.0,
        };
        if value.is_finite() && value > 0.0 {
            Ok(value)
        } else {
            Err(Error::invalid(
                self.name(),
                value,
                "fan-based schemes divide by this fan, so it must be > 0 (the shape has a \
                 zero-size dimension; give a non-empty shape or an explicit fan override)",
            ))
        }
    }
}

/// A nonlinearity whose recommended gain `torch.nn.init.calculate_gain` returns; `kaiming_*` and
/// `xavier_*` scale their bounds by it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Nonlinearity {
    /// `linear`: gain 1.
    Linear,
    /// `conv1d`: gain 1.
    Conv1d,
    /// `conv2d`: gain 1.
    Conv2d,
    /// `conv3d`: gain 1.
    Conv3d,
    /// `conv_transpose1d`: gain 1.
    ConvTranspose1d,
    /// `conv_transpose2d`: gain 1.
    ConvTranspose2d,
    /// `conv_transpose3d`: gain 1.
    ConvTranspose3d,
    /// `sigmoid`: gain 1.
    Sigmoid,
    /// `tanh`: gain 5/3.
    Tanh,
    /// `relu`: gain √2.
    Relu,
    /// `leaky_relu` with its negative slope (PyTorch's default 0.01 when `None`):
    /// gain √(2 / (1 + slope²)).
    LeakyRelu(Option<f64>),
    /// `selu`: gain 3/4 (found empirically, pytorch#50664).
    Selu,
}

/// Every name [`Nonlinearity::parse`] accepts, in PyTorch's order.
pub const NONLINEARITY_NAMES: [&str; 12] = [
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "selu",
];

/// PyTorch's default negative slope for `calculate_gain('leaky_relu')` without a parameter.
pub const DEFAULT_LEAKY_RELU_SLOPE: f64 = 0.01;

fn check_slope(slope: f64) -> Result<f64> {
    if slope.is_finite() {
        Ok(slope)
    } else {
        Err(Error::invalid(
            "negative_slope",
            slope,
            "the leaky_relu slope must be a finite number",
        ))
    }
}

impl Nonlinearity {
    /// Parses PyTorch's lower-case spelling (`relu`, `leaky_relu`, `conv_transpose2d`, …),
    /// case-sensitively. `param` is the leaky-ReLU slope and, as in `calculate_gain`, is ignored
    /// by every other nonlinearity (so `kaiming_*` can always pass its `a`). A non-finite slope is
    /// an error.
    pub fn parse(name: &str, param: Option<f64>) -> Result<Self> {
        Ok(match name {
            "linear" => Nonlinearity::Linear,
            "conv1d" => Nonlinearity::Conv1d,
            "conv2d" => Nonlinearity::Conv2d,
            "conv3d" => Nonlinearity::Conv3d,
            "conv_transpose1d" => Nonlinearity::ConvTranspose1d,
            "conv_transpose2d" => Nonlinearity::ConvTranspose2d,
            "conv_transpose3d" => Nonlinearity::ConvTranspose3d,
            "sigmoid" => Nonlinearity::Sigmoid,
            "tanh" => Nonlinearity::Tanh,
            "relu" => Nonlinearity::Relu,
            "leaky_relu" => Nonlinearity::LeakyRelu(param.map(check_slope).transpose()?),
            "selu" => Nonlinearity::Selu,
            _ => {
                return Err(Error::invalid(
                    "nonlinearity",
                    name,
                    format!("one of {}", NONLINEARITY_NAMES.join(", ")),
                ));
            }
        })
    }

    /// The recommended gain, exactly as `torch.nn.init.calculate_gain`: 1 for linear, conv and
    /// sigmoid; 5/3 for tanh; √2 for relu; √(2 / (1 + s²)) for leaky_relu (s = 0.01 by
    /// default); 3/4 for selu. Errors only for a non-finite leaky-ReLU slope.
    pub fn gain(self) -> Result<f64> {
        Ok(match self {
            Nonlinearity::Linear
            | Nonlinearity::Conv1d
            | Nonlinearity::Conv2d
            | Nonlinearity::Conv3d
            | Nonlinearity::ConvTranspose1d
            | Nonlinearity::ConvTranspose2d
            | Nonlinearity::ConvTranspose3d
            | Nonlinearity::Sigmoid => 1.0,
            Nonlinearity::Tanh => 5.0 / 3.0,
            Nonlinearity::Relu => 2.0f64.sqrt(),
            Nonlinearity::LeakyRelu(slope) => {
                let s = check_slope(slope.unwrap_or(DEFAULT_LEAKY_RELU_SLOPE))?;
                (2.0 / (1.0 + s * s)).sqrt()
            }
            Nonlinearity::Selu => 3.0 / 4.0,
        })
    }

    /// PyTorch's spelling of the nonlinearity, as [`Nonlinearity::parse`] accepts it.
    pub fn name(self) -> &'static str {
        match self {
            Nonlinearity::Linear => "linear",
            Nonlinearity::Conv1d => "conv1d",
            Nonlinearity::Conv2d => "conv2d",
            Nonlinearity::Conv3d => "conv3d",
            Nonlinearity::ConvTranspose1d => "conv_transpose1d",
            Nonlinearity::ConvTranspose2d => "conv_transpose2d",
            Nonlinearity::ConvTranspose3d => "conv_transpose3d",
            Nonlinearity::Sigmoid => "sigmoid",
            Nonlinearity::Tanh => "tanh",
            Nonlinearity::Relu => "relu",
            Nonlinearity::LeakyRelu(_) => "leaky_relu",
            Nonlinearity::Selu => "selu",
        }
    }
}
