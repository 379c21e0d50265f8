//! Lowering a scheme to what the backends draw: fans and gains in f64, then one primitive
//! [`Draw`] with concrete f32 parameters. No GPU code here.

use serde_json::{Value, json};

use super::fans::{FanMode, Fans};
use super::init::{Distribution, FanRule, Init, TRUNCATED_NORMAL_STD};
use super::spec::to_f32;
use crate::error::{Error, Result};
use crate::sample::sampler::Sampler;

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
    /// Resolves the scheme for a tensor of `shape` whose fans follow `rule`, validating every
    /// parameter before any work is done. A tensor with no elements resolves to [`Draw::Empty`],
    /// as PyTorch's init functions are no-ops on them; its parameters are still checked, against
    /// the shape with every 0 replaced by 1.
    pub fn plan(&self, shape: &[u64], rule: &FanRule) -> Result<Plan> {
        if shape.contains(&0) {
            let stand_in: Vec<u64> = shape.iter().map(|&d| d.max(1)).collect();
            // An error about the shape shows the caller's, not the stand-in.
            self.plan(&stand_in, rule).map_err(|error| match error {
                Error::InvalidParameter { name, allowed, .. } if name == "shape" => {
                    Error::invalid(name, format!("{shape:?}"), allowed)
                }
                other => other,
            })?;
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
