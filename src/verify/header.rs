//! A safetensors file's header, read without its data: what each tensor says it is (dtype,
//! shape, data offsets) and the file's metadata, where nninit keeps each tensor's claim.

use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// A safetensors file's header: each tensor's (dtype, shape, data offsets) and the metadata,
/// and where its data starts.
pub struct Header {
    /// Tensor name → its header entry.
    pub tensors: Map<String, Value>,
    /// `__metadata__`.
    pub metadata: Map<String, Value>,
    /// Byte offset of the data.
    pub data_start: u64,
}

impl Header {
    /// Reads the header of the file at `path`.
    pub fn read(path: &Path) -> Result<Header> {
        let io = |source| Error::Io {
            path: path.display().to_string(),
            source,
        };
        let bad = |reason: String| Error::Parse {
            what: "safetensors header",
            input: path.display().to_string(),
            reason,
        };
        let mut file = File::open(path).map_err(io)?;
        let mut len = [0u8; 8];
        file.read_exact(&mut len).map_err(io)?;
        let len = u64::from_le_bytes(len);
        if len > 100 << 20 {
            return Err(bad(format!("a header of {len} bytes")));
        }
        let mut text = vec![0u8; len as usize];
        file.read_exact(&mut text).map_err(io)?;
        let Ok(Value::Object(mut tensors)) = serde_json::from_slice::<Value>(&text) else {
            return Err(bad("the header is not a JSON object".into()));
        };
        let metadata = match tensors.remove("__metadata__") {
            Some(Value::Object(metadata)) => metadata,
            _ => Map::new(),
        };
        Ok(Header {
            tensors,
            metadata,
            data_start: 8 + len,
        })
    }

    /// The byte range of tensor `name`'s data in the file.
    pub fn data_range(&self, name: &str) -> Option<Range<u64>> {
        let offsets = self.tensors.get(name)?["data_offsets"].as_array()?;
        let (start, end) = (offsets.first()?.as_u64()?, offsets.get(1)?.as_u64()?);
        Some(self.data_start + start..self.data_start + end)
    }
}
