//! The wasm-bindgen boundary: JS values in, JS values out, errors mapped once.
//!
//! Tensors cross as `{ data: TypedArray, dims: number[], type?: string }` (the shape of
//! onnxruntime-web's and tfjs's tensors). `type` is needed only where the typed array is
//! ambiguous: `'bool'` for a `Uint8Array` of 0/1, `'float16'` for a `Uint16Array` of half bits.
//! String tensors cross as a plain `string[]` (`type: 'string'`). An output written by
//! `ai.onnx.ml` `ZipMap` comes back as an array with one `{ label: probability }` object per row;
//! a map input (`DictVectorizer`, `CastMap`) is a plain `{ key: value }` object (`maps.rs`).
//! Errors are JS `Error`s with a stable `code` property ([`crate::Error::code`]).

mod convert;
#[cfg(feature = "education")]
mod education;
#[cfg(feature = "ml")]
mod maps;
mod recommend;
#[cfg(feature = "webgpu")]
mod recommend_gpu;
#[cfg(feature = "ml")]
mod tabular;
#[cfg(feature = "test-api")]
mod testing;

use crate::error::Error;
use crate::session::Session;
use crate::tensor::{DType, Tensor, TensorData};
use crate::value::Value;
use convert::to_js_value;
use half::f16;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

fn js_error(code: &str, msg: &str) -> JsValue {
    let e = js_sys::Error::new(msg);
    let _ = Reflect::set(&e, &"code".into(), &code.into());
    e.into()
}

fn to_js(e: Error) -> JsValue {
    js_error(e.code(), &e.to_string())
}

fn arg_error(msg: String) -> JsValue {
    js_error("ARGUMENT", &msg)
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// The dtypes that cross the boundary, in [`DType`]'s order (`dtypes()` lists their names).
const DTYPES: [DType; 14] = [
    DType::F32,
    DType::F16,
    DType::F64,
    DType::I64,
    DType::I32,
    DType::I8,
    DType::U8,
    DType::Bool,
    DType::Str,
    DType::I16,
    DType::U16,
    DType::U32,
    DType::U64,
    DType::BF16,
];

/// The property and dtype names every run reads and writes, made into JS strings once: a
/// string made from wasm memory costs a UTF-8 decode and, as a property key, an
/// internalisation each time (about a quarter of a small model's run, measured in Node).
struct Keys {
    data: JsValue,
    dims: JsValue,
    ty: JsValue,
    /// `DTYPES[i].name()`
    dtypes: Vec<JsValue>,
}

thread_local! {
    static KEYS: Keys = Keys {
        data: "data".into(),
        dims: "dims".into(),
        ty: "type".into(),
        dtypes: DTYPES.iter().map(|d| JsValue::from(d.name())).collect(),
    };
}

fn with_keys<R>(f: impl FnOnce(&Keys) -> R) -> R {
    KEYS.with(f)
}

/// A session's input and output names as JS strings (made at load, read on every run).
struct Names {
    inputs: Vec<JsValue>,
    outputs: Vec<JsValue>,
}

impl Names {
    fn of(s: &Session) -> Names {
        let js = |v: &[crate::session::IoInfo]| v.iter().map(|i| i.name.as_str().into()).collect();
        Names {
            inputs: js(s.inputs()),
            outputs: js(s.outputs()),
        }
    }
}

/// A loaded model (the `Session` class in JS).
#[wasm_bindgen(js_name = Session)]
pub struct WasmSession {
    // shared with the futures of `runAsync` (which outlive the `&self` borrow)
    inner: std::rc::Rc<Session>,
    names: std::rc::Rc<Names>,
}

impl WasmSession {
    fn new(inner: Session) -> WasmSession {
        WasmSession {
            names: std::rc::Rc::new(Names::of(&inner)),
            inner: std::rc::Rc::new(inner),
        }
    }
}

fn tensor_from_js(name: &str, v: &JsValue) -> Result<Tensor, JsValue> {
    let (data, dims_js) = with_keys(|k| {
        let at = |key: &JsValue| Reflect::get(v, key).unwrap_or(JsValue::UNDEFINED);
        (at(&k.data), at(&k.dims))
    });
    // `type` matters only for the ambiguous typed arrays: read it there
    let ty = || with_keys(|k| Reflect::get(v, &k.ty).ok().and_then(|t| t.as_string()));
    if !Array::is_array(&dims_js) {
        return Err(arg_error(format!(
            "input '{name}': dims must be an array of sizes"
        )));
    }
    let mut dims = Vec::new();
    for d in Array::from(&dims_js).iter() {
        let n = d
            .as_f64()
            .filter(|n| *n >= 0.0 && n.fract() == 0.0 && *n < 4294967296.0);
        dims.push(n.ok_or_else(|| {
            arg_error(format!(
                "input '{name}': dims must be non-negative integers, got {d:?}"
            ))
        })? as usize);
    }
    let td = if Array::is_array(&data) {
        let a = Array::from(&data);
        let mut v = Vec::with_capacity(a.length() as usize);
        for (i, s) in a.iter().enumerate() {
            v.push(s.as_string().ok_or_else(|| {
                arg_error(format!(
                    "input '{name}': data[{i}] is not a string (an array of data is a string tensor)"
                ))
            })?);
        }
        TensorData::Str(v)
    } else if let Some(a) = data.dyn_ref::<js_sys::Float32Array>() {
        TensorData::F32(a.to_vec())
    } else if let Some(a) = data.dyn_ref::<js_sys::Float64Array>() {
        TensorData::F64(a.to_vec())
    } else if let Some(a) = data.dyn_ref::<js_sys::BigInt64Array>() {
        TensorData::I64(a.to_vec())
    } else if let Some(a) = data.dyn_ref::<js_sys::Int32Array>() {
        TensorData::I32(a.to_vec())
    } else if let Some(a) = data.dyn_ref::<js_sys::Int8Array>() {
        TensorData::I8(a.to_vec())
    } else if let Some(a) = data.dyn_ref::<js_sys::Uint8Array>() {
        if ty().as_deref() == Some("bool") {
            TensorData::Bool(a.to_vec().into_iter().map(|b| b != 0).collect())
        } else {
            TensorData::U8(a.to_vec())
        }
    } else if let Some(a) = data.dyn_ref::<js_sys::Uint16Array>() {
        match ty().as_deref() {
            Some("float16") => TensorData::F16(a.to_vec().into_iter().map(f16::from_bits).collect()),
            Some("bfloat16") => {
                TensorData::BF16(a.to_vec().into_iter().map(half::bf16::from_bits).collect())
            }
            Some("uint16") => TensorData::U16(a.to_vec()),
            _ => {
                return Err(arg_error(format!(
                    "input '{name}': a Uint16Array needs type 'uint16', or 'float16' / 'bfloat16' for those bits"
                )))
            }
        }
    } else if let Some(a) = data.dyn_ref::<js_sys::Int16Array>() {
        TensorData::I16(a.to_vec())
    } else if let Some(a) = data.dyn_ref::<js_sys::Uint32Array>() {
        TensorData::U32(a.to_vec())
    } else if let Some(a) = data.dyn_ref::<js_sys::BigUint64Array>() {
        TensorData::U64(a.to_vec())
    } else {
        return Err(arg_error(format!(
            "input '{name}': data must be a Float32Array, Float64Array, BigInt64Array, BigUint64Array, Int32Array, Uint32Array, Int16Array, Uint16Array (with its type), Int8Array, Uint8Array or an array of strings"
        )));
    };
    Tensor::new(dims, td).map_err(|e| arg_error(format!("input '{name}': {e}")))
}

fn tensor_to_js(t: &Tensor) -> JsValue {
    let o = Object::new();
    let data: JsValue = match t.data() {
        TensorData::F32(v) => js_sys::Float32Array::from(&v[..]).into(),
        TensorData::F64(v) => js_sys::Float64Array::from(&v[..]).into(),
        TensorData::F16(v) => {
            let bits: Vec<u16> = v.iter().map(|x| x.to_bits()).collect();
            js_sys::Uint16Array::from(&bits[..]).into()
        }
        TensorData::I64(v) => js_sys::BigInt64Array::from(&v[..]).into(),
        TensorData::I32(v) => js_sys::Int32Array::from(&v[..]).into(),
        TensorData::I8(v) => js_sys::Int8Array::from(&v[..]).into(),
        TensorData::U8(v) => js_sys::Uint8Array::from(&v[..]).into(),
        TensorData::Bool(v) => {
            let b: Vec<u8> = v.iter().map(|&x| x as u8).collect();
            js_sys::Uint8Array::from(&b[..]).into()
        }
        TensorData::Str(v) => v
            .iter()
            .map(|s| JsValue::from(s.as_str()))
            .collect::<Array>()
            .into(),
        TensorData::I16(v) => js_sys::Int16Array::from(&v[..]).into(),
        TensorData::U16(v) => js_sys::Uint16Array::from(&v[..]).into(),
        TensorData::U32(v) => js_sys::Uint32Array::from(&v[..]).into(),
        TensorData::U64(v) => js_sys::BigUint64Array::from(&v[..]).into(),
        TensorData::BF16(v) => {
            let bits: Vec<u16> = v.iter().map(|x| x.to_bits()).collect();
            js_sys::Uint16Array::from(&bits[..]).into()
        }
    };
    let dims: Array = t.shape().iter().map(|&d| JsValue::from(d as f64)).collect();
    with_keys(|k| {
        let _ = Reflect::set(&o, &k.data, &data);
        let _ = Reflect::set(&o, &k.dims, &dims);
        let _ = match DTYPES.iter().position(|&d| d == t.dtype()) {
            Some(i) => Reflect::set(&o, &k.ty, &k.dtypes[i]),
            None => Reflect::set(&o, &k.ty, &t.dtype().name().into()),
        };
    });
    o.into()
}

#[wasm_bindgen(js_class = Session)]
impl WasmSession {
    /// Loads an ONNX model. `external` holds the model's external-data files as
    /// `[[fileName, Uint8Array], …]` (PyTorch's exporter writes weights beside the model).
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &[u8], external: Option<Array>) -> Result<WasmSession, JsValue> {
        let files = external_files(external)?;
        let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, d)| (n.as_str(), &d[..])).collect();
        Session::from_bytes_with_external_data(bytes, &refs)
            .map(WasmSession::new)
            .map_err(to_js)
    }

    /// `await Session.create(bytes, backend, external?)`: loads a model on `'cpu'`, `'webgpu'` or `'auto'`
    /// (default `'auto'`). `'webgpu'` rejects with code `BACKEND_UNAVAILABLE` and the reason when
    /// no GPU device starts; `'auto'` keeps the GPU only when a timed probe of this model beats
    /// the CPU (see `backendProbe`).
    #[cfg(feature = "webgpu")]
    pub async fn create(
        bytes: Vec<u8>,
        backend: Option<String>,
        external: Option<Array>,
    ) -> Result<WasmSession, JsValue> {
        let backend = crate::session::BackendChoice::parse(backend.as_deref().unwrap_or("auto"))
            .map_err(to_js)?;
        let opts = crate::session::SessionOptions { backend };
        let files = external_files(external)?;
        let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, d)| (n.as_str(), &d[..])).collect();
        Session::with_options_async(&bytes, &refs, &opts)
            .await
            .map(WasmSession::new)
            .map_err(to_js)
    }

    /// `await session.runAsync(feeds)`: as `run`, on any backend; on WebGPU the readback awaits
    /// `mapAsync`, so the page never blocks. A lost GPU device moves the session to the CPU and
    /// the run completes there (`backend` then says `'cpu'`).
    #[cfg(feature = "webgpu")]
    #[wasm_bindgen(js_name = runAsync, unchecked_return_type = "Promise<Record<string, WasmTensor>>")]
    pub fn run_async(&self, feeds: &JsValue) -> Result<js_sys::Promise, JsValue> {
        let owned = feeds_from_js(&self.inner, &self.names, feeds)?;
        let inner = self.inner.clone();
        let names = self.names.clone();
        Ok(wasm_bindgen_futures::future_to_promise(async move {
            #[cfg(feature = "ml")]
            if owned.iter().any(|(_, v)| v.as_tensor().is_none()) {
                let refs: Vec<(&str, &Value)> =
                    owned.iter().map(|(n, v)| (n.as_str(), v)).collect();
                let outs = inner.run_values_async(&refs).await.map_err(to_js)?;
                return Ok(maps::outputs_to_js(&inner, &outs).into());
            }
            let outs = inner
                .run_async(&tensor_feeds(&owned))
                .await
                .map_err(to_js)?;
            Ok(outputs_to_js(&inner, &names, &outs).into())
        }))
    }

    /// What `'auto'` measured: `{ cpuMs, gpuMs, adapter, backend, reason, cached }`, or null.
    #[cfg(feature = "webgpu")]
    #[wasm_bindgen(getter, js_name = backendProbe, unchecked_return_type = "BackendProbe | null")]
    pub fn backend_probe(&self) -> JsValue {
        to_js_value(&self.inner.backend_probe())
    }

    /// Why a WebGPU session moved to the CPU (e.g. the device was lost), or null.
    #[cfg(feature = "webgpu")]
    #[wasm_bindgen(getter, js_name = fallbackReason)]
    pub fn fallback_reason(&self) -> Option<String> {
        self.inner.fallback_reason()
    }

    /// Where the last WebGPU run's ops ran: `{ gpu: {op: n}, cpu: {op: n}, fused, uploads,
    /// downloads, declined: [[node, why]] }` (`declined`: GPU nodes whose inputs did not fit
    /// their kernel in that run, so the CPU ran them), or null on the CPU backend.
    #[cfg(feature = "webgpu")]
    #[wasm_bindgen(getter, unchecked_return_type = "Placement | null")]
    pub fn placement(&self) -> JsValue {
        to_js_value(&self.inner.placement())
    }

    /// GPU buffers of this session's device: `{ created, createdBytes, idle }` (created only grows
    /// when the pool has no free buffer of a needed size), or null on the CPU backend.
    #[cfg(feature = "webgpu")]
    #[wasm_bindgen(getter, js_name = gpuBuffers, unchecked_return_type = "GpuBuffers | null")]
    pub fn gpu_buffers(&self) -> JsValue {
        to_js_value(&self.inner.gpu_device().map(|d| d.pool_stats()))
    }

    /// Test hook (feature `test-api`): destroys this session's GPU device (as
    /// `GPUDevice.destroy()` would), to check that the next run falls back to the CPU. Other
    /// sessions on the page lose it too.
    #[cfg(all(feature = "webgpu", feature = "test-api"))]
    #[wasm_bindgen(js_name = destroyGpuDeviceForTest)]
    pub fn destroy_gpu_device_for_test(&self) {
        if let Some(d) = self.inner.gpu_device() {
            d.destroy();
        }
    }

    /// Test hook (feature `test-api`): compiles WGSL `src` on this session's GPU device the way
    /// Hearth compiles its shaders, to check that a shader the browser rejects moves the session
    /// to the CPU.
    #[cfg(all(feature = "webgpu", feature = "test-api"))]
    #[wasm_bindgen(js_name = compileShaderForTest)]
    pub fn compile_shader_for_test(&self, src: &str) -> Result<(), JsValue> {
        match self.inner.gpu_device() {
            Some(d) => d.compile_for_test(src).map_err(to_js),
            None => Err(arg_error("this session has no GPU device".into())),
        }
    }

    /// `[{ name, type, dims }]` of the inputs; dims hold numbers, symbolic names or null.
    #[wasm_bindgen(getter, unchecked_return_type = "IoInfo[]")]
    pub fn inputs(&self) -> JsValue {
        to_js_value(self.inner.inputs())
    }

    /// `[{ name, type, dims }]` of the outputs.
    #[wasm_bindgen(getter, unchecked_return_type = "IoInfo[]")]
    pub fn outputs(&self) -> JsValue {
        to_js_value(self.inner.outputs())
    }

    /// Which backend runs the model: `'webgpu'` or `'cpu'`.
    #[wasm_bindgen(getter, unchecked_return_type = "Backend")]
    pub fn backend(&self) -> String {
        self.inner.backend().to_string()
    }

    /// Runs the model: `feeds` maps input names to tensors; returns an object mapping output
    /// names to `{ data, dims, type }`.
    #[wasm_bindgen(unchecked_return_type = "Record<string, WasmTensor>")]
    pub fn run(&self, feeds: &JsValue) -> Result<Object, JsValue> {
        let owned = feeds_from_js(&self.inner, &self.names, feeds)?;
        #[cfg(feature = "ml")]
        if owned.iter().any(|(_, v)| v.as_tensor().is_none()) {
            return self.run_maps(&owned);
        }
        let outs = self.inner.run(&tensor_feeds(&owned)).map_err(to_js)?;
        Ok(outputs_to_js(&self.inner, &self.names, &outs))
    }
}

/// A model's external-data files from `[[fileName, Uint8Array], …]`.
fn external_files(external: Option<Array>) -> Result<Vec<(String, Vec<u8>)>, JsValue> {
    let mut files = Vec::new();
    for (k, pair) in external.iter().flat_map(|a| a.iter()).enumerate() {
        let name = Reflect::get(&pair, &0.into())
            .ok()
            .and_then(|n| n.as_string());
        let data = Reflect::get(&pair, &1.into())
            .ok()
            .and_then(|d| d.dyn_into::<js_sys::Uint8Array>().ok());
        match (name, data) {
            (Some(n), Some(d)) => files.push((n, d.to_vec())),
            _ => {
                return Err(arg_error(format!(
                    "external[{k}] must be [fileName: string, bytes: Uint8Array]"
                )))
            }
        }
    }
    Ok(files)
}

/// The feeds by input name: tensors, and (feature `ml`) maps for map inputs.
fn feeds_from_js(
    session: &Session,
    names: &Names,
    feeds: &JsValue,
) -> Result<Vec<(String, Value)>, JsValue> {
    if !feeds.is_object() {
        return Err(arg_error(
            "feeds must be an object mapping input names to tensors".into(),
        ));
    }
    let keys = Object::keys(feeds.unchecked_ref::<Object>());
    let mut owned: Vec<(String, Value)> = Vec::with_capacity(keys.length() as usize);
    // the usual call, exactly the model's inputs (as many own keys as inputs, each input an
    // own key: the same set of names): read them by the names made at load, so no string
    // crosses; anything else (a missing, extra or misspelt name) takes the general path,
    // whose names reach the session's checks
    if keys.length() as usize == names.inputs.len() {
        let obj = feeds.unchecked_ref::<Object>();
        for (info, key) in session.inputs().iter().zip(&names.inputs) {
            let v = Reflect::get(feeds, key).unwrap_or(JsValue::UNDEFINED);
            if v.is_undefined() || !Object::has_own(obj, key) {
                owned.clear();
                break;
            }
            owned.push((info.name.clone(), feed_from_js(session, &info.name, &v)?));
        }
        if owned.len() == names.inputs.len() {
            return Ok(owned);
        }
    }
    for k in keys.iter() {
        let name = k.as_string().unwrap_or_default();
        let v = get(feeds, &name);
        let f = feed_from_js(session, &name, &v)?;
        owned.push((name, f));
    }
    Ok(owned)
}

/// One feed: a map for a map input (feature `ml`), else a tensor.
fn feed_from_js(session: &Session, name: &str, v: &JsValue) -> Result<Value, JsValue> {
    #[cfg(feature = "ml")]
    if let Some(info) = maps::map_input(session, name) {
        return maps::map_from_js(info, v);
    }
    #[cfg(not(feature = "ml"))]
    let _ = session;
    Ok(Value::Tensor(tensor_from_js(name, v)?))
}

/// The tensor feeds (every feed, when none is a map).
fn tensor_feeds(owned: &[(String, Value)]) -> Vec<(&str, &Tensor)> {
    owned
        .iter()
        .filter_map(|(n, v)| v.as_tensor().map(|t| (n.as_str(), t)))
        .collect()
}

fn outputs_to_js(session: &Session, names: &Names, outs: &[Tensor]) -> Object {
    let result = Object::new();
    for (k, (name, t)) in names.outputs.iter().zip(outs).enumerate() {
        let v = match session.zipmap_labels(k) {
            Some(labels) => zipmap_to_js(labels, t),
            None => tensor_to_js(t),
        };
        let _ = Reflect::set(&result, name, &v);
    }
    result
}

/// A ZipMap output: one `{ label: probability }` object per row of its `[N, C]` input.
fn zipmap_to_js(labels: &crate::ir::ops::ml::Labels, t: &Tensor) -> JsValue {
    use crate::ir::ops::ml::Labels;
    let keys: Vec<JsValue> = match labels {
        Labels::I64(l) => l.iter().map(|k| JsValue::from(k.to_string())).collect(),
        Labels::Str(l) => l.iter().map(|k| JsValue::from(k.as_str())).collect(),
    };
    let c = keys.len().max(1);
    let p = t.to_f64_vec();
    p.chunks(c)
        .map(|row| {
            let o = Object::new();
            for (k, &v) in keys.iter().zip(row) {
                let _ = Reflect::set(&o, k, &JsValue::from(v));
            }
            JsValue::from(o)
        })
        .collect::<Array>()
        .into()
}

/// The dtype names tensors use across the boundary.
#[wasm_bindgen(js_name = dtypes)]
pub fn dtypes() -> Array {
    with_keys(|k| k.dtypes.iter().collect())
}
