//! The feature spec: how a row of named values (a JS object, a JSON object) becomes a model's
//! input tensors.
//!
//! ```json
//! { "format": "hearth.features", "version": 1, "layout": "columns",
//!   "features": [
//!     { "name": "pageValues", "kind": "number", "input": "PageValues", "default": "NaN" },
//!     { "name": "month", "kind": "category", "input": "Month",
//!       "vocabulary": ["Feb", "Mar", "Nov"], "unknown": "error" },
//!     { "name": "weekend", "kind": "boolean", "input": "Weekend" } ] }
//! ```
//!
//! Every field (camelCase in JSON):
//! - `layout`: `"columns"` — one model input per feature, each `[N, 1]` (or `[N]`) of float32,
//!   float64, int64, int32, string or bool, as skl2onnx writes a `ColumnTransformer`'s inputs; or
//!   `"matrix"` — one float32/float64 input `[N, K]` (`input` names it), each feature one column.
//! - `features[]`: `name` (the row's key), `kind` (`number` | `category` | `boolean`), and
//!   - `input` (columns layout): the model input it feeds; defaults to `name`;
//!   - `column` (matrix layout): its column; defaults to its position in `features`;
//!   - `vocabulary` (categories): the known values, strings or integers;
//!   - `codes` (a category feeding a number): the number written for each vocabulary entry;
//!     defaults to the entry's index (a string input gets the value itself, an int64 input an
//!     integer value or its code);
//!   - `default`: the value used when the row lacks the field (absent, `null` or `undefined`);
//!     a number, a string (a category, or `"NaN"` for a number: the model's missing value, as a
//!     `SimpleImputer` or a tree's missing-value track reads it) or a boolean. Without it a
//!     missing field is an error;
//!   - `unknown` (categories): a value not in `vocabulary` is an `"error"` (the default),
//!     becomes the `"default"`, or is passed to the model as it is (`"ignore"`: a string or
//!     int64 input gets the value, a number input NaN; a `OneHotEncoder` with `zeros=1` writes
//!     zeros for it);
//!   - `allowNonFinite` (numbers): NaN and ±Infinity are accepted; by default they are errors.
//! - `classes` (optional): the class labels of a probability output that is a plain `[N, C]`
//!   tensor, when the graph does not say them (a ZipMap's or a classifier node's labels are read
//!   from the model).
//!
//! The spec travels in the model's `metadata_props` under [`METADATA_KEY`] (`hearth spec
//! --embed` writes it there) or is given beside the model.

use crate::error::{Error, Result};
use crate::onnx::proto::StringStringEntryProto;
use serde::{Deserialize, Serialize};

/// The `metadata_props` key holding a model's feature spec (JSON).
pub const METADATA_KEY: &str = "hearth.features";

/// The value of `format` in a spec.
pub const FORMAT: &str = "hearth.features";

/// A feature spec (see the module documentation for every field).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeatureSpec {
    #[serde(default = "format_name")]
    pub format: String,
    #[serde(default = "one")]
    pub version: u32,
    pub layout: Layout,
    /// The matrix input (matrix layout only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    pub features: Vec<Feature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<Vec<Category>>,
}

fn format_name() -> String {
    FORMAT.into()
}

fn one() -> u32 {
    1
}

/// How features map to the model's inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Layout {
    /// One `[N, 1]` input per feature.
    Columns,
    /// One float `[N, K]` input, a column per feature.
    Matrix,
}

/// What a feature's values are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Kind {
    Number,
    Category,
    Boolean,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Number => "number",
            Kind::Category => "category",
            Kind::Boolean => "boolean",
        }
    }
}

/// What a category value outside the vocabulary does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Unknown {
    #[default]
    Error,
    Default,
    Ignore,
}

/// A category value (or class label): a string or an integer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Category {
    Int(i64),
    Str(String),
}

impl std::fmt::Display for Category {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Category::Int(i) => write!(f, "{i}"),
            Category::Str(s) => write!(f, "'{s}'"),
        }
    }
}

/// A default value: a number, a string or a boolean.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DefaultValue {
    Bool(bool),
    Int(i64),
    Number(f64),
    Str(String),
}

/// One named feature.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Feature {
    pub name: String,
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vocabulary: Option<Vec<Category>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codes: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<DefaultValue>,
    #[serde(default, skip_serializing_if = "is_error")]
    pub unknown: Unknown,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_non_finite: bool,
}

fn is_error(u: &Unknown) -> bool {
    *u == Unknown::Error
}

impl Feature {
    /// A feature of `kind` named `name` with every option at its default.
    pub fn new(name: impl Into<String>, kind: Kind) -> Feature {
        Feature {
            name: name.into(),
            kind,
            input: None,
            column: None,
            vocabulary: None,
            codes: None,
            default: None,
            unknown: Unknown::Error,
            allow_non_finite: false,
        }
    }
}

impl FeatureSpec {
    /// Parses a spec from JSON; a malformed one is [`Error::Spec`] naming the field
    /// (`features[2].kind: unknown variant ...`).
    pub fn from_json(json: &str) -> Result<FeatureSpec> {
        let spec: FeatureSpec = serde_json::from_str(json)
            .map_err(|e| Error::Spec(format!("not a feature spec: {e}")))?;
        if spec.format != FORMAT {
            return Err(Error::Spec(format!(
                "format is '{}', expected '{FORMAT}'",
                spec.format
            )));
        }
        if spec.version != 1 {
            return Err(Error::Spec(format!(
                "version {} is not one this build reads (1)",
                spec.version
            )));
        }
        Ok(spec)
    }

    /// The spec as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The spec carried in an ONNX model's `metadata_props` under [`METADATA_KEY`], if any
    /// (only the model's top-level fields are read, not its graph).
    pub fn from_model_metadata(model: &[u8]) -> Result<Option<FeatureSpec>> {
        match metadata_value(model, METADATA_KEY)? {
            Some(json) => FeatureSpec::from_json(&json)
                .map(Some)
                .map_err(|e| Error::Spec(format!("the model's '{METADATA_KEY}' metadata: {e}"))),
            None => Ok(None),
        }
    }
}

/// Only the `metadata_props` of a `ModelProto` (field 14): prost skips the graph's bytes.
#[derive(Clone, PartialEq, prost::Message)]
struct ModelMetadata {
    #[prost(message, repeated, tag = "14")]
    metadata_props: Vec<StringStringEntryProto>,
}

/// The value of `key` in a model's `metadata_props`.
pub fn metadata_value(model: &[u8], key: &str) -> Result<Option<String>> {
    use prost::Message;
    let m = ModelMetadata::decode(model)
        .map_err(|e| Error::model(format!("not an ONNX model ({e})")))?;
    Ok(m.metadata_props
        .into_iter()
        .find(|p| p.key.as_deref() == Some(key))
        .and_then(|p| p.value))
}
