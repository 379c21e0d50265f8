//! The value contract's addressing: how `(seed, stream, element index)` becomes Philox words, how a
//! tensor name becomes a stream, and the two exact word-to-float conversions.

use crate::contract::philox::philox4x32_10;

/// Version of the value contract. Any change to the values a `(seed, stream, index, parameters)`
/// produces is a new version, recorded in file metadata and the changelog.
pub const CONTRACT_VERSION: u32 = 1;

/// Philox key of a seed: `(seed as u32, seed >> 32)`.
#[inline(always)]
pub fn key(seed: u64) -> [u32; 2] {
    [seed as u32, (seed >> 32) as u32]
}

/// Philox counter of block `block` in stream `stream`: `(b as u32, b >> 32, s as u32, s >> 32)`.
#[inline(always)]
pub fn counter(block: u64, stream: u64) -> [u32; 4] {
    [
        block as u32,
        (block >> 32) as u32,
        stream as u32,
        (stream >> 32) as u32,
    ]
}

/// Where a tensor's random words come from: a seed (the Philox key) and a stream (the counter's
/// upper half). Element `i` of the tensor draws only from [`StreamId::block`]`(i / 4)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StreamId {
    /// The user's seed.
    pub seed: u64,
    /// The tensor's stream: given by the user, or [`stream_of_name`] of its name.
    pub stream: u64,
}

impl StreamId {
    /// The stream `stream` under `seed`.
    pub fn new(seed: u64, stream: u64) -> Self {
        Self { seed, stream }
    }

    /// The stream of a named tensor under `seed`; see [`stream_of_name`].
    pub fn named(seed: u64, name: &str) -> Self {
        Self::new(seed, stream_of_name(name))
    }

    /// The four words of block `block`.
    #[inline(always)]
    pub fn block(&self, block: u64) -> [u32; 4] {
        philox4x32_10(counter(block, self.stream), key(self.seed))
    }

    /// Raw word `index`: word `index % 4` of block `index / 4`.
    pub fn word(&self, index: u64) -> u32 {
        self.block(index / 4)[(index % 4) as usize]
    }
}

/// The stream of a tensor named `name`: 64-bit FNV-1a over the name's UTF-8 bytes (offset basis
/// 0xcbf29ce484222325, prime 0x100000001b3). Stable across platforms and versions; changing it
/// would be a new contract version. `stream_of_name("")` is 0xcbf29ce484222325.
pub fn stream_of_name(name: &str) -> u64 {
    const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
    name.bytes().fold(FNV_OFFSET_BASIS, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(FNV_PRIME)
    })
}

/// 2^-24, the spacing of the 24-bit uniform grid.
pub const TWO_POW_M24: f32 = 1.0 / 16_777_216.0;

/// Uniform in [0, 1): `(w >> 8) · 2^-24`. Exact on every device (24 significant bits); never 1.0.
#[inline(always)]
pub fn unit_closed_open(word: u32) -> f32 {
    (word >> 8) as f32 * TWO_POW_M24
}

/// Uniform in (0, 1]: `((w >> 8) + 1) · 2^-24`. Exact on every device; never 0.0, so `log` is safe.
#[inline(always)]
pub fn unit_open_closed(word: u32) -> f32 {
    ((word >> 8) + 1) as f32 * TWO_POW_M24
}

/// Uniform in [-1, 1): `(w >> 8) · 2^-23 − 1`, exact. Used as the Box–Muller angle in units of π.
#[inline(always)]
pub fn signed_unit(word: u32) -> f32 {
    (word >> 8) as f32 * (2.0 * TWO_POW_M24) - 1.0
}
