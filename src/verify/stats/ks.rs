//! The Kolmogorov–Smirnov distributions (Kolmogorov's limit, the one-sided Smirnov statistic,
//! the exact two-sided one-sample survival function) and the KS tests: one-sample, two-sample,
//! and the second-level uniformity test of p-values.

use super::ks_cdf::{kolmogorov_cdf_durbin, kolmogorov_cdf_pelz_good};
use super::reference::{Reference, check_one_sample};
use super::result::{TestResult, check_alpha, check_values, sorted_copy};
use super::special::{SQRT_2PI, stirling_correction_int};
use crate::error::{Error, Result};
use std::f64::consts::PI;

// ------------------------------------------------------------------------------------------------
// Kolmogorov–Smirnov distributions
// ------------------------------------------------------------------------------------------------

/// Survival function of Kolmogorov's limiting distribution, P(K > λ) where K = lim √n·D_n:
/// 2 Σ (−1)^(k−1) e^(−2k²λ²) for λ ≥ 1, and 1 − (√(2π)/λ) Σ e^(−(2k−1)²π²/(8λ²)) below
/// (the Jacobi-theta form, fast for small λ). Equals SciPy's `kstwobign.sf` and
/// `scipy.special.kolmogorov`, which `kstest(method='asymp')` uses with λ = √n·D.
pub fn kolmogorov_survival(lambda: f64) -> f64 {
    if lambda.is_nan() {
        return lambda;
    }
    if lambda <= 0.0 {
        return 1.0;
    }
    if lambda < 1.0 {
        let w = -PI * PI / (8.0 * lambda * lambda);
        let mut sum = 0.0;
        for k in 1..100u32 {
            let m = f64::from(2 * k - 1);
            let term = (w * m * m).exp();
            sum += term;
            if term <= 1e-17 * sum {
                break;
            }
        }
        (1.0 - SQRT_2PI / lambda * sum).clamp(0.0, 1.0)
    } else {
        let mut sum = 0.0;
        let mut sign = 1.0;
        for k in 1..100u32 {
            let kf = f64::from(k);
            let term = (-2.0 * kf * kf * lambda * lambda).exp();
            sum += sign * term;
            if term <= 1e-17 * sum.abs() {
                break;
            }
            sign = -sign;
        }
        (2.0 * sum).clamp(0.0, 1.0)
    }
}

/// Survival function of the one-sided Kolmogorov–Smirnov (Smirnov) statistic for sample size n,
/// P(D_n⁺ ≥ d), exactly: the Birnbaum–Tingey sum
/// d Σ_{j=0}^{⌊n(1−d)⌋} C(n, j) (1 − d − j/n)^(n−j) (d + j/n)^(j−1), each term taken in log space
/// through Stirling's series with `ln_1p` so that no term loses precision even for n = 10⁶
/// (relative accuracy about 1e-13). O(n) work. Equals SciPy's `scipy.special.smirnov(n, d)`.
/// n = 0 or a NaN d give NaN.
pub fn smirnov_survival(n: u64, d: f64) -> f64 {
    if n == 0 || d.is_nan() {
        return f64::NAN;
    }
    if d <= 0.0 {
        return 1.0;
    }
    if d >= 1.0 {
        return 0.0;
    }
    let nf = n as f64;
    let nd = nf * d;
    // j = 0: (1 − d)^n.
    let mut sum = (nf * (-d).ln_1p()).exp();
    let delta_n = stirling_correction_int(n);
    let mut j: u64 = 1;
    while j < n {
        let jf = j as f64;
        let rest = nf - jf; // n − j ≥ 1
        if rest - nd <= 0.0 {
            break;
        }
        let ln_term = rest * (-nd / rest).ln_1p()
            + jf * (nd / jf).ln_1p()
            + (nd / (nd + jf)).ln()
            + 0.5 * (nf / (2.0 * PI * jf * rest)).ln()
            + delta_n
            - stirling_correction_int(j)
            - stirling_correction_int(n - j);
        sum += ln_term.exp();
        j += 1;
    }
    sum.clamp(0.0, 1.0)
}

/// n ≤ 140 uses the exact product; beyond, ln(n!/nⁿ) = −n + ½ ln 2πn + δ(n).
fn ln_factorial_over_power(n: u64) -> f64 {
    let nf = n as f64;
    -nf + 0.5 * (2.0 * PI * nf).ln() + stirling_correction_int(n)
}

/// Up to this n the body of the distribution (n·d² < 2.2) is always exact (Durbin's matrix, of
/// order below 96 here); SciPy switches to Pelz–Good above n = 140, which is 2.4e-5 off there.
const DURBIN_ALWAYS_MAX_N: u64 = 1000;

/// Above this n the exact O(n) Smirnov sum gives way to the corrected Kolmogorov limit in the
/// upper tail of [`ks_survival`].
const SMIRNOV_SUM_MAX_N: u64 = 1_000_000;

/// P(D_n ≥ d) for the two-sided one-sample Kolmogorov–Smirnov statistic D_n of n values from a
/// continuous distribution: Simard and L'Ecuyer's (2011) choice of method, as SciPy's
/// `kstwo.sf(d, n)` (which `kstest(method='exact')` uses) makes it:
///
/// - n·d ≤ 1 and n·d ≥ n − 1: Ruben and Gambino's exact formulas;
/// - d ≥ 1/2, or n ≤ 140 with n·d² > 4, or n > 140 with n·d² ≥ 2.2: 2·P(D_n⁺ ≥ d)
///   ([`smirnov_survival`]; exact for d ≥ 1/2, and within the square of p otherwise);
/// - n ≤ 140 otherwise: Durbin's matrix (SciPy uses Pomeranz's recursion for 0.75 < n·d² ≤ 4;
///   both are exact);
/// - n ≤ 1000, or n ≤ 100 000 with n·d^1.5 ≤ 1.4: Durbin's matrix, evaluated as
///   Marsaglia–Tsang–Wang (SciPy uses it only under the second condition);
/// - otherwise (n > 1000, 0.02 ≲ p ≲ 0.9) the Pelz–Good asymptotic series: relative error
///   ≤ 5e-7 at n = 1000, 2e-8 at n = 5000, 1.2e-9 at n = 20 000 (against the exact matrix).
///
/// For n > 10⁶ the upper tail (n·d² ≥ 2.2) uses Kolmogorov's limit at √n·d + 1/(6√n) (its
/// first-order correction) instead of the O(n) Smirnov sum. n = 0 or a NaN d give NaN.
pub fn ks_survival(n: u64, d: f64) -> f64 {
    if n == 0 || d.is_nan() {
        return f64::NAN;
    }
    if d >= 1.0 {
        return 0.0;
    }
    if d <= 0.0 {
        return 1.0;
    }
    let nf = n as f64;
    let t = nf * d;
    if t <= 1.0 {
        if t <= 0.5 {
            return 1.0;
        }
        let cdf = if n <= 140 {
            (1..=n).fold(1.0, |acc, i| {
                acc * (i as f64 * (1.0 / nf) * (2.0 * t - 1.0))
            })
        } else {
            (ln_factorial_over_power(n) + nf * (2.0 * t - 1.0).ln()).exp()
        };
        return (1.0 - cdf).clamp(0.0, 1.0);
    }
    if t >= nf - 1.0 {
        return (2.0 * (1.0 - d).powf(nf)).clamp(0.0, 1.0);
    }
    if d >= 0.5 {
        return (2.0 * smirnov_survival(n, d)).clamp(0.0, 1.0);
    }
    let nxsquared = t * d;
    if n <= 140 {
        if nxsquared <= 4.0 {
            return (1.0 - kolmogorov_cdf_durbin(n, d)).clamp(0.0, 1.0);
        }
        return (2.0 * smirnov_survival(n, d)).clamp(0.0, 1.0);
    }
    if nxsquared >= 370.0 {
        return 0.0;
    }
    if nxsquared >= 2.2 {
        if n <= SMIRNOV_SUM_MAX_N {
            return (2.0 * smirnov_survival(n, d)).clamp(0.0, 1.0);
        }
        let sqrt_n = nf.sqrt();
        return kolmogorov_survival(sqrt_n * d + 1.0 / (6.0 * sqrt_n));
    }
    let cdf = if n <= DURBIN_ALWAYS_MAX_N || (n <= 100_000 && nf * d.powf(1.5) <= 1.4) {
        kolmogorov_cdf_durbin(n, d)
    } else {
        kolmogorov_cdf_pelz_good(n, d)
    };
    (1.0 - cdf).clamp(0.0, 1.0)
}

// ------------------------------------------------------------------------------------------------
// The tests
// ------------------------------------------------------------------------------------------------

/// One-sample Kolmogorov–Smirnov test of `values` (in any order) against `reference`.
///
/// Statistic D = max_i max(F(x₍ᵢ₎) − (i−1)/n, i/n − F(x₍ᵢ₎)) over the sorted values, as SciPy's
/// `kstest`; p-value P(D_n ≥ D) from [`ks_survival`] (exact for n ≤ 1000, and in the tails up to
/// n = 10⁶; Pelz–Good's series in the body beyond n = 1000, relative error ≤ 5e-7 there and
/// ≤ 2e-8 from n = 5000). Values on a float grid (the samplers' 2^-24 steps) move D by at most
/// the grid's probability step, negligible next to D's spread 1/√n for any n ≪ 2^48.
pub fn ks_one_sample(values: &[f64], reference: &Reference, alpha: f64) -> Result<TestResult> {
    check_one_sample(values, reference, alpha)?;
    let sorted = sorted_copy(values);
    let n = sorted.len();
    let nf = n as f64;
    let cdf = reference.prepare();
    let d = sorted
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf.cdf(x);
            (f - i as f64 / nf).max((i + 1) as f64 / nf - f)
        })
        .fold(0.0f64, f64::max);
    Ok(TestResult::new(
        "kolmogorov-smirnov",
        d,
        ks_survival(n as u64, d),
        alpha,
    ))
}

/// Second-level test: are these p-values (each from a test on its own seed) uniform on [0, 1]?
/// The one-sample KS test against U(0, 1). P-values outside [0, 1] are an error.
pub fn p_value_uniformity(p_values: &[f64], alpha: f64) -> Result<TestResult> {
    check_values("p_values", p_values)?;
    if let Some((i, p)) = p_values
        .iter()
        .enumerate()
        .find(|(_, p)| !(0.0..=1.0).contains(*p))
    {
        return Err(Error::invalid(
            "p_values",
            format!("element {i} = {p}"),
            "probabilities in [0, 1]",
        ));
    }
    let result = ks_one_sample(
        p_values,
        &Reference::Uniform {
            low: 0.0,
            high: 1.0,
        },
        alpha,
    )?;
    Ok(TestResult {
        name: "p-value uniformity",
        ..result
    })
}

/// Two-sample Kolmogorov–Smirnov test: are `a` and `b` drawn from the same distribution?
///
/// D = max |F_a(x) − F_b(x)| over the pooled values (ties handled as SciPy's `ks_2samp`);
/// asymptotic p-value as `ks_2samp(method='asymp')` takes it: the one-sample distribution
/// [`ks_survival`] at the effective size round(m·n/(m + n)) (half to even, at least 1).
pub fn ks_two_sample(a: &[f64], b: &[f64], alpha: f64) -> Result<TestResult> {
    check_alpha(alpha)?;
    check_values("a", a)?;
    check_values("b", b)?;
    let sa = sorted_copy(a);
    let sb = sorted_copy(b);
    let (na, nb) = (sa.len(), sb.len());
    let (naf, nbf) = (na as f64, nb as f64);
    let (mut i, mut j) = (0usize, 0usize);
    let mut d = 0.0f64;
    while i < na && j < nb {
        let v = sa[i].min(sb[j]);
        while i < na && sa[i] == v {
            i += 1;
        }
        while j < nb && sb[j] == v {
            j += 1;
        }
        d = d.max((i as f64 / naf - j as f64 / nbf).abs());
    }
    // Once one sample is exhausted the difference only shrinks towards 0.
    let (m, n) = if naf >= nbf { (naf, nbf) } else { (nbf, naf) };
    let en = m * n / (m + n);
    let n_eff = en.round_ties_even().max(1.0) as u64;
    Ok(TestResult::new(
        "kolmogorov-smirnov two-sample",
        d,
        ks_survival(n_eff, d),
        alpha,
    ))
}

#[cfg(test)]
mod tests {
    //! Every expected number below was produced by a known-good implementation (SciPy 1.17.1,
    //! mpmath 1.3.0), named next to it.

    use super::*;
    use crate::verify::stats::test_support::assert_rel;

    /// Kolmogorov limit P(K > λ): scipy.special.kolmogorov(λ).
    const KOLMOGOROV: &[(f64, f64)] = &[
        (0.01, 1.0),
        (0.05, 1.0),
        (0.1, 1.0),
        (0.2, 0.999999999999495),
        (0.5, 0.9639452436648751),
        (0.8, 0.5441424115741981),
        (0.99, 0.2808738392255489),
        (1.0, 0.26999967167735456),
        (1.01, 0.25943416909359746),
        (1.36, 0.049485876755377876),
        (2.0, 0.0006709252557796953),
        (3.0, 3.045995948942526e-08),
        (5.0, 3.8574996959278356e-22),
        (8.0, 5.14441874528483e-56),
    ];
    /// One-sided P(D_n⁺ ≥ d): scipy.special.smirnov(n, d).
    const SMIRNOV: &[(u64, f64, f64)] = &[
        (1, 0.3, 0.7),
        (2, 0.2, 0.76),
        (5, 0.1, 0.85359),
        (5, 0.6, 0.015040000000000005),
        (10, 0.05, 0.9224335892010742),
        (10, 0.3, 0.1354635556),
        (20, 0.4, 0.0010594610910272554),
        (100, 0.05, 0.5871453380805337),
        (100, 0.2, 0.0002775963664037337),
        (140, 0.3, 5.685125855368654e-12),
        (1000, 0.01, 0.8133237754763678),
        (1000, 0.05, 0.006506037390545166),
        (1000, 0.1, 1.8518435484088554e-09),
        (10000, 0.02, 0.00033084243196936547),
        (100000, 0.005, 0.006715412488899804),
        (1000000, 0.002, 0.0003350138551835359),
    ];
    /// Two-sided P(D_n ≥ d): scipy.stats.kstwo.sf(d, n); every branch of ks_survival.
    const KS_SURVIVAL: &[(u64, f64, f64)] = &[
        (1, 0.4, 1.0),
        (1, 0.7, 0.6000000000000001),
        (1, 1.0, 0.0),
        (1, 0.5, 1.0),
        (1, 0.9, 0.19999999999999996),
        (3, 0.13333333333333333, 1.0),
        (3, 0.2333333333333333, 0.9857777777777778),
        (3, 0.3333333333333333, 0.7777777777777778),
        (3, 0.2886751345948129, 0.9128211454637191),
        (3, 0.5773502691896258, 0.17863279495408166),
        (3, 0.7851963660978911, 0.019822337589547562),
        (3, 0.5, 0.3333333333333333),
        (3, 0.9, 0.0019999999999999987),
        (3, 0.8333333333333334, 0.009259259259259254),
        (10, 0.04, 1.0),
        (10, 0.06999999999999999, 0.9999999619492741),
        (10, 0.1, 0.99963712),
        (10, 0.15811388300841897, 0.9316945195670987),
        (10, 0.31622776601683794, 0.21828385386284888),
        (10, 0.4300697617828996, 0.03390127427554823),
        (10, 0.5692099788303082, 0.0013650166722117883),
        (10, 0.7905694150420948, 3.602427284663163e-07),
        (10, 0.5, 0.00777741),
        (10, 0.9, 1.9999999999999957e-10),
        (10, 0.95, 1.9531250000000172e-13),
        (50, 0.008, 1.0),
        (50, 0.013999999999999999, 1.0),
        (50, 0.02, 1.0),
        (50, 0.07071067811865475, 0.9487944875162981),
        (50, 0.1414213562373095, 0.24581239735690597),
        (50, 0.19233304448274094, 0.04286423423691765),
        (50, 0.2545584412271571, 0.0024140909587995196),
        (50, 0.35355339059327373, 4.2690060009890896e-06),
        (50, 0.565685424949238, 1.2330478183508945e-15),
        (50, 0.5, 4.392853499119748e-12),
        (50, 0.9, 2.0160611902288146e-50),
        (50, 0.99, 2.0000000000000889e-100),
        (140, 0.002857142857142857, 1.0),
        (140, 0.005, 1.0),
        (140, 0.007142857142857143, 1.0),
        (140, 0.042257712736425826, 0.9548772475800795),
        (140, 0.08451542547285165, 0.25530484459737574),
        (140, 0.11494097864307826, 0.04559450483891349),
        (140, 0.152127765851133, 0.002706091263325561),
        (140, 0.21128856368212914, 5.807997673785573e-06),
        (140, 0.3380617018914066, 8.902790584947527e-15),
        (140, 0.5, 6.869300438276986e-33),
        (140, 0.9, 2.0855973600936603e-140),
        (140, 0.9964285714285714, 0.0),
        (141, 0.0028368794326241137, 1.0),
        (141, 0.004964539007092198, 1.0),
        (141, 0.0070921985815602835, 1.0),
        (141, 0.04210759605332595, 0.9549094893418928),
        (141, 0.15158734579197342, 0.0027075385062265284),
        (141, 0.21053798026662973, 5.81552565761188e-06),
        (141, 0.3368607684266076, 8.965618570567486e-15),
        (141, 0.5, 4.034017661079683e-33),
        (141, 0.9, 2.0864169369551964e-141),
        (141, 0.9964539007092199, 0.0),
        (1000, 0.0004, 1.0),
        (1000, 0.0007, 1.0),
        (1000, 0.001, 1.0),
        (1000, 0.05692099788303083, 0.0029437650801156087),
        (1000, 0.07905694150420949, 6.967265066703322e-06),
        (1000, 0.12649110640673517, 2.0896778698185917e-14),
        (1000, 0.5, 1.064517291557782e-231),
        (1000, 0.9, 0.0),
        (1000, 0.9995, 0.0),
        (5000, 8e-05, 1.0),
        (5000, 0.00014, 1.0),
        (5000, 0.0002, 1.0),
        (5000, 0.007071067811865475, 0.9624348682860043),
        (5000, 0.01414213562373095, 0.2674850951575305),
        (5000, 0.019233304448274095, 0.048848556777154495),
        (5000, 0.02545584412271571, 0.0030140462420861084),
        (5000, 0.035355339059327376, 7.258404360512366e-06),
        (5000, 0.0565685424949238, 2.3874327925714957e-14),
        (5000, 0.5, 0.0),
        (5000, 0.9, 0.0),
        (5000, 0.9999, 0.0),
        (100000, 4e-06, 1.0),
        (100000, 7e-06, 1.0),
        (100000, 1e-05, 1.0),
        (100000, 0.0015811388300841895, 0.963608000716019),
        (100000, 0.003162277660168379, 0.269435312462768),
        (100000, 0.0043006976178289955, 0.04934385868411428),
        (100000, 0.0056920997883030825, 0.0030559039316543878),
        (100000, 0.007905694150420948, 7.413045381065036e-06),
        (100000, 0.012649110640673516, 2.5088853169666164e-14),
        (100000, 0.5, 0.0),
        (100000, 0.9, 0.0),
        (100000, 0.999995, 0.0),
        (100001, 3.9999600003999965e-06, 1.0),
        (100001, 6.999930000699992e-06, 1.0),
        (100001, 9.99990000099999e-06, 1.0),
        (100001, 0.0015811309244493314, 0.9636080024029726),
        (100001, 0.0031622618488986627, 0.26943531528151476),
        (100001, 0.004300676114502182, 0.049343859394908596),
        (100001, 0.005692071328017593, 0.003055903990622991),
        (100001, 0.007905654622246657, 7.413045587236896e-06),
        (100001, 0.01264904739559465, 2.508885449531489e-14),
        (100001, 0.5, 0.0),
        (100001, 0.9, 0.0),
        (100001, 0.9999950000499995, 0.0),
        (1000000, 4.0000000000000003e-07, 1.0),
        (1000000, 7e-07, 1.0),
        (1000000, 1e-06, 1.0),
        (1000000, 0.0005, 0.9638386310076212),
        (1000000, 0.001, 0.26982107442589376),
        (1000000, 0.00136, 0.04944099739157226),
        (1000000, 0.0018, 0.003063932534378173),
        (1000000, 0.0025, 7.4407859767776965e-06),
        (1000000, 0.004, 2.5258184143391013e-14),
        (1000000, 0.5, 0.0),
        (1000000, 0.9, 0.0),
        (1000000, 0.9999995, 0.0),
    ];
    /// 140 < n ≤ 1000 in the body, where kstwo.sf uses Pelz–Good (2.4e-5 off at n = 141): the
    /// exact 1 − scipy.stats._ksstats._kolmogn_DMTW(n, d) (SciPy's Durbin/MTW matrix), and
    /// kstwo.sf for the tolerance of the approximation.
    const KS_SURVIVAL_DURBIN: &[(u64, f64, f64, f64)] = &[
        (141, 0.0842151921066519, 0.2553557179063, 0.2553544927215675),
        (
            141,
            0.11453266126504659,
            0.04560867601502716,
            0.045609192585224445,
        ),
        (
            1000,
            0.015811388300841896,
            0.9605615681722899,
            0.9605616144751687,
        ),
        (
            1000,
            0.03162277660168379,
            0.26440926769665685,
            0.2644092421903177,
        ),
        (
            1000,
            0.04300697617828996,
            0.04805302259769792,
            0.0480530330137775,
        ),
        (141, 0.08, 0.3108432481385957, 0.31084170879264117),
        (141, 0.1, 0.11128449666352931, 0.11128445516467944),
        (141, 0.12, 0.031600043092470165, 0.03160060527758468),
        (500, 0.05, 0.15866263922062615, 0.15866260223815387),
        (500, 0.06, 0.05243459577151481, 0.05243463489026223),
        (1000, 0.03, 0.3226902464133094, 0.3226902143914636),
        (1000, 0.045, 0.03378302868231253, 0.03378304014546085),
    ];
    /// n > 10⁶, upper tail: scipy.stats.kstwo.sf(d, n), which there is 2·(one-sided limit); equal
    /// to ours from λ = √n·d ≥ 2 on (below, ours keeps the alternating k ≥ 2 terms).
    const KS_SURVIVAL_LARGE_N: &[(u64, f64, f64)] = &[
        (4000000, 0.001, 0.0006704781120503322),
        (4000000, 0.0015, 3.0429514332208075e-08),
        (4000000, 0.0025, 3.851075830944047e-22),
        (100000000, 0.0002, 0.0006708358046950787),
        (100000000, 0.0003, 3.045386808976736e-08),
        (100000000, 0.0005, 3.856214074835218e-22),
    ];

    #[test]
    fn kolmogorov_survival_matches_scipy() {
        for &(lambda, want) in KOLMOGOROV {
            assert_rel(
                kolmogorov_survival(lambda),
                want,
                1e-14,
                &format!("kolmogorov({lambda})"),
            );
        }
        assert_eq!(kolmogorov_survival(0.0), 1.0);
        assert_eq!(kolmogorov_survival(-1.0), 1.0);
    }

    #[test]
    fn smirnov_survival_matches_scipy() {
        for &(n, d, want) in SMIRNOV {
            assert_rel(
                smirnov_survival(n, d),
                want,
                1e-12,
                &format!("smirnov({n}, {d})"),
            );
        }
        assert!(smirnov_survival(0, 0.5).is_nan());
        assert_eq!(smirnov_survival(5, 0.0), 1.0);
        assert_eq!(smirnov_survival(5, 1.0), 0.0);
    }

    #[test]
    fn ks_survival_matches_scipy_kstwo() {
        for &(n, d, want) in KS_SURVIVAL {
            assert_rel(
                ks_survival(n, d),
                want,
                1e-10,
                &format!("kstwo.sf({d}, {n})"),
            );
        }
        for &(n, d, exact, scipy) in KS_SURVIVAL_DURBIN {
            let got = ks_survival(n, d);
            assert_rel(got, exact, 1e-11, &format!("1 − DMTW({n}, {d})"));
            assert_rel(got, scipy, 3e-5, &format!("kstwo.sf({d}, {n})"));
        }
        for &(n, d, want) in KS_SURVIVAL_LARGE_N {
            assert_rel(
                ks_survival(n, d),
                want,
                1e-9,
                &format!("kstwo.sf({d}, {n})"),
            );
        }
        assert!(ks_survival(0, 0.1).is_nan());
        assert!(ks_survival(10, f64::NAN).is_nan());
        assert_eq!(ks_survival(10, 0.0), 1.0);
        assert_eq!(ks_survival(10, 1.0), 0.0);
    }
}
