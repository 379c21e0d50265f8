//! The schemes users ask for — PyTorch's `torch.nn.init`, JAX's `jax.nn.initializers` and Keras 3's
//! initializers — as values: [`Init`] with the frameworks' own arguments, and [`FanRule`], how a
//! tensor's fans are found. Parsing is in `parse.rs`, lowering to a primitive in `plan.rs`.

use crate::error::{Error, Result};
use crate::scheme::fans::{FanMode, Fans, Layout, Nonlinearity, compute_fans};

/// JAX's correction for a standard normal truncated to [−2, 2]: its standard deviation
/// (`jax.nn.initializers.variance_scaling`, `scipy.stats.truncnorm.std(a=-2, b=2)`).
pub const TRUNCATED_NORMAL_STD: f64 = 0.879_625_661_034_239_8;

/// The distribution of [`Init::VarianceScaling`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distribution {
    /// Normal truncated at ±2σ, σ corrected by [`TRUNCATED_NORMAL_STD`].
    TruncatedNormal,
    /// Plain normal.
    Normal,
    /// Uniform with the same variance.
    Uniform,
}

impl Distribution {
    /// Parses JAX's and Keras's names (`untruncated_normal` is Keras's name for `normal`).
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "truncated_normal" => Ok(Self::TruncatedNormal),
            "normal" | "untruncated_normal" => Ok(Self::Normal),
            "uniform" => Ok(Self::Uniform),
            other => Err(Error::invalid(
                "distribution",
                other,
                "one of truncated_normal, normal, untruncated_normal, uniform",
            )),
        }
    }
}

/// An initialization scheme with its parameters, named as its framework names it. Field names
/// are the frameworks' argument names, and each variant's spec string is its snake-case name with
/// those arguments (`kaiming_normal(a=0, mode=fan_in, nonlinearity=leaky_relu)`).
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)] // fields are the frameworks' own arguments, described on each variant
pub enum Init {
    /// PyTorch `uniform_(a=0, b=1)`: U(a, b).
    Uniform { a: f64, b: f64 },
    /// PyTorch `normal_(mean=0, std=1)`.
    Normal { mean: f64, std: f64 },
    /// PyTorch `trunc_normal_(mean=0, std=1, a=-2, b=2)`: bounds `a`, `b` in absolute units.
    TruncNormal { mean: f64, std: f64, a: f64, b: f64 },
    /// PyTorch `constant_(val)`.
    Constant { val: f64 },
    /// PyTorch `zeros_`.
    Zeros,
    /// PyTorch `ones_`.
    Ones,
    /// PyTorch `eye_`: 2-D identity (ones on the main diagonal of a possibly rectangular matrix).
    Eye,
    /// PyTorch `dirac_(groups=1)`: 3-, 4- or 5-D identity-preserving convolution kernels.
    Dirac { groups: u64 },
    /// PyTorch `xavier_uniform_(gain=1)`: U(±gain·√(6/(fan_in + fan_out))).
    XavierUniform { gain: f64 },
    /// PyTorch `xavier_normal_(gain=1)`: N(0, gain·√(2/(fan_in + fan_out))).
    XavierNormal { gain: f64 },
    /// PyTorch `kaiming_uniform_(a=0, mode=fan_in, nonlinearity=leaky_relu)`: U(±gain·√(3/fan)),
    /// gain = `calculate_gain(nonlinearity, a)`.
    KaimingUniform {
        a: f64,
        mode: FanMode,
        nonlinearity: Nonlinearity,
    },
    /// PyTorch `kaiming_normal_(a=0, mode=fan_in, nonlinearity=leaky_relu)`: N(0, gain/√fan).
    KaimingNormal {
        a: f64,
        mode: FanMode,
        nonlinearity: Nonlinearity,
    },
    /// PyTorch `orthogonal_(gain=1)`.
    Orthogonal { gain: f64 },
    /// PyTorch `sparse_(sparsity, std=0.01)` (2-D).
    Sparse { sparsity: f64, std: f64 },
    /// JAX/Keras `variance_scaling(scale=1, mode=fan_in, distribution=truncated_normal)`.
    VarianceScaling {
        scale: f64,
        mode: FanMode,
        distribution: Distribution,
    },
    /// JAX `truncated_normal(stddev=0.01, lower=-2, upper=2)`: bounds in units of `stddev`.
    TruncatedNormal { stddev: f64, lower: f64, upper: f64 },
}

/// How a tensor's fans are found: from its shape in a layout, each optionally overridden
/// (`--fan-in`/`--fan-out`). With both overrides the shape need not have 2 dims.
#[derive(Debug, Clone, PartialEq)]
pub struct FanRule {
    /// The axis convention of the shape.
    pub layout: Layout,
    /// Explicit fan_in.
    pub fan_in: Option<f64>,
    /// Explicit fan_out.
    pub fan_out: Option<f64>,
}

impl Default for FanRule {
    fn default() -> Self {
        Self {
            layout: Layout::Torch,
            fan_in: None,
            fan_out: None,
        }
    }
}

impl FanRule {
    /// PyTorch's `(out, in, *kernel)` convention, no overrides.
    pub fn torch() -> Self {
        Self::default()
    }

    /// The fans of `shape` under this rule.
    pub fn fans(&self, shape: &[u64]) -> Result<Fans> {
        let computed = match (self.fan_in, self.fan_out) {
            (Some(_), Some(_)) => Fans {
                fan_in: 1.0,
                fan_out: 1.0,
            },
            _ => compute_fans(shape, &self.layout)?,
        };
        computed.with_overrides(self.fan_in, self.fan_out)
    }
}

impl Distribution {
    /// The name [`Distribution::parse`] accepts.
    pub fn name(self) -> &'static str {
        match self {
            Distribution::TruncatedNormal => "truncated_normal",
            Distribution::Normal => "normal",
            Distribution::Uniform => "uniform",
        }
    }
}

/// The spec string of a scheme with every argument explicit; [`Init::parse`] reads it back to the
/// same value (f64 arguments print in their shortest round-trip form).
impl std::fmt::Display for Init {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Init::Uniform { a, b } => write!(f, "uniform(a={a},b={b})"),
            Init::Normal { mean, std } => write!(f, "normal(mean={mean},std={std})"),
            Init::TruncNormal { mean, std, a, b } => {
                write!(f, "trunc_normal(mean={mean},std={std},a={a},b={b})")
            }
            Init::Constant { val } => write!(f, "constant(val={val})"),
            Init::Zeros => f.write_str("zeros"),
            Init::Ones => f.write_str("ones"),
            Init::Eye => f.write_str("eye"),
            Init::Dirac { groups } => write!(f, "dirac(groups={groups})"),
            Init::XavierUniform { gain } => write!(f, "xavier_uniform(gain={gain})"),
            Init::XavierNormal { gain } => write!(f, "xavier_normal(gain={gain})"),
            Init::KaimingUniform {
                a,
                mode,
                nonlinearity,
            }
            | Init::KaimingNormal {
                a,
                mode,
                nonlinearity,
            } => {
                let name = if matches!(self, Init::KaimingUniform { .. }) {
                    "kaiming_uniform"
                } else {
                    "kaiming_normal"
                };
                write!(
                    f,
                    "{name}(a={a},mode={},nonlinearity={})",
                    mode.name(),
                    nonlinearity.name()
                )
            }
            Init::Orthogonal { gain } => write!(f, "orthogonal(gain={gain})"),
            Init::Sparse { sparsity, std } => write!(f, "sparse(sparsity={sparsity},std={std})"),
            Init::VarianceScaling {
                scale,
                mode,
                distribution,
            } => {
                write!(
                    f,
                    "variance_scaling(scale={scale},mode={},distribution={})",
                    mode.name(),
                    distribution.name()
                )
            }
            Init::TruncatedNormal {
                stddev,
                lower,
                upper,
            } => {
                write!(
                    f,
                    "truncated_normal(stddev={stddev},lower={lower},upper={upper})"
                )
            }
        }
    }
}
