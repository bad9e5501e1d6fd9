//! The GPU backend: WGSL compute shaders (`shaders/`, one entry point each) run through `wgpu`
//! — Vulkan, Metal or DX12 natively (Mesa's lavapipe on machines without a GPU), the browser's
//! WebGPU on wasm. [`GpuDevice`] starts the device and caches pipelines and buffers;
//! [`dispatch`] is what every kernel records with; [`ops`] holds one module per op family
//! (which nodes it takes, its launcher, its parameters shared with the WGSL); [`GpuGraph`] is
//! the GPU as the executor's device (`plan::exec`), which runs every other node on the CPU
//! kernels.
//!
//! Every shader has a CPU twin (the kernel in `backend/cpu` for the same op) and a parity test
//! (`ops/tests.rs`) that runs both on random inputs and states its tolerance.

mod device;
pub mod dispatch;
mod graph;
pub mod ops;
mod pool;

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use device::block_on;
pub use device::{now_ms, time_ms, AdapterSummary, GpuDevice, Recorder};
pub use dispatch::{GpuTensor, Shader};
pub use graph::GpuGraph;
pub use pool::PoolStats;

impl GpuDevice {
    /// The pool's counts (buffers created, bytes, idle).
    pub fn pool_stats(&self) -> PoolStats {
        self.pool.stats()
    }

    /// A command encoder for recording kernels.
    pub fn encoder(&self) -> Recorder {
        Recorder {
            enc: self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None }),
            keep: Vec::new(),
        }
    }

    /// Submits the recorded work without reading anything back.
    pub fn flush(&self, rec: Recorder) {
        self.submit(rec)
    }

    /// Submits the recorded work and copies `t` to the host (awaiting `mapAsync` in a browser).
    pub async fn download_async(
        &self,
        rec: Recorder,
        t: &GpuTensor,
    ) -> crate::Result<crate::Tensor> {
        let v = self.read_async(rec, &t.buf, t.numel()).await?;
        crate::Tensor::from_f32(t.shape.clone(), v)
    }

    /// [`download_async`](Self::download_async), blocking (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn download(&self, rec: Recorder, t: &GpuTensor) -> crate::Result<crate::Tensor> {
        device::block_on(self.download_async(rec, t))
    }

    /// Copies a host f32 tensor to the GPU (queued before the next submit).
    pub fn upload_tensor(&self, t: &crate::Tensor) -> crate::Result<GpuTensor> {
        self.upload(t.shape(), t.as_f32()?)
    }
}
