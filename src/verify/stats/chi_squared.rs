//! Pearson's χ² test on bins equiprobable under the reference.

use super::reference::{Reference, check_one_sample};
use super::result::{Neumaier, TestResult};
use super::special::chi_squared_sf;
use crate::error::{Error, Result};

/// Pearson's χ² test on `bins` bins equiprobable under `reference`.
///
/// Each value goes to bin ⌊bins·F(x)⌋ (F(x) = 1 to the last), which is binning by the
/// reference's quantiles without computing them. Statistic Σ (O − E)²/E with E = n/bins; p-value
/// from χ²(bins − 1), [`chi_squared_sf`]. Needs 2 ≤ bins ≤ n/5 (at least five expected per bin,
/// the usual condition for the χ² approximation).
pub fn chi_squared_equiprobable(
    values: &[f64],
    reference: &Reference,
    bins: usize,
    alpha: f64,
) -> Result<TestResult> {
    check_one_sample(values, reference, alpha)?;
    let n = values.len();
    if bins < 2 || bins > n / 5 {
        return Err(Error::invalid(
            "bins",
            bins,
            format!(
                "2 ≤ bins ≤ n/5 = {} (at least five expected values per bin; n = {n})",
                n / 5
            ),
        ));
    }
    let mut counts = vec![0u64; bins];
    let bins_f = bins as f64;
    let cdf = reference.prepare();
    for &x in values {
        let bin = ((cdf.cdf(x) * bins_f) as usize).min(bins - 1);
        counts[bin] += 1;
    }
    let expected = n as f64 / bins_f;
    let mut statistic = Neumaier::default();
    for &observed in &counts {
        let diff = observed as f64 - expected;
        statistic.add(diff * diff / expected);
    }
    let statistic = statistic.value();
    Ok(TestResult::new(
        "chi-squared",
        statistic,
        chi_squared_sf(statistic, (bins - 1) as f64),
        alpha,
    ))
}
