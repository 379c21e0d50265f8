//! What the statistical tests share: the default significance level, the [`TestResult`] they
//! return, their input checks and a compensated sum.

use crate::error::{Error, Result};

/// Default per-test significance level: a test passes when its p-value exceeds 1e-6.
pub const DEFAULT_ALPHA: f64 = 1e-6;

/// The outcome of one statistical test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestResult {
    /// Which test: `"kolmogorov-smirnov"`, `"anderson-darling"`, `"chi-squared"`, `"mean"`,
    /// `"variance"`, `"third central moment"`, `"fourth central moment"`,
    /// `"kolmogorov-smirnov two-sample"` or `"p-value uniformity"`.
    pub name: &'static str,
    /// The test statistic (D, A², χ², or z for the moment tests).
    pub statistic: f64,
    /// Probability, under the reference, of a statistic at least this extreme.
    pub p_value: f64,
    /// `p_value > alpha`.
    pub passed: bool,
}

impl TestResult {
    pub(super) fn new(name: &'static str, statistic: f64, p_value: f64, alpha: f64) -> Self {
        Self {
            name,
            statistic,
            p_value,
            passed: p_value > alpha,
        }
    }
}

pub(super) fn check_alpha(alpha: f64) -> Result<()> {
    if alpha > 0.0 && alpha < 1.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            "alpha",
            alpha,
            "a significance level strictly between 0 and 1",
        ))
    }
}

pub(super) fn check_values(name: &str, values: &[f64]) -> Result<()> {
    if values.is_empty() {
        return Err(Error::invalid(
            name,
            "an empty sample",
            "at least one value",
        ));
    }
    if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::invalid(
            name,
            format!("element {i} = {v}"),
            "finite numbers only",
        ));
    }
    Ok(())
}

pub(super) fn sorted_copy(values: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    sorted
}

/// Neumaier's compensated sum: the error does not grow with the number of terms.
#[derive(Debug, Default, Clone, Copy)]
pub struct Neumaier {
    sum: f64,
    compensation: f64,
}

impl Neumaier {
    /// Adds `x`.
    pub fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    /// The sum so far.
    pub fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}
