//! Portable f32 elementary functions for the samplers, written identically in WGSL
//! (`shaders/math.wgsl`): only `+ − ×`, comparisons, selects and exact bit manipulation, so the
//! GPU and the CPU reference compute the same bits wherever the device rounds each operation
//! (lavapipe does; a device that fuses a multiply into the following add differs by a few ulp).
//! Built-in `log`/`sin`/`cos` differ per device and, on lavapipe, `log` is only absolutely
//! accurate near 1, which wrecks Box–Muller radii there.
//!
//! The polynomial coefficients are Chebyshev interpolants (degree 9 for `ln(1+x)/x` on
//! [√½−1, √2−1], degree 3 and 4 in `c²` for `sin(πc)/c` and `cos(πc)` on [0, ¼]), rounded to f32.
//! Accuracy, measured exhaustively over every input the samplers can produce
//! (`tests/math_accuracy.rs`): [`ln_unit`] relative error ≤ 2.4e-7, [`sin_cos_pi`] absolute
//! error ≤ 1.2e-7.

/// Coefficients of `ln(1 + x)/x` in powers of `x`, lowest first.
const LN1P_COEFFS: [u32; 10] = [
    0x3f80_0000,
    0xbeff_fffc,
    0x3eaa_aaaf,
    0xbe80_0212,
    0x3e4c_cf43,
    0xbe2a_11d8,
    0x3e11_6788,
    0xbe07_d81b,
    0x3e03_23c3,
    0xbd98_99ad,
];
/// Coefficients of `sin(πc)/c` in powers of `c²`, lowest first.
const SIN_PI_COEFFS: [u32; 4] = [0x4049_0fdb, 0xc0a5_5ddd, 0x4023_2f62, 0xbf16_cda0];
/// Coefficients of `cos(πc)` in powers of `c²`, lowest first.
const COS_PI_COEFFS: [u32; 5] = [
    0x3f80_0000,
    0xc09d_e9e6,
    0x4081_e0ee,
    0xbfaa_e2bd,
    0x3e6c_e174,
];
/// f32 nearest √2 and ln 2.
const SQRT_2: f32 = f32::from_bits(0x3fb5_04f3);
const LN_2: f32 = f32::from_bits(0x3f31_7218);

/// Horner evaluation, highest coefficient first, one multiply and one add per step.
#[inline(always)]
fn horner<const N: usize>(coeffs: &[u32; N], x: f32) -> f32 {
    coeffs[..N - 1]
        .iter()
        .rev()
        .fold(f32::from_bits(coeffs[N - 1]), |acc, &c| {
            acc * x + f32::from_bits(c)
        })
}

/// Natural logarithm of a positive normal f32 (the samplers pass values in (0, 1]). Splits
/// `u = 2^e·f` with `f` in [√½, √2) by bit manipulation, so `x = f − 1` is exact and the result
/// `e·ln 2 + x·P(x)` keeps full relative accuracy next to 1.
#[inline(always)]
pub fn ln_unit(u: f32) -> f32 {
    let bits = u.to_bits();
    let mantissa = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000); // [1, 2)
    let exponent = ((bits >> 23) & 0xff) as i32 - 127;
    let high = mantissa > SQRT_2;
    let f = if high { mantissa * 0.5 } else { mantissa };
    let e = if high { exponent + 1 } else { exponent };
    let x = f - 1.0;
    e as f32 * LN_2 + x * horner(&LN1P_COEFFS, x)
}

/// `(sin(πt), cos(πt))` for `t` in [−1, 1]. Reflections about ½ and ¼ (all exact) bring the
/// argument to [0, ¼], where two short polynomials take over.
#[inline(always)]
pub fn sin_cos_pi(t: f32) -> (f32, f32) {
    let a = t.abs();
    let reflect = a > 0.5; // sin(πa) = sin(π(1−a)), cos(πa) = −cos(π(1−a))
    let b = if reflect { 1.0 - a } else { a };
    let swap = b > 0.25; // sin(πb) = cos(π(½−b)), cos(πb) = sin(π(½−b))
    let c = if swap { 0.5 - b } else { b };
    let c2 = c * c;
    let sin_c = c * horner(&SIN_PI_COEFFS, c2);
    let cos_c = horner(&COS_PI_COEFFS, c2);
    let (sin_b, cos_b) = if swap { (cos_c, sin_c) } else { (sin_c, cos_c) };
    let cos_t = if reflect { -cos_b } else { cos_b };
    let sin_t = if t < 0.0 { -sin_b } else { sin_b };
    (sin_t, cos_t)
}
