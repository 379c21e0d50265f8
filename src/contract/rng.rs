//! The contract's streams through the `rand` traits: a `rand_core` block generator and RNG that
//! yield one stream's raw words in contract order.

use std::convert::Infallible;

use rand_core::TryRng;
use rand_core::block::{BlockRng, Generator};

use super::philox::philox4x32_10;
use super::stream::{counter, key};

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
            key: key(seed),
            stream,
            next_block: first_block,
        }
    }
}

impl Generator for Philox4x32Core {
    type Output = [u32; 4];

    fn generate(&mut self, output: &mut [u32; 4]) {
        *output = philox4x32_10(counter(self.next_block, self.stream), self.key);
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
