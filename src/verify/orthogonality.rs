//! How far an `orthogonal(gain)` result is from orthonormal, measured in f64.

use nalgebra::DMatrix;

use crate::error::{Error, Result};
use crate::sample::orthogonal::check_gain;

/// `max|QᵀQ − g²I|/g²` in f64 for a row-major `rows × cols` result `values` of
/// `orthogonal(gain = g)` when `rows ≥ cols`, or `max|QQᵀ − g²I|/g²` when `rows < cols`: how far
/// its orthonormal side is from orthonormal, in units of `gain²`. `gain` must be non-zero and
/// `values.len()` must equal `rows·cols`.
pub fn orthogonality_error(values: &[f32], rows: usize, cols: usize, gain: f32) -> Result<f64> {
    if rows.checked_mul(cols) != Some(values.len()) {
        return Err(Error::invalid(
            "values",
            values.len(),
            format!("must hold rows·cols = {rows}·{cols} elements"),
        ));
    }
    check_gain(gain)?;
    if gain == 0.0 {
        return Err(Error::invalid("gain", gain, "must be non-zero"));
    }
    // nalgebra is column-major: the row-major buffer read as a cols × rows matrix is Aᵀ.
    let at = DMatrix::<f64>::from_iterator(cols, rows, values.iter().map(|&v| f64::from(v)));
    let gram = if rows >= cols {
        &at * at.transpose()
    } else {
        at.transpose() * &at
    };
    let g2 = f64::from(gain) * f64::from(gain);
    let mut worst = 0.0f64;
    for (r, c) in (0..gram.ncols()).flat_map(|c| (0..gram.nrows()).map(move |r| (r, c))) {
        let expected = if r == c { 1.0 } else { 0.0 };
        worst = worst.max((gram[(r, c)] / g2 - expected).abs());
    }
    Ok(worst)
}
