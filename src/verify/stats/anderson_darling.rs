//! The Anderson–Darling test with known parameters, and the limiting (n → ∞) distribution of its
//! A².

use super::coefficients::AD_TAIL;
use super::reference::{Reference, check_one_sample};
use super::result::{Neumaier, TestResult, sorted_copy};
use super::special::erfc;
use crate::error::Result;
use std::f64::consts::{FRAC_1_SQRT_2, PI};

/// One term of Marsaglia and Marsaglia's (2004) series for the limiting A² distribution.
fn ad_series_term(z: f64, j: u32) -> f64 {
    let four_j_1 = 4.0 * f64::from(j) + 1.0;
    let t = four_j_1 * four_j_1 * (PI * PI / 8.0) / z;
    if t > 150.0 {
        return 0.0;
    }
    let mut a = PI * FRAC_1_SQRT_2 * (-t).exp() / t.sqrt();
    let mut b = PI * PI.sqrt() * FRAC_1_SQRT_2 * erfc(t.sqrt());
    let mut r = z * 0.125;
    let mut f = a + b * r;
    for i in 1..200u32 {
        let fi = f64::from(i);
        let c = ((fi - 0.5 - t) * b + t * a) / fi;
        a = b;
        b = c;
        r *= z / (8.0 * fi + 8.0);
        if r.abs() < 1e-40 || c.abs() < 1e-40 {
            return f;
        }
        let f_new = f + c * r;
        if f_new == f {
            return f;
        }
        f = f_new;
    }
    f
}

/// Limiting CDF of A² by Marsaglia and Marsaglia's series (absolute error about 1.5e-15).
fn ad_limit_cdf(z: f64) -> f64 {
    if z < 0.01 {
        return 0.0; // ADinf(0.01) ≈ 5e-53
    }
    let mut r = 1.0 / z;
    let mut ad = r * ad_series_term(z, 0);
    for j in 1..100u32 {
        let jf = f64::from(j);
        r *= (0.5 - jf) / jf;
        let ad_new = ad + (4.0 * jf + 1.0) * r * ad_series_term(z, j);
        if ad_new == ad {
            break;
        }
        ad = ad_new;
    }
    ad
}

/// Survival function of the limiting (n → ∞) distribution of the Anderson–Darling A² with known
/// parameters, P(A² > z) where A² = Σ_{j≥1} Y_j/(j(j+1)), Y_j independent χ²₁.
///
/// For z ≤ 20 it is 1 − ADinf(z), ADinf evaluated by Marsaglia and Marsaglia's (2004) exact
/// series (absolute error ~1.5e-15: relative error 2e-11 at p = 1e-5 (z = 10), 6e-10 at
/// p = 8e-8 (z = 15), 5e-7 at z = 20 where p = 4.5e-10). Above, the tail expansion
/// √3 e^(−z)/√(πz) · (1 − 7/(36z) + 0.4906/z² − 1.023/z³ + 3.878/z⁴ − 16.87/z⁵),
/// derived from the largest eigenvalue 1/2 (the product of the others' (1 − λ_j/λ₁)^(−1/2) is √3),
/// relative error ≤ 1.2e-6 for z ≥ 20. Both checked against mpmath quadrature of the
/// Anderson–Darling (1954) series. Sanity: P(A² > 2.492) = 0.0500, P(A² > 3.857) = 0.0102.
///
/// Not Marsaglia's short-cut `adinf` (error < 2e-6 absolute): absolute error is the wrong
/// yardstick at α = 1e-6 — it gives 1.95e-8 where the truth is 1.71e-6 (z = 12). Nor their
/// finite-n `errfix`: it does not vanish as p → 0 (it leaves p ≥ 6e-4/n), and with known
/// parameters the limit is already close for n ≥ 5 (Stephens 1974).
pub fn anderson_darling_survival(z: f64) -> f64 {
    if z.is_nan() {
        return z;
    }
    if z <= 0.0 {
        return 1.0;
    }
    if z <= 20.0 {
        return (1.0 - ad_limit_cdf(z)).clamp(0.0, 1.0);
    }
    let inv = 1.0 / z;
    let series = AD_TAIL.iter().rev().fold(0.0, |acc, &c| acc * inv + c);
    (3f64.sqrt() * (-z).exp() / (PI * z).sqrt() * series).clamp(0.0, 1.0)
}

/// Below this a CDF value is treated as this in the Anderson–Darling logarithms.
const AD_FLOOR: f64 = 1e-300;

/// Anderson–Darling test of `values` against `reference` with known parameters.
///
/// A² = −n − (1/n) Σ_{i=1}^n [(2i − 1) ln F(x₍ᵢ₎) + (2(n − i) + 1) ln(1 − F(x₍ᵢ₎))], the survival
/// 1 − F taken from [`Reference::sf`] so the upper tail keeps its digits, and both clamped below
/// at 1e-300 so that a value on or outside the support's edge (a uniform value equal to its
/// bound, which the samplers can produce) adds at most 691·(2n − 1)/n instead of making A²
/// infinite. P-value from the limiting distribution, [`anderson_darling_survival`] — not the
/// estimated-parameter p-value of statrs and most libraries (docs/statistics.md).
pub fn anderson_darling(values: &[f64], reference: &Reference, alpha: f64) -> Result<TestResult> {
    check_one_sample(values, reference, alpha)?;
    let sorted = sorted_copy(values);
    let n = sorted.len();
    let nf = n as f64;
    let distribution = reference.prepare();
    let mut sum = Neumaier::default();
    for (i, &x) in sorted.iter().enumerate() {
        let ln_f = distribution.cdf(x).max(AD_FLOOR).ln();
        let ln_s = distribution.sf(x).max(AD_FLOOR).ln();
        let lower = (2 * i + 1) as f64;
        let upper = (2 * (n - i) - 1) as f64;
        sum.add(lower * ln_f);
        sum.add(upper * ln_s);
    }
    let a2 = -nf - sum.value() / nf;
    Ok(TestResult::new(
        "anderson-darling",
        a2,
        anderson_darling_survival(a2),
        alpha,
    ))
}

#[cfg(test)]
mod tests {
    //! Every expected number below was produced by a known-good implementation (SciPy 1.17.1,
    //! mpmath 1.3.0), named next to it.

    use super::*;
    use crate::verify::stats::result::DEFAULT_ALPHA;
    use crate::verify::stats::special::normal_cdf;
    use crate::verify::stats::test_support::assert_rel;

    /// Limiting P(A² > z): 1 − ADinf(z) by mpmath quadrature (60 digits) of the Anderson–Darling
    /// (1954) series ADinf(z) = (√(2π)/z) Σ_j C(−1/2, j)(4j+1) e^(−(4j+1)²π²/(8z))
    /// ∫₀^∞ exp(z/(8(w²+1)) − (4j+1)²π²w²/(8z)) dw.
    const AD_SURVIVAL: &[(f64, f64)] = &[
        (0.05, 0.9999999998268507),
        (0.1, 0.9999719218948736),
        (0.2, 0.9904125472497941),
        (0.5, 0.7468143735303445),
        (1.0, 0.35726667321401906),
        (1.5, 0.1764753728420497),
        (1.933, 0.0999946232082235),
        (2.0, 0.09183677494125211),
        (2.492, 0.05002218635960787),
        (3.07, 0.025218271136978748),
        (3.857, 0.01024115322986121),
        (3.878, 0.010001409884500457),
        (5.0, 0.0028744213045860723),
        (8.0, 0.000113814155726583),
        (10.0, 1.3815035410685864e-05),
        (12.0, 1.7102869993221187e-06),
        (15.0, 7.633223180234202e-08),
        (18.0, 3.47482021297065e-09),
        (20.0, 4.465071538311922e-10),
        (20.01, 4.41955546634681e-10),
        (22.0, 5.7656486226576426e-11),
        (25.0, 2.6951386239223034e-12),
        (30.0, 1.659548952778318e-14),
        (40.0, 6.534126441475955e-19),
        (60.0, 1.101257453009424e-27),
        (100.0, 3.628383098211928e-45),
    ];

    #[test]
    fn anderson_darling_survival_matches_mpmath() {
        for &(z, want) in AD_SURVIVAL {
            // The series is exact to 1.5e-15 absolute; the tail expansion (z > 20) to 1.2e-6.
            let tol = if z <= 15.0 { 1e-9 } else { 2e-6 };
            assert_rel(
                anderson_darling_survival(z),
                want,
                tol,
                &format!("P(A² > {z})"),
            );
        }
        assert_eq!(anderson_darling_survival(0.0), 1.0);
        assert!(anderson_darling_survival(f64::NAN).is_nan());
    }

    #[test]
    fn anderson_darling_known_parameter_critical_values() {
        // docs/statistics.md: 2.492 (5%) and 3.857 (1%), the classical table (Stephens 1974,
        // case 0).
        let p5 = anderson_darling_survival(2.492);
        assert!((p5 - 0.05).abs() < 1e-4, "P(A² > 2.492) = {p5}");
        // 3.857 is the rounded classical value; the limit puts 1.024% above it (a Monte Carlo of
        // 10⁷ draws of Σ Y_j/(j(j+1)) gave 1.0225% ± 0.003%) and 1% above 3.878.
        let p1 = anderson_darling_survival(3.857);
        assert!((p1 - 0.01).abs() < 3e-4, "P(A² > 3.857) = {p1}");
        assert!((anderson_darling_survival(3.878) - 0.01).abs() < 2e-6);
        // Marsaglia's short-cut adinf would give 1.95e-8 here; the truth is 1.71e-6.
        assert_rel(
            anderson_darling_survival(12.0),
            1.7102869993221187e-6,
            1e-9,
            "P(A² > 12)",
        );
    }

    #[test]
    fn values_on_the_support_edge_keep_anderson_darling_finite() {
        // The uniform sampler may return its bounds exactly; ln(0) must not make A² infinite.
        let unit = Reference::Uniform {
            low: 0.0,
            high: 1.0,
        };
        let mut x: Vec<f64> = (0..1000).map(|i| (i as f64 + 0.5) / 1000.0).collect();
        x[0] = 0.0;
        x[999] = 1.0;
        let ad = anderson_darling(&x, &unit, DEFAULT_ALPHA).unwrap();
        assert!(ad.statistic.is_finite() && ad.passed, "{ad:?}");
        // A value far outside a normal's representable tail, too.
        let n01 = Reference::Normal {
            mean: 0.0,
            std: 1.0,
        };
        let mut z = vec![0.1, -0.4, 0.7, 1.2, -1.1];
        z.push(60.0);
        let ad = anderson_darling(&z, &n01, DEFAULT_ALPHA).unwrap();
        assert!(ad.statistic.is_finite(), "{ad:?}");
        // A truncated normal as narrow as PyTorch's trunc_normal_(std=0.002, a=-2, b=2) (±1000σ).
        let narrow = Reference::TruncNormal {
            mean: 0.0,
            std: 0.002,
            low: -2.0,
            high: 2.0,
        };
        assert_eq!(narrow.cdf(-2.0), 0.0);
        assert_eq!(narrow.sf(2.0), 0.0);
        assert_rel(narrow.cdf(0.002), normal_cdf(1.0), 1e-15, "narrow cdf");
    }
}
