//! `.safetensors` output, streamed: the header (names, dtypes, shapes, offsets and metadata) is
//! known before any data, so tensors are produced and written one at a time and the model is
//! never held twice in host memory. The file is written to a temporary name and renamed into
//! place only when complete.
//!
//! Metadata: `"format": "pt"`, which transformers' loaders require, and for `nninit verify`:
//! `nninit.version`, `nninit.contract`, and per tensor
//! `nninit.tensor.<name>`, a JSON object with its spec, seed, stream, layout, dtype, full shape,
//! the element range held (for a partial tensor or shard) or the box held (`box`, one
//! `[start, end]` per dimension, for a rank's slice), and the row zeroed after drawing
//! (`Embedding(padding_idx)`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde_json::json;

pub use crate::verify::Header;

use crate::contract::stream::{CONTRACT_VERSION, StreamId};
use crate::error::{Error, Result};
use crate::model::atomic_file::{start_writeback, write_atomically_direct};
use crate::verify::tensor_key;

/// One tensor to write and how it was made.
#[derive(Debug, Clone)]
pub struct TensorRecord {
    /// Tensor name (the safetensors key).
    pub name: String,
    /// safetensors dtype: `F32`, `F16`, `BF16`, `I64`.
    pub dtype: safetensors::Dtype,
    /// Shape as stored (a partial tensor stores a 1-D range, a shard its rows).
    pub shape: Vec<u64>,
    /// The full tensor's shape, when it differs from `shape`.
    pub full_shape: Option<Vec<u64>>,
    /// The init spec string it was drawn from.
    pub spec: String,
    /// Seed and stream.
    pub stream: StreamId,
    /// Fan layout name (`torch`, `jax`, `keras`).
    pub layout: String,
    /// Elements of the full tensor's row-major flattening held here, when a contiguous part.
    pub range: Option<(u64, u64)>,
    /// The range held of each dimension, when a box (a rank's slice) that is not the whole.
    pub ranges: Option<Vec<(u64, u64)>>,
    /// A dim-0 row set to zero after drawing.
    pub zero_row: Option<u64>,
}

impl TensorRecord {
    /// Bytes of its data.
    pub fn byte_len(&self) -> Result<u64> {
        let bytes = self.dtype.bitsize() as u64 / 8;
        self.shape
            .iter()
            .try_fold(bytes, |n, &d| n.checked_mul(d))
            .ok_or_else(|| {
                Error::invalid(
                    "shape",
                    format!("{:?}", self.shape),
                    "byte size must fit in u64",
                )
            })
    }
}

/// Writes `records` to `path`: `extra_metadata` joins the file's metadata, and `data(i)` is
/// called once per record, in order, for its little-endian bytes.
pub fn write(
    path: &Path,
    records: &[TensorRecord],
    extra_metadata: &[(String, String)],
    mut data: impl FnMut(usize) -> Result<Vec<u8>>,
) -> Result<()> {
    write_streamed(path, records, extra_metadata, |index, sink| {
        sink(&data(index)?)
    })
}

/// [`write()`] with each tensor's bytes given in pieces: `data(i, sink)` is called once per record,
/// in order, and passes the record's little-endian bytes to `sink` in as many consecutive pieces
/// as it likes, so no tensor need be whole in memory. A record whose pieces do not add up to its
/// size is an error, and the file is then not written.
pub fn write_streamed(
    path: &Path,
    records: &[TensorRecord],
    extra_metadata: &[(String, String)],
    mut data: impl FnMut(usize, &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<()>,
) -> Result<()> {
    let header_bytes = header(records, extra_metadata)?;
    let io_error = |source| Error::Io {
        path: path.display().to_string(),
        source,
    };
    write_atomically_direct(path, |file| {
        file.write_all(&(header_bytes.len() as u64).to_le_bytes())
            .map_err(io_error)?;
        file.write_all(&header_bytes).map_err(io_error)?;
        let mut unflushed = 0usize;
        for (index, record) in records.iter().enumerate() {
            let expected = record.byte_len()?;
            let mut written = 0u64;
            data(index, &mut |piece: &[u8]| {
                written += piece.len() as u64;
                if written > expected {
                    return Err(too_many(record, expected));
                }
                file.write_all(piece).map_err(io_error)?;
                unflushed += piece.len();
                // Written through the page cache (a file system without direct writes): start
                // the disk's writeback now rather than all of it at the final fsync.
                if unflushed >= WRITEBACK_BYTES && !file.is_direct() {
                    start_writeback(file.get_ref());
                    unflushed = 0;
                }
                Ok(())
            })?;
            if written != expected {
                return Err(Error::invalid(
                    "tensor data",
                    &record.name,
                    format!("{written} bytes were produced for {expected} expected"),
                ));
            }
        }
        Ok(())
    })
}

/// Bytes written between two requests to start writeback, where writes go through the page
/// cache: the disk writes the file while the rest is drawn, instead of all of it at the final
/// `fsync`.
const WRITEBACK_BYTES: usize = 32 << 20;

fn too_many(record: &TensorRecord, expected: u64) -> Error {
    Error::invalid(
        "tensor data",
        &record.name,
        format!("more than the {expected} bytes expected were produced"),
    )
}

/// The JSON header, padded with spaces so that the data starts 8-byte aligned.
fn header(records: &[TensorRecord], extra_metadata: &[(String, String)]) -> Result<Vec<u8>> {
    let mut metadata: BTreeMap<String, String> = extra_metadata.iter().cloned().collect();
    // PyTorch's loaders, transformers' among them, refuse a file without it.
    metadata.insert("format".into(), "pt".into());
    metadata.insert("nninit.version".into(), env!("CARGO_PKG_VERSION").into());
    metadata.insert("nninit.contract".into(), CONTRACT_VERSION.to_string());
    let mut header = serde_json::Map::new();
    let mut offset = 0u64;
    for record in records {
        let mut record_json = json!({
            "spec": record.spec,
            "seed": record.stream.seed.to_string(),
            "stream": record.stream.stream.to_string(),
            "layout": record.layout,
            "dtype": record.dtype.to_string(),
            "shape": record.full_shape.as_ref().unwrap_or(&record.shape),
            "range": record.range.map(|(a, b)| [a, b]),
            "zero_row": record.zero_row,
        });
        if let Some(ranges) = &record.ranges {
            record_json["box"] = json!(ranges.iter().map(|&(a, b)| [a, b]).collect::<Vec<_>>());
        }
        metadata.insert(tensor_key(&record.name), record_json.to_string());
        let end = offset + record.byte_len()?;
        let entry = json!({"dtype": record.dtype.to_string(), "shape": record.shape, "data_offsets": [offset, end]});
        if header.insert(record.name.clone(), entry).is_some() {
            return Err(Error::invalid(
                "tensor name",
                &record.name,
                "names must be unique",
            ));
        }
        offset = end;
    }
    header.insert("__metadata__".into(), json!(metadata));
    let mut header_bytes = serde_json::Value::Object(header).to_string().into_bytes();
    header_bytes.resize(header_bytes.len().next_multiple_of(8), b' ');
    Ok(header_bytes)
}
