//! `orthogonal(gain)`, as PyTorch's `torch.nn.init.orthogonal_`: what the CPU reference
//! (`backend::cpu::orthogonal`) and the GPU backend (`backend::gpu::orthogonal`) share.
//!
//! For a tensor of shape `(rows, *rest)` with `cols = ∏ rest` (flattened as PyTorch does):
//!
//! 1. `A` = the `rows × cols` matrix whose row-major element `i` is element `i` of the stream's
//!    `normal(0, 1)` sampler ([`Sampler::Normal`]) — the value contract, unchanged;
//! 2. if `rows < cols`, `A` is transposed, so the matrix factored, `M`, is `m × n` with `m ≥ n`;
//! 3. `M = QR` (reduced: `Q` is `m × n`), then every column of `Q` is multiplied by the sign of
//!    the matching diagonal entry of `R` (`sign(0) = 0`, as `torch.sign`), which makes `Q` the
//!    unique factor with a positive diagonal in `R` — so the result does not depend on which QR
//!    algorithm computed it, only on its rounding;
//! 4. `Q` is transposed back if `A` was, and multiplied by `gain`.
//!
//! Rows of the result are orthonormal (times `gain`) when `rows ≤ cols`, columns when
//! `rows ≥ cols`. Fewer than 2 dimensions is an error; a tensor with no elements is returned empty.
//!
//! The CPU reference computes step 3 in f64 with nalgebra's Householder QR and rounds `gain·Q` to
//! f32 once at the end; the GPU runs a block CGS2 QR in f32. See `docs/orthogonal.md` for the
//! measured agreement between them.

use crate::error::{Error, Result};
use crate::sample::sampler::Sampler;

/// The sampler whose stream elements make the matrix `A`: element `i` of `A`'s row-major
/// flattening is element `i` of this sampler.
pub const SOURCE: Sampler = Sampler::Normal {
    mean: 0.0,
    std: 1.0,
};

/// A tensor shape seen as the matrix PyTorch's `orthogonal_` factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrthogonalLayout {
    /// The tensor's first dimension.
    pub rows: u64,
    /// The product of its other dimensions.
    pub cols: u64,
}

impl OrthogonalLayout {
    /// `(rows, cols)` from a shape of 2 or more dimensions (PyTorch: "Only tensors with 2 or more
    /// dimensions are supported"); the element count must fit in a `u64`.
    pub fn from_shape(shape: &[u64]) -> Result<Self> {
        if shape.len() < 2 {
            return Err(Error::invalid(
                "shape",
                format!("{shape:?}"),
                "orthogonal needs a tensor with 2 or more dimensions",
            ));
        }
        let cols = shape[1..]
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| Error::invalid("shape", format!("{shape:?}"), "too many elements"))?;
        shape[0]
            .checked_mul(cols)
            .ok_or_else(|| Error::invalid("shape", format!("{shape:?}"), "too many elements"))?;
        Ok(Self {
            rows: shape[0],
            cols,
        })
    }

    /// Whether `A` is transposed before the QR (`rows < cols`).
    pub fn transposed(&self) -> bool {
        self.rows < self.cols
    }

    /// Rows of the factored matrix `M`: `max(rows, cols)`.
    pub fn m(&self) -> u64 {
        self.rows.max(self.cols)
    }

    /// Columns of the factored matrix `M` (and of `Q`): `min(rows, cols)`.
    pub fn n(&self) -> u64 {
        self.rows.min(self.cols)
    }

    /// Number of elements of the tensor.
    pub fn len(&self) -> u64 {
        self.rows * self.cols
    }

    /// Whether the tensor has no elements (then there is nothing to draw).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Checks `gain` (any finite number, as PyTorch accepts any float).
pub fn check_gain(gain: f32) -> Result<()> {
    if gain.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid("gain", gain, "must be a finite number"))
    }
}
