//! The CPU reference fills: the same contract as the GPU kernels, on all cores (rayon).
//! Element `first + k` of the tensor lands in `out[k]`; each element depends only on its index.
//!
//! The work is done `BATCH` (32) blocks at a time in structure-of-arrays form: Philox of the
//! batch (in AVX-512 or AVX2 registers on x86-64, `philox_x86.rs`; elsewhere
//! [`philox4x32_10_lanes`]), `Prepared::batch_values`, and a transpose back to element order —
//! the same operations as the scalar definitions ([`Prepared::block_values`],
//! [`crate::contract::philox::philox4x32_10`]) lane by lane, so the same bits, in loops LLVM
//! vectorizes. On x86-64 the transforms are compiled a second and a third time for AVX2 and
//! AVX-512 and picked at run time (`is_x86_feature_detected!`, AVX-512 only where it measured
//! faster); Rust never contracts `a * b + c` into a fused multiply-add, whatever the target
//! features.

use rayon::prelude::*;

use crate::contract::dtype::Dtype;
use crate::contract::math::{bf16_bits, f16_bits};
use crate::contract::philox::philox4x32_10_lanes;
use crate::contract::slice::Rows;
use crate::contract::stream::{StreamId, key};
use crate::error::{Error, Result};
use crate::sample::sampler::{BATCH, Prepared, Sampler};

use super::isa::CpuIsa;

#[cfg(target_arch = "x86_64")]
use super::philox_x86;

/// Elements per parallel task: large enough to amortize scheduling, small enough to balance.
const CHUNK_ELEMENTS: usize = 1 << 16;

/// Elements per batch.
const BATCH_ELEMENTS: usize = 4 * BATCH;

/// A batch's words and values in structure-of-arrays form: made once per chunk and written in
/// place batch after batch (arrays returned by value were copied once more, and zeroed, every
/// batch: 10% of a uniform fill).
struct Lanes {
    words: [[u32; BATCH]; 4],
    values: [[f32; BATCH]; 4],
}

impl Lanes {
    fn new() -> Self {
        Self {
            words: [[0; BATCH]; 4],
            values: [[0.0; BATCH]; 4],
        }
    }
}

/// Computes the elements of `BATCH` consecutive blocks at once.
trait BatchKernel: Sync {
    /// One output element.
    type Out: Copy + Send + Default;
    /// Elements `4·first_block ..` `4·(first_block + BATCH)` into `out`, in order, with `lanes`
    /// as scratch.
    fn batch<W: PhiloxBatch>(
        &self,
        first_block: u64,
        out: &mut [Self::Out; BATCH_ELEMENTS],
        lanes: &mut Lanes,
    );
    /// Whether the AVX-512 build of the transforms is faster than the AVX2 one (the Philox is
    /// AVX-512 either way where the CPU has it). Measured on an AMD EPYC (Zen 4, 16M f32, one
    /// thread): 2026-11-29 truncated normal 165 vs 121 M/s, normal 481 vs 485, uniform 446 vs
    /// 601; 2026-12-02 with the register Philox, normal 475 vs 502, uniform 1029 vs 1015,
    /// truncated normal 177 vs 177.
    fn prefers_avx512(&self) -> bool {
        false
    }
}

/// The words of blocks `first_block .. first_block + BATCH` of a stream into `words`,
/// `words[k][l]` being word `k` of block `first_block + l`: Philox4x32-10 of `BATCH` blocks, by
/// one instruction set. Also the reverse step, rows of 32-bit lanes back into element order.
trait PhiloxBatch {
    fn blocks(stream: StreamId, first_block: u64, words: &mut [[u32; BATCH]; 4]);

    /// `out[4l + k] = rows[k][l]`.
    #[inline(always)]
    fn interleave<T: Copy>(rows: &[[T; BATCH]; 4], out: &mut [T; BATCH_ELEMENTS]) {
        for l in 0..BATCH {
            for k in 0..4 {
                out[4 * l + k] = rows[k][l];
            }
        }
    }
}

/// The portable lanes ([`philox4x32_10_lanes`]), vectorized by LLVM as it can.
struct PortablePhilox;

impl PhiloxBatch for PortablePhilox {
    #[inline(always)]
    #[allow(clippy::needless_range_loop)] // one index over four structure-of-arrays rows
    fn blocks(stream: StreamId, first_block: u64, words: &mut [[u32; BATCH]; 4]) {
        let mut ctr = [[0u32; BATCH]; 4];
        for l in 0..BATCH {
            let block = first_block.wrapping_add(l as u64);
            ctr[0][l] = block as u32;
            ctr[1][l] = (block >> 32) as u32;
            ctr[2][l] = stream.stream as u32;
            ctr[3][l] = (stream.stream >> 32) as u32;
        }
        *words = philox4x32_10_lanes(ctr, key(stream.seed));
    }
}

/// [`philox_x86::philox_batch_avx2`]; only named for [`CpuIsa::Avx2`].
#[cfg(target_arch = "x86_64")]
struct Avx2Philox;

#[cfg(target_arch = "x86_64")]
impl PhiloxBatch for Avx2Philox {
    #[inline(always)]
    fn blocks(stream: StreamId, first_block: u64, words: &mut [[u32; BATCH]; 4]) {
        // SAFETY: `fill_chunk` uses this type only for `CpuIsa::Avx2`, which the CPU has.
        unsafe {
            philox_x86::philox_batch_avx2(first_block, stream.stream, key(stream.seed), words)
        }
    }

    #[inline(always)]
    fn interleave<T: Copy>(rows: &[[T; BATCH]; 4], out: &mut [T; BATCH_ELEMENTS]) {
        if size_of::<T>() == 4 {
            // SAFETY: `T` is 4 bytes and `Copy` (f32 or u32 here), so both arrays are plain
            // 32-bit lanes of the same layout; the CPU has AVX2 (as above).
            unsafe { philox_x86::interleave_avx2(rows.as_ptr().cast(), out.as_mut_ptr().cast()) }
        } else {
            PortablePhilox::interleave(rows, out)
        }
    }
}

/// [`philox_x86::philox_batch_avx512`]; only named for [`CpuIsa::Avx512`].
#[cfg(target_arch = "x86_64")]
struct Avx512Philox;

#[cfg(target_arch = "x86_64")]
impl PhiloxBatch for Avx512Philox {
    #[inline(always)]
    fn blocks(stream: StreamId, first_block: u64, words: &mut [[u32; BATCH]; 4]) {
        // SAFETY: `fill_chunk` uses this type only for `CpuIsa::Avx512`, which the CPU has
        // (AVX-512F, DQ, VL, BW and AVX2).
        unsafe {
            philox_x86::philox_batch_avx512(first_block, stream.stream, key(stream.seed), words)
        }
    }

    #[inline(always)]
    fn interleave<T: Copy>(rows: &[[T; BATCH]; 4], out: &mut [T; BATCH_ELEMENTS]) {
        Avx2Philox::interleave(rows, out)
    }
}

/// f32 values of a prepared sampler.
struct Values {
    prepared: Prepared,
    stream: StreamId,
}

impl BatchKernel for Values {
    type Out = f32;
    #[inline(always)]
    fn batch<W: PhiloxBatch>(
        &self,
        first_block: u64,
        out: &mut [f32; BATCH_ELEMENTS],
        lanes: &mut Lanes,
    ) {
        // Samplers that draw no words (constant) leave `lanes.words` as it is: unread.
        if self.prepared.draws_words() {
            W::blocks(self.stream, first_block, &mut lanes.words);
        }
        self.prepared.batch_values(&lanes.words, &mut lanes.values);
        W::interleave(&lanes.values, out);
    }
    fn prefers_avx512(&self) -> bool {
        self.prepared.is_trunc_normal()
    }
}

/// 16-bit bits (f16 or bf16, rounded to nearest-even) of a prepared sampler.
struct Bits16 {
    values: Values,
    bf16: bool,
}

impl BatchKernel for Bits16 {
    type Out = u16;
    #[inline(always)]
    fn batch<W: PhiloxBatch>(
        &self,
        first_block: u64,
        out: &mut [u16; BATCH_ELEMENTS],
        lanes: &mut Lanes,
    ) {
        let mut values = [0f32; BATCH_ELEMENTS];
        self.values.batch::<W>(first_block, &mut values, lanes);
        // The kernels' bit-exact rounding, tested against the `half` crate on every f32.
        if self.bf16 {
            for (o, v) in out.iter_mut().zip(values) {
                *o = bf16_bits(v);
            }
        } else {
            for (o, v) in out.iter_mut().zip(values) {
                *o = f16_bits(v);
            }
        }
    }
    fn prefers_avx512(&self) -> bool {
        self.values.prefers_avx512()
    }
}

/// 16-bit values as `half` types.
struct Halves<T>(Bits16, fn(u16) -> T);

impl<T: Copy + Send + Sync + Default> BatchKernel for Halves<T> {
    type Out = T;
    #[inline(always)]
    fn batch<W: PhiloxBatch>(
        &self,
        first_block: u64,
        out: &mut [T; BATCH_ELEMENTS],
        lanes: &mut Lanes,
    ) {
        let mut bits = [0u16; BATCH_ELEMENTS];
        self.0.batch::<W>(first_block, &mut bits, lanes);
        for (o, b) in out.iter_mut().zip(bits) {
            *o = (self.1)(b);
        }
    }
    fn prefers_avx512(&self) -> bool {
        self.0.prefers_avx512()
    }
}

/// Little-endian bytes of f32 values.
struct BytesF32(Values);

impl BatchKernel for BytesF32 {
    type Out = [u8; 4];
    #[inline(always)]
    fn batch<W: PhiloxBatch>(
        &self,
        first_block: u64,
        out: &mut [[u8; 4]; BATCH_ELEMENTS],
        lanes: &mut Lanes,
    ) {
        let mut values = [0f32; BATCH_ELEMENTS];
        self.0.batch::<W>(first_block, &mut values, lanes);
        for (o, v) in out.iter_mut().zip(values) {
            *o = v.to_le_bytes();
        }
    }
    fn prefers_avx512(&self) -> bool {
        self.0.prefers_avx512()
    }
}

/// Little-endian bytes of 16-bit values.
struct Bytes16(Bits16);

impl BatchKernel for Bytes16 {
    type Out = [u8; 2];
    #[inline(always)]
    fn batch<W: PhiloxBatch>(
        &self,
        first_block: u64,
        out: &mut [[u8; 2]; BATCH_ELEMENTS],
        lanes: &mut Lanes,
    ) {
        let mut bits = [0u16; BATCH_ELEMENTS];
        self.0.batch::<W>(first_block, &mut bits, lanes);
        for (o, b) in out.iter_mut().zip(bits) {
            *o = b.to_le_bytes();
        }
    }
    fn prefers_avx512(&self) -> bool {
        self.0.prefers_avx512()
    }
}

/// Raw words.
struct Words(StreamId);

impl BatchKernel for Words {
    type Out = u32;
    #[inline(always)]
    fn batch<W: PhiloxBatch>(
        &self,
        first_block: u64,
        out: &mut [u32; BATCH_ELEMENTS],
        lanes: &mut Lanes,
    ) {
        W::blocks(self.0, first_block, &mut lanes.words);
        W::interleave(&lanes.words, out);
    }
}

/// Fills `out[k]` with element `first + k` of `kernel`, in parallel chunks, on the calling
/// thread's instruction set.
fn run<K: BatchKernel>(kernel: &K, first: u64, out: &mut [K::Out]) -> Result<()> {
    let isa = CpuIsa::current()?;
    run_on(isa, kernel, first, out);
    Ok(())
}

fn run_on<K: BatchKernel>(isa: CpuIsa, kernel: &K, first: u64, out: &mut [K::Out]) {
    out.par_chunks_mut(CHUNK_ELEMENTS)
        .enumerate()
        .for_each(|(chunk, slice)| {
            fill_chunk(isa, kernel, first + (chunk * CHUNK_ELEMENTS) as u64, slice)
        });
}

/// Fills `out` with the elements of `rows` of `kernel`, in order: in parallel chunks of each row
/// where rows are long, else in parallel over the rows.
fn run_rows<K: BatchKernel>(kernel: &K, rows: Rows, out: &mut [K::Out]) -> Result<()> {
    let isa = CpuIsa::current()?;
    if rows.rows == 1 || rows.len >= CHUNK_ELEMENTS as u64 {
        for (r, row) in out.chunks_mut(rows.len.max(1) as usize).enumerate() {
            run_on(isa, kernel, rows.row(r as u64).start, row);
        }
        return Ok(());
    }
    let per_task = (CHUNK_ELEMENTS as u64 / rows.len).max(1) as usize;
    out.par_chunks_mut(per_task * rows.len as usize)
        .enumerate()
        .for_each(|(task, rows_out)| {
            for (r, row) in rows_out.chunks_mut(rows.len as usize).enumerate() {
                let r = (task * per_task + r) as u64;
                fill_chunk(isa, kernel, rows.row(r).start, row);
            }
        });
    Ok(())
}

/// One chunk on `isa`, which the CPU has ([`CpuIsa::current`] checked it): AVX-512 runs Philox
/// in AVX-512 registers and the transforms compiled for AVX-512 or AVX2, as the kernel measured
/// faster; AVX2 both in AVX2; the portable path as LLVM vectorizes it for the target.
fn fill_chunk<K: BatchKernel>(isa: CpuIsa, kernel: &K, start: u64, out: &mut [K::Out]) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY (each arm): the CPU has the features the function is compiled for and the Philox it
    // names: `isa` is only ever a supported one.
    match isa {
        CpuIsa::Avx512 if kernel.prefers_avx512() => unsafe {
            return fill_chunk_avx512::<K, Avx512Philox>(kernel, start, out);
        },
        CpuIsa::Avx512 => unsafe {
            return fill_chunk_avx2::<K, Avx512Philox>(kernel, start, out);
        },
        CpuIsa::Avx2 => unsafe {
            return fill_chunk_avx2::<K, Avx2Philox>(kernel, start, out);
        },
        CpuIsa::Portable => {}
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = isa;
    fill_chunk_generic::<K, PortablePhilox>(kernel, start, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fill_chunk_avx2<K: BatchKernel, W: PhiloxBatch>(
    kernel: &K,
    start: u64,
    out: &mut [K::Out],
) {
    fill_chunk_generic::<K, W>(kernel, start, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl,avx512bw")]
unsafe fn fill_chunk_avx512<K: BatchKernel, W: PhiloxBatch>(
    kernel: &K,
    start: u64,
    out: &mut [K::Out],
) {
    fill_chunk_generic::<K, W>(kernel, start, out)
}

/// Elements `start ..` of `kernel` into `out`, batch by batch. Whole batches aligned with the
/// output are written in place; a batch that straddles the chunk's ends goes through a buffer.
#[inline(always)]
fn fill_chunk_generic<K: BatchKernel, W: PhiloxBatch>(kernel: &K, start: u64, out: &mut [K::Out]) {
    let mut lanes = Lanes::new();
    let mut buffer = [K::Out::default(); BATCH_ELEMENTS];
    let mut pos = 0;
    while pos < out.len() {
        let index = start + pos as u64;
        let skip = (index % 4) as usize;
        let take = (BATCH_ELEMENTS - skip).min(out.len() - pos);
        if skip == 0 && take == BATCH_ELEMENTS {
            let whole: &mut [K::Out; BATCH_ELEMENTS] = (&mut out[pos..pos + BATCH_ELEMENTS])
                .try_into()
                .expect("a slice of BATCH_ELEMENTS");
            kernel.batch::<W>(index / 4, whole, &mut lanes);
        } else {
            kernel.batch::<W>(index / 4, &mut buffer, &mut lanes);
            out[pos..pos + take].copy_from_slice(&buffer[skip..skip + take]);
        }
        pos += take;
    }
}

/// Fills `out[k]` with element `first + k` of `sampler` drawn from `stream`, on all cores.
pub fn fill(sampler: &Sampler, stream: StreamId, first: u64, out: &mut [f32]) -> Result<()> {
    let prepared = sampler.prepare(Dtype::F32)?;
    run(&Values { prepared, stream }, first, out)
}

/// Fills `out[k]` with the bits of element `first + k` of `sampler` drawn from `stream` as the
/// 16-bit `dtype` (f16 or bf16): the f32 value rounded to nearest-even (bit-identical to the
/// `half` crate), with the bounds of bounded samplers rounded inwards first
/// ([`Sampler::prepare`]); the GPU's [`crate::GpuContext::fill_bits`] twin. [`Dtype::F32`] is an
/// error here: use [`fill`].
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
    let kernel = Bits16 {
        values: Values { prepared, stream },
        bf16: dtype == Dtype::Bf16,
    };
    run(&kernel, first, out)
}

/// [`fill_bits`] as `half::f16` values.
pub fn fill_f16(
    sampler: &Sampler,
    stream: StreamId,
    first: u64,
    out: &mut [half::f16],
) -> Result<()> {
    let prepared = sampler.prepare(Dtype::F16)?;
    let bits = Bits16 {
        values: Values { prepared, stream },
        bf16: false,
    };
    run(&Halves(bits, half::f16::from_bits), first, out)
}

/// [`fill_bits`] as `half::bf16` values.
pub fn fill_bf16(
    sampler: &Sampler,
    stream: StreamId,
    first: u64,
    out: &mut [half::bf16],
) -> Result<()> {
    let prepared = sampler.prepare(Dtype::Bf16)?;
    let bits = Bits16 {
        values: Values { prepared, stream },
        bf16: true,
    };
    run(&Halves(bits, half::bf16::from_bits), first, out)
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
    let count = (out.len() / dtype.size_bytes()) as u64;
    fill_rows_bytes(
        sampler,
        stream,
        Rows::from(first..first + count),
        dtype,
        out,
    )
}

/// Fills `out` with the little-endian bytes of the elements of `rows` (a box of a tensor, row
/// after row) of `sampler` drawn from `stream` as `dtype`; `out` holds exactly those elements.
/// Each row is computed directly, never the rows' whole extent.
pub fn fill_rows_bytes(
    sampler: &Sampler,
    stream: StreamId,
    rows: Rows,
    dtype: Dtype,
    out: &mut [u8],
) -> Result<()> {
    let size = dtype.size_bytes();
    if !out.len().is_multiple_of(size) || (out.len() / size) as u64 != rows.numel() {
        return Err(Error::invalid(
            "output length",
            out.len(),
            format!(
                "must be {} elements of {size} bytes for {dtype}",
                rows.numel()
            ),
        ));
    }
    let prepared = sampler.prepare(dtype)?;
    let values = Values { prepared, stream };
    match dtype {
        Dtype::F32 => run_rows(&BytesF32(values), rows, bytemuck::cast_slice_mut(out)),
        Dtype::F16 | Dtype::Bf16 => run_rows(
            &Bytes16(Bits16 {
                values,
                bf16: dtype == Dtype::Bf16,
            }),
            rows,
            bytemuck::cast_slice_mut(out),
        ),
    }
}

/// Fills `out[k]` with raw word `first + k` of `stream`, on all cores.
pub fn fill_words(stream: StreamId, first: u64, out: &mut [u32]) -> Result<()> {
    run(&Words(stream), first, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// First blocks around every carry of the counter: into its second word and past 2^64.
    const FIRST_BLOCKS: [u64; 7] = [
        0,
        5,
        (1 << 32) - 16,
        (1 << 32) - 3,
        (1 << 33) + 7,
        u64::MAX - 15,
        u64::MAX - 4,
    ];

    /// Every instruction set's Philox and interleave equal the portable ones (themselves checked
    /// against the scalar definition in tests/cpu_batched.rs), on the sets this CPU has.
    #[cfg(target_arch = "x86_64")]
    fn same_as_portable<W: PhiloxBatch>() {
        for stream in [
            StreamId::new(0, 0),
            StreamId::new(0xdead_beef_0123, u64::MAX - 1),
        ] {
            for first in FIRST_BLOCKS {
                let (mut want, mut got) = ([[0; BATCH]; 4], [[0; BATCH]; 4]);
                PortablePhilox::blocks(stream, first, &mut want);
                W::blocks(stream, first, &mut got);
                assert_eq!(got, want, "{stream:?} block {first}");
                let (mut got, mut expected) = ([0u32; BATCH_ELEMENTS], [0u32; BATCH_ELEMENTS]);
                W::interleave(&want, &mut got);
                PortablePhilox::interleave(&want, &mut expected);
                assert_eq!(got, expected, "interleave");
            }
        }
    }

    /// Random123's ten-round known answers (`tests/data/philox4x32_kat.txt`) through the batch
    /// Philox of `W`: each vector read as block `ctr[0..2]` of stream `ctr[2..4]` under key
    /// `key`, at lane 0 of a batch and at lane 21 (of a batch that starts 21 blocks earlier,
    /// wrapping as the counter does).
    #[cfg(target_arch = "x86_64")]
    fn known_answers<W: PhiloxBatch>() -> usize {
        let mut checked = 0;
        for line in include_str!("../../../tests/data/philox4x32_kat.txt").lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if line.starts_with('#') || fields.len() != 12 || fields[1] != "10" {
                continue;
            }
            let hex = |i: usize| u64::from(u32::from_str_radix(fields[i], 16).unwrap());
            let block = hex(2) | hex(3) << 32;
            let seed = hex(6) | hex(7) << 32;
            let stream = StreamId::new(seed, hex(4) | hex(5) << 32);
            let want = [8, 9, 10, 11].map(|i| hex(i) as u32);
            for lane in [0, 21] {
                let mut words = [[0; BATCH]; 4];
                W::blocks(stream, block.wrapping_sub(lane as u64), &mut words);
                assert_eq!(words.map(|w| w[lane]), want, "{line}");
            }
            checked += 1;
        }
        assert!(checked >= 3, "the ten-round vectors of the KAT file");
        checked
    }

    /// Every path this CPU runs, named so that a missing one shows in the output.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn every_supported_philox_equals_the_portable_lanes_and_random123() {
        for isa in CpuIsa::supported() {
            let vectors = match isa {
                CpuIsa::Avx512 => {
                    same_as_portable::<Avx512Philox>();
                    known_answers::<Avx512Philox>()
                }
                CpuIsa::Avx2 => {
                    same_as_portable::<Avx2Philox>();
                    known_answers::<Avx2Philox>()
                }
                CpuIsa::Portable => known_answers::<PortablePhilox>(),
            };
            println!("{isa}: Random123's {vectors} ten-round vectors, and the portable lanes");
        }
    }
}
