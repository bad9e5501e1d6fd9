//! Test-only exports (feature `test-api`): the conformance judge and a TensorProto decoder for
//! the wasm test runners (`tests/wasm/`, `tests/browser/`). Shipped builds do not have them.

use super::{tensor_to_js, to_js};
use crate::conformance::{self, Outcome, Tolerance};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The byte arrays of a JS array of `Uint8Array`s (test data sets).
fn byte_arrays(a: &Array) -> Vec<Vec<u8>> {
    a.iter()
        .filter_map(|v| v.dyn_into::<js_sys::Uint8Array>().ok())
        .map(|u| u.to_vec())
        .collect()
}

/// The suite's tolerance with the caller's overrides.
fn tolerance(atol: Option<f64>, rtol: Option<f64>) -> Tolerance {
    let d = Tolerance::default();
    Tolerance {
        atol: atol.unwrap_or(d.atol),
        rtol: rtol.unwrap_or(d.rtol),
    }
}

/// A case's outcome as `{ outcome, detail }`: `outcome` is `'pass'`, `'unsupported-op'`,
/// `'unsupported-dtype'` or `'fail'`; `detail` names the op, the dtype or the failure.
/// `fell_back` (a GPU session that moved to the CPU) turns a pass into a failure.
fn outcome_to_js(o: Outcome, fell_back: Option<String>) -> JsValue {
    let (kind, detail) = match (o, fell_back) {
        (Outcome::Pass, Some(why)) => ("fail", format!("fell back to the CPU: {why}")),
        (Outcome::Pass, None) => ("pass", String::new()),
        (Outcome::UnsupportedOp(op), _) => ("unsupported-op", op),
        (Outcome::UnsupportedDType(d), _) => ("unsupported-dtype", d),
        (Outcome::Fail(m), _) => ("fail", m),
    };
    let obj = Object::new();
    let _ = Reflect::set(&obj, &"outcome".into(), &kind.into());
    let _ = Reflect::set(&obj, &"detail".into(), &detail.into());
    obj.into()
}

/// Runs one ONNX node-test case (model bytes, serialised input and expected output tensors) the
/// way the native conformance test does; returns `{ outcome, detail }`.
/// `atol`/`rtol` default to the suite's 1e-5 / 1e-3.
#[wasm_bindgen(js_name = conformanceCase)]
pub fn conformance_case(
    model: &[u8],
    inputs: Array,
    outputs: Array,
    atol: Option<f64>,
    rtol: Option<f64>,
) -> JsValue {
    let o = conformance::run_case(
        model,
        &byte_arrays(&inputs),
        &byte_arrays(&outputs),
        tolerance(atol, rtol),
    );
    outcome_to_js(o, None)
}

/// [`conformanceCase`](conformance_case) on `backend` (`'cpu'`, `'webgpu'`, `'auto'`), async:
/// resolves to the same `{ outcome, detail }`; a case whose WebGPU session fell back to the CPU
/// is a failure.
#[cfg(feature = "webgpu")]
#[wasm_bindgen(js_name = conformanceCaseAsync)]
pub async fn conformance_case_async(
    model: Vec<u8>,
    inputs: Array,
    outputs: Array,
    backend: String,
    atol: Option<f64>,
    rtol: Option<f64>,
) -> Result<JsValue, JsValue> {
    let tol = tolerance(atol, rtol);
    let backend = crate::session::BackendChoice::parse(&backend).map_err(to_js)?;
    let opts = crate::session::SessionOptions { backend };
    let (outcome, session) = conformance::run_case_async(
        &model,
        &byte_arrays(&inputs),
        &byte_arrays(&outputs),
        tol,
        &opts,
    )
    .await;
    Ok(outcome_to_js(
        outcome,
        session.and_then(|s| s.fallback_reason()),
    ))
}

/// Decodes a serialised ONNX `TensorProto` (as in ONNX test data) to `{ name, data, dims, type }`.
#[wasm_bindgen(js_name = decodeTensorProto)]
pub fn decode_tensor_proto(bytes: &[u8]) -> Result<JsValue, JsValue> {
    let (name, t) = crate::onnx::tensor::tensor_from_pb(bytes).map_err(to_js)?;
    let o = tensor_to_js(&t);
    let _ = Reflect::set(&o, &"name".into(), &name.as_str().into());
    Ok(o)
}
