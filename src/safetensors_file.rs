//! `.safetensors` output with the metadata `nninit verify` needs to regenerate every tensor:
//! `nninit.version`, `nninit.contract`, and per tensor `nninit.tensor.<name>`, a JSON object with
//! its spec, seed, stream, layout, dtype, shape and (for a partial tensor) element range.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::TensorView;
use serde_json::json;

use crate::atomic_file::write_atomically;
use crate::error::{Error, Result};
use crate::stream::{CONTRACT_VERSION, StreamId};

/// One tensor to write: its bytes (little-endian) and how it was made.
#[derive(Debug, Clone)]
pub struct TensorRecord {
    /// Tensor name (the safetensors key).
    pub name: String,
    /// safetensors dtype name: `F32`, `F16`, `BF16`, `I64`.
    pub dtype: safetensors::Dtype,
    /// Shape as stored.
    pub shape: Vec<u64>,
    /// Little-endian element bytes.
    pub bytes: Vec<u8>,
    /// The init spec string it was drawn from.
    pub spec: String,
    /// Seed and stream.
    pub stream: StreamId,
    /// Fan layout name (`torch`, `jax`, `keras`).
    pub layout: String,
    /// Elements of the full tensor's row-major flattening held here, when not the whole tensor.
    pub range: Option<(u64, u64)>,
}

/// Metadata key of a tensor's record.
pub fn tensor_key(name: &str) -> String {
    format!("nninit.tensor.{name}")
}

/// Writes `tensors` to `path` atomically (temporary file, then rename).
pub fn write(path: &Path, tensors: &[TensorRecord]) -> Result<()> {
    let mut metadata = HashMap::from([
        (
            "nninit.version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
        ("nninit.contract".to_string(), CONTRACT_VERSION.to_string()),
    ]);
    let mut views = Vec::with_capacity(tensors.len());
    for tensor in tensors {
        let record = json!({
            "spec": tensor.spec,
            "seed": tensor.stream.seed.to_string(),
            "stream": tensor.stream.stream.to_string(),
            "layout": tensor.layout,
            "dtype": tensor.dtype.to_string(),
            "shape": tensor.shape,
            "range": tensor.range.map(|(a, b)| [a, b]),
        });
        metadata.insert(tensor_key(&tensor.name), record.to_string());
        let shape = tensor.shape.iter().map(|&d| d as usize).collect();
        let view = TensorView::new(tensor.dtype, shape, &tensor.bytes)
            .map_err(|e| Error::invalid("tensor", &tensor.name, e.to_string()))?;
        views.push((tensor.name.as_str(), view));
    }
    let bytes = safetensors::serialize(views, Some(metadata))
        .map_err(|e| Error::invalid("tensors", path.display(), e.to_string()))?;
    write_atomically(path, |file| {
        use std::io::Write;
        file.write_all(&bytes).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })
    })
}
