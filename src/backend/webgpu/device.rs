//! The GPU device: adapter and device start (with a typed error saying why they did not),
//! compute pipelines compiled once per device and cached by shader name, the buffer pool, and
//! blocking submission and readback for native use.

use super::dispatch::Shader;
use super::pool::{BufferPool, GpuBuffer};
use crate::error::{Error, Result};
use std::collections::HashMap;
#[cfg(not(target_arch = "wasm32"))]
use std::sync::OnceLock;
use std::sync::{Arc, Mutex};
#[cfg(not(target_arch = "wasm32"))]
use std::time::Duration;

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen::prelude::wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Milliseconds from an arbitrary origin (`performance.now()` in a browser).
pub fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        performance_now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        static T0: OnceLock<std::time::Instant> = OnceLock::new();
        T0.get_or_init(std::time::Instant::now)
            .elapsed()
            .as_secs_f64()
            * 1e3
    }
}

/// Median time per call of `f` in ms, as the `auto` probes measure a backend: 3 samples, each repeating `f` until 2 ms have passed (at
/// most 50 calls; browsers coarsen `performance.now()`), after one warm-up call.
pub async fn time_ms<F: std::future::Future<Output = Result<()>>>(
    mut f: impl FnMut() -> F,
) -> Result<f64> {
    f().await?;
    let mut samples = Vec::new();
    for _ in 0..3 {
        let (t0, mut n) = (now_ms(), 0u32);
        while n == 0 || (now_ms() - t0 < 2.0 && n < 50) {
            f().await?;
            n += 1;
        }
        samples.push((now_ms() - t0) / n as f64);
    }
    samples.sort_by(f64::total_cmp);
    Ok(samples[1])
}

/// A command encoder and the buffers its commands bind (kept alive, out of the pool, until the
/// commands are submitted).
pub struct Recorder {
    pub(crate) enc: wgpu::CommandEncoder,
    pub(crate) keep: Vec<Arc<GpuBuffer>>,
}

/// What the adapter says about itself (`name` is e.g. "llvmpipe (LLVM 15.0.6, 256 bits)").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdapterSummary {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
}

/// A started GPU device with its queue, buffer pool and pipeline cache.
pub struct GpuDevice {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) pool: BufferPool,
    pipelines: Mutex<HashMap<&'static str, Arc<wgpu::ComputePipeline>>>,
    compile_times: Mutex<Vec<(&'static str, f64)>>,
    adapter: AdapterSummary,
    lost: Arc<Mutex<Option<String>>>,
    max_storage_binding: u64,
}

impl std::fmt::Debug for GpuDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuDevice")
            .field("adapter", &self.adapter)
            .finish_non_exhaustive()
    }
}

fn unavailable(reason: impl Into<String>) -> Error {
    Error::BackendUnavailable {
        backend: "webgpu".into(),
        reason: reason.into(),
    }
}

/// Drives a future to completion on this thread (native only). Native wgpu resolves adapter and device
/// requests without an event loop, and map callbacks fire inside `Device::poll`.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        match f.as_mut().poll(&mut cx) {
            Poll::Ready(v) => return v,
            Poll::Pending => std::thread::park_timeout(Duration::from_millis(1)),
        }
    }
}

impl GpuDevice {
    /// Starts a device on the first adapter wgpu offers (Vulkan/Metal/DX12 natively), asking
    /// for `Limits::downlevel_defaults()` plus 8 storage buffers per stage and the adapter's
    /// storage-buffer sizes.
    /// In a browser this is the page's WebGPU (`navigator.gpu`).
    pub async fn start_async() -> Result<GpuDevice> {
        {
            let instance =
                wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
            let adapter = instance
                .request_adapter(&wgpu::RequestAdapterOptions {
                    power_preference: wgpu::PowerPreference::HighPerformance,
                    ..Default::default()
                })
                .await
                .map_err(|e| {
                    unavailable(format!(
                        "no GPU adapter ({e}); in a browser WebGPU may be off or absent; \
                     natively on Linux without a GPU install Mesa's lavapipe: \
                     apt-get install mesa-vulkan-drivers"
                    ))
                })?;
            let info = adapter.get_info();
            let al = adapter.limits();
            // downlevel_defaults() allows 4 storage buffers per stage; layer_norm.wgsl binds 5.
            // 8 is WebGPU's default maxStorageBuffersPerShaderStage (spec §3.6.2), so every
            // WebGPU adapter has it.
            let limits = wgpu::Limits {
                max_storage_buffers_per_shader_stage: 8,
                max_storage_buffer_binding_size: al.max_storage_buffer_binding_size,
                max_buffer_size: al.max_buffer_size,
                ..wgpu::Limits::downlevel_defaults()
            };
            let (device, queue) = adapter
                .request_device(&wgpu::DeviceDescriptor {
                    label: Some("hearth"),
                    required_limits: limits.clone(),
                    ..Default::default()
                })
                .await
                .map_err(|e| {
                    unavailable(format!("the adapter '{}' refused a device: {e}", info.name))
                })?;
            let lost = Arc::new(Mutex::new(None));
            let l2 = lost.clone();
            device.set_device_lost_callback(move |reason, msg| {
                *l2.lock().unwrap() = Some(format!("{reason:?}: {msg}"));
            });
            // wgpu's default handler panics; record the error instead, as a loss of the device
            // (the session then moves to the CPU)
            let l3 = lost.clone();
            device.on_uncaptured_error(Arc::new(move |e| {
                let mut g = l3.lock().unwrap();
                if g.is_none() {
                    *g = Some(format!("uncaptured GPU error: {e}"));
                }
            }));
            Ok(GpuDevice {
                pool: BufferPool::new(device.clone()),
                device,
                queue,
                pipelines: Mutex::new(HashMap::new()),
                compile_times: Mutex::new(Vec::new()),
                adapter: AdapterSummary {
                    name: info.name.clone(),
                    backend: format!("{:?}", info.backend),
                    device_type: format!("{:?}", info.device_type),
                    driver: format!("{} {}", info.driver, info.driver_info),
                },
                lost,
                max_storage_binding: limits.max_storage_buffer_binding_size as u64,
            })
        }
    }

    /// [`start_async`](Self::start_async), blocking (native only: a browser cannot block).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn start() -> Result<GpuDevice> {
        block_on(GpuDevice::start_async())
    }

    /// One device for the whole process (natively), started on first use; the error of a failed
    /// start is kept and returned again.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn shared() -> Result<Arc<GpuDevice>> {
        static DEV: OnceLock<std::result::Result<Arc<GpuDevice>, String>> = OnceLock::new();
        match DEV.get_or_init(|| GpuDevice::start().map(Arc::new).map_err(|e| e.to_string())) {
            Ok(d) => Ok(d.clone()),
            Err(msg) => Err(unavailable(
                msg.trim_start_matches("backend webgpu unavailable: ")
                    .to_string(),
            )),
        }
    }

    /// [`shared`](Self::shared) for any target: natively the process-wide device; in a browser
    /// one device per page (wasm is single-threaded), started on first use. A lost device is
    /// replaced by a new one at the next call.
    pub async fn shared_async() -> Result<Arc<GpuDevice>> {
        #[cfg(not(target_arch = "wasm32"))]
        {
            GpuDevice::shared()
        }
        #[cfg(target_arch = "wasm32")]
        {
            thread_local! {
                static DEV: std::cell::RefCell<Option<Arc<GpuDevice>>> = const { std::cell::RefCell::new(None) };
            }
            if let Some(d) = DEV
                .with(|d| d.borrow().clone())
                .filter(|d| d.lost().is_none())
            {
                return Ok(d);
            }
            let d = Arc::new(GpuDevice::start_async().await?);
            DEV.with(|slot| *slot.borrow_mut() = Some(d.clone()));
            Ok(d)
        }
    }

    pub fn adapter(&self) -> &AdapterSummary {
        &self.adapter
    }

    /// Why the device was lost, if it was.
    pub fn lost(&self) -> Option<String> {
        self.lost.lock().unwrap().clone()
    }

    /// Why work on this device failed with `e`, for a fallback reason: the loss of the device
    /// when it is known by now (a readback on a destroyed device can fail before the loss is
    /// reported, and the loss is then the cause), else `e`.
    pub fn failure_reason(&self, e: &Error) -> String {
        match self.lost() {
            Some(why) => format!("the GPU device was lost ({why})"),
            None => e.to_string(),
        }
    }

    /// Destroys the device: every session on it moves to the CPU at its next run. (Tests use it to
    /// simulate a lost device, as `device.destroy()` does in a browser.)
    pub fn destroy(&self) {
        self.pool.clear();
        self.device.destroy();
        // wgpu reports the loss through the callback on a later poll; do not wait for it
        let mut g = self.lost.lock().unwrap();
        if g.is_none() {
            *g = Some("Destroyed: destroy() was called".into());
        }
    }

    /// Largest buffer one binding may hold, in bytes.
    pub fn max_binding(&self) -> u64 {
        self.max_storage_binding
    }

    /// The pipeline of `shader`, compiled on first use and cached (by name) for the device's
    /// life. Any module may bring its own shader this way (the recommender does).
    pub(crate) fn pipeline(&self, shader: &'static Shader) -> Result<Arc<wgpu::ComputePipeline>> {
        let name = shader.name;
        if let Some(p) = self.pipelines.lock().unwrap().get(name) {
            return Ok(p.clone());
        }
        let t0 = now_ms();
        let pipeline = self.compile(name, &shader.source())?;
        self.compile_times
            .lock()
            .unwrap()
            .push((name, now_ms() - t0));
        let p = Arc::new(pipeline);
        self.pipelines.lock().unwrap().insert(name, p.clone());
        Ok(p)
    }

    /// Compiles WGSL `src` (entry point `main`) into a compute pipeline, inside a validation
    /// error scope. Natively the scope's result is awaited: a rejected shader is an error here.
    /// A browser cannot block, so there the scope is popped in the background and a rejection
    /// marks the device lost: a browser's WebGPU only logs an invalid pipeline as a console
    /// warning and its dispatches do nothing, so every run checks [`lost`](Self::lost) after its
    /// readback and moves to the CPU rather than return what an invalid pipeline left behind.
    fn compile(&self, name: &str, src: &str) -> Result<wgpu::ComputePipeline> {
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(name),
                source: wgpu::ShaderSource::Wgsl(src.into()),
            });
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(name),
                layout: None,
                module: &module,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            });
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(e) = block_on(scope.pop()) {
            return Err(Error::Gpu(format!("shader '{name}' did not compile: {e}")));
        }
        #[cfg(target_arch = "wasm32")]
        {
            // popped now (scopes are a stack: later pushes must not land inside this one),
            // its result awaited in the background
            let popped = scope.pop();
            let (lost, name) = (self.lost.clone(), name.to_string());
            wasm_bindgen_futures::spawn_local(async move {
                if let Some(e) = popped.await {
                    let mut g = lost.lock().unwrap();
                    if g.is_none() {
                        *g = Some(format!("shader '{name}' did not compile: {e}"));
                    }
                }
            });
        }
        Ok(pipeline)
    }

    /// Test hook (feature `test-api`): compiles `src` as [`pipeline`](Self::pipeline) compiles a
    /// shader (the pipeline is not kept), to check what a shader the driver rejects does to the
    /// device's sessions.
    #[cfg(feature = "test-api")]
    pub fn compile_for_test(&self, src: &str) -> Result<()> {
        self.compile("test", src).map(drop)
    }

    /// Shader compile times so far in ms (first use of each pipeline), in compile order. In a
    /// browser this is the time to record the pipeline; the browser may compile it later.
    pub fn compile_times(&self) -> Vec<(&'static str, f64)> {
        self.compile_times.lock().unwrap().clone()
    }

    /// Compiles `shaders` now (so a session's first run does not pay for it); returns the ones
    /// that did not compile, with the error. (In a browser a rejection arrives later and marks
    /// the device lost instead.)
    pub fn compile_all(&self, shaders: &[&'static Shader]) -> Vec<(&'static str, Error)> {
        shaders
            .iter()
            .filter_map(|s| self.pipeline(s).err().map(|e| (s.name, e)))
            .collect()
    }

    /// Submits the recorded commands; the buffers they bind may go back to the pool after this.
    pub(crate) fn submit(&self, rec: Recorder) {
        self.queue.submit([rec.enc.finish()]);
        drop(rec.keep);
    }

    /// Copies `src` (its first `len` f32 values) to the host through a pooled MAP_READ staging
    /// buffer. Natively this polls the device until the copy is done; in a browser it awaits
    /// `mapAsync` (never blocking the page).
    pub(crate) async fn read_async(
        &self,
        mut rec: Recorder,
        src: &GpuBuffer,
        len: usize,
    ) -> Result<Vec<f32>> {
        if len == 0 {
            self.submit(rec);
            return Ok(Vec::new());
        }
        let bytes = (len * 4) as u64;
        let staging = self.pool.get(
            bytes,
            wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        );
        rec.enc
            .copy_buffer_to_buffer(src.raw(), 0, staging.raw(), 0, bytes);
        self.submit(rec);
        let slice = staging.raw().slice(..bytes);
        let done: Arc<Mutex<Option<std::result::Result<(), wgpu::BufferAsyncError>>>> =
            Arc::new(Mutex::new(None));
        #[cfg(not(target_arch = "wasm32"))]
        {
            let d2 = done.clone();
            slice.map_async(wgpu::MapMode::Read, move |r| {
                *d2.lock().unwrap() = Some(r);
            });
        }
        #[cfg(target_arch = "wasm32")]
        let rx = {
            let (tx, rx) = oneshot();
            slice.map_async(wgpu::MapMode::Read, move |r| tx(r));
            rx
        };
        // Another thread polling the same device may be the one that runs our callback: poll
        // until it has run, not just once.
        #[cfg(not(target_arch = "wasm32"))]
        let status = loop {
            self.device
                .poll(wgpu::PollType::wait_indefinitely())
                .map_err(|e| Error::Gpu(format!("waiting for the GPU: {e}")))?;
            if let Some(r) = done.lock().unwrap().take() {
                break r;
            }
            if let Some(why) = self.lost() {
                return Err(Error::Gpu(format!("the GPU device was lost ({why})")));
            }
            std::thread::yield_now();
        };
        #[cfg(target_arch = "wasm32")]
        let status = {
            let _ = &done;
            rx.await
                .ok_or_else(|| Error::Gpu("reading back: the map was dropped".into()))?
        };
        status.map_err(|e| Error::Gpu(format!("reading back: {e}")))?;
        let out = slice.get_mapped_range().map(|view| {
            view.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect::<Vec<f32>>()
        });
        // unmapped before it returns to the pool, whatever happened
        staging.raw().unmap();
        out.map_err(|e| Error::Gpu(format!("reading back: {e:?}")))
    }
}

/// A one-shot channel (browser readback): the sender is called once from wgpu's callback; the
/// receiver resolves to its value, or `None` if the sender was dropped unsent.
#[cfg(target_arch = "wasm32")]
fn oneshot<T: 'static>() -> (
    impl FnOnce(T) + 'static,
    impl std::future::Future<Output = Option<T>>,
) {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::task::{Poll, Waker};
    struct State<T> {
        value: Option<T>,
        waker: Option<Waker>,
        sent: bool,
    }
    let st = Rc::new(RefCell::new(State {
        value: None,
        waker: None,
        sent: false,
    }));
    let s2 = st.clone();
    let send = move |v: T| {
        let mut g = s2.borrow_mut();
        g.value = Some(v);
        g.sent = true;
        if let Some(w) = g.waker.take() {
            w.wake();
        }
    };
    let recv = std::future::poll_fn(move |cx| {
        let mut g = st.borrow_mut();
        if let Some(v) = g.value.take() {
            return Poll::Ready(Some(v));
        }
        if g.sent || Rc::strong_count(&st) == 1 {
            return Poll::Ready(None);
        }
        g.waker = Some(cx.waker().clone());
        Poll::Pending
    });
    (send, recv)
}
