//! Accuracy of the truncated normal's arithmetic on the CPU (which the WGSL repeats operation for
//! operation) against f64 references: the portable normal quantile `probit` over f32
//! probabilities, and the sampler's `z` over every one of the 2^24 uniform grid points `k` for
//! several intervals. By default the sweeps take every 61st f32 probability and every 11th grid
//! point; `NNINIT_EXHAUSTIVE=1` makes them visit every f32 in [2^-125, ½] (about 1.04e9 values)
//! and all 2^24 grid points (minutes on two cores).

use nninit::contract::math::{normal_cdf, normal_pdf, normal_sf, probit};
use nninit::{Dtype, Sampler};
use rayon::prelude::*;

/// Error of `z` as an approximation of the point whose lower-tail probability is `p_lower`
/// (or upper-tail probability `p_upper`, when given): one Newton step in f64, whose own error
/// is second order.
fn z_error(z: f32, p_lower: f64, p_upper: Option<f64>) -> f64 {
    let z = f64::from(z);
    let residual = match p_upper {
        None => normal_cdf(z) - p_lower,
        Some(p) => p - normal_sf(z),
    };
    (residual / normal_pdf(z)).abs()
}

fn exhaustive() -> bool {
    std::env::var_os("NNINIT_EXHAUSTIVE").is_some()
}

/// Standard-units error relative to `max(1, |z|)`.
fn scaled(error: f64, z: f32) -> f64 {
    error / f64::from(z.abs()).max(1.0)
}

#[test]
fn probit_error_is_below_3e_7_times_max_1_z_on_f32_probabilities() {
    let stride = if exhaustive() { 1 } else { 61 };
    let first = 2f32.powi(-125).to_bits();
    let last = 0.5f32.to_bits();
    let count = (last - first) / stride + 1;
    let (worst, at) = (0..count)
        .into_par_iter()
        .map(|i| {
            let p = f32::from_bits(first + i * stride);
            let q = (f64::from(p) - 0.5) as f32;
            let z = probit(p, q);
            (scaled(z_error(z, f64::from(p), None), z), p)
        })
        .reduce(|| (0.0, 0.0), |a, b| if b.0 > a.0 { b } else { a });
    println!(
        "probit: worst |z − z_exact|/max(1, |z|) = {worst:.3e} at p = {at:e} (stride {stride})"
    );
    assert!(worst <= 3e-7, "worst {worst:e} at p = {at:e}");
}

/// The `k` of the 2^24 grid (every one, or a stride with both ends) through `Prepared::trunc_normal_z`, against the exact quantile of
/// the same grid point computed in f64. Returns the worst scaled error.
fn worst_z_error(mean: f32, std: f32, low: f32, high: f32) -> (f64, f32) {
    let sampler = Sampler::TruncNormal {
        mean,
        std,
        low,
        high,
    };
    let prepared = sampler.prepare(Dtype::F32).unwrap();
    let (std64, mean64) = (f64::from(std), f64::from(mean));
    let alpha = (f64::from(low) - mean64) / std64;
    let beta = (f64::from(high) - mean64) / std64;
    let below = normal_cdf(alpha);
    let above = normal_sf(beta);
    let mass = if beta <= 0.0 {
        normal_cdf(beta) - below
    } else if alpha >= 0.0 {
        normal_sf(alpha) - above
    } else {
        1.0 - below - above
    };
    let d = mass / 16_777_216.0;
    let stride = if exhaustive() { 1 } else { 11 };
    (0u32..(1 << 24) / stride)
        .into_par_iter()
        .map(|i| {
            // The first and last grid points, where the tails are, always included.
            let k = if i == 0 { (1 << 24) - 1 } else { i * stride };
            let z = prepared.trunc_normal_z(k << 8);
            let lower = below + (f64::from(k) + 0.5) * d;
            let error = if lower <= 0.5 {
                z_error(z, lower, None)
            } else {
                let upper = above + (16_777_215.5 - f64::from(k)) * d;
                z_error(z, 0.0, Some(upper))
            };
            assert!(
                (f64::from(z) >= alpha - 1e-5 * alpha.abs().max(1.0))
                    && (f64::from(z) <= beta + 1e-5 * beta.abs().max(1.0)),
                "z = {z} outside [{alpha}, {beta}] at k = {k}"
            );
            (scaled(error, z), z)
        })
        .reduce(|| (0.0, 0.0), |a, b| if b.0 > a.0 { b } else { a })
}

#[test]
fn trunc_normal_z_is_within_3e_7_times_max_1_z_on_the_uniform_grid() {
    for (mean, std, low, high) in [
        (0.0f32, 1.0f32, -2.0f32, 2.0f32),
        (0.0, 0.002, -2.0, 2.0), // ±1000σ
        (0.0, 1.0, 2.0, 3.0),
        (0.0, 1.0, -1e4, 0.0),
        (0.0, 1000.0, -0.5, 0.5), // nearly uniform
        (1.0, 0.5, 3.5, 4.0),     // [5σ, 6σ]
        (0.0, 1.0, -11.0, -10.0), // mass 7.7e-24
    ] {
        let (worst, z) = worst_z_error(mean, std, low, high);
        println!(
            "trunc_normal({mean}, {std}, {low}, {high}): worst |z − z_exact|/max(1, |z|) = \
             {worst:.3e} (at z = {z})"
        );
        assert!(
            worst <= 3e-7,
            "({mean}, {std}, {low}, {high}): {worst:e} at z = {z}"
        );
    }
}
