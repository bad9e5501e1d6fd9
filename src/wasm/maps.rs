//! Map values across the boundary (feature `ml`: only `ai.onnx.ml` ops read maps). A map input
//! (`DictVectorizer`, `CastMap`) is a plain object, `{ key: value }`: int64 keys are the
//! object's keys as integers (`{ '3': 1.5 }` or `{ 3: 1.5 }`), values are numbers (or bigints
//! for int64) or strings as the input declares. A sequence-of-maps input is an array of such
//! objects. Outputs that are not tensors come back as plain JS: a map as an object, a sequence
//! as an array, an empty optional as `null`.

use super::tabular::type_name;
use super::{get, tensor_to_js, WasmSession};
use crate::error::Error;
use crate::ir::ValueKind;
use crate::session::{IoInfo, Session};
use crate::tensor::{DType, Tensor, TensorData};
use crate::value::{Map, MapKeys, Value};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Whether input `name` of `session` takes a map or a sequence of maps.
pub(super) fn map_input<'s>(session: &'s Session, name: &str) -> Option<&'s IoInfo> {
    session
        .inputs()
        .iter()
        .find(|i| i.name == name && matches!(i.kind, ValueKind::Map | ValueKind::MapSequence))
}

/// The feed for a map (or sequence-of-maps) input from its JS value.
pub(super) fn map_from_js(info: &IoInfo, v: &JsValue) -> Result<Value, JsValue> {
    let err = |msg: String| {
        super::to_js(Error::Input {
            name: info.name.clone(),
            msg,
        })
    };
    if info.kind == ValueKind::MapSequence {
        if !Array::is_array(v) {
            return Err(err(format!(
                "expected an array of {{ key: value }} objects (a sequence of maps), got {}",
                type_name(v)
            )));
        }
        return Array::from(v)
            .iter()
            .enumerate()
            .map(|(i, m)| one_map(info, &m, &format!("[{i}]")).map_err(&err))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Sequence);
    }
    one_map(info, v, "").map_err(err)
}

fn one_map(info: &IoInfo, v: &JsValue, at: &str) -> Result<Value, String> {
    if !v.is_object() || Array::is_array(v) || v.is_function() {
        return Err(format!(
            "{at} expected a {{ key: value }} object (a map), got {}",
            type_name(v)
        )
        .trim_start()
        .to_string());
    }
    let names: Vec<String> = Object::keys(v.unchecked_ref::<Object>())
        .iter()
        .map(|k| k.as_string().unwrap_or_default())
        .collect();
    let keys = match info.key {
        Some(DType::I64) => MapKeys::I64(
            names
                .iter()
                .map(|k| {
                    k.parse::<i64>().map_err(|_| {
                        format!(
                            "{at} key '{k}': the map has int64 keys, and this is not an integer"
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
        _ => MapKeys::Str(names.clone()),
    };
    let vals: Vec<JsValue> = names.iter().map(|k| get(v, k)).collect();
    let bad = |k: &str, want: &str, x: &JsValue| {
        format!("{at} key '{k}': expected {want}, got {}", type_name(x))
            .trim_start()
            .to_string()
    };
    let n = names.len();
    let data = match info.dtype {
        Some(DType::Str) => TensorData::Str(
            names
                .iter()
                .zip(&vals)
                .map(|(k, x)| x.as_string().ok_or_else(|| bad(k, "a string", x)))
                .collect::<Result<_, _>>()?,
        ),
        Some(DType::I64) => TensorData::I64(
            names
                .iter()
                .zip(&vals)
                .map(|(k, x)| {
                    if x.is_bigint() {
                        i64::try_from(x.clone()).map_err(|_| bad(k, "an int64", x))
                    } else {
                        x.as_f64()
                            .filter(|f| f.fract() == 0.0 && f.abs() <= 9007199254740992.0)
                            .map(|f| f as i64)
                            .ok_or_else(|| bad(k, "an integer (or a bigint)", x))
                    }
                })
                .collect::<Result<_, _>>()?,
        ),
        d => {
            let nums: Vec<f64> = names
                .iter()
                .zip(&vals)
                .map(|(k, x)| x.as_f64().ok_or_else(|| bad(k, "a number", x)))
                .collect::<Result<_, _>>()?;
            match d {
                Some(DType::F64) => TensorData::F64(nums),
                Some(DType::F32) | None => {
                    TensorData::F32(nums.iter().map(|&x| x as f32).collect())
                }
                Some(d) => return Err(format!("maps to {d} values are not read from JS")),
            }
        }
    };
    let values = Tensor::new(vec![n], data).map_err(|e| e.to_string())?;
    Map::new(keys, values)
        .map(Value::Map)
        .map_err(|e| e.to_string())
}

/// A run output of any kind as plain JS (tensors as `{ data, dims, type }`).
pub(super) fn value_to_js(v: &Value) -> JsValue {
    match v {
        Value::Tensor(t) => tensor_to_js(t),
        Value::Sequence(s) => s.iter().map(value_to_js).collect::<Array>().into(),
        Value::Optional(None) => JsValue::NULL,
        Value::Optional(Some(x)) => value_to_js(x),
        Value::Map(m) => {
            let o = Object::new();
            let keys: Vec<JsValue> = match m.keys() {
                MapKeys::I64(k) => k.iter().map(|k| JsValue::from(k.to_string())).collect(),
                MapKeys::Str(k) => k.iter().map(|k| JsValue::from(k.as_str())).collect(),
            };
            let vals: Vec<JsValue> = match m.values().data() {
                TensorData::Str(s) => s.iter().map(|x| JsValue::from(x.as_str())).collect(),
                TensorData::I64(x) => x.iter().map(|&x| JsValue::from(x)).collect(),
                _ => m
                    .values()
                    .to_f64_vec()
                    .into_iter()
                    .map(JsValue::from)
                    .collect(),
            };
            for (k, x) in keys.iter().zip(&vals) {
                let _ = Reflect::set(&o, k, x);
            }
            o.into()
        }
    }
}

/// `run` with map feeds: through [`Session::run_values`], outputs as [`value_to_js`].
pub(super) fn outputs_to_js(session: &Session, outs: &[Value]) -> Object {
    let result = Object::new();
    for (info, v) in session.outputs().iter().zip(outs) {
        let _ = Reflect::set(&result, &info.name.as_str().into(), &value_to_js(v));
    }
    result
}

impl WasmSession {
    pub(super) fn run_maps(&self, feeds: &[(String, Value)]) -> Result<Object, JsValue> {
        let refs: Vec<(&str, &Value)> = feeds.iter().map(|(n, v)| (n.as_str(), v)).collect();
        let outs = self.inner.run_values(&refs).map_err(super::to_js)?;
        Ok(outputs_to_js(&self.inner, &outs))
    }
}
