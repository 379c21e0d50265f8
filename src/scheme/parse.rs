//! Spec strings to schemes: `kaiming_normal(mode=fan_out, nonlinearity=relu)` → [`Init`], with
//! each framework's defaults for omitted arguments.

use super::fans::{FanMode, Nonlinearity};
use super::init::{Distribution, Init};
use super::spec::{BoundArgs, SpecCall};
use crate::error::{Error, Result};

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
}
