//! Philox4x32-10 of a batch of consecutive blocks in AVX2 and AVX-512 registers: the contract's
//! [`philox4x32_10`](crate::contract::philox::philox4x32_10) lane by lane, so the same words
//! (`tests/cpu_batched.rs` checks every lane against it), written with the vector instructions
//! LLVM does not find on its own from the portable loop.
//!
//! Each 32×32 → 64-bit product is one `vpmuludq` on the even lanes and one on the odd lanes
//! shifted down; the high and low halves are then put back in place (AVX2: a shift and a 32-bit
//! blend each; AVX-512: one two-source permute each), instead of widening every lane to 64 bits
//! and packing the results again. The round keys come from the contract's own
//! `philox4x32_bumpkey`.
//! The counters are built in registers (block `first + l` in lane `l`, with the carry into the
//! counter's second word) rather than inserted lane by lane. Two independent sets of vectors
//! go through the rounds side by side, so that one set's multiplies run while the other waits
//! on its results (a round is a chain of dependent instructions).

use std::arch::x86_64::*;

use crate::contract::philox::{PHILOX_M4X32_0, PHILOX_M4X32_1, PHILOX_ROUNDS, philox4x32_bumpkey};
use crate::sample::sampler::BATCH;

/// Blocks per call: the CPU backend's batch.
const BLOCKS: usize = BATCH;

/// Words of blocks `first_block .. first_block + BATCH` of `stream` under `key` into `out`,
/// `out[k][l]` being word `k` of block `first_block + l`, with 8-lane AVX2 vectors, 16 blocks at
/// a time (written in place: a returned array was copied once more, 10% of a uniform fill).
///
/// # Safety
/// The CPU must have AVX2.
#[inline]
#[target_feature(enable = "avx2")]
pub unsafe fn philox_batch_avx2(
    first_block: u64,
    stream: u64,
    key: [u32; 2],
    out: &mut [[u32; BLOCKS]; 4],
) {
    // (hi, lo) of the 32×32-bit products `m · x`, lane by lane.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn mul_wide(x: __m256i, m: __m256i) -> (__m256i, __m256i) {
        let even = _mm256_mul_epu32(x, m);
        let odd = _mm256_mul_epu32(_mm256_srli_epi64::<32>(x), m);
        let hi = _mm256_blend_epi32::<0b1010_1010>(_mm256_srli_epi64::<32>(even), odd);
        let lo = _mm256_blend_epi32::<0b1010_1010>(even, _mm256_slli_epi64::<32>(odd));
        (hi, lo)
    }
    let m0 = _mm256_set1_epi32(PHILOX_M4X32_0 as i32);
    let m1 = _mm256_set1_epi32(PHILOX_M4X32_1 as i32);
    let sign = _mm256_set1_epi32(i32::MIN);
    let stream_lo = _mm256_set1_epi32(stream as u32 as i32);
    let stream_hi = _mm256_set1_epi32((stream >> 32) as u32 as i32);
    for group in 0..BLOCKS / 16 {
        // Two independent halves of 8 blocks each, interleaved round by round for the pipelines.
        let mut ctr = [[_mm256_setzero_si256(); 4]; 2];
        for (half, c) in ctr.iter_mut().enumerate() {
            let base = first_block.wrapping_add((16 * group + 8 * half) as u64);
            let base_lo = _mm256_set1_epi32(base as u32 as i32);
            let lo = _mm256_add_epi32(base_lo, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
            // A lane whose low word wrapped (lo < base_lo, unsigned) carries into the high word.
            let wrapped =
                _mm256_cmpgt_epi32(_mm256_xor_si256(base_lo, sign), _mm256_xor_si256(lo, sign));
            let hi = _mm256_sub_epi32(_mm256_set1_epi32((base >> 32) as u32 as i32), wrapped);
            *c = [lo, hi, stream_lo, stream_hi];
        }
        let mut k = key;
        for round in 0..PHILOX_ROUNDS {
            if round > 0 {
                k = philox4x32_bumpkey(k);
            }
            let (k0, k1) = (
                _mm256_set1_epi32(k[0] as i32),
                _mm256_set1_epi32(k[1] as i32),
            );
            for c in ctr.iter_mut() {
                let (hi0, lo0) = mul_wide(c[0], m0);
                let (hi1, lo1) = mul_wide(c[2], m1);
                *c = [
                    _mm256_xor_si256(_mm256_xor_si256(hi1, c[1]), k0),
                    lo1,
                    _mm256_xor_si256(_mm256_xor_si256(hi0, c[3]), k1),
                    lo0,
                ];
            }
        }
        for (half, c) in ctr.iter().enumerate() {
            for (word, v) in c.iter().enumerate() {
                let lanes = &mut out[word][16 * group + 8 * half..][..8];
                // SAFETY: `lanes` holds 8 u32 (32 bytes); unaligned store.
                unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), *v) };
            }
        }
    }
}

/// [`philox_batch_avx2`] with one 16-lane AVX-512 vector per counter word, two sets of 16
/// blocks side by side.
///
/// # Safety
/// The CPU must have AVX-512F.
#[inline]
#[target_feature(enable = "avx512f")]
pub unsafe fn philox_batch_avx512(
    first_block: u64,
    stream: u64,
    key: [u32; 2],
    out: &mut [[u32; BLOCKS]; 4],
) {
    // The halves of the even lanes' products (`even`) and the odd lanes' (`odd`) gathered back
    // into lane order by one two-source permute each: lane 2j from `even`, 2j + 1 from `odd`.
    let hi_index = _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
    let lo_index = _mm512_setr_epi32(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn mul_wide(
        x: __m512i,
        m: __m512i,
        hi_index: __m512i,
        lo_index: __m512i,
    ) -> (__m512i, __m512i) {
        let even = _mm512_mul_epu32(x, m);
        let odd = _mm512_mul_epu32(_mm512_srli_epi64::<32>(x), m);
        let hi = _mm512_permutex2var_epi32(even, hi_index, odd);
        let lo = _mm512_permutex2var_epi32(even, lo_index, odd);
        (hi, lo)
    }
    const SETS: usize = BLOCKS / 16;
    let m0 = _mm512_set1_epi32(PHILOX_M4X32_0 as i32);
    let m1 = _mm512_set1_epi32(PHILOX_M4X32_1 as i32);
    let iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    let mut ctr = [[_mm512_setzero_si512(); 4]; SETS];
    for (set, c) in ctr.iter_mut().enumerate() {
        let base = first_block.wrapping_add(16 * set as u64);
        let base_lo = _mm512_set1_epi32(base as u32 as i32);
        let lo = _mm512_add_epi32(base_lo, iota);
        // Lanes whose low word wrapped carry one into the high word.
        let wrapped = _mm512_cmplt_epu32_mask(lo, base_lo);
        let base_hi = _mm512_set1_epi32((base >> 32) as u32 as i32);
        let hi = _mm512_mask_add_epi32(base_hi, wrapped, base_hi, _mm512_set1_epi32(1));
        *c = [
            lo,
            hi,
            _mm512_set1_epi32(stream as u32 as i32),
            _mm512_set1_epi32((stream >> 32) as u32 as i32),
        ];
    }
    let mut k = key;
    for round in 0..PHILOX_ROUNDS {
        if round > 0 {
            k = philox4x32_bumpkey(k);
        }
        let (k0, k1) = (
            _mm512_set1_epi32(k[0] as i32),
            _mm512_set1_epi32(k[1] as i32),
        );
        for c in ctr.iter_mut() {
            let (hi0, lo0) = mul_wide(c[0], m0, hi_index, lo_index);
            let (hi1, lo1) = mul_wide(c[2], m1, hi_index, lo_index);
            // 0x96: the three-way exclusive or, in one instruction.
            *c = [
                _mm512_ternarylogic_epi32::<0x96>(hi1, c[1], k0),
                lo1,
                _mm512_ternarylogic_epi32::<0x96>(hi0, c[3], k1),
                lo0,
            ];
        }
    }
    for (set, c) in ctr.iter().enumerate() {
        for (word, v) in c.iter().enumerate() {
            let lanes = &mut out[word][16 * set..][..16];
            // SAFETY: `lanes` holds 16 u32 (64 bytes); unaligned store.
            unsafe { _mm512_storeu_si512(lanes.as_mut_ptr().cast(), *v) };
        }
    }
}

/// `out[4l + k] = rows[k][l]` for the `BATCH` lanes `l` of 4 rows of 32-bit values (`rows`
/// 4·BATCH values, row after row; `out` 4·BATCH values): a 4 × 4 transpose per 128-bit half,
/// eight blocks at a time.
///
/// # Safety
/// The CPU must have AVX2; `rows` must be readable and `out` writable for 4·BATCH 32-bit values.
#[inline]
#[target_feature(enable = "avx2")]
pub unsafe fn interleave_avx2(rows: *const f32, out: *mut f32) {
    for half in 0..BLOCKS / 8 {
        // SAFETY: row `k`'s lanes 8·half .. 8·half + 8 and out's 32 values of this part are in
        // bounds by the caller's contract.
        unsafe {
            let row = |k: usize| _mm256_loadu_ps(rows.add(BLOCKS * k + 8 * half));
            let (a, b, c, d) = (row(0), row(1), row(2), row(3));
            let (ab_lo, ab_hi) = (_mm256_unpacklo_ps(a, b), _mm256_unpackhi_ps(a, b));
            let (cd_lo, cd_hi) = (_mm256_unpacklo_ps(c, d), _mm256_unpackhi_ps(c, d));
            // Block l (of the half) sits in 128-bit half l / 4 of vector l % 4.
            let b0 = _mm256_shuffle_ps::<0x44>(ab_lo, cd_lo);
            let b1 = _mm256_shuffle_ps::<0xEE>(ab_lo, cd_lo);
            let b2 = _mm256_shuffle_ps::<0x44>(ab_hi, cd_hi);
            let b3 = _mm256_shuffle_ps::<0xEE>(ab_hi, cd_hi);
            let dst = out.add(32 * half);
            _mm256_storeu_ps(dst, _mm256_permute2f128_ps::<0x20>(b0, b1));
            _mm256_storeu_ps(dst.add(8), _mm256_permute2f128_ps::<0x20>(b2, b3));
            _mm256_storeu_ps(dst.add(16), _mm256_permute2f128_ps::<0x31>(b0, b1));
            _mm256_storeu_ps(dst.add(24), _mm256_permute2f128_ps::<0x31>(b2, b3));
        }
    }
}
