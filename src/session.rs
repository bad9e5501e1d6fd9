//! [`Session`]: a loaded model, ready to run.

use crate::error::{Error, Result};
use crate::ir::ops::ml::{Labels, MlOp};
use crate::ir::Op;
use crate::ir::{Dim, Graph, ValueKind};
use crate::onnx::parse::{parse_model, Model};
use crate::onnx::tensor::ExternalData;
use crate::plan::exec::Feed;
use crate::plan::{BackendKind, Plan};
use crate::tensor::{DType, Tensor};
use crate::value::{Map, MapKeys, Value};
use std::borrow::Cow;
use std::collections::HashMap;
#[cfg(feature = "webgpu")]
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Which backend a session should run on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BackendChoice {
    /// The CPU kernels (wasm SIMD128 in the browser). Always available.
    #[default]
    Cpu,
    /// The GPU (WebGPU in the browser, Vulkan/Metal/DX12 natively); ops without a GPU kernel run
    /// on the CPU kernels. [`Error::BackendUnavailable`] when no device starts.
    WebGpu,
    /// WebGPU when a device starts *and* a timed probe of this model on both backends says it is
    /// faster; otherwise the CPU. The choice is cached per model and adapter for the process.
    Auto,
}

impl BackendChoice {
    /// Parses `cpu`, `webgpu` or `auto`.
    pub fn parse(s: &str) -> Result<BackendChoice> {
        match s {
            "cpu" => Ok(BackendChoice::Cpu),
            "webgpu" => Ok(BackendChoice::WebGpu),
            "auto" => Ok(BackendChoice::Auto),
            other => Err(Error::Argument(format!(
                "backend '{other}': expected 'auto', 'webgpu' or 'cpu'"
            ))),
        }
    }
}

/// Options for [`Session::with_options`].
#[derive(Clone, Debug, Default)]
pub struct SessionOptions {
    pub backend: BackendChoice,
}

/// What `auto` measured: the median of 3 timed samples per run of the model on synthetic inputs
/// (symbolic dims set to 1) on each backend, after one warm-up run each (the GPU warm-up uploads
/// the weights); a sample repeats the run for 2 ms (at most 50 runs). On lavapipe or SwiftShader
/// the "GPU" is a CPU emulation.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BackendProbe {
    pub cpu_ms: Option<f64>,
    pub gpu_ms: Option<f64>,
    /// The adapter's name, when a device started.
    pub adapter: Option<String>,
    /// The backend chosen.
    pub backend: BackendKind,
    /// Why, in words (starting with the backend's name).
    pub reason: String,
    /// True when the choice came from the per-process cache (no timing this time).
    pub cached: bool,
}

/// Name, dtype and shape of a model input or output. Shapes may hold symbolic dims
/// ([`Dim::Sym`], e.g. `batch`) or unknown ones ([`Dim::Any`]); `None` when even the rank is
/// not declared.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct IoInfo {
    pub name: String,
    /// A tensor, or a sequence or optional (whose tensors have `dtype`; `shape` is `None`).
    /// Left out of the JS object for a tensor, so tensor inputs read as they always did.
    #[serde(skip_serializing_if = "ValueKind::is_tensor")]
    pub kind: ValueKind,
    #[serde(rename = "type")]
    pub dtype: Option<DType>,
    #[serde(rename = "dims")]
    pub shape: Option<Vec<Dim>>,
    /// A map's (or a sequence of maps') key dtype, int64 or string; left out of the JS object
    /// for the other kinds.
    #[serde(rename = "keyType", skip_serializing_if = "Option::is_none")]
    pub key: Option<DType>,
}

/// A model loaded for inference: parsed, folded, pruned and planned once; `run` only executes.
///
/// ```
/// # fn demo(model_bytes: &[u8]) -> hearth::Result<()> {
/// use hearth::{Session, Tensor};
/// let session = Session::from_bytes(model_bytes)?;
/// let x = Tensor::from_f32(vec![1, 17], vec![0.0; 17])?;
/// let outputs = session.run(&[(session.inputs()[0].name.as_str(), &x)])?;
/// println!("{:?}", outputs[0].as_f32()?);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Session {
    model: Model,
    plan: Plan,
    inputs: Vec<IoInfo>,
    outputs: Vec<IoInfo>,
    #[cfg(feature = "webgpu")]
    gpu: Option<crate::backend::webgpu::GpuGraph>,
    /// Set when the GPU failed during a run (e.g. device lost): every later run is on the CPU.
    #[cfg(feature = "webgpu")]
    fell_back: AtomicBool,
    fallback_reason: Mutex<Option<String>>,
    probe: Option<BackendProbe>,
    /// Graph outputs written by `ai.onnx.ml` `ZipMap` (output index, class labels).
    zipmaps: Vec<(usize, Labels)>,
}

fn io_info(graph: &Graph, id: usize) -> IoInfo {
    let v = &graph.values[id];
    IoInfo {
        name: v.name.clone(),
        kind: v.fact.kind,
        dtype: v.fact.dtype,
        shape: v.fact.shape.clone(),
        key: v.fact.key,
    }
}

impl Session {
    /// Loads an ONNX model whose weights are all inside `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Session> {
        Session::from_bytes_with_external_data(bytes, &[])
    }

    /// Loads an ONNX model whose weights are (partly) in external files, given as
    /// `(file name, bytes)` pairs. When a single buffer is given it serves every location.
    pub fn from_bytes_with_external_data(bytes: &[u8], files: &[(&str, &[u8])]) -> Result<Session> {
        Session::with_options(bytes, files, &SessionOptions::default())
    }

    /// Loads a model (weights inside `bytes` or in `files`, as
    /// [`from_bytes_with_external_data`](Self::from_bytes_with_external_data)) on the backend
    /// `options` ask for. `BackendChoice::WebGpu` where no GPU device starts (or in a build
    /// without the `webgpu` feature) is an [`Error::BackendUnavailable`] saying why.
    ///
    /// ```
    /// # fn demo(model_bytes: &[u8]) -> hearth::Result<()> {
    /// use hearth::{BackendChoice, Session, SessionOptions};
    /// let opts = SessionOptions { backend: BackendChoice::Auto };
    /// let session = Session::with_options(model_bytes, &[], &opts)?;
    /// println!("runs on {}", session.backend());
    /// # Ok(()) }
    /// ```
    pub fn with_options(
        bytes: &[u8],
        files: &[(&str, &[u8])],
        options: &SessionOptions,
    ) -> Result<Session> {
        #[cfg(all(feature = "webgpu", not(target_arch = "wasm32")))]
        {
            crate::backend::webgpu::block_on(Session::with_options_async(bytes, files, options))
        }
        #[cfg(all(feature = "webgpu", target_arch = "wasm32"))]
        {
            // a browser cannot block on the device start
            let mut session = Session::load(bytes, files)?;
            match options.backend {
                BackendChoice::Cpu => {}
                BackendChoice::WebGpu => {
                    return Err(Error::BackendUnavailable {
                        backend: "webgpu".into(),
                        reason: "in a browser the GPU starts asynchronously: use the async \
                                 constructor (Session.create)"
                            .into(),
                    })
                }
                BackendChoice::Auto => {
                    session.probe = Some(BackendProbe::cpu_only(
                        "cpu: the synchronous constructor cannot start the GPU",
                    ))
                }
            }
            Ok(session)
        }
        #[cfg(not(feature = "webgpu"))]
        {
            let mut session = Session::load(bytes, files)?;
            match options.backend {
                BackendChoice::Cpu => {}
                BackendChoice::WebGpu => return Err(no_gpu_in_build()),
                BackendChoice::Auto => {
                    session.probe =
                        Some(BackendProbe::cpu_only("cpu: this build has no GPU backend"))
                }
            }
            Ok(session)
        }
    }

    /// [`with_options`](Self::with_options) for any target: in a browser the GPU device starts
    /// asynchronously, so this is the constructor to use there for `webgpu` and `auto`.
    pub async fn with_options_async(
        bytes: &[u8],
        files: &[(&str, &[u8])],
        options: &SessionOptions,
    ) -> Result<Session> {
        let mut session = Session::load(bytes, files)?;
        match options.backend {
            BackendChoice::Cpu => {}
            #[cfg(not(feature = "webgpu"))]
            BackendChoice::WebGpu => return Err(no_gpu_in_build()),
            #[cfg(not(feature = "webgpu"))]
            BackendChoice::Auto => {
                session.probe = Some(BackendProbe::cpu_only("cpu: this build has no GPU backend"))
            }
            #[cfg(feature = "webgpu")]
            BackendChoice::WebGpu => {
                let dev = crate::backend::webgpu::GpuDevice::shared_async().await?;
                session.gpu = Some(crate::backend::webgpu::GpuGraph::new(
                    dev,
                    &session.model.graph,
                ));
            }
            #[cfg(feature = "webgpu")]
            BackendChoice::Auto => session.choose_auto(bytes).await,
        }
        Ok(session)
    }

    /// A CPU session of a model whose graph `rewrite` changed first (after parsing, folding
    /// and pruning; before fusion and planning), with what `rewrite` returned. Graph outputs
    /// it adds return their values' dtypes. The education layer uses it to expose recurrent
    /// state ([`crate::ir::stream::expose_recurrent_state`]).
    pub fn from_bytes_rewritten<T>(
        bytes: &[u8],
        rewrite: impl FnOnce(&mut Graph) -> Result<T>,
    ) -> Result<(Session, T)> {
        let mut rewrite = Some(rewrite);
        let mut out = None;
        let session = Session::load_with(bytes, &[], &mut |g| {
            out = rewrite.take().map(|f| f(g)).transpose()?;
            Ok(())
        })?;
        Ok((session, out.expect("the rewrite ran")))
    }

    fn load(bytes: &[u8], files: &[(&str, &[u8])]) -> Result<Session> {
        Session::load_with(bytes, files, &mut |_| Ok(()))
    }

    /// One body for every load (a `dyn` rewrite: no copy of it per caller in the wasm).
    fn load_with(
        bytes: &[u8],
        files: &[(&str, &[u8])],
        rewrite: &mut dyn FnMut(&mut Graph) -> Result<()>,
    ) -> Result<Session> {
        let mut model = parse_model(bytes, &ExternalData { files }, &crate::backend::cpu::run)?;
        let declared = model.graph.outputs.len();
        rewrite(&mut model.graph)?;
        for &o in &model.graph.outputs[declared.min(model.graph.outputs.len())..] {
            let v = &model.graph.values[o];
            model.output_dtypes.push(v.fact.dtype.ok_or_else(|| {
                Error::model(format!("graph output '{}' has no element type", v.name))
            })?);
        }
        crate::ir::rewrite::fuse(&mut model.graph);
        let plan = Plan::new(&model.graph);
        let g = &model.graph;
        let inputs = g.inputs.iter().map(|&i| io_info(g, i)).collect();
        let mut outputs: Vec<IoInfo> = g.outputs.iter().map(|&o| io_info(g, o)).collect();
        let zipmaps = zipmap_outputs(g)?;
        for (k, labels) in &zipmaps {
            // what run_values returns for it: a sequence of label → probability maps
            outputs[*k].kind = ValueKind::MapSequence;
            outputs[*k].key = Some(labels.dtype());
            outputs[*k].dtype = Some(DType::F32);
            outputs[*k].shape = None;
        }
        Ok(Session {
            model,
            plan,
            inputs,
            outputs,
            #[cfg(feature = "webgpu")]
            gpu: None,
            #[cfg(feature = "webgpu")]
            fell_back: AtomicBool::new(false),
            fallback_reason: Mutex::new(None),
            probe: None,
            zipmaps,
        })
    }

    /// A WebGPU session on a device the caller started (tests: a private device that can be
    /// destroyed without touching the shared one).
    #[cfg(feature = "webgpu")]
    #[doc(hidden)]
    pub fn with_gpu_device(
        bytes: &[u8],
        dev: std::sync::Arc<crate::backend::webgpu::GpuDevice>,
    ) -> Result<Session> {
        let mut s = Session::load(bytes, &[])?;
        s.gpu = Some(crate::backend::webgpu::GpuGraph::new(dev, &s.model.graph));
        Ok(s)
    }

    /// `auto`: start the device, time the model on both backends, keep the GPU only if faster.
    #[cfg(feature = "webgpu")]
    async fn choose_auto(&mut self, bytes: &[u8]) {
        use std::hash::{Hash, Hasher};
        let dev = match crate::backend::webgpu::GpuDevice::shared_async().await {
            Ok(d) => d,
            Err(e) => {
                self.probe = Some(BackendProbe::cpu_only(&format!("cpu: {e}")));
                return;
            }
        };
        let adapter = dev.adapter().name.clone();
        let mut h = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut h);
        let key = (h.finish(), adapter.clone());
        let gpu = crate::backend::webgpu::GpuGraph::new(dev, &self.model.graph);
        let cached = auto_cache(|c| c.get(&key).cloned());
        let probe = match cached {
            Some(mut p) => {
                p.cached = true;
                p
            }
            None => {
                let p = self.time_backends(&gpu, &adapter).await;
                auto_cache(|c| c.insert(key, p.clone()));
                p
            }
        };
        if probe.backend == BackendKind::WebGpu {
            self.gpu = Some(gpu);
        }
        self.probe = Some(probe);
    }

    #[cfg(feature = "webgpu")]
    async fn time_backends(
        &self,
        gpu: &crate::backend::webgpu::GpuGraph,
        adapter: &str,
    ) -> BackendProbe {
        use crate::backend::webgpu::time_ms;
        let mut probe = BackendProbe::cpu_only("");
        probe.adapter = Some(adapter.to_string());
        let Some(feeds) = self.synthetic_inputs() else {
            probe.reason =
                "cpu: the model's input shapes are not declared, so it cannot be probed".into();
            return probe;
        };
        let refs: Vec<&Tensor> = feeds.iter().collect();
        let g = &self.model.graph;
        let (refs, plan) = (&refs[..], &self.plan);
        // a sample repeats the run until 2 ms have passed: browsers coarsen performance.now() to
        // 0.1 ms, and small models run in microseconds on the CPU
        let Ok(c) =
            time_ms(|| async move { crate::plan::run_graph(g, plan, refs, &[]).map(drop) }).await
        else {
            probe.reason = "cpu: the probe run failed on the CPU".into();
            return probe;
        };
        let gm = match time_ms(|| async move {
            crate::plan::exec::run(gpu, g, plan, refs, &[])
                .await
                .map(drop)
        })
        .await
        {
            Ok(gm) => gm,
            Err(e) => {
                probe.reason = format!("cpu: the probe run failed on the GPU ({e})");
                return probe;
            }
        };
        probe.timed(c, gm);
        probe
    }

    /// Inputs for a probe run: declared shapes with symbolic dims set to 1, small values.
    #[cfg(feature = "webgpu")]
    fn synthetic_inputs(&self) -> Option<Vec<Tensor>> {
        self.inputs
            .iter()
            .map(|info| {
                let shape: Vec<usize> = info
                    .shape
                    .as_ref()?
                    .iter()
                    .map(|d| d.known().unwrap_or(1))
                    .collect();
                let n: usize = shape.iter().product();
                let t = match info.dtype.unwrap_or(DType::F32) {
                    d if d.is_float() => {
                        Tensor::from_f32(shape, (0..n).map(|i| (i % 7) as f32 * 0.1).collect())
                    }
                    d => Tensor::zeros(d, shape),
                };
                t.ok().map(|t| t.into_compute())
            })
            .collect()
    }

    /// The inputs `run` expects, in model order.
    pub fn inputs(&self) -> &[IoInfo] {
        &self.inputs
    }

    /// The outputs `run` returns, in model order.
    pub fn outputs(&self) -> &[IoInfo] {
        &self.outputs
    }

    /// Opset version of the default ONNX domain the model was written for.
    pub fn opset(&self) -> i64 {
        self.model.opset
    }

    /// The planned graph (for inspection and tools).
    pub fn graph(&self) -> &Graph {
        &self.model.graph
    }

    /// Which backend runs this session (after a GPU failure such as a lost device, the CPU:
    /// see [`fallback_reason`](Self::fallback_reason)).
    pub fn backend(&self) -> BackendKind {
        #[cfg(feature = "webgpu")]
        if self.gpu.is_some() && !self.fell_back.load(Ordering::Relaxed) {
            return BackendKind::WebGpu;
        }
        BackendKind::Cpu
    }

    /// What the `auto` probe measured (`None` for an explicit backend).
    pub fn backend_probe(&self) -> Option<&BackendProbe> {
        self.probe.as_ref()
    }

    /// Why a WebGPU session moved to the CPU, if it did.
    pub fn fallback_reason(&self) -> Option<String> {
        self.fallback_reason.lock().unwrap().clone()
    }

    /// Where each op ran in the last run on the GPU backend (`None` on the CPU backend).
    #[cfg(feature = "webgpu")]
    pub fn placement(&self) -> Option<crate::plan::Placement> {
        self.gpu.as_ref().map(|g| g.placement())
    }

    /// Where each node was placed when the session was built: on the GPU (possibly fused into
    /// another node's dispatch) or on the CPU kernels with the reason (`None` on the CPU
    /// backend, where every node runs on the CPU).
    #[cfg(feature = "webgpu")]
    pub fn planned_placement(&self) -> Option<&[crate::plan::PlannedNode]> {
        self.gpu.as_ref().map(|g| g.planned())
    }

    /// The GPU device of a WebGPU session (for reports: adapter, compile times, pool counts).
    #[cfg(feature = "webgpu")]
    pub fn gpu_device(&self) -> Option<&std::sync::Arc<crate::backend::webgpu::GpuDevice>> {
        self.gpu.as_ref().map(|g| g.device())
    }

    /// Runs the graph on the session's backend; a GPU failure moves the session to the CPU for
    /// good and this run is redone there.
    async fn execute(&self, inputs: &[Feed<'_>]) -> Result<Vec<Value>> {
        #[cfg(feature = "webgpu")]
        if let Some(g) = &self.gpu {
            if !self.fell_back.load(Ordering::Relaxed) {
                let run =
                    crate::plan::exec::run_values(g, &self.model.graph, &self.plan, inputs, &[]);
                match run.await {
                    Err(e) if matches!(e.root(), Error::Gpu(_)) => {
                        self.fell_back.store(true, Ordering::Relaxed);
                        *self.fallback_reason.lock().unwrap() = Some(g.device().failure_reason(&e));
                    }
                    other => return other,
                }
            }
        }
        crate::plan::exec::run_graph_values(&self.model.graph, &self.plan, inputs)
    }

    /// Runs the model. `feeds` gives every input by name; returns the outputs in
    /// [`outputs`](Self::outputs) order, in the dtypes the model declares.
    ///
    /// Inputs are checked against the model: an unknown or missing name, a wrong dtype, a wrong
    /// rank, a dim that differs from a fixed one, or two sizes for one symbolic dim is an
    /// [`Error::Input`] naming the input and what was expected. `f32` and integer inputs are
    /// borrowed, not copied.
    pub fn run(&self, feeds: &[(&str, &Tensor)]) -> Result<Vec<Tensor>> {
        #[cfg(feature = "webgpu")]
        if self.gpu.is_some() {
            #[cfg(not(target_arch = "wasm32"))]
            return crate::backend::webgpu::block_on(self.run_async(feeds));
            #[cfg(target_arch = "wasm32")]
            if !self.fell_back.load(Ordering::Relaxed) {
                return Err(Error::Argument(
                    "a WebGPU session reads results back asynchronously in a browser: use runAsync"
                        .into(),
                ));
            }
        }
        // a CPU session's future is ready at once
        crate::plan::exec::poll_once(self.run_async(feeds))
            .unwrap_or_else(|| Err(Error::Gpu("a CPU run waited on the GPU".into())))
    }

    /// The class labels of output `k` when `ZipMap` writes it (see [`run_values`](Self::run_values)).
    pub fn zipmap_labels(&self, k: usize) -> Option<&Labels> {
        self.zipmaps.iter().find(|z| z.0 == k).map(|z| &z.1)
    }

    /// [`run`](Self::run) for any backend and target: on WebGPU in a browser, the readback awaits
    /// `mapAsync` instead of blocking the page.
    pub async fn run_async(&self, feeds: &[(&str, &Tensor)]) -> Result<Vec<Tensor>> {
        let feeds: Vec<(&str, Feed)> = feeds.iter().map(|&(n, t)| (n, Feed::Tensor(t))).collect();
        let outs = self.run_feeds(&feeds).await?;
        outs.into_iter()
            .zip(&self.outputs)
            .map(|(v, info)| {
                v.into_tensor(&format!(
                    "output '{}' (use run_values for sequences and optionals)",
                    info.name
                ))
            })
            .collect()
    }

    /// [`run`](Self::run) for models whose inputs or outputs are sequences, optionals or maps.
    /// Tensor inputs are checked as `run` checks them; a sequence input must be a
    /// [`Value::Sequence`] of tensors of the declared dtype, an optional input a
    /// [`Value::Optional`], a map input (`ai.onnx.ml` `DictVectorizer`, `CastMap`: e.g.
    /// scikit-learn's `DictVectorizer` exported by skl2onnx) a [`Value::Map`] with keys and
    /// values of the declared dtypes ([`IoInfo::key`], [`IoInfo::dtype`]), a sequence-of-maps
    /// input a [`Value::Sequence`] of such maps. An output written by `ai.onnx.ml` `ZipMap` (scikit-learn classifiers
    /// exported with skl2onnx's default `zipmap=True`) is a [`Value::Sequence`] of one
    /// [`Value::Map`] per row, class label → probability ([`run`](Self::run) returns it as
    /// ZipMap's input, the `[N, classes]` float32 probabilities). A ZipMap whose output feeds
    /// another node is refused when the model loads ([`Error::UnsupportedOp`] naming the node):
    /// converters only ever write it as a graph output.
    pub fn run_values(&self, feeds: &[(&str, &Value)]) -> Result<Vec<Value>> {
        #[cfg(all(feature = "webgpu", not(target_arch = "wasm32")))]
        if self.gpu.is_some() {
            return crate::backend::webgpu::block_on(self.run_values_async(feeds));
        }
        crate::plan::exec::poll_once(self.run_values_async(feeds)).unwrap_or_else(|| {
            Err(Error::Gpu(
                "a CPU run waited on the GPU: use run_values_async".into(),
            ))
        })
    }

    /// [`run_values`](Self::run_values) for any backend and target.
    pub async fn run_values_async(&self, feeds: &[(&str, &Value)]) -> Result<Vec<Value>> {
        let feeds: Vec<(&str, Feed)> = feeds.iter().map(|&(n, v)| (n, Feed::Value(v))).collect();
        let outs = self.run_feeds(&feeds).await?;
        outs.into_iter()
            .enumerate()
            .map(|(k, v)| match (self.zipmap_labels(k), v) {
                (Some(labels), Value::Tensor(t)) => zipmap_value(t, labels, &self.outputs[k].name),
                (_, v) => Ok(v),
            })
            .collect()
    }

    /// Checks the feeds against the model's inputs, runs, and converts the outputs to their
    /// declared dtypes.
    async fn run_feeds(&self, feeds: &[(&str, Feed<'_>)]) -> Result<Vec<Value>> {
        let mut by_name: HashMap<&str, Feed> = HashMap::with_capacity(feeds.len());
        for &(name, f) in feeds {
            if !self.inputs.iter().any(|i| i.name == name) {
                let names: Vec<&str> = self.inputs.iter().map(|i| i.name.as_str()).collect();
                return Err(Error::Input {
                    name: name.to_string(),
                    msg: format!("the model has no such input; its inputs are {names:?}"),
                });
            }
            if by_name.insert(name, f).is_some() {
                return Err(Error::Input {
                    name: name.to_string(),
                    msg: "given twice".into(),
                });
            }
        }
        let mut syms: HashMap<&str, (usize, &str)> = HashMap::new();
        // tensors borrowed when already in their compute dtype; values converted
        let mut tensors: Vec<Cow<Tensor>> = Vec::with_capacity(self.inputs.len());
        let mut values: Vec<Option<Value>> = Vec::with_capacity(self.inputs.len());
        for info in &self.inputs {
            let f = by_name
                .get(info.name.as_str())
                .ok_or_else(|| Error::Input {
                    name: info.name.clone(),
                    msg: format!("missing: the model needs it ({})", describe(info)),
                })?;
            let t = match (*f, info.kind) {
                (Feed::Tensor(t) | Feed::Value(Value::Tensor(t)), ValueKind::Tensor) => t,
                (Feed::Value(v), ValueKind::Tensor) => {
                    return Err(Error::Input {
                        name: info.name.clone(),
                        msg: format!("expected {}, got a {}", describe(info), v.kind()),
                    })
                }
                (Feed::Tensor(_), k) => {
                    return Err(Error::Input {
                        name: info.name.clone(),
                        msg: format!(
                            "expected a {} of {}, got a tensor",
                            kind_name(k),
                            describe(info)
                        ),
                    })
                }
                (Feed::Value(v), _) => {
                    // a placeholder keeps `tensors` in input order; the value is fed instead
                    tensors.push(Cow::Owned(Tensor::scalar_f32(0.0)));
                    values.push(Some(check_value(info, v)?));
                    continue;
                }
            };
            check_input(info, t, &mut syms)?;
            tensors.push(if t.dtype().compute() == t.dtype() {
                Cow::Borrowed(t)
            } else {
                Cow::Owned(t.clone().into_compute())
            });
            values.push(None);
        }
        let refs: Vec<Feed> = tensors
            .iter()
            .zip(&values)
            .map(|(t, v)| match v {
                Some(v) => Feed::Value(v),
                None => Feed::Tensor(t.as_ref()),
            })
            .collect();
        let outs = self.execute(&refs).await?;
        Ok(outs
            .into_iter()
            .zip(&self.model.output_dtypes)
            .map(|(v, &d)| declared(v, d))
            .collect())
    }
}

/// `v` with its tensors converted to the declared dtype `d` (f16/f64 computed in f32).
fn declared(v: Value, d: DType) -> Value {
    match v {
        Value::Tensor(t) => Value::Tensor(t.into_declared(d)),
        Value::Sequence(s) => Value::Sequence(s.into_iter().map(|x| declared(x, d)).collect()),
        Value::Optional(o) => Value::Optional(o.map(|x| Box::new(declared(*x, d)))),
        m => m,
    }
}

fn kind_name(k: ValueKind) -> &'static str {
    match k {
        ValueKind::Tensor => "tensor",
        ValueKind::Sequence => "sequence",
        ValueKind::Optional | ValueKind::OptionalSequence => "optional",
        ValueKind::Map => "map",
        ValueKind::MapSequence => "sequence of maps",
    }
}

/// Checks a sequence, optional or map feed against its input and converts its tensors to their
/// compute dtypes.
fn check_value(info: &IoInfo, v: &Value) -> Result<Value> {
    let err = |msg: String| Error::Input {
        name: info.name.clone(),
        msg,
    };
    let tensor = |t: &Tensor| -> Result<Value> {
        if let Some(d) = info.dtype {
            if t.dtype() != d {
                return Err(err(format!(
                    "expected tensors of {d}, got one of {}",
                    t.dtype()
                )));
            }
        }
        Ok(Value::Tensor(t.clone().into_compute()))
    };
    let seq = |s: &[Value]| -> Result<Value> {
        s.iter()
            .map(|x| match x {
                Value::Tensor(t) => tensor(t),
                other => Err(err(format!(
                    "expected a sequence of tensors, got an element that is a {}",
                    other.kind()
                ))),
            })
            .collect::<Result<Vec<_>>>()
            .map(Value::Sequence)
    };
    // a map: keys of the declared dtype, values a 1-D tensor of the declared dtype (only the
    // ai.onnx.ml ops read maps: without them a map input is refused)
    #[cfg(not(feature = "ml"))]
    let map = |_: &Map, _: &str| -> Result<Value> {
        Err(err(
            "this build has no ai.onnx.ml operators (feature `ml`) to read a map".into(),
        ))
    };
    #[cfg(feature = "ml")]
    let map = |m: &Map, at: &str| -> Result<Value> {
        let key = match m.keys() {
            MapKeys::I64(_) => DType::I64,
            MapKeys::Str(_) => DType::Str,
        };
        if let Some(k) = info.key.filter(|&k| k != key) {
            return Err(err(format!(
                "{at}expected a map with {k} keys, got {key} keys"
            )));
        }
        match info.dtype {
            Some(d) if m.values().dtype() != d => Err(err(format!(
                "{at}expected a map to {d} values, got {} values",
                m.values().dtype()
            ))),
            _ => Ok(Value::Map(Map::new(
                m.keys().clone(),
                m.values().clone().into_compute(),
            )?)),
        }
    };
    match (info.kind, v) {
        (ValueKind::Sequence, Value::Sequence(s)) => seq(s),
        (ValueKind::Map, Value::Map(m)) => map(m, ""),
        (ValueKind::MapSequence, Value::Sequence(s)) => s
            .iter()
            .enumerate()
            .map(|(i, x)| match x {
                Value::Map(m) => map(m, &format!("element {i}: ")),
                other => Err(err(format!(
                    "expected a sequence of maps, got an element {i} that is a {}",
                    other.kind()
                ))),
            })
            .collect::<Result<Vec<_>>>()
            .map(Value::Sequence),
        (ValueKind::Optional | ValueKind::OptionalSequence, Value::Optional(None)) => {
            Ok(Value::Optional(None))
        }
        (ValueKind::Optional, Value::Optional(Some(x))) => match &**x {
            Value::Tensor(t) => Ok(Value::Optional(Some(Box::new(tensor(t)?)))),
            other => Err(err(format!(
                "expected an optional tensor, holding a {}",
                other.kind()
            ))),
        },
        (ValueKind::OptionalSequence, Value::Optional(Some(x))) => match &**x {
            Value::Sequence(s) => Ok(Value::Optional(Some(Box::new(seq(s)?)))),
            other => Err(err(format!(
                "expected an optional sequence, holding a {}",
                other.kind()
            ))),
        },
        (k, other) => Err(err(format!(
            "expected a {}, got a {}",
            kind_name(k),
            other.kind()
        ))),
    }
}

/// The graph outputs ZipMap nodes write, with their labels; a ZipMap read by another node is an
/// error.
fn zipmap_outputs(g: &Graph) -> Result<Vec<(usize, Labels)>> {
    let mut out = vec![];
    for n in &g.nodes {
        let Op::Ml(MlOp::ZipMap { labels }) = &n.op else {
            continue;
        };
        let Some(&v) = n.outputs.first() else {
            continue;
        };
        let read = g.nodes.iter().any(|m| m.inputs.contains(&Some(v)));
        if read || !g.outputs.contains(&v) {
            return Err(Error::UnsupportedOp {
                op: "ZipMap".into(),
                domain: "ai.onnx.ml".into(),
                opset: 1,
                node: n.name.clone(),
                hint: "Hearth returns ZipMap's sequence of maps only as a graph output; this one                        feeds another node (read its input, the probability matrix, instead)"
                    .into(),
            });
        }
        for (k, &o) in g.outputs.iter().enumerate() {
            if o == v {
                out.push((k, labels.clone()));
            }
        }
    }
    Ok(out)
}

/// `[N, C]` probabilities → N maps of the C labels.
fn zipmap_value(t: Tensor, labels: &Labels, name: &str) -> Result<Value> {
    let c = labels.len();
    let (rows, ok) = match t.shape() {
        [n, k] => (*n, *k == c),
        [k] => (1, *k == c),
        _ => (0, false),
    };
    if !ok {
        return Err(Error::shape(format!(
            "output '{name}' (ZipMap): probabilities of shape {:?} for {c} class labels",
            t.shape()
        )));
    }
    let p = t.into_compute();
    let p = p.as_f32()?;
    let keys = match labels {
        Labels::I64(l) => MapKeys::I64(l.clone()),
        Labels::Str(l) => MapKeys::Str(l.clone()),
    };
    (0..rows)
        .map(|r| {
            let v = Tensor::from_f32(vec![c], p[r * c..(r + 1) * c].to_vec())?;
            Ok(Value::Map(Map::new(keys.clone(), v)?))
        })
        .collect::<Result<Vec<_>>>()
        .map(Value::Sequence)
}

#[cfg(not(feature = "webgpu"))]
fn no_gpu_in_build() -> Error {
    Error::BackendUnavailable {
        backend: "webgpu".into(),
        reason: "this build of Hearth has no GPU backend (built without the `webgpu` feature); \
                 use backend 'cpu' or 'auto'"
            .into(),
    }
}

/// `auto`'s choices for this process (natively) or page (wasm), by model hash and adapter.
#[cfg(feature = "webgpu")]
fn auto_cache<R>(f: impl FnOnce(&mut HashMap<(u64, String), BackendProbe>) -> R) -> R {
    static CACHE: Mutex<Option<HashMap<(u64, String), BackendProbe>>> = Mutex::new(None);
    f(CACHE.lock().unwrap().get_or_insert_with(HashMap::new))
}

impl BackendProbe {
    /// No timing: the CPU, for `reason`.
    pub(crate) fn cpu_only(reason: &str) -> BackendProbe {
        BackendProbe {
            cpu_ms: None,
            gpu_ms: None,
            adapter: None,
            backend: BackendKind::Cpu,
            reason: reason.to_string(),
            cached: false,
        }
    }

    /// Records both timings and the verdict; true when the GPU was faster.
    #[cfg(feature = "webgpu")]
    pub(crate) fn timed(&mut self, cpu_ms: f64, gpu_ms: f64) -> bool {
        self.cpu_ms = Some(cpu_ms);
        self.gpu_ms = Some(gpu_ms);
        self.backend = if gpu_ms < cpu_ms {
            BackendKind::WebGpu
        } else {
            BackendKind::Cpu
        };
        self.reason = if gpu_ms < cpu_ms {
            format!("webgpu: {gpu_ms:.3} ms vs {cpu_ms:.3} ms on the CPU")
        } else {
            format!("cpu: {cpu_ms:.3} ms vs {gpu_ms:.3} ms on the GPU")
        };
        gpu_ms < cpu_ms
    }
}

fn describe(info: &IoInfo) -> String {
    let dtype = info
        .dtype
        .map_or("any dtype".to_string(), |d| d.to_string());
    match &info.shape {
        Some(s) => {
            let dims: Vec<String> = s.iter().map(|d| d.to_string()).collect();
            format!("{dtype} of shape [{}]", dims.join(", "))
        }
        None => dtype,
    }
}

fn check_input<'a>(
    info: &'a IoInfo,
    t: &Tensor,
    syms: &mut HashMap<&'a str, (usize, &'a str)>,
) -> Result<()> {
    let err = |msg: String| Error::Input {
        name: info.name.clone(),
        msg,
    };
    if let Some(d) = info.dtype {
        if t.dtype() != d {
            return Err(err(format!(
                "expected {}, got {}",
                describe(info),
                t.dtype()
            )));
        }
    }
    if let Some(shape) = &info.shape {
        if shape.len() != t.rank() {
            return Err(err(format!(
                "expected {} (rank {}), got shape {:?}",
                describe(info),
                shape.len(),
                t.shape()
            )));
        }
        for (k, (d, &n)) in shape.iter().zip(t.shape()).enumerate() {
            match d {
                Dim::Known(m) if *m != n => {
                    return Err(err(format!(
                        "expected {}, got shape {:?} (dim {k} is {n}, expected {m})",
                        describe(info),
                        t.shape()
                    )))
                }
                Dim::Sym(s) => match syms.get(s.as_str()) {
                    Some(&(m, other)) if m != n => {
                        return Err(err(format!(
                            "dim {k} ('{s}') is {n}, but input '{other}' gave '{s}' = {m}"
                        )))
                    }
                    Some(_) => {}
                    None => {
                        syms.insert(s.as_str(), (n, info.name.as_str()));
                    }
                },
                _ => {}
            }
        }
    }
    Ok(())
}
