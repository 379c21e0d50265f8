//! The pipeline's first stage: the model a run writes — a preset, a model description
//! (`FILE.json`) or a Hugging Face `config.json` — as a job of whole tensors, with its recipe
//! already applied (each builder's table from role to spec), its tensor-parallel plan and, for a
//! config, the `config.json` to write beside the weights. `--recipe` replaces a builder's table
//! by a pretraining framework's ([`Recipe`]).

use std::path::Path;

use nninit::model::checkpoint;
use nninit::model::hf::HfModel;
use nninit::model::init::InitJob;
use nninit::model::json::FileTensor;
use nninit::model::parallel::TpPlan;
use nninit::model::pipeline::{STAGE_KEY, Stage};
use nninit::model::recipe::Recipe;
use nninit::{Dtype, Error, Result};

/// What `--model` or `--config` name.
pub enum Request<'a> {
    /// A preset name, or a model description `FILE.json`.
    Model(&'a str),
    /// A `config.json`, or a directory holding one.
    Config(&'a Path),
}

/// A model ready to be placed and written.
pub struct Model {
    /// Its name in the manifest and summary: the preset, the JSON file's stem, or the class.
    pub name: String,
    /// The stem of default output names: the preset or stem, or `MODEL_TYPE-init`.
    pub stem: String,
    /// Every tensor, whole, with the run's seed and dtype.
    pub job: InitJob,
    /// The built-in tensor-parallel plan (model descriptions have none).
    pub plan: Option<TpPlan>,
    /// A Hugging Face checkpoint's `config.json`, for a config: then the output is a directory.
    pub config_json: Option<String>,
}

/// Reads the model `request` names, its float tensors drawn as `dtype` with `seed` by `recipe`
/// (`hf`: each builder's own; a framework's over the tensors' roles), which every file's
/// metadata records as `nninit.recipe`; with a pipeline `stage`, only that stage's tensors.
pub fn read(
    request: Request<'_>,
    seed: u64,
    dtype: Dtype,
    recipe: &str,
    stage: Option<Stage>,
) -> Result<Model> {
    let (name, stem, tensors, plan, config) = match request {
        Request::Config(path) => config(path)?,
        Request::Model(name) if name.ends_with(".json") => description(name)?,
        Request::Model(name) => {
            let tensors = nninit::model::presets::preset(name)?;
            let plan = nninit::model::presets::tp_plan(name)?;
            let tensors = tensors.into_iter().map(FileTensor::from).collect();
            (
                name.to_string(),
                name.to_string(),
                tensors,
                Some(plan),
                None,
            )
        }
    };
    let model_type = config.as_ref().map(|(model_type, _)| *model_type);
    let mut job = Recipe::parse(recipe, model_type)?.job(tensors, seed, dtype)?;
    if let Some(stage) = stage {
        stage.keep(&mut job.tensors)?;
        job.metadata
            .push((STAGE_KEY.to_string(), stage.to_string()));
    }
    Ok(Model {
        name,
        stem,
        job,
        plan,
        config_json: config.map(|(_, model)| model.config_json(dtype.torch_name())),
    })
}

/// A model's name, output stem, tensors, plan and (for a config) its `model_type` and model.
type Read = (
    String,
    String,
    Vec<FileTensor>,
    Option<TpPlan>,
    Option<(&'static str, HfModel)>,
);

/// A model description `FILE.json`.
fn description(name: &str) -> Result<Read> {
    let path = Path::new(name);
    let text = std::fs::read_to_string(path).map_err(|source| {
        Error::invalid(
            "model",
            name,
            format!("a readable model JSON file ({source})"),
        )
    })?;
    let stem = path
        .file_stem()
        .map_or("model".into(), |s| s.to_string_lossy().into_owned());
    let tensors = nninit::model::json::parse_model_json(&text)?;
    Ok((stem.clone(), stem, tensors, None, None))
}

/// A Hugging Face architecture from its `config.json`.
fn config(path: &Path) -> Result<Read> {
    let config_path = if path.is_dir() {
        path.join(checkpoint::CONFIG)
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&config_path).map_err(|source| {
        Error::invalid(
            "config",
            config_path.display(),
            format!("a readable config.json, or a directory holding one ({source})"),
        )
    })?;
    let mut model = HfModel::from_config_json(&text)?;
    let tensors = std::mem::take(&mut model.tensors)
        .into_iter()
        .map(FileTensor::from)
        .collect();
    let plan = std::mem::take(&mut model.tp_plan);
    Ok((
        model.class.to_string(),
        format!("{}-init", model.model_type),
        tensors,
        Some(plan),
        Some((model.model_type, model)),
    ))
}
