//! `sparse(sparsity, std)` as PyTorch's `sparse_` defines it — a 2-D `rows × cols` matrix with
//! exactly `ceil(sparsity · rows)` zeros in every column and N(0, std) elsewhere — under the
//! value contract:
//!
//! - element `i = r·cols + c` that is not zeroed equals element `i` of `normal(0, std)` from the
//!   tensor's stream (the same value a plain normal fill gives);
//! - each element also has a *row key*: raw word `i % 4` of block `2^63 + i/4` of the same stream —
//!   the stream's upper half, which no fill reaches (a tensor would need 2^65 elements);
//! - in column `c`, the zeroed rows are the `k` rows with the smallest `(key, row)` pairs, so they
//!   are a uniformly random `k`-subset (ties broken by row) that depends only on the stream.

use crate::contract::stream::StreamId;
use crate::error::{Error, Result};

/// First block of the row keys: the upper half of the stream's block space.
pub const ROW_KEY_FIRST_BLOCK: u64 = 1 << 63;

/// Zeros per column: `ceil(sparsity · rows)` as PyTorch computes it (`math.ceil` in f64).
pub fn zeros_per_column(rows: u64, sparsity: f64) -> Result<u64> {
    if !(0.0..1.0).contains(&sparsity) {
        return Err(Error::invalid("sparsity", sparsity, "must be in [0, 1)"));
    }
    Ok((sparsity * rows as f64).ceil() as u64)
}

/// The row key of element `index` (see the module docs).
#[inline]
pub fn row_key(stream: StreamId, index: u64) -> u32 {
    stream.block(ROW_KEY_FIRST_BLOCK + index / 4)[(index % 4) as usize]
}
