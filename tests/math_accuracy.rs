//! Exhaustive accuracy of nninit's portable `ln`/`sincospi` and of the Box–Muller normals built on
//! them, over every input the samplers can produce, against f64 references.

use nninit::contract::math::{ln_unit, sin_cos_pi};
use nninit::contract::stream::{signed_unit, unit_open_closed};
use nninit::sample::sampler::box_muller;

/// Every 24-bit grid value, as the word `k << 8` that produces it.
fn every_grid_word() -> impl Iterator<Item = u32> {
    (0u32..1 << 24).map(|k| k << 8)
}

#[test]
fn ln_unit_relative_error_is_below_2_4e_7_on_every_radius() {
    let worst = every_grid_word()
        .map(|w| {
            let u = unit_open_closed(w);
            let exact = f64::from(u).ln();
            if exact == 0.0 {
                assert_eq!(ln_unit(u), 0.0);
                0.0
            } else {
                ((f64::from(ln_unit(u)) - exact) / exact).abs()
            }
        })
        .fold(0.0f64, f64::max);
    println!("ln_unit worst relative error {worst:.3e}");
    assert!(worst <= 2.4e-7, "worst relative error {worst:e}");
}

#[test]
fn sin_cos_pi_absolute_error_is_below_1_2e_7_on_every_angle() {
    let worst = every_grid_word()
        .map(|w| {
            let t = signed_unit(w);
            let (s, c) = sin_cos_pi(t);
            let theta = std::f64::consts::PI * f64::from(t);
            (f64::from(s) - theta.sin())
                .abs()
                .max((f64::from(c) - theta.cos()).abs())
        })
        .fold(0.0f64, f64::max);
    println!("sin_cos_pi worst absolute error {worst:.3e}");
    assert!(worst <= 1.2e-7, "worst absolute error {worst:e}");
}

#[test]
fn box_muller_is_within_1e_6_of_exact_arithmetic() {
    // Radii across the whole grid (including u1 next to 1, where r → 0), angles pseudo-random.
    let mut worst = 0.0f64;
    for (i, radius_word) in every_grid_word().enumerate().step_by(7) {
        let angle_word = (i as u32).wrapping_mul(0x9E37_79B9);
        let (z0, z1) = box_muller(radius_word, angle_word);
        let r = (-2.0 * f64::from(unit_open_closed(radius_word)).ln()).sqrt();
        let theta = std::f64::consts::PI * f64::from(signed_unit(angle_word));
        worst = worst
            .max((f64::from(z0) - r * theta.cos()).abs())
            .max((f64::from(z1) - r * theta.sin()).abs());
    }
    println!("box_muller worst absolute error {worst:.3e}");
    assert!(worst <= 1e-6, "worst absolute error {worst:e}");
}
