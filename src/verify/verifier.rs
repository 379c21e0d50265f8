//! The verifier: given a tensor and what it claims to be, recompute the CPU reference, compare
//! element by element, and run the statistical battery (KS, Anderson–Darling, χ², moment
//! z-tests) against the claimed distribution.
//!
//! Element-wise, a value passes when `|value − expected| ≤ tolerance + 1 ulp of its dtype at the
//! expected value`, where `expected` is the CPU reference rounded to the tensor's dtype and the
//! tolerance is the contract's GPU–CPU bound for the draw (0 for uniform, constant, eye, dirac;
//! 1e-4·std for normal and sparse; [`TRUNC_NORMAL_TOLERANCE`]·std for truncated normal;
//! 1e-4·|gain| for orthogonal).
//!
//! Statistically, the goodness-of-fit tests see each value through a *randomized probability
//! integral transform*: `u = F(lo) + r·(F(hi) − F(lo))`, where `[lo, hi]` is the interval of reals
//! that round to the value in its dtype and `r` a fixed uniform per element. For a correct tensor
//! `u` is exactly Uniform(0, 1) whatever the dtype's resolution (bf16's 8-bit mantissa included),
//! so the tests keep their level α. The moment z-tests use the raw values with known-parameter
//! standard errors.

use std::ops::Range;
use std::path::Path;

use serde_json::Value;

use crate::backend::draw::{Backend, draw_f32};
use crate::contract::dtype::Dtype;
use crate::contract::slice::{Rows, Slice};
use crate::contract::stream::{StreamId, unit_closed_open};
use crate::error::{Error, Result};
use crate::sample::sampler::Sampler;
use crate::scheme::fans::Layout;
use crate::scheme::{Draw, FanRule, Init, Plan};
use crate::verify::moment_sums::moment_sums;
use crate::verify::stats::{self, Reference, TestResult};

/// Element-wise tolerance of truncated-normal values, in units of std.
pub const TRUNC_NORMAL_TOLERANCE: f64 = 1e-4;
/// Bins of the χ² test (fewer for tensors under 320 elements, so that each expects ≥ 5).
pub const CHI_SQUARED_BINS: usize = 64;
/// Stream of the fixed uniforms `r` used by the randomized probability integral transform.
const PIT_STREAM: u64 = 0x7069_745f_7665_7269; // "pit_veri"
/// Elements of a tensor that the distribution tests (KS, Anderson–Darling, χ²) see when it is
/// read from a file: all of a smaller tensor, else this many, evenly spaced. At α = 1e-6 a KS
/// test of 65,536 values rejects a sup-distance between CDFs of 0.0105 (√(ln(2/α)/2n)); the
/// moment z-tests still see every element, and every element is compared with the reference.
pub const BATTERY_SAMPLE: u64 = 1 << 16;
/// Elements per piece of a tensor read from a file: read, regenerated with the vectorized CPU
/// fill and compared together, one piece per thread at a time.
const VERIFY_PIECE: u64 = 1 << 18;

/// What a tensor claims to be: everything needed to regenerate it.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// Tensor name.
    pub name: String,
    /// Full tensor shape.
    pub shape: Vec<u64>,
    /// The init spec it was drawn from.
    pub spec: String,
    /// Fan layout name.
    pub layout: String,
    /// Seed and stream.
    pub stream: StreamId,
    /// Element type.
    pub dtype: Dtype,
    /// Elements of the full tensor held, when not all of it.
    pub range: Option<(u64, u64)>,
    /// The range held of each dimension, when a box (a rank's slice); its elements are held in
    /// row-major order.
    pub ranges: Option<Vec<(u64, u64)>>,
    /// A dim-0 row set to zero after drawing (`Embedding(padding_idx)`).
    pub zero_row: Option<u64>,
}

impl Claim {
    /// The tensor's element count, the elements the claim's values hold, and the plan its spec
    /// and layout give its shape.
    fn resolve(&self) -> Result<(u64, Held, Plan)> {
        let numel = self
            .shape
            .iter()
            .try_fold(1u64, |n, &d| n.checked_mul(d))
            .ok_or_else(|| {
                Error::invalid(
                    "shape",
                    format!("{:?}", self.shape),
                    "element count must fit in u64",
                )
            })?;
        let rule = FanRule {
            layout: Layout::parse(&self.layout)?,
            fan_in: None,
            fan_out: None,
        };
        let plan = Init::parse(&self.spec)?.plan(&self.shape, &rule)?;
        Ok((numel, self.held(numel)?, plan))
    }

    /// The elements the claim's values hold: its box when it names one, else its range (the
    /// whole tensor when it names neither).
    fn held(&self, numel: u64) -> Result<Held> {
        let out_of_range = |what: String| {
            Error::invalid(
                "tensor",
                &self.name,
                format!(
                    "metadata whose {what} lies within its shape {:?}",
                    self.shape
                ),
            )
        };
        if let Some(ranges) = &self.ranges {
            let slice = Slice::new(&self.shape, ranges.iter().map(|&(a, b)| a..b).collect())
                .map_err(|_| out_of_range(format!("box {ranges:?}")))?;
            return Ok(Held::Box(slice));
        }
        let (start, end) = self.range.unwrap_or((0, numel));
        if end < start || end > numel {
            return Err(out_of_range(format!("range {start}..{end}")));
        }
        Ok(Held::Range(start, end))
    }
}

/// The elements a claim's values hold, in order.
enum Held {
    Range(u64, u64),
    Box(Slice),
}

impl Held {
    fn len(&self) -> u64 {
        match self {
            Held::Range(start, end) => end - start,
            Held::Box(slice) => slice.numel(),
        }
    }

    /// The tensor index of the `k`-th held element.
    fn index(&self, k: u64) -> u64 {
        match self {
            Held::Range(start, _) => start + k,
            Held::Box(slice) => slice.index(k),
        }
    }
}

impl Claim {
    /// Reads a claim from a `nninit.tensor.<name>` metadata record ([`tensor_key`]), as
    /// `model::safetensors` writes it.
    pub fn from_metadata(name: &str, record: &str) -> Result<Claim> {
        let bad = |reason: &str| Error::Parse {
            what: "nninit tensor metadata",
            input: record.to_string(),
            reason: reason.to_string(),
        };
        let json: Value = serde_json::from_str(record).map_err(|e| bad(&e.to_string()))?;
        let text = |key: &str| {
            json[key]
                .as_str()
                .ok_or_else(|| bad(&format!("missing {key}")))
        };
        let number = |key: &str| {
            text(key)?
                .parse::<u64>()
                .map_err(|_| bad(&format!("{key} is not a u64")))
        };
        let shape = json["shape"]
            .as_array()
            .ok_or_else(|| bad("missing shape"))?
            .iter()
            .map(|d| d.as_u64().ok_or_else(|| bad("shape must hold integers")))
            .collect::<Result<Vec<u64>>>()?;
        let range = match &json["range"] {
            Value::Null => None,
            Value::Array(bounds) if bounds.len() == 2 => Some((
                bounds[0]
                    .as_u64()
                    .ok_or_else(|| bad("range must hold integers"))?,
                bounds[1]
                    .as_u64()
                    .ok_or_else(|| bad("range must hold integers"))?,
            )),
            _ => return Err(bad("range must be null or [start, end]")),
        };
        let ranges = match &json["box"] {
            Value::Null => None,
            Value::Array(dims) => Some(
                dims.iter()
                    .map(|d| match d.as_array().map(Vec::as_slice) {
                        Some([a, b]) => a.as_u64().zip(b.as_u64()),
                        _ => None,
                    })
                    .collect::<Option<Vec<(u64, u64)>>>()
                    .ok_or_else(|| bad("box must hold one [start, end] per dimension"))?,
            ),
            _ => return Err(bad("box must be null or a list of [start, end]")),
        };
        Ok(Claim {
            name: name.to_string(),
            shape,
            spec: text("spec")?.to_string(),
            layout: text("layout")?.to_string(),
            stream: StreamId::new(number("seed")?, number("stream")?),
            dtype: Dtype::parse(&text("dtype")?.to_ascii_lowercase())?,
            range,
            ranges,
            zero_row: match &json["zero_row"] {
                Value::Null => None,
                row => Some(
                    row.as_u64()
                        .ok_or_else(|| bad("zero_row must be null or an integer"))?,
                ),
            },
        })
    }
}

/// How much to check and at what level.
#[derive(Debug, Clone, Copy)]
pub struct VerifyOptions {
    /// Significance level of each statistical test.
    pub alpha: f64,
    /// Check only this many elements (evenly spaced), for tensors too large to recompute whole.
    pub sample: Option<u64>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            alpha: stats::DEFAULT_ALPHA,
            sample: None,
        }
    }
}

/// The outcome for one tensor.
#[derive(Debug, Clone)]
pub struct Report {
    /// Tensor name.
    pub name: String,
    /// Its spec.
    pub spec: String,
    /// Elements compared.
    pub checked: u64,
    /// Largest |value − expected|.
    pub worst_difference: f64,
    /// Elements outside the tolerance.
    pub mismatches: u64,
    /// The statistical tests (empty for deterministic draws).
    pub tests: Vec<TestResult>,
}

impl Report {
    /// No mismatched element and every test passed.
    pub fn passed(&self) -> bool {
        self.mismatches == 0 && self.tests.iter().all(|t| t.passed)
    }
}

/// The contract's element-wise bound for a draw, in absolute units.
fn draw_tolerance(draw: &Draw) -> f64 {
    match draw {
        Draw::Sample(Sampler::Normal { std, .. }) | Draw::Sparse { std, .. } => {
            1e-4 * f64::from(*std)
        }
        Draw::Sample(Sampler::TruncNormal { std, .. }) => TRUNC_NORMAL_TOLERANCE * f64::from(*std),
        Draw::Orthogonal { gain } => 1e-4 * f64::from(gain.abs()),
        Draw::Sample(Sampler::Uniform { .. } | Sampler::Constant { .. })
        | Draw::Empty
        | Draw::Eye
        | Draw::Dirac { .. } => 0.0,
    }
}

/// The reference distribution of a random draw.
fn reference(draw: &Draw) -> Option<Reference> {
    match *draw {
        Draw::Sample(Sampler::Uniform { low, high }) => Some(Reference::Uniform {
            low: low.into(),
            high: high.into(),
        }),
        Draw::Sample(Sampler::Normal { mean, std }) => Some(Reference::Normal {
            mean: mean.into(),
            std: std.into(),
        }),
        Draw::Sample(Sampler::TruncNormal {
            mean,
            std,
            low,
            high,
        }) => Some(Reference::TruncNormal {
            mean: mean.into(),
            std: std.into(),
            low: low.into(),
            high: high.into(),
        }),
        _ => None,
    }
}

/// The positions checked among `len` held values: all, or `sample` evenly spaced ones.
fn checked_positions(len: u64, sample: Option<u64>) -> Vec<u64> {
    match sample {
        Some(n) if n < len => (0..n)
            .map(|k| (k as u128 * len as u128 / n as u128) as u64)
            .collect(),
        _ => (0..len).collect(),
    }
}

/// Verifies `values` (decoded to f32; value `k` is the claim's `k`-th held element: element
/// `range.start + k` of the tensor, or the `k`-th of its box) against `claim`.
pub fn verify_values(values: &[f32], claim: &Claim, options: &VerifyOptions) -> Result<Report> {
    let (numel, held, plan) = claim.resolve()?;
    if values.len() as u64 != held.len() {
        return Err(Error::invalid(
            "tensor",
            &claim.name,
            format!(
                "holds {} values; its metadata claims {} of its {numel} elements",
                values.len(),
                held.len()
            ),
        ));
    }
    let positions = checked_positions(held.len(), options.sample);
    let indices: Vec<u64> = positions.iter().map(|&k| held.index(k)).collect();
    let expected = expected_values(&plan, claim, &indices)?;
    let tolerance = draw_tolerance(&plan.draw);
    let mut worst_difference = 0.0f64;
    let mut mismatches = 0;
    let mut checked_values = Vec::with_capacity(indices.len());
    for (&position, &want) in positions.iter().zip(&expected) {
        let got = values[position as usize];
        checked_values.push(got);
        let difference = (f64::from(got) - f64::from(want)).abs();
        if difference.is_nan() || difference > tolerance + claim.dtype.ulp(want) {
            mismatches += 1;
        }
        worst_difference = if difference.is_nan() {
            f64::INFINITY
        } else {
            worst_difference.max(difference)
        };
    }
    let tests = match reference(&plan.draw) {
        Some(reference) if checked_values.len() >= 2 => battery(
            &checked_values,
            &indices,
            &reference,
            claim.dtype,
            options.alpha,
        )?,
        _ => Vec::new(),
    };
    Ok(Report {
        name: claim.name.clone(),
        spec: claim.spec.clone(),
        checked: indices.len() as u64,
        worst_difference,
        mismatches,
        tests,
    })
}

/// The CPU reference at `indices`, already in the claim's dtype.
fn expected_values(plan: &Plan, claim: &Claim, indices: &[u64]) -> Result<Vec<f32>> {
    let mut values = drawn_values(plan, claim, indices)?;
    if let (Some(row), Some(&rows)) = (claim.zero_row, claim.shape.first()) {
        let row_len = claim.shape.iter().product::<u64>() / rows.max(1);
        for (value, &i) in values.iter_mut().zip(indices) {
            if row_len > 0 && i / row_len == row {
                *value = 0.0;
            }
        }
    }
    Ok(values)
}

fn drawn_values(plan: &Plan, claim: &Claim, indices: &[u64]) -> Result<Vec<f32>> {
    match &plan.draw {
        Draw::Sample(sampler) => {
            let prepared = sampler.prepare(claim.dtype)?;
            Ok(indices
                .iter()
                .map(|&i| {
                    let bits = prepared.block_bits(claim.stream.block(i / 4), claim.dtype)
                        [(i % 4) as usize];
                    claim.dtype.value_of(bits)
                })
                .collect())
        }
        _ => {
            // The extent of the indices (increasing: held elements are in tensor order).
            let (Some(&first), Some(&last)) = (indices.first(), indices.last()) else {
                return Ok(Vec::new());
            };
            let whole = draw_f32(
                Backend::Cpu,
                plan,
                &claim.shape,
                claim.stream,
                first..last + 1,
            )?;
            Ok(indices
                .iter()
                .map(|&i| claim.dtype.round(whole[(i - first) as usize]))
                .collect())
        }
    }
}

/// KS, Anderson–Darling and χ² on the randomized PIT of `values`, and the moment z-tests.
fn battery(
    values: &[f32],
    indices: &[u64],
    reference: &Reference,
    dtype: Dtype,
    alpha: f64,
) -> Result<Vec<TestResult>> {
    let pairs: Vec<(u64, f32)> = indices
        .iter()
        .copied()
        .zip(values.iter().copied())
        .collect();
    let mut tests = distribution_tests(&pit(&pairs, reference, dtype), alpha)?;
    let raw: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
    tests.extend(stats::moment_z_tests(&raw, reference, alpha)?);
    Ok(tests)
}

/// The randomized PIT of each `(index, value)` ([`battery`]): exactly Uniform(0, 1) for a
/// correct tensor, whatever the dtype's resolution.
fn pit(values: &[(u64, f32)], reference: &Reference, dtype: Dtype) -> Vec<f64> {
    let pit_stream = StreamId::new(0, PIT_STREAM);
    let cdf = reference.cdf_fn();
    // Half the spacing of `unit_closed_open`'s values, so that r lies in (0, 1) symmetrically.
    const HALF_STEP: f64 = 1.0 / (1u64 << 25) as f64;
    values
        .iter()
        .map(|&(i, v)| {
            let (lo, hi) = dtype.rounding_interval(v);
            let (f_lo, f_hi) = (cdf(lo), cdf(hi));
            let r = f64::from(unit_closed_open(pit_stream.word(i))) + HALF_STEP;
            f_lo + r * (f_hi - f_lo)
        })
        .collect()
}

/// KS, Anderson–Darling and χ² on the uniforms of a tensor's values.
fn distribution_tests(uniforms: &[f64], alpha: f64) -> Result<Vec<TestResult>> {
    // Sorted once here: each test's own sort of sorted values is then one linear pass.
    // Between +0.0 and 1.0, where PIT values lie, the bit patterns sort as the values do, and a
    // u64 sort is quicker than `total_cmp`'s.
    let in_unit = |u: &f64| u.to_bits() <= 1f64.to_bits();
    let sorted: Vec<f64> = if uniforms.iter().all(in_unit) {
        let mut bits: Vec<u64> = uniforms.iter().map(|u| u.to_bits()).collect();
        bits.sort_unstable();
        bits.into_iter().map(f64::from_bits).collect()
    } else {
        let mut sorted = uniforms.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        sorted
    };
    let uniforms = &sorted[..];
    let unit = Reference::Uniform {
        low: 0.0,
        high: 1.0,
    };
    let mut tests = vec![
        stats::ks_one_sample(uniforms, &unit, alpha)?,
        stats::anderson_darling(uniforms, &unit, alpha)?,
    ];
    // At least five expected values per bin; too small a tensor gets no χ² test.
    let bins = CHI_SQUARED_BINS.min(uniforms.len() / 5);
    if bins >= 2 {
        tests.push(stats::chi_squared_equiprobable(
            uniforms, &unit, bins, alpha,
        )?);
    }
    Ok(tests)
}

/// Reads `len` bytes at byte `offset` of a tensor's data into `storage` (grown as needed) and
/// says where in it they lie: a direct read lands in an aligned window of it.
type ReadAt<'a> = dyn Fn(u64, usize, &mut Vec<u8>) -> Result<Range<usize>> + Sync + 'a;

/// What one piece of a streamed tensor gave.
#[derive(Default)]
struct PieceOutcome {
    checked: u64,
    mismatches: u64,
    worst: f64,
    /// Sums of (x − μ)^k, k = 1..4, over the checked values.
    sums: [f64; 4],
    /// The values the distribution tests see: (tensor index, value).
    battery: Vec<(u64, f32)>,
}

/// Which of a tensor's `len` held values are checked (all, or `sample` evenly spaced ones), and
/// which of those the distribution tests see.
#[derive(Clone, Copy)]
struct Checked {
    len: u64,
    /// How many are checked.
    count: u64,
    /// How many of those the distribution tests see.
    battery: u64,
}

impl Checked {
    /// The position among the held values of checked value `c`.
    fn position(&self, c: u64) -> u64 {
        (c as u128 * self.len as u128 / self.count as u128) as u64
    }

    /// The first checked value at or after position `p`.
    fn first_at(&self, p: u64) -> u64 {
        (p as u128 * self.count as u128).div_ceil(self.len as u128) as u64
    }

    /// The checked values the distribution tests see among checked values `cs`: `c_j =
    /// ⌊j·count/battery⌋` for each `j` with `c_j` in `cs`.
    fn battery_in(&self, cs: std::ops::Range<u64>) -> impl Iterator<Item = u64> + use<> {
        let (count, battery) = (self.count as u128, self.battery as u128);
        let first = |c: u64| (c as u128 * battery).div_ceil(count) as u64;
        (first(cs.start)..first(cs.end)).map(move |j| (j as u128 * count / battery) as u64)
    }
}

/// `bytes` of `dtype` as f32 values: the bytes themselves where they are aligned little-endian
/// f32s (no copy), else decoded into `scratch`.
fn as_values<'a>(dtype: Dtype, bytes: &'a [u8], scratch: &'a mut Vec<f32>) -> &'a [f32] {
    if dtype == Dtype::F32
        && cfg!(target_endian = "little")
        && let Ok(values) = bytemuck::try_cast_slice(bytes)
    {
        return values;
    }
    decode_into(dtype, bytes, scratch);
    scratch
}

/// `bytes` of `dtype` as f32 values into `out`, which keeps its allocation.
fn decode_into(dtype: Dtype, bytes: &[u8], out: &mut Vec<f32>) {
    out.clear();
    match dtype {
        Dtype::F32 => out.extend(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        ),
        Dtype::F16 => out.extend(
            bytes
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()),
        ),
        Dtype::Bf16 => out.extend(
            bytes
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32()),
        ),
    }
}

thread_local! {
    /// A piece's bytes as read and as regenerated, and its values where they must be decoded,
    /// kept by each thread from piece to piece (and tensor to tensor): fresh ones cost a page
    /// fault per 4 KiB. A piece takes them out and puts them back: while the fill it calls
    /// waits for its own parallel parts, the thread may start another piece, which then finds
    /// none (a borrow held across the fill panicked there, on an 8B checkpoint).
    static PIECE_BUFFERS: std::cell::RefCell<(Vec<u8>, Vec<u8>, Vec<f32>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new(), Vec::new())) };
}

/// Verifies a sampled draw read piece by piece through `read`: each piece regenerated with the
/// vectorized CPU fill (or, with `--sample`, at the checked elements only) and compared, the
/// moments summed over every checked element, and the distribution tests run on at most
/// [`BATTERY_SAMPLE`] evenly spaced ones. Memory: a few pieces, whatever the tensor's size.
fn verify_sampled_stream(
    claim: &Claim,
    sampler: &Sampler,
    tolerance: f64,
    held: &Held,
    read: &ReadAt,
    options: &VerifyOptions,
) -> Result<Report> {
    use rayon::prelude::*;
    let dtype = claim.dtype;
    let size = dtype.size_bytes() as u64;
    let len = held.len();
    let count = options.sample.map_or(len, |n| n.min(len));
    let checked = Checked {
        len,
        count,
        battery: count.min(BATTERY_SAMPLE),
    };
    let reference = reference(&Draw::Sample(*sampler));
    let center = reference.as_ref().map_or(0.0, Reference::mean);
    let prepared = sampler.prepare(dtype)?;
    let rows: Vec<Rows> = match held {
        Held::Range(start, end) => vec![(*start..*end).into()],
        Held::Box(slice) => slice.rows(),
    };
    // (rows, position of its first element among the held values).
    let mut pieces = Vec::new();
    let mut position = 0;
    for piece in rows.iter().flat_map(|r| r.pieces(VERIFY_PIECE)) {
        pieces.push((piece, position));
        position += piece.numel();
    }
    let zero_row = claim.zero_row.zip(claim.shape.first().copied());
    let row_len = claim.shape.iter().skip(1).product::<u64>();
    let zeroed = |i: u64| zero_row.is_some_and(|(row, _)| row_len > 0 && i / row_len == row);
    // Pieces run on whichever thread is free: each on this thread's instruction set.
    let isa = crate::backend::cpu::CpuIsa::current()?;
    let outcomes: Vec<PieceOutcome> = pieces
        .par_iter()
        .map(|&(piece, p0)| {
            crate::backend::cpu::with_isa(isa, || {
                let (mut storage, mut expected, mut decoded) = PIECE_BUFFERS.take();
                let outcome = (|| -> Result<PieceOutcome> {
                    let (storage, expected, decoded) = (&mut storage, &mut expected, &mut decoded);
                    let n = piece.numel();
                    let mut out = PieceOutcome::default();
                    let c_range = checked.first_at(p0)..checked.first_at(p0 + n);
                    if c_range.is_empty() {
                        return Ok(out);
                    }
                    let at = read(p0 * size, (n * size) as usize, storage)?;
                    let file = &storage[at];
                    let got = as_values(dtype, file, decoded);
                    let mut sums = [0f64; 4];
                    let add = |xs: &[f32], sums: &mut [f64; 4]| {
                        for (sum, part) in sums.iter_mut().zip(moment_sums(xs, center)) {
                            *sum += part;
                        }
                    };
                    let compare = |got: f32, want: f32, out: &mut PieceOutcome| {
                        let difference = (f64::from(got) - f64::from(want)).abs();
                        if difference.is_nan() || difference > tolerance + dtype.ulp(want) {
                            out.mismatches += 1;
                        }
                        out.worst = if difference.is_nan() {
                            f64::INFINITY
                        } else {
                            out.worst.max(difference)
                        };
                    };
                    if count == len {
                        // Every element: the piece regenerated whole, compared bytewise first.
                        expected.resize(file.len(), 0);
                        crate::backend::cpu::fill_rows_bytes(
                            sampler,
                            claim.stream,
                            piece,
                            dtype,
                            expected,
                        )?;
                        if zero_row.is_some() {
                            for k in 0..n {
                                if zeroed(piece.index(k)) {
                                    let at = (k * size) as usize;
                                    expected[at..at + size as usize].fill(0);
                                }
                            }
                        }
                        if file != &expected[..] {
                            let want = dtype.decode(expected);
                            for (&g, &w) in got.iter().zip(&want) {
                                compare(g, w, &mut out);
                            }
                        }
                        add(got, &mut sums);
                    } else {
                        for c in c_range.clone() {
                            let k = checked.position(c) - p0;
                            let i = piece.index(k);
                            let want = if zeroed(i) {
                                0.0
                            } else {
                                let bits = prepared.block_bits(claim.stream.block(i / 4), dtype)
                                    [(i % 4) as usize];
                                dtype.value_of(bits)
                            };
                            compare(got[k as usize], want, &mut out);
                            add(&got[k as usize..k as usize + 1], &mut sums);
                        }
                    }
                    out.checked = c_range.end - c_range.start;
                    out.sums = sums;
                    for c in checked.battery_in(c_range) {
                        let k = checked.position(c) - p0;
                        out.battery.push((piece.index(k), got[k as usize]));
                    }
                    Ok(out)
                })();
                PIECE_BUFFERS.set((storage, expected, decoded));
                outcome
            })?
        })
        .collect::<Result<_>>()?;
    let mut total = PieceOutcome::default();
    let mut sums = [stats::Neumaier::default(); 4];
    for outcome in outcomes {
        total.checked += outcome.checked;
        total.mismatches += outcome.mismatches;
        total.worst = total.worst.max(outcome.worst);
        for (sum, part) in sums.iter_mut().zip(outcome.sums) {
            sum.add(part);
        }
        total.battery.extend(outcome.battery);
    }
    let finite = total.battery.iter().all(|(_, v)| v.is_finite());
    let tests = match reference {
        Some(reference) if total.checked >= 2 && finite => {
            let mut tests =
                distribution_tests(&pit(&total.battery, &reference, dtype), options.alpha)?;
            tests.extend(stats::moment_z_tests_from_sums(
                total.checked,
                sums.map(|s| s.value()),
                &reference,
                options.alpha,
            ));
            tests
        }
        _ => Vec::new(),
    };
    Ok(Report {
        name: claim.name.clone(),
        spec: claim.spec.clone(),
        checked: total.checked,
        worst_difference: total.worst,
        mismatches: total.mismatches,
        tests,
    })
}

/// Verifies the tensor `claim` describes from its `data_len` bytes of data, read through
/// `read`: a sampled draw streamed ([`verify_sampled_stream`]), any other (eye, dirac,
/// orthogonal, sparse: computed whole by their reference anyway) read whole.
fn verify_read(
    claim: &Claim,
    data_len: u64,
    read: &ReadAt,
    options: &VerifyOptions,
) -> Result<Report> {
    let (numel, held, plan) = claim.resolve()?;
    let size = claim.dtype.size_bytes() as u64;
    if held.len().checked_mul(size) != Some(data_len) {
        return Err(Error::invalid(
            "tensor",
            &claim.name,
            format!(
                "holds {data_len} bytes; its metadata claims {} of its {numel} elements of {size} bytes",
                held.len()
            ),
        ));
    }
    match &plan.draw {
        Draw::Sample(sampler) => verify_sampled_stream(
            claim,
            sampler,
            draw_tolerance(&plan.draw),
            &held,
            read,
            options,
        ),
        _ => {
            let len = usize::try_from(data_len)
                .map_err(|_| Error::invalid("tensor", &claim.name, "fits in memory"))?;
            let mut storage = Vec::new();
            let at = read(0, len, &mut storage)?;
            verify_values(&claim.dtype.decode(&storage[at]), claim, options)
        }
    }
}

/// Verifies `bytes` bytes of `buffer` from `byte_offset` (the buffer needs `COPY_SRC` usage),
/// holding the claimed elements in the claim's dtype, little-endian.
pub fn verify_gpu_buffer(
    gpu: &crate::backend::gpu::GpuContext,
    buffer: &wgpu::Buffer,
    byte_offset: u64,
    claim: &Claim,
    options: &VerifyOptions,
) -> Result<Report> {
    let numel = claim.shape.iter().product::<u64>();
    let bytes = claim
        .held(numel)?
        .len()
        .checked_mul(claim.dtype.size_bytes() as u64)
        .ok_or_else(|| Error::invalid("tensor", &claim.name, "a byte size that fits in u64"))?;
    // Read whole 4-byte words; a 16-bit tensor of odd length drops its padding half on decode.
    let padded = bytes.next_multiple_of(4);
    let data: Vec<u8> = gpu.read_buffer(buffer, byte_offset, padded)?;
    verify_values(&claim.dtype.decode(&data[..bytes as usize]), claim, options)
}

/// An int64 buffer (BatchNorm's `num_batches_tracked`) of `data_len` bytes read through `read`:
/// its spec must be `zeros` and every element 0.
fn verify_int_zeros(name: &str, record: &str, data_len: u64, read: &ReadAt) -> Result<Report> {
    let json: Value = serde_json::from_str(record).map_err(|e| Error::Parse {
        what: "nninit tensor metadata",
        input: record.to_string(),
        reason: e.to_string(),
    })?;
    let spec = json["spec"].as_str().unwrap_or_default().to_string();
    if spec != "zeros" {
        return Err(Error::invalid(
            "tensor",
            name,
            format!("an int64 tensor must be declared zeros, not {spec:?}"),
        ));
    }
    let (mut worst, mut mismatches) = (0.0f64, 0u64);
    let mut buf = Vec::new();
    let mut offset = 0;
    while offset < data_len {
        let len = (data_len - offset).min(8 * VERIFY_PIECE);
        let at = read(offset, len as usize, &mut buf)?;
        for value in buf[at]
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
        {
            worst = worst.max(value.unsigned_abs() as f64);
            mismatches += u64::from(value != 0);
        }
        offset += len;
    }
    Ok(Report {
        name: name.to_string(),
        spec,
        checked: data_len / 8,
        worst_difference: worst,
        mismatches,
        tests: Vec::new(),
    })
}

/// Metadata key of a tensor's record, the claim a file makes about it: `nninit.tensor.<name>`.
pub fn tensor_key(name: &str) -> String {
    format!("nninit.tensor.{name}")
}

/// Verifies every tensor of a `.safetensors` file written by nninit, from its metadata.
///
/// ```no_run
/// use nninit::verify::{VerifyOptions, verify_file};
///
/// let reports = verify_file("gpt2.safetensors".as_ref(), &VerifyOptions::default())?;
/// for report in &reports {
///     println!("{}: {} elements, worst |Δ| {:e}, passed {}", report.name, report.checked, report.worst_difference, report.passed());
/// }
/// # Ok::<(), nninit::Error>(())
/// ```
pub fn verify_file(path: &Path, options: &VerifyOptions) -> Result<Vec<Report>> {
    let not_ours = |reason: String| Error::Parse {
        what: "safetensors file",
        input: path.display().to_string(),
        reason,
    };
    let io = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    // The header alone is read; each tensor's data is read piece by piece as it is verified.
    let header = super::Header::read(path).map_err(|error| match error {
        Error::Parse { reason, .. } => not_ours(reason),
        other => other,
    })?;
    let file = DiskReader::open(path).map_err(io)?;
    let file_len = file.len().map_err(io)?;
    let said = |key: &str| header.metadata.get(key).and_then(Value::as_str);
    if said("nninit.contract").is_none() {
        return Err(not_ours("no nninit metadata: not written by nninit".into()));
    }
    let mut names: Vec<&String> = header.tensors.keys().collect();
    names.sort();
    // Tensors side by side: one's distribution tests run while another's pieces are read.
    // The threads are the calling thread's instruction set (`with_isa`) in the verifier's pool.
    use rayon::prelude::*;
    let isa = crate::backend::cpu::CpuIsa::current()?;
    let verify = |name: &String| -> Result<Report> {
        let record = said(&tensor_key(name))
            .ok_or_else(|| not_ours(format!("tensor {name} has no nninit metadata")))?;
        let range = header
            .data_range(name)
            .filter(|r| r.start <= r.end)
            .ok_or_else(|| not_ours(format!("tensor {name} has no valid data_offsets")))?;
        if range.end > file_len {
            return Err(not_ours(format!(
                "tensor {name}'s data ends at byte {}, past the end of the file \
                     ({file_len} bytes): a truncated file",
                range.end
            )));
        }
        let read = |offset: u64, len: usize, storage: &mut Vec<u8>| {
            file.read_into(range.start + offset, len, storage)
                .map_err(io)
        };
        let dtype = header.tensors[name]["dtype"].as_str().unwrap_or_default();
        if dtype == "I64" {
            return verify_int_zeros(name, record, range.end - range.start, &read);
        }
        let claim = Claim::from_metadata(name, record)?;
        if format!("{:?}", claim.dtype.safetensors_dtype()) != dtype {
            return Err(not_ours(format!(
                "tensor {name} is {dtype} but its metadata says {}",
                claim.dtype.name()
            )));
        }
        verify_read(&claim, range.end - range.start, &read, options)
    };
    on_verify_threads(|| {
        names
            .par_iter()
            .map(|name| crate::backend::cpu::with_isa(isa, || verify(name))?)
            .collect()
    })
}

/// The most threads [`on_verify_threads`] runs. Each holds up to three piece buffers (3 MiB)
/// and may have a tensor in flight, whose battery subsample takes about 2.5 MiB at its end: at
/// most about 350 MB in all, under the 512 MB promised for any checkpoint. This many threads
/// compute faster than any disk delivers (0.7 GB/s each here).
const MAX_VERIFY_THREADS: usize = 64;

/// Runs `work` in the verifier's thread pool: twice as many threads as the global pool's (the
/// cores, or `RAYON_NUM_THREADS`), at most [`MAX_VERIFY_THREADS`], because a thread spends part
/// of each piece waiting for the disk, and another computes on its core meanwhile. Measured on
/// gpt2 (652 MB, 2 cores): 0.65 s with 2 threads, 0.56 s with 4, against 0.47 s for `dd` to
/// read the file.
fn on_verify_threads<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    static POOL: std::sync::OnceLock<Option<rayon::ThreadPool>> = std::sync::OnceLock::new();
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads((2 * rayon::current_num_threads()).min(MAX_VERIFY_THREADS))
            .thread_name(|i| format!("nninit-verify-{i}"))
            .build()
            .ok()
    });
    match pool {
        Some(pool) => pool.install(work),
        // No threads to be had: the global pool's.
        None => work(),
    }
}

/// A file read at any offset by many threads at once, straight from the disk (Linux `O_DIRECT`)
/// where the file system allows it: a checkpoint just written by `nninit init` (which bypasses
/// the page cache too) is read once, and reading it through the page cache here took 2.4× as
/// long (4.7 GB: 9.0 s against 3.75 s with `dd`).
struct DiskReader {
    file: std::fs::File,
    direct: Option<std::fs::File>,
}

/// Alignment of a direct read's memory, offset and length.
const READ_ALIGN: u64 = 4096;

impl DiskReader {
    fn open(path: &Path) -> std::io::Result<DiskReader> {
        let file = std::fs::File::open(path)?;
        #[cfg(target_os = "linux")]
        let direct = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_DIRECT)
                .open(path)
                .ok()
        };
        #[cfg(not(target_os = "linux"))]
        let direct = None;
        Ok(DiskReader { file, direct })
    }

    fn len(&self) -> std::io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    /// Reads `len` bytes from byte `offset` into `storage` and says where they lie in it:
    /// directly, through the aligned window around them, where that works, else through the
    /// page cache at its start.
    fn read_into(
        &self,
        offset: u64,
        len: usize,
        storage: &mut Vec<u8>,
    ) -> std::io::Result<Range<usize>> {
        if let Some(direct) = &self.direct
            && let Ok(at) = read_direct(direct, offset, len, storage)
        {
            return Ok(at);
        }
        grow(storage, len)?;
        read_exact_at(&self.file, &mut storage[..len], offset)?;
        Ok(0..len)
    }
}

/// `storage` made at least `len` bytes long; too large a request is an error, not an abort.
fn grow(storage: &mut Vec<u8>, len: usize) -> std::io::Result<()> {
    if storage.len() < len {
        storage
            .try_reserve_exact(len - storage.len())
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::OutOfMemory))?;
        storage.resize(len, 0);
    }
    Ok(())
}

/// `len` bytes from `offset` of `file` (opened `O_DIRECT`): the aligned window around them read
/// into an aligned part of `storage`; returns where the bytes asked for lie.
#[cfg(unix)]
fn read_direct(
    file: &std::fs::File,
    offset: u64,
    len: usize,
    storage: &mut Vec<u8>,
) -> std::io::Result<Range<usize>> {
    use std::os::unix::fs::FileExt;
    let start = offset / READ_ALIGN * READ_ALIGN;
    let end = (offset + len as u64).next_multiple_of(READ_ALIGN);
    let window = (end - start) as usize;
    grow(storage, window + READ_ALIGN as usize)?;
    let at = storage.as_ptr().align_offset(READ_ALIGN as usize);
    let aligned = &mut storage[at..at + window];
    let need = (offset - start) as usize + len;
    let mut got = 0;
    while got < need {
        // Whole aligned blocks each time; a read ends early only at the end of the file.
        let n = file.read_at(&mut aligned[got..], start + got as u64)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        got += n;
    }
    let from = at + (offset - start) as usize;
    Ok(from..from + len)
}

#[cfg(not(unix))]
fn read_direct(
    _: &std::fs::File,
    _: u64,
    _: usize,
    _: &mut Vec<u8>,
) -> std::io::Result<Range<usize>> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// Fills `buf` from `file` at byte `offset`, whatever else reads the file at the same time.
fn read_exact_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
    }
    #[cfg(windows)]
    {
        let mut done = 0;
        while done < buf.len() {
            let n = std::os::windows::fs::FileExt::seek_read(
                file,
                &mut buf[done..],
                offset + done as u64,
            )?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            done += n;
        }
        Ok(())
    }
}
