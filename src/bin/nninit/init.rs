//! `nninit init`: every tensor of a model into one `.safetensors` file — or, with `--config`,
//! into a checkpoint directory that transformers' `from_pretrained` loads — with a progress bar
//! and a per-scheme summary.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use nninit::model::checkpoint;
use nninit::model::hf::HfModel;
use nninit::model::init::{FileClaim, InitJob, InitSummary, Part, Shard};
use nninit::model::json::FileTensor;
use nninit::{Dtype, Error, Result};

use crate::device::{Device, backend, check_output_dir};
use crate::{distributed, dry_run};

#[derive(Args)]
pub struct InitArgs {
    /// A preset (gpt2, resnet18, resnet50, mlp) or a model description FILE.json.
    #[arg(long, default_value = "gpt2", conflicts_with = "config")]
    pub model: String,
    /// A Hugging Face config.json (or a directory holding one): writes a checkpoint directory
    /// (config.json and model.safetensors, or shards and model.safetensors.index.json).
    #[arg(long, conflicts_with = "shard")]
    pub config: Option<PathBuf>,
    /// With --config: the most bytes per shard, as save_pretrained takes it (500MB, 5GB, 2GiB).
    #[arg(long, requires = "config", conflicts_with_all = ["tp", "dp"])]
    pub max_shard_size: Option<String>,
    /// Replace an existing output file, or the weights already in the output directory (with
    /// --config or --tp/--dp), and remove what an interrupted run left there.
    #[arg(long)]
    pub force: bool,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Element type of float tensors that do not name their own: f32, f16 or bf16.
    #[arg(long, default_value = "f32")]
    pub dtype: String,
    /// Where to draw: auto (a hardware GPU if there is one, else the CPU reference), gpu or cpu.
    #[arg(long, value_enum, default_value_t = Device::Auto)]
    pub device: Device,
    /// Output file (default: MODEL.safetensors, or MODEL.shard-I-of-N.safetensors); with
    /// --config, the output directory (default: MODEL_TYPE-init).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write only shard I of N: the I-th of N contiguous dim-0 row blocks of every tensor
    /// (rows [I·n/N, (I+1)·n/N)), as before --tp/--dp.
    #[arg(long, conflicts_with_all = ["tp", "dp", "ep", "plan", "rank", "world_size"])]
    pub shard: Option<String>,
    /// Tensor-parallel ranks: each tensor placed as the model's plan (or --plan) says, into
    /// DIR/rank-RRRRR-of-WWWWW.safetensors and DIR/manifest.json.
    #[arg(long)]
    pub tp: Option<u64>,
    /// Data-parallel ranks: FSDP-style Shard(0) of each tp-local tensor.
    #[arg(long)]
    pub dp: Option<u64>,
    /// Expert-parallel ranks within dp (a divisor of dp and of the routed experts): each ep rank
    /// (dp rank mod ep) holds n/ep whole experts, split tp ways as the dense MLP.
    #[arg(long)]
    pub ep: Option<u64>,
    /// A tensor-parallel plan: a JSON list of {"pattern", "placement"[, "groups"]}.
    #[arg(long, value_name = "FILE.json")]
    pub plan: Option<PathBuf>,
    /// This process's rank (default: from torchrun, Open MPI or Slurm; without any, every rank).
    #[arg(long)]
    pub rank: Option<u64>,
    /// How many ranks (default: from the launcher; must equal tp × dp).
    #[arg(long)]
    pub world_size: Option<u64>,
    /// How long rank 0 of a launch waits for the other ranks' files before it gives up (and
    /// removes this run's files), in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub rank_timeout: u64,
    /// Print each tensor's key, shape, dtype, role, spec and (with --tp/--dp and a rank) the box
    /// this rank holds, without drawing or writing anything.
    #[arg(long, conflicts_with = "shard")]
    pub dry_run: bool,
    /// With --dry-run: one JSON object a line (key, shape, dtype, role, spec, box).
    #[arg(long, requires = "dry_run")]
    pub json: bool,
}

impl Default for InitArgs {
    fn default() -> Self {
        Self {
            model: "gpt2".into(),
            config: None,
            max_shard_size: None,
            force: false,
            seed: 0,
            dtype: "f32".into(),
            device: Device::Auto,
            out: None,
            shard: None,
            tp: None,
            dp: None,
            ep: None,
            plan: None,
            rank: None,
            world_size: None,
            rank_timeout: 600,
            dry_run: false,
            json: false,
        }
    }
}

pub fn run(args: InitArgs) -> Result<()> {
    if let Some(config) = &args.config {
        return run_config(config, &args);
    }
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
        (stem, nninit::model::json::parse_model_json(&text)?)
    } else {
        let tensors = nninit::model::presets::preset(&args.model)?
            .into_iter()
            .map(FileTensor::from)
            .collect();
        (args.model.clone(), tensors)
    };
    let request = distributed::requested(&args)?;
    if request.is_some() || args.dry_run {
        let plan = match args.model.ends_with(".json") {
            true => None,
            false => Some(nninit::model::presets::tp_plan(&args.model)?),
        };
        let model = distributed::Model {
            name: model_name.clone(),
            job: InitJob::whole(tensors, args.seed, dtype),
            plan,
            config_json: None,
            stem: model_name,
        };
        return match request {
            Some(request) if !args.dry_run => distributed::run(&args, request, model),
            request => dry_run(&args, request, &model),
        };
    }
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
        part: shard.map_or(Part::Whole, Part::Shard),
        metadata: Vec::new(),
    };
    // Claimed before the device is opened: a second writer fails first, with one line.
    let claim = FileClaim::new(&out, job.run_id(), args.force)?;
    let gpu = args.device.open()?;
    let bar = progress_bar(job.tensors.len());
    let summary = claim.write(backend(&gpu), &job, |done, total| {
        advance(&bar, done, total)
    })?;
    finish(bar);
    print_summary(&out.display().to_string(), &summary, gpu.is_some());
    Ok(())
}

/// `nninit init --config`: a Hugging Face architecture into a checkpoint directory.
fn run_config(config: &Path, args: &InitArgs) -> Result<()> {
    let dtype = Dtype::parse(&args.dtype)?;
    let max_shard_bytes = match &args.max_shard_size {
        Some(size) => checkpoint::parse_size(size)?,
        None => checkpoint::DEFAULT_MAX_SHARD_SIZE,
    };
    let config_path = if config.is_dir() {
        config.join(checkpoint::CONFIG)
    } else {
        config.to_path_buf()
    };
    let text = std::fs::read_to_string(&config_path).map_err(|source| {
        Error::invalid(
            "config",
            config_path.display(),
            format!("a readable config.json, or a directory holding one ({source})"),
        )
    })?;
    let model = HfModel::from_config_json(&text)?;
    let request = distributed::requested(args)?;
    if request.is_some() || args.dry_run {
        let model = distributed::Model {
            name: model.class.to_string(),
            config_json: Some(model.config_json(dtype.torch_name())),
            stem: format!("{}-init", model.model_type),
            plan: Some(model.tp_plan),
            job: InitJob::whole(
                model.tensors.into_iter().map(FileTensor::from).collect(),
                args.seed,
                dtype,
            ),
        };
        return match request {
            Some(request) if !args.dry_run => distributed::run(args, request, model),
            request => dry_run(args, request, &model),
        };
    }
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}-init", model.model_type)));
    // Claimed before the device is opened: a second writer fails first, with one line.
    let config_json = model.config_json(dtype.torch_name());
    let job = InitJob::whole(
        model.tensors.into_iter().map(FileTensor::from).collect(),
        args.seed,
        dtype,
    );
    let claim = checkpoint::CheckpointClaim::new(&dir, job.run_id(), args.force)?;
    let gpu = args.device.open()?;
    let bar = progress_bar(job.tensors.len());
    let written = claim.write(
        backend(&gpu),
        &job,
        &config_json,
        max_shard_bytes,
        |done, total| advance(&bar, done, total),
    )?;
    finish(bar);
    let place = format!(
        "{} ({}, {} weights file{})",
        dir.display(),
        model.class,
        written.files.len(),
        if written.files.len() == 1 { "" } else { "s" }
    );
    print_summary(&place, &written.init, gpu.is_some());
    Ok(())
}

/// `--dry-run`: the plan printed, with this rank's boxes where placement flags or a launcher
/// ask for ranks.
fn dry_run(
    args: &InitArgs,
    request: Option<distributed::Request>,
    model: &distributed::Model,
) -> Result<()> {
    let Some(request) = request else {
        return dry_run::print(&model.job, None, args.json);
    };
    let manifest = distributed::placed(args, &request, model)?;
    let world_size = manifest.mesh.world_size();
    let rank = distributed::rank(&request).ok_or_else(|| {
        Error::invalid(
            "rank",
            "none",
            "--rank R (or a launcher's rank): --dry-run with --tp/--dp prints one rank's boxes",
        )
    })?;
    if rank >= world_size {
        return Err(Error::invalid(
            "rank",
            rank,
            format!("below the world size, {world_size}"),
        ));
    }
    dry_run::print(&model.job, Some((&manifest, rank)), args.json)
}

pub fn progress_bar(tensors: usize) -> Option<ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(tensors as u64);
        bar.set_style(
            ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} tensors")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    })
}

pub fn advance(bar: &Option<ProgressBar>, done: usize, total: usize) {
    if let Some(bar) = bar {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    }
}

pub fn finish(bar: Option<ProgressBar>) {
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

/// The run's one-line account and its per-scheme table.
pub fn print_summary(place: &str, summary: &InitSummary, on_gpu: bool) {
    println!(
        "{place}: {} tensors, {} parameters, {:.1} MB in {:.2} s: drawing {:.2} s on the {} and \
         writing {:.2} s, side by side",
        summary.tensors,
        summary.parameters,
        summary.bytes as f64 / 1e6,
        summary.total_time.as_secs_f64(),
        summary.draw_time.as_secs_f64(),
        if on_gpu { "GPU" } else { "CPU" },
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
}
