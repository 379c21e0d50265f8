//! `nninit._nninit`: the Rust side of the Python package. Each function takes plain values (or
//! a NumPy array to fill in place), runs the library with the GIL released, and returns plain
//! values or JSON text that `nninit/__init__.py` turns into Python objects.
//!
//! Errors: the library's usage errors become `ValueError`, file errors `OSError`, the rest
//! `RuntimeError`, each with the library's one-line message. Every call runs under
//! `catch_unwind`, so not even a bug in Rust reaches Python as a panic.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use nninit::backend::draw::{Backend, draw_slice_into};
use nninit::contract::slice::Slice;
use nninit::model::json::FileTensor;
use nninit::model::presets::ModelTensor;
use nninit::model::recipe::{RECIPE_NAMES, Recipe};
use nninit::model::role::{Part, Role, TensorRole};
use nninit::scheme::fans::Layout;
use nninit::scheme::layers::{Param, ParamInit};
use nninit::{Dtype, Error, FanRule, GpuContext, Init, StreamId};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde_json::{Value, json};

fn to_py(error: Error) -> PyErr {
    let message = error.to_string();
    match error {
        Error::InvalidParameter { .. } | Error::Parse { .. } => PyValueError::new_err(message),
        Error::Io { .. } => PyOSError::new_err(message),
        _ => PyRuntimeError::new_err(message),
    }
}

/// Runs `work` with the GIL released; a panic becomes a `RuntimeError`.
fn run<T: Send>(py: Python<'_>, work: impl FnOnce() -> nninit::Result<T> + Send) -> PyResult<T> {
    py.detach(|| catch_unwind(AssertUnwindSafe(work)))
        .map_err(|_| {
            PyRuntimeError::new_err("nninit: internal error (a Rust panic); please report it")
        })?
        .map_err(to_py)
}

/// The GPU the process draws on, opened once.
fn gpu() -> nninit::Result<&'static GpuContext> {
    static GPU: OnceLock<GpuContext> = OnceLock::new();
    static OPENING: Mutex<()> = Mutex::new(());
    if let Some(gpu) = GPU.get() {
        return Ok(gpu);
    }
    let _one_at_a_time = OPENING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(gpu) = GPU.get() {
        return Ok(gpu);
    }
    let opened = GpuContext::new()?;
    Ok(GPU.get_or_init(|| opened))
}

/// `device`: `cpu`, `gpu` (the adapter wgpu picks; an error without one) or `auto` (a hardware
/// adapter when there is one, else the CPU reference, as the command line's `--device auto`).
fn backend(device: &str) -> nninit::Result<Backend<'static>> {
    static HARDWARE: OnceLock<bool> = OnceLock::new();
    match device {
        "cpu" => Ok(Backend::Cpu),
        "gpu" => Ok(Backend::Gpu(gpu()?)),
        "auto" => {
            let hardware = *HARDWARE.get_or_init(|| {
                pollster::block_on(nninit::backend::gpu::request_adapter())
                    .is_ok_and(|adapter| nninit::backend::gpu::is_hardware(&adapter.get_info()))
            });
            if hardware {
                Ok(Backend::Gpu(gpu()?))
            } else {
                Ok(Backend::Cpu)
            }
        }
        other => Err(Error::invalid("device", other, "one of auto, gpu, cpu")),
    }
}

/// The writable, C-contiguous memory of a NumPy array, as its `__array_interface__` gives it:
/// its address and byte length, checked against `element_size` and `elements`.
fn array_memory(
    out: &Bound<'_, PyAny>,
    element_size: usize,
    elements: u64,
) -> PyResult<(usize, usize)> {
    let interface = out.getattr("__array_interface__").map_err(|_| {
        PyTypeError::new_err("out must be a NumPy array (an object with __array_interface__)")
    })?;
    let (address, readonly): (usize, bool) = interface.get_item("data")?.extract()?;
    if readonly {
        return Err(PyValueError::new_err("out is read-only"));
    }
    if !interface.get_item("strides")?.is_none() {
        return Err(PyValueError::new_err("out must be C-contiguous"));
    }
    let typestr: String = interface.get_item("typestr")?.extract()?;
    let item: usize = typestr.get(2..).and_then(|s| s.parse().ok()).unwrap_or(0);
    if item != element_size || typestr.starts_with('>') {
        return Err(PyTypeError::new_err(format!(
            "out has elements {typestr:?}; the fill writes {element_size}-byte little-endian ones"
        )));
    }
    let shape: Vec<u64> = interface.get_item("shape")?.extract()?;
    let count: u64 = shape.iter().product();
    if count != elements {
        return Err(PyValueError::new_err(format!(
            "out holds {count} elements; the fill writes {elements}"
        )));
    }
    Ok((address, count as usize * element_size))
}

/// Fills `out` (a NumPy array with exactly the elements drawn) with a tensor of `shape` drawn
/// as `init` says — all of it, a range of its row-major flattening (`range`), or the box at
/// `offsets` of `local_shape` (a DTensor's local shard).
#[pyfunction]
#[pyo3(signature = (out, shape, init, *, seed, stream, dtype, layout, fan_in, fan_out, range, offsets, local_shape, device))]
#[allow(clippy::too_many_arguments)]
fn fill_array(
    py: Python<'_>,
    out: &Bound<'_, PyAny>,
    shape: Vec<u64>,
    init: &str,
    seed: u64,
    stream: u64,
    dtype: &str,
    layout: &str,
    fan_in: Option<f64>,
    fan_out: Option<f64>,
    range: Option<(u64, u64)>,
    offsets: Option<Vec<u64>>,
    local_shape: Option<Vec<u64>>,
    device: &str,
) -> PyResult<()> {
    let dtype = Dtype::parse(dtype).map_err(to_py)?;
    let plan = plan(&shape, init, layout, fan_in, fan_out)?;
    let numel = shape
        .iter()
        .try_fold(1u64, |n, &d| n.checked_mul(d))
        .ok_or_else(|| {
            PyValueError::new_err(format!("shape {shape:?}: its element count overflows u64"))
        })?;
    let stream = StreamId::new(seed, stream);
    let size = dtype.size_bytes();
    let backend = backend(device).map_err(to_py)?;
    match (range, offsets, local_shape) {
        (Some((start, end)), None, None) => {
            if start > end || end > numel {
                return Err(PyValueError::new_err(format!(
                    "range ({start}, {end}): must satisfy start ≤ end ≤ {numel}, the tensor's element count"
                )));
            }
            let (address, len) = array_memory(out, size, end - start)?;
            run(py, move || {
                // SAFETY: `out` is a writable, C-contiguous array of `len` bytes at `address`,
                // kept alive by the reference this call holds.
                let bytes = unsafe { std::slice::from_raw_parts_mut(address as *mut u8, len) };
                draw_range_into(backend, &plan, &shape, stream, start..end, dtype, bytes)
            })
        }
        (None, offsets, local_shape) => {
            let slice = match (offsets, local_shape) {
                (None, None) => Slice::whole(&shape),
                (Some(offsets), Some(local))
                    if offsets.len() == shape.len() && local.len() == shape.len() =>
                {
                    let ranges = offsets
                        .iter()
                        .zip(&local)
                        .map(|(&o, &n)| o..o.saturating_add(n))
                        .collect();
                    Slice::new(&shape, ranges).map_err(to_py)?
                }
                _ => {
                    return Err(PyValueError::new_err(
                        "offsets and local_shape: both, one entry per dimension of shape",
                    ));
                }
            };
            let (address, len) = array_memory(out, size, slice.numel())?;
            run(py, move || {
                // SAFETY: as above.
                let bytes = unsafe { std::slice::from_raw_parts_mut(address as *mut u8, len) };
                draw_slice_into(backend, &plan, stream, &slice, dtype, bytes)
            })
        }
        _ => Err(PyValueError::new_err(
            "range cannot be combined with offsets",
        )),
    }
}

/// Elements `range` of the row-major flattening of a tensor of `shape` into `out`: sampled
/// ones straight into it (as a 1-D slice of the flattening), structured draws through a copy.
fn draw_range_into(
    backend: Backend<'_>,
    plan: &nninit::Plan,
    shape: &[u64],
    stream: StreamId,
    range: std::ops::Range<u64>,
    dtype: Dtype,
    out: &mut [u8],
) -> nninit::Result<()> {
    match &plan.draw {
        nninit::Draw::Sample(_) => {
            let numel = shape.iter().product();
            let flat = Slice::new(&[numel], vec![range])?;
            draw_slice_into(backend, plan, stream, &flat, dtype, out)
        }
        _ => {
            let bytes =
                nninit::backend::draw::draw_bytes(backend, plan, shape, stream, range, dtype)?;
            out.copy_from_slice(&bytes);
            Ok(())
        }
    }
}

/// The JSON `nninit fill --explain` prints.
#[pyfunction]
#[pyo3(signature = (shape, init, *, layout, fan_in, fan_out))]
fn explain(
    shape: Vec<u64>,
    init: &str,
    layout: &str,
    fan_in: Option<f64>,
    fan_out: Option<f64>,
) -> PyResult<String> {
    Ok(plan(&shape, init, layout, fan_in, fan_out)?
        .explain()
        .to_string())
}

/// The plan of spec `init` for a tensor of `shape`, its fans by `layout` unless given.
fn plan(
    shape: &[u64],
    init: &str,
    layout: &str,
    fan_in: Option<f64>,
    fan_out: Option<f64>,
) -> PyResult<nninit::Plan> {
    let rule = FanRule {
        layout: Layout::parse(layout).map_err(to_py)?,
        fan_in,
        fan_out,
    };
    Init::parse(init)
        .and_then(|i| i.plan(shape, &rule))
        .map_err(to_py)
}

/// The stream of a tensor name (FNV-1a), as every nninit tensor draws from.
#[pyfunction]
fn stream_of_name(name: &str) -> u64 {
    nninit::stream_of_name(name)
}

/// Every tensor of a model as JSON: name, shape, spec, layout, dtype (or null), zero_row, tied_to,
/// role and whether it is an int64 zero buffer. `kind` is `json` (a model description), `preset`,
/// `hf` (a config.json's text), or `roles`: a framework model's tensors as JSON
/// `{"tied_embeddings", "tensors": [{name, shape, role, part, layer, depth, fan_in, tied_to}]}`,
/// for a framework `recipe`. Each is drawn by `recipe` (`hf`: the model's own).
#[pyfunction]
#[pyo3(signature = (kind, text, recipe = "hf"))]
fn describe(py: Python<'_>, kind: &str, text: &str, recipe: &str) -> PyResult<String> {
    let (kind, text, recipe) = (kind.to_string(), text.to_string(), recipe.to_string());
    run(py, move || {
        let mut tied = None;
        let (mut tensors, model_type): (Vec<FileTensor>, _) = match kind.as_str() {
            "json" => (nninit::model::json::parse_model_json(&text)?, None),
            "preset" => (
                nninit::model::presets::preset(&text)?
                    .into_iter()
                    .map(FileTensor::from)
                    .collect(),
                None,
            ),
            "hf" => {
                let model = nninit::model::hf::HfModel::from_config_json(&text)?;
                let tensors = model.tensors.into_iter().map(FileTensor::from).collect();
                (tensors, Some(model.model_type))
            }
            "roles" => {
                let (tensors, tied_embeddings) = role_tensors(&text)?;
                tied = tied_embeddings;
                (tensors, None)
            }
            other => return Err(Error::invalid("kind", other, "json, preset, hf or roles")),
        };
        let recipe = Recipe::parse(&recipe, model_type)?;
        if kind == "roles" && recipe == Recipe::Hf {
            return Err(Error::invalid(
                "recipe",
                recipe,
                format!("a framework recipe ({RECIPE_NAMES})"),
            ));
        }
        recipe.apply(tensors.iter_mut().map(|t| &mut t.tensor), tied)?;
        let described: Vec<Value> = tensors
            .iter()
            .map(|t| {
                let param = &t.tensor.param;
                let (spec, zero_row, int64) = match &param.init {
                    ParamInit::ZeroI64 => ("zeros".to_string(), None, true),
                    ParamInit::Scheme { init, zero_row } => (init.to_string(), *zero_row, false),
                };
                json!({
                    "name": param.name,
                    "shape": param.shape,
                    "spec": spec,
                    "layout": t.layout.as_ref().map_or("torch", Layout::name),
                    "dtype": t.dtype.map(|d| d.to_string()),
                    "zero_row": zero_row,
                    "tied_to": t.tensor.tied_to,
                    "role": t.tensor.role.map(|r| r.to_string()),
                    "int64": int64,
                })
            })
            .collect();
        Ok(Value::from(described).to_string())
    })
}

/// A framework model's tensors from `describe`'s `roles` JSON (`{"tied_embeddings": bool or
/// null, "tensors": [...]}`), to be drawn by a recipe, and whether its head is its embedding.
fn role_tensors(text: &str) -> nninit::Result<(Vec<FileTensor>, Option<bool>)> {
    let parse = |reason: String| Error::Parse {
        what: "roles",
        input: text.chars().take(60).collect(),
        reason,
    };
    let value: Value = serde_json::from_str(text).map_err(|e| parse(e.to_string()))?;
    let entries = value["tensors"]
        .as_array()
        .ok_or_else(|| parse("a list of tensors".into()))?;
    let tensors = entries
        .iter()
        .map(|entry| {
            let field = |key: &str| &entry[key];
            let name = field("name")
                .as_str()
                .ok_or_else(|| parse("a name".into()))?;
            let text_of = |key: &str| field(key).as_str().unwrap_or_default();
            let role = Role::from_name(text_of("role")).ok_or_else(|| {
                Error::invalid(format!("role of {name}"), text_of("role"), "a role name")
            })?;
            let part = Part::from_name(text_of("part")).ok_or_else(|| {
                Error::invalid(
                    format!("part of {name}"),
                    text_of("part"),
                    "weight, bias or buffer",
                )
            })?;
            let shape = field("shape")
                .as_array()
                .and_then(|dims| dims.iter().map(Value::as_u64).collect::<Option<Vec<u64>>>())
                .ok_or_else(|| parse(format!("{name}: a shape of whole numbers")))?;
            let tensor = ModelTensor {
                param: Param {
                    name: name.to_string(),
                    shape,
                    init: ParamInit::Scheme {
                        init: Init::Zeros,
                        zero_row: None,
                    },
                },
                tied_to: field("tied_to").as_str().map(String::from),
                role: Some(TensorRole {
                    role,
                    part,
                    layer: field("layer").as_u64(),
                    depth: field("depth").as_u64().unwrap_or(0),
                    expert: None,
                    fan_in: field("fan_in").as_u64().unwrap_or(0),
                }),
                dtype: None,
            };
            Ok(FileTensor::from(tensor))
        })
        .collect::<nninit::Result<_>>()?;
    Ok((tensors, value["tied_embeddings"].as_bool()))
}

/// The main job: `model` (a preset name, or a config.json or a directory holding one) into
/// `out` (a .safetensors file for a preset; a checkpoint directory for a config). Returns the
/// run's summary as JSON.
#[pyfunction]
#[pyo3(signature = (model, out, *, seed, dtype, device, progress, force, recipe = "hf"))]
#[allow(clippy::too_many_arguments)] // the Python function's keyword arguments
fn init_checkpoint(
    py: Python<'_>,
    model: &str,
    out: &str,
    seed: u64,
    dtype: &str,
    device: &str,
    progress: Option<Py<PyAny>>,
    force: bool,
    recipe: &str,
) -> PyResult<String> {
    let dtype = Dtype::parse(dtype).map_err(to_py)?;
    let recipe = recipe.to_string();
    let backend = backend(device).map_err(to_py)?;
    let (model, out) = (model.to_string(), out.to_string());
    // Progress is reported from the writing thread, which takes the GIL for each call.
    let report = move |done: usize, total: usize| {
        if let Some(callback) = &progress {
            Python::attach(|py| {
                let _ = callback.call1(py, (done, total));
            });
        }
    };
    run(py, move || {
        let path = Path::new(&model);
        let summary = if nninit::model::presets::PRESETS.contains(&model.as_str()) {
            let tensors = nninit::model::presets::preset(&model)?
                .into_iter()
                .map(FileTensor::from)
                .collect();
            let job = Recipe::parse(&recipe, None)?.job(tensors, seed, dtype)?;
            nninit::model::init::write_file(backend, &job, Path::new(&out), force, report)?
        } else if path.exists() {
            let config = if path.is_dir() {
                path.join(nninit::model::checkpoint::CONFIG)
            } else {
                path.to_path_buf()
            };
            let text = std::fs::read_to_string(&config).map_err(|source| Error::Io {
                path: config.display().to_string(),
                source,
            })?;
            let hf = nninit::model::hf::HfModel::from_config_json(&text)?;
            let dir = Path::new(&out);
            nninit::model::checkpoint::check_dir(dir, force)?;
            let config_json = hf.config_json(dtype.torch_name());
            let recipe = Recipe::parse(&recipe, Some(hf.model_type))?;
            let tensors = hf.tensors.into_iter().map(FileTensor::from).collect();
            let job = recipe.job(tensors, seed, dtype)?;
            let max = nninit::model::checkpoint::DEFAULT_MAX_SHARD_SIZE;
            nninit::model::checkpoint::write(backend, &job, &config_json, dir, max, force, report)?
                .init
        } else {
            return Err(Error::invalid(
                "config_or_preset",
                &model,
                format!(
                    "a preset ({}) or a config.json or a directory holding one",
                    nninit::model::presets::PRESETS.join(", ")
                ),
            ));
        };
        Ok(json!({
            "tensors": summary.tensors,
            "parameters": summary.parameters,
            "bytes": summary.bytes,
            "seconds": summary.total_time.as_secs_f64(),
            "draw_seconds": summary.draw_time.as_secs_f64(),
            "write_seconds": summary.write_time.as_secs_f64(),
        })
        .to_string())
    })
}

/// `nninit verify PATH`: every tensor of a file, a checkpoint directory or a rank directory,
/// as JSON reports.
#[pyfunction]
#[pyo3(signature = (path, *, sample, alpha))]
fn verify(py: Python<'_>, path: &str, sample: Option<u64>, alpha: f64) -> PyResult<String> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(PyValueError::new_err(format!(
            "alpha {alpha}: must be in (0, 1)"
        )));
    }
    if sample == Some(0) {
        return Err(PyValueError::new_err("sample 0: must be ≥ 1"));
    }
    let path = path.to_string();
    run(py, move || {
        let options = nninit::verify::VerifyOptions { alpha, sample };
        let mut reports = Vec::new();
        for file in nninit::model::checkpoint::files_to_verify(Path::new(&path))? {
            for report in nninit::verify::verify_file(&file, &options)? {
                let p_values: serde_json::Map<String, Value> = report
                    .tests
                    .iter()
                    .map(|t| (t.name.to_string(), json!(t.p_value)))
                    .collect();
                reports.push(json!({
                    "file": file.display().to_string(),
                    "name": report.name,
                    "scheme": report.spec,
                    "checked": report.checked,
                    "worst_difference": report.worst_difference,
                    "mismatches": report.mismatches,
                    "p_values": p_values,
                    "passed": report.passed(),
                }));
            }
        }
        Ok(Value::from(reports).to_string())
    })
}

#[pymodule]
fn _nninit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(fill_array, m)?)?;
    m.add_function(wrap_pyfunction!(explain, m)?)?;
    m.add_function(wrap_pyfunction!(stream_of_name, m)?)?;
    m.add_function(wrap_pyfunction!(describe, m)?)?;
    m.add_function(wrap_pyfunction!(init_checkpoint, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    let versions = PyDict::new(m.py());
    versions.set_item("nninit", env!("CARGO_PKG_VERSION"))?;
    versions.set_item("contract", nninit::CONTRACT_VERSION)?;
    m.add("versions", versions)?;
    Ok(())
}
