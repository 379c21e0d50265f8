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

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::backend::draw::{Backend, draw_f32};
use crate::contract::dtype::Dtype;
use crate::contract::slice::Slice;
use crate::contract::stream::{StreamId, unit_closed_open};
use crate::error::{Error, Result};
use crate::sample::sampler::Sampler;
use crate::scheme::fans::Layout;
use crate::scheme::{Draw, FanRule, Init, Plan};
use crate::verify::stats::{self, Reference, TestResult};

/// Element-wise tolerance of truncated-normal values, in units of std.
pub const TRUNC_NORMAL_TOLERANCE: f64 = 1e-4;
/// Bins of the χ² test (fewer for tensors under 320 elements, so that each expects ≥ 5).
pub const CHI_SQUARED_BINS: usize = 64;
/// Stream of the fixed uniforms `r` used by the randomized probability integral transform.
const PIT_STREAM: u64 = 0x7069_745f_7665_7269; // "pit_veri"

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
    let numel = claim
        .shape
        .iter()
        .try_fold(1u64, |n, &d| n.checked_mul(d))
        .ok_or_else(|| {
            Error::invalid(
                "shape",
                format!("{:?}", claim.shape),
                "element count must fit in u64",
            )
        })?;
    let held = claim.held(numel)?;
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
    let rule = FanRule {
        layout: Layout::parse(&claim.layout)?,
        fan_in: None,
        fan_out: None,
    };
    let plan = Init::parse(&claim.spec)?.plan(&claim.shape, &rule)?;
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
    let pit_stream = StreamId::new(0, PIT_STREAM);
    let uniforms: Vec<f64> = values
        .iter()
        .zip(indices)
        .map(|(&v, &i)| {
            let (lo, hi) = dtype.rounding_interval(v);
            let (f_lo, f_hi) = (reference.cdf(lo), reference.cdf(hi));
            let r = f64::from(unit_closed_open(pit_stream.word(i))) + 2f64.powi(-25);
            f_lo + r * (f_hi - f_lo)
        })
        .collect();
    let unit = Reference::Uniform {
        low: 0.0,
        high: 1.0,
    };
    let raw: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
    let mut tests = vec![
        stats::ks_one_sample(&uniforms, &unit, alpha)?,
        stats::anderson_darling(&uniforms, &unit, alpha)?,
    ];
    // At least five expected values per bin; too small a tensor gets no χ² test.
    let bins = CHI_SQUARED_BINS.min(uniforms.len() / 5);
    if bins >= 2 {
        tests.push(stats::chi_squared_equiprobable(
            &uniforms, &unit, bins, alpha,
        )?);
    }
    tests.extend(stats::moment_z_tests(&raw, reference, alpha)?);
    Ok(tests)
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

/// An int64 buffer (BatchNorm's `num_batches_tracked`): its spec must be `zeros` and every
/// element 0.
fn verify_int_zeros(name: &str, record: &str, data: &[u8]) -> Result<Report> {
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
    let values: Vec<i64> = data
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
        .collect();
    let worst = values
        .iter()
        .map(|v| v.unsigned_abs() as f64)
        .fold(0.0, f64::max);
    Ok(Report {
        name: name.to_string(),
        spec,
        checked: values.len() as u64,
        worst_difference: worst,
        mismatches: values.iter().filter(|&&v| v != 0).count() as u64,
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
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    let not_ours = |reason: String| Error::Parse {
        what: "safetensors file",
        input: path.display().to_string(),
        reason,
    };
    let file =
        safetensors::SafeTensors::deserialize(&bytes).map_err(|e| not_ours(e.to_string()))?;
    let (_, header) =
        safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| not_ours(e.to_string()))?;
    let metadata: HashMap<String, String> = header.metadata().clone().unwrap_or_default();
    if !metadata.contains_key("nninit.contract") {
        return Err(not_ours("no nninit metadata: not written by nninit".into()));
    }
    let mut names = file.names();
    names.sort();
    let mut reports = Vec::with_capacity(names.len());
    for name in names {
        let record = metadata
            .get(&tensor_key(name))
            .ok_or_else(|| not_ours(format!("tensor {name} has no nninit metadata")))?;
        let view = file.tensor(name).map_err(|e| not_ours(e.to_string()))?;
        if view.dtype() == safetensors::Dtype::I64 {
            reports.push(verify_int_zeros(name, record, view.data())?);
            continue;
        }
        let claim = Claim::from_metadata(name, record)?;
        if claim.dtype.safetensors_dtype() != view.dtype() {
            return Err(not_ours(format!(
                "tensor {name} is {:?} but its metadata says {}",
                view.dtype(),
                claim.dtype.name()
            )));
        }
        reports.push(verify_values(
            &claim.dtype.decode(view.data()),
            &claim,
            options,
        )?);
    }
    Ok(reports)
}
