//! The CPU reference backend: the same contract as the GPU kernels, on all cores (rayon).
//! Element `first + k` of the tensor lands in `out[k]`; each element depends only on its index.

use rayon::prelude::*;

use crate::error::Result;
use crate::sampler::Sampler;
use crate::stream::StreamId;

/// Elements per parallel task: large enough to amortize scheduling, small enough to balance.
const CHUNK_ELEMENTS: usize = 1 << 16;

/// Fills `out[k]` with element `first + k` of `sampler` drawn from `stream`, on all cores.
pub fn fill(sampler: &Sampler, stream: StreamId, first: u64, out: &mut [f32]) -> Result<()> {
    sampler.validate()?;
    fill_blocks(first, out, |block| {
        sampler.block_values(stream.block(block))
    });
    Ok(())
}

/// Fills `out[k]` with raw word `first + k` of `stream`, on all cores.
pub fn fill_words(stream: StreamId, first: u64, out: &mut [u32]) {
    fill_blocks(first, out, |block| stream.block(block));
}

/// Runs `block_fn` for every block that elements `first .. first + out.len()` touch and stores the
/// lanes that fall inside, in parallel chunks. Chunks need not align with blocks: a block split
/// between two chunks is simply computed by both.
fn fill_blocks<T, F>(first: u64, out: &mut [T], block_fn: F)
where
    T: Copy + Send,
    F: Fn(u64) -> [T; 4] + Sync,
{
    out.par_chunks_mut(CHUNK_ELEMENTS)
        .enumerate()
        .for_each(|(chunk, slice)| {
            let mut index = first + (chunk * CHUNK_ELEMENTS) as u64;
            let mut pos = 0;
            while pos < slice.len() {
                let lane = (index % 4) as usize;
                let take = (4 - lane).min(slice.len() - pos);
                let values = block_fn(index / 4);
                slice[pos..pos + take].copy_from_slice(&values[lane..lane + take]);
                pos += take;
                index += take as u64;
            }
        });
}
