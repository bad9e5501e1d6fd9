//! The ONNX backend node-test check, shared by the native test (`tests/onnx_node.rs`) and the
//! wasm build's Node runner, so both judge a case the same way.

use crate::error::Error;
use crate::ir::ValueKind;
use crate::onnx::tensor::{tensor_from_pb, value_from_pb};
use crate::session::{Session, SessionOptions};
use crate::tensor::{DType, Tensor, TensorData};
use crate::value::Value;

/// Absolute and relative tolerance: `|got − expected| ≤ atol + rtol·|expected|`; NaN equals NaN.
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
    pub atol: f64,
    pub rtol: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            atol: 1e-5,
            rtol: 1e-3,
        }
    }
}

/// How one case went.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Pass,
    /// The model uses an operator Hearth does not implement (a typed error at load).
    UnsupportedOp(String),
    /// The model or its data uses a dtype Hearth does not compute (string, uint16, bfloat16, …).
    UnsupportedDType(String),
    Fail(String),
}

/// Loads `model`, feeds the serialised `TensorProto` inputs, and compares with the expected
/// outputs. Input names come from the `.pb` files, or from the model's input order.
pub fn run_case(model: &[u8], inputs: &[Vec<u8>], expected: &[Vec<u8>], tol: Tolerance) -> Outcome {
    run_case_with(model, inputs, expected, tol, &SessionOptions::default()).0
}

/// What a model that did not load counts as: an unsupported op or dtype is a skip, else a failure.
fn load_failure(e: &Error) -> Outcome {
    match e.root() {
        Error::UnsupportedOp { op, .. } => Outcome::UnsupportedOp(op.clone()),
        Error::UnsupportedDType(d) => Outcome::UnsupportedDType(d.clone()),
        _ => Outcome::Fail(format!("load: {e}")),
    }
}

/// [`run_case`] on the backend `options` choose; also returns the session (when it loaded), so
/// the caller can ask where its ops ran.
pub fn run_case_with(
    model: &[u8],
    inputs: &[Vec<u8>],
    expected: &[Vec<u8>],
    tol: Tolerance,
    options: &SessionOptions,
) -> (Outcome, Option<Session>) {
    let session = match Session::with_options(model, &[], options) {
        Ok(s) => s,
        Err(e) => return (load_failure(&e), None),
    };
    let outcome = drive(check(&session, inputs, expected, tol));
    (outcome, Some(session))
}

/// [`run_case_with`] for any target and backend: the session starts asynchronously and runs with
/// `run_async` (a WebGPU session in a browser reads back through `mapAsync`).
pub async fn run_case_async(
    model: &[u8],
    inputs: &[Vec<u8>],
    expected: &[Vec<u8>],
    tol: Tolerance,
    options: &SessionOptions,
) -> (Outcome, Option<Session>) {
    let session = match Session::with_options_async(model, &[], options).await {
        Ok(s) => s,
        Err(e) => return (load_failure(&e), None),
    };
    let outcome = check(&session, inputs, expected, tol).await;
    (outcome, Some(session))
}

/// Runs a check to completion: natively by blocking (a GPU readback polls the device); on wasm
/// only CPU sessions come here, whose futures never wait.
fn drive(f: impl std::future::Future<Output = Outcome>) -> Outcome {
    #[cfg(all(feature = "webgpu", not(target_arch = "wasm32")))]
    {
        crate::backend::webgpu::block_on(f)
    }
    #[cfg(not(all(feature = "webgpu", not(target_arch = "wasm32"))))]
    {
        crate::plan::exec::poll_once(f).unwrap_or_else(|| {
            Outcome::Fail("the run waited on the GPU: use run_case_async".into())
        })
    }
}

/// Decodes a serialised input or output for a value of `kind`.
fn decode(pb: &[u8], kind: ValueKind) -> Result<(String, Value), Error> {
    match kind {
        ValueKind::Tensor => tensor_from_pb(pb).map(|(n, t)| (n, Value::Tensor(t))),
        ValueKind::Sequence => value_from_pb(pb, false),
        ValueKind::Optional | ValueKind::OptionalSequence => value_from_pb(pb, true),
        ValueKind::Map | ValueKind::MapSequence => Err(Error::UnsupportedDType(
            "map values in the ONNX test data (no node test feeds one)".into(),
        )),
    }
}

/// ONNX's test data writes a bfloat16 tensor as its bits with data type uint16 (numpy has no
/// bfloat16): where the model declares bfloat16, a uint16 tensor is read as those bits.
fn bf16_from_bits(v: Value, declared: Option<DType>) -> Value {
    let Value::Tensor(t) = v else { return v };
    let bits = match (t.data(), declared) {
        (TensorData::U16(b), Some(DType::BF16)) => b.iter().map(|&x| half::bf16::from_bits(x)),
        _ => return Value::Tensor(t),
    };
    let data = TensorData::BF16(bits.collect());
    Value::Tensor(Tensor::new(t.shape().to_vec(), data).unwrap_or(t))
}

async fn check(
    session: &Session,
    inputs: &[Vec<u8>],
    expected: &[Vec<u8>],
    tol: Tolerance,
) -> Outcome {
    let mut feeds: Vec<(String, Value)> = Vec::new();
    for (k, pb) in inputs.iter().enumerate() {
        // the input this file feeds: by position, or by the name inside it
        let kind_at = session
            .inputs()
            .get(k)
            .map_or(ValueKind::Tensor, |i| i.kind);
        match decode(pb, kind_at) {
            Ok((name, v)) => {
                let name = if name.is_empty() || !session.inputs().iter().any(|i| i.name == name) {
                    match session.inputs().get(k) {
                        Some(i) => i.name.clone(),
                        None => return Outcome::Fail(format!("input {k} has no model input")),
                    }
                } else {
                    name
                };
                let declared = session
                    .inputs()
                    .iter()
                    .find(|i| i.name == name)
                    .and_then(|i| i.dtype);
                feeds.push((name, bf16_from_bits(v, declared)));
            }
            Err(Error::UnsupportedDType(d)) => return Outcome::UnsupportedDType(d),
            Err(e) => return Outcome::Fail(format!("input {k}: {e}")),
        }
    }
    // the node tests sometimes feed inputs that the model folded away (unused): drop those
    feeds.retain(|(n, _)| session.inputs().iter().any(|i| &i.name == n));
    let all_tensors = feeds.iter().all(|(_, v)| v.as_tensor().is_some())
        && session.inputs().iter().all(|i| i.kind == ValueKind::Tensor)
        && session
            .outputs()
            .iter()
            .all(|o| o.kind == ValueKind::Tensor);
    let got: Vec<Value> = if all_tensors {
        // the tensor path users take
        let refs: Vec<(&str, &Tensor)> = feeds
            .iter()
            .filter_map(|(n, v)| v.as_tensor().map(|t| (n.as_str(), t)))
            .collect();
        match session.run_async(&refs).await {
            Ok(g) => g.into_iter().map(Value::Tensor).collect(),
            Err(e) => return Outcome::Fail(format!("run: {e}")),
        }
    } else {
        let refs: Vec<(&str, &Value)> = feeds.iter().map(|(n, v)| (n.as_str(), v)).collect();
        match session.run_values_async(&refs).await {
            Ok(g) => g,
            Err(e) => return Outcome::Fail(format!("run: {e}")),
        }
    };
    if got.len() < expected.len() {
        return Outcome::Fail(format!(
            "{} outputs, expected {}",
            got.len(),
            expected.len()
        ));
    }
    for (k, pb) in expected.iter().enumerate() {
        let kind = session.outputs()[k].kind;
        let want = match decode(pb, kind) {
            Ok((_, v)) => bf16_from_bits(v, session.outputs()[k].dtype),
            Err(Error::UnsupportedDType(d)) => return Outcome::UnsupportedDType(d),
            Err(e) => return Outcome::Fail(format!("expected output {k}: {e}")),
        };
        if let Err(msg) = compare_values(&got[k], &want, tol) {
            return Outcome::Fail(format!("output {k} ({}): {msg}", session.outputs()[k].name));
        }
    }
    Outcome::Pass
}

/// Compares two values: the same kind and length, tensors by [`compare`].
pub fn compare_values(got: &Value, want: &Value, tol: Tolerance) -> Result<(), String> {
    match (got, want) {
        (Value::Tensor(g), Value::Tensor(w)) => compare(g, w, tol),
        (Value::Sequence(g), Value::Sequence(w)) => {
            if g.len() != w.len() {
                return Err(format!(
                    "a sequence of {} but expected {}",
                    g.len(),
                    w.len()
                ));
            }
            for (i, (a, b)) in g.iter().zip(w).enumerate() {
                compare_values(a, b, tol).map_err(|e| format!("element {i}: {e}"))?;
            }
            Ok(())
        }
        (Value::Optional(g), Value::Optional(w)) => match (g, w) {
            (None, None) => Ok(()),
            (Some(a), Some(b)) => compare_values(a, b, tol),
            (a, _) => Err(format!(
                "the optional is {} but expected {}",
                if a.is_some() { "full" } else { "empty" },
                if a.is_some() { "empty" } else { "full" }
            )),
        },
        (g, w) => Err(format!("a {} but expected a {}", g.kind(), w.kind())),
    }
}

/// Compares two tensors: same dtype and shape, values within `tol` (exact for integers/bool).
pub fn compare(got: &Tensor, want: &Tensor, tol: Tolerance) -> Result<(), String> {
    if got.dtype() != want.dtype() {
        return Err(format!(
            "dtype {} but expected {}",
            got.dtype(),
            want.dtype()
        ));
    }
    if got.shape() != want.shape() {
        return Err(format!(
            "shape {:?} but expected {:?}",
            got.shape(),
            want.shape()
        ));
    }
    if let (TensorData::Str(g), TensorData::Str(w)) = (got.data(), want.data()) {
        return match g.iter().zip(w).position(|(a, b)| a != b) {
            None => Ok(()),
            Some(i) => Err(format!(
                "strings differ at flat index {i}: got {:?}, expected {:?}",
                g[i], w[i]
            )),
        };
    }
    let exact = !matches!(
        want.data(),
        TensorData::F32(_) | TensorData::F16(_) | TensorData::F64(_) | TensorData::BF16(_)
    );
    let g = got.to_f64_vec();
    let w = want.to_f64_vec();
    let mut worst: Option<(usize, f64, f64)> = None;
    let mut bad = 0usize;
    for (i, (&a, &b)) in g.iter().zip(&w).enumerate() {
        let ok = if exact {
            a == b
        } else if b.is_nan() {
            a.is_nan()
        } else if b.is_infinite() {
            a == b
        } else {
            (a - b).abs() <= tol.atol + tol.rtol * b.abs()
        };
        if !ok {
            bad += 1;
            if worst.is_none() {
                worst = Some((i, a, b));
            }
        }
    }
    match worst {
        None => Ok(()),
        Some((i, a, b)) => Err(format!(
            "{bad} of {} values differ; first at flat index {i}: got {a}, expected {b}",
            g.len()
        )),
    }
}
