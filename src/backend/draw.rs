//! Materializes a resolved [`Plan`] for one tensor on a backend: the GPU (through
//! [`GpuContext`]) or the CPU reference. Elements `range` of the tensor's row-major flattening —
//! or a box of its rows ([`Rows`]) — are returned in order.

use std::ops::Range;

use crate::backend::gpu::{Destination, FillRequest, GpuContext};
use crate::contract::dtype::Dtype;
use crate::contract::slice::{Rows, Slice};
use crate::contract::stream::StreamId;
use crate::error::{Error, Result, host_len};
use crate::sample::structured::{dirac_is_one, eye_is_one};
use crate::scheme::{Draw, Plan};

/// Where a tensor is computed.
#[derive(Debug, Clone, Copy)]
pub enum Backend<'a> {
    /// On the GPU; values are read back.
    Gpu(&'a GpuContext),
    /// On the CPU reference (all cores).
    Cpu,
}

/// Elements `range` of a tensor of `shape` drawn as `plan` says from `stream`, as f32.
pub fn draw_f32(
    backend: Backend<'_>,
    plan: &Plan,
    shape: &[u64],
    stream: StreamId,
    range: Range<u64>,
) -> Result<Vec<f32>> {
    let numel = shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d));
    if range.start > range.end || numel.is_none_or(|n| range.end > n) {
        return Err(Error::invalid(
            "range",
            format!("{}..{}", range.start, range.end),
            format!(
                "must lie within the tensor's {} elements",
                numel.unwrap_or(u64::MAX)
            ),
        ));
    }
    let ones = |is_one: &dyn Fn(u64) -> bool| {
        range
            .clone()
            .map(|i| if is_one(i) { 1.0 } else { 0.0 })
            .collect()
    };
    match (&plan.draw, backend) {
        (Draw::Sample(sampler), Backend::Gpu(gpu)) => gpu.fill(sampler, stream, range),
        (Draw::Sample(sampler), Backend::Cpu) => {
            let mut values = vec![0.0; (range.end - range.start) as usize];
            crate::backend::cpu::fill(sampler, stream, range.start, &mut values)?;
            Ok(values)
        }
        (Draw::Empty, _) => Ok(Vec::new()),
        (Draw::Eye, _) => Ok(ones(&|i| eye_is_one(i, shape[1]))),
        (Draw::Dirac { groups }, _) => Ok(ones(&|i| dirac_is_one(i, shape, *groups))),
        (Draw::Orthogonal { gain }, backend) => {
            let whole = match backend {
                Backend::Gpu(gpu) => {
                    crate::backend::gpu::orthogonal::orthogonal_gpu(gpu, shape, *gain, stream)?
                }
                Backend::Cpu => {
                    crate::backend::cpu::orthogonal::orthogonal_cpu(shape, *gain, stream)?
                }
            };
            Ok(whole[range.start as usize..range.end as usize].to_vec())
        }
        (Draw::Sparse { sparsity, std }, backend) => {
            let (rows, cols) = (shape[0], shape[1]);
            let whole = match backend {
                Backend::Gpu(gpu) => crate::backend::gpu::sparse::sparse_gpu(
                    gpu, rows, cols, *sparsity, *std, stream,
                )?,
                Backend::Cpu => {
                    crate::backend::cpu::sparse::sparse_cpu(rows, cols, *sparsity, *std, stream)?
                }
            };
            Ok(whole[range.start as usize..range.end as usize].to_vec())
        }
    }
}

/// Elements `range` of the tensor as little-endian bytes of `dtype`. Samplers are rounded by the
/// backend itself (on the GPU by the kernel); structured draws (eye, dirac, orthogonal, sparse)
/// are rounded to nearest-even on the host after they are computed.
pub fn draw_bytes(
    backend: Backend<'_>,
    plan: &Plan,
    shape: &[u64],
    stream: StreamId,
    range: Range<u64>,
    dtype: Dtype,
) -> Result<Vec<u8>> {
    match &plan.draw {
        Draw::Sample(_) if range.start <= range.end => {
            draw_rows_bytes(backend, plan, shape, stream, range.into(), dtype)
        }
        _ => Ok(dtype.encode(&draw_f32(backend, plan, shape, stream, range)?)),
    }
}

/// The elements of `rows` (a box of the tensor, row after row) as little-endian bytes of
/// `dtype`, as [`draw_bytes`] makes them. A sampled tensor's rows are drawn directly; a
/// structured draw is computed over the rows' extent (eye and dirac per index; orthogonal and
/// sparse are whole-matrix computations anyway) and the rows taken from it.
pub fn draw_rows_bytes(
    backend: Backend<'_>,
    plan: &Plan,
    shape: &[u64],
    stream: StreamId,
    rows: Rows,
    dtype: Dtype,
) -> Result<Vec<u8>> {
    let count = rows.numel();
    match (&plan.draw, backend) {
        (Draw::Sample(sampler), Backend::Gpu(gpu)) => {
            gpu.fill_rows_bytes(sampler, stream, rows, dtype)
        }
        (Draw::Sample(sampler), Backend::Cpu) => {
            let len = host_len("elements", count, count, dtype.size_bytes())?;
            let mut bytes = vec![0u8; len * dtype.size_bytes()];
            crate::backend::cpu::fill_rows_bytes(sampler, stream, rows, dtype, &mut bytes)?;
            Ok(bytes)
        }
        _ if count == 0 => Ok(Vec::new()),
        _ => {
            let extent = rows.first..rows.row(rows.rows - 1).end;
            let values = draw_f32(backend, plan, shape, stream, extent)?;
            let picked: Vec<f32> = (0..count)
                .map(|k| values[(rows.index(k) - rows.first) as usize])
                .collect();
            Ok(dtype.encode(&picked))
        }
    }
}

/// The elements of `slice` of a tensor of `shape` (its box, row-major) drawn as `plan` says,
/// as little-endian bytes of `dtype`, into `out`, which holds exactly them: sampled tensors on
/// the CPU straight into `out` (no copy), everything else through [`draw_rows_bytes`].
pub fn draw_slice_into(
    backend: Backend<'_>,
    plan: &Plan,
    stream: StreamId,
    slice: &Slice,
    dtype: Dtype,
    out: &mut [u8],
) -> Result<()> {
    let size = dtype.size_bytes();
    if out.len() as u64 != slice.numel().saturating_mul(size as u64) {
        return Err(Error::invalid(
            "out",
            format!("{} bytes", out.len()),
            format!(
                "{} elements of {dtype} ({} bytes each), the slice's",
                slice.numel(),
                size
            ),
        ));
    }
    let mut at = 0;
    for rows in slice.rows() {
        let piece = &mut out[at..at + rows.numel() as usize * size];
        match (&plan.draw, backend) {
            (Draw::Sample(sampler), Backend::Cpu) => {
                crate::backend::cpu::fill_rows_bytes(sampler, stream, rows, dtype, piece)?;
            }
            _ => piece.copy_from_slice(&draw_rows_bytes(
                backend,
                plan,
                &slice.shape,
                stream,
                rows,
                dtype,
            )?),
        }
        at += piece.len();
    }
    Ok(())
}

/// One tensor of a batch for [`Drawer::draw_batch`]: elements `elements` of a tensor of `shape`,
/// drawn as `plan` says from `stream`, as `dtype`.
#[derive(Debug, Clone)]
pub struct DrawItem<'a> {
    /// The resolved plan.
    pub plan: &'a Plan,
    /// The tensor's full shape.
    pub shape: &'a [u64],
    /// Its stream.
    pub stream: StreamId,
    /// Which elements of its row-major flattening: a range, or a box of rows.
    pub elements: Rows,
    /// Output dtype.
    pub dtype: Dtype,
}

impl DrawItem<'_> {
    /// Its bytes drawn alone on `backend` ([`draw_rows_bytes`]).
    fn draw(&self, backend: Backend<'_>) -> Result<Vec<u8>> {
        draw_rows_bytes(
            backend,
            self.plan,
            self.shape,
            self.stream,
            self.elements,
            self.dtype,
        )
    }
}

/// Largest GPU staging area a batch of sampled tensors is packed into (64 MiB): the fills of
/// all tensors that fit are recorded into one encoder with one parameter buffer
/// ([`crate::FillKernels::record_fill_batch`]), submitted once and read back once.
pub const GPU_BATCH_BYTES: u64 = 64 << 20;

/// Draws many tensors as bytes, batching on the GPU: consecutive sampled tensors are packed
/// into one reusable device buffer of at most [`GPU_BATCH_BYTES`] (created once, so wgpu's
/// zero-fill of a fresh buffer is paid once), filled by one submit and read back by one copy.
/// Larger tensors and structured draws go one by one through [`draw_bytes`]. The bytes are
/// exactly those of [`draw_bytes`] for each item.
#[derive(Debug)]
pub struct Drawer<'a> {
    backend: Backend<'a>,
    arena: Option<wgpu::Buffer>,
}

impl<'a> Drawer<'a> {
    /// A drawer on `backend`.
    pub fn new(backend: Backend<'a>) -> Self {
        Self {
            backend,
            arena: None,
        }
    }

    /// The bytes of every item, in order.
    pub fn draw_batch(&mut self, items: &[DrawItem<'_>]) -> Result<Vec<Vec<u8>>> {
        let gpu = match self.backend {
            Backend::Gpu(gpu) => gpu,
            Backend::Cpu => return items.iter().map(|item| item.draw(self.backend)).collect(),
        };
        let align = u64::from(gpu.device().limits().min_storage_buffer_offset_alignment).max(16);
        let batched_bytes = |item: &DrawItem<'_>| {
            let bytes = item
                .elements
                .rows
                .checked_mul(item.elements.len)
                .and_then(|n| n.checked_mul(item.dtype.size_bytes() as u64));
            bytes.filter(|&b| {
                matches!(item.plan.draw, Draw::Sample(_)) && b > 0 && b <= GPU_BATCH_BYTES
            })
        };
        let arena_hint = items
            .iter()
            .filter_map(batched_bytes)
            .fold(0u64, |sum, b| sum.saturating_add(b.next_multiple_of(align)))
            .min(GPU_BATCH_BYTES);
        let mut out: Vec<Option<Vec<u8>>> = vec![None; items.len()];
        // (item index, byte offset in the arena, byte length) of the current batch.
        let mut batch: Vec<(usize, u64, u64)> = Vec::new();
        let mut used = 0u64;
        for (index, item) in items.iter().enumerate() {
            let Some(bytes) = batched_bytes(item) else {
                out[index] = Some(item.draw(self.backend)?);
                continue;
            };
            let offset = used.next_multiple_of(align);
            if offset + bytes > GPU_BATCH_BYTES {
                self.flush(gpu, items, &batch, used, arena_hint, &mut out)?;
                batch.clear();
                used = 0;
            }
            let offset = used.next_multiple_of(align);
            batch.push((index, offset, bytes));
            used = offset + bytes;
        }
        self.flush(gpu, items, &batch, used, arena_hint, &mut out)?;
        Ok(out.into_iter().map(Option::unwrap_or_default).collect())
    }

    /// Fills the batch's tensors into the arena with one submit and reads them back.
    fn flush(
        &mut self,
        gpu: &GpuContext,
        items: &[DrawItem<'_>],
        batch: &[(usize, u64, u64)],
        used: u64,
        arena_hint: u64,
        out: &mut [Option<Vec<u8>>],
    ) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let total = used.next_multiple_of(4);
        let host: Vec<u8> = gpu.scoped("model draw", || {
            if self.arena.as_ref().is_none_or(|a| a.size() < total) {
                // Sized for the largest batch this drawer is likely to see, at most GPU_BATCH_BYTES.
                self.arena = Some(gpu.device().create_buffer(&wgpu::BufferDescriptor {
                    label: Some("nninit draw batch"),
                    size: total.max(arena_hint),
                    usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
                    mapped_at_creation: false,
                }));
            }
            let arena = self.arena.as_ref().expect("created above");
            let requests: Vec<FillRequest<'_>> = batch
                .iter()
                .map(|&(index, offset, _)| {
                    let item = &items[index];
                    let Draw::Sample(sampler) = item.plan.draw else {
                        unreachable!("only sampled tensors are batched")
                    };
                    FillRequest {
                        dst: Destination {
                            buffer: arena,
                            byte_offset: offset,
                        },
                        sampler,
                        stream: item.stream,
                        elements: item.elements,
                        dtype: item.dtype,
                    }
                })
                .collect();
            let mut encoder = gpu.device().create_command_encoder(&Default::default());
            gpu.kernels()
                .record_fill_batch(gpu.device(), &mut encoder, &requests)?;
            gpu.queue().submit([encoder.finish()]);
            // Waits for the fills (submitted before) and copies the used part back.
            gpu.read_buffer(arena, 0, total)
        })?;
        for &(index, offset, bytes) in batch {
            out[index] = Some(host[offset as usize..(offset + bytes) as usize].to_vec());
        }
        Ok(())
    }
}
