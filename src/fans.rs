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

#[cfg(test)]
mod tests {
    use super::*;

    fn fans(shape: &[u64], layout: &Layout) -> (f64, f64) {
        let f = compute_fans(shape, layout).unwrap();
        (f.fan_in, f.fan_out)
    }

    fn jax(in_axis: isize, out_axis: isize, batch_axis: &[isize]) -> Layout {
        Layout::Jax {
            in_axis,
            out_axis,
            batch_axis: batch_axis.to_vec(),
        }
    }

    fn invalid_name(err: Error) -> String {
        match err {
            Error::InvalidParameter { name, .. } => name,
            other => panic!("expected InvalidParameter, got {other:?}"),
        }
    }

    // torch.nn.init._calculate_fan_in_and_fan_out: (out, in, *kernel),
    // fan_in = in·∏kernel, fan_out = out·∏kernel.
    #[test]
    fn torch_fans() {
        let t = Layout::Torch;
        // nn.Linear(784, 256).weight is (256, 784): fan_in 784, fan_out 256.
        assert_eq!(fans(&[256, 784], &t), (784.0, 256.0));
        // nn.Conv2d(3, 64, 7).weight is (64, 3, 7, 7): rf 49, fan_in 3·49, fan_out 64·49.
        assert_eq!(fans(&[64, 3, 7, 7], &t), (147.0, 3136.0));
        // nn.Conv1d(16, 32, 5).weight is (32, 16, 5): fan_in 80, fan_out 160.
        assert_eq!(fans(&[32, 16, 5], &t), (80.0, 160.0));
        // nn.Conv3d(4, 8, (3, 3, 3)).weight is (8, 4, 3, 3, 3): rf 27 → 108, 216.
        assert_eq!(fans(&[8, 4, 3, 3, 3], &t), (108.0, 216.0));
        // nn.ConvTranspose2d(16, 32, 3).weight is (16, 32, 3, 3): torch's quirk, fan_in = 32·9.
        assert_eq!(fans(&[16, 32, 3, 3], &t), (288.0, 144.0));
        // A zero dim is reported as is (select rejects it).
        assert_eq!(fans(&[0, 5], &t), (5.0, 0.0));
        // Torch is the default layout.
        assert_eq!(Layout::default(), Layout::Torch);
    }

    #[test]
    fn torch_errors() {
        // "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions".
        for shape in [&[][..], &[5][..]] {
            let err = compute_fans(shape, &Layout::Torch).unwrap_err();
            assert!(
                err.to_string()
                    .contains("at least 2 dims in the torch layout")
            );
            assert_eq!(invalid_name(err), "shape");
        }
        let err = compute_fans(&[1 << 40, 1 << 40, 1 << 30], &Layout::Torch).unwrap_err();
        assert!(err.to_string().contains("64 bits"), "{err}");
    }

    // jax._src.nn.initializers._compute_fans: rf = total / in / out / batch,
    // fan_in = shape[in_axis]·rf, fan_out = shape[out_axis]·rf.
    #[test]
    fn jax_fans() {
        let d = Layout::jax_default();
        assert_eq!(d, jax(-2, -1, &[]));
        // flax Dense kernel (784, 256): fan_in 784, fan_out 256.
        assert_eq!(fans(&[784, 256], &d), (784.0, 256.0));
        // flax Conv kernel (3, 3, 64, 128): rf 9 → fan_in 576, fan_out 1152.
        assert_eq!(fans(&[3, 3, 64, 128], &d), (576.0, 1152.0));
        // 1-D conv kernel (5, 16, 32): rf 5 → 80, 160.
        assert_eq!(fans(&[5, 16, 32], &d), (80.0, 160.0));
        // Batched kernels (10, 3, 3, 64, 128) with batch_axis=(0,): rf 9 → 576, 1152.
        assert_eq!(
            fans(&[10, 3, 3, 64, 128], &jax(-2, -1, &[0])),
            (576.0, 1152.0)
        );
        // Same with positive axes and a negative batch axis (-5 ≡ 0).
        assert_eq!(
            fans(&[10, 3, 3, 64, 128], &jax(3, 4, &[-5])),
            (576.0, 1152.0)
        );
        // Without batch_axis, the batch is receptive field: rf 90 → 5760, 11520.
        assert_eq!(fans(&[10, 3, 3, 64, 128], &d), (5760.0, 11520.0));
        // Torch-like axes on a torch shape (64, 3, 7, 7): in_axis=1, out_axis=0 → 147, 3136.
        assert_eq!(fans(&[64, 3, 7, 7], &jax(1, 0, &[])), (147.0, 3136.0));
        // Embedding-style out_axis=0 on (1000, 64): in is axis -2 = 0 too, so JAX divides by
        // 1000 twice: rf = 64000/1000/1000 = 0.064, fan_in = fan_out = 64.
        let (fi, fo) = fans(&[1000, 64], &jax(-2, 0, &[]));
        assert_eq!(fi, 1000.0 * (64000.0 / 1000.0 / 1000.0));
        assert_eq!(fo, fi);
        assert!((fi - 64.0).abs() < 1e-12);
        // A zero-size receptive field gives fans of 0 (JAX's rf = 0 / ... = 0).
        assert_eq!(fans(&[0, 3, 4], &d), (0.0, 0.0));
    }

    #[test]
    fn jax_errors() {
        let d = Layout::jax_default();
        // "Can't compute input and output sizes of a 1-dimensional weights tensor.
        // Must be at least 2D."
        for shape in [&[][..], &[7][..]] {
            let err = compute_fans(shape, &d).unwrap_err();
            assert!(
                err.to_string()
                    .contains("at least 2 dims in the jax layout")
            );
        }
        // Out-of-range axes: Python's IndexError.
        assert_eq!(
            invalid_name(compute_fans(&[3, 4], &jax(-3, -1, &[])).unwrap_err()),
            "in_axis"
        );
        assert_eq!(
            invalid_name(compute_fans(&[3, 4], &jax(-2, 2, &[])).unwrap_err()),
            "out_axis"
        );
        assert_eq!(
            invalid_name(compute_fans(&[3, 4, 5], &jax(-2, -1, &[3])).unwrap_err()),
            "batch_axis"
        );
        // A zero in/out/batch size: JAX's ZeroDivisionError.
        for (shape, layout) in [
            (&[3, 0, 4][..], d.clone()),
            (&[3, 4, 0][..], d.clone()),
            (&[0, 4, 5][..], jax(-2, -1, &[0])),
        ] {
            let err = compute_fans(shape, &layout).unwrap_err();
            assert!(err.to_string().contains("must be > 0"), "{err}");
        }
        // The element count must fit in 64 bits.
        let err = compute_fans(&[1 << 32, 1 << 32, 2], &d).unwrap_err();
        assert!(err.to_string().contains("64 bits"), "{err}");
    }

    // keras.src.initializers.random_initializers.compute_fans.
    #[test]
    fn keras_fans() {
        let k = Layout::Keras;
        // rank 0: fan_in = fan_out = 1 ("just to avoid errors for constants").
        assert_eq!(fans(&[], &k), (1.0, 1.0));
        // rank 1: fan_in = fan_out = shape[0].
        assert_eq!(fans(&[10], &k), (10.0, 10.0));
        // rank 2: Dense kernel (784, 256): (shape[0], shape[1]).
        assert_eq!(fans(&[784, 256], &k), (784.0, 256.0));
        // rank 4: Conv2D kernel (3, 3, 64, 128): rf 9 → 576, 1152.
        assert_eq!(fans(&[3, 3, 64, 128], &k), (576.0, 1152.0));
        // rank 3: Conv1D kernel (5, 16, 32): rf 5 → 80, 160.
        assert_eq!(fans(&[5, 16, 32], &k), (80.0, 160.0));
        // rank 5: Conv3D kernel (3, 3, 3, 4, 8): rf 27 → 108, 216.
        assert_eq!(fans(&[3, 3, 3, 4, 8], &k), (108.0, 216.0));
        // Zero dims are reported as is.
        assert_eq!(fans(&[0], &k), (0.0, 0.0));
        let err = compute_fans(&[1 << 32, 1 << 32, 2, 2], &k).unwrap_err();
        assert!(err.to_string().contains("64 bits"), "{err}");
    }

    #[test]
    fn layout_parse() {
        assert_eq!(Layout::parse("torch").unwrap(), Layout::Torch);
        assert_eq!(Layout::parse("jax").unwrap(), Layout::jax_default());
        assert_eq!(Layout::parse("keras").unwrap(), Layout::Keras);
        for l in [Layout::Torch, Layout::jax_default(), Layout::Keras] {
            assert_eq!(Layout::parse(l.name()).unwrap(), l);
        }
        for bad in ["Torch", "tf", ""] {
            let err = Layout::parse(bad).unwrap_err();
            assert_eq!(invalid_name(err), "layout");
        }
    }

    #[test]
    fn fan_overrides() {
        let f = Fans {
            fan_in: 3.0,
            fan_out: 4.0,
        };
        assert_eq!(f.with_overrides(None, None).unwrap(), f);
        let g = f.with_overrides(Some(10.0), None).unwrap();
        assert_eq!((g.fan_in, g.fan_out), (10.0, 4.0));
        let g = f.with_overrides(None, Some(7.0)).unwrap();
        assert_eq!((g.fan_in, g.fan_out), (3.0, 7.0));
        assert_eq!(
            invalid_name(f.with_overrides(Some(0.0), None).unwrap_err()),
            "fan_in"
        );
        assert_eq!(
            invalid_name(f.with_overrides(None, Some(f64::NAN)).unwrap_err()),
            "fan_out"
        );
        assert!(f.with_overrides(Some(-1.0), None).is_err());
        assert!(f.with_overrides(Some(f64::INFINITY), None).is_err());
    }

    #[test]
    fn fan_mode() {
        // torch.nn.init._calculate_correct_fan / jax variance_scaling's denominator.
        let f = compute_fans(&[64, 3, 7, 7], &Layout::Torch).unwrap();
        assert_eq!(FanMode::FanIn.select(f).unwrap(), 147.0);
        assert_eq!(FanMode::FanOut.select(f).unwrap(), 3136.0);
        assert_eq!(FanMode::FanAvg.select(f).unwrap(), (147.0 + 3136.0) / 2.0);
        for m in [FanMode::FanIn, FanMode::FanOut, FanMode::FanAvg] {
            assert_eq!(FanMode::parse(m.name()).unwrap(), m);
        }
        for bad in ["FAN_IN", "fan-in", "avg", ""] {
            assert_eq!(invalid_name(FanMode::parse(bad).unwrap_err()), "mode");
        }
        // Zero fans are refused, naming the fan.
        let z = compute_fans(&[0, 5], &Layout::Torch).unwrap();
        assert_eq!(FanMode::FanIn.select(z).unwrap(), 5.0);
        let err = FanMode::FanOut.select(z).unwrap_err();
        assert!(err.to_string().contains("must be > 0"), "{err}");
        assert_eq!(invalid_name(err), "fan_out");
        assert_eq!(FanMode::FanAvg.select(z).unwrap(), 2.5);
        let zz = Fans {
            fan_in: 0.0,
            fan_out: 0.0,
        };
        for m in [FanMode::FanIn, FanMode::FanOut, FanMode::FanAvg] {
            assert_eq!(invalid_name(m.select(zz).unwrap_err()), m.name());
        }
        let nan = Fans {
            fan_in: f64::NAN,
            fan_out: 1.0,
        };
        assert!(FanMode::FanIn.select(nan).is_err());
    }

    // torch.nn.init.calculate_gain.
    #[test]
    fn gains() {
        let cases: [(&str, Option<f64>, f64); 14] = [
            ("linear", None, 1.0),
            ("conv1d", None, 1.0),
            ("conv2d", None, 1.0),
            ("conv3d", None, 1.0),
            ("conv_transpose1d", None, 1.0),
            ("conv_transpose2d", None, 1.0),
            ("conv_transpose3d", None, 1.0),
            ("sigmoid", None, 1.0),
            ("tanh", None, 5.0 / 3.0),
            ("relu", None, std::f64::consts::SQRT_2),
            // slope 0.01: sqrt(2 / 1.0001)
            ("leaky_relu", None, (2.0f64 / 1.0001).sqrt()),
            // kaiming's default a = 0 → √2
            ("leaky_relu", Some(0.0), std::f64::consts::SQRT_2),
            // slope 0.2: sqrt(2 / 1.04)
            ("leaky_relu", Some(0.2), (2.0f64 / 1.04).sqrt()),
            ("selu", None, 0.75),
        ];
        for (name, param, want) in cases {
            let n = Nonlinearity::parse(name, param).unwrap();
            assert_eq!(n.name(), name);
            assert_eq!(n.gain().unwrap(), want, "{name} {param:?}");
        }
        assert_eq!(Nonlinearity::Tanh.gain().unwrap(), 1.6666666666666667);
        assert!((Nonlinearity::LeakyRelu(None).gain().unwrap() - 1.4141428569978354).abs() < 1e-15);
        // A negative slope is allowed, as in PyTorch (its square is used).
        assert_eq!(
            Nonlinearity::LeakyRelu(Some(-0.2)).gain().unwrap(),
            (2.0f64 / 1.04).sqrt()
        );
        // The parameter is ignored by every other nonlinearity, as in calculate_gain.
        assert_eq!(
            Nonlinearity::parse("relu", Some(0.5)).unwrap(),
            Nonlinearity::Relu
        );
        assert_eq!(
            Nonlinearity::parse("tanh", Some(f64::NAN)).unwrap(),
            Nonlinearity::Tanh
        );
        // Every listed name parses and round-trips.
        for name in NONLINEARITY_NAMES {
            assert_eq!(Nonlinearity::parse(name, None).unwrap().name(), name);
        }
    }

    #[test]
    fn gain_errors() {
        // Unknown or wrongly cased names: "Unsupported nonlinearity", listing the allowed ones.
        for bad in ["ReLU", "gelu", "leaky-relu", "convtranspose2d", ""] {
            let err = Nonlinearity::parse(bad, None).unwrap_err();
            assert!(err.to_string().contains("conv_transpose2d"), "{err}");
            assert_eq!(invalid_name(err), "nonlinearity");
        }
        // Non-finite slopes, at parse and at gain.
        for s in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let err = Nonlinearity::parse("leaky_relu", Some(s)).unwrap_err();
            assert_eq!(invalid_name(err), "negative_slope");
            let err = Nonlinearity::LeakyRelu(Some(s)).gain().unwrap_err();
            assert_eq!(invalid_name(err), "negative_slope");
        }
    }
}
