//! The seed notes' depth experiment: what a chain of 100 fully connected layers does to its
//! activations under four initializations.
//!
//! Setup, as in the seed notes (`x = torch.randn(512)`; `for i in range(100): x = tanh(a @ x)`):
//! one input vector `x` of [`WIDTH`] = 512 values drawn from N(0, 1), then [`DEPTH`] = 100
//! layers `x ← act(W·x)` with square 512 × 512 weights and no biases. After every layer the
//! mean and the standard deviation over the 512 activations are recorded (the std with the
//! `n − 1` divisor, as `torch.Tensor.std`).
//!
//! Every weight — and the input — is drawn by nninit on the given backend: weight `l` of case
//! `name` from the stream [`StreamId::named`]`(seed, "{name}.layer{l}.weight")`, the input (the
//! same for all four cases) from `"input"` with `normal(mean=0, std=1)`. Weights are planned
//! with PyTorch's fan rule for a `Linear(512, 512).weight` of shape `[out, in] = [512, 512]`.
//! The forward pass runs on the CPU in f64 (nalgebra's matrix–vector product): a naive-tanh
//! activation of 1e-24 would still be a normal f32, but its square in the std would not, and f64
//! keeps every value and statistic far from underflow.

use std::io::Write;
use std::path::Path;

use nalgebra::{DMatrix, DVector};
use serde_json::{Value, json};

use crate::backend::draw::{Backend, draw_f32};
use crate::contract::stream::StreamId;
use crate::error::{Error, Result};
use crate::model::atomic_file::write_atomically;
use crate::scheme::{FanRule, Init};

/// Units per layer (the width of every layer and of the input).
pub const WIDTH: usize = 512;

/// Number of layers in the chain.
pub const DEPTH: usize = 100;

/// The layers reported by [`summary_table`].
pub const SUMMARY_LAYERS: [usize; 4] = [1, 10, 50, 100];

/// `uniform(-1, 1)·√(1/512)` written as the nninit spec `uniform(a=-√(1/512), b=√(1/512))`;
/// the bounds are √(1/512) = 0.04419417382415922 as the shortest f64 text that round-trips.
const NAIVE_SPEC: &str = "uniform(a=-0.04419417382415922, b=0.04419417382415922)";

/// The four cases: name, activation, nninit spec, and how a chart's legend describes the spec.
pub const CASES: [(&str, &str, &str, &str); 4] = [
    ("tanh_naive", "tanh", NAIVE_SPEC, "uniform(-1,1)·√(1/512)"),
    ("tanh_xavier", "tanh", "xavier_uniform", "xavier_uniform"),
    ("relu_xavier", "relu", "xavier_uniform", "xavier_uniform"),
    (
        "relu_kaiming",
        "relu",
        "kaiming_normal(nonlinearity=relu)",
        "kaiming_normal (relu gain √2)",
    ),
];

/// One case of the study: an activation, an initialization, and what happened at every layer.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyCase {
    /// Short identifier, e.g. `tanh_naive`; also the prefix of its weights' stream names.
    pub name: String,
    /// The activation after every layer: `tanh` or `relu`.
    pub activation: String,
    /// The nninit init spec every weight was drawn with.
    pub init: String,
    /// Statistics after layers 1 to [`DEPTH`], in order.
    pub layers: Vec<LayerStats>,
}

/// The activations after one layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerStats {
    /// Layer number, 1-based (layer 1 is the first `act(W·x)`).
    pub layer: usize,
    /// Mean of the layer's activations.
    pub mean: f64,
    /// Standard deviation of the layer's activations (`n − 1` divisor, as `torch.Tensor.std`).
    pub std: f64,
}

/// Mean and standard deviation (`n − 1` divisor) of `values`.
fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

fn activate(activation: &str, value: f64) -> Result<f64> {
    match activation {
        "tanh" => Ok(value.tanh()),
        "relu" => Ok(value.max(0.0)),
        other => Err(Error::invalid("activation", other, "tanh or relu")),
    }
}

/// Runs the four cases of the seed notes with every weight drawn on `backend` under `seed`:
/// `tanh_naive` (tanh, `uniform(-1,1)·√(1/512)`), `tanh_xavier` (tanh, `xavier_uniform`),
/// `relu_xavier` (relu, `xavier_uniform`) and `relu_kaiming` (relu,
/// `kaiming_normal(nonlinearity=relu)`: fan_in, gain √2). See the [module docs](self) for the
/// setup.
pub fn run_study(backend: Backend<'_>, seed: u64) -> Result<Vec<StudyCase>> {
    let width = WIDTH as u64;
    let shape = [width, width];
    let rule = FanRule::torch();
    let input_plan = Init::parse("normal(mean=0, std=1)")?.plan(&[width], &rule)?;
    let input: Vec<f64> = draw_f32(
        backend,
        &input_plan,
        &[width],
        StreamId::named(seed, "input"),
        0..width,
    )?
    .into_iter()
    .map(f64::from)
    .collect();

    let mut cases = Vec::with_capacity(CASES.len());
    for (name, activation, spec, _) in CASES {
        let plan = Init::parse(spec)?.plan(&shape, &rule)?;
        let mut x = DVector::from_vec(input.clone());
        let mut layers = Vec::with_capacity(DEPTH);
        for layer in 1..=DEPTH {
            let stream = StreamId::named(seed, &format!("{name}.layer{layer}.weight"));
            let weight = draw_f32(backend, &plan, &shape, stream, 0..width * width)?;
            // Row-major [out, in], as PyTorch stores a Linear weight: row i is output unit i.
            let weight =
                DMatrix::from_row_iterator(WIDTH, WIDTH, weight.into_iter().map(f64::from));
            let mut next = weight * &x;
            for value in next.iter_mut() {
                *value = activate(activation, *value)?;
            }
            x = next;
            let (mean, std) = mean_std(x.as_slice());
            layers.push(LayerStats { layer, mean, std });
        }
        cases.push(StudyCase {
            name: name.to_string(),
            activation: activation.to_string(),
            init: spec.to_string(),
            layers,
        });
    }
    Ok(cases)
}

/// The study as JSON: `{"cases":[{"name":..,"activation":..,"init":..,"layers":[{"layer":1,
/// "mean":..,"std":..},...]}]}`, every layer of every case.
pub fn study_json(cases: &[StudyCase]) -> Value {
    let cases: Vec<Value> = cases
        .iter()
        .map(|case| {
            let layers: Vec<Value> = case
                .layers
                .iter()
                .map(|s| json!({"layer": s.layer, "mean": s.mean, "std": s.std}))
                .collect();
            json!({
                "name": case.name,
                "activation": case.activation,
                "init": case.init,
                "layers": layers,
            })
        })
        .collect();
    json!({ "cases": cases })
}

/// Writes [`study_json`] of `cases` to `path` atomically, keys in the documented order (`name`,
/// `activation`, `init`, `layers`) and one line per layer.
pub fn write_json(cases: &[StudyCase], path: &Path) -> Result<()> {
    let text = |value: &str| Value::from(value).to_string();
    let number = |value: f64| Value::from(value).to_string();
    let mut out = String::from("{\"cases\": [\n");
    for (c, case) in cases.iter().enumerate() {
        out += &format!(
            "  {{\"name\": {}, \"activation\": {}, \"init\": {}, \"layers\": [\n",
            text(&case.name),
            text(&case.activation),
            text(&case.init)
        );
        for (l, s) in case.layers.iter().enumerate() {
            let comma = if l + 1 < case.layers.len() { "," } else { "" };
            out += &format!(
                "    {{\"layer\": {}, \"mean\": {}, \"std\": {}}}{comma}\n",
                s.layer,
                number(s.mean),
                number(s.std)
            );
        }
        out += if c + 1 < cases.len() {
            "  ]},\n"
        } else {
            "  ]}\n"
        };
    }
    out += "]}\n";
    write_atomically(path, |writer| {
        writer
            .write_all(out.as_bytes())
            .map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })
    })
}

/// A plain-text table of every case's mean and std at layers 1, 10, 50 and 100 (those it has).
pub fn summary_table(cases: &[StudyCase]) -> String {
    let mut table = format!("{:<14}{:<7}", "case", "act");
    for layer in SUMMARY_LAYERS {
        table += &format!(
            "{:>12}{:>12}",
            format!("mean@{layer}"),
            format!("std@{layer}")
        );
    }
    table += "\n";
    for case in cases {
        table += &format!("{:<14}{:<7}", case.name, case.activation);
        for layer in SUMMARY_LAYERS {
            match case.layers.iter().find(|s| s.layer == layer) {
                Some(s) => table += &format!("{:>12.3e}{:>12.3e}", s.mean, s.std),
                None => table += &format!("{:>12}{:>12}", "-", "-"),
            }
        }
        table += "\n";
    }
    table
}
