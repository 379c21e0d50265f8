//! The CPU reference backend: the same contract as the GPU kernels, on all cores (rayon).
//! Element `first + k` of the tensor lands in `out[k]`; each element depends only on its index.

use rayon::prelude::*;

use crate::dtype::Dtype;
use crate::error::{Error, Result};
use crate::sampler::Sampler;
use crate::stream::StreamId;

/// Elements per parallel task: large enough to amortize scheduling, small enough to balance.
const CHUNK_ELEMENTS: usize = 1 << 16;

/// Fills `out[k]` with element `first + k` of `sampler` drawn from `stream`, on all cores.
pub fn fill(sampler: &Sampler, stream: StreamId, first: u64, out: &mut [f32]) -> Result<()> {
    let prepared = sampler.prepare(Dtype::F32)?;
    fill_blocks(first, out, |block| {
        prepared.block_values(stream.block(block))
    });
    Ok(())
}

/// Fills `out[k]` with the bits of element `first + k` of `sampler` drawn from `stream` as the
/// 16-bit `dtype` (f16 or bf16): the f32 value rounded to nearest-even by the `half` crate, with
/// the bounds of bounded samplers rounded inwards first ([`Sampler::prepare`]); the GPU's
/// [`crate::GpuContext::fill_bits`] twin. [`Dtype::F32`] is an error here: use [`fill`].
pub fn fill_bits(
    sampler: &Sampler,
    stream: StreamId,
    first: u64,
    dtype: Dtype,
    out: &mut [u16],
) -> Result<()> {
    if dtype == Dtype::F32 {
        return Err(Error::invalid(
            "dtype",
            dtype,
            "must be f16 or bf16 for 16-bit bits (use fill for f32)",
        ));
    }
    let prepared = sampler.prepare(dtype)?;
    fill_blocks(first, out, |block| {
        prepared
            .block_bits(stream.block(block), dtype)
            .map(|bits| bits as u16)
    });
    Ok(())
}

/// [`fill_bits`] as `half::f16` values.
pub fn fill_f16(
    sampler: &Sampler,
    stream: StreamId,
    first: u64,
    out: &mut [half::f16],
) -> Result<()> {
    let prepared = sampler.prepare(Dtype::F16)?;
    fill_blocks(first, out, |block| {
        prepared
            .block_values(stream.block(block))
            .map(half::f16::from_f32)
    });
    Ok(())
}

/// [`fill_bits`] as `half::bf16` values.
pub fn fill_bf16(
    sampler: &Sampler,
    stream: StreamId,
    first: u64,
    out: &mut [half::bf16],
) -> Result<()> {
    let prepared = sampler.prepare(Dtype::Bf16)?;
    fill_blocks(first, out, |block| {
        prepared
            .block_values(stream.block(block))
            .map(half::bf16::from_f32)
    });
    Ok(())
}

/// Fills `out` with the little-endian bytes of elements `first ..` of `sampler` drawn from
/// `stream` as `dtype` (`out.len()` must be a multiple of `dtype.size_bytes()`): the CPU twin of
/// [`crate::GpuContext::fill_bytes`].
pub fn fill_bytes(
    sampler: &Sampler,
    stream: StreamId,
    first: u64,
    dtype: Dtype,
    out: &mut [u8],
) -> Result<()> {
    let size = dtype.size_bytes();
    if !out.len().is_multiple_of(size) {
        return Err(Error::invalid(
            "output length",
            out.len(),
            format!("must be a multiple of {size} bytes for {dtype}"),
        ));
    }
    let prepared = sampler.prepare(dtype)?;
    out.par_chunks_mut(CHUNK_ELEMENTS * size)
        .enumerate()
        .for_each(|(chunk, bytes)| {
            let start = first + (chunk * CHUNK_ELEMENTS) as u64;
            let mut block_index = u64::MAX;
            let mut bits = [0u32; 4];
            for (index, element) in (start..).zip(bytes.chunks_exact_mut(size)) {
                if index / 4 != block_index {
                    block_index = index / 4;
                    bits = prepared.block_bits(stream.block(block_index), dtype);
                }
                let value = bits[(index % 4) as usize];
                element.copy_from_slice(&value.to_le_bytes()[..size]);
            }
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
