//! Element types on the host side: rounding f32 values to a tensor's dtype, the spacing of its
//! values, and encoding/decoding little-endian bytes. Values are always sampled in f32 and rounded
//! to nearest-even (the `half` crate on the CPU, bit manipulation in WGSL on the GPU).

use half::{bf16, f16};

use crate::error::{Error, Result};

/// The element type a fill writes. Every sampler computes in f32; 16-bit types are that f32
/// rounded to nearest-even (bounded samplers then round their bounds inwards: see
/// `Sampler::prepare`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dtype {
    /// IEEE binary32.
    #[default]
    F32,
    /// IEEE binary16.
    F16,
    /// bfloat16 (the top half of a binary32).
    Bf16,
}

impl Dtype {
    /// Every dtype.
    pub const ALL: [Dtype; 3] = [Dtype::F32, Dtype::F16, Dtype::Bf16];

    /// Parses `f32`, `f16` or `bf16` (also `float32`, `float16`, `bfloat16`; case-insensitive).
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "f32" | "float32" => Ok(Dtype::F32),
            "f16" | "float16" => Ok(Dtype::F16),
            "bf16" | "bfloat16" => Ok(Dtype::Bf16),
            _ => Err(Error::invalid("dtype", text, "must be f32, f16 or bf16")),
        }
    }

    /// Bytes per element: 4 or 2.
    pub fn size_bytes(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F16 | Dtype::Bf16 => 2,
        }
    }

    /// `"f32"`, `"f16"` or `"bf16"`.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F16 => "f16",
            Dtype::Bf16 => "bf16",
        }
    }

    /// PyTorch's name, as `config.json`'s `dtype` gives it: `"float32"`, `"float16"` or
    /// `"bfloat16"`.
    pub fn torch_name(self) -> &'static str {
        match self {
            Dtype::F32 => "float32",
            Dtype::F16 => "float16",
            Dtype::Bf16 => "bfloat16",
        }
    }

    /// The safetensors dtype name: `"F32"`, `"F16"` or `"BF16"`.
    pub fn safetensors_name(self) -> &'static str {
        match self {
            Dtype::F32 => "F32",
            Dtype::F16 => "F16",
            Dtype::Bf16 => "BF16",
        }
    }

    /// The bits of `value` in this dtype, rounded to nearest-even (the `half` crate's
    /// conversions); `F32` gives its bits unchanged.
    pub fn bits_of(self, value: f32) -> u32 {
        match self {
            Dtype::F32 => value.to_bits(),
            Dtype::F16 => u32::from(half::f16::from_f32(value).to_bits()),
            Dtype::Bf16 => u32::from(half::bf16::from_f32(value).to_bits()),
        }
    }

    /// The value of `bits` in this dtype, as f32 (exact).
    pub fn value_of(self, bits: u32) -> f32 {
        match self {
            Dtype::F32 => f32::from_bits(bits),
            Dtype::F16 => half::f16::from_bits(bits as u16).to_f32(),
            Dtype::Bf16 => half::bf16::from_bits(bits as u16).to_f32(),
        }
    }

    /// The bounds `[lo, hi]` of the values of this dtype inside `[low, high]`: `low` and `high`
    /// rounded inwards (to the nearest representable value at or inside them, ±∞ excluded).
    /// `None` when no finite value of the dtype lies in `[low, high]`.
    pub fn inner_bounds(self, low: f32, high: f32) -> Option<(f32, f32)> {
        if self == Dtype::F32 {
            return (low <= high).then_some((low, high));
        }
        let lo = self.step_inwards(low, true);
        let hi = self.step_inwards(high, false);
        (lo.is_finite() && hi.is_finite() && lo <= hi).then_some((lo, hi))
    }

    /// The nearest value of this 16-bit dtype at or above `x` (`up`) or at or below it.
    fn step_inwards(self, x: f32, up: bool) -> f32 {
        let bits = self.bits_of(x) as u16;
        let rounded = self.value_of(u32::from(bits));
        let outside = if up { rounded < x } else { rounded > x };
        if !outside {
            return rounded;
        }
        // Sign–magnitude: one step towards +∞ (up) or −∞ in the ordering of values.
        let negative = bits & 0x8000 != 0;
        let next = match (up, negative) {
            (true, true) if bits == 0x8000 => 0x0001,
            (true, true) | (false, false) => bits - 1,
            (true, false) | (false, true) => bits + 1,
        };
        self.value_of(u32::from(next))
    }
}

impl std::fmt::Display for Dtype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Dtype {
    type Err = Error;
    fn from_str(text: &str) -> Result<Self> {
        Dtype::parse(text)
    }
}

/// Mantissa bits and smallest normal exponent of each dtype.
fn format(dtype: Dtype) -> (i32, i32) {
    match dtype {
        Dtype::F32 => (23, -126),
        Dtype::F16 => (10, -14),
        Dtype::Bf16 => (7, -126),
    }
}

/// 2^k for an exponent k of a normal f64 (|k| ≤ 1022), built from its bits: `powi` with a
/// variable exponent is a libm call, and the verifier asks for an ulp per value it checks.
fn pow2(k: i32) -> f64 {
    f64::from_bits(((k + 1023) as u64) << 52)
}

/// Exponent of a finite, non-zero f64.
fn exponent(x: f64) -> i32 {
    ((x.to_bits() >> 52) & 0x7ff) as i32 - 1023
}

impl Dtype {
    /// `value` rounded to this dtype (nearest-even) and widened back to f32.
    pub fn round(self, value: f32) -> f32 {
        self.value_of(self.bits_of(value))
    }

    /// Distance from `|value|` (a value of this dtype) to the next larger one: one ulp.
    pub fn ulp(self, value: f32) -> f64 {
        let (mantissa_bits, min_exponent) = format(self);
        let magnitude = f64::from(value).abs();
        let e = if magnitude == 0.0 || !magnitude.is_finite() {
            min_exponent
        } else {
            exponent(magnitude).max(min_exponent)
        };
        pow2(e - mantissa_bits)
    }

    /// The interval of reals that round to `value` (a finite value of this dtype), its ends at
    /// the midpoints to the neighbouring values.
    pub fn rounding_interval(self, value: f32) -> (f64, f64) {
        let (_, min_exponent) = format(self);
        let v = f64::from(value);
        let up = self.ulp(value);
        let magnitude = v.abs();
        let power_of_two = magnitude != 0.0 && magnitude.to_bits() & ((1 << 52) - 1) == 0;
        let down = if power_of_two && exponent(magnitude) > min_exponent {
            up / 2.0
        } else {
            up
        };
        if v >= 0.0 {
            (v - down / 2.0, v + up / 2.0)
        } else {
            (v - up / 2.0, v + down / 2.0)
        }
    }

    /// Little-endian bytes of `values` rounded to this dtype.
    pub fn encode(self, values: &[f32]) -> Vec<u8> {
        match self {
            Dtype::F32 => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            Dtype::F16 => values
                .iter()
                .flat_map(|&v| f16::from_f32(v).to_le_bytes())
                .collect(),
            Dtype::Bf16 => values
                .iter()
                .flat_map(|&v| bf16::from_f32(v).to_le_bytes())
                .collect(),
        }
    }

    /// Values of little-endian `bytes` of this dtype, widened to f32 (a trailing partial element
    /// is ignored).
    pub fn decode(self, bytes: &[u8]) -> Vec<f32> {
        match self {
            Dtype::F32 => bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Dtype::F16 => bytes
                .chunks_exact(2)
                .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            Dtype::Bf16 => bytes
                .chunks_exact(2)
                .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
        }
    }

    /// The safetensors dtype.
    pub fn safetensors_dtype(self) -> safetensors::Dtype {
        match self {
            Dtype::F32 => safetensors::Dtype::F32,
            Dtype::F16 => safetensors::Dtype::F16,
            Dtype::Bf16 => safetensors::Dtype::BF16,
        }
    }

    /// The NumPy type string (`.npy` has no bfloat16).
    pub fn npy_descr(self) -> Option<&'static str> {
        match self {
            Dtype::F32 => Some("<f4"),
            Dtype::F16 => Some("<f2"),
            Dtype::Bf16 => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pow2_is_powi_over_every_exponent_an_ulp_takes() {
        for k in -149..=128 {
            assert_eq!(pow2(k), 2f64.powi(k), "2^{k}");
        }
    }

    #[test]
    fn rounding_intervals_are_the_midpoints_to_the_neighbours() {
        // bf16 has 8 significant bits: around 1.0 the neighbours are 1 − 2^-8 and 1 + 2^-7.
        let (lo, hi) = Dtype::Bf16.rounding_interval(1.0);
        assert_eq!((lo, hi), (1.0 - 2f64.powi(-9), 1.0 + 2f64.powi(-8)));
        let (lo, hi) = Dtype::Bf16.rounding_interval(-1.0);
        assert_eq!((lo, hi), (-1.0 - 2f64.powi(-8), -1.0 + 2f64.powi(-9)));
        let (lo, hi) = Dtype::F16.rounding_interval(1.5);
        assert_eq!((lo, hi), (1.5 - 2f64.powi(-11), 1.5 + 2f64.powi(-11)));
        assert_eq!(Dtype::F32.ulp(1.0), 2f64.powi(-23));
        // Every interval contains exactly the reals that round to its value.
        for v in [0.3f32, -2.7, 1e-3, 65000.0] {
            for dtype in [Dtype::F16, Dtype::Bf16] {
                let x = dtype.round(v);
                let (lo, hi) = dtype.rounding_interval(x);
                assert_eq!(dtype.round((lo + (hi - lo) * 0.01) as f32), x);
                assert_eq!(dtype.round((hi - (hi - lo) * 0.01) as f32), x);
                assert_ne!(dtype.round((hi + (hi - lo) * 0.01) as f32), x);
            }
        }
    }

    #[test]
    fn encode_decode_round_trip() {
        let values = [0.1f32, -3.25, 1e-5];
        for dtype in [Dtype::F32, Dtype::F16, Dtype::Bf16] {
            let decoded = dtype.decode(&dtype.encode(&values));
            let rounded: Vec<f32> = values.iter().map(|&v| dtype.round(v)).collect();
            assert_eq!(decoded, rounded);
        }
    }
}
