//! The `nninit` command line: `bits` (raw Philox words) and `fill` (one tensor to a file).

use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::io::IsTerminal;

use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use nninit::draw::{Backend, draw_bytes};
use nninit::fans::Layout;
use nninit::init_model::{InitJob, Shard};
use nninit::model_json::FileTensor;
use nninit::safetensors_file::TensorRecord;
use nninit::scheme::{FanRule, Init};
use nninit::verify::{Report, VerifyOptions};
use nninit::{Dtype, Error, GpuContext, Result, StreamId};

#[derive(Parser)]
#[command(
    name = "nninit",
    version,
    about = "Neural-network weight initialization on the GPU, reproducible everywhere"
)]
struct Cli {
    /// Without a subcommand, runs `init` with its defaults (gpt2 into gpt2.safetensors, seed 0).
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Initializes every tensor of a model (a preset or a JSON description) into .safetensors.
    Init(InitArgs),
    /// Raw stream words N..N+count as little-endian u32, for external RNG test batteries.
    Bits(BitsArgs),
    /// Draws one tensor with any scheme and writes it as .npy or .safetensors.
    Fill(FillArgs),
    /// Verifies every tensor of a .safetensors file written by nninit against its metadata:
    /// element by element against the CPU reference, and statistically.
    Verify(VerifyArgs),
    /// The seed notes' depth experiment: 100 layers of width 512 under four initializations;
    /// prints per-layer statistics and writes study.svg and study.json.
    Study(StudyArgs),
    /// Benchmarks GPU fills against the CPU reference, the rand_distr peer and memset, side by
    /// side on this machine.
    Bench(BenchArgs),
    /// Prints the adapter wgpu picks (honouring WGPU_BACKEND and WGPU_ADAPTER_NAME) and its limits.
    Adapter,
}

#[derive(Clone, Copy, ValueEnum)]
enum Device {
    Gpu,
    Cpu,
}

impl Device {
    /// The GPU handle for `--device gpu` (None for the CPU reference); pass it to `backend`.
    fn open(self) -> Result<Option<GpuContext>> {
        match self {
            Device::Gpu => GpuContext::new().map(Some),
            Device::Cpu => Ok(None),
        }
    }
}

/// The backend a `Device::open` result stands for.
fn backend(gpu: &Option<GpuContext>) -> Backend<'_> {
    gpu.as_ref().map_or(Backend::Cpu, Backend::Gpu)
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

#[derive(Args)]
struct InitArgs {
    /// A preset (gpt2, resnet18, resnet50, mlp) or a model description FILE.json.
    #[arg(long, default_value = "gpt2")]
    model: String,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Element type of float tensors that do not name their own: f32, f16 or bf16.
    #[arg(long, default_value = "f32")]
    dtype: String,
    #[arg(long, value_enum, default_value_t = Device::Gpu)]
    device: Device,
    /// Output file (default: MODEL.safetensors, or MODEL.shard-I-of-N.safetensors).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write only shard I of N: the I-th of N contiguous dim-0 row blocks of every tensor.
    #[arg(long)]
    shard: Option<String>,
}

impl Default for InitArgs {
    fn default() -> Self {
        Self {
            model: "gpt2".into(),
            seed: 0,
            dtype: "f32".into(),
            device: Device::Gpu,
            out: None,
            shard: None,
        }
    }
}

#[derive(Args)]
struct BenchArgs {
    /// 1M and 16M elements only (within a minute on lavapipe).
    #[arg(long)]
    quick: bool,
    /// Also write the numbers as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Args)]
struct StudyArgs {
    /// Directory for study.svg and study.json.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, value_enum, default_value_t = Device::Gpu)]
    device: Device,
}

#[derive(Args)]
struct VerifyArgs {
    /// The .safetensors file.
    file: PathBuf,
    /// Check this many evenly spaced elements per tensor instead of all of them.
    #[arg(long)]
    sample: Option<u64>,
    /// Significance level of each statistical test.
    #[arg(long, default_value_t = nninit::stats::DEFAULT_ALPHA)]
    alpha: f64,
}

/// Words computed and written per piece, so `bits` streams any count in bounded memory.
const BITS_PIECE: u64 = 1 << 24;

fn bits(args: BitsArgs) -> Result<()> {
    let id = StreamId::new(args.seed, args.stream);
    let end = args
        .offset
        .checked_add(args.count)
        .ok_or_else(|| Error::invalid("count", args.count, "offset + count must fit in u64"))?;
    let gpu = args.device.open()?;
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
        OutputFormat::Npy { descr } => nninit::atomic_file::write_atomically(out, |file| {
            nninit::npy::write_header(file, descr, &stored_shape)
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
                zero_row: None,
            };
            let mut bytes = Some(bytes);
            nninit::safetensors_file::write(out, &[record], &[], |_| {
                Ok(bytes.take().unwrap_or_default())
            })
        }
    }
}

enum OutputFormat {
    Npy { descr: &'static str },
    Safetensors,
}

fn init(args: InitArgs) -> Result<()> {
    let dtype = Dtype::parse(&args.dtype)?;
    let shard = args.shard.as_deref().map(Shard::parse).transpose()?;
    let (model_name, tensors) = if args.model.ends_with(".json") {
        let path = Path::new(&args.model);
        let text = std::fs::read_to_string(path).map_err(|source| {
            Error::invalid(
                "model",
                &args.model,
                format!("a readable model JSON file ({source})"),
            )
        })?;
        let stem = path
            .file_stem()
            .map_or("model".into(), |s| s.to_string_lossy().into_owned());
        (stem, nninit::model_json::parse_model_json(&text)?)
    } else {
        let tensors = nninit::models::preset(&args.model)?
            .into_iter()
            .map(|tensor| FileTensor {
                tensor,
                dtype: None,
                layout: None,
            })
            .collect();
        (args.model.clone(), tensors)
    };
    let out = args.out.clone().unwrap_or_else(|| match shard {
        None => PathBuf::from(format!("{model_name}.safetensors")),
        Some(s) => PathBuf::from(format!(
            "{model_name}.shard-{}-of-{}.safetensors",
            s.index, s.count
        )),
    });
    if out.extension().and_then(|e| e.to_str()) != Some("safetensors") {
        return Err(Error::invalid(
            "out",
            out.display(),
            "a path ending in .safetensors",
        ));
    }
    check_output_dir(&out)?;
    let job = InitJob {
        tensors,
        seed: args.seed,
        dtype,
        shard,
    };
    let gpu = args.device.open()?;
    let backend = backend(&gpu);
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(job.tensors.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} tensors")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let summary = nninit::init_model::run(backend, &job, &out, |done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    println!(
        "{}: {} tensors, {} parameters, {:.1} MB, drawing {:.2} s on the {}, writing {:.2} s",
        out.display(),
        summary.tensors,
        summary.parameters,
        summary.bytes as f64 / 1e6,
        summary.draw_time.as_secs_f64(),
        match args.device {
            Device::Gpu => "GPU",
            Device::Cpu => "CPU",
        },
        summary.write_time.as_secs_f64(),
    );
    println!(
        "{:<72} {:>8} {:>12} {:>12} {:>12}",
        "scheme", "tensors", "elements", "expected std", "measured std"
    );
    for scheme in &summary.schemes {
        let expected = scheme
            .expected_std
            .map_or("-".to_string(), |s| format!("{s:.6}"));
        println!(
            "{:<72} {:>8} {:>12} {:>12} {:>12.6}",
            scheme.spec, scheme.tensors, scheme.elements, expected, scheme.measured_std
        );
    }
    Ok(())
}

fn bench(args: BenchArgs) -> Result<()> {
    if let Some(path) = &args.json {
        check_output_dir(path)?;
    }
    let report = nninit::bench::run(args.quick)?;
    print!("{}", report.table());
    if let Some(path) = &args.json {
        let json = report.to_json();
        nninit::atomic_file::write_atomically(path, |file| {
            file.write_all(json.as_bytes()).map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })
        })?;
    }
    Ok(())
}

fn study(args: StudyArgs) -> Result<()> {
    if !args.out.is_dir() {
        return Err(Error::invalid(
            "out",
            args.out.display(),
            "an existing directory",
        ));
    }
    let gpu = args.device.open()?;
    let cases = nninit::study::run_study(backend(&gpu), args.seed)?;
    print!("{}", nninit::study::summary_table(&cases));
    let (json, svg) = (args.out.join("study.json"), args.out.join("study.svg"));
    nninit::study::write_json(&cases, &json)?;
    nninit::study::write_svg(&cases, &svg)?;
    println!("wrote {} and {}", svg.display(), json.display());
    Ok(())
}

/// Prints one row per tensor; `Ok(false)` when any tensor fails.
fn verify(args: VerifyArgs) -> Result<bool> {
    if !(args.alpha > 0.0 && args.alpha < 1.0) {
        return Err(Error::invalid("alpha", args.alpha, "must be in (0, 1)"));
    }
    if args.sample == Some(0) {
        return Err(Error::invalid("sample", 0, "must be ≥ 1"));
    }
    let options = VerifyOptions {
        alpha: args.alpha,
        sample: args.sample,
    };
    let reports =
        nninit::verify::verify_file(&args.file, &options).map_err(|error| match error {
            // A file that cannot be read is not one nninit can verify: a usage error (exit 2).
            Error::Io { path, source } => Error::invalid(
                "file",
                path,
                format!("an existing, readable .safetensors file ({source})"),
            ),
            other => other,
        })?;
    println!(
        "{:<40} {:<44} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9}  verdict",
        "tensor", "scheme", "n", "worst |Δ|", "KS p", "AD p", "χ² p", "moment p"
    );
    let p_of = |report: &Report, name: &str| {
        report
            .tests
            .iter()
            .find(|t| t.name == name)
            .map_or("-".to_string(), |t| format!("{:.2e}", t.p_value))
    };
    for report in &reports {
        let moments = report
            .tests
            .iter()
            .filter(|t| {
                !matches!(
                    t.name,
                    "kolmogorov-smirnov" | "anderson-darling" | "chi-squared"
                )
            })
            .map(|t| t.p_value)
            .reduce(f64::min)
            .map_or("-".to_string(), |p| format!("{p:.2e}"));
        println!(
            "{:<40} {:<44} {:>10} {:>10.2e} {:>9} {:>9} {:>9} {:>9}  {}",
            report.name,
            report.spec,
            report.checked,
            report.worst_difference,
            p_of(report, "kolmogorov-smirnov"),
            p_of(report, "anderson-darling"),
            p_of(report, "chi-squared"),
            moments,
            if report.passed() { "pass" } else { "FAIL" }
        );
    }
    let failed = reports.iter().filter(|r| !r.passed()).count();
    println!(
        "{} tensors, {} passed, {failed} failed",
        reports.len(),
        reports.len() - failed
    );
    Ok(failed == 0)
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

/// Refuses an output path whose directory does not exist or takes no files, before any work.
fn check_output_dir(path: &Path) -> Result<()> {
    nninit::atomic_file::check_writable(path)
}

fn main() -> ExitCode {
    // An interrupted run removes its temporary output files (exit 130) instead of leaving them.
    let _ = nninit::atomic_file::remove_temp_files_on_signal();
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
    let result = match cli.command.unwrap_or(Command::Init(InitArgs::default())) {
        Command::Init(args) => init(args).map(|()| true),
        Command::Bits(args) => bits(args).map(|()| true),
        Command::Fill(args) => fill(args).map(|()| true),
        Command::Adapter => adapter().map(|()| true),
        Command::Verify(args) => verify(args),
        Command::Study(args) => study(args).map(|()| true),
        Command::Bench(args) => bench(args).map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("nninit: error: {error}");
            match error {
                Error::InvalidParameter { .. } | Error::Parse { .. } => ExitCode::from(2),
                _ => ExitCode::from(1),
            }
        }
    }
}
