//! The truncated normal on the GPU against the CPU reference and against the exact distribution:
//! element-wise agreement, bounds in f32/f16/bf16, moments with exact standard errors, sample
//! kurtosis, and Kolmogorov–Smirnov tests against the exact CDF (also of the rounded 16-bit
//! distributions), each at α = 1e-6.

mod common;

use nninit::StreamId;
use nninit::contract::math::{normal_cdf, normal_pdf, normal_sf};
use nninit::{Dtype, Sampler};

use common::invalid_parameter_name;

const N: u64 = 1 << 20;

/// Two-sided α = 1e-6 for a standard normal statistic.
const Z_CRITICAL: f64 = 4.891_638;

fn trunc(mean: f32, std: f32, low: f32, high: f32) -> Sampler {
    Sampler::TruncNormal {
        mean,
        std,
        low,
        high,
    }
}

/// The parameter sets every check runs on: standard ±2σ, PyTorch's failure case (σ = 0.002,
/// bounds ±2 = ±1000σ), one-sided tails, a far tail, tiny and huge σ, an asymmetric interval.
const CASES: [(f32, f32, f32, f32); 9] = [
    (0.0, 1.0, -2.0, 2.0),
    (0.0, 0.002, -2.0, 2.0),
    (0.0, 1.0, 2.0, 3.0),
    (0.0, 1.0, -1e30, 0.0),
    (3.0, 2.0, -1.0, 4.5),
    (0.0, 1.0, 5.0, 6.0),
    (0.0, 1e-20, -3e-20, 1e-20),
    (-0.5, 1e-3, -0.5015, -0.4999),
    (0.0, 1000.0, -0.5, 0.5),
];

fn cpu_f32(sampler: &Sampler, id: StreamId, n: u64) -> Vec<f32> {
    let mut out = vec![0.0; n as usize];
    nninit::backend::cpu::fill(sampler, id, 0, &mut out).unwrap();
    out
}

fn cpu_bits(sampler: &Sampler, id: StreamId, n: u64, dtype: Dtype) -> Vec<u16> {
    let mut out = vec![0; n as usize];
    nninit::backend::cpu::fill_bits(sampler, id, 0, dtype, &mut out).unwrap();
    out
}

/// Order-preserving integer key of a sign–magnitude float's bits (`sign` = the sign bit).
fn key(bits: u32, sign: u32) -> i64 {
    let magnitude = i64::from(bits & (sign - 1));
    if bits & sign != 0 {
        -magnitude
    } else {
        magnitude
    }
}

#[test]
fn gpu_equals_cpu_within_the_documented_bound_and_stays_in_bounds() {
    // Documented (docs/trunc_normal.md): |GPU − CPU| ≤ 1e-6·std·max(1, |z|) + 1 ulp of the value
    // in f32 (the ulp covers `mean + std·z` when std is far below the mean's ulp), and at most
    // 1 ulp of the 16-bit type after rounding.
    let gpu = common::gpu();
    for (i, &(mean, std, low, high)) in CASES.iter().enumerate() {
        let sampler = trunc(mean, std, low, high);
        let id = StreamId::new(40 + i as u64, 17);
        let g = gpu.fill(&sampler, id, 0..N).unwrap();
        let c = cpu_f32(&sampler, id, N);
        let mut worst = 0.0f64;
        for (&gv, &cv) in g.iter().zip(&c) {
            let scale = f64::from(std)
                * ((f64::from(cv) - f64::from(mean)) / f64::from(std))
                    .abs()
                    .max(1.0);
            let ulp = f64::from(f32::from_bits(cv.abs().to_bits() + 1) - cv.abs());
            let delta = (f64::from(gv) - f64::from(cv)).abs();
            assert!(
                delta <= 1e-6 * scale + ulp,
                "({mean}, {std}, {low}, {high}): GPU {gv:e} vs CPU {cv:e}"
            );
            worst = worst.max(delta / scale);
        }
        let identical = g
            .iter()
            .zip(&c)
            .filter(|(a, b)| a.to_bits() == b.to_bits())
            .count();
        println!(
            "trunc_normal({mean}, {std}, {low}, {high}) f32: worst |Δ|/(std·max(1,|z|)) = \
             {worst:.3e}, {identical}/{N} bit-identical"
        );
        for values in [&g, &c] {
            assert!(
                values.iter().all(|&v| low <= v && v <= high),
                "({mean}, {std}, {low}, {high}): a value left the bounds"
            );
        }

        for dtype in [Dtype::F16, Dtype::Bf16] {
            if dtype.inner_bounds(low, high).is_none() {
                assert_eq!(
                    invalid_parameter_name(gpu.fill_bits(&sampler, id, 0..4, dtype)),
                    "a, b"
                );
                continue;
            }
            let g = gpu.fill_bits(&sampler, id, 0..N, dtype).unwrap();
            let c = cpu_bits(&sampler, id, N, dtype);
            let worst_ulp = g
                .iter()
                .zip(&c)
                .map(|(&a, &b)| key(a.into(), 0x8000).abs_diff(key(b.into(), 0x8000)))
                .max()
                .unwrap();
            let identical = g.iter().zip(&c).filter(|(a, b)| a == b).count();
            println!("    {dtype}: worst {worst_ulp} ulp, {identical}/{N} bit-identical");
            assert!(worst_ulp <= 1, "{dtype} ({mean}, {std}, {low}, {high})");
            for bits in [&g, &c] {
                assert!(
                    bits.iter().all(|&b| {
                        let v = dtype.value_of(b.into());
                        low <= v && v <= high
                    }),
                    "{dtype} ({mean}, {std}, {low}, {high}): a value left the bounds"
                );
            }
        }
    }
}

#[test]
fn huge_bounds_with_tiny_std_stay_within_a_few_std() {
    // PyTorch ≤ 2.11 produced values at ±2 here. The grid point nearest an end is ½·2^-24 of the
    // mass from it: |z| ≤ Φ⁻¹(1 − 2^-25) ≈ 5.42.
    let gpu = common::gpu();
    let sampler = trunc(0.0, 0.002, -2.0, 2.0);
    for seed in [0u64, 1, 2] {
        let id = StreamId::new(seed, 5);
        let values = gpu.fill(&sampler, id, 0..N).unwrap();
        let worst = values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        println!("σ = 0.002, ±2: max |v| = {worst:e} = {:.3}σ", worst / 0.002);
        assert!(worst <= 5.43 * 0.002, "max |v| = {worst}");
        for dtype in [Dtype::F16, Dtype::Bf16] {
            let bits = gpu.fill_bits(&sampler, id, 0..N, dtype).unwrap();
            let worst = bits
                .iter()
                .fold(0.0f32, |m, &b| m.max(dtype.value_of(b.into()).abs()));
            assert!(worst <= 5.5 * 0.002, "{dtype}: max |v| = {worst}");
        }
    }
}

/// Moments `E[z^k]` (k = 0..=8) of the standard normal truncated to [α, β], by Simpson's rule.
fn exact_raw_moments(alpha: f64, beta: f64) -> [f64; 9] {
    let (a, b) = (alpha.max(-40.0), beta.min(40.0));
    let n = 200_000;
    let h = (b - a) / n as f64;
    let mut m = [0.0f64; 9];
    for i in 0..=n {
        let z = a + h * i as f64;
        let w = if i == 0 || i == n {
            1.0
        } else if i % 2 == 1 {
            4.0
        } else {
            2.0
        };
        let density = normal_pdf(z);
        let mut power = 1.0;
        for moment in &mut m {
            *moment += w * density * power;
            power *= z;
        }
    }
    let mass = m[0];
    m.map(|x| x / mass)
}

/// Central moments μ_k (k = 0..=8) from raw moments.
fn central(raw: &[f64; 9]) -> [f64; 9] {
    let mu = raw[1];
    let mut c = [0.0f64; 9];
    for (k, ck) in c.iter_mut().enumerate() {
        let mut binom = 1.0f64;
        for (j, &raw_j) in raw.iter().enumerate().take(k + 1) {
            *ck += binom * raw_j * (-mu).powi((k - j) as i32);
            binom = binom * (k - j) as f64 / (j + 1) as f64;
        }
    }
    c
}

#[test]
fn moments_and_kurtosis_match_the_truncated_distribution() {
    let gpu = common::gpu();
    for (i, &(mean, std, low, high)) in [
        (0.0f32, 0.002f32, -2.0f32, 2.0f32),
        (0.0, 1.0, -2.0, 2.0),
        (0.0, 1.0, 2.0, 3.0),
        (3.0, 2.0, -1.0, 4.5),
        (0.0, 1.0, 5.0, 6.0),
    ]
    .iter()
    .enumerate()
    {
        let alpha = (f64::from(low) - f64::from(mean)) / f64::from(std);
        let beta = (f64::from(high) - f64::from(mean)) / f64::from(std);
        let raw = exact_raw_moments(alpha, beta);
        let mu = central(&raw);
        let values = gpu
            .fill(
                &trunc(mean, std, low, high),
                StreamId::new(100 + i as u64, 0),
                0..N,
            )
            .unwrap();
        let n = values.len() as f64;
        let z: Vec<f64> = values
            .iter()
            .map(|&v| (f64::from(v) - f64::from(mean)) / f64::from(std))
            .collect();
        // Raw moments E[z^k], k = 1..4, each with its exact standard error √((m_2k − m_k²)/n).
        for k in 1..=4 {
            let sample = z.iter().map(|x| x.powi(k as i32)).sum::<f64>() / n;
            let se = ((raw[2 * k] - raw[k] * raw[k]) / n).sqrt();
            let t = (sample - raw[k]) / se;
            assert!(
                t.abs() < Z_CRITICAL,
                "({mean}, {std}, {low}, {high}) E[z^{k}] = {sample}, exact {}, z = {t:.2}",
                raw[k]
            );
        }
        // Kurtosis about the exact mean, μ4/μ2², with its delta-method standard error.
        let (s2, s4) = z.iter().fold((0.0, 0.0), |(s2, s4), x| {
            let d = (x - raw[1]) * (x - raw[1]);
            (s2 + d, s4 + d * d)
        });
        let (m2, m4) = (s2 / n, s4 / n);
        let kurtosis = m4 / (m2 * m2);
        let exact = mu[4] / (mu[2] * mu[2]);
        let (g2, g4) = (-2.0 * mu[4] / mu[2].powi(3), 1.0 / mu[2].powi(2));
        let var = (g2 * g2 * (mu[4] - mu[2] * mu[2])
            + 2.0 * g2 * g4 * (mu[6] - mu[2] * mu[4])
            + g4 * g4 * (mu[8] - mu[4] * mu[4]))
            / n;
        let t = (kurtosis - exact) / var.sqrt();
        println!(
            "trunc_normal({mean}, {std}, {low}, {high}): kurtosis {kurtosis:.4} (exact {exact:.4}, \
             se {:.4}, z = {t:.2})",
            var.sqrt()
        );
        assert!(t.abs() < Z_CRITICAL, "kurtosis z = {t:.2}");
    }
}

/// The exact CDF of the normal(mean, std) truncated to [low, high], each side from its own tail.
fn exact_cdf(x: f64, mean: f64, std: f64, low: f64, high: f64) -> f64 {
    let (alpha, beta) = ((low - mean) / std, (high - mean) / std);
    let z = ((x - mean) / std).clamp(alpha, beta);
    let mass = if beta <= 0.0 {
        normal_cdf(beta) - normal_cdf(alpha)
    } else if alpha >= 0.0 {
        normal_sf(alpha) - normal_sf(beta)
    } else {
        1.0 - normal_cdf(alpha) - normal_sf(beta)
    };
    let f = if z <= 0.0 && alpha < 0.0 {
        (normal_cdf(z) - normal_cdf(alpha)) / mass
    } else {
        1.0 - (normal_sf(z) - normal_sf(beta)) / mass
    };
    f.clamp(0.0, 1.0)
}

/// Asymptotic Kolmogorov p-value of the statistic `d` on `n` samples (Stephens' correction).
fn kolmogorov_p(d: f64, n: usize) -> f64 {
    let sqrt_n = (n as f64).sqrt();
    let lambda = (sqrt_n + 0.12 + 0.11 / sqrt_n) * d;
    if lambda < 0.2 {
        return 1.0;
    }
    let sum: f64 = (1..=100)
        .map(|k| {
            let k = f64::from(k);
            let sign = if k as u32 % 2 == 1 { 1.0 } else { -1.0 };
            sign * (-2.0 * k * k * lambda * lambda).exp()
        })
        .sum();
    (2.0 * sum).clamp(0.0, 1.0)
}

/// KS statistic of f32 samples against a continuous CDF.
fn ks_continuous(values: &[f32], cdf: impl Fn(f64) -> f64) -> f64 {
    let mut sorted: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    sorted
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            ((i + 1) as f64 / n - f).max(f - i as f64 / n)
        })
        .fold(0.0, f64::max)
}

/// KS statistic of 16-bit samples against the distribution of the exact variable rounded to
/// nearest in `dtype` and clamped to `[lo, hi]` (its inner bounds): the CDF at a representable
/// `v` is the continuous CDF at the midpoint between `v` and the next representable value.
fn ks_rounded(bits: &[u16], dtype: Dtype, cdf: impl Fn(f64) -> f64) -> f64 {
    let value = |b: u16| f64::from(dtype.value_of(b.into()));
    let step = |b: u16, up: bool| -> u16 {
        let negative = b & 0x8000 != 0;
        match (up, negative) {
            (true, true) if b == 0x8000 => 0x0001,
            (false, false) if b == 0 => 0x8001,
            (true, true) | (false, false) => b - 1,
            _ => b + 1,
        }
    };
    let mut sorted: Vec<u16> = bits.to_vec();
    sorted.sort_by(|&a, &b| value(a).total_cmp(&value(b)));
    let n = sorted.len() as f64;
    let mut d = 0.0f64;
    let mut i = 0;
    while i < sorted.len() {
        let v = sorted[i];
        let mut j = i;
        while j < sorted.len() && value(sorted[j]) == value(v) {
            j += 1;
        }
        let below = cdf(0.5 * (value(step(v, false)) + value(v)));
        let at = cdf(0.5 * (value(v) + value(step(v, true))));
        d = d
            .max((i as f64 / n - below).abs())
            .max((j as f64 / n - at).abs());
        i = j;
    }
    d
}

#[test]
fn kolmogorov_smirnov_against_the_exact_cdf() {
    let gpu = common::gpu();
    let n = 1u64 << 18;
    for &(mean, std, low, high) in &[
        (0.0f32, 1.0f32, -2.0f32, 2.0f32),
        (0.0, 0.002, -2.0, 2.0),
        (0.0, 1.0, 2.0, 3.0),
        (0.0, 1.0, -1e30, 0.0),
        (0.0, 1.0, 5.0, 6.0),
    ] {
        let sampler = trunc(mean, std, low, high);
        let cdf = |x: f64| {
            exact_cdf(
                x,
                f64::from(mean),
                f64::from(std),
                f64::from(low),
                f64::from(high),
            )
        };
        for seed in [0u64, 1, 0xDEAD_BEEF] {
            let id = StreamId::new(seed, 3);
            let values = gpu.fill(&sampler, id, 0..n).unwrap();
            let d = ks_continuous(&values, cdf);
            let p = kolmogorov_p(d, values.len());
            println!(
                "KS trunc_normal({mean}, {std}, {low}, {high}) seed {seed}: D = {d:.2e}, p = {p:.3}"
            );
            assert!(p > 1e-6, "f32 seed {seed}: D = {d:e}, p = {p:e}");
            for dtype in [Dtype::F16, Dtype::Bf16] {
                let bits = gpu.fill_bits(&sampler, id, 0..n, dtype).unwrap();
                let d = ks_rounded(&bits, dtype, cdf);
                let p = kolmogorov_p(d, bits.len());
                println!("    {dtype}: D = {d:.2e}, p = {p:.3}");
                assert!(p > 1e-6, "{dtype} seed {seed}: D = {d:e}, p = {p:e}");
            }
        }
    }
}

#[test]
fn the_ks_helper_rejects_a_wrong_distribution() {
    // The exact normal(0, 1) truncated to ±2 is not the truncation to ±2.1: the test must see it.
    let values = common::gpu()
        .fill(&trunc(0.0, 1.0, -2.0, 2.0), StreamId::new(9, 9), 0..1 << 18)
        .unwrap();
    let d = ks_continuous(&values, |x| exact_cdf(x, 0.0, 1.0, -2.1, 2.1));
    assert!(kolmogorov_p(d, values.len()) < 1e-6, "D = {d}");
}

#[test]
fn invalid_truncated_normals_are_errors_naming_the_parameter() {
    let gpu = common::gpu();
    let id = StreamId::new(0, 0);
    for (sampler, parameter) in [
        (trunc(0.0, 0.0, -1.0, 1.0), "std"),
        (trunc(0.0, -1.0, -1.0, 1.0), "std"),
        (trunc(0.0, 1.0, 1.0, 1.0), "b"),
        (trunc(0.0, 1.0, 2.0, -2.0), "b"),
        (trunc(f32::NAN, 1.0, -1.0, 1.0), "mean"),
        (trunc(0.0, 1.0, f32::NEG_INFINITY, 1.0), "a"),
        (trunc(0.0, 1.0, 12.0, 13.0), "a, b"), // mass 1.8e-33 < 2^-100
        (trunc(0.0, 1.0, -40.0, -39.0), "a, b"),
    ] {
        assert_eq!(
            invalid_parameter_name(sampler.validate()),
            parameter,
            "{sampler:?}"
        );
        assert_eq!(
            invalid_parameter_name(gpu.fill(&sampler, id, 0..4)),
            parameter,
            "{sampler:?}"
        );
        let mut out = [0.0f32; 4];
        assert_eq!(
            invalid_parameter_name(nninit::backend::cpu::fill(&sampler, id, 0, &mut out)),
            parameter,
            "{sampler:?}"
        );
    }
    // Valid in f32, but no bf16 value lies in [1.0001, 1.0002].
    let narrow = trunc(1.0, 1.0, 1.0001, 1.0002);
    narrow.validate().unwrap();
    assert_eq!(
        invalid_parameter_name(gpu.fill_bits(&narrow, id, 0..4, Dtype::Bf16)),
        "a, b"
    );
    let mut bits = [0u16; 4];
    assert_eq!(
        invalid_parameter_name(nninit::backend::cpu::fill_bits(
            &narrow,
            id,
            0,
            Dtype::Bf16,
            &mut bits
        )),
        "a, b"
    );
    // [11σ, 12σ] holds 1.9e-28 of the mass: still valid, and stays in bounds.
    let far = trunc(0.0, 1.0, 11.0, 12.0);
    let values = gpu.fill(&far, id, 0..4096).unwrap();
    assert!(values.iter().all(|v| (11.0..=12.0).contains(v)));
}

#[test]
fn sub_ranges_equal_the_whole_fill() {
    let gpu = common::gpu();
    let sampler = trunc(0.1, 0.3, -0.2, 0.9);
    let id = StreamId::new(31, 4);
    let whole = gpu.fill(&sampler, id, 0..10_007).unwrap();
    for range in [0..1u64, 3..17, 4097..10_007, 9999..10_000] {
        let part = gpu.fill(&sampler, id, range.clone()).unwrap();
        assert!(
            part.iter()
                .zip(&whole[range.start as usize..range.end as usize])
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "{range:?}"
        );
    }
}
