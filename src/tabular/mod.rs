//! Tabular prediction from named features: rows of plain values (JS objects, JSON objects) →
//! the model's input tensors, one run for the batch → `{ label, probabilities }` or `{ value }`.
//!
//! A [`FeatureSpec`] (see [`spec`]) says how each named feature is encoded and which input it
//! feeds; a [`Predictor`] checks the spec against a [`Session`]'s inputs once, then encodes and
//! decodes every batch. The spec comes from the caller, from the model's `metadata_props`
//! ([`METADATA_KEY`]), or — where the model's inputs name the features unambiguously (one
//! `[N, 1]` input per column) — is derived from the inputs ([`SpecSource::Derived`]).
//! [`template`] writes a spec template from a model file (`hearth spec`).
//!
//! ```
//! # fn demo(model: &[u8]) -> hearth::Result<()> {
//! use hearth::tabular::Predictor;
//! let session = hearth::Session::from_bytes(model)?;
//! let p = Predictor::for_model(&session, Some(model), None)?;
//! let rows: Vec<serde_json::Value> = vec![serde_json::json!({ "PageValues": 12.3, "Month": "Nov" })];
//! let out = p.predict(&session, &rows[..])?;
//! println!("{:?} {:?}", out[0].label, out[0].probabilities);
//! # Ok(()) }
//! ```

pub mod spec;
pub mod template;

pub use spec::{
    Category, DefaultValue, Feature, FeatureSpec, Kind, Layout, Unknown, FORMAT, METADATA_KEY,
};

use crate::error::{Error, FeatureReason, Result};
use crate::ir::ops::ml::{Labels, MlOp};
use crate::ir::ops::Op;
use crate::ir::Dim;
use crate::session::Session;
use crate::tensor::{DType, Tensor, TensorData};
use std::collections::HashMap;

/// One field of one row, as the caller gave it.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    /// Absent, `null` or `undefined`.
    Missing,
    Number(f64),
    Bool(bool),
    Str(String),
    /// Any other value; the name of its type, for the error.
    Other(&'static str),
}

/// A batch of rows whose fields are read by name.
pub trait Rows {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// `Some(type name)` when row `row` is not an object.
    fn not_an_object(&self, row: usize) -> Option<&'static str>;
    fn field(&self, row: usize, name: &str) -> FieldValue;
}

impl Rows for [serde_json::Value] {
    fn len(&self) -> usize {
        <[serde_json::Value]>::len(self)
    }
    fn not_an_object(&self, row: usize) -> Option<&'static str> {
        use serde_json::Value as J;
        match &self[row] {
            J::Object(_) => None,
            J::Array(_) => Some("an array"),
            J::Null => Some("null"),
            J::String(_) => Some("a string"),
            J::Number(_) => Some("a number"),
            J::Bool(_) => Some("a boolean"),
        }
    }
    fn field(&self, row: usize, name: &str) -> FieldValue {
        use serde_json::Value as J;
        match self[row].get(name) {
            None | Some(J::Null) => FieldValue::Missing,
            Some(J::Number(n)) => FieldValue::Number(n.as_f64().unwrap_or(f64::NAN)),
            Some(J::Bool(b)) => FieldValue::Bool(*b),
            Some(J::String(s)) => FieldValue::Str(s.clone()),
            Some(J::Array(_)) => FieldValue::Other("an array"),
            Some(J::Object(_)) => FieldValue::Other("an object"),
        }
    }
}

/// Rows given as lists of `(name, value)` pairs (what a caller with NaN values uses natively:
/// JSON has no NaN).
impl Rows for [Vec<(String, FieldValue)>] {
    fn len(&self) -> usize {
        <[Vec<(String, FieldValue)>]>::len(self)
    }
    fn not_an_object(&self, _row: usize) -> Option<&'static str> {
        None
    }
    fn field(&self, row: usize, name: &str) -> FieldValue {
        self[row]
            .iter()
            .find(|(n, _)| n == name)
            .map_or(FieldValue::Missing, |(_, v)| v.clone())
    }
}

/// Where a predictor's spec came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SpecSource {
    /// Given by the caller.
    Given,
    /// Read from the model's `metadata_props`.
    Metadata,
    /// Derived from the model's inputs (one feature per `[N, 1]` input, named as the input;
    /// string inputs are categories without a vocabulary).
    Derived,
}

/// Class label → probability, in the model's class order (a JS object with those keys).
#[derive(Clone, Debug, PartialEq)]
pub struct Probabilities(pub Vec<(String, f64)>);

impl Probabilities {
    pub fn get(&self, label: &str) -> Option<f64> {
        self.0.iter().find(|(l, _)| l == label).map(|(_, p)| *p)
    }
}

impl serde::Serialize for Probabilities {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// One row's prediction: a classifier's `label` and `probabilities`, or a regressor's `value`
/// (`values` when it predicts several targets).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Prediction {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<Category>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probabilities: Option<Probabilities>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<f64>>,
}

/// One model input the predictor writes.
#[derive(Debug)]
struct InputPlan {
    name: String,
    dtype: DType,
    /// `[N]` instead of `[N, cols]`.
    rank1: bool,
    cols: usize,
}

/// One feature: where it goes and how it is encoded.
#[derive(Debug)]
struct Slot {
    feature: Feature,
    input: usize,
    col: usize,
    /// Vocabulary entry → index.
    lookup: HashMap<CatKey, usize>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum CatKey {
    Int(i64),
    Str(String),
}

impl From<&Category> for CatKey {
    fn from(c: &Category) -> CatKey {
        match c {
            Category::Int(i) => CatKey::Int(*i),
            Category::Str(s) => CatKey::Str(s.clone()),
        }
    }
}

/// One encoded cell.
#[derive(Clone, Debug)]
enum Cell {
    F(f64),
    I(i64),
    S(String),
    B(bool),
}

#[derive(Debug)]
enum OutputPlan {
    Classifier {
        label: Option<usize>,
        /// Output index and the class labels of its columns.
        probabilities: Option<(usize, Vec<String>)>,
    },
    Regressor {
        value: usize,
    },
}

/// A feature spec checked against one session's inputs and outputs.
#[derive(Debug)]
pub struct Predictor {
    spec: FeatureSpec,
    source: SpecSource,
    inputs: Vec<InputPlan>,
    slots: Vec<Slot>,
    output: OutputPlan,
}

type CellError = (FeatureReason, String);

fn json_kind(v: &FieldValue) -> String {
    match v {
        FieldValue::Missing => "missing".into(),
        FieldValue::Number(n) => format!("the number {n}"),
        FieldValue::Bool(b) => format!("the boolean {b}"),
        FieldValue::Str(s) => format!("the string '{s}'"),
        FieldValue::Other(t) => (*t).into(),
    }
}

impl Predictor {
    /// The predictor for `session`: with `given` if any, else the spec in `model`'s metadata
    /// (when the model bytes are given), else one derived from the inputs where they name the
    /// features; otherwise [`Error::Spec`] saying how to write one.
    pub fn for_model(
        session: &Session,
        model: Option<&[u8]>,
        given: Option<FeatureSpec>,
    ) -> Result<Predictor> {
        if let Some(spec) = given {
            return Predictor::new(session, spec, SpecSource::Given);
        }
        if let Some(spec) = model
            .map(FeatureSpec::from_model_metadata)
            .transpose()?
            .flatten()
        {
            return Predictor::new(session, spec, SpecSource::Metadata);
        }
        Predictor::new(session, derive(session)?, SpecSource::Derived)
    }

    /// Checks `spec` against the session: every input written exactly once, dtypes each
    /// feature can be encoded into, vocabularies and defaults that fit.
    pub fn new(session: &Session, spec: FeatureSpec, source: SpecSource) -> Result<Predictor> {
        let inputs = session.inputs();
        let find = |name: &str| inputs.iter().position(|i| i.name == name);
        let names = || inputs.iter().map(|i| i.name.as_str()).collect::<Vec<_>>();
        let mut plans = Vec::new();
        let mut slots = Vec::new();
        let writable = |d: Option<DType>, what: &str| -> Result<DType> {
            match d {
                Some(d @ (DType::F32 | DType::F64 | DType::I64 | DType::I32 | DType::Str | DType::Bool)) => Ok(d),
                other => Err(Error::Spec(format!(
                    "{what} is {}: a feature can feed float32, float64, int64, int32, string or bool inputs",
                    other.map_or("of undeclared dtype", |d| d.name())
                ))),
            }
        };
        if spec.features.is_empty() {
            return Err(Error::Spec("features is empty".into()));
        }
        let mut seen = std::collections::HashSet::new();
        for f in &spec.features {
            if !seen.insert(f.name.as_str()) {
                return Err(Error::Spec(format!("feature '{}' is listed twice", f.name)));
            }
        }
        match spec.layout {
            Layout::Columns => {
                if spec.input.is_some() {
                    return Err(Error::Spec(
                        "input names the matrix input of the matrix layout; the columns layout names each feature's input".into(),
                    ));
                }
                for f in &spec.features {
                    let iname = f.input.as_deref().unwrap_or(&f.name);
                    let i = find(iname).ok_or_else(|| {
                        Error::Spec(format!(
                            "feature '{}' feeds input '{iname}', which the model lacks; its inputs are {:?}",
                            f.name,
                            names()
                        ))
                    })?;
                    if plans.iter().any(|p: &InputPlan| p.name == iname) {
                        return Err(Error::Spec(format!(
                            "input '{iname}' is fed by two features (the columns layout writes one feature per input)"
                        )));
                    }
                    let info = &inputs[i];
                    let dtype = writable(info.dtype, &format!("input '{iname}'"))?;
                    let rank1 = match info.shape.as_deref() {
                        Some([_]) => true,
                        Some([_, Dim::Known(1)]) | Some([_, Dim::Any]) | Some([_, Dim::Sym(_)]) | None => false,
                        Some(s) => {
                            return Err(Error::Spec(format!(
                                "input '{iname}' has shape {s:?}: the columns layout feeds [N, 1] or [N] inputs; use the matrix layout for a [N, K] one"
                            )))
                        }
                    };
                    if f.column.is_some_and(|c| c != 0) {
                        return Err(Error::Spec(format!(
                            "feature '{}': column is for the matrix layout",
                            f.name
                        )));
                    }
                    plans.push(InputPlan {
                        name: iname.to_string(),
                        dtype,
                        rank1,
                        cols: 1,
                    });
                    slots.push(slot(f, plans.len() - 1, 0, dtype)?);
                }
                for info in inputs {
                    if !plans.iter().any(|p| p.name == info.name) {
                        return Err(Error::Spec(format!(
                            "the model's input '{}' is fed by no feature",
                            info.name
                        )));
                    }
                }
            }
            Layout::Matrix => {
                let iname = match (&spec.input, inputs) {
                    (Some(n), _) => n.clone(),
                    (None, [only]) => only.name.clone(),
                    (None, _) => {
                        return Err(Error::Spec(format!(
                            "the matrix layout needs input (the model has inputs {:?})",
                            names()
                        )))
                    }
                };
                let i = find(&iname).ok_or_else(|| {
                    Error::Spec(format!(
                        "input '{iname}' is not one of the model's inputs {:?}",
                        names()
                    ))
                })?;
                if inputs.len() != 1 {
                    return Err(Error::Spec(format!(
                        "the matrix layout feeds one input; the model has {:?}",
                        names()
                    )));
                }
                let info = &inputs[i];
                let dtype = match info.dtype {
                    Some(d @ (DType::F32 | DType::F64)) => d,
                    other => {
                        return Err(Error::Spec(format!(
                            "input '{iname}' is {}: the matrix layout feeds a float32 or float64 matrix",
                            other.map_or("of undeclared dtype", |d| d.name())
                        )))
                    }
                };
                let n = spec.features.len();
                let declared = match info.shape.as_deref() {
                    Some([_, Dim::Known(k)]) => Some(*k),
                    Some([_, _]) | None => None,
                    Some(s) => {
                        return Err(Error::Spec(format!(
                        "input '{iname}' has shape {s:?}: the matrix layout feeds an [N, K] input"
                    )))
                    }
                };
                let cols: Vec<usize> = spec
                    .features
                    .iter()
                    .enumerate()
                    .map(|(k, f)| f.column.unwrap_or(k))
                    .collect();
                let width = declared.unwrap_or(n);
                let mut used = vec![None; width];
                for (f, &c) in spec.features.iter().zip(&cols) {
                    if f.input.as_deref().is_some_and(|x| x != iname) {
                        return Err(Error::Spec(format!(
                            "feature '{}': input '{}' differs from the matrix input '{iname}'",
                            f.name,
                            f.input.as_deref().unwrap_or("")
                        )));
                    }
                    match used.get_mut(c) {
                        None => {
                            return Err(Error::Spec(format!(
                            "feature '{}': column {c} is outside input '{iname}' ({width} columns)",
                            f.name
                        )))
                        }
                        Some(Some(other)) => {
                            return Err(Error::Spec(format!(
                                "features '{other}' and '{}' both write column {c}",
                                f.name
                            )))
                        }
                        Some(u) => *u = Some(f.name.clone()),
                    }
                }
                if let Some(c) = used.iter().position(Option::is_none) {
                    return Err(Error::Spec(format!(
                        "column {c} of input '{iname}' is written by no feature ({n} features for {width} columns)"
                    )));
                }
                plans.push(InputPlan {
                    name: iname,
                    dtype,
                    rank1: false,
                    cols: width,
                });
                for (f, &c) in spec.features.iter().zip(&cols) {
                    slots.push(slot(f, 0, c, dtype)?);
                }
            }
        }
        let output = output_plan(session, &spec)?;
        Ok(Predictor {
            spec,
            source,
            inputs: plans,
            slots,
            output,
        })
    }

    /// The spec in use.
    pub fn spec(&self) -> &FeatureSpec {
        &self.spec
    }

    /// Where the spec came from.
    pub fn source(&self) -> SpecSource {
        self.source
    }

    /// The model inputs for `rows` (one tensor per input, `rows.len()` rows each). A field that
    /// does not fit is [`Error::Feature`] naming the row, the field and what was expected.
    pub fn encode<R: Rows + ?Sized>(&self, rows: &R) -> Result<Vec<(String, Tensor)>> {
        let n = rows.len();
        let mut cells: Vec<Vec<Cell>> = self
            .inputs
            .iter()
            .map(|p| vec![Cell::F(0.0); n * p.cols])
            .collect();
        for r in 0..n {
            if let Some(what) = rows.not_an_object(r) {
                return Err(Error::Feature {
                    row: r,
                    field: String::new(),
                    reason: FeatureReason::NotAnObject,
                    msg: format!("a row must be an object of named features, got {what}"),
                });
            }
            for s in &self.slots {
                let p = &self.inputs[s.input];
                let v = rows.field(r, &s.feature.name);
                let cell = encode_cell(s, p.dtype, v).map_err(|(reason, msg)| Error::Feature {
                    row: r,
                    field: s.feature.name.clone(),
                    reason,
                    msg,
                })?;
                cells[s.input][r * p.cols + s.col] = cell;
            }
        }
        self.inputs
            .iter()
            .zip(cells)
            .map(|(p, c)| {
                let shape = if p.rank1 { vec![n] } else { vec![n, p.cols] };
                Ok((p.name.clone(), Tensor::new(shape, to_data(p.dtype, c))?))
            })
            .collect()
    }

    /// One prediction per row from the session's outputs (in its output order) for an encoded
    /// batch of `rows` rows.
    pub fn decode(&self, outputs: &[Tensor], rows: usize) -> Result<Vec<Prediction>> {
        let out = |k: usize| -> Result<&Tensor> {
            outputs
                .get(k)
                .ok_or_else(|| Error::Argument(format!("output {k} is missing")))
        };
        let mut preds = vec![
            Prediction {
                label: None,
                probabilities: None,
                value: None,
                values: None,
            };
            rows
        ];
        match &self.output {
            OutputPlan::Classifier {
                label,
                probabilities,
            } => {
                if let Some(k) = label {
                    let t = out(*k)?;
                    let labels: Vec<Category> = match t.data() {
                        TensorData::I64(v) => v.iter().map(|&x| Category::Int(x)).collect(),
                        TensorData::I32(v) => v.iter().map(|&x| Category::Int(x as i64)).collect(),
                        TensorData::Str(v) => v.iter().cloned().map(Category::Str).collect(),
                        d => {
                            return Err(Error::dtype(format!(
                                "label output is {}",
                                d.dtype().name()
                            )))
                        }
                    };
                    if labels.len() != rows {
                        return Err(Error::shape(format!(
                            "the label output has {} values for {rows} rows",
                            labels.len()
                        )));
                    }
                    for (p, l) in preds.iter_mut().zip(labels) {
                        p.label = Some(l);
                    }
                }
                if let Some((k, classes)) = probabilities {
                    let v = out(*k)?.to_f64_vec();
                    let c = classes.len();
                    if v.len() != rows * c {
                        return Err(Error::shape(format!(
                            "the probability output has {} values for {rows} rows of {c} classes",
                            v.len()
                        )));
                    }
                    for (p, row) in preds.iter_mut().zip(v.chunks(c.max(1))) {
                        p.probabilities = Some(Probabilities(
                            classes.iter().cloned().zip(row.iter().copied()).collect(),
                        ));
                    }
                }
            }
            OutputPlan::Regressor { value } => {
                let v = out(*value)?.to_f64_vec();
                if rows > 0 && v.len() % rows != 0 || rows == 0 && !v.is_empty() {
                    return Err(Error::shape(format!(
                        "the value output has {} values for {rows} rows",
                        v.len()
                    )));
                }
                let w = v.len().checked_div(rows).unwrap_or(1);
                for (p, row) in preds.iter_mut().zip(v.chunks(w.max(1))) {
                    if w == 1 {
                        p.value = Some(row[0]);
                    } else {
                        p.values = Some(row.to_vec());
                    }
                }
            }
        }
        Ok(preds)
    }

    /// Encodes `rows`, runs the session once for the whole batch and decodes the outputs.
    pub fn predict<R: Rows + ?Sized>(
        &self,
        session: &Session,
        rows: &R,
    ) -> Result<Vec<Prediction>> {
        let feeds = self.encode(rows)?;
        let refs: Vec<(&str, &Tensor)> = feeds.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let outs = session.run(&refs)?;
        self.decode(&outs, rows.len())
    }

    /// [`predict`](Self::predict) for any backend and target (a WebGPU session in a browser).
    pub async fn predict_async<R: Rows + ?Sized>(
        &self,
        session: &Session,
        rows: &R,
    ) -> Result<Vec<Prediction>> {
        let feeds = self.encode(rows)?;
        let refs: Vec<(&str, &Tensor)> = feeds.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let outs = session.run_async(&refs).await?;
        self.decode(&outs, rows.len())
    }
}

/// Checks one feature against the dtype it feeds and builds its vocabulary lookup.
fn slot(f: &Feature, input: usize, col: usize, dtype: DType) -> Result<Slot> {
    let bad = |msg: String| Error::Spec(format!("feature '{}': {msg}", f.name));
    let numeric = matches!(dtype, DType::F32 | DType::F64 | DType::I64 | DType::I32);
    match f.kind {
        Kind::Number if !numeric => {
            return Err(bad(format!(
                "a number cannot feed a {} input",
                dtype.name()
            )))
        }
        Kind::Boolean if dtype == DType::Str => {
            return Err(bad("a boolean cannot feed a string input".into()))
        }
        _ => {}
    }
    if f.kind != Kind::Category
        && (f.vocabulary.is_some() || f.codes.is_some() || f.unknown != Unknown::Error)
    {
        return Err(bad(format!(
            "vocabulary, codes and unknown are for categories, not a {}",
            f.kind.name()
        )));
    }
    if f.kind != Kind::Number && f.allow_non_finite {
        return Err(bad("allowNonFinite is for numbers".into()));
    }
    let mut lookup = HashMap::new();
    if f.kind == Kind::Category {
        let vocab = f.vocabulary.as_deref().unwrap_or(&[]);
        if f.vocabulary.is_none() && f.unknown != Unknown::Ignore {
            return Err(bad(
                "a category without a vocabulary must say unknown: 'ignore' (every value passes to the model)".into(),
            ));
        }
        for (i, c) in vocab.iter().enumerate() {
            if lookup.insert(CatKey::from(c), i).is_some() {
                return Err(bad(format!("vocabulary lists {c} twice")));
            }
            match (c, dtype) {
                (Category::Str(_), DType::I64 | DType::I32) if f.codes.is_none() => {
                    return Err(bad(format!(
                        "the string category {c} feeds an {} input: give codes",
                        dtype.name()
                    )))
                }
                (Category::Int(_), DType::Str) => {
                    return Err(bad(format!(
                        "the integer category {c} feeds a string input: write it as a string"
                    )))
                }
                (_, DType::Bool) => return Err(bad("a category cannot feed a bool input".into())),
                _ => {}
            }
        }
        if let Some(codes) = &f.codes {
            if codes.len() != vocab.len() {
                return Err(bad(format!(
                    "codes has {} entries for a vocabulary of {}",
                    codes.len(),
                    vocab.len()
                )));
            }
            if dtype == DType::Str {
                return Err(bad(
                    "codes are for number inputs; this one is a string".into()
                ));
            }
            if matches!(dtype, DType::I64 | DType::I32) && codes.iter().any(|c| c.fract() != 0.0) {
                return Err(bad(format!(
                    "codes must be integers for an {} input",
                    dtype.name()
                )));
            }
        }
        if f.unknown == Unknown::Default && f.default.is_none() {
            return Err(bad("unknown: 'default' needs a default".into()));
        }
    }
    let s = Slot {
        feature: f.clone(),
        input,
        col,
        lookup,
    };
    // the default must encode like any value (a category's must be in the vocabulary)
    if let Some(d) = &f.default {
        let v = default_field(d);
        let nan = matches!(d, DefaultValue::Str(x) if x == "NaN") && f.kind == Kind::Number;
        if !nan {
            encode_value(&s, dtype, v).map_err(|(_, m)| bad(format!("default: {m}")))?;
        }
    }
    Ok(s)
}

fn default_field(d: &DefaultValue) -> FieldValue {
    match d {
        DefaultValue::Bool(b) => FieldValue::Bool(*b),
        DefaultValue::Int(i) => FieldValue::Number(*i as f64),
        DefaultValue::Number(x) => FieldValue::Number(*x),
        DefaultValue::Str(s) => FieldValue::Str(s.clone()),
    }
}

fn encode_cell(s: &Slot, dtype: DType, v: FieldValue) -> std::result::Result<Cell, CellError> {
    if v != FieldValue::Missing {
        return encode_value(s, dtype, v);
    }
    match &s.feature.default {
        None => Err((
            FeatureReason::Missing,
            format!(
                "missing: the model needs this {} (give it, or a default in the spec)",
                s.feature.kind.name()
            ),
        )),
        Some(DefaultValue::Str(x)) if x == "NaN" && s.feature.kind == Kind::Number => {
            Ok(Cell::F(f64::NAN))
        }
        Some(d) => encode_value(s, dtype, default_field(d)),
    }
}

fn encode_value(s: &Slot, dtype: DType, v: FieldValue) -> std::result::Result<Cell, CellError> {
    let f = &s.feature;
    let wrong = |want: &str, v: &FieldValue| {
        (
            FeatureReason::Type,
            format!("expected {want}, got {}", json_kind(v)),
        )
    };
    match f.kind {
        Kind::Number => {
            let FieldValue::Number(x) = v else {
                return Err(wrong("a number", &v));
            };
            if !x.is_finite() && !f.allow_non_finite {
                return Err((
                    FeatureReason::NonFinite,
                    format!("{x} is not a finite number (the spec can set allowNonFinite)"),
                ));
            }
            match dtype {
                DType::I64 | DType::I32 => {
                    if x.fract() != 0.0 || !x.is_finite() {
                        return Err(wrong("an integer (the input is int64)", &v));
                    }
                    Ok(Cell::I(x as i64))
                }
                _ => Ok(Cell::F(x)),
            }
        }
        Kind::Boolean => {
            let FieldValue::Bool(b) = v else {
                return Err(wrong("a boolean", &v));
            };
            Ok(match dtype {
                DType::Bool => Cell::B(b),
                DType::I64 | DType::I32 => Cell::I(b as i64),
                _ => Cell::F(b as u8 as f64),
            })
        }
        Kind::Category => {
            let ints = f
                .vocabulary
                .as_ref()
                .map_or(matches!(dtype, DType::I64 | DType::I32), |v| {
                    v.first().is_some_and(|c| matches!(c, Category::Int(_)))
                });
            let key = match (&v, ints) {
                (FieldValue::Str(x), false) => CatKey::Str(x.clone()),
                (FieldValue::Number(x), true) if x.fract() == 0.0 => CatKey::Int(*x as i64),
                _ => {
                    return Err(wrong(
                        if ints {
                            "an integer category"
                        } else {
                            "a string"
                        },
                        &v,
                    ))
                }
            };
            match s.lookup.get(&key) {
                Some(&i) => Ok(match (dtype, &f.codes, &key) {
                    (DType::Str, _, CatKey::Str(x)) => Cell::S(x.clone()),
                    (DType::I64 | DType::I32, Some(c), _) => Cell::I(c[i] as i64),
                    (DType::I64 | DType::I32, None, CatKey::Int(x)) => Cell::I(*x),
                    (_, Some(c), _) => Cell::F(c[i]),
                    (_, None, _) => Cell::F(i as f64),
                }),
                None => match f.unknown {
                    Unknown::Error => {
                        let vocab = f.vocabulary.as_deref().unwrap_or(&[]);
                        let list: Vec<String> =
                            vocab.iter().take(12).map(|c| c.to_string()).collect();
                        Err((
                            FeatureReason::UnknownCategory,
                            format!(
                                "{} is not in the vocabulary [{}{}] (the spec's policy for unknown values is 'error')",
                                json_kind(&v),
                                list.join(", "),
                                if vocab.len() > 12 { ", …" } else { "" }
                            ),
                        ))
                    }
                    Unknown::Default => {
                        let d = f
                            .default
                            .as_ref()
                            .map(default_field)
                            .unwrap_or(FieldValue::Missing);
                        encode_value(s, dtype, d)
                    }
                    Unknown::Ignore => Ok(match (dtype, key) {
                        (DType::Str, CatKey::Str(x)) => Cell::S(x),
                        (DType::I64 | DType::I32, CatKey::Int(x)) => Cell::I(x),
                        (DType::I64 | DType::I32, CatKey::Str(_)) => return Err(wrong(
                            "a category in the vocabulary (a string cannot pass to an int64 input)",
                            &v,
                        )),
                        _ => Cell::F(f64::NAN),
                    }),
                },
            }
        }
    }
}

fn to_data(dtype: DType, cells: Vec<Cell>) -> TensorData {
    let f = |c: &Cell| match c {
        Cell::F(x) => *x,
        Cell::I(x) => *x as f64,
        Cell::B(b) => *b as u8 as f64,
        Cell::S(_) => f64::NAN,
    };
    let i = |c: &Cell| match c {
        Cell::I(x) => *x,
        Cell::F(x) => *x as i64,
        Cell::B(b) => *b as i64,
        Cell::S(_) => 0,
    };
    match dtype {
        DType::F64 => TensorData::F64(cells.iter().map(f).collect()),
        DType::I64 => TensorData::I64(cells.iter().map(i).collect()),
        DType::I32 => TensorData::I32(cells.iter().map(|c| i(c) as i32).collect()),
        DType::Bool => TensorData::Bool(cells.iter().map(|c| matches!(c, Cell::B(true))).collect()),
        DType::Str => TensorData::Str(
            cells
                .into_iter()
                .map(|c| match c {
                    Cell::S(s) => s,
                    _ => String::new(),
                })
                .collect(),
        ),
        _ => TensorData::F32(cells.iter().map(|c| f(c) as f32).collect()),
    }
}

fn labels_to_strings(l: &Labels) -> Vec<String> {
    match l {
        Labels::I64(v) => v.iter().map(|x| x.to_string()).collect(),
        Labels::Str(v) => v.clone(),
    }
}

/// The labels of the graph's classifier node, when it has exactly one.
fn classifier_labels(session: &Session) -> Option<Vec<String>> {
    let mut found: Vec<&Labels> = Vec::new();
    for n in &session.graph().nodes {
        let l = match &n.op {
            Op::Ml(MlOp::Trees(e)) => e.classifier.as_ref().map(|c| &c.labels),
            Op::Ml(MlOp::Linear(l)) => l.labels.as_ref(),
            Op::Ml(MlOp::Svm(s)) => s.labels.as_ref(),
            _ => None,
        };
        if let Some(l) = l {
            if !found.contains(&l) {
                found.push(l);
            }
        }
    }
    match found[..] {
        [one] => Some(labels_to_strings(one)),
        _ => None,
    }
}

/// Which outputs hold the label, the probabilities or the value.
fn output_plan(session: &Session, spec: &FeatureSpec) -> Result<OutputPlan> {
    let outs = session.outputs();
    let zipmap = (0..outs.len()).find_map(|k| session.zipmap_labels(k).map(|l| (k, l)));
    let label = outs.iter().position(|o| {
        o.kind.is_tensor() && matches!(o.dtype, Some(DType::I64 | DType::I32 | DType::Str))
    });
    let float = |skip: Option<usize>| {
        outs.iter().enumerate().position(|(k, o)| {
            Some(k) != skip
                && Some(k) != zipmap.map(|z| z.0)
                && o.kind.is_tensor()
                && matches!(o.dtype, Some(DType::F32 | DType::F64 | DType::F16))
        })
    };
    if let Some((k, l)) = zipmap {
        return Ok(OutputPlan::Classifier {
            label,
            probabilities: Some((k, labels_to_strings(l))),
        });
    }
    if label.is_some() {
        let probabilities = match float(label) {
            None => None,
            Some(k) => {
                let classes = match &spec.classes {
                    Some(c) => c
                        .iter()
                        .map(|c| match c {
                            Category::Int(i) => i.to_string(),
                            Category::Str(s) => s.clone(),
                        })
                        .collect(),
                    None => classifier_labels(session).ok_or_else(|| {
                        Error::Spec(format!(
                            "output '{}' holds probabilities whose classes the graph does not say: give classes in the spec",
                            outs[k].name
                        ))
                    })?,
                };
                if let Some(Some(Dim::Known(c))) = outs[k].shape.as_ref().map(|s| s.get(1).cloned())
                {
                    if c != classes.len() {
                        return Err(Error::Spec(format!(
                            "output '{}' has {c} columns for {} classes",
                            outs[k].name,
                            classes.len()
                        )));
                    }
                }
                Some((k, classes))
            }
        };
        return Ok(OutputPlan::Classifier {
            label,
            probabilities,
        });
    }
    match float(None) {
        Some(value) => Ok(OutputPlan::Regressor { value }),
        None => Err(Error::Spec(
            "the model has no label, probability or float value output to predict from".into(),
        )),
    }
}

/// The spec the inputs imply where they name the features: one `[N, 1]` (or `[N]`) input per
/// feature, named as the input; strings are categories without a vocabulary (every value passes
/// to the model), bools booleans, the rest numbers.
pub fn derive(session: &Session) -> Result<FeatureSpec> {
    let mut features = Vec::new();
    for i in session.inputs() {
        let columnar = matches!(i.shape.as_deref(), Some([_]) | Some([_, Dim::Known(1)]));
        if !columnar || !i.kind.is_tensor() {
            return Err(Error::Spec(format!(
                "the model has no feature spec and its input '{}' ({}{}) does not name its features: \
                 write one with `hearth spec MODEL.onnx` and embed it (`--embed`) or pass it beside the model",
                i.name,
                i.dtype.map_or("?", |d| d.name()),
                i.shape.as_ref().map_or(String::new(), |s| format!(" {s:?}")),
            )));
        }
        let mut f = Feature::new(
            i.name.clone(),
            match i.dtype {
                Some(DType::Str) => Kind::Category,
                Some(DType::Bool) => Kind::Boolean,
                _ => Kind::Number,
            },
        );
        if f.kind == Kind::Category {
            f.unknown = Unknown::Ignore;
        }
        features.push(f);
    }
    Ok(FeatureSpec {
        format: FORMAT.into(),
        version: 1,
        layout: Layout::Columns,
        input: None,
        features,
        classes: None,
    })
}
