//! The recommender at the JS boundary: `Recommender` and `Profile` classes.
//!
//! Options objects mirror [`crate::recommend::Query`] in camelCase:
//! `{ k = 10, exclude = 'seen' | 'none', allow?, deny?, filter?: { category, priceMin, priceMax,
//! inStock }, boost?: { [id]: number }, diversity = 0, now?, explain = 3 }`. Results are
//! `[{ id, score, item: { …metadata }, because: [ids] }]`.

use super::{arg_error, get, to_js};
use crate::bundle::{AlignedBytes, Bundle, ItemMeta};
use crate::recommend::{Event, Filter, Profile, Query, Recommendation, Recommender};
use js_sys::{Array, Float32Array, Object, Reflect, Uint8Array};
use std::rc::Rc;
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

pub(super) fn set(o: &Object, k: &str, v: impl Into<JsValue>) {
    let _ = Reflect::set(o, &k.into(), &v.into());
}

fn opt_f64(o: &JsValue, key: &str, what: &str) -> Result<Option<f64>, JsValue> {
    let v = get(o, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_f64()
        .map(Some)
        .ok_or_else(|| arg_error(format!("{what}.{key} must be a number")))
}

fn string_list(v: &JsValue, what: &str) -> Result<Vec<String>, JsValue> {
    if let Some(s) = v.as_string() {
        return Ok(vec![s]);
    }
    if !Array::is_array(v) {
        return Err(arg_error(format!(
            "{what} must be a string or an array of strings"
        )));
    }
    Array::from(v)
        .iter()
        .map(|x| {
            x.as_string()
                .ok_or_else(|| arg_error(format!("{what} must contain only strings")))
        })
        .collect()
}

pub(super) fn parse_query(o: &JsValue) -> Result<Query, JsValue> {
    let mut q = Query::default();
    if o.is_undefined() || o.is_null() {
        return Ok(q);
    }
    if !o.is_object() {
        return Err(arg_error("options must be an object".into()));
    }
    if let Some(k) = opt_f64(o, "k", "options")? {
        if !(k >= 1.0 && k.fract() == 0.0 && k <= 10_000.0) {
            return Err(arg_error(format!(
                "options.k = {k} must be an integer in 1..=10000"
            )));
        }
        q.k = k as usize;
    }
    let ex = get(o, "exclude");
    if !ex.is_undefined() {
        q.exclude_seen = match ex.as_string().as_deref() {
            Some("seen") => true,
            Some("none") => false,
            _ => return Err(arg_error("options.exclude must be 'seen' or 'none'".into())),
        };
    }
    let allow = get(o, "allow");
    if !allow.is_undefined() && !allow.is_null() {
        q.allow = Some(string_list(&allow, "options.allow")?);
    }
    let deny = get(o, "deny");
    if !deny.is_undefined() && !deny.is_null() {
        q.deny = string_list(&deny, "options.deny")?;
    }
    let f = get(o, "filter");
    if !f.is_undefined() && !f.is_null() {
        let cat = get(&f, "category");
        q.filter = Filter {
            categories: if cat.is_undefined() || cat.is_null() {
                Vec::new()
            } else {
                string_list(&cat, "options.filter.category")?
            },
            price_min: opt_f64(&f, "priceMin", "options.filter")?,
            price_max: opt_f64(&f, "priceMax", "options.filter")?,
            in_stock: {
                let v = get(&f, "inStock");
                if v.is_undefined() || v.is_null() {
                    None
                } else {
                    Some(v.as_bool().ok_or_else(|| {
                        arg_error("options.filter.inStock must be a boolean".into())
                    })?)
                }
            },
        };
    }
    let b = get(o, "boost");
    if !b.is_undefined() && !b.is_null() {
        let entries = Object::entries(b.dyn_ref::<Object>().ok_or_else(|| {
            arg_error("options.boost must be an object { [itemId]: number }".into())
        })?);
        for e in entries.iter() {
            let e = Array::from(&e);
            let id = e.get(0).as_string().unwrap_or_default();
            let v = e
                .get(1)
                .as_f64()
                .ok_or_else(|| arg_error(format!("options.boost['{id}'] must be a number")))?;
            q.boost.push((id, v as f32));
        }
    }
    if let Some(d) = opt_f64(o, "diversity", "options")? {
        q.diversity = d as f32;
    }
    q.now = opt_f64(o, "now", "options")?;
    if let Some(e) = opt_f64(o, "explain", "options")? {
        q.explain = e.clamp(0.0, 50.0) as usize;
    }
    Ok(q)
}

/// A profile's options: a query, without `events` (the profile has its own).
pub(super) fn profile_query(o: &JsValue) -> Result<Query, JsValue> {
    let q = parse_query(o)?;
    if !get(o, "events").is_undefined() {
        return Err(arg_error(
            "options.events is for Recommender.recommend; a Profile uses its own events".into(),
        ));
    }
    Ok(q)
}

fn parse_event(v: &JsValue) -> Result<Event, JsValue> {
    let item = get(v, "item")
        .as_string()
        .ok_or_else(|| arg_error("event.item must be an item id string".into()))?;
    let kind = get(v, "event").as_string().ok_or_else(|| {
        arg_error(format!(
            "event.event for item '{item}' must be a string such as 'view'"
        ))
    })?;
    Ok(Event {
        weight: opt_f64(v, "weight", "event")?.map(|w| w as f32),
        ts: opt_f64(v, "ts", "event")?,
        item,
        kind,
    })
}

fn event_to_js(e: &Event) -> JsValue {
    let o = Object::new();
    set(&o, "item", e.item.as_str());
    set(&o, "event", e.kind.as_str());
    if let Some(w) = e.weight {
        set(&o, "weight", w as f64);
    }
    if let Some(t) = e.ts {
        set(&o, "ts", t);
    }
    o.into()
}

/// A serde value as a plain JS value (through JSON).
fn json<T: serde::Serialize + ?Sized>(v: &T) -> JsValue {
    serde_json::to_string(v)
        .ok()
        .and_then(|s| js_sys::JSON::parse(&s).ok())
        .unwrap_or(JsValue::NULL)
}

fn meta_to_js(m: &ItemMeta) -> JsValue {
    json(m)
}

pub(super) fn results_to_js(rec: &Recommender, rs: &[Recommendation]) -> Array {
    rs.iter()
        .map(|r| {
            let o = Object::new();
            set(&o, "id", rec.id(r.item));
            set(&o, "score", r.score as f64);
            set(&o, "item", meta_to_js(rec.item(r.item)));
            let because: Array = r
                .because
                .iter()
                .map(|i| JsValue::from(rec.id(*i)))
                .collect();
            set(&o, "because", because);
            JsValue::from(o)
        })
        .collect()
}

fn pairs_to_js(rec: &Recommender, rs: &[(u32, f32)]) -> Array {
    rs.iter()
        .map(|(i, s)| {
            let o = Object::new();
            set(&o, "id", rec.id(*i));
            set(&o, "score", *s as f64);
            set(&o, "item", meta_to_js(rec.item(*i)));
            JsValue::from(o)
        })
        .collect()
}

/// A loaded `.hearth` recommender bundle.
#[wasm_bindgen(js_name = Recommender)]
pub struct WasmRecommender {
    pub(super) inner: Rc<Recommender>,
    /// The GPU scorer, when the recommender was created on WebGPU.
    #[cfg(feature = "webgpu")]
    pub(super) gpu: Rc<super::recommend_gpu::GpuSlot>,
}

#[wasm_bindgen(js_class = Recommender)]
impl WasmRecommender {
    /// Parses a bundle. The bytes are copied once into wasm memory and read in place.
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &Uint8Array) -> Result<WasmRecommender, JsValue> {
        let mut buf = AlignedBytes::zeroed(bytes.length() as usize);
        bytes.copy_to(buf.as_mut());
        let bundle = Bundle::from_aligned(Arc::new(buf)).map_err(to_js)?;
        Ok(WasmRecommender {
            inner: Rc::new(Recommender::from_bundle(bundle).map_err(to_js)?),
            #[cfg(feature = "webgpu")]
            gpu: Rc::default(),
        })
    }

    /// `{ version, numItems, dim, dtype, metric, hasPopularity, hasUserModel, categories,
    /// attribution, foldIn, source }`.
    pub fn info(&self) -> Object {
        let r = &self.inner;
        let m = r.manifest();
        let o = Object::new();
        set(&o, "version", m.version);
        set(&o, "numItems", r.len() as f64);
        set(&o, "dim", r.dim() as f64);
        set(&o, "dtype", r.dtype().name());
        set(
            &o,
            "metric",
            if m.metric == crate::bundle::Metric::Dot {
                "dot"
            } else {
                "cosine"
            },
        );
        set(&o, "hasPopularity", r.has_popularity());
        set(&o, "hasUserModel", r.user_model().is_some());
        let cats: Array = r
            .categories()
            .iter()
            .map(|c| JsValue::from(c.as_str()))
            .collect();
        set(&o, "categories", cats);
        let attr: Array = m
            .attribution
            .iter()
            .map(|c| JsValue::from(c.as_str()))
            .collect();
        set(&o, "attribution", attr);
        set(&o, "foldIn", json(&m.fold_in));
        set(&o, "source", m.source.as_ref().map_or(JsValue::NULL, json));
        o
    }

    /// Every item id, in table order.
    #[wasm_bindgen(js_name = itemIds)]
    pub fn item_ids(&self) -> Array {
        self.inner
            .manifest()
            .items
            .iter()
            .map(|i| JsValue::from(i.id.as_str()))
            .collect()
    }

    /// Metadata of one item, or `undefined` for an unknown id.
    pub fn item(&self, id: &str) -> JsValue {
        self.inner
            .index_of(id)
            .map_or(JsValue::UNDEFINED, |i| meta_to_js(self.inner.item(i)))
    }

    /// Stateless recommendation: `options.events` (may be empty: cold start) are folded in.
    pub fn recommend(&self, options: JsValue) -> Result<Array, JsValue> {
        let q = parse_query(&options)?;
        let mut p = self.events_profile(&options)?;
        let rs = self.inner.recommend(&mut p, &q).map_err(to_js)?;
        Ok(results_to_js(&self.inner, &rs))
    }

    /// A profile of `options.events` (none: an empty profile).
    pub(super) fn events_profile(&self, options: &JsValue) -> Result<Profile, JsValue> {
        let mut p = Profile::new(self.inner.dim());
        let evs = get(options, "events");
        if !evs.is_undefined() && !evs.is_null() {
            if !Array::is_array(&evs) {
                return Err(arg_error(
                    "options.events must be an array of events".into(),
                ));
            }
            for e in Array::from(&evs).iter() {
                p.record(&self.inner, parse_event(&e)?).map_err(to_js)?;
            }
        }
        Ok(p)
    }

    /// Recommendations for a user vector computed elsewhere (e.g. the bundle's user tower).
    #[wasm_bindgen(js_name = recommendVector)]
    pub fn recommend_vector(
        &self,
        vector: &Float32Array,
        options: JsValue,
    ) -> Result<Array, JsValue> {
        let q = parse_query(&options)?;
        let rs = self
            .inner
            .recommend_vector(&vector.to_vec(), &q)
            .map_err(to_js)?;
        Ok(results_to_js(&self.inner, &rs))
    }

    /// Top-k for many user vectors (`users` is `m × dim`): an array of `m` result arrays.
    #[wasm_bindgen(js_name = recommendBatch)]
    pub fn recommend_batch(&self, users: &Float32Array, k: usize) -> Result<Array, JsValue> {
        let rs = self
            .inner
            .recommend_batch(&users.to_vec(), k)
            .map_err(to_js)?;
        Ok(rs
            .iter()
            .map(|r| JsValue::from(pairs_to_js(&self.inner, r)))
            .collect())
    }

    /// Items most similar to `id` (cosine of item vectors); filters and diversity apply.
    pub fn similar(&self, id: &str, options: JsValue) -> Result<Array, JsValue> {
        let q = parse_query(&options)?;
        let rs = self.inner.similar(id, &q).map_err(to_js)?;
        Ok(pairs_to_js(&self.inner, &rs))
    }

    /// The ONNX bytes of the bundle's user tower (load them with `Session.fromBytes`).
    #[wasm_bindgen(js_name = userModel)]
    pub fn user_model(&self) -> Option<Uint8Array> {
        self.inner.user_model().map(Uint8Array::from)
    }

    /// A new, empty profile bound to this recommender.
    #[wasm_bindgen(js_name = newProfile)]
    pub fn new_profile(&self) -> WasmProfile {
        WasmProfile {
            rec: self.inner.clone(),
            p: Profile::new(self.inner.dim()),
            #[cfg(feature = "webgpu")]
            gpu: self.gpu.clone(),
        }
    }
}

/// A user's interactions, folded in incrementally (O(d²) per event).
#[wasm_bindgen(js_name = Profile)]
pub struct WasmProfile {
    pub(super) rec: Rc<Recommender>,
    pub(super) p: Profile,
    #[cfg(feature = "webgpu")]
    pub(super) gpu: Rc<super::recommend_gpu::GpuSlot>,
}

#[wasm_bindgen(js_class = Profile)]
impl WasmProfile {
    /// Records `{ item, event, weight?, ts? }`; `false` when the item is not in the catalog
    /// (the event is kept for export, and ignored for scoring).
    pub fn record(&mut self, event: JsValue) -> Result<bool, JsValue> {
        let e = parse_event(&event)?;
        self.p.record(&self.rec, e).map_err(to_js)
    }

    /// Records an array of events; returns how many were on catalog items.
    #[wasm_bindgen(js_name = recordMany)]
    pub fn record_many(&mut self, events: &Array) -> Result<u32, JsValue> {
        let mut known = 0;
        for e in events.iter() {
            known += self.record(e)? as u32;
        }
        Ok(known)
    }

    pub fn recommend(&mut self, options: JsValue) -> Result<Array, JsValue> {
        let q = profile_query(&options)?;
        let rs = self.rec.recommend(&mut self.p, &q).map_err(to_js)?;
        Ok(results_to_js(&self.rec, &rs))
    }

    /// The folded-in user vector at `now` (ms), or `undefined` without catalog events.
    pub fn vector(&mut self, now: Option<f64>) -> Result<Option<Float32Array>, JsValue> {
        Ok(self
            .p
            .fold(&self.rec, now)
            .map_err(to_js)?
            .map(|f| Float32Array::from(&f.x[..])))
    }

    /// Every recorded event, oldest first (for export).
    pub fn events(&self) -> Array {
        self.p.events().iter().map(event_to_js).collect()
    }

    /// Number of recorded events.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> u32 {
        self.p.events().len() as u32
    }

    /// Forgets every event.
    pub fn clear(&mut self) {
        self.p.clear();
    }
}

/// Test hook: runs the SIMD128 scoring kernels against their scalar twins inside wasm, over
/// every length 0..=70 and every finite f16 value; returns the number of results that are not
/// bit-identical (0 expected).
#[doc(hidden)]
#[wasm_bindgen(js_name = recommendKernelCheck)]
pub fn recommend_kernel_check() -> u32 {
    use crate::recommend::kernels::{self, scalar};
    let mut s = 12345u32;
    let mut r = || {
        s = s.wrapping_mul(1664525).wrapping_add(1013904223);
        (s >> 8) as f32 / (1 << 24) as f32 * 2.0 - 1.0
    };
    let mut bad = 0;
    for d in 0..=70 {
        let a: Vec<f32> = (0..d).map(|_| r()).collect();
        let b: Vec<f32> = (0..d).map(|_| r()).collect();
        bad += (kernels::dot_f32(&a, &b).to_bits() != scalar::dot_f32(&a, &b).to_bits()) as u32;
        let h: Vec<u16> = a
            .iter()
            .map(|x| half::f16::from_f32(*x).to_bits())
            .collect();
        bad += (kernels::dot_f16(&h, &b).to_bits() != scalar::dot_f16(&h, &b).to_bits()) as u32;
        let q8: Vec<i8> = a.iter().map(|x| (x * 127.0) as i8).collect();
        let mut q16 = vec![0i16; d];
        kernels::quantize_query_i16(&b, &mut q16);
        bad += (kernels::dot_i8(&q8, &q16) != scalar::dot_i8(&q8, &q16)) as u32;
    }
    // every finite half through the SIMD conversion (16 halves per dot against a one-hot query;
    // compared by value: the sum turns -0 into +0)
    let all: Vec<u16> = (0..=u16::MAX).filter(|h| h & 0x7c00 != 0x7c00).collect();
    for chunk in all.chunks(16).filter(|c| c.len() == 16) {
        for k in 0..16 {
            let mut q = [0f32; 16];
            q[k] = 1.0;
            bad += (kernels::dot_f16(chunk, &q) != kernels::f16_to_f32(chunk[k])) as u32;
        }
    }
    bad
}
