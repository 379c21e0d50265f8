//! A sharded run's directory: one `rank-RRRRR-of-WWWWW.safetensors` per rank, each holding its
//! box of every tensor, and `manifest.json`, written by rank 0 once every rank's file is in
//! place: each tensor's global shape, dtype and placements, and the box every rank holds.
//!
//! [`check_ranks`] reads a directory back against its manifest (what `nninit verify DIR`
//! does before verifying each tensor); [`assemble`] places the boxes back into the unsharded
//! file, byte for byte the file an unsharded `nninit init` writes.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{ExpertPlacement, Mesh, Placement};
use crate::contract::slice::Slice;
use crate::contract::stream::StreamId;
use crate::error::{Error, Result};
use crate::model::atomic_file::write_text;
use crate::model::pipeline::STAGE_KEY;
use crate::model::recipe::RECIPE_KEY;
use crate::model::run::RUN_KEY;
pub use crate::model::safetensors::Header;
use crate::model::safetensors::{TensorRecord, write_streamed};
use crate::verify::tensor_key;

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";

/// The file of `rank` of `world_size` ranks: `rank-00003-of-00008.safetensors`.
pub fn rank_file_name(rank: u64, world_size: u64) -> String {
    format!("rank-{rank:05}-of-{world_size:05}.safetensors")
}

/// One tensor of a sharded model: its global shape and dtype, and its placement over each mesh
/// dimension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedTensor {
    /// Its name.
    pub name: String,
    /// Its global shape.
    pub shape: Vec<u64>,
    /// Its safetensors dtype (`F32`, `BF16`, `I64`, …).
    pub dtype: String,
    /// Over the tensor-parallel ranks.
    pub tp: Placement,
    /// Over the data-parallel ranks.
    pub dp: Placement,
    /// Over the expert-parallel ranks: a routed expert's tensor on a mesh with `ep > 1`.
    pub ep: Option<ExpertPlacement>,
}

/// Every tensor of a model placed on a mesh: what a manifest says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The model's name (a preset, a JSON file's stem, or the config's class).
    pub model: String,
    /// The seed.
    pub seed: u64,
    /// The run that wrote the rank files (`nninit.run` in each), where one did.
    pub run: Option<String>,
    /// The mesh.
    pub mesh: Mesh,
    /// The tensors, in file order.
    pub tensors: Vec<PlacedTensor>,
}

impl Manifest {
    /// The box of `tensor` that `rank` holds.
    pub fn slice(&self, tensor: &PlacedTensor, rank: u64) -> Slice {
        match tensor.ep {
            None => self.mesh.slice(&tensor.shape, tensor.tp, rank),
            Some(ep) => self.mesh.expert_slice(&tensor.shape, tensor.tp, ep, rank),
        }
    }

    /// The rank files, in rank order.
    pub fn files(&self) -> Vec<String> {
        let world = self.mesh.world_size();
        (0..world).map(|rank| rank_file_name(rank, world)).collect()
    }

    /// The manifest as JSON text.
    pub fn to_json(&self) -> String {
        let world = self.mesh.world_size();
        let tensors: Vec<Value> = self
            .tensors
            .iter()
            .map(|tensor| {
                let ranks: Vec<Value> = (0..world)
                    .map(|rank| box_json(&self.slice(tensor, rank)))
                    .collect();
                let mut placements =
                    json!({"tp": tensor.tp.to_string(), "dp": tensor.dp.to_string()});
                if let Some(ep) = tensor.ep {
                    placements["ep"] = json!(ep.to_string());
                }
                json!({
                    "name": tensor.name,
                    "shape": tensor.shape,
                    "dtype": tensor.dtype,
                    "placements": placements,
                    "ranks": ranks,
                })
            })
            .collect();
        // Pretty-printed, but one line per tensor: a manifest has a box per tensor and rank.
        let mut manifest = json!({
            "format": "nninit-ranks",
            "version": 1,
            "model": self.model,
            "seed": self.seed.to_string(),
            "mesh": {
                "tp": self.mesh.tp,
                "dp": self.mesh.dp,
                "world_size": world,
                "rank_order": "tp fastest: rank = dp_rank * tp + tp_rank",
                "dims": ["tp", "dp"],
            },
            "files": self.files(),
            "tensors": [],
        });
        if let Some(run) = &self.run {
            manifest["run"] = json!(run);
        }
        if self.mesh.ep > 1 {
            manifest["mesh"]["ep"] = json!(self.mesh.ep);
            manifest["mesh"]["ep_rank"] = json!("dp_rank mod ep");
        }
        let text =
            serde_json::to_string_pretty(&manifest).expect("a JSON object always serializes");
        let lines: Vec<String> = tensors.iter().map(|t| format!("    {t}")).collect();
        let tensors = format!("\"tensors\": [\n{}\n  ]", lines.join(",\n"));
        let mut text = text.replacen("\"tensors\": []", &tensors, 1);
        text.push('\n');
        text
    }

    /// Reads `dir/manifest.json`.
    pub fn read(dir: &Path) -> Result<Manifest> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text, &path.display().to_string())
    }

    /// Parses a manifest's text; `source` names it in errors. A manifest must be exactly what
    /// [`Manifest::to_json`] writes for the model, mesh and placements it states.
    pub fn from_json(text: &str, source: &str) -> Result<Manifest> {
        let bad = |reason: &str| Error::Parse {
            what: "rank manifest",
            input: source.to_string(),
            reason: reason.to_string(),
        };
        let value: Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
        if value["format"] != "nninit-ranks" || value["version"] != 1 {
            return Err(bad("not an nninit-ranks version 1 manifest"));
        }
        let count = |v: &Value, what: &str| v.as_u64().ok_or_else(|| bad(what));
        let mesh = Mesh::new(
            count(&value["mesh"]["tp"], "mesh.tp is not a count")?,
            count(&value["mesh"]["dp"], "mesh.dp is not a count")?,
        )?;
        let mesh = match &value["mesh"]["ep"] {
            Value::Null => mesh,
            ep => mesh.with_ep(count(ep, "mesh.ep is not a count")?)?,
        };
        // One file and, per tensor, one box per rank, as `to_json` writes them: checked before
        // anything is computed per rank, so the work is bounded by the text's own size.
        let world = mesh.world_size() as usize;
        let one_per_rank = |v: &Value| v.as_array().is_some_and(|a| a.len() == world);
        if !one_per_rank(&value["files"]) {
            return Err(bad("its files are not one per rank of its mesh"));
        }
        let tensors = value["tensors"]
            .as_array()
            .ok_or_else(|| bad("no tensors list"))?
            .iter()
            .map(|t| {
                let shape = t["shape"]
                    .as_array()
                    .ok_or_else(|| bad("a tensor without a shape"))?
                    .iter()
                    .map(|d| count(d, "a shape holds a non-integer"))
                    .collect::<Result<Vec<u64>>>()?;
                let text =
                    |v: &Value, what: &str| v.as_str().map(str::to_string).ok_or_else(|| bad(what));
                if !one_per_rank(&t["ranks"]) {
                    return Err(bad("a tensor's boxes are not one per rank of its mesh"));
                }
                let tensor = PlacedTensor {
                    name: text(&t["name"], "a tensor without a name")?,
                    shape,
                    dtype: text(&t["dtype"], "a tensor without a dtype")?,
                    tp: Placement::parse(&text(&t["placements"]["tp"], "no tp placement")?)?,
                    dp: Placement::parse(&text(&t["placements"]["dp"], "no dp placement")?)?,
                    ep: match &t["placements"]["ep"] {
                        Value::Null => None,
                        ep => Some(ExpertPlacement::parse(&text(ep, "an ep placement")?)?),
                    },
                };
                // Boxes are computed from the placements: a Shard of a dimension the tensor
                // lacks, or a dp placement other than the mesh's, is refused first.
                let (name, shape) = (&tensor.name, &tensor.shape);
                match tensor.ep {
                    None => mesh.check_placements(name, shape, tensor.tp, tensor.dp)?,
                    Some(ep) => {
                        mesh.check_expert_placements(name, shape, tensor.tp, tensor.dp, ep)?
                    }
                }
                Ok(tensor)
            })
            .collect::<Result<Vec<_>>>()?;
        let manifest = Manifest {
            model: text_field(&value, "model").ok_or_else(|| bad("no model"))?,
            seed: text_field(&value, "seed")
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad("no seed"))?,
            run: text_field(&value, "run"),
            mesh,
            tensors,
        };
        // What a manifest says about each rank follows from the rest; it must agree.
        if manifest.to_json() != text {
            return Err(bad(
                "its files or boxes are not those of its mesh and placements",
            ));
        }
        Ok(manifest)
    }
}

/// A box as JSON: one `[start, end]` per dimension, as the manifest and the rank files' metadata
/// write it.
fn box_json(slice: &Slice) -> Value {
    json!(
        slice
            .ranges
            .iter()
            .map(|r| [r.start, r.end])
            .collect::<Vec<_>>()
    )
}

fn text_field(value: &Value, key: &str) -> Option<String> {
    value[key].as_str().map(str::to_string)
}

/// Writes `dir/manifest.json` (whole or not at all).
pub fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<()> {
    write_text(&dir.join(MANIFEST), &manifest.to_json())
}

/// Checks every rank file of `dir` against its manifest ([`check_rank_file`]) and returns the
/// manifest and the files.
pub fn check_ranks(dir: &Path) -> Result<(Manifest, Vec<PathBuf>)> {
    let (manifest, files, _) = checked_ranks(dir)?;
    Ok((manifest, files))
}

/// [`check_ranks`], with each file's header as it was checked.
fn checked_ranks(dir: &Path) -> Result<(Manifest, Vec<PathBuf>, Vec<Header>)> {
    let manifest = Manifest::read(dir)?;
    let (mut files, mut headers) = (Vec::new(), Vec::new());
    for (rank, name) in manifest.files().iter().enumerate() {
        let path = dir.join(name);
        headers.push(check_rank_file(&manifest, rank as u64, &path)?);
        files.push(path);
    }
    Ok((manifest, files, headers))
}

/// Checks that `path` is the file of `rank` that `manifest` describes: of this rank and mesh
/// and seed, holding exactly the manifest's tensors in order, each with the dtype and box the
/// manifest gives the rank. Returns its header.
pub fn check_rank_file(manifest: &Manifest, rank: u64, path: &Path) -> Result<Header> {
    let world = manifest.mesh.world_size();
    let mismatch = |what: String| {
        Error::invalid(
            "rank file",
            path.display(),
            format!("what {MANIFEST} says rank {rank} holds: {what}"),
        )
    };
    let header = Header::read(path)?;
    let said = |key: &str| header.metadata.get(key).and_then(Value::as_str);
    let mesh = manifest.mesh.metadata();
    let mut expected = vec![
        ("nninit.rank", format!("{rank}/{world}")),
        ("nninit.mesh", mesh),
        ("nninit.seed", manifest.seed.to_string()),
    ];
    if let Some(run) = &manifest.run {
        expected.push((RUN_KEY, run.clone()));
    }
    for (key, value) in &expected {
        if said(key) != Some(value.as_str()) {
            return Err(mismatch(format!("{key} {value}")));
        }
    }
    if header.tensors.len() != manifest.tensors.len() {
        return Err(mismatch(format!("{} tensors", manifest.tensors.len())));
    }
    let mut previous_end = header.data_start;
    for tensor in &manifest.tensors {
        let slice = manifest.slice(tensor, rank);
        let entry = header
            .tensors
            .get(&tensor.name)
            .ok_or_else(|| mismatch(format!("a tensor {}", tensor.name)))?;
        let shape: Vec<u64> = entry["shape"]
            .as_array()
            .map(|dims| dims.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        if shape != slice.local_shape() || entry["dtype"] != tensor.dtype.as_str() {
            return Err(mismatch(format!(
                "{} as {} of shape {:?}",
                tensor.name,
                tensor.dtype,
                slice.local_shape()
            )));
        }
        let range = header
            .data_range(&tensor.name)
            .ok_or_else(|| mismatch(format!("data offsets of {}", tensor.name)))?;
        if range.start != previous_end {
            return Err(mismatch(format!("{} in manifest order", tensor.name)));
        }
        previous_end = range.end;
        let claimed_box = said(&tensor_key(&tensor.name))
            .and_then(|record| serde_json::from_str::<Value>(record).ok())
            .map(|record| record["box"].clone());
        let expected_box = if slice.is_whole() {
            Value::Null
        } else {
            box_json(&slice)
        };
        if claimed_box.unwrap_or(Value::Null) != expected_box {
            return Err(mismatch(format!(
                "the box {expected_box} of {}",
                tensor.name
            )));
        }
    }
    Ok(header)
}

/// Reassembles the rank files of `dir` into the unsharded `.safetensors` file `out`: every
/// tensor whole, in order, with the metadata an unsharded `nninit init` of the same model
/// writes, so the two files are byte-identical. Each box is read from the lowest rank holding
/// it; every other rank's copy of it (a replica) must be identical, or it is an error naming
/// both ranks. One tensor is in memory at a time.
pub fn assemble(dir: &Path, out: &Path) -> Result<AssembleSummary> {
    let (manifest, files, headers) = checked_ranks(dir)?;
    let first = &headers[0];
    let records: Vec<TensorRecord> = manifest
        .tensors
        .iter()
        .map(|tensor| whole_record(tensor, first))
        .collect::<Result<_>>()?;
    let mut opened: Vec<File> = files
        .iter()
        .map(|path| {
            File::open(path).map_err(|source| Error::Io {
                path: path.display().to_string(),
                source,
            })
        })
        .collect::<Result<_>>()?;
    let mut extra = vec![("nninit.seed".to_string(), manifest.seed.to_string())];
    // The run id of the ranks is the unsharded run's too (`InitJob::run_id`).
    if let Some(run) = &manifest.run {
        extra.push((RUN_KEY.to_string(), run.clone()));
    }
    // What the whole run's files say besides: the recipe, a pipeline stage.
    for key in [RECIPE_KEY, STAGE_KEY] {
        if let Some(value) = first.metadata.get(key).and_then(Value::as_str) {
            extra.push((key.to_string(), value.to_string()));
        }
    }
    let mut replicas_compared = 0u64;
    write_streamed(out, &records, &extra, |index, sink| {
        let tensor = &manifest.tensors[index];
        let size = dtype_bytes(&tensor.dtype)?;
        let numel: u64 = tensor.shape.iter().product();
        let mut whole = vec![0u8; (numel * size) as usize];
        // The first rank holding each box, by box.
        let mut placed: Vec<(Slice, usize, Vec<u8>)> = Vec::new();
        for (rank, file) in opened.iter_mut().enumerate() {
            let slice = manifest.slice(tensor, rank as u64);
            if slice.numel() == 0 {
                continue;
            }
            let range = headers[rank]
                .data_range(&tensor.name)
                .expect("check_ranks found it");
            let mut bytes = vec![0u8; (range.end - range.start) as usize];
            file.seek(SeekFrom::Start(range.start))
                .and_then(|_| file.read_exact(&mut bytes))
                .map_err(|source| Error::Io {
                    path: files[rank].display().to_string(),
                    source,
                })?;
            match placed.iter().find(|(s, _, _)| *s == slice) {
                Some((_, owner, first_copy)) => {
                    if *first_copy != bytes {
                        return Err(Error::invalid(
                            "rank files",
                            dir.display(),
                            format!(
                                "replicas that agree: ranks {owner} and {rank} hold different \
                                 values of {}",
                                tensor.name
                            ),
                        ));
                    }
                    replicas_compared += 1;
                }
                None => {
                    let mut at = 0usize;
                    for rows in slice.rows() {
                        for r in 0..rows.rows {
                            let row = rows.row(r);
                            let len = ((row.end - row.start) * size) as usize;
                            let start = (row.start * size) as usize;
                            whole[start..start + len].copy_from_slice(&bytes[at..at + len]);
                            at += len;
                        }
                    }
                    placed.push((slice, rank, bytes));
                }
            }
        }
        sink(&whole)
    })?;
    Ok(AssembleSummary {
        tensors: manifest.tensors.len() as u64,
        ranks: manifest.mesh.world_size(),
        replicas_compared,
    })
}

/// What [`assemble`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssembleSummary {
    /// Tensors written.
    pub tensors: u64,
    /// Rank files read.
    pub ranks: u64,
    /// Boxes found on more than one rank and compared equal.
    pub replicas_compared: u64,
}

/// The record of `tensor` whole, from its record in a rank file (`header`).
fn whole_record(tensor: &PlacedTensor, header: &Header) -> Result<TensorRecord> {
    let bad = |reason: &str| Error::Parse {
        what: "rank file metadata",
        input: tensor.name.clone(),
        reason: reason.to_string(),
    };
    let record: Value = header
        .metadata
        .get(&tensor_key(&tensor.name))
        .and_then(Value::as_str)
        .and_then(|text| serde_json::from_str(text).ok())
        .ok_or_else(|| bad("no nninit record"))?;
    let text = |key: &str| record[key].as_str().ok_or_else(|| bad(key));
    let number = |key: &str| text(key)?.parse::<u64>().map_err(|_| bad(key));
    Ok(TensorRecord {
        name: tensor.name.clone(),
        dtype: safetensors_dtype(&tensor.dtype)?,
        shape: tensor.shape.clone(),
        full_shape: None,
        spec: text("spec")?.to_string(),
        stream: StreamId::new(number("seed")?, number("stream")?),
        layout: text("layout")?.to_string(),
        range: None,
        ranges: None,
        zero_row: record["zero_row"].as_u64(),
    })
}

fn safetensors_dtype(name: &str) -> Result<safetensors::Dtype> {
    Ok(match name {
        "F32" => safetensors::Dtype::F32,
        "F16" => safetensors::Dtype::F16,
        "BF16" => safetensors::Dtype::BF16,
        "I64" => safetensors::Dtype::I64,
        other => {
            return Err(Error::invalid("dtype", other, "one of F32, F16, BF16, I64"));
        }
    })
}

fn dtype_bytes(name: &str) -> Result<u64> {
    Ok(safetensors_dtype(name)?.bitsize() as u64 / 8)
}
