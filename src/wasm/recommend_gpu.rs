//! The recommender on WebGPU at the JS boundary (feature `webgpu`): `Recommender.create(bytes,
//! backend)` uploads the table to the page's GPU device, and `recommendAsync` on a recommender
//! or a profile runs the top-k scan there ([`GpuScorer::select_async`]); folding the profile in,
//! diversity and explanations stay on the CPU, so results match `recommend` (the CPU twin) up
//! to near-ties in f32 summation order. A lost device moves the recommender to the CPU for good
//! (`backend` then says `'cpu'` and `fallbackReason` why), and the call completes there.

use super::recommend::{parse_query, profile_query, results_to_js, WasmProfile, WasmRecommender};
use super::to_js;
use crate::backend::webgpu::{time_ms, GpuDevice};
use crate::error::{Error, Result};
use crate::recommend::gpu::{reference_top_k, same_ranking, GpuScorer};
use crate::recommend::{Profile, Query, Recommendation, Recommender, Staged};
use crate::session::{BackendChoice, BackendProbe};
use js_sys::{Float32Array, Promise, Uint8Array};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// A recommender's GPU state, shared with its profiles and with pending `recommendAsync` calls.
#[derive(Default)]
pub(super) struct GpuSlot {
    scorer: RefCell<Option<Rc<GpuScorer>>>,
    fallback: RefCell<Option<String>>,
    probe: RefCell<Option<BackendProbe>>,
}

impl GpuSlot {
    fn scorer(&self) -> Option<Rc<GpuScorer>> {
        self.scorer.borrow().clone()
    }

    /// The top-k scan on the GPU when there is one; a GPU failure (a lost device) moves the
    /// recommender to the CPU and the scan runs there.
    async fn select(
        &self,
        rec: &Recommender,
        x: &[f32],
        q: &Query,
        seen: &[u32],
    ) -> Result<Vec<(u32, f32)>> {
        if let Some(s) = self.scorer() {
            match s.select_async(rec, x, q, seen).await {
                Err(e) if matches!(e.root(), Error::Gpu(_)) => {
                    *self.scorer.borrow_mut() = None;
                    *self.fallback.borrow_mut() = Some(s.device().failure_reason(&e));
                }
                other => return other,
            }
        }
        rec.select(x, q, seen)
    }

    /// Stage (fold-in, cold start) now, scan later: the promise of `recommendAsync`.
    fn recommend(
        self: &Rc<Self>,
        rec: &Rc<Recommender>,
        p: &mut Profile,
        q: Query,
    ) -> Result<Promise, JsValue> {
        let staged = rec.stage(p, &q).map_err(to_js)?;
        let (slot, rec) = (self.clone(), rec.clone());
        Ok(wasm_bindgen_futures::future_to_promise(async move {
            let list = match staged {
                Staged::Done(list) => list,
                Staged::Vector { folded, seen } => {
                    let picks = slot
                        .select(&rec, &folded.x, &q, &seen)
                        .await
                        .map_err(to_js)?;
                    rec.explain(&folded, picks, &q)
                }
            };
            Ok(results_to_js(&rec, &list))
        }))
    }
}

fn unavailable(reason: String) -> Error {
    Error::BackendUnavailable {
        backend: "webgpu".into(),
        reason,
    }
}

#[wasm_bindgen(js_class = Recommender)]
impl WasmRecommender {
    /// `await Recommender.create(bytes, backend = 'auto')`: parses a bundle and, for `'webgpu'`,
    /// uploads its table to the GPU (rejects with `BACKEND_UNAVAILABLE` and the reason when no
    /// device starts or the bundle cannot be scored there, e.g. the cosine metric). `'auto'`
    /// times one top-10 query on both and keeps the faster (see `backendProbe`). Use
    /// `recommendAsync` to score on the GPU; `recommend` always runs on the CPU.
    pub async fn create(
        bytes: Uint8Array,
        backend: Option<String>,
    ) -> std::result::Result<WasmRecommender, JsValue> {
        let r = WasmRecommender::from_bytes(&bytes)?;
        let choice = BackendChoice::parse(backend.as_deref().unwrap_or("auto")).map_err(to_js)?;
        if choice == BackendChoice::Cpu {
            return Ok(r);
        }
        if r.inner.is_empty() {
            let why = "the bundle has no items".to_string();
            if choice == BackendChoice::WebGpu {
                return Err(to_js(unavailable(why)));
            }
            *r.gpu.probe.borrow_mut() = Some(BackendProbe::cpu_only(&format!("cpu: {why}")));
            return Ok(r);
        }
        let started = match GpuDevice::shared_async().await {
            Ok(dev) => {
                let adapter = dev.adapter().name.clone();
                GpuScorer::new(&r.inner, dev).map(|s| (s, adapter))
            }
            Err(e) => Err(e),
        };
        let (scorer, adapter) = match (started, choice) {
            (Ok(s), _) => s,
            (Err(e), BackendChoice::WebGpu) => {
                return Err(to_js(match e {
                    Error::BackendUnavailable { .. } => e,
                    other => unavailable(other.to_string()),
                }))
            }
            (Err(e), _) => {
                *r.gpu.probe.borrow_mut() = Some(BackendProbe::cpu_only(&format!("cpu: {e}")));
                return Ok(r);
            }
        };
        let mut probe = BackendProbe::cpu_only("webgpu: asked for");
        probe.backend = crate::plan::BackendKind::WebGpu;
        probe.adapter = Some(adapter);
        // a typical query: the first item's vector as the user, top-10 over every item. Its GPU
        // answer must match its CPU twin's before the GPU is used: a rejected shader shows here
        // as a lost device, and a driver that miscompiles one as a wrong answer.
        let mut x = vec![0f32; r.inner.dim()];
        r.inner.row_into(0, &mut x);
        let q = Query::default();
        let cpu_top = reference_top_k(&r.inner, &x, q.k);
        let checked = match scorer.select_async(&r.inner, &x, &q, &[]).await {
            Ok(gpu_top) => same_ranking(&gpu_top, &cpu_top),
            Err(e) => Err(e.to_string()),
        };
        if let Err(why) = checked {
            let why = format!("the GPU's answer to a probe query differs from the CPU's ({why})");
            if choice == BackendChoice::WebGpu {
                return Err(to_js(unavailable(why)));
            }
            probe.reason = format!("cpu: {why}");
            probe.backend = crate::plan::BackendKind::Cpu;
            *r.gpu.probe.borrow_mut() = Some(probe);
            return Ok(r);
        }
        let keep = if choice == BackendChoice::Auto {
            let (rec, xr, qr, sr) = (&*r.inner, &x[..], &q, &scorer);
            let cpu = time_ms(|| async move { rec.select(xr, qr, &[]).map(|_| ()) }).await;
            let gpu =
                time_ms(|| async move { sr.select_async(rec, xr, qr, &[]).await.map(|_| ()) })
                    .await;
            match (cpu, gpu) {
                (Ok(c), Ok(g)) => probe.timed(c, g),
                (_, Err(e)) => {
                    probe.reason = format!("cpu: the probe query failed on the GPU ({e})");
                    probe.backend = crate::plan::BackendKind::Cpu;
                    false
                }
                (Err(e), _) => return Err(to_js(e)),
            }
        } else {
            true
        };
        if keep {
            *r.gpu.scorer.borrow_mut() = Some(Rc::new(scorer));
        }
        *r.gpu.probe.borrow_mut() = Some(probe);
        Ok(r)
    }

    /// `'webgpu'` when `recommendAsync` scores on the GPU, else `'cpu'`.
    #[wasm_bindgen(getter, unchecked_return_type = "Backend")]
    pub fn backend(&self) -> String {
        if self.gpu.scorer().is_some() {
            "webgpu"
        } else {
            "cpu"
        }
        .into()
    }

    /// What `create` decided and why: `{ cpuMs, gpuMs, adapter, reason, cached }`, or null
    /// (`'cpu'` or `fromBytes`).
    #[wasm_bindgen(getter, js_name = backendProbe, unchecked_return_type = "BackendProbe | null")]
    pub fn backend_probe(&self) -> JsValue {
        super::convert::to_js_value(&*self.gpu.probe.borrow())
    }

    /// Why a WebGPU recommender moved to the CPU (the device was lost), or null.
    #[wasm_bindgen(getter, js_name = fallbackReason)]
    pub fn fallback_reason(&self) -> Option<String> {
        self.gpu.fallback.borrow().clone()
    }

    /// `await recommender.recommendAsync(options)`: `recommend`, with the top-k scan on the GPU
    /// when the recommender has one.
    #[wasm_bindgen(js_name = recommendAsync, unchecked_return_type = "Promise<Recommendation[]>")]
    pub fn recommend_async(
        &self,
        #[wasm_bindgen(unchecked_param_type = "RecommendOptions | undefined")] options: JsValue,
    ) -> std::result::Result<Promise, JsValue> {
        let q = parse_query(&options)?;
        let mut p = self.events_profile(&options)?;
        self.gpu.recommend(&self.inner, &mut p, q)
    }

    /// `await recommender.recommendVectorAsync(vector, options)`: `recommendVector`, with the
    /// top-k scan on the GPU when the recommender has one.
    #[wasm_bindgen(
        js_name = recommendVectorAsync,
        unchecked_return_type = "Promise<Recommendation[]>"
    )]
    pub fn recommend_vector_async(
        &self,
        vector: &Float32Array,
        #[wasm_bindgen(unchecked_param_type = "QueryOptions | undefined")] options: JsValue,
    ) -> std::result::Result<Promise, JsValue> {
        let q = parse_query(&options)?;
        let x = vector.to_vec();
        self.inner.check_query(&q).map_err(to_js)?;
        self.inner.check_vector(&x).map_err(to_js)?;
        let (slot, rec) = (self.gpu.clone(), self.inner.clone());
        Ok(wasm_bindgen_futures::future_to_promise(async move {
            let picks = slot.select(&rec, &x, &q, &[]).await.map_err(to_js)?;
            let list: Vec<Recommendation> = picks
                .into_iter()
                .map(|(item, score)| Recommendation {
                    item,
                    score,
                    because: Vec::new(),
                })
                .collect();
            Ok(results_to_js(&rec, &list))
        }))
    }

    /// Test hook (feature `test-api`): destroys the GPU device under this recommender (as
    /// `GPUDevice.destroy()` would), to check that the next query moves to the CPU. Sessions on
    /// the page lose it too.
    #[cfg(feature = "test-api")]
    #[wasm_bindgen(js_name = destroyGpuDeviceForTest)]
    pub fn destroy_gpu_device_for_test(&self) {
        if let Some(s) = self.gpu.scorer() {
            s.device().destroy();
        }
    }
}

#[wasm_bindgen(js_class = Profile)]
impl WasmProfile {
    /// `await profile.recommendAsync(options)`: `recommend`, with the top-k scan on the GPU when
    /// the recommender has one.
    #[wasm_bindgen(js_name = recommendAsync, unchecked_return_type = "Promise<Recommendation[]>")]
    pub fn recommend_async(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "QueryOptions | undefined")] options: JsValue,
    ) -> std::result::Result<Promise, JsValue> {
        let q = profile_query(&options)?;
        self.gpu.recommend(&self.rec, &mut self.p, q)
    }
}
