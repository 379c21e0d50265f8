//! The fully specified distributions a sample is tested against (uniform, normal, truncated
//! normal): their CDF, survival function and central moments, the truncated normal's by
//! Gauss–Legendre quadrature.

use super::result::{Neumaier, check_alpha, check_values};
use super::special::{normal_cdf, normal_sf};
use crate::error::{Error, Result};
use std::f64::consts::PI;

/// A fully specified distribution that a sample is tested against (parameters known, not
/// estimated). Use [`Reference::validate`] before trusting the numbers it returns; the tests in
/// this module validate it themselves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reference {
    /// Uniform on [low, high].
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound, greater than `low`.
        high: f64,
    },
    /// Normal N(mean, std²).
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation, positive.
        std: f64,
    },
    /// N(mean, std²) conditioned on [low, high] (bounds in the variable's own units, as PyTorch's
    /// `trunc_normal_(mean, std, a, b)`; either bound may be infinite).
    TruncNormal {
        /// Mean of the parent normal.
        mean: f64,
        /// Standard deviation of the parent normal, positive.
        std: f64,
        /// Lower bound.
        low: f64,
        /// Upper bound, greater than `low`.
        high: f64,
    },
}

/// Standardized truncation: bounds α, β in units of std and the parent's mass Z between them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Truncation {
    alpha: f64,
    beta: f64,
    mass: f64,
}

impl Truncation {
    fn new(mean: f64, std: f64, low: f64, high: f64) -> Self {
        let alpha = (low - mean) / std;
        let beta = (high - mean) / std;
        let mass = if alpha >= 0.0 {
            normal_sf(alpha) - normal_sf(beta)
        } else {
            normal_cdf(beta) - normal_cdf(alpha)
        };
        Self { alpha, beta, mass }
    }

    fn cdf(&self, xi: f64) -> f64 {
        if xi <= self.alpha {
            return 0.0;
        }
        if xi >= self.beta {
            return 1.0;
        }
        let part = if xi <= 0.0 {
            normal_cdf(xi) - normal_cdf(self.alpha)
        } else {
            normal_sf(self.alpha) - normal_sf(xi)
        };
        (part / self.mass).clamp(0.0, 1.0)
    }

    fn sf(&self, xi: f64) -> f64 {
        if xi <= self.alpha {
            return 1.0;
        }
        if xi >= self.beta {
            return 0.0;
        }
        let part = if xi >= 0.0 {
            normal_sf(xi) - normal_sf(self.beta)
        } else {
            normal_cdf(self.beta) - normal_cdf(xi)
        };
        (part / self.mass).clamp(0.0, 1.0)
    }

    /// Mean c and central moments μ₀…μ₈ of the standardized truncated normal, by composite
    /// 16-point Gauss–Legendre quadrature (64 panels) of the density scaled to 1 at the point t₀
    /// of [α, β] nearest 0, over the part of [α, β] where it exceeds e^-80.
    fn standardized_moments(&self) -> (f64, [f64; 9]) {
        const LOG_CUTOFF: f64 = 80.0;
        const PANELS: usize = 64;
        let (alpha, beta) = (self.alpha, self.beta);
        let t0 = if alpha > 0.0 {
            alpha
        } else if beta < 0.0 {
            beta
        } else {
            0.0
        };
        // Width w from t0 at which (t² − t0²)/2 reaches LOG_CUTOFF: t0·w + w²/2 = L.
        let w = 2.0 * LOG_CUTOFF / ((t0 * t0 + 2.0 * LOG_CUTOFF).sqrt() + t0.abs());
        let (lo, hi) = if t0 == 0.0 {
            (alpha.max(-w), beta.min(w))
        } else if t0 > 0.0 {
            (alpha, beta.min(alpha + w))
        } else {
            (alpha.max(beta - w), beta)
        };
        let (nodes, weights) = gauss_legendre_16();
        let h = (hi - lo) / PANELS as f64;
        let density = |t: f64| (-0.5 * (t - t0) * (t + t0)).exp();
        let mut points = Vec::with_capacity(PANELS * 16);
        for panel in 0..PANELS {
            let mid = lo + (panel as f64 + 0.5) * h;
            for (x, wt) in nodes.iter().zip(&weights) {
                let t = mid + 0.5 * h * x;
                points.push((t, 0.5 * h * wt * density(t)));
            }
        }
        let mut mass = Neumaier::default();
        let mut first = Neumaier::default();
        for &(t, g) in &points {
            mass.add(g);
            first.add(t * g);
        }
        let mass = mass.value();
        let c = first.value() / mass;
        let mut sums = [Neumaier::default(); 9];
        for &(t, g) in &points {
            let d = t - c;
            let mut power = g;
            for s in &mut sums {
                s.add(power);
                power *= d;
            }
        }
        let mut moments = [0.0; 9];
        for (m, s) in moments.iter_mut().zip(&sums) {
            *m = s.value() / mass;
        }
        (c, moments)
    }
}

/// Nodes and weights of 16-point Gauss–Legendre quadrature on [−1, 1] (Newton on P₁₆).
fn gauss_legendre_16() -> ([f64; 16], [f64; 16]) {
    const N: usize = 16;
    let mut x = [0.0; N];
    let mut w = [0.0; N];
    for i in 0..N / 2 {
        let mut z = (PI * (i as f64 + 0.75) / (N as f64 + 0.5)).cos();
        let mut pp = 0.0;
        for _ in 0..100 {
            let (mut p1, mut p2) = (1.0, 0.0);
            for j in 1..=N {
                let p3 = p2;
                p2 = p1;
                let jf = j as f64;
                p1 = ((2.0 * jf - 1.0) * z * p2 - (jf - 1.0) * p3) / jf;
            }
            pp = N as f64 * (z * p1 - p2) / (z * z - 1.0);
            let z1 = z;
            z = z1 - p1 / pp;
            if (z - z1).abs() <= 1e-16 {
                break;
            }
        }
        x[i] = -z;
        x[N - 1 - i] = z;
        w[i] = 2.0 / ((1.0 - z * z) * pp * pp);
        w[N - 1 - i] = w[i];
    }
    (x, w)
}

impl Reference {
    /// Checks the parameters: finite, `low < high`, `std > 0`, and for the truncated normal
    /// a truncation interval of probability at least 1e-300 under the parent normal.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Reference::Uniform { low, high } => {
                if low.is_nan() || high.is_nan() || low >= high || !(high - low).is_finite() {
                    return Err(Error::invalid(
                        "uniform reference",
                        format!("low = {low}, high = {high}"),
                        "finite bounds with low < high",
                    ));
                }
            }
            Reference::Normal { mean, std } => check_normal_parameters(mean, std)?,
            Reference::TruncNormal {
                mean,
                std,
                low,
                high,
            } => {
                check_normal_parameters(mean, std)?;
                if low.is_nan()
                    || high.is_nan()
                    || low >= high
                    || low == f64::INFINITY
                    || high == f64::NEG_INFINITY
                {
                    return Err(Error::invalid(
                        "truncated normal reference",
                        format!("low = {low}, high = {high}"),
                        "bounds with low < high (either may be infinite)",
                    ));
                }
                let mass = Truncation::new(mean, std, low, high).mass;
                if mass.is_nan() || mass < 1e-300 {
                    return Err(Error::invalid(
                        "truncated normal reference",
                        format!("[{low}, {high}] with mean = {mean}, std = {std} (mass {mass:e})"),
                        "a truncation interval of probability at least 1e-300",
                    ));
                }
            }
        }
        Ok(())
    }

    /// P(X ≤ x).
    pub fn cdf(&self, x: f64) -> f64 {
        self.prepare().cdf(x)
    }

    /// P(X > x) = 1 − cdf(x), computed directly so that it keeps its relative accuracy in the
    /// upper tail.
    pub fn sf(&self, x: f64) -> f64 {
        self.prepare().sf(x)
    }

    /// [`Reference::cdf`] with its constants (the truncated normal's mass) computed once, for
    /// loops over many values.
    pub fn cdf_fn(&self) -> impl Fn(f64) -> f64 + Copy + use<> {
        let prepared = self.prepare();
        move |x| prepared.cdf(x)
    }

    /// The distribution function with its constants (the truncated normal's mass) computed once,
    /// for loops over many values.
    pub(super) fn prepare(&self) -> Prepared {
        match *self {
            Reference::Uniform { low, high } => Prepared::Uniform {
                low,
                high,
                width: high - low,
            },
            Reference::Normal { mean, std } => Prepared::Normal { mean, std },
            Reference::TruncNormal {
                mean,
                std,
                low,
                high,
            } => Prepared::TruncNormal {
                mean,
                std,
                truncation: Truncation::new(mean, std, low, high),
            },
        }
    }

    /// E\[X\].
    pub fn mean(&self) -> f64 {
        match *self {
            Reference::Uniform { low, high } => low + 0.5 * (high - low),
            Reference::Normal { mean, .. } => mean,
            Reference::TruncNormal {
                mean,
                std,
                low,
                high,
            } => {
                mean + std
                    * Truncation::new(mean, std, low, high)
                        .standardized_moments()
                        .0
            }
        }
    }

    /// Var\[X\], the second central moment.
    pub fn variance(&self) -> f64 {
        self.central_moments()[2]
    }

    /// Central moments μ_k = E\[(X − E\[X\])^k\] for k = 0, …, 8 (μ₀ = 1, μ₁ = 0). Normal:
    /// μ_2k = (2k − 1)!!·σ^2k; uniform with half-width h: μ_2k = h^2k/(2k + 1); odd ones 0.
    /// Truncated normal: by Gauss–Legendre quadrature of the density (error below 1e-14 of
    /// max(σ_T^k, |μ_k|), checked against mpmath).
    pub fn central_moments(&self) -> [f64; 9] {
        let mut mu = [0.0; 9];
        mu[0] = 1.0;
        match *self {
            Reference::Uniform { low, high } => {
                let h = 0.5 * (high - low);
                for k in 1..=4 {
                    mu[2 * k] = h.powi(2 * k as i32) / (2 * k + 1) as f64;
                }
            }
            Reference::Normal { std, .. } => {
                let mut double_factorial = 1.0;
                for k in 1..=4 {
                    double_factorial *= (2 * k - 1) as f64;
                    mu[2 * k] = double_factorial * std.powi(2 * k as i32);
                }
            }
            Reference::TruncNormal {
                mean,
                std,
                low,
                high,
            } => {
                let (_, standardized) =
                    Truncation::new(mean, std, low, high).standardized_moments();
                for (k, m) in mu.iter_mut().enumerate().skip(1) {
                    *m = standardized[k] * std.powi(k as i32);
                }
                mu[1] = 0.0;
            }
        }
        mu
    }
}

/// A [`Reference`]'s CDF and survival function, ready to evaluate.
#[derive(Debug, Clone, Copy)]
pub(super) enum Prepared {
    Uniform {
        low: f64,
        high: f64,
        width: f64,
    },
    Normal {
        mean: f64,
        std: f64,
    },
    TruncNormal {
        mean: f64,
        std: f64,
        truncation: Truncation,
    },
}

impl Prepared {
    pub(super) fn cdf(&self, x: f64) -> f64 {
        match *self {
            Prepared::Uniform { low, width, .. } => ((x - low) / width).clamp(0.0, 1.0),
            Prepared::Normal { mean, std } => normal_cdf((x - mean) / std),
            Prepared::TruncNormal {
                mean,
                std,
                truncation,
            } => truncation.cdf((x - mean) / std),
        }
    }

    pub(super) fn sf(&self, x: f64) -> f64 {
        match *self {
            Prepared::Uniform { high, width, .. } => ((high - x) / width).clamp(0.0, 1.0),
            Prepared::Normal { mean, std } => normal_sf((x - mean) / std),
            Prepared::TruncNormal {
                mean,
                std,
                truncation,
            } => truncation.sf((x - mean) / std),
        }
    }
}

/// The checks every one-sample test makes first, in this order: α in (0, 1), a valid
/// `reference`, and a non-empty sample of finite `values`.
pub(super) fn check_one_sample(values: &[f64], reference: &Reference, alpha: f64) -> Result<()> {
    check_alpha(alpha)?;
    reference.validate()?;
    check_values("values", values)
}

fn check_normal_parameters(mean: f64, std: f64) -> Result<()> {
    if !mean.is_finite() {
        return Err(Error::invalid("mean", mean, "a finite number"));
    }
    if std.is_nan() || std <= 0.0 || !std.is_finite() {
        return Err(Error::invalid("std", std, "a finite number greater than 0"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Every expected number is produced by a known-good implementation (SciPy 1.17.1, mpmath
    //! 1.3.0), named next to it here or in test_vectors.rs.

    use super::*;
    use crate::verify::stats::test_support::assert_rel;
    use crate::verify::stats::test_vectors::{TRUNC_CDF, TRUNC_MOMENTS};

    #[test]
    fn gauss_legendre_integrates_degree_31_exactly() {
        let (x, w) = gauss_legendre_16();
        let integral: f64 = x.iter().zip(&w).map(|(x, w)| w * x.powi(30)).sum();
        assert_rel(integral, 2.0 / 31.0, 1e-14, "∫x³⁰");
        assert_rel(w.iter().sum::<f64>(), 2.0, 1e-15, "Σw");
    }

    #[test]
    fn normal_and_uniform_moments_give_the_known_parameter_standard_errors() {
        // docs/statistics.md: for N(0, 1) the SEs are 1/√n, √(2/n), √(15/n), √(96/n).
        let mu = Reference::Normal {
            mean: 0.0,
            std: 1.0,
        }
        .central_moments();
        assert_eq!(mu, [1.0, 0.0, 1.0, 0.0, 3.0, 0.0, 15.0, 0.0, 105.0]);
        assert_eq!(
            [
                mu[2],
                mu[4] - mu[2] * mu[2],
                mu[6] - mu[3] * mu[3],
                mu[8] - mu[4] * mu[4]
            ],
            [1.0, 2.0, 15.0, 96.0]
        );
        let mu = Reference::Uniform {
            low: -1.0,
            high: 1.0,
        }
        .central_moments();
        let want = [
            1.0,
            0.0,
            1.0 / 3.0,
            0.0,
            0.2,
            0.0,
            1.0 / 7.0,
            0.0,
            1.0 / 9.0,
        ];
        for k in 0..9 {
            assert_rel(mu[k], want[k], 1e-16, &format!("uniform μ{k}"));
        }
        let normal = Reference::Normal {
            mean: 2.0,
            std: 0.5,
        };
        assert_eq!(normal.mean(), 2.0);
        assert_eq!(normal.variance(), 0.25);
    }

    #[test]
    fn truncated_normal_moments_match_mpmath() {
        for &(mean, std, low, high, want_mean, want) in TRUNC_MOMENTS {
            let reference = Reference::TruncNormal {
                mean,
                std,
                low,
                high,
            };
            reference.validate().unwrap();
            let what = format!("TruncNormal({mean}, {std}, {low}, {high})");
            let got_mean = reference.mean();
            assert!(
                (got_mean - want_mean).abs() <= 1e-13 * (want_mean.abs() + std),
                "{what}: mean {got_mean} vs {want_mean}"
            );
            let mu = reference.central_moments();
            assert_eq!(mu[0], 1.0);
            assert_eq!(mu[1], 0.0);
            assert_rel(
                reference.variance(),
                want[2],
                1e-12,
                &format!("{what} variance"),
            );
            for k in 2..9 {
                // Odd moments may be 0: measure them against σ_T^k as well.
                let scale = want[2].powf(k as f64 / 2.0).max(want[k].abs());
                assert!(
                    (mu[k] - want[k]).abs() <= 1e-12 * scale,
                    "{what}: μ{k} = {:e} vs {:e}",
                    mu[k],
                    want[k]
                );
            }
        }
    }

    #[test]
    fn truncated_normal_cdf_matches_scipy() {
        for &(mean, std, low, high, x, cdf, sf) in TRUNC_CDF {
            let reference = Reference::TruncNormal {
                mean,
                std,
                low,
                high,
            };
            let what = format!("TruncNormal({mean}, {std}, {low}, {high}) at {x}");
            assert_rel(reference.cdf(x), cdf, 1e-13, &format!("{what}: cdf"));
            assert_rel(reference.sf(x), sf, 1e-13, &format!("{what}: sf"));
        }
    }
}
