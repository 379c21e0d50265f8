//! The primitive samplers the kernels implement: each turns one Philox block (four words) into the
//! four elements `4b .. 4b+4`. The WGSL twin of every function here is in `shaders/fill.wgsl`,
//! with the same arithmetic in the same order, so the GPU and the CPU reference agree. Also the
//! output element types ([`Dtype`]): every sampler computes in f32, and 16-bit output is that
//! value rounded to nearest-even.

use crate::contract::dtype::Dtype;
use crate::contract::math::{
    ln_unit, normal_cdf, normal_sf, pick_bits, pick_f32, probit, probit_central, probit_w,
    sin_cos_pi,
};
use crate::contract::stream::{signed_unit, unit_open_closed};
use crate::error::{Error, Result};

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
    /// `mean + std·z`. `ln`, `sin` and `cos` are nninit's own ([`crate::contract::math`]), identical on every
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
    /// The normal distribution `N(mean, std²)` truncated to `[low, high]` (absolute bounds, as
    /// PyTorch's `trunc_normal_(mean, std, a, b)`), by inverse CDF: one word per element.
    ///
    /// In standard units `α = (low − mean)/std`, `β = (high − mean)/std`, with
    /// `m = Φ(β) − Φ(α)`, element `i` takes `k = w >> 8` of its word and is
    /// `z = Φ⁻¹(Φ(α) + (k + ½)·m·2^-24)`, then `mean + std·z` clamped to `[low, high]`. The `½`
    /// keeps every point away from the ends: `±1000σ` bounds give `|z| ≤ 5.42` and a kurtosis
    /// of 3, never values at the bounds.
    ///
    /// Precision where it matters: the host computes `Φ(α)`, `1 − Φ(β)` and `m` in f64, each
    /// from the tail it lies in ([`crate::contract::math::erfc`]), and passes the kernel the tail
    /// probability at `k = 0`, the step `m·2^-24` and the split point `k` of the median.
    /// Points below the median take their lower-tail probability `p = Φ(α) + (k + ½)·m·2^-24`,
    /// points above it the upper-tail one `1 − Φ(β) + (2^24 − ½ − k)·m·2^-24` and a negated
    /// result, so both tails keep their relative precision in f32; near the median the kernel
    /// also forms `p − ½` directly from the same terms, so nearly-uniform truncations
    /// (`std` far above the bounds) keep the resolution of the 2^24 grid. The kernel evaluates
    /// `Φ⁻¹` with [`crate::contract::math::probit`] (only `+ − ×`, `sqrt`, selects and the portable `ln`),
    /// identically in WGSL and Rust.
    ///
    /// Accuracy (`tests/trunc_normal_accuracy.rs`, `docs/trunc_normal.md`):
    /// `|z − z_exact| ≤ 3e-7·max(1, |z|)` — worst measured 2.60e-7 over every f32 probability
    /// in [2^-125, ½] and 2.57e-7 over all 2^24 grid points of seven intervals, against f64.
    /// GPU and CPU: `|Δ| ≤ 1e-6·std·max(1, |z|)` plus one ulp of the value, documented;
    /// bit-identical on lavapipe. Values never leave `[low, high]`, in f32 and after rounding to
    /// f16 or bf16 (a value that would round outside becomes the representable bound inside).
    ///
    /// Valid when all four are finite, `std > 0`, `low < high`, and the interval holds at least
    /// [`TRUNC_NORMAL_MIN_MASS`] of the normal's probability (every probability the kernel
    /// handles is then a normal f32); one-sided tails out to 11.4σ qualify. The error bound is
    /// absolute in units of `std`, so an interval narrower than about `1e-4·std·|z|` far out in
    /// a tail is sampled with an error that is a visible fraction of its width (up to 3% for
    /// `[10σ, 10.0001σ]`).
    TruncNormal {
        /// Mean of the untruncated normal.
        mean: f32,
        /// Standard deviation of the untruncated normal, > 0.
        std: f32,
        /// Lower bound (absolute).
        low: f32,
        /// Upper bound (absolute), > `low`.
        high: f32,
    },
}

/// The smallest probability mass `Φ(β) − Φ(α)` a [`Sampler::TruncNormal`] interval may hold:
/// 2^-100 ≈ 7.9e-31, which keeps every probability the kernel computes a normal f32 (the
/// smallest is `m·2^-25`). One-sided tails out to 11.4σ qualify.
pub const TRUNC_NORMAL_MIN_MASS: f64 = 7.888_609_052_210_118e-31;

fn finite(name: &str, value: f32) -> Result<()> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(name, value, "must be a finite number"))
    }
}

impl Sampler {
    /// Checks the parameters: all finite; `low < high` with a finite width (uniform); `std > 0`;
    /// for the truncated normal also `low < high` and a mass of at least
    /// [`TRUNC_NORMAL_MIN_MASS`].
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
            Sampler::TruncNormal {
                mean,
                std,
                low,
                high,
            } => {
                finite("mean", mean)?;
                finite("std", std)?;
                finite("a", low)?;
                finite("b", high)?;
                if std <= 0.0 {
                    return Err(Error::invalid("std", std, "must be > 0"));
                }
                if low >= high {
                    return Err(Error::invalid(
                        "b",
                        high,
                        format!("must be greater than a = {low}"),
                    ));
                }
                let mass = TruncTails::new(mean, std, low, high).mass;
                if mass.is_nan() || mass < TRUNC_NORMAL_MIN_MASS {
                    return Err(Error::invalid(
                        "a, b",
                        format!("{low}, {high}"),
                        format!(
                            "the interval must hold at least 2^-100 of the normal's probability \
                             (it holds {mass:.3e} with mean = {mean}, std = {std})"
                        ),
                    ));
                }
                Ok(())
            }
        }
    }

    /// Checks the sampler for output in `dtype` and computes everything the kernel needs, once:
    /// the form [`Prepared::block_values`] and the GPU kernels both evaluate. For 16-bit output
    /// the bounds of `Uniform` and `TruncNormal` are first rounded inwards to values of the dtype
    /// ([`Dtype::inner_bounds`]), so that values rounded to nearest-even stay inside `[low, high]`
    /// (a value that would round outside becomes the representable bound inside); an interval
    /// holding no finite value of the dtype is an error. For f32 the bounds stay as given, except
    /// that a bound of −0 becomes +0 (a GPU's `clamp` may return either zero).
    pub fn prepare(&self, dtype: Dtype) -> Result<Prepared> {
        self.validate()?;
        // A zero bound becomes +0: `clamp` against −0 and +0 may keep either zero on a GPU.
        let positive_zero = |x: f32| if x == 0.0 { 0.0 } else { x };
        let inner = |low: f32, high: f32| {
            dtype
                .inner_bounds(low, high)
                .map(|(lo, hi)| (positive_zero(lo), positive_zero(hi)))
                .ok_or_else(|| {
                    Error::invalid(
                        "a, b",
                        format!("{low}, {high}"),
                        format!("the interval must contain a finite {dtype} value"),
                    )
                })
        };
        let zero = Prepared {
            dist: KernelDist::Constant,
            p: [0.0; 4],
            q: [0.0; 4],
            split: 0,
            step: 0.0,
        };
        Ok(match *self {
            Sampler::Uniform { low, high } => {
                let (low64, high64) = (f64::from(low), f64::from(high));
                let centre = ((low64 + high64) / 2.0) as f32;
                let half_width = ((high64 - low64) / 2.0) as f32;
                let (lo, hi) = inner(low, high)?;
                Prepared {
                    dist: KernelDist::Uniform,
                    p: [centre, half_width, lo, hi],
                    ..zero
                }
            }
            Sampler::Normal { mean, std } => Prepared {
                dist: KernelDist::Normal,
                p: [mean, std, 0.0, 0.0],
                ..zero
            },
            Sampler::Constant { value } => Prepared {
                p: [value, 0.0, 0.0, 0.0],
                ..zero
            },
            Sampler::TruncNormal {
                mean,
                std,
                low,
                high,
            } => {
                let (lo, hi) = inner(low, high)?;
                let tails = TruncTails::new(mean, std, low, high);
                // The uniform point of k is (k + ½)·d into the interval, d = m·2^-24.
                let d = tails.mass * TWO_POW_M24;
                let c_lo = tails.below + 0.5 * d;
                let c_hi = tails.above + 0.5 * d;
                // Elements with Φ(α) + (k + ½)·d ≤ ½ use the lower tail.
                let split = ((0.5 - tails.below) / d - 0.5).floor() + 1.0;
                Prepared {
                    dist: KernelDist::TruncNormal,
                    p: [mean, std, lo, hi],
                    q: [
                        c_lo as f32,
                        c_hi as f32,
                        (c_lo - 0.5) as f32,
                        (c_hi - 0.5) as f32,
                    ],
                    split: split.clamp(0.0, 16_777_216.0) as u32,
                    step: d as f32,
                }
            }
        })
    }

    /// The four elements of block `words` in f32, exactly as the kernel computes them. This
    /// prepares the sampler on every call (cheap except for `TruncNormal`, whose preparation
    /// evaluates f64 error functions): loops should call [`Sampler::prepare`] once and
    /// [`Prepared::block_values`]. An invalid sampler gives NaN.
    #[inline(always)]
    pub fn block_values(&self, words: [u32; 4]) -> [f32; 4] {
        match self.prepare(Dtype::F32) {
            Ok(prepared) => prepared.block_values(words),
            Err(_) => [f32::NAN; 4],
        }
    }
}

/// 2^-24 in f64.
const TWO_POW_M24: f64 = 1.0 / 16_777_216.0;

/// A truncated normal's probabilities in f64, each from the tail it lies in: `below = Φ(α)`,
/// `above = 1 − Φ(β)`, `mass = Φ(β) − Φ(α)`.
struct TruncTails {
    below: f64,
    above: f64,
    mass: f64,
}

impl TruncTails {
    fn new(mean: f32, std: f32, low: f32, high: f32) -> Self {
        let std = f64::from(std);
        let alpha = (f64::from(low) - f64::from(mean)) / std;
        let beta = (f64::from(high) - f64::from(mean)) / std;
        let below = normal_cdf(alpha);
        let above = normal_sf(beta);
        let mass = if beta <= 0.0 {
            normal_cdf(beta) - below
        } else if alpha >= 0.0 {
            normal_sf(alpha) - above
        } else {
            (1.0 - below) - above
        };
        Self { below, above, mass }
    }
}

/// A sampler checked and lowered for one output dtype: the parameters exactly as the kernel
/// receives them (`FillParams` in `shaders/fill.wgsl`). Made by [`Sampler::prepare`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prepared {
    pub(crate) dist: KernelDist,
    /// uniform: (centre, half width, low, high); normal: (mean, std, –, –); constant: (value, –,
    /// –, –); truncated normal: (mean, std, low, high). Bounds already rounded inwards.
    pub(crate) p: [f32; 4],
    /// truncated normal: (c_lo, c_hi, c_lo − ½, c_hi − ½), the tail probabilities at k = 0.
    pub(crate) q: [f32; 4],
    /// truncated normal: elements with `k < split` use the lower-tail form.
    pub(crate) split: u32,
    /// truncated normal: `d = m·2^-24`, the probability step of one `k`.
    pub(crate) step: f32,
}

impl Prepared {
    /// Raw words, as `FillKernels::record_words` draws them.
    pub(crate) fn words() -> Self {
        Self {
            dist: KernelDist::Words,
            p: [0.0; 4],
            q: [0.0; 4],
            split: 0,
            step: 0.0,
        }
    }

    /// Not a sampler: every element set to its own index as an f32 (exact below 2^24), with the
    /// store pattern of a random fill — the fill kernels' ceiling, for `nninit bench`. GPU only.
    pub(crate) fn index() -> Self {
        Self {
            dist: KernelDist::Index,
            ..Self::words()
        }
    }

    /// Whether this is the truncated normal.
    pub(crate) fn is_trunc_normal(&self) -> bool {
        self.dist == KernelDist::TruncNormal
    }

    /// Whether the sampler uses the stream's words (all but constant).
    pub(crate) fn draws_words(&self) -> bool {
        self.dist != KernelDist::Constant
    }

    /// The four elements of block `words` in f32, exactly as the kernel computes them (before
    /// any rounding to a 16-bit dtype).
    #[inline(always)]
    pub fn block_values(&self, words: [u32; 4]) -> [f32; 4] {
        // Rust never contracts `a * b + c` into an fma, and neither may the kernel's result differ
        // where it matters: see the rounding notes on each variant.
        let [p0, p1, p2, p3] = self.p;
        match self.dist {
            KernelDist::Uniform => words.map(|w| (p0 + p1 * signed_unit(w)).clamp(p2, p3)),
            KernelDist::Normal => {
                let (z0, z1) = box_muller(words[0], words[1]);
                let (z2, z3) = box_muller(words[2], words[3]);
                [z0, z1, z2, z3].map(|z| p0 + p1 * z)
            }
            KernelDist::TruncNormal => {
                words.map(|w| (p0 + p1 * self.trunc_normal_z(w)).clamp(p2, p3))
            }
            // Words and Index are the GPU kernels' own; the CPU never draws them as values.
            KernelDist::Constant | KernelDist::Words | KernelDist::Index => [p0; 4],
        }
    }

    /// The standard-units `z` of a truncated-normal word; see [`Sampler::TruncNormal`].
    #[inline(always)]
    pub fn trunc_normal_z(&self, word: u32) -> f32 {
        self.trunc_normal_z_by(word, probit)
    }

    /// [`Prepared::trunc_normal_z`] with `quantile` as the normal quantile (`probit`, or
    /// `probit_central` where every probability is known to fall in its central piece).
    #[inline(always)]
    fn trunc_normal_z_by(&self, word: u32, quantile: impl Fn(f32, f32) -> f32) -> f32 {
        let k = word >> 8;
        let upper = k >= self.split;
        let [c_lo, c_hi, q_lo, q_hi] = self.q;
        // The tail's parameters picked by masks, before the quantile ([`pick_f32`]): as plain
        // selects, LLVM evaluates the quantile for both tails.
        let base = pick_f32(upper, c_hi, c_lo);
        let base_q = pick_f32(upper, q_hi, q_lo);
        let n = pick_bits(upper, 0x00ff_ffff - k, k);
        let offset = n as f32 * self.step;
        let z = quantile(base + offset, base_q + offset);
        // −z for the upper tail: its sign bit flipped.
        f32::from_bits(z.to_bits() ^ pick_bits(upper, 0x8000_0000, 0))
    }

    /// The four elements of block `words` as bits of `dtype` (f32 bits, or 16-bit values
    /// rounded to nearest-even in the low half), as the kernel stores them.
    #[inline(always)]
    pub fn block_bits(&self, words: [u32; 4], dtype: Dtype) -> [u32; 4] {
        self.block_values(words).map(|v| dtype.bits_of(v))
    }
}

/// Blocks per batch of the vectorized CPU path ([`Prepared::batch_values`]).
pub(crate) const BATCH: usize = 32;

impl Prepared {
    /// The elements of `BATCH` consecutive blocks, given their words in structure-of-arrays form
    /// (`words[k][l]` is word `k` of block `l`), into `z` in the same form: `z[k][l]` is element
    /// `k` of block `l` (element `4l + k` of the batch). Bit-identical to [`Prepared::block_values`]
    /// block by block (the same operations on each lane; Rust never fuses or reassociates them),
    /// arranged so that each step is one loop over the lanes that LLVM vectorizes. The caller
    /// interleaves the rows into element order with the instructions it has.
    #[inline(always)]
    pub(crate) fn batch_values(&self, words: &[[u32; BATCH]; 4], z: &mut [[f32; BATCH]; 4]) {
        let [p0, p1, p2, p3] = self.p;
        // `clamp` as `f32::clamp` computes it (a zero keeps its sign; `p2 ≤ p3`), as two
        // independent compare-and-selects, which LLVM keeps in vectors.
        let clamp = |x: f32| {
            let x = if x < p2 { p2 } else { x };
            if x > p3 { p3 } else { x }
        };
        match self.dist {
            KernelDist::Uniform => {
                for k in 0..4 {
                    for l in 0..BATCH {
                        z[k][l] = clamp(p0 + p1 * signed_unit(words[k][l]));
                    }
                }
            }
            KernelDist::Normal => {
                // 16 lanes at a time: the polynomials' temporaries stay in registers.
                for lanes in (0..BATCH).step_by(16) {
                    for pair in [0, 2] {
                        for l in lanes..lanes + 16 {
                            let (a, b) = box_muller(words[pair][l], words[pair + 1][l]);
                            z[pair][l] = p0 + p1 * a;
                            z[pair + 1][l] = p0 + p1 * b;
                        }
                    }
                }
            }
            KernelDist::TruncNormal => {
                // The probabilities `probit` sees are at least the tails' values at k = 0 (q[0],
                // q[1]) and at most a little above ½. Where both give w well below 4 (bounds
                // nearer than about ±2.6σ), every element is in the central piece, and the picks
                // among the pieces can go (the margin 3.9 covers rounding in `ln_unit`).
                let central = probit_w(self.q[0]) < 3.9 && probit_w(self.q[1]) < 3.9;
                if central {
                    self.trunc_rows(words, z, probit_central);
                } else {
                    self.trunc_rows(words, z, probit);
                }
            }
            KernelDist::Constant | KernelDist::Words | KernelDist::Index => *z = [[p0; BATCH]; 4],
        }
    }
}

impl Prepared {
    /// The truncated normal's rows of [`Prepared::batch_values`], with `quantile` as the normal
    /// quantile.
    #[inline(always)]
    fn trunc_rows(
        &self,
        words: &[[u32; BATCH]; 4],
        z: &mut [[f32; BATCH]; 4],
        quantile: impl Fn(f32, f32) -> f32 + Copy,
    ) {
        let [p0, p1, p2, p3] = self.p;
        for k in 0..4 {
            for l in 0..BATCH {
                // `clamp` as in `batch_values`.
                let x = p0 + p1 * self.trunc_normal_z_by(words[k][l], quantile);
                let x = if x < p2 { p2 } else { x };
                z[k][l] = if x > p3 { p3 } else { x };
            }
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
    TruncNormal = 4,
    Index = 5,
}
