//! `sparse(sparsity, std)` on the CPU. Semantics: [`crate::sample::sparse`].

use rayon::prelude::*;

use crate::contract::stream::StreamId;
use crate::error::{Error, Result, host_len};
use crate::sample::sampler::Sampler;
use crate::sample::sparse::{row_key, zeros_per_column};

/// The CPU reference: the whole `rows × cols` matrix, row-major.
pub fn sparse_cpu(
    rows: u64,
    cols: u64,
    sparsity: f64,
    std: f32,
    stream: StreamId,
) -> Result<Vec<f32>> {
    let k = zeros_per_column(rows, sparsity)? as usize;
    let shown = format!("[{rows}, {cols}]");
    let numel = rows
        .checked_mul(cols)
        .ok_or_else(|| Error::invalid("shape", &shown, "too many elements for host memory"))?;
    let numel = host_len("shape", shown, numel, size_of::<f32>())?;
    let mut values = vec![0.0f32; numel];
    super::fill::fill(&Sampler::Normal { mean: 0.0, std }, stream, 0, &mut values)?;
    if k == 0 {
        return Ok(values);
    }
    let zeroed: Vec<Vec<u64>> = (0..cols)
        .into_par_iter()
        .map(|c| {
            let mut keyed: Vec<(u32, u64)> = (0..rows)
                .map(|r| (row_key(stream, r * cols + c), r))
                .collect();
            keyed.select_nth_unstable(k - 1);
            keyed[..k].iter().map(|&(_, r)| r).collect()
        })
        .collect();
    for (c, rows_zeroed) in zeroed.iter().enumerate() {
        for &r in rows_zeroed {
            values[(r * cols) as usize + c] = 0.0;
        }
    }
    Ok(values)
}
