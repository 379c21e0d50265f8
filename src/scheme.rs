//! The schemes users ask for — PyTorch's `torch.nn.init`, JAX's `jax.nn.initializers` and Keras 3's
//! initializers — as plain arithmetic on fans and gains that lowers each one to a primitive
//! [`Draw`] with concrete parameters. No GPU code here.

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::fans::{FanMode, Fans, Layout, Nonlinearity, compute_fans};
use crate::sampler::Sampler;
use crate::spec::{BoundArgs, SpecCall, to_f32};

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

/// A structured or random primitive the backends draw, with concrete parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Draw {
    /// Nothing: the tensor has no elements.
    Empty,
    /// One of the samplers the fill kernels implement.
    Sample(Sampler),
    /// Identity matrix.
    Eye,
    /// Dirac convolution kernels.
    Dirac {
        /// Groups.
        groups: u64,
    },
    /// Orthogonal matrix scaled by `gain`.
    Orthogonal {
        /// Scale.
        gain: f32,
    },
    /// Column-sparse normal matrix.
    Sparse {
        /// Fraction of each column zeroed.
        sparsity: f64,
        /// Standard deviation of the rest.
        std: f32,
    },
}

/// What a scheme resolves to for one tensor: the fans and gain it used, and what to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The fans, for fan-based schemes.
    pub fans: Option<Fans>,
    /// The gain, for schemes that have one.
    pub gain: Option<f64>,
    /// The primitive to draw.
    pub draw: Draw,
}

fn uniform(bound: f64) -> Result<Draw> {
    Ok(Draw::Sample(Sampler::Uniform {
        low: to_f32("low", -bound)?,
        high: to_f32("high", bound)?,
    }))
}

fn normal(mean: f64, std: f64) -> Result<Draw> {
    Ok(Draw::Sample(Sampler::Normal {
        mean: to_f32("mean", mean)?,
        std: to_f32("std", std)?,
    }))
}

fn trunc_normal(mean: f64, std: f64, low: f64, high: f64) -> Result<Draw> {
    Ok(Draw::Sample(Sampler::TruncNormal {
        mean: to_f32("mean", mean)?,
        std: to_f32("std", std)?,
        low: to_f32("a", low)?,
        high: to_f32("b", high)?,
    }))
}

fn finite(name: &str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Error::invalid(name, value, "must be a finite number"))
    }
}

impl Init {
    /// Parses a spec string such as `kaiming_normal(mode=fan_out, nonlinearity=relu)`, with each
    /// framework's defaults for omitted arguments.
    ///
    /// ```
    /// use nninit::scheme::{Draw, FanRule, Init};
    /// use nninit::Sampler;
    ///
    /// // torch.nn.init.kaiming_uniform_ on a Conv2d(64, 128, 3) weight: bound √6/√576.
    /// let init = Init::parse("kaiming_uniform")?;
    /// let plan = init.plan(&[128, 64, 3, 3], &FanRule::torch())?;
    /// let Draw::Sample(Sampler::Uniform { high, .. }) = plan.draw else { unreachable!() };
    /// assert!((high - 6f32.sqrt() / 24.0).abs() < 1e-7);
    /// // The Rust value and the spec string map one to one.
    /// assert_eq!(Init::parse(&init.to_string())?, init);
    /// # Ok::<(), nninit::Error>(())
    /// ```
    pub fn parse(spec: &str) -> Result<Init> {
        let call = SpecCall::parse(spec)?;
        let name = call.name.as_str();
        let mode = |args: &BoundArgs, default: FanMode| -> Result<FanMode> {
            args.word("mode")?.map_or(Ok(default), FanMode::parse)
        };
        let init = match name {
            "uniform" => {
                let args = call.bind(&["a", "b"])?;
                Init::Uniform {
                    a: args.number_or("a", 0.0)?,
                    b: args.number_or("b", 1.0)?,
                }
            }
            "normal" => {
                let args = call.bind(&["mean", "std"])?;
                Init::Normal {
                    mean: args.number_or("mean", 0.0)?,
                    std: args.number_or("std", 1.0)?,
                }
            }
            "trunc_normal" => {
                let args = call.bind(&["mean", "std", "a", "b"])?;
                Init::TruncNormal {
                    mean: args.number_or("mean", 0.0)?,
                    std: args.number_or("std", 1.0)?,
                    a: args.number_or("a", -2.0)?,
                    b: args.number_or("b", 2.0)?,
                }
            }
            "constant" => Init::Constant {
                val: call.bind(&["val"])?.required_number("val")?,
            },
            "zeros" | "ones" | "eye" | "glorot_uniform" | "glorot_normal" | "he_uniform"
            | "he_normal" | "lecun_uniform" | "lecun_normal" => {
                call.bind(&[])?;
                match name {
                    "zeros" => Init::Zeros,
                    "ones" => Init::Ones,
                    "eye" => Init::Eye,
                    _ => Init::variance_scaling_alias(name).expect("alias names listed above"),
                }
            }
            "dirac" => {
                let groups = call.bind(&["groups"])?.number_or("groups", 1.0)?;
                if groups < 1.0 || groups.fract() != 0.0 || groups > u64::MAX as f64 {
                    return Err(Error::invalid("groups", groups, "a positive integer"));
                }
                Init::Dirac {
                    groups: groups as u64,
                }
            }
            "xavier_uniform" | "xavier_normal" | "orthogonal" => {
                let gain = call.bind(&["gain"])?.number_or("gain", 1.0)?;
                match name {
                    "xavier_uniform" => Init::XavierUniform { gain },
                    "xavier_normal" => Init::XavierNormal { gain },
                    _ => Init::Orthogonal { gain },
                }
            }
            "kaiming_uniform" | "kaiming_normal" => {
                let args = call.bind(&["a", "mode", "nonlinearity"])?;
                let a = args.number_or("a", 0.0)?;
                let mode = mode(&args, FanMode::FanIn)?;
                if mode == FanMode::FanAvg {
                    return Err(Error::invalid(
                        "mode",
                        "fan_avg",
                        "kaiming takes fan_in or fan_out",
                    ));
                }
                let nonlinearity = Nonlinearity::parse(
                    args.word("nonlinearity")?.unwrap_or("leaky_relu"),
                    Some(a),
                )?;
                if name == "kaiming_uniform" {
                    Init::KaimingUniform {
                        a,
                        mode,
                        nonlinearity,
                    }
                } else {
                    Init::KaimingNormal {
                        a,
                        mode,
                        nonlinearity,
                    }
                }
            }
            "sparse" => {
                let args = call.bind(&["sparsity", "std"])?;
                Init::Sparse {
                    sparsity: args.required_number("sparsity")?,
                    std: args.number_or("std", 0.01)?,
                }
            }
            "variance_scaling" => {
                let args = call.bind(&["scale", "mode", "distribution"])?;
                Init::VarianceScaling {
                    scale: args.number_or("scale", 1.0)?,
                    mode: mode(&args, FanMode::FanIn)?,
                    distribution: Distribution::parse(
                        args.word("distribution")?.unwrap_or("truncated_normal"),
                    )?,
                }
            }
            "truncated_normal" => {
                let args = call.bind(&["stddev", "lower", "upper"])?;
                Init::TruncatedNormal {
                    stddev: args.number_or("stddev", 1e-2)?,
                    lower: args.number_or("lower", -2.0)?,
                    upper: args.number_or("upper", 2.0)?,
                }
            }
            other => {
                return Err(Error::invalid(
                    "init",
                    other,
                    "a scheme: uniform, normal, trunc_normal, constant, zeros, ones, eye, dirac, \
                     xavier_uniform, xavier_normal, kaiming_uniform, kaiming_normal, orthogonal, sparse, \
                     variance_scaling, glorot_uniform, glorot_normal, he_uniform, he_normal, \
                     lecun_uniform, lecun_normal, truncated_normal",
                ));
            }
        };
        Ok(init)
    }

    /// JAX's named variance-scaling initializers (`jax.nn.initializers.glorot_uniform` etc.);
    /// the `_normal` ones are truncated, as in JAX.
    fn variance_scaling_alias(name: &str) -> Option<Init> {
        let (scale, mode, distribution) = match name {
            "glorot_uniform" => (1.0, FanMode::FanAvg, Distribution::Uniform),
            "glorot_normal" => (1.0, FanMode::FanAvg, Distribution::TruncatedNormal),
            "he_uniform" => (2.0, FanMode::FanIn, Distribution::Uniform),
            "he_normal" => (2.0, FanMode::FanIn, Distribution::TruncatedNormal),
            "lecun_uniform" => (1.0, FanMode::FanIn, Distribution::Uniform),
            "lecun_normal" => (1.0, FanMode::FanIn, Distribution::TruncatedNormal),
            _ => return None,
        };
        Some(Init::VarianceScaling {
            scale,
            mode,
            distribution,
        })
    }

    /// Resolves the scheme for a tensor of `shape` whose fans follow `rule`, validating every
    /// parameter before any work is done. A tensor with no elements resolves to [`Draw::Empty`],
    /// as PyTorch's init functions are no-ops on them; its parameters are still checked, against
    /// the shape with every 0 replaced by 1.
    pub fn plan(&self, shape: &[u64], rule: &FanRule) -> Result<Plan> {
        if shape.contains(&0) {
            let stand_in: Vec<u64> = shape.iter().map(|&d| d.max(1)).collect();
            self.plan(&stand_in, rule)?;
            return Ok(Plan {
                fans: None,
                gain: None,
                draw: Draw::Empty,
            });
        }
        let plan = self.plan_unchecked(shape, rule)?;
        if let Draw::Sample(sampler) = &plan.draw {
            sampler.validate()?;
        }
        Ok(plan)
    }

    fn plan_unchecked(&self, shape: &[u64], rule: &FanRule) -> Result<Plan> {
        let fans = || rule.fans(shape);
        let plain = |draw| {
            Ok(Plan {
                fans: None,
                gain: None,
                draw,
            })
        };
        // Xavier and Kaiming: uniform on ±√3·std or normal(0, std), std from the fans and gain.
        let fan_scaled = |fans, gain, std: f64, uniform_draw: bool| {
            let draw = if uniform_draw {
                uniform(3f64.sqrt() * std)?
            } else {
                normal(0.0, std)?
            };
            Ok(Plan {
                fans: Some(fans),
                gain: Some(gain),
                draw,
            })
        };
        match *self {
            Init::Uniform { a, b } => plain(Draw::Sample(Sampler::Uniform {
                low: to_f32("a", finite("a", a)?)?,
                high: to_f32("b", finite("b", b)?)?,
            })),
            Init::Normal { mean, std } => {
                plain(normal(finite("mean", mean)?, finite("std", std)?)?)
            }
            Init::TruncNormal { mean, std, a, b } => plain(trunc_normal(mean, std, a, b)?),
            Init::Constant { val } => plain(Draw::Sample(Sampler::Constant {
                value: to_f32("val", val)?,
            })),
            Init::Zeros => plain(Draw::Sample(Sampler::Constant { value: 0.0 })),
            Init::Ones => plain(Draw::Sample(Sampler::Constant { value: 1.0 })),
            Init::Eye => {
                if shape.len() != 2 {
                    return Err(Error::invalid(
                        "shape",
                        format!("{shape:?}"),
                        "eye needs exactly 2 dims",
                    ));
                }
                plain(Draw::Eye)
            }
            Init::Dirac { groups } => {
                if !(3..=5).contains(&shape.len()) {
                    return Err(Error::invalid(
                        "shape",
                        format!("{shape:?}"),
                        "dirac needs 3, 4 or 5 dims",
                    ));
                }
                if groups == 0 || !shape[0].is_multiple_of(groups) {
                    return Err(Error::invalid(
                        "groups",
                        groups,
                        format!("must divide the out-channel count {}", shape[0]),
                    ));
                }
                plain(Draw::Dirac { groups })
            }
            Init::XavierUniform { gain } | Init::XavierNormal { gain } => {
                let fans = fans()?;
                let gain = finite("gain", gain)?;
                let std = gain
                    * (2.0 / (FanMode::FanIn.select(fans)? + FanMode::FanOut.select(fans)?)).sqrt();
                fan_scaled(fans, gain, std, matches!(self, Init::XavierUniform { .. }))
            }
            Init::KaimingUniform {
                mode, nonlinearity, ..
            }
            | Init::KaimingNormal {
                mode, nonlinearity, ..
            } => {
                let fans = fans()?;
                let gain = nonlinearity.gain()?;
                let std = gain / mode.select(fans)?.sqrt();
                fan_scaled(fans, gain, std, matches!(self, Init::KaimingUniform { .. }))
            }
            Init::Orthogonal { gain } => {
                if shape.len() < 2 {
                    return Err(Error::invalid(
                        "shape",
                        format!("{shape:?}"),
                        "orthogonal needs at least 2 dims",
                    ));
                }
                let gain = finite("gain", gain)?;
                Ok(Plan {
                    fans: None,
                    gain: Some(gain),
                    draw: Draw::Orthogonal {
                        gain: to_f32("gain", gain)?,
                    },
                })
            }
            Init::Sparse { sparsity, std } => {
                if shape.len() != 2 {
                    return Err(Error::invalid(
                        "shape",
                        format!("{shape:?}"),
                        "sparse needs exactly 2 dims",
                    ));
                }
                if !(0.0..1.0).contains(&sparsity) {
                    return Err(Error::invalid("sparsity", sparsity, "must be in [0, 1)"));
                }
                let std = finite("std", std)?;
                if std <= 0.0 {
                    return Err(Error::invalid("std", std, "must be > 0"));
                }
                plain(Draw::Sparse {
                    sparsity,
                    std: to_f32("std", std)?,
                })
            }
            Init::VarianceScaling {
                scale,
                mode,
                distribution,
            } => {
                let fans = fans()?;
                let scale = finite("scale", scale)?;
                if scale <= 0.0 {
                    return Err(Error::invalid("scale", scale, "must be > 0"));
                }
                let variance = scale / mode.select(fans)?;
                let draw = match distribution {
                    Distribution::TruncatedNormal => {
                        let std = variance.sqrt() / TRUNCATED_NORMAL_STD;
                        trunc_normal(0.0, std, -2.0 * std, 2.0 * std)?
                    }
                    Distribution::Normal => normal(0.0, variance.sqrt())?,
                    Distribution::Uniform => uniform((3.0 * variance).sqrt())?,
                };
                Ok(Plan {
                    fans: Some(fans),
                    gain: None,
                    draw,
                })
            }
            Init::TruncatedNormal {
                stddev,
                lower,
                upper,
            } => {
                let stddev = finite("stddev", stddev)?;
                plain(trunc_normal(
                    0.0,
                    stddev,
                    finite("lower", lower)? * stddev,
                    finite("upper", upper)? * stddev,
                )?)
            }
        }
    }
}

impl Plan {
    /// The one-line JSON `nninit fill --explain` prints: fans, gain, and the primitive with its
    /// parameters (`dist` one of uniform, normal, trunc_normal, constant, eye, dirac, orthogonal,
    /// sparse; trunc_normal bounds in absolute units).
    pub fn explain(&self) -> Value {
        let mut out = serde_json::Map::new();
        if let Some(fans) = self.fans {
            out.insert("fan_in".into(), json!(fans.fan_in));
            out.insert("fan_out".into(), json!(fans.fan_out));
        }
        if let Some(gain) = self.gain {
            out.insert("gain".into(), json!(gain));
        }
        let described = match &self.draw {
            Draw::Sample(Sampler::Uniform { low, high }) => {
                json!({"dist": "uniform", "low": low, "high": high})
            }
            Draw::Sample(Sampler::Normal { mean, std }) => {
                json!({"dist": "normal", "mean": mean, "std": std})
            }
            Draw::Sample(Sampler::TruncNormal {
                mean,
                std,
                low,
                high,
            }) => {
                json!({"dist": "trunc_normal", "mean": mean, "std": std, "low": low, "high": high})
            }
            Draw::Sample(Sampler::Constant { value }) => {
                json!({"dist": "constant", "value": value})
            }
            Draw::Empty => json!({"dist": "empty"}),
            Draw::Eye => json!({"dist": "eye"}),
            Draw::Dirac { groups } => json!({"dist": "dirac", "groups": groups}),
            Draw::Orthogonal { gain } => json!({"dist": "orthogonal", "scale": gain}),
            Draw::Sparse { sparsity, std } => {
                json!({"dist": "sparse", "sparsity": sparsity, "std": std})
            }
        };
        if let Value::Object(fields) = described {
            out.extend(fields);
        }
        Value::Object(out)
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
