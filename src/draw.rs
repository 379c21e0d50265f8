//! Materializes a resolved [`Plan`] for one tensor on a backend: the GPU (through
//! [`GpuContext`]) or the CPU reference. Elements `range` of the tensor's row-major flattening are
//! returned in order.

use std::ops::Range;

use crate::dtype::Dtype;
use crate::error::{Error, Result};
use crate::gpu::GpuContext;
use crate::scheme::{Draw, Plan};
use crate::stream::StreamId;
use crate::structured::{dirac_is_one, eye_is_one};

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
            crate::cpu::fill(sampler, stream, range.start, &mut values)?;
            Ok(values)
        }
        (Draw::Empty, _) => Ok(Vec::new()),
        (Draw::Eye, _) => Ok(ones(&|i| eye_is_one(i, shape[1]))),
        (Draw::Dirac { groups }, _) => Ok(ones(&|i| dirac_is_one(i, shape, *groups))),
        (Draw::Orthogonal { gain }, backend) => {
            let whole = match backend {
                Backend::Gpu(gpu) => {
                    crate::gpu::orthogonal::orthogonal_gpu(gpu, shape, *gain, stream)?
                }
                Backend::Cpu => crate::orthogonal::orthogonal_cpu(shape, *gain, stream)?,
            };
            Ok(whole[range.start as usize..range.end as usize].to_vec())
        }
        (Draw::Sparse { sparsity, std }, backend) => {
            let (rows, cols) = (shape[0], shape[1]);
            let whole = match backend {
                Backend::Gpu(gpu) => {
                    crate::gpu::sparse::sparse_gpu(gpu, rows, cols, *sparsity, *std, stream)?
                }
                Backend::Cpu => crate::sparse::sparse_cpu(rows, cols, *sparsity, *std, stream)?,
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
    match (&plan.draw, backend) {
        (Draw::Sample(sampler), Backend::Gpu(gpu)) => gpu.fill_bytes(sampler, stream, range, dtype),
        (Draw::Sample(sampler), Backend::Cpu) => {
            let len = usize::try_from(range.end - range.start)
                .ok()
                .and_then(|n| n.checked_mul(dtype.size_bytes()))
                .ok_or_else(|| {
                    Error::invalid(
                        "range",
                        range.end - range.start,
                        "too many elements for host memory",
                    )
                })?;
            let mut bytes = vec![0u8; len];
            crate::cpu::fill_bytes(sampler, stream, range.start, dtype, &mut bytes)?;
            Ok(bytes)
        }
        _ => Ok(dtype.encode(&draw_f32(backend, plan, shape, stream, range)?)),
    }
}
