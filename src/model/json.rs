//! The model description format of `nninit init --model FILE.json`: a JSON array whose entries
//! are either a tensor or a layer that expands to its PyTorch-default parameters.
//!
//! ```json
//! [
//!   {"name": "embed.weight", "shape": [1000, 64], "init": "normal(std=0.02)", "dtype": "bf16"},
//!   {"layer": "linear", "name": "fc1", "in": 784, "out": 256, "bias": true},
//!   {"layer": "conv2d", "name": "conv", "in": 3, "out": 16, "kernel": 3, "groups": 1, "bias": true},
//!   {"layer": "batch_norm", "name": "bn", "features": 16}
//! ]
//! ```
//!
//! Tensor entries: `name`, `shape` (non-negative integers), `init` (a spec string), optional
//! `dtype` (`f32`, `f16`, `bf16`; default the command's `--dtype`) and `layout` (`torch`, `jax`,
//! `keras`). Layer entries (`name` is the prefix of its keys):
//! `linear` (`in`, `out`, `bias`=true), `bilinear` (`in1`, `in2`, `out`, `bias`=true),
//! `conv1d|conv2d|conv3d` and `conv_transpose1d|2d|3d` (`in`, `out`, `kernel` — an integer or a
//! list with one entry per spatial dim —, `groups`=1, `bias`=true), `embedding` (`num`, `dim`,
//! `padding_idx`), `rnn|lstm|gru` (`input`, `hidden`, `num_layers`=1, `bias`=true,
//! `bidirectional`=false), `layer_norm` (`shape`), `group_norm` (`groups`, `channels`),
//! `batch_norm` (`features`), `multihead_attention` (`embed_dim`, `num_heads`, `bias`=true).
//! Unknown keys, missing keys, wrong types and duplicate tensor names are errors naming the entry.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::contract::dtype::Dtype;
use crate::error::{Error, Result};
use crate::model::presets::ModelTensor;
use crate::model::role::{Role, TensorRole};
use crate::scheme::fans::Layout;
use crate::scheme::layers::{self, Param, ParamInit, Recurrent};
use crate::scheme::{FanRule, Init};

/// One tensor of a model file, with its optional per-tensor dtype and layout.
#[derive(Debug, Clone, PartialEq)]
pub struct FileTensor {
    /// The tensor.
    pub tensor: ModelTensor,
    /// Its dtype, when the entry names one.
    pub dtype: Option<Dtype>,
    /// Its fan layout, when the entry names one.
    pub layout: Option<Layout>,
}

impl From<ModelTensor> for FileTensor {
    /// A tensor with its own dtype, if it has one, else the command's, and the torch layout.
    fn from(tensor: ModelTensor) -> Self {
        Self {
            dtype: tensor.dtype,
            tensor,
            layout: None,
        }
    }
}

/// Reads the entry's fields, remembering which were used so unknown ones can be reported.
struct Entry<'a> {
    index: usize,
    fields: &'a Map<String, Value>,
}

impl<'a> Entry<'a> {
    fn error(&self, key: &str, allowed: impl Into<String>) -> Error {
        let value = self
            .fields
            .get(key)
            .map_or("missing".to_string(), Value::to_string);
        Error::invalid(
            format!("model entry {} ({key})", self.index),
            value,
            allowed,
        )
    }

    fn check_keys(&self, allowed: &[&str]) -> Result<()> {
        match self
            .fields
            .keys()
            .find(|key| !allowed.contains(&key.as_str()))
        {
            Some(key) => Err(Error::invalid(
                format!("model entry {}", self.index),
                key,
                format!("unknown key; this entry takes {}", allowed.join(", ")),
            )),
            None => Ok(()),
        }
    }

    fn text(&self, key: &str) -> Result<&'a str> {
        self.fields
            .get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| self.error(key, "a string"))
    }

    fn count(&self, key: &str) -> Result<u64> {
        self.fields
            .get(key)
            .and_then(Value::as_u64)
            .ok_or_else(|| self.error(key, "a non-negative integer"))
    }

    fn count_or(&self, key: &str, default: u64) -> Result<u64> {
        if self.fields.contains_key(key) {
            self.count(key)
        } else {
            Ok(default)
        }
    }

    fn optional_count(&self, key: &str) -> Result<Option<u64>> {
        match self.fields.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(_) => self.count(key).map(Some),
        }
    }

    fn flag_or(&self, key: &str, default: bool) -> Result<bool> {
        match self.fields.get(key) {
            None => Ok(default),
            Some(value) => value
                .as_bool()
                .ok_or_else(|| self.error(key, "true or false")),
        }
    }

    fn dims(&self, key: &str) -> Result<Vec<u64>> {
        match self.fields.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|d| {
                    d.as_u64()
                        .ok_or_else(|| self.error(key, "a list of non-negative integers"))
                })
                .collect(),
            _ => Err(self.error(key, "a list of non-negative integers")),
        }
    }

    /// `kernel`: an integer (repeated `spatial` times) or a list of `spatial` integers.
    fn kernel(&self, spatial: usize) -> Result<Vec<u64>> {
        let kernel = match self.fields.get("kernel") {
            Some(Value::Number(_)) => vec![self.count("kernel")?; spatial],
            _ => self.dims("kernel")?,
        };
        if kernel.len() != spatial {
            return Err(self.error("kernel", format!("an integer or a list of {spatial}")));
        }
        Ok(kernel)
    }
}

/// Parses a model description; see the module docs.
pub fn parse_model_json(text: &str) -> Result<Vec<FileTensor>> {
    let json: Value = serde_json::from_str(text).map_err(|e| Error::Parse {
        what: "model JSON",
        input: text.chars().take(80).collect(),
        reason: e.to_string(),
    })?;
    let entries = json.as_array().ok_or_else(|| {
        Error::invalid(
            "model JSON",
            "not an array",
            "an array of tensor and layer entries",
        )
    })?;
    let mut tensors = Vec::new();
    for (index, value) in entries.iter().enumerate() {
        let fields = value
            .as_object()
            .ok_or_else(|| Error::invalid(format!("model entry {index}"), value, "an object"))?;
        let entry = Entry { index, fields };
        if fields.contains_key("layer") {
            let params = layer(&entry)?;
            let role = layer_role(entry.text("layer")?);
            tensors.extend(params.into_iter().map(|param| {
                FileTensor::from(ModelTensor {
                    role: role.map(|role| TensorRole::of_layer(role, &param.name, &param.shape)),
                    param,
                    tied_to: None,
                    dtype: None,
                })
            }));
        } else {
            tensors.push(tensor(&entry)?);
        }
    }
    let mut names = HashSet::new();
    for file_tensor in &tensors {
        if !names.insert(file_tensor.tensor.param.name.as_str()) {
            return Err(Error::invalid(
                "model JSON",
                &file_tensor.tensor.param.name,
                "tensor names must be unique",
            ));
        }
    }
    if tensors.is_empty() {
        return Err(Error::invalid("model JSON", "[]", "at least one tensor"));
    }
    Ok(tensors)
}

fn tensor(entry: &Entry<'_>) -> Result<FileTensor> {
    entry.check_keys(&["name", "shape", "init", "dtype", "layout"])?;
    let name = entry.text("name")?.to_string();
    let shape = entry.dims("shape")?;
    let init = Init::parse(entry.text("init")?)?;
    let dtype = if entry.fields.contains_key("dtype") {
        Some(Dtype::parse(entry.text("dtype")?)?)
    } else {
        None
    };
    let layout = if entry.fields.contains_key("layout") {
        Some(Layout::parse(entry.text("layout")?)?)
    } else {
        None
    };
    // Validate the scheme against the shape now, so a bad entry is reported with its index.
    let rule = FanRule {
        layout: layout.clone().unwrap_or(Layout::Torch),
        fan_in: None,
        fan_out: None,
    };
    init.plan(&shape, &rule)
        .map_err(|e| entry.error("init", e.to_string()))?;
    let param = Param {
        name,
        shape,
        init: ParamInit::Scheme {
            init,
            zero_row: None,
        },
    };
    Ok(FileTensor {
        tensor: ModelTensor {
            param,
            tied_to: None,
            role: None,
            dtype: None,
        },
        dtype,
        layout,
    })
}

/// The role of every parameter of a layer of kind `kind` (one [`layer`] accepted).
fn layer_role(kind: &str) -> Option<Role> {
    Some(match kind {
        "linear" => Role::Linear,
        "bilinear" => Role::Bilinear,
        "embedding" => Role::Embedding,
        "rnn" | "lstm" | "gru" => Role::Recurrent,
        "multihead_attention" => Role::MultiheadAttention,
        "layer_norm" | "group_norm" | "batch_norm" | "batch_norm1d" | "batch_norm2d"
        | "batch_norm3d" => Role::Norm,
        kind if kind.starts_with("conv") => Role::Conv,
        _ => return None,
    })
}

fn layer(entry: &Entry<'_>) -> Result<Vec<Param>> {
    let kind = entry.text("layer")?;
    let name = entry.text("name")?;
    let keys = |extra: &[&str]| {
        let mut all = vec!["layer", "name"];
        all.extend_from_slice(extra);
        entry.check_keys(&all)
    };
    match kind {
        "linear" => {
            keys(&["in", "out", "bias"])?;
            Ok(layers::linear(name, entry.count("in")?, entry.count("out")?, entry.flag_or("bias", true)?))
        }
        "bilinear" => {
            keys(&["in1", "in2", "out", "bias"])?;
            Ok(layers::bilinear(name, entry.count("in1")?, entry.count("in2")?, entry.count("out")?, entry.flag_or("bias", true)?))
        }
        "conv1d" | "conv2d" | "conv3d" | "conv_transpose1d" | "conv_transpose2d" | "conv_transpose3d" => {
            keys(&["in", "out", "kernel", "groups", "bias"])?;
            let spatial = usize::from(kind.as_bytes()[kind.len() - 2] - b'0');
            layers::conv(
                name,
                entry.count("in")?,
                entry.count("out")?,
                &entry.kernel(spatial)?,
                entry.count_or("groups", 1)?,
                entry.flag_or("bias", true)?,
                kind.starts_with("conv_transpose"),
            )
        }
        "embedding" => {
            keys(&["num", "dim", "padding_idx"])?;
            layers::embedding(name, entry.count("num")?, entry.count("dim")?, entry.optional_count("padding_idx")?)
        }
        "rnn" | "lstm" | "gru" => {
            keys(&["input", "hidden", "num_layers", "bias", "bidirectional"])?;
            let recurrent = match kind {
                "rnn" => Recurrent::Rnn,
                "lstm" => Recurrent::Lstm,
                _ => Recurrent::Gru,
            };
            layers::recurrent(
                name,
                recurrent,
                entry.count("input")?,
                entry.count("hidden")?,
                entry.count_or("num_layers", 1)?,
                entry.flag_or("bias", true)?,
                entry.flag_or("bidirectional", false)?,
            )
        }
        "layer_norm" => {
            keys(&["shape"])?;
            Ok(layers::norm_affine(name, entry.dims("shape")?))
        }
        "group_norm" => {
            keys(&["groups", "channels"])?;
            let (groups, channels) = (entry.count("groups")?, entry.count("channels")?);
            if groups == 0 || !channels.is_multiple_of(groups) {
                return Err(entry.error("groups", format!("a positive divisor of channels = {channels}")));
            }
            Ok(layers::norm_affine(name, vec![channels]))
        }
        "batch_norm" | "batch_norm1d" | "batch_norm2d" | "batch_norm3d" => {
            keys(&["features"])?;
            Ok(layers::batch_norm(name, entry.count("features")?))
        }
        "multihead_attention" => {
            keys(&["embed_dim", "num_heads", "bias"])?;
            layers::multihead_attention(name, entry.count("embed_dim")?, entry.count("num_heads")?, entry.flag_or("bias", true)?)
        }
        other => Err(entry.error(
            "layer",
            format!(
                "an unknown layer {other:?}; one of linear, bilinear, conv1d, conv2d, conv3d, conv_transpose1d, \
                 conv_transpose2d, conv_transpose3d, embedding, rnn, lstm, gru, layer_norm, group_norm, batch_norm, \
                 multihead_attention"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tensors_and_layers() {
        let tensors = parse_model_json(
            r#"[
                {"name": "embed.weight", "shape": [100, 8], "init": "normal(std=0.02)", "dtype": "bf16"},
                {"layer": "linear", "name": "fc1", "in": 784, "out": 256, "bias": true},
                {"layer": "conv2d", "name": "conv", "in": 3, "out": 16, "kernel": [3, 5]},
                {"layer": "batch_norm", "name": "bn", "features": 16},
                {"layer": "lstm", "name": "rnn", "input": 8, "hidden": 4}
            ]"#,
        )
        .unwrap();
        let names: Vec<&str> = tensors
            .iter()
            .map(|t| t.tensor.param.name.as_str())
            .collect();
        assert_eq!(
            &names[..5],
            [
                "embed.weight",
                "fc1.weight",
                "fc1.bias",
                "conv.weight",
                "conv.bias"
            ]
        );
        assert_eq!(tensors[0].dtype, Some(Dtype::Bf16));
        assert_eq!(tensors[3].tensor.param.shape, [16, 3, 3, 5]);
        assert_eq!(names.len(), 5 + 5 + 4);
    }

    #[test]
    fn rejects_malformed_entries() {
        for bad in [
            "not json",
            "{}",
            "[]",
            "[1]",
            r#"[{"name": "w", "shape": [2], "init": "normal", "colour": "red"}]"#,
            r#"[{"name": "w", "shape": [2]}]"#,
            r#"[{"name": "w", "shape": "2", "init": "normal"}]"#,
            r#"[{"name": "w", "shape": [-2], "init": "normal"}]"#,
            r#"[{"name": "w", "shape": [2], "init": "normal(std=-1)"}]"#,
            r#"[{"name": "w", "shape": [2], "init": "normal", "dtype": "f64"}]"#,
            r#"[{"name": "w", "shape": [2], "init": "normal"}, {"name": "w", "shape": [3], "init": "zeros"}]"#,
            r#"[{"layer": "linear", "name": "fc", "in": 4, "out": 2}, {"layer": "linear", "name": "fc", "in": 4, "out": 2}]"#,
            r#"[{"layer": "transformer", "name": "t"}]"#,
            r#"[{"layer": "linear", "name": "fc", "in": 4}]"#,
            r#"[{"layer": "linear", "name": "fc", "in": 4, "out": 2, "bias": "yes"}]"#,
            r#"[{"layer": "conv2d", "name": "c", "in": 4, "out": 2, "kernel": [3]}]"#,
            r#"[{"layer": "conv2d", "name": "c", "in": 4, "out": 2, "kernel": 3, "groups": 3}]"#,
            r#"[{"layer": "embedding", "name": "e", "num": 4, "dim": 2, "padding_idx": 4}]"#,
            // Found by the fuzzer: sizes whose products overflow, and unbounded stacking.
            r#"[{"layer":"conv3d","name":"","in":3,"out":1,"kernel":9999916}]"#,
            r#"[{"layer":"lstm","name":"r","input":1,"hidden":18446744073709551615}]"#,
            r#"[{"layer":"multihead_attention","name":"a","embed_dim":9223372036854775807,"num_heads":1}]"#,
            r#"[{"layer":"rnn","name":"r","input":1,"hidden":1,"num_layers":100000000000}]"#,
        ] {
            assert!(parse_model_json(bad).is_err(), "{bad} was accepted");
        }
    }
}
