//! The `nninit` command line: `bits` (raw Philox words) and `fill` (one tensor to a file).

use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use nninit::draw::{Backend, draw_bytes};
use nninit::fans::Layout;
use nninit::safetensors_file::TensorRecord;
use nninit::scheme::{FanRule, Init};
use nninit::{Dtype, Error, GpuContext, Result, StreamId};

#[derive(Parser)]
#[command(
    name = "nninit",
    version,
    about = "Neural-network weight initialization on the GPU, reproducible everywhere"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Raw stream words N..N+count as little-endian u32, for external RNG test batteries.
    Bits(BitsArgs),
    /// Draws one tensor with any scheme and writes it as .npy or .safetensors.
    Fill(FillArgs),
    /// Prints the adapter wgpu picks (honouring WGPU_BACKEND and WGPU_ADAPTER_NAME) and its limits.
    Adapter,
}

#[derive(Clone, Copy, ValueEnum)]
enum Device {
    Gpu,
    Cpu,
}

#[derive(Args)]
struct BitsArgs {
    /// Seed (the Philox key).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Stream (the counter's upper half).
    #[arg(long, default_value_t = 0)]
    stream: u64,
    /// Index of the first word.
    #[arg(long, default_value_t = 0)]
    offset: u64,
    /// Number of words.
    #[arg(long)]
    count: u64,
    #[arg(long, value_enum, default_value_t = Device::Gpu)]
    device: Device,
    /// Output file (stdout when absent).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Args)]
struct FillArgs {
    /// Tensor shape, comma-separated (e.g. 64,128).
    #[arg(long)]
    shape: String,
    /// Init spec, e.g. 'kaiming_normal(mode=fan_out,nonlinearity=relu)' or 'normal(mean=0,std=0.02)'.
    #[arg(long)]
    init: String,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Stream number (default 0).
    #[arg(long, conflicts_with = "name")]
    stream: Option<u64>,
    /// Tensor name; its FNV-1a hash is the stream, and it names the tensor in .safetensors output.
    #[arg(long)]
    name: Option<String>,
    /// Elements A..B of the row-major flattening instead of the whole tensor.
    #[arg(long)]
    range: Option<String>,
    /// Axis convention for fans: torch (out, in, *kernel), jax (..., in, out) or keras.
    #[arg(long, default_value = "torch")]
    layout: String,
    /// Explicit fan_in, overriding the shape's.
    #[arg(long)]
    fan_in: Option<f64>,
    /// Explicit fan_out, overriding the shape's.
    #[arg(long)]
    fan_out: Option<f64>,
    /// Element type of the output: f32, f16 or bf16 (bf16 only in .safetensors).
    #[arg(long, default_value = "f32")]
    dtype: String,
    #[arg(long, value_enum, default_value_t = Device::Gpu)]
    device: Device,
    /// Print one JSON line describing what would be drawn (fans, gain, primitive) and stop.
    #[arg(long)]
    explain: bool,
    /// Output file: .npy (f32, f16) or .safetensors (any dtype, with verification metadata).
    #[arg(long, required_unless_present = "explain")]
    out: Option<PathBuf>,
}

/// Words computed and written per piece, so `bits` streams any count in bounded memory.
const BITS_PIECE: u64 = 1 << 24;

fn bits(args: BitsArgs) -> Result<()> {
    let id = StreamId::new(args.seed, args.stream);
    let end = args
        .offset
        .checked_add(args.count)
        .ok_or_else(|| Error::invalid("count", args.count, "offset + count must fit in u64"))?;
    let gpu = match args.device {
        Device::Gpu => Some(GpuContext::new()?),
        Device::Cpu => None,
    };
    let write_words = |out: &mut dyn Write, path: &str| -> Result<()> {
        let mut start = args.offset;
        while start < end {
            let piece = start..end.min(start + BITS_PIECE);
            let words = match &gpu {
                Some(gpu) => gpu.words(id, piece.clone())?,
                None => {
                    let mut words = vec![0u32; (piece.end - piece.start) as usize];
                    nninit::cpu::fill_words(id, piece.start, &mut words);
                    words
                }
            };
            let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
            match out.write_all(&bytes) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                other => other.map_err(|source| Error::Io {
                    path: path.into(),
                    source,
                })?,
            }
            start = piece.end;
        }
        Ok(())
    };
    match &args.out {
        Some(path) => nninit::atomic_file::write_atomically(path, |file| {
            write_words(file, &path.display().to_string())
        }),
        None => write_words(&mut std::io::stdout().lock(), "<stdout>"),
    }
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

fn fill(args: FillArgs) -> Result<()> {
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
    let gpu = match args.device {
        Device::Gpu => Some(GpuContext::new()?),
        Device::Cpu => None,
    };
    let backend = gpu.as_ref().map_or(Backend::Cpu, Backend::Gpu);
    let bytes = draw_bytes(backend, &plan, &shape, id, range.clone(), dtype)?;
    let stored_shape = if args.range.is_some() {
        vec![range.end - range.start]
    } else {
        shape
    };
    let path_text = out.display().to_string();
    match format {
        OutputFormat::Npy { descr } => nninit::atomic_file::write_atomically(out, |file| {
            nninit::npy::write_header(file, descr, &stored_shape)
                .and_then(|()| file.write_all(&bytes))
                .map_err(|source| Error::Io {
                    path: path_text.clone(),
                    source,
                })
        }),
        OutputFormat::Safetensors => nninit::safetensors_file::write(
            out,
            &[TensorRecord {
                name: args.name.clone().unwrap_or_else(|| "tensor".to_string()),
                dtype: dtype.safetensors_dtype(),
                shape: stored_shape,
                bytes,
                spec: args.init.clone(),
                stream: id,
                layout: rule.layout.name().to_string(),
                range: args.range.is_some().then_some((range.start, range.end)),
            }],
        ),
    }
}

enum OutputFormat {
    Npy { descr: &'static str },
    Safetensors,
}

fn adapter() -> Result<()> {
    let gpu = GpuContext::new()?;
    let info = gpu.adapter_info();
    let limits = gpu.device().limits();
    println!(
        "adapter: {} ({:?}, {:?}, driver {} {})",
        info.name, info.backend, info.device_type, info.driver, info.driver_info
    );
    println!(
        "limits: max_buffer_size {} B, max_storage_buffer_binding_size {} B, \
         min_storage_buffer_offset_alignment {} B, max_compute_workgroups_per_dimension {}",
        limits.max_buffer_size,
        limits.max_storage_buffer_binding_size,
        limits.min_storage_buffer_offset_alignment,
        limits.max_compute_workgroups_per_dimension
    );
    Ok(())
}

/// Refuses an output path whose directory does not exist, before any work is done.
fn check_output_dir(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if dir.is_dir() {
        Ok(())
    } else {
        Err(Error::invalid(
            "out",
            path.display(),
            "its directory must exist",
        ))
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if !error.use_stderr() => {
            let _ = error.print(); // --help, --version
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            // One line: clap's message without its usage block and hints.
            let rendered = error.render().to_string();
            let message: Vec<&str> = rendered
                .lines()
                .map(str::trim)
                .take_while(|line| !line.starts_with("Usage:"))
                .filter(|line| !line.is_empty())
                .collect();
            eprintln!(
                "nninit: {}",
                message.join(" ").trim_start_matches("error: ")
            );
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Bits(args) => bits(args),
        Command::Fill(args) => fill(args),
        Command::Adapter => adapter(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("nninit: error: {error}");
            match error {
                Error::InvalidParameter { .. } | Error::Parse { .. } => ExitCode::from(2),
                _ => ExitCode::from(1),
            }
        }
    }
}
