//! The primitive samplers the kernels implement: each turns one Philox block (four words) into the
//! four elements `4b .. 4b+4`. The WGSL twin of every function here is in `shaders/fill.wgsl`,
//! with the same arithmetic in the same order, so the GPU and the CPU reference agree.

use crate::error::{Error, Result};
use crate::math::{ln_unit, sin_cos_pi};
use crate::stream::{signed_unit, unit_open_closed};

/// A primitive distribution with concrete parameters, as the kernels draw it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampler {
    /// `low + (high − low)·u` with `u = (w >> 8)·2^-24`, one word per element. Computed in f32 as
    /// `clamp(c + h·t, low, high)` with `t = 2u − 1 = (w >> 8)·2^-23 − 1` (exact), centre
    /// `c = (low + high)/2` and half-width `h = (high − low)/2` (each rounded once from f64): the
    /// same real number, rounded so that the common symmetric case (`c = 0`) is a single
    /// multiply, bit-identical on every device whether or not it fuses multiply and add. Values
    /// lie in `[low, high]`; `high` appears only where rounding reaches it.
    Uniform {
        /// Lower bound.
        low: f32,
        /// Upper bound.
        high: f32,
    },
    /// Box–Muller per block: words 0, 1 give elements 4b, 4b+1 and words 2, 3 give 4b+2, 4b+3, as
    /// `r = sqrt(−2·ln u1)` with `u1 = ((w >> 8) + 1)·2^-24` in (0, 1] and angle
    /// `θ = π·t`, `t = (w >> 8)·2^-23 − 1` in [−1, 1); the pair is `(r·cos θ, r·sin θ)`, then
    /// `mean + std·z`. `ln`, `sin` and `cos` are nninit's own ([`crate::math`]), identical on every
    /// device. |z| ≤ √(48 ln 2) ≈ 5.77.
    Normal {
        /// Mean.
        mean: f32,
        /// Standard deviation, > 0.
        std: f32,
    },
    /// Every element equals `value`; draws no words.
    Constant {
        /// The value.
        value: f32,
    },
}

fn finite(name: &str, value: f32) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(name, value, "must be a finite number"))
    }
}

impl Sampler {
    /// Checks the parameters: all finite, `low < high` with a finite width, `std > 0`.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Sampler::Uniform { low, high } => {
                finite("low", low)?;
                finite("high", high)?;
                if low >= high {
                    return Err(Error::invalid(
                        "high",
                        high,
                        format!("must be greater than low = {low}"),
                    ));
                }
                if !(high - low).is_finite() {
                    return Err(Error::invalid(
                        "high",
                        high,
                        format!("high − low must be finite in f32 (low = {low})"),
                    ));
                }
                Ok(())
            }
            Sampler::Normal { mean, std } => {
                finite("mean", mean)?;
                finite("std", std)?;
                if std <= 0.0 {
                    return Err(Error::invalid("std", std, "must be > 0"));
                }
                Ok(())
            }
            Sampler::Constant { value } => finite("val", value),
        }
    }

    /// The kernel's view: which sampler, and its f32 parameters as the kernel uses them
    /// (`FillParams.p` in `shaders/fill.wgsl`).
    pub(crate) fn kernel_params(&self) -> (KernelDist, [f32; 4]) {
        match *self {
            Sampler::Uniform { low, high } => {
                let (low64, high64) = (f64::from(low), f64::from(high));
                let centre = ((low64 + high64) / 2.0) as f32;
                let half_width = ((high64 - low64) / 2.0) as f32;
                (KernelDist::Uniform, [centre, half_width, low, high])
            }
            Sampler::Normal { mean, std } => (KernelDist::Normal, [mean, std, 0.0, 0.0]),
            Sampler::Constant { value } => (KernelDist::Constant, [value, 0.0, 0.0, 0.0]),
        }
    }

    /// The four elements of block `words`, exactly as the kernel computes them.
    #[inline(always)]
    pub fn block_values(&self, words: [u32; 4]) -> [f32; 4] {
        // Rust never contracts `a * b + c` into an fma, and neither may the kernel's result differ
        // where it matters: see the rounding notes on each variant.
        let (dist, [p0, p1, p2, p3]) = self.kernel_params();
        match dist {
            KernelDist::Uniform => words.map(|w| (p0 + p1 * signed_unit(w)).clamp(p2, p3)),
            KernelDist::Normal => {
                let (z0, z1) = box_muller(words[0], words[1]);
                let (z2, z3) = box_muller(words[2], words[3]);
                [z0, z1, z2, z3].map(|z| p0 + p1 * z)
            }
            KernelDist::Constant | KernelDist::Words => [p0; 4],
        }
    }
}

/// Box–Muller pair from two words; see [`Sampler::Normal`].
#[inline(always)]
pub fn box_muller(radius_word: u32, angle_word: u32) -> (f32, f32) {
    let r = (-2.0 * ln_unit(unit_open_closed(radius_word))).sqrt();
    let (sin, cos) = sin_cos_pi(signed_unit(angle_word));
    (r * cos, r * sin)
}

/// The kernel variants, numbered as `shaders/fill.wgsl`'s `DIST` override constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum KernelDist {
    Words = 0,
    Uniform = 1,
    Normal = 2,
    Constant = 3,
}
