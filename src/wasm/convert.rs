//! Options in and results out through serde: option objects deserialize into `#[derive(Deserialize)]`
//! types, results serialize from `#[derive(Serialize)]` ones, as plain JS objects and arrays.
//! Tensors (typed arrays) do not pass through here: `mod.rs` moves their bytes directly.

use super::arg_error;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};

/// `v` as a `T`; a value of the wrong shape is an `ARGUMENT` error naming the field by its path
/// under `what` (`options.filter.priceMin: invalid type: string "x", expected f64`).
/// `undefined` and `null` read as absent wherever `T` has an `Option`.
pub(super) fn from_js<T: DeserializeOwned>(v: JsValue, what: &str) -> Result<T, JsValue> {
    use serde_path_to_error::Segment;
    serde_path_to_error::deserialize(serde_wasm_bindgen::Deserializer::from(v)).map_err(|e| {
        let mut at = what.to_string();
        for seg in e.path().iter() {
            match seg {
                Segment::Seq { index } => at.push_str(&format!("[{index}]")),
                Segment::Map { key } | Segment::Enum { variant: key } => {
                    at.push('.');
                    at.push_str(key);
                }
                Segment::Unknown => at.push_str(".?"),
            }
        }
        // serde-wasm-bindgen's error is a JS `Error`: its message, without the "Error: " prefix
        let js = JsValue::from(e.into_inner());
        let msg = js
            .dyn_ref::<js_sys::Error>()
            .map_or_else(|| format!("{js:?}"), |e| String::from(e.message()));
        arg_error(format!("{at}: {msg}"))
    })
}

/// `v` as a plain JS value: structs and maps become objects, `None` becomes `null`.
pub(super) fn to_js_value<T: Serialize + ?Sized>(v: &T) -> JsValue {
    // serializing these types cannot fail: no map keys other than strings, no integers past 2^53
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}

/// The shapes of the option objects and results above, in the generated `.d.ts`: the TypeScript
/// package types its calls into the glue with these instead of keeping its own copies.
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
export type Backend = 'cpu' | 'webgpu';
export type DTypeName = 'float32' | 'float16' | 'float64' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint64' | 'uint32' | 'uint16' | 'uint8' | 'bool' | 'string';
export interface WasmTensor { data: ArrayBufferView & { buffer: ArrayBufferLike }; dims: number[]; type: DTypeName }
export interface IoInfo { name: string; kind?: 'sequence' | 'optional' | 'optionalSequence' | 'map' | 'mapSequence'; type: DTypeName | null; keyType?: 'int64' | 'string'; dims: Array<number | string | null> | null }
export interface BackendProbe { cpuMs: number | null; gpuMs: number | null; adapter: string | null; backend: Backend; reason: string; cached: boolean }
export interface Placement { gpu: Record<string, number>; cpu: Record<string, number>; fused: number; uploads: number; downloads: number; declined: Array<[string, string]> }
export interface GpuBuffers { created: number; createdBytes: number; idle: number }
export interface ItemMeta { id: string; name?: string; category?: string; price?: number; inStock?: boolean; [field: string]: unknown }
export interface HearthEvent { item: string; event: string; weight?: number; ts?: number }
export interface QueryOptions {
  k?: number; exclude?: 'seen' | 'none'; allow?: string | string[] | null; deny?: string | string[] | null;
  filter?: { category?: string | string[] | null; priceMin?: number | null; priceMax?: number | null; inStock?: boolean | null } | null;
  boost?: Record<string, number> | null; diversity?: number | null; now?: number | null; explain?: number | null;
}
export interface RecommendOptions extends QueryOptions { events?: HearthEvent[] | null }
export interface Recommendation { id: string; score: number; item: ItemMeta; because: string[] }
export interface ScoredItem { id: string; score: number; item: ItemMeta }
export interface RecommenderInfo {
  version: number; numItems: number; dim: number; dtype: string; metric: 'dot' | 'cosine'; hasPopularity: boolean;
  hasUserModel: boolean; categories: string[]; attribution: string[]; foldIn: Record<string, unknown>; source: unknown;
}
"#;
