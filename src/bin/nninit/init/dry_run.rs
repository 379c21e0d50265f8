//! `nninit init --dry-run`: what a run would write, tensor by tensor — key, shape, dtype, role,
//! spec and the box this rank holds — without drawing or writing anything.

use std::io::Write;

use nninit::model::init::InitJob;
use nninit::model::parallel::manifest::Manifest;
use nninit::scheme::layers::ParamInit;
use nninit::{Error, Result};
use serde_json::{Value, json};

/// Prints the plan of `job`: every tensor whole, or, with `placed`, the box `rank` holds of
/// each (`None` where it holds nothing). As a table, or one JSON object a line.
pub fn print(job: &InitJob, placed: Option<(&Manifest, u64)>, json_lines: bool) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if !json_lines {
        writeln!(
            out,
            "{:<56} {:<20} {:<5} {:<22} {:<40} box",
            "key", "shape", "dtype", "role", "spec"
        )
        .map_err(io)?;
    }
    for (index, tensor) in job.tensors.iter().enumerate() {
        let param = &tensor.tensor.param;
        let (dtype, spec) = match &param.init {
            ParamInit::ZeroI64 => ("I64".to_string(), "zeros".to_string()),
            ParamInit::Scheme { init, .. } => (
                tensor
                    .dtype
                    .unwrap_or(job.dtype)
                    .safetensors_dtype()
                    .to_string(),
                init.to_string(),
            ),
        };
        let role = tensor.tensor.role.map(|role| role.to_string());
        let ranges: Option<Vec<[u64; 2]>> = match placed {
            None => Some(param.shape.iter().map(|&d| [0, d]).collect()),
            Some((manifest, rank)) => {
                let slice = manifest.slice(&manifest.tensors[index], rank);
                (slice.numel() > 0 || param.shape.iter().product::<u64>() == 0)
                    .then(|| slice.ranges.iter().map(|r| [r.start, r.end]).collect())
            }
        };
        if json_lines {
            let line = json!({
                "key": param.name,
                "shape": param.shape,
                "dtype": dtype,
                "role": role,
                "spec": spec,
                "box": ranges,
            });
            writeln!(out, "{line}").map_err(io)?;
        } else {
            let shape = Value::from(param.shape.clone()).to_string();
            let held = ranges.map_or("-".to_string(), |r| {
                r.iter()
                    .map(|[a, b]| format!("{a}..{b}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            });
            let role = role.unwrap_or_else(|| "-".to_string());
            writeln!(
                out,
                "{:<56} {shape:<20} {dtype:<5} {role:<22} {spec:<40} {held}",
                param.name
            )
            .map_err(io)?;
        }
    }
    out.flush().map_err(io)
}

fn io(source: std::io::Error) -> Error {
    Error::Io {
        path: "standard output".into(),
        source,
    }
}
