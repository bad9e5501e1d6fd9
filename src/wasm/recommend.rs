//! The recommender at the JS boundary: `Recommender` and `Profile` classes.
//!
//! Options objects mirror [`crate::recommend::Query`] in camelCase:
//! `{ k = 10, exclude = 'seen' | 'none', allow?, deny?, filter?: { category, priceMin, priceMax,
//! inStock }, boost?: { [id]: number }, diversity = 0, now?, explain = 3 }`. Results are
//! `[{ id, score, item: { …metadata }, because: [ids] }]`.

use super::convert::{from_js, to_js_value};
use super::{arg_error, get, to_js};
use crate::bundle::{AlignedBytes, Bundle, FoldIn, ItemMeta};
use crate::recommend::{Event, Filter, Profile, Query, Recommendation, Recommender};
use js_sys::{Float32Array, Uint8Array};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use wasm_bindgen::prelude::*;

/// Item ids: one id, or an array of them.
struct Ids(Vec<String>);

impl<'de> Deserialize<'de> for Ids {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Ids, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Ids;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Ids, E> {
                Ok(Ids(vec![s.to_string()]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Ids, A::Error> {
                let mut ids = Vec::new();
                while let Some(id) = a.next_element::<String>()? {
                    ids.push(id);
                }
                Ok(Ids(ids))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Exclude {
    Seen,
    None,
}

/// `options.filter`: `{ category?, priceMin?, priceMax?, inStock? }`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FilterOptions {
    category: Option<Ids>,
    price_min: Option<f64>,
    price_max: Option<f64>,
    in_stock: Option<bool>,
}

/// A recommendation query as JS writes it (every field optional; defaults from
/// [`Query::default`]): `{ k = 10, exclude = 'seen' | 'none', allow?, deny?, filter?,
/// boost?: { [id]: number }, diversity = 0, now?, explain = 3 }`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryOptions {
    k: Option<f64>,
    exclude: Option<Exclude>,
    allow: Option<Ids>,
    deny: Option<Ids>,
    filter: Option<FilterOptions>,
    boost: Option<BTreeMap<String, f32>>,
    diversity: Option<f32>,
    now: Option<f64>,
    explain: Option<f64>,
}

impl QueryOptions {
    fn into_query(self) -> Result<Query, JsValue> {
        let mut q = Query::default();
        if let Some(k) = self.k {
            if !(k >= 1.0 && k.fract() == 0.0 && k <= 10_000.0) {
                return Err(arg_error(format!(
                    "options.k = {k} must be an integer in 1..=10000"
                )));
            }
            q.k = k as usize;
        }
        if let Some(e) = self.exclude {
            q.exclude_seen = e == Exclude::Seen;
        }
        q.allow = self.allow.map(|a| a.0);
        q.deny = self.deny.map_or_else(Vec::new, |d| d.0);
        if let Some(f) = self.filter {
            q.filter = Filter {
                categories: f.category.map_or_else(Vec::new, |c| c.0),
                price_min: f.price_min,
                price_max: f.price_max,
                in_stock: f.in_stock,
            };
        }
        q.boost = self.boost.unwrap_or_default().into_iter().collect();
        q.diversity = self.diversity.unwrap_or(q.diversity);
        q.now = self.now;
        if let Some(e) = self.explain {
            q.explain = e.clamp(0.0, 50.0) as usize;
        }
        Ok(q)
    }
}

pub(super) fn parse_query(o: &JsValue) -> Result<Query, JsValue> {
    if o.is_undefined() || o.is_null() {
        return Ok(Query::default());
    }
    if !o.is_object() {
        return Err(arg_error("options must be an object".into()));
    }
    from_js::<QueryOptions>(o.clone(), "options")?.into_query()
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

/// One result of `recommend`: `{ id, score, item: { …metadata }, because: [ids] }`.
#[derive(Serialize)]
struct RecommendationJs<'a> {
    id: &'a str,
    score: f32,
    item: &'a ItemMeta,
    because: Vec<&'a str>,
}

/// One result of `similar` / `recommendBatch`: `{ id, score, item }`.
#[derive(Serialize)]
struct ScoredJs<'a> {
    id: &'a str,
    score: f32,
    item: &'a ItemMeta,
}

/// `Recommender.info()`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InfoJs<'a> {
    version: u32,
    num_items: usize,
    dim: usize,
    dtype: &'static str,
    metric: &'static str,
    has_popularity: bool,
    has_user_model: bool,
    categories: &'a [String],
    attribution: &'a [String],
    fold_in: &'a FoldIn,
    source: Option<&'a serde_json::Value>,
}

pub(super) fn results_to_js(rec: &Recommender, rs: &[Recommendation]) -> JsValue {
    let out: Vec<RecommendationJs> = rs
        .iter()
        .map(|r| RecommendationJs {
            id: rec.id(r.item),
            score: r.score,
            item: rec.item(r.item),
            because: r.because.iter().map(|i| rec.id(*i)).collect(),
        })
        .collect();
    to_js_value(&out)
}

fn pairs_to_js<'a>(rec: &'a Recommender, rs: &[(u32, f32)]) -> Vec<ScoredJs<'a>> {
    rs.iter()
        .map(|&(i, score)| ScoredJs {
            id: rec.id(i),
            score,
            item: rec.item(i),
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
    #[wasm_bindgen(unchecked_return_type = "RecommenderInfo")]
    pub fn info(&self) -> JsValue {
        let r = &self.inner;
        let m = r.manifest();
        to_js_value(&InfoJs {
            version: m.version,
            num_items: r.len(),
            dim: r.dim(),
            dtype: r.dtype().name(),
            metric: if m.metric == crate::bundle::Metric::Dot {
                "dot"
            } else {
                "cosine"
            },
            has_popularity: r.has_popularity(),
            has_user_model: r.user_model().is_some(),
            categories: r.categories(),
            attribution: &m.attribution,
            fold_in: &m.fold_in,
            source: m.source.as_ref(),
        })
    }

    /// Every item id, in table order.
    #[wasm_bindgen(js_name = itemIds, unchecked_return_type = "string[]")]
    pub fn item_ids(&self) -> JsValue {
        let ids: Vec<&str> = self
            .inner
            .manifest()
            .items
            .iter()
            .map(|i| i.id.as_str())
            .collect();
        to_js_value(&ids)
    }

    /// Metadata of one item, or `undefined` for an unknown id.
    #[wasm_bindgen(unchecked_return_type = "ItemMeta | undefined")]
    pub fn item(&self, id: &str) -> JsValue {
        self.inner
            .index_of(id)
            .map_or(JsValue::UNDEFINED, |i| to_js_value(self.inner.item(i)))
    }

    /// Stateless recommendation: `options.events` (may be empty: cold start) are folded in.
    #[wasm_bindgen(unchecked_return_type = "Recommendation[]")]
    pub fn recommend(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RecommendOptions | undefined")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let q = parse_query(&options)?;
        let mut p = self.events_profile(&options)?;
        let rs = self.inner.recommend(&mut p, &q).map_err(to_js)?;
        Ok(results_to_js(&self.inner, &rs))
    }

    /// A profile of `options.events` (none: an empty profile).
    pub(super) fn events_profile(&self, options: &JsValue) -> Result<Profile, JsValue> {
        let mut p = Profile::new(self.inner.dim());
        let events: Option<Vec<Event>> = from_js(get(options, "events"), "options.events")?;
        for e in events.into_iter().flatten() {
            p.record(&self.inner, e).map_err(to_js)?;
        }
        Ok(p)
    }

    /// Recommendations for a user vector computed elsewhere (e.g. the bundle's user tower).
    #[wasm_bindgen(js_name = recommendVector, unchecked_return_type = "Recommendation[]")]
    pub fn recommend_vector(
        &self,
        vector: &Float32Array,
        #[wasm_bindgen(unchecked_param_type = "QueryOptions | undefined")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let q = parse_query(&options)?;
        let rs = self
            .inner
            .recommend_vector(&vector.to_vec(), &q)
            .map_err(to_js)?;
        Ok(results_to_js(&self.inner, &rs))
    }

    /// Top-k for many user vectors (`users` is `m × dim`): an array of `m` result arrays.
    #[wasm_bindgen(js_name = recommendBatch, unchecked_return_type = "ScoredItem[][]")]
    pub fn recommend_batch(&self, users: &Float32Array, k: usize) -> Result<JsValue, JsValue> {
        let rs = self
            .inner
            .recommend_batch(&users.to_vec(), k)
            .map_err(to_js)?;
        let lists: Vec<Vec<ScoredJs>> = rs.iter().map(|r| pairs_to_js(&self.inner, r)).collect();
        Ok(to_js_value(&lists))
    }

    /// Items most similar to `id` (cosine of item vectors); filters and diversity apply.
    #[wasm_bindgen(unchecked_return_type = "ScoredItem[]")]
    pub fn similar(
        &self,
        id: &str,
        #[wasm_bindgen(unchecked_param_type = "QueryOptions | undefined")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let q = parse_query(&options)?;
        let rs = self.inner.similar(id, &q).map_err(to_js)?;
        Ok(to_js_value(&pairs_to_js(&self.inner, &rs)))
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
    pub fn record(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "HearthEvent")] event: JsValue,
    ) -> Result<bool, JsValue> {
        let e = from_js(event, "event")?;
        self.p.record(&self.rec, e).map_err(to_js)
    }

    /// Records an array of events; returns how many were on catalog items.
    #[wasm_bindgen(js_name = recordMany)]
    pub fn record_many(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "HearthEvent[]")] events: JsValue,
    ) -> Result<u32, JsValue> {
        let events: Vec<Event> = from_js(events, "events")?;
        let mut known = 0;
        for e in events {
            known += self.p.record(&self.rec, e).map_err(to_js)? as u32;
        }
        Ok(known)
    }

    #[wasm_bindgen(unchecked_return_type = "Recommendation[]")]
    pub fn recommend(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "QueryOptions | undefined")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
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
    #[wasm_bindgen(unchecked_return_type = "HearthEvent[]")]
    pub fn events(&self) -> JsValue {
        to_js_value(self.p.events())
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
