//! The statistical tests the verifier runs, in pure Rust `f64` on the CPU.
//!
//! Every test takes a sample and a fully specified [`Reference`] distribution (known parameters,
//! nothing estimated from the data) and returns a [`TestResult`]: the statistic, its p-value and
//! whether the p-value exceeds the significance level α. The default α is [`DEFAULT_ALPHA`] = 1e-6:
//! with fixed seeds a statistical test is deterministic, so a fluke would be a permanent failure
//! (docs/statistics.md); test many seeds and check the p-values with a second-level test
//! ([`p_value_uniformity`]) instead of raising α.
//!
//! | test | statistic | p-value |
//! |---|---|---|
//! | [`ks_one_sample`] | Kolmogorov–Smirnov D | Simard–L'Ecuyer's method: exact (Durbin's matrix as Marsaglia–Tsang–Wang, the Smirnov sum, Ruben–Gambino) for n ≤ 1000 and in both tails up to n = 10⁶, Pelz–Good's series in the body beyond; see [`ks_survival`] |
//! | [`anderson_darling`] | A² with known parameters | the limiting (n → ∞) distribution: relative error ≤ 1.5e-10 for p > 1e-7, ≤ 1.2e-6 below; see [`anderson_darling_survival`] |
//! | [`chi_squared_equiprobable`] | Pearson χ² on bins equiprobable under the reference | χ²(bins − 1) survival function |
//! | [`moment_z_tests`] | z of the mean and of the 2nd, 3rd, 4th central moments about the known mean | two-sided normal, with the exact standard errors of the known-parameter case |
//! | [`ks_two_sample`] | two-sample Kolmogorov–Smirnov D | as SciPy's `ks_2samp(method='asymp')`: the one-sample distribution at n = round(mn/(m+n)) |
//!
//! The special functions underneath ([`erfc`], [`normal_cdf`], [`normal_quantile`],
//! [`gamma_q`], [`kolmogorov_survival`], [`smirnov_survival`], …) are public too; each is
//! checked in this module's tests against SciPy or mpmath numbers.
//!
//! Input is validated, never trusted: an empty sample, a NaN or infinite value, α outside (0, 1),
//! an invalid reference or too many bins are an [`Error::InvalidParameter`], not a panic.
//!
//! [`Error::InvalidParameter`]: crate::error::Error::InvalidParameter

mod anderson_darling;
mod chi_squared;
mod coefficients;
mod ks;
mod ks_cdf;
mod moments;
mod reference;
mod result;
mod special;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod test_vectors;
#[cfg(test)]
mod tests_samples;

pub use anderson_darling::{anderson_darling, anderson_darling_survival};
pub use chi_squared::chi_squared_equiprobable;
pub use ks::{
    kolmogorov_survival, ks_one_sample, ks_survival, ks_two_sample, p_value_uniformity,
    smirnov_survival,
};
pub use moments::{moment_z_tests, moment_z_tests_from_sums};
pub use reference::Reference;
pub use result::{DEFAULT_ALPHA, Neumaier, TestResult};
pub use special::{
    chi_squared_sf, erfc, gamma_q, ln_gamma, normal_cdf, normal_quantile, normal_sf,
};
