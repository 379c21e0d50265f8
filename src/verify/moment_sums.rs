//! Sums of (x − center)^k, k = 1..4, over a tensor's values in f64: what the moment z-tests need
//! from every element of a streamed tensor.
//!
//! Eight lanes (lane `l` sums the values at positions ≡ l mod 8), each power accumulated with a
//! separate multiply and add, the lanes added in order at the end: the AVX-512 and AVX2 versions
//! below do exactly the portable arithmetic in vector registers, so every instruction set gives
//! the same bits. LLVM vectorized the portable loop with shuffles between every step (14% of a
//! gpt2 `verify` in `perf`); the intrinsics convert eight f32 to f64 in one instruction.

/// The values are summed in this many lanes.
const LANES: usize = 8;

/// Sums of (x − center)^k, k = 1..4, over `xs`, with the widest vector instructions the CPU has
/// (or those [`crate::backend::cpu::with_isa`] forces).
pub(super) fn moment_sums(xs: &[f32], center: f64) -> [f64; 4] {
    #[cfg(target_arch = "x86_64")]
    {
        use crate::backend::cpu::CpuIsa;
        match CpuIsa::current() {
            // SAFETY: the CPU has the instructions each is compiled for (`CpuIsa` checked).
            Ok(CpuIsa::Avx512) => return unsafe { x86::avx512(xs, center) },
            Ok(CpuIsa::Avx2) => return unsafe { x86::avx2(xs, center) },
            _ => {}
        }
    }
    portable(xs, center)
}

/// The definition: [`LANES`] lane sums per power.
fn portable(xs: &[f32], center: f64) -> [f64; 4] {
    let mut sums = [[0f64; LANES]; 4];
    let (chunks, rest) = split(xs, center);
    for chunk in chunks.chunks_exact(LANES).chain([&rest[..]]) {
        for (l, &x) in chunk.iter().enumerate() {
            let d = f64::from(x) - center;
            let d2 = d * d;
            sums[0][l] += d;
            sums[1][l] += d2;
            sums[2][l] += d2 * d;
            sums[3][l] += d2 * d2;
        }
    }
    sums.map(add_lanes)
}

/// `xs` as whole chunks of [`LANES`] values and the rest padded with the center, which adds 0 to
/// every sum (the center is the mean of an f32 distribution: 0, or an f32 value).
fn split(xs: &[f32], center: f64) -> (&[f32], [f32; LANES]) {
    let whole = xs.len() / LANES * LANES;
    let mut rest = [center as f32; LANES];
    rest[..xs.len() - whole].copy_from_slice(&xs[whole..]);
    (&xs[..whole], rest)
}

/// The lanes added in order.
fn add_lanes(lanes: [f64; LANES]) -> f64 {
    lanes.iter().sum()
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{LANES, add_lanes, split};

    /// [`super::portable`] in one 8-lane f64 vector per power.
    ///
    /// # Safety
    /// The CPU must have AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn avx512(xs: &[f32], center: f64) -> [f64; 4] {
        let c = _mm512_set1_pd(center);
        let mut s = [_mm512_setzero_pd(); 4];
        let (chunks, rest) = split(xs, center);
        for chunk in chunks.chunks_exact(LANES).chain([&rest[..]]) {
            // SAFETY: `chunk` holds 8 f32 values.
            let x = unsafe { _mm256_loadu_ps(chunk.as_ptr()) };
            let d = _mm512_sub_pd(_mm512_cvtps_pd(x), c);
            let d2 = _mm512_mul_pd(d, d);
            s[0] = _mm512_add_pd(s[0], d);
            s[1] = _mm512_add_pd(s[1], d2);
            s[2] = _mm512_add_pd(s[2], _mm512_mul_pd(d2, d));
            s[3] = _mm512_add_pd(s[3], _mm512_mul_pd(d2, d2));
        }
        // SAFETY: a 512-bit vector is 8 f64 lanes, lane 0 first.
        s.map(|v| add_lanes(unsafe { std::mem::transmute::<__m512d, [f64; LANES]>(v) }))
    }

    /// [`super::portable`] in two 4-lane f64 vectors per power (lanes 0–3 and 4–7).
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn avx2(xs: &[f32], center: f64) -> [f64; 4] {
        let c = _mm256_set1_pd(center);
        let mut s = [[_mm256_setzero_pd(); 2]; 4];
        let (chunks, rest) = split(xs, center);
        for chunk in chunks.chunks_exact(LANES).chain([&rest[..]]) {
            for (half, lanes) in chunk.chunks_exact(4).enumerate() {
                // SAFETY: `lanes` holds 4 f32 values.
                let x = unsafe { _mm_loadu_ps(lanes.as_ptr()) };
                let d = _mm256_sub_pd(_mm256_cvtps_pd(x), c);
                let d2 = _mm256_mul_pd(d, d);
                s[0][half] = _mm256_add_pd(s[0][half], d);
                s[1][half] = _mm256_add_pd(s[1][half], d2);
                s[2][half] = _mm256_add_pd(s[2][half], _mm256_mul_pd(d2, d));
                s[3][half] = _mm256_add_pd(s[3][half], _mm256_mul_pd(d2, d2));
            }
        }
        // SAFETY: two 256-bit vectors are 8 f64 lanes, lane 0 first.
        s.map(|v| add_lanes(unsafe { std::mem::transmute::<[__m256d; 2], [f64; LANES]>(v) }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::{CpuIsa, with_isa};

    /// Values of a spread of magnitudes, not all of one sign, and every length around the lanes.
    fn values(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| ((i * 7919 % 1000) as f32 - 480.0) * 0.013)
            .collect()
    }

    #[test]
    fn every_instruction_set_gives_the_portable_bits() {
        for n in (0..40).chain([1000, 100_003]) {
            let xs = values(n);
            for center in [0.0, 0.25] {
                let want = portable(&xs, center);
                for isa in CpuIsa::supported() {
                    let got = with_isa(isa, || moment_sums(&xs, center)).expect("supported");
                    assert_eq!(
                        got.map(f64::to_bits),
                        want.map(f64::to_bits),
                        "{isa:?}, {n}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_sums_are_the_powers_summed_one_by_one() {
        let xs = values(100_003);
        let center = 0.25;
        let sums = moment_sums(&xs, center);
        for (k, sum) in sums.iter().enumerate() {
            let naive: f64 = xs
                .iter()
                .map(|&x| (f64::from(x) - center).powi(k as i32 + 1))
                .sum();
            assert!(
                (sum - naive).abs() <= 1e-9 * naive.abs().max(1.0),
                "power {}: {sum} against {naive}",
                k + 1
            );
        }
    }
}
