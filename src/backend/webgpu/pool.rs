//! GPU buffers pooled by (size class, usage). A [`GpuBuffer`] goes back to the pool when its last
//! owner drops it. A [`Recorder`](super::Recorder) owns (an `Arc` of) every buffer its commands
//! bind until it is submitted, so a buffer in the pool is never read by unsubmitted commands —
//! which matters because `Queue::write_buffer` into a reused buffer is ordered before every
//! command not yet submitted, on any thread.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Size classes: powers of two from 256 bytes (so a pool serves varying batch sizes with few
/// distinct buffers, at up to 2× the memory of exact sizes).
fn size_class(bytes: u64) -> u64 {
    bytes.max(256).next_power_of_two()
}

#[derive(Default)]
struct Inner {
    free: HashMap<(u64, u32), Vec<wgpu::Buffer>>,
    /// Buffers created, and their total bytes (never shrinks unless `clear` is called).
    created: usize,
    created_bytes: u64,
}

/// The pool of one device.
#[derive(Clone)]
pub struct BufferPool {
    device: wgpu::Device,
    inner: Arc<Mutex<Inner>>,
}

/// A pooled buffer; returns to the pool when dropped.
pub struct GpuBuffer {
    buffer: Option<wgpu::Buffer>,
    class: u64,
    usage: u32,
    pool: Arc<Mutex<Inner>>,
}

impl std::fmt::Debug for GpuBuffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GpuBuffer({} B)", self.class)
    }
}

impl GpuBuffer {
    pub fn raw(&self) -> &wgpu::Buffer {
        self.buffer.as_ref().expect("a live buffer")
    }
}

impl Drop for GpuBuffer {
    fn drop(&mut self) {
        if let Some(b) = self.buffer.take() {
            if let Ok(mut g) = self.pool.lock() {
                g.free.entry((self.class, self.usage)).or_default().push(b);
            }
        }
    }
}

/// Counts for tests and reports: buffers created so far and their bytes, buffers idle in the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolStats {
    pub created: usize,
    pub created_bytes: u64,
    pub idle: usize,
}

impl BufferPool {
    pub fn new(device: wgpu::Device) -> BufferPool {
        BufferPool {
            device,
            inner: Arc::new(Mutex::new(Inner::default())),
        }
    }

    /// A buffer of at least `bytes` bytes with exactly `usage`.
    pub fn get(&self, bytes: u64, usage: wgpu::BufferUsages) -> GpuBuffer {
        let class = size_class(bytes);
        let key = (class, usage.bits());
        let mut g = self.inner.lock().unwrap();
        let buffer = match g.free.get_mut(&key).and_then(|v| v.pop()) {
            Some(b) => b,
            None => {
                g.created += 1;
                g.created_bytes += class;
                self.device.create_buffer(&wgpu::BufferDescriptor {
                    label: None,
                    size: class,
                    usage,
                    mapped_at_creation: false,
                })
            }
        };
        GpuBuffer {
            buffer: Some(buffer),
            class,
            usage: usage.bits(),
            pool: self.inner.clone(),
        }
    }

    pub fn stats(&self) -> PoolStats {
        let g = self.inner.lock().unwrap();
        PoolStats {
            created: g.created,
            created_bytes: g.created_bytes,
            idle: g.free.values().map(Vec::len).sum::<usize>(),
        }
    }

    /// Destroys the idle buffers (those in use are destroyed when their owners drop them).
    pub fn clear(&self) {
        let mut g = self.inner.lock().unwrap();
        let free = std::mem::take(&mut g.free);
        for b in free.into_values().flatten() {
            g.created_bytes -= b.size();
            g.created -= 1;
            b.destroy();
        }
    }
}
