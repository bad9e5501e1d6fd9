//! `TabularPredictor`: `predict` from plain JS objects ([`crate::tabular`]) over a loaded
//! `Session`. Rows are read field by field with `Reflect` (NaN and ±Infinity reach the spec's
//! checks as numbers; serde would turn them into `null`); predictions come back as plain objects
//! `{ label, probabilities: { label: p } }` or `{ value }`. A row that does not fit is an `Error`
//! with `code: 'FEATURE'` and `row`, `field` and `reason` (`missing`, `type`, `unknownCategory`,
//! `nonFinite`, `notAnObject`) properties.

use super::convert::to_js_value;
use super::{js_error, to_js, WasmSession};
use crate::error::Error;
use crate::session::Session;
use crate::tabular::{Category, FeatureSpec, FieldValue, Prediction, Predictor, Rows};
use js_sys::{Array, Object, Reflect};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

struct JsRows(Vec<JsValue>);

pub(super) fn type_name(v: &JsValue) -> &'static str {
    if Array::is_array(v) {
        "an array"
    } else if v.is_function() {
        "a function"
    } else if v.is_bigint() {
        "a bigint"
    } else if v.is_symbol() {
        "a symbol"
    } else if v.is_object() {
        "an object"
    } else if v.is_null() {
        "null"
    } else if v.is_undefined() {
        "undefined"
    } else if v.as_string().is_some() {
        "a string"
    } else if v.as_f64().is_some() {
        "a number"
    } else {
        "a boolean"
    }
}

impl Rows for JsRows {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn not_an_object(&self, row: usize) -> Option<&'static str> {
        let v = &self.0[row];
        (!v.is_object() || Array::is_array(v) || v.is_function()).then(|| type_name(v))
    }
    fn field(&self, row: usize, name: &str) -> FieldValue {
        let v = Reflect::get(&self.0[row], &name.into()).unwrap_or(JsValue::UNDEFINED);
        if v.is_undefined() || v.is_null() {
            FieldValue::Missing
        } else if let Some(x) = v.as_f64() {
            FieldValue::Number(x)
        } else if let Some(b) = v.as_bool() {
            FieldValue::Bool(b)
        } else if let Some(s) = v.as_string() {
            FieldValue::Str(s)
        } else {
            FieldValue::Other(type_name(&v))
        }
    }
}

fn predict_error(e: Error) -> JsValue {
    match &e {
        Error::Feature {
            row, field, reason, ..
        } => {
            let j = js_error(e.code(), &e.to_string());
            let _ = Reflect::set(&j, &"row".into(), &(*row as f64).into());
            let _ = Reflect::set(&j, &"field".into(), &field.as_str().into());
            let _ = Reflect::set(&j, &"reason".into(), &reason.name().into());
            j
        }
        _ => to_js(e),
    }
}

/// Predictions as plain objects, built directly (serde's generic serializer for them cost more
/// wasm than these few lines).
fn predictions_to_js(out: &[Prediction]) -> JsValue {
    let set = |o: &Object, k: &str, v: &JsValue| {
        let _ = Reflect::set(o, &k.into(), v);
    };
    out.iter()
        .map(|p| {
            let o = Object::new();
            match &p.label {
                Some(Category::Int(i)) => set(&o, "label", &JsValue::from(*i as f64)),
                Some(Category::Str(s)) => set(&o, "label", &JsValue::from(s.as_str())),
                None => {}
            }
            if let Some(pr) = &p.probabilities {
                let m = Object::new();
                for (k, v) in &pr.0 {
                    set(&m, k, &JsValue::from(*v));
                }
                set(&o, "probabilities", &m);
            }
            if let Some(v) = p.value {
                set(&o, "value", &JsValue::from(v));
            }
            if let Some(vs) = &p.values {
                let a: Array = vs.iter().map(|&v| JsValue::from(v)).collect();
                set(&o, "values", &a);
            }
            JsValue::from(o)
        })
        .collect::<Array>()
        .into()
}

fn rows_from_js(rows: &JsValue) -> Result<JsRows, JsValue> {
    if !Array::is_array(rows) {
        return Err(super::arg_error(
            "rows must be an array of objects of named features".into(),
        ));
    }
    Ok(JsRows(Array::from(rows).iter().collect()))
}

/// A feature spec checked against one model (the `TabularPredictor` class in JS).
#[wasm_bindgen(js_name = TabularPredictor)]
pub struct WasmPredictor {
    session: Rc<Session>,
    inner: Rc<Predictor>,
}

#[wasm_bindgen(js_class = TabularPredictor)]
impl WasmPredictor {
    /// The predictor of `session` (loaded from `model`): with `spec` (JSON text) if given,
    /// else the spec in the model's `metadata_props` (`hearth.features`), else one derived from
    /// inputs that name the features; otherwise an error with code `SPEC_INVALID` saying to
    /// write one with `hearth spec`.
    pub fn create(
        session: &WasmSession,
        model: &[u8],
        spec: Option<String>,
    ) -> Result<WasmPredictor, JsValue> {
        let given = spec
            .as_deref()
            .map(FeatureSpec::from_json)
            .transpose()
            .map_err(to_js)?;
        let inner = Predictor::for_model(&session.inner, Some(model), given).map_err(to_js)?;
        Ok(WasmPredictor {
            session: session.inner.clone(),
            inner: Rc::new(inner),
        })
    }

    /// The spec in use, as a plain object.
    #[wasm_bindgen(getter, unchecked_return_type = "FeatureSpec")]
    pub fn spec(&self) -> JsValue {
        to_js_value(self.inner.spec())
    }

    /// `'given'`, `'metadata'` or `'derived'`.
    #[wasm_bindgen(getter, js_name = specSource)]
    pub fn spec_source(&self) -> String {
        match self.inner.source() {
            crate::tabular::SpecSource::Given => "given",
            crate::tabular::SpecSource::Metadata => "metadata",
            crate::tabular::SpecSource::Derived => "derived",
        }
        .into()
    }

    /// One prediction per row (an array of objects), from one run of the model.
    #[wasm_bindgen(unchecked_return_type = "TabularPrediction[]")]
    pub fn predict(&self, rows: &JsValue) -> Result<JsValue, JsValue> {
        let rows = rows_from_js(rows)?;
        let out = self
            .inner
            .predict(&self.session, &rows)
            .map_err(predict_error)?;
        Ok(predictions_to_js(&out))
    }

    /// `predict` on any backend (a WebGPU session reads back asynchronously).
    #[cfg(feature = "webgpu")]
    #[wasm_bindgen(js_name = predictAsync, unchecked_return_type = "Promise<TabularPrediction[]>")]
    pub fn predict_async(&self, rows: &JsValue) -> Result<js_sys::Promise, JsValue> {
        let rows = rows_from_js(rows)?;
        let (session, inner) = (self.session.clone(), self.inner.clone());
        Ok(wasm_bindgen_futures::future_to_promise(async move {
            let out = inner
                .predict_async(&session, &rows)
                .await
                .map_err(predict_error)?;
            Ok(predictions_to_js(&out))
        }))
    }
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TABULAR: &'static str = r#"
export interface FeatureSpecFeature {
  name: string; kind: 'number' | 'category' | 'boolean'; input?: string; column?: number;
  vocabulary?: Array<string | number>; codes?: number[]; default?: number | string | boolean;
  unknown?: 'error' | 'default' | 'ignore'; allowNonFinite?: boolean;
}
export interface FeatureSpec {
  format?: 'hearth.features'; version?: 1; layout: 'columns' | 'matrix'; input?: string;
  features: FeatureSpecFeature[]; classes?: Array<string | number>;
}
export interface TabularPrediction { label?: string | number; probabilities?: Record<string, number>; value?: number; values?: number[] }
"#;
