//! Shared by the integration tests: one GPU context per test binary, and KAT parsing.
#![allow(dead_code)]

use std::sync::OnceLock;

use nninit::GpuContext;

/// The test binary's GPU context. Without an adapter this fails the test with the message naming
/// what to install; GPU tests never pass silently.
pub fn gpu() -> &'static GpuContext {
    static GPU: OnceLock<GpuContext> = OnceLock::new();
    GPU.get_or_init(|| match GpuContext::new() {
        Ok(gpu) => gpu,
        Err(error) => panic!("GPU tests need a wgpu adapter: {error}"),
    })
}

/// One known-answer vector: rounds, counter, key, expected output.
pub struct Kat {
    pub rounds: u32,
    pub ctr: [u32; 4],
    pub key: [u32; 2],
    pub out: [u32; 4],
}

/// Every vector in tests/data/philox4x32_kat.txt.
pub fn philox_kats() -> Vec<Kat> {
    include_str!("../data/philox4x32_kat.txt")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(fields.len(), 12, "malformed KAT line {line:?}");
            let hex = |i: usize| u32::from_str_radix(fields[i], 16).unwrap();
            Kat {
                rounds: fields[1].parse().unwrap(),
                ctr: [hex(2), hex(3), hex(4), hex(5)],
                key: [hex(6), hex(7)],
                out: [hex(8), hex(9), hex(10), hex(11)],
            }
        })
        .collect()
}

/// Standard normal CDF in f64 (libm's erfc keeps the tails accurate).
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// One-sample Kolmogorov–Smirnov statistic of `values` against `cdf`, and its asymptotic p-value
/// (Kolmogorov distribution with Stephens' small-sample correction √n + 0.12 + 0.11/√n).
pub fn ks_test(values: &[f32], cdf: impl Fn(f64) -> f64) -> (f64, f64) {
    let mut sorted: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let d = sorted
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = cdf(x);
            (f - i as f64 / n).max((i + 1) as f64 / n - f)
        })
        .fold(0.0f64, f64::max);
    let lambda = (n.sqrt() + 0.12 + 0.11 / n.sqrt()) * d;
    let p = (1..=100)
        .map(|k| {
            let k = f64::from(k);
            2.0 * (-1f64).powf(k - 1.0) * (-2.0 * k * k * lambda * lambda).exp()
        })
        .sum::<f64>()
        .clamp(0.0, 1.0);
    (d, p)
}

/// Per-test significance level used throughout (DESIGN.md: fixed seeds make a fluke permanent).
pub const ALPHA: f64 = 1e-6;
