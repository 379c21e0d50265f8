//! Philox4x32-10, exactly as Random123's `philox.h` (Salmon et al., "Parallel random numbers: as easy
//! as 1, 2, 3", SC'11). The WGSL twin lives in `shaders/philox.wgsl` with the same names and shape;
//! both answer to `tests/data/philox4x32_kat.txt`.

/// Multiplier applied to counter word 0 (Random123 `PHILOX_M4x32_0`).
pub const PHILOX_M4X32_0: u32 = 0xD251_1F53;
/// Multiplier applied to counter word 2 (Random123 `PHILOX_M4x32_1`).
pub const PHILOX_M4X32_1: u32 = 0xCD9E_8D57;
/// Weyl increment of key word 0 between rounds (Random123 `PHILOX_W32_0`, the golden ratio).
pub const PHILOX_W32_0: u32 = 0x9E37_79B9;
/// Weyl increment of key word 1 between rounds (Random123 `PHILOX_W32_1`, √3 − 1).
pub const PHILOX_W32_1: u32 = 0xBB67_AE85;
/// Number of rounds of the generator nninit uses.
pub const PHILOX_ROUNDS: u32 = 10;

/// One Philox round: two 32×32→64 multiplies, xored with the other counter words and the key.
#[inline(always)]
pub fn philox4x32_round(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let p0 = u64::from(PHILOX_M4X32_0) * u64::from(ctr[0]);
    let p1 = u64::from(PHILOX_M4X32_1) * u64::from(ctr[2]);
    let (hi0, lo0) = ((p0 >> 32) as u32, p0 as u32);
    let (hi1, lo1) = ((p1 >> 32) as u32, p1 as u32);
    [hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0]
}

/// The key schedule step between rounds.
#[inline(always)]
pub fn philox4x32_bumpkey(key: [u32; 2]) -> [u32; 2] {
    [
        key[0].wrapping_add(PHILOX_W32_0),
        key[1].wrapping_add(PHILOX_W32_1),
    ]
}

/// Philox4x32 with `rounds` rounds (Random123 `philox4x32_R`). nninit uses 10; 7 exists for the
/// known-answer vectors.
#[inline(always)]
pub fn philox4x32_r(rounds: u32, mut ctr: [u32; 4], mut key: [u32; 2]) -> [u32; 4] {
    for round in 0..rounds {
        if round > 0 {
            key = philox4x32_bumpkey(key);
        }
        ctr = philox4x32_round(ctr, key);
    }
    ctr
}

/// Philox4x32-10: the four output words of counter `ctr` under `key`.
#[inline(always)]
pub fn philox4x32_10(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    philox4x32_r(PHILOX_ROUNDS, ctr, key)
}

/// Philox4x32-10 of `N` counters at once, in structure-of-arrays form: `ctr[k][l]` is word `k`
/// of counter `l`, and so is the result. The same arithmetic as [`philox4x32_10`] lane by lane
/// (so the same words), written so that LLVM turns each round into a few vector instructions
/// (`vpmuludq` for the 32×32 → 64-bit products).
#[inline(always)]
pub fn philox4x32_10_lanes<const N: usize>(
    mut ctr: [[u32; N]; 4],
    mut key: [u32; 2],
) -> [[u32; N]; 4] {
    for round in 0..PHILOX_ROUNDS {
        if round > 0 {
            key = philox4x32_bumpkey(key);
        }
        let mut next = [[0u32; N]; 4];
        for l in 0..N {
            let p0 = u64::from(PHILOX_M4X32_0) * u64::from(ctr[0][l]);
            let p1 = u64::from(PHILOX_M4X32_1) * u64::from(ctr[2][l]);
            next[0][l] = (p1 >> 32) as u32 ^ ctr[1][l] ^ key[0];
            next[1][l] = p1 as u32;
            next[2][l] = (p0 >> 32) as u32 ^ ctr[3][l] ^ key[1];
            next[3][l] = p0 as u32;
        }
        ctr = next;
    }
    ctr
}
