//! z-tests of the first four moments about the reference's known mean.

use super::reference::{Reference, check_one_sample};
use super::result::{Neumaier, TestResult};
use super::special::erfc;
use crate::error::Result;
use std::f64::consts::FRAC_1_SQRT_2;

/// z-tests of the first four moments about the reference's known mean μ, with the standard
/// errors of the known-parameter case (central moments μ_k of the reference):
///
/// | test | estimate | expected | standard error |
/// |---|---|---|---|
/// | `mean` | mean of (x − μ) | 0 | √(μ₂/n) |
/// | `variance` | mean of (x − μ)² | μ₂ | √((μ₄ − μ₂²)/n) |
/// | `third central moment` | mean of (x − μ)³ | μ₃ | √((μ₆ − μ₃²)/n) |
/// | `fourth central moment` | mean of (x − μ)⁴ | μ₄ | √((μ₈ − μ₄²)/n) |
///
/// For N(0, 1) the standard errors are 1/√n, √(2/n), √(15/n), √(96/n) (not √(6/n), √(24/n),
/// which belong to the sample skewness and kurtosis with estimated parameters). The statistic is
/// z = (estimate − expected)/SE and the p-value two-sided, erfc(|z|/√2); the normal approximation
/// is the central limit theorem's, good for the fourth moment from n of a few thousand.
/// Sums are compensated, so n in the hundreds of millions loses nothing.
pub fn moment_z_tests(
    values: &[f64],
    reference: &Reference,
    alpha: f64,
) -> Result<Vec<TestResult>> {
    check_one_sample(values, reference, alpha)?;
    let center = reference.mean();
    let mut sums = [Neumaier::default(); 4];
    for &x in values {
        let d = x - center;
        let d2 = d * d;
        sums[0].add(d);
        sums[1].add(d2);
        sums[2].add(d2 * d);
        sums[3].add(d2 * d2);
    }
    Ok(moment_z_tests_from_sums(
        values.len() as u64,
        sums.map(|s| s.value()),
        reference,
        alpha,
    ))
}

/// [`moment_z_tests`] from the sums of (x − μ), (x − μ)², (x − μ)³ and (x − μ)⁴ over `n` values,
/// μ the reference's mean: for a stream of values that is never held whole. The caller checks
/// `alpha` and the reference; non-finite sums (a value that was not a number) fail every test.
pub fn moment_z_tests_from_sums(
    n: u64,
    sums: [f64; 4],
    reference: &Reference,
    alpha: f64,
) -> Vec<TestResult> {
    let mu = reference.central_moments();
    let nf = n as f64;
    let tests = [
        ("mean", 0.0, mu[2]),
        ("variance", mu[2], mu[4] - mu[2] * mu[2]),
        ("third central moment", mu[3], mu[6] - mu[3] * mu[3]),
        ("fourth central moment", mu[4], mu[8] - mu[4] * mu[4]),
    ];
    tests
        .iter()
        .zip(&sums)
        .map(|(&(name, expected, var_one), &sum)| {
            let z = (sum / nf - expected) / (var_one / nf).sqrt();
            let p = if z.is_finite() {
                erfc(z.abs() * FRAC_1_SQRT_2)
            } else {
                0.0
            };
            TestResult::new(name, z, p, alpha)
        })
        .collect()
}
