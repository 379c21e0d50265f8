//! Pipeline stages: which of a model's tensors one stage holds. Every tensor keeps the stream of
//! its own name, so a stage written on its own holds exactly the one-process values (no
//! framework keeps this: each seeds its stages apart).
//!
//! A stack of `L` layers is cut into `N` contiguous runs, stage `k` holding layers
//! `[k·L/N, (k+1)·L/N)` (rounded down, as torch's `tensor_split`): the token, position and
//! segment embeddings go with the first stage; the final norm, the output head and every other
//! tensor outside the layers with the last.

use std::fmt;
use std::ops::Range;

use crate::error::{Error, Result};
use crate::model::json::FileTensor;
use crate::model::role::Role;

/// The metadata key naming the stage a file holds (`1 of 4`).
pub const STAGE_KEY: &str = "nninit.pipeline_stage";

/// Stage `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stage {
    /// Which stage, from 0.
    pub index: u64,
    /// How many stages.
    pub count: u64,
}

impl Stage {
    /// Stage `index` of `count` (`--pp-rank`, `--pp`).
    pub fn new(index: u64, count: u64) -> Result<Stage> {
        if count == 0 {
            return Err(Error::invalid("pp", count, "at least 1 pipeline stage"));
        }
        if index >= count {
            return Err(Error::invalid(
                "pp-rank",
                index,
                format!("a stage below --pp, {count}"),
            ));
        }
        Ok(Stage { index, count })
    }

    /// The layers of a stack of `depth` this stage holds.
    pub fn layers(&self, depth: u64) -> Range<u64> {
        let bound = |k: u64| k * depth / self.count;
        bound(self.index)..bound(self.index + 1)
    }

    /// Keeps only the tensors of this stage, in their order. Every tensor needs a role, and the
    /// stack at least one layer per stage.
    pub fn keep(&self, tensors: &mut Vec<FileTensor>) -> Result<()> {
        let depth = tensors
            .iter()
            .filter_map(|t| t.tensor.role.map(|r| r.depth))
            .max()
            .unwrap_or(0);
        if depth < self.count {
            return Err(Error::invalid(
                "pp",
                self.count,
                format!("at most the model's {depth} layers (a stage holds whole layers)"),
            ));
        }
        if let Some(bare) = tensors.iter().find(|t| t.tensor.role.is_none()) {
            return Err(Error::invalid(
                "pp",
                self.count,
                format!(
                    "a model whose tensors all have roles; {} has none",
                    bare.tensor.param.name
                ),
            ));
        }
        let layers = self.layers(depth);
        let last = self.index + 1 == self.count;
        tensors.retain(|t| {
            let role = t.tensor.role.expect("checked above");
            match role.layer {
                Some(layer) => layers.contains(&layer),
                None if is_input(role.role) => self.index == 0,
                None => last,
            }
        });
        Ok(())
    }
}

/// The tensors the first stage takes in with the tokens.
fn is_input(role: Role) -> bool {
    matches!(
        role,
        Role::Embedding
            | Role::PositionEmbedding
            | Role::TokenTypeEmbedding
            | Role::PatchEmbedding
            | Role::ClassToken
    )
}

impl fmt::Display for Stage {
    /// `1 of 4`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of {}", self.index, self.count)
    }
}
