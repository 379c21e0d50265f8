//! `nninit init`: every tensor of a model into one `.safetensors` file — or, with `--config`,
//! into a checkpoint directory that transformers' `from_pretrained` loads, or with `--tp/--dp/
//! --ep` into rank files — with a progress bar and a per-scheme summary.
//!
//! One pipeline, each stage calling only forward: [`source`] (preset | model JSON | config, its
//! recipe applied) → [`placement`] (whole | `--shard` | the ranks of a mesh) → [`sink`] (file |
//! checkpoint directory | rank files and manifest), or [`dry_run`] instead of the sink.

mod dry_run;
mod placement;
mod progress;
mod sink;
mod source;

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use nninit::model::pipeline::Stage;
use nninit::{Dtype, Error, Result};

use crate::device::Device;
use placement::Placement;

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
    /// Whose recipe draws the tensors: hf (the model's own: transformers' `_init_weights`, a
    /// preset's, a description's), torchtitan[:llama3|qwen3|deepseek_v3], megatron or
    /// olmo[:normal|llama|llama_depth|fan_in], over each tensor's role.
    #[arg(long, default_value = "hf")]
    pub recipe: String,
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
    /// Pipeline stages: write only the tensors of stage --pp-rank, layers [k·L/N, (k+1)·L/N)
    /// (the embeddings with the first stage, the final norm and head with the last), each with
    /// the values the whole model has.
    #[arg(long, requires = "pp_rank")]
    pub pp: Option<u64>,
    /// The pipeline stage to write, from 0 (with --pp).
    #[arg(long, requires = "pp")]
    pub pp_rank: Option<u64>,
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
            recipe: "hf".into(),
            dtype: "f32".into(),
            device: Device::Auto,
            out: None,
            shard: None,
            tp: None,
            dp: None,
            ep: None,
            pp: None,
            pp_rank: None,
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
    let dtype = Dtype::parse(&args.dtype)?;
    let request = match &args.config {
        Some(config) => source::Request::Config(config),
        None => source::Request::Model(&args.model),
    };
    let stage = match (args.pp, args.pp_rank) {
        (Some(count), Some(index)) => Some(Stage::new(index, count)?),
        _ => None,
    };
    let model = source::read(request, args.seed, dtype, &args.recipe, stage)?;
    let flags = placement::Flags {
        tp: args.tp,
        dp: args.dp,
        ep: args.ep,
        plan: args.plan.as_deref(),
        rank: args.rank,
        world_size: args.world_size,
        shard: args.shard.as_deref(),
    };
    let placement = placement::choose(&flags, &model)?;
    if args.dry_run {
        return dry_run(&model, &placement, args.json);
    }
    let options = sink::Options {
        out: args.out.as_deref(),
        force: args.force,
        device: args.device,
        rank_timeout: Duration::from_secs(args.rank_timeout),
        max_shard_size: args.max_shard_size.as_deref(),
    };
    sink::write(model, placement, &options)
}

/// `--dry-run`: the plan printed, with this rank's boxes where placement flags or a launcher
/// ask for ranks.
fn dry_run(model: &source::Model, placement: &Placement, json: bool) -> Result<()> {
    let Placement::Ranks { manifest, launch } = placement else {
        return dry_run::print(&model.job, None, json);
    };
    let world_size = manifest.mesh.world_size();
    let rank = launch.as_ref().map(|l| l.rank).ok_or_else(|| {
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
    dry_run::print(&model.job, Some((manifest, rank)), json)
}
