//! Philox4x32-10, exactly as Random123's `philox.h` (Salmon et al., "Parallel random numbers: as easy
//! as 1, 2, 3", SC'11). The WGSL twin lives in `shaders/philox.wgsl` with the same names and shape;
//! both answer to `tests/data/philox4x32_kat.txt`.

use core::convert::Infallible;
use rand_core::TryRng;
use rand_core::block::{BlockRng, Generator};

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

/// Philox4x32-10 as a `rand_core` block generator over one `(seed, stream)` pair: block `b` is
/// `philox4x32_10(counter(b, stream), key(seed))` as the value contract defines, starting at block 0.
#[derive(Debug, Clone)]
pub struct Philox4x32Core {
    key: [u32; 2],
    stream: u64,
    next_block: u64,
}

impl Philox4x32Core {
    /// A generator positioned at block `first_block` of `stream` under `seed`.
    pub fn new(seed: u64, stream: u64, first_block: u64) -> Self {
        Self {
            key: crate::stream::key(seed),
            stream,
            next_block: first_block,
        }
    }
}

impl Generator for Philox4x32Core {
    type Output = [u32; 4];

    fn generate(&mut self, output: &mut [u32; 4]) {
        *output = philox4x32_10(
            crate::stream::counter(self.next_block, self.stream),
            self.key,
        );
        self.next_block = self.next_block.wrapping_add(1);
    }
}

/// A `rand_core` RNG yielding the raw words of one stream in contract order (word `i` is word
/// `i % 4` of block `i / 4`), for code that wants nninit's stream through the `rand` traits.
#[derive(Debug)]
pub struct Philox4x32Rng(BlockRng<Philox4x32Core>);

impl Philox4x32Rng {
    /// The RNG whose first word is raw word 0 of `stream` under `seed`.
    pub fn new(seed: u64, stream: u64) -> Self {
        Self(BlockRng::new(Philox4x32Core::new(seed, stream, 0)))
    }
}

impl TryRng for Philox4x32Rng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.0.next_word())
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.0.next_u64_from_u32())
    }

    fn try_fill_bytes(&mut self, bytes: &mut [u8]) -> Result<(), Infallible> {
        self.0.fill_bytes(bytes);
        Ok(())
    }
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
