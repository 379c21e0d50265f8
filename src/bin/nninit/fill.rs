//! `nninit fill`: one tensor, any scheme, to `.npy` or `.safetensors`.

use std::io::Write;
use std::ops::Range;
use std::path::PathBuf;

use clap::Args;
use nninit::backend::draw::draw_bytes;
use nninit::model::safetensors::TensorRecord;
use nninit::scheme::fans::Layout;
use nninit::{Dtype, Error, FanRule, Init, Result, StreamId};

use crate::device::{Device, backend, check_output_dir};

#[derive(Args)]
pub struct FillArgs {
    /// Tensor shape, comma-separated (e.g. 64,128).
    #[arg(long)]
    pub shape: String,
    /// Init spec, e.g. 'kaiming_normal(mode=fan_out,nonlinearity=relu)' or 'normal(mean=0,std=0.02)'.
    #[arg(long)]
    pub init: String,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Stream number (default 0).
    #[arg(long, conflicts_with = "name")]
    pub stream: Option<u64>,
    /// Tensor name; its FNV-1a hash is the stream, and it names the tensor in .safetensors output.
    #[arg(long)]
    pub name: Option<String>,
    /// Elements A..B of the row-major flattening instead of the whole tensor.
    #[arg(long)]
    pub range: Option<String>,
    /// Axis convention for fans: torch (out, in, *kernel), jax (..., in, out) or keras.
    #[arg(long, default_value = "torch")]
    pub layout: String,
    /// Explicit fan_in, overriding the shape's.
    #[arg(long)]
    pub fan_in: Option<f64>,
    /// Explicit fan_out, overriding the shape's.
    #[arg(long)]
    pub fan_out: Option<f64>,
    /// Element type of the output: f32, f16 or bf16 (bf16 only in .safetensors).
    #[arg(long, default_value = "f32")]
    pub dtype: String,
    /// Where to draw: auto (a hardware GPU if there is one, else the CPU reference), gpu or cpu.
    #[arg(long, value_enum, default_value_t = Device::Auto)]
    pub device: Device,
    /// Print one JSON line describing what would be drawn (fans, gain, primitive) and stop.
    #[arg(long)]
    pub explain: bool,
    /// Output file: .npy (f32, f16) or .safetensors (any dtype, with verification metadata).
    #[arg(long, required_unless_present = "explain")]
    pub out: Option<PathBuf>,
}

fn parse_shape(text: &str) -> Result<Vec<u64>> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|dim| {
            dim.trim().parse::<u64>().map_err(|_| {
                Error::invalid(
                    "shape",
                    text,
                    "comma-separated non-negative integers, e.g. 64,128",
                )
            })
        })
        .collect()
}

fn parse_range(text: &str, numel: u64) -> Result<Range<u64>> {
    let invalid = || {
        Error::invalid(
            "range",
            text,
            format!("A..B with A ≤ B ≤ {numel} (the tensor's element count)"),
        )
    };
    let (a, b) = text.split_once("..").ok_or_else(invalid)?;
    let (a, b) = (
        a.trim().parse::<u64>().map_err(|_| invalid())?,
        b.trim().parse::<u64>().map_err(|_| invalid())?,
    );
    if a > b || b > numel {
        return Err(invalid());
    }
    Ok(a..b)
}

pub fn run(args: FillArgs) -> Result<()> {
    let shape = parse_shape(&args.shape)?;
    let numel = shape
        .iter()
        .try_fold(1u64, |n, &d| n.checked_mul(d))
        .filter(|n| n.checked_mul(4).is_some())
        .ok_or_else(|| {
            Error::invalid(
                "shape",
                &args.shape,
                "element count × 4 bytes must fit in u64",
            )
        })?;
    let rule = FanRule {
        layout: Layout::parse(&args.layout)?,
        fan_in: args.fan_in,
        fan_out: args.fan_out,
    };
    let plan = Init::parse(&args.init)?.plan(&shape, &rule)?;
    if args.explain {
        println!("{}", plan.explain());
        return Ok(());
    }
    let dtype = Dtype::parse(&args.dtype)?;
    let range = match &args.range {
        Some(text) => parse_range(text, numel)?,
        None => 0..numel,
    };
    let id = match &args.name {
        Some(name) => StreamId::named(args.seed, name),
        None => StreamId::new(args.seed, args.stream.unwrap_or(0)),
    };
    let out = args
        .out
        .as_deref()
        .ok_or_else(|| Error::invalid("out", "missing", "an output path unless --explain"))?;
    let format = match out.extension().and_then(|e| e.to_str()) {
        Some("safetensors") => OutputFormat::Safetensors,
        Some("npy") if let Some(descr) = dtype.npy_descr() => OutputFormat::Npy { descr },
        _ => {
            return Err(Error::invalid(
                "out",
                out.display(),
                "a path ending in .npy (f32, f16) or .safetensors (f32, f16, bf16)",
            ));
        }
    };
    check_output_dir(out)?;
    let gpu = args.device.open()?;
    let backend = backend(&gpu);
    let bytes = draw_bytes(backend, &plan, &shape, id, range.clone(), dtype)?;
    let stored_shape = if args.range.is_some() {
        vec![range.end - range.start]
    } else {
        shape.clone()
    };
    let path_text = out.display().to_string();
    match format {
        OutputFormat::Npy { descr } => nninit::model::atomic_file::write_atomically(out, |file| {
            crate::npy::write_header(file, descr, &stored_shape)
                .and_then(|()| file.write_all(&bytes))
                .map_err(|source| Error::Io {
                    path: path_text.clone(),
                    source,
                })
        }),
        OutputFormat::Safetensors => {
            let record = TensorRecord {
                name: args.name.clone().unwrap_or_else(|| "tensor".to_string()),
                dtype: dtype.safetensors_dtype(),
                full_shape: args.range.is_some().then(|| shape.clone()),
                shape: stored_shape,
                spec: args.init.clone(),
                stream: id,
                layout: rule.layout.name().to_string(),
                range: args.range.is_some().then_some((range.start, range.end)),
                ranges: None,
                zero_row: None,
            };
            let mut bytes = Some(bytes);
            nninit::model::safetensors::write(out, &[record], &[], |_| {
                Ok(bytes.take().unwrap_or_default())
            })
        }
    }
}

enum OutputFormat {
    Npy { descr: &'static str },
    Safetensors,
}
