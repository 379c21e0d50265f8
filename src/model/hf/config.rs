//! Reading a Hugging Face `config.json`: typed fields with the class's default where the file
//! leaves one out, each error naming the field and what it may be.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// A parsed `config.json` object.
pub struct Config<'a> {
    fields: &'a Map<String, Value>,
    /// Other names of a field, as the class's `attribute_map` gives them (GPT-2's `n_embd` is
    /// also `hidden_size`): `(name, alias)`.
    aliases: &'static [(&'static str, &'static str)],
}

impl<'a> Config<'a> {
    /// The fields of `fields`, with `aliases` for some of them.
    pub fn new(
        fields: &'a Map<String, Value>,
        aliases: &'static [(&'static str, &'static str)],
    ) -> Self {
        Self { fields, aliases }
    }

    /// The field's value; `null` counts as absent, as it does for transformers' `None` defaults.
    fn get(&self, name: &str) -> Option<&'a Value> {
        let found = self.fields.get(name).or_else(|| {
            self.aliases
                .iter()
                .filter(|(field, _)| *field == name)
                .find_map(|(_, alias)| self.fields.get(*alias))
        });
        found.filter(|value| !value.is_null())
    }

    /// An error for field `name`, naming what it may be.
    pub fn error(&self, name: &str, allowed: impl Into<String>) -> Error {
        let value = self
            .get(name)
            .map_or("missing".to_string(), Value::to_string);
        Error::invalid(format!("config.json {name}"), value, allowed)
    }

    /// A count ≥ 1, or `default` when absent.
    pub fn count(&self, name: &str, default: u64) -> Result<u64> {
        Ok(self.optional_count(name)?.unwrap_or(default))
    }

    /// A count ≥ 1, or `None` when absent or `null`.
    pub fn optional_count(&self, name: &str) -> Result<Option<u64>> {
        match self.get(name) {
            None => Ok(None),
            Some(value) => match value.as_u64() {
                Some(n) if n >= 1 => Ok(Some(n)),
                _ => Err(self.error(name, "an integer ≥ 1")),
            },
        }
    }

    /// Whether the file gives `name` as `null`, which transformers reads as `None`: not the
    /// same as leaving it out where the class's default is not `None`.
    pub fn is_null(&self, name: &str) -> bool {
        self.fields.get(name).is_some_and(Value::is_null)
    }

    /// A layer count (`num_hidden_layers` and the like): an integer in 1 ..= [`MAX_LAYERS`], or
    /// `default` when absent. The builders write tensors for every layer, so the count bounds
    /// their work and memory.
    pub fn layers(&self, name: &str, default: u64) -> Result<u64> {
        match self.count(name, default) {
            Ok(layers) if layers <= MAX_LAYERS => Ok(layers),
            _ => Err(self.error(name, format!("an integer in [1, {MAX_LAYERS}]"))),
        }
    }

    /// A count where the class's default is `default` and `null` means `None`.
    pub fn count_or_none(&self, name: &str, default: Option<u64>) -> Result<Option<u64>> {
        if self.is_null(name) {
            return Ok(None);
        }
        Ok(self.optional_count(name)?.or(default))
    }

    /// The padding row of an `nn.Embedding(rows, …, padding_idx=pad_token_id)`: `default` when
    /// absent, none when `null`, and a negative id counted from the end, as PyTorch does.
    pub fn padding_row(&self, name: &str, default: Option<u64>, rows: u64) -> Result<Option<u64>> {
        if self.is_null(name) {
            return Ok(None);
        }
        let Some(value) = self.get(name) else {
            return Ok(default.filter(|&row| row < rows));
        };
        let allowed = || self.error(name, format!("null or an integer in [-{rows}, {rows})"));
        let id = value.as_i64().ok_or_else(allowed)?;
        let row = if id < 0 {
            i64::try_from(rows)
                .ok()
                .and_then(|rows| u64::try_from(rows + id).ok())
        } else {
            u64::try_from(id).ok().filter(|&row| row < rows)
        };
        row.map(Some).ok_or_else(allowed)
    }

    /// An integer ≥ 0, or `default` when absent.
    pub fn count_or_zero(&self, name: &str, default: u64) -> Result<u64> {
        match self.get(name) {
            None => Ok(default),
            Some(value) => value
                .as_u64()
                .ok_or_else(|| self.error(name, "an integer ≥ 0")),
        }
    }

    /// A list of layer indices, each below `layers`, or `None` when absent or `null`.
    pub fn layer_list(&self, name: &str, layers: u64) -> Result<Option<Vec<u64>>> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let allowed = || self.error(name, format!("a list of layer indices in [0, {layers})"));
        let items = value.as_array().ok_or_else(allowed)?;
        items
            .iter()
            .map(|item| item.as_u64().filter(|&l| l < layers).ok_or_else(allowed))
            .collect::<Result<Vec<u64>>>()
            .map(Some)
    }

    /// A finite number ≥ 0, or `default` when absent.
    pub fn number(&self, name: &str, default: f64) -> Result<f64> {
        match self.get(name) {
            None => Ok(default),
            Some(value) => value
                .as_f64()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| self.error(name, "a finite number ≥ 0")),
        }
    }

    /// `true` or `false`, or `default` when absent.
    pub fn flag(&self, name: &str, default: bool) -> Result<bool> {
        match self.get(name) {
            None => Ok(default),
            Some(value) => value
                .as_bool()
                .ok_or_else(|| self.error(name, "true or false")),
        }
    }

    /// A string, or `default` when absent.
    pub fn text(&self, name: &str, default: &'a str) -> Result<&'a str> {
        match self.get(name) {
            None => Ok(default),
            Some(value) => value.as_str().ok_or_else(|| self.error(name, "a string")),
        }
    }

    /// An integer ≥ 1 or a pair of them (ViT's `image_size` and `patch_size`), as (height, width).
    pub fn size_pair(&self, name: &str, default: u64) -> Result<(u64, u64)> {
        let allowed = "an integer ≥ 1 or a list of two";
        match self.get(name) {
            None => Ok((default, default)),
            Some(Value::Array(items)) => match items.as_slice() {
                [h, w] => match (h.as_u64(), w.as_u64()) {
                    (Some(h), Some(w)) if h >= 1 && w >= 1 => Ok((h, w)),
                    _ => Err(self.error(name, allowed)),
                },
                _ => Err(self.error(name, allowed)),
            },
            Some(_) => {
                let n = self
                    .count(name, default)
                    .map_err(|_| self.error(name, allowed))?;
                Ok((n, n))
            }
        }
    }

    /// Fails unless `name` is absent or `expected`: a field whose other values would add tensors
    /// nninit does not write.
    pub fn require_flag(&self, name: &str, expected: bool) -> Result<()> {
        if self.flag(name, expected)? != expected {
            return Err(self.error(name, format!("{expected} (the only value nninit supports)")));
        }
        Ok(())
    }

    /// The number of labels of a classification head: `id2label`'s size, else `num_labels`,
    /// else 2 (transformers' default).
    pub fn num_labels(&self) -> Result<u64> {
        match self.get("id2label") {
            Some(Value::Object(labels)) => Ok(labels.len() as u64),
            Some(_) => Err(self.error("id2label", "an object mapping label ids to names")),
            None => match self.get("num_labels") {
                None => Ok(2),
                Some(value) => value
                    .as_u64()
                    .ok_or_else(|| self.error("num_labels", "an integer ≥ 0")),
            },
        }
    }
}

/// The attention head width: `head_dim` (the class's `default` when absent, none when `null`),
/// else `hidden_size / num_attention_heads`, which must then divide evenly.
pub fn head_dim(config: &Config<'_>, default: Option<u64>, hidden: u64, heads: u64) -> Result<u64> {
    match config.count_or_none("head_dim", default)? {
        Some(head_dim) => Ok(head_dim),
        None => divide(
            config,
            ("hidden_size", hidden),
            ("num_attention_heads", heads),
        ),
    }
}

/// `numerator / divisor`, or an error naming both fields when it does not divide evenly.
pub fn divide(config: &Config<'_>, numerator: (&str, u64), divisor: (&str, u64)) -> Result<u64> {
    if !numerator.1.is_multiple_of(divisor.1) {
        return Err(config.error(
            numerator.0,
            format!("a multiple of {} = {}", divisor.0, divisor.1),
        ));
    }
    Ok(numerator.1 / divisor.1)
}

/// `a × b` for sizes, or an error naming `what` when the product does not fit.
pub fn times(config: &Config<'_>, what: &str, a: u64, b: u64) -> Result<u64> {
    a.checked_mul(b)
        .filter(|&n| n <= MAX_DIM)
        .ok_or_else(|| config.error(what, format!("sizes whose product is at most {MAX_DIM}")))
}

/// The largest dimension or element count nninit accepts from a config: 2⁵³, so every count is
/// exact in the f64 arithmetic of the recipes and every byte size fits in u64.
pub const MAX_DIM: u64 = 1 << 53;

/// The most layers a config may give a stack (`num_hidden_layers`, T5's `num_layers` and
/// `num_decoder_layers`, GPT-2's `n_layer`): far deeper than published models (Llama 3.1 405B
/// has 126 layers), and the bound a model JSON's recurrent layers have
/// (`crate::scheme::layers::MAX_RECURRENT_LAYERS`).
pub const MAX_LAYERS: u64 = 1024;
