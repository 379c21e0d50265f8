//! Portable f32 elementary functions for the samplers, written identically in WGSL
//! (`shaders/math.wgsl`): only `+ − ×`, `sqrt`, comparisons, selects and exact bit manipulation,
//! so the GPU and the CPU reference compute the same bits wherever the device rounds each
//! operation (a device that fuses a multiply into the following add differs by a few ulp).
//! Built-in `log`/`sin`/`cos` differ per device and, on lavapipe, `log` is only absolutely
//! accurate near 1, which wrecks Box–Muller radii there. The WGSL passes the argument of the `ln`
//! polynomial through `opaque` (an exclusive or with a uniform zero), because lavapipe otherwise
//! rewrites that polynomial inexactly (15% of `ln` results were 1 ulp off; with the barrier the
//! normal and truncated normal samplers are bit-identical to this CPU code on lavapipe).
//!
//! The polynomial coefficients are Chebyshev interpolants (degree 9 for `ln(1+x)/x` on
//! [√½−1, √2−1], degree 3 and 4 in `c²` for `sin(πc)/c` and `cos(πc)` on [0, ¼]), rounded to f32.
//! Accuracy, measured exhaustively over every input the samplers can produce
//! (`tests/math_accuracy.rs`): [`ln_unit`] relative error ≤ 2.4e-7, [`sin_cos_pi`] absolute
//! error ≤ 1.2e-7. The normal quantile [`probit`] for the truncated normal:
//! `|z − z_exact| ≤ 2.6e-7·max(1, |z|)` on every f32 probability in [2^-125, ½]
//! (`tests/trunc_normal_accuracy.rs`).
//!
//! Also here: the bit-exact f32 → f16/bf16 rounding the kernels use ([`f16_bits`],
//! [`bf16_bits`]), and the f64 host functions that set up the truncated normal ([`erfc`],
//! [`normal_cdf`], [`normal_sf`], [`normal_pdf`]).

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

/// `if when { then } else { otherwise }` on 32-bit patterns, as a mask on the bits. LLVM keeps
/// such a pick where it stands; a plain select it may move after the arithmetic that follows and
/// evaluate that arithmetic on both sides (the same values, several times the work), which it
/// did to `sin_cos_pi`'s reductions, `probit`'s pieces and the truncated normal's tails.
#[inline(always)]
pub fn pick_bits(when: bool, then: u32, otherwise: u32) -> u32 {
    otherwise ^ ((then ^ otherwise) & u32::from(when).wrapping_neg())
}

/// [`pick_bits`] on f32 values.
#[inline(always)]
pub fn pick_f32(when: bool, then: f32, otherwise: f32) -> f32 {
    f32::from_bits(pick_bits(when, then.to_bits(), otherwise.to_bits()))
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
    // The reduced arguments picked by masks, before the polynomials ([`pick_f32`]).
    let b = pick_f32(reflect, 1.0 - a, a);
    let swap = b > 0.25; // sin(πb) = cos(π(½−b)), cos(πb) = sin(π(½−b))
    let c = pick_f32(swap, 0.5 - b, b);
    let c2 = c * c;
    let sin_c = c * horner(&SIN_PI_COEFFS, c2);
    let cos_c = horner(&COS_PI_COEFFS, c2);
    let (sin_b, cos_b) = if swap { (cos_c, sin_c) } else { (sin_c, cos_c) };
    let cos_t = if reflect { -cos_b } else { cos_b };
    let sin_t = if t < 0.0 { -sin_b } else { sin_b };
    (sin_t, cos_t)
}

// ---------------------------------------------------------------------------------------------
// The normal quantile (inverse CDF) for the truncated normal sampler.

/// Coefficients of the three pieces of [`probit`], lowest power first, as f32 bits. Least-squares
/// fits (relative error, 3000 Chebyshev nodes, coefficients rounded to f32 one at a time from the
/// highest, the lower ones refitted after each rounding) to exact values from mpmath:
/// - `[0]` central, `w` in [0, 4): `√2·erfinv(x)/x` in powers of `w − 2`;
/// - `[1]` tail, `s = √w` in [2, 4): `√2·erfinv(x)` in powers of `s − 3`;
/// - `[2]` far tail, `s` in [4, 9.3]: `√2·erfinv(x)` in powers of `s − 6.65`;
///
/// where `x = 1 − 2p` and `w = −ln(1 − x²) = −ln(4p(1 − p))` (Giles' variable).
const PROBIT_COEFFS: [[u32; 10]; 3] = [
    [
        0x3ff9_4d76,
        0x3eb4_d9f6,
        0xbb36_690b,
        0xbb1c_d554,
        0x39a0_17cd,
        0x3734_761a,
        0xb6e6_a5c4,
        0x34e6_d944,
        0x33c6_96c5,
        0xb26e_237e,
    ],
    [
        0x4080_32af,
        0x3fb5_8053,
        0x3c1e_9050,
        0xbb9f_9e2d,
        0x3ad4_44dc,
        0xb9a6_1c94,
        0xb883_0bf7,
        0x38b6_2698,
        0xb7b7_a825,
        0xb672_7def,
    ],
    [
        0x4113_7068,
        0x3fb6_a3f6,
        0xba3e_9c8f,
        0xb6cf_b640,
        0x3766_0ced,
        0xb66d_9c37,
        0x3522_6e1d,
        0xb3d2_82c1,
        0x3307_1701,
        0xb1c0_c988,
    ],
];
/// Centre of the far-tail piece, 6.65 rounded to f32 (`s − 6.65` is exact for `s` in [4, 9.3]).
const PROBIT_FAR_CENTRE: f32 = f32::from_bits(0x40d4_cccd);

/// The standard normal quantile `Φ⁻¹(p)` of a lower-tail probability `p` in [2^-125, ½] (a little
/// above ½ is fine too), given also `q = p − ½` computed independently (so that values next to 0
/// keep their relative precision when `p` is close to ½). Returns `z ≤ 0` for `p ≤ ½`.
///
/// In Giles' variable `w = −ln(4p(1 − p))`: for `w < 4` (p > 0.0046),
/// `z = 2q·A(w)` with `A(w) = √2·erfinv(x)/x` a degree-9 polynomial in `w − 2`; otherwise
/// `z = −B(√w)` with `B` a degree-9 polynomial in `√w − 3` (`√w < 4`) or `√w − 6.65`. Only
/// `+ − ×`, `sqrt`, comparisons, selects and [`ln_unit`]; the WGSL twin is `probit` in
/// `shaders/math.wgsl`. Measured accuracy: see `tests/trunc_normal_accuracy.rs` and
/// `docs/trunc_normal.md`.
#[inline(always)]
pub fn probit(p: f32, q: f32) -> f32 {
    let w = probit_w(p);
    let s = w.sqrt();
    let central = w < 4.0;
    let near = s < 4.0;

    // Horner over the chosen piece, its coefficients picked by selects (as the WGSL does), so
    // that a loop of probits vectorizes; the same operations as `horner` on that piece. The picks
    // are masks on the bits ([`pick_f32`]), so the polynomial is evaluated once, not per piece.
    let pick = |central_value: f32, near_value: f32, far_value: f32| {
        pick_f32(
            central,
            central_value,
            pick_f32(near, near_value, far_value),
        )
    };
    // `t` as `w − 2`, `s − 3` or `s − 6.65`.
    let t = pick(w - 2.0, s - 3.0, s - PROBIT_FAR_CENTRE);
    let coeff = |k: usize| {
        let [c0, c1, c2] = PROBIT_COEFFS.map(|piece| f32::from_bits(piece[k]));
        pick(c0, c1, c2)
    };
    let mut acc = coeff(9);
    for k in (0..9).rev() {
        acc = acc * t + coeff(k);
    }
    let factor = if central { 2.0 * q } else { -1.0 };
    factor * acc
}

/// Giles' variable of [`probit`], `w = −ln(4p(1 − p))`, as `probit` computes it: `w < 4` is its
/// central piece.
#[inline(always)]
pub fn probit_w(p: f32) -> f32 {
    -ln_unit((4.0 * p) * (1.0 - p))
}

/// [`probit`] where `w` is known to be below 4: the central piece alone, with the same operations
/// in the same order, so the same value as `probit` there (`tests/trunc_normal.rs` and the GPU
/// comparisons check it), without the picks among the three pieces.
#[inline(always)]
pub fn probit_central(p: f32, q: f32) -> f32 {
    let t = probit_w(p) - 2.0;
    (2.0 * q) * horner(&PROBIT_COEFFS[0], t)
}

// ---------------------------------------------------------------------------------------------
// Rounding f32 to the 16-bit formats by exact bit manipulation (the WGSL twins are in
// `shaders/fill.wgsl`). The CPU reference itself uses the `half` crate; these exist so that the
// WGSL algorithm is tested against `half` on the CPU, on all 2^32 inputs with `NNINIT_EXHAUSTIVE=1`
// (`tests/half_output.rs`).

/// IEEE binary16 bits of `x`, rounded to nearest-even: subnormals, overflow to ±∞, NaN kept quiet
/// (as `half::f16::from_f32`).
pub fn f16_bits(x: f32) -> u16 {
    let b = x.to_bits();
    let sign = (b >> 16) & 0x8000;
    let a = b & 0x7fff_ffff;
    // Normal results: rebias the exponent by 112 and round off 13 mantissa bits (ties to even);
    // a carry rolls into the exponent, up to ∞ (0x7c00).
    let normal = ((a.wrapping_sub(0x3800_0000) + 0x0fff + ((a >> 13) & 1)) >> 13).min(0x7c00);
    // Subnormal results (|x| < 2^-14): the 24-bit significand shifted right by 126 − e ≥ 14.
    let e = a >> 23;
    let m = (a & 0x007f_ffff) | 0x0080_0000;
    let shift = (126 - e.min(112)).min(25);
    let r = m >> shift;
    let rem = m & ((1 << shift) - 1);
    let half = 1 << (shift - 1);
    let sub = r + u32::from(rem > half || (rem == half && (r & 1) == 1));
    let nan_inf = 0x7c00
        | if a > 0x7f80_0000 {
            0x0200 | ((a >> 13) & 0x3ff)
        } else {
            0
        };
    let magnitude = if a >= 0x7f80_0000 {
        nan_inf
    } else if a < 0x3880_0000 {
        sub
    } else {
        normal
    };
    (sign | magnitude) as u16
}

/// bfloat16 bits of `x`, rounded to nearest-even, overflow to ±∞, NaN kept quiet (as
/// `half::bf16::from_f32`).
pub fn bf16_bits(x: f32) -> u16 {
    let b = x.to_bits();
    let rounded = (b.wrapping_add(0x7fff + ((b >> 16) & 1))) >> 16;
    let nan = (b >> 16) | 0x40;
    (if b & 0x7fff_ffff > 0x7f80_0000 {
        nan
    } else {
        rounded
    }) as u16
}

// ---------------------------------------------------------------------------------------------
// f64 host functions: the truncated normal's parameters are computed on the host, in f64.

/// The complementary error function in f64: relative error at most 1.1e-15 wherever the result
/// is a normal f64 (measured against mpmath at 3200 points on [−6, 27]; a table in the unit
/// tests). A series of `erf` with positive terms for |x| < 1, Laplace's continued fraction
/// beyond (300 terms at 1 down to 20 beyond 4, evaluated backwards), `exp(−x²)` from an exact split of
/// `x²`. Host-side only: it sets up the truncated normal's parameters and serves the tests.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 1.0 {
        // erf(x) = 2/√π · exp(−x²) · Σ x·(2x²)^n / (1·3·…·(2n+1)): positive terms, no cancellation.
        let two_x2 = 2.0 * x * x;
        let mut term = x;
        let mut sum = x;
        let mut n = 0.0;
        while term > 1e-17 * sum {
            n += 1.0;
            term *= two_x2 / (2.0 * n + 1.0);
            sum += term;
        }
        return 1.0 - std::f64::consts::FRAC_2_SQRT_PI * exp_minus_square(x) * sum;
    }
    if x > 27.5 {
        return 0.0; // below the smallest subnormal f64
    }
    // erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))).
    // Terms for a relative truncation error below 1e-15 (it shrinks fast as x grows).
    let terms = match x {
        x if x < 1.5 => 300,
        x if x < 2.0 => 120,
        x if x < 3.0 => 60,
        x if x < 4.0 => 30,
        _ => 20,
    };
    let mut t = x;
    for k in (1..=terms).rev() {
        t = x + f64::from(k) * 0.5 / t;
    }
    exp_minus_square(x) / (std::f64::consts::PI.sqrt() * t)
}

/// `exp(−x²)` without the rounding error of `x²`: `x = h + l` with `h` holding 26 bits, so
/// `h²` is exact and the small remainder `2hl + l²` goes into a second factor.
fn exp_minus_square(x: f64) -> f64 {
    let h = f64::from_bits(x.to_bits() & !((1u64 << 27) - 1));
    let l = x - h;
    (-h * h).exp() * (-(2.0 * h * l + l * l)).exp()
}

/// The standard normal CDF `Φ(x)` in f64, with full relative precision in the lower tail.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
}

/// The standard normal upper tail `1 − Φ(x) = Φ(−x)` in f64, with full relative precision.
pub fn normal_sf(x: f64) -> f64 {
    normal_cdf(-x)
}

/// The standard normal density `φ(x)` in f64.
pub fn normal_pdf(x: f64) -> f64 {
    exp_minus_square(x * std::f64::consts::FRAC_1_SQRT_2) / (2.0 * std::f64::consts::PI).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfc_matches_mpmath() {
        // mpmath.erfc at 50 digits.
        let table = [
            (-3.0, 1.999_977_909_503_001_4),
            (-0.5, 1.520_499_877_813_046_5),
            (0.0, 1.0),
            (1e-3, 0.998_871_621_209_030_8),
            (0.3, 0.671_373_240_540_872_6),
            (1.0, 0.157_299_207_050_285_13),
            (1.4999, 0.033_906_748_337_704_73),
            (1.5, 0.033_894_853_524_689_27),
            (2.0, 4.677_734_981_047_266e-3),
            (3.7, 1.671_510_579_091_462e-7),
            (6.0, 2.151_973_671_249_891_3e-17),
            (10.0, 2.088_487_583_762_545e-45),
            (26.0, 5.663_192_408_856_143e-296),
        ];
        for (x, want) in table {
            let got = erfc(x);
            let rel = ((got - want) / want).abs();
            assert!(
                rel < 3e-15,
                "erfc({x}) = {got:e}, mpmath {want:e}, rel {rel:e}"
            );
        }
    }
}
