//! The pipeline's first stage: the model a run writes — a preset, a model description
//! (`FILE.json`) or a Hugging Face `config.json` — as a job of whole tensors, with its recipe
//! already applied (each builder's table from role to spec), its tensor-parallel plan and, for a
//! config, the `config.json` to write beside the weights.

use std::path::Path;

use nninit::model::checkpoint;
use nninit::model::hf::HfModel;
use nninit::model::init::InitJob;
use nninit::model::json::FileTensor;
use nninit::model::parallel::TpPlan;
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

/// Reads the model `request` names, its float tensors drawn as `dtype` with `seed`.
pub fn read(request: Request<'_>, seed: u64, dtype: Dtype) -> Result<Model> {
    match request {
        Request::Config(path) => config(path, seed, dtype),
        Request::Model(name) if name.ends_with(".json") => {
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
            Ok(Model {
                name: stem.clone(),
                stem,
                job: InitJob::whole(nninit::model::json::parse_model_json(&text)?, seed, dtype),
                plan: None,
                config_json: None,
            })
        }
        Request::Model(name) => {
            let tensors = nninit::model::presets::preset(name)?
                .into_iter()
                .map(FileTensor::from)
                .collect();
            Ok(Model {
                name: name.to_string(),
                stem: name.to_string(),
                job: InitJob::whole(tensors, seed, dtype),
                plan: Some(nninit::model::presets::tp_plan(name)?),
                config_json: None,
            })
        }
    }
}

/// A Hugging Face architecture from its `config.json`.
fn config(path: &Path, seed: u64, dtype: Dtype) -> Result<Model> {
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
    let model = HfModel::from_config_json(&text)?;
    Ok(Model {
        name: model.class.to_string(),
        stem: format!("{}-init", model.model_type),
        config_json: Some(model.config_json(dtype.torch_name())),
        plan: Some(model.tp_plan),
        job: InitJob::whole(
            model.tensors.into_iter().map(FileTensor::from).collect(),
            seed,
            dtype,
        ),
    })
}
