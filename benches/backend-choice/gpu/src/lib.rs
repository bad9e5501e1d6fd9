//! `matmul(m, k, n)`: starts a GPU device, multiplies an m×k by a k×n matrix of known values on
//! it, reads the product back and returns it. One exported async function, so the wasm holds
//! exactly what a minimal GPU program needs with the chosen stack.

use wasm_bindgen::prelude::*;

fn matrix(rows: usize, cols: usize, seed: usize) -> Vec<f32> {
    (0..rows * cols)
        .map(|i| ((i * 7 + seed) % 13) as f32 / 13.0 - 0.5)
        .collect()
}

#[cfg(feature = "wgpu")]
#[wasm_bindgen]
pub async fn matmul(m: usize, k: usize, n: usize) -> Result<Vec<f32>, JsValue> {
    use wgpu::util::DeviceExt;
    let err = |e: String| JsValue::from_str(&e);
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
    let adapter = instance
        .request_adapter(&wgpu::RequestAdapterOptions::default())
        .await
        .map_err(|e| err(e.to_string()))?;
    let (device, queue) = adapter
        .request_device(&wgpu::DeviceDescriptor::default())
        .await
        .map_err(|e| err(e.to_string()))?;
    let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("matmul"),
        source: wgpu::ShaderSource::Wgsl(include_str!("matmul.wgsl").into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("matmul"),
        layout: None,
        module: &shader,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let a = matrix(m, k, 1);
    let b = matrix(k, n, 2);
    let storage = |data: &[f32]| {
        device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: None,
            contents: unsafe { std::slice::from_raw_parts(data.as_ptr().cast(), data.len() * 4) },
            usage: wgpu::BufferUsages::STORAGE,
        })
    };
    let (ba, bb) = (storage(&a), storage(&b));
    let dims = [m as u32, k as u32, n as u32, 0];
    let bu = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: None,
        contents: unsafe { std::slice::from_raw_parts(dims.as_ptr().cast(), 16) },
        usage: wgpu::BufferUsages::UNIFORM,
    });
    let size = (m * n * 4) as u64;
    let bc = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let staging = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry { binding: 0, resource: ba.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 1, resource: bb.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 2, resource: bc.as_entire_binding() },
            wgpu::BindGroupEntry { binding: 3, resource: bu.as_entire_binding() },
        ],
    });
    let mut enc = device.create_command_encoder(&Default::default());
    {
        let mut pass = enc.begin_compute_pass(&Default::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups((n as u32).div_ceil(8), (m as u32).div_ceil(8), 1);
    }
    enc.copy_buffer_to_buffer(&bc, 0, &staging, 0, size);
    queue.submit([enc.finish()]);
    let (tx, rx) = futures_channel();
    staging.slice(..).map_async(wgpu::MapMode::Read, move |r| tx(r.is_ok()));
    #[cfg(not(target_arch = "wasm32"))]
    device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| err(e.to_string()))?;
    if !rx.await {
        return Err(err("map_async failed".into()));
    }
    let out = staging.slice(..).get_mapped_range().map_err(|e| err(format!("{e:?}")))?;
    let v: Vec<f32> = out.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    Ok(v)
}

/// A one-shot channel without extra crates: the callback sets the value and wakes the reader.
#[cfg(feature = "wgpu")]
fn futures_channel() -> (impl FnOnce(bool) + Send + 'static, impl std::future::Future<Output = bool>) {
    use std::sync::{Arc, Mutex};
    use std::task::{Poll, Waker};
    let slot: Arc<Mutex<(Option<bool>, Option<Waker>)>> = Arc::new(Mutex::new((None, None)));
    let s2 = slot.clone();
    let send = move |v: bool| {
        let mut g = s2.lock().unwrap();
        g.0 = Some(v);
        if let Some(w) = g.1.take() {
            w.wake();
        }
    };
    let recv = std::future::poll_fn(move |cx| {
        let mut g = slot.lock().unwrap();
        match g.0 {
            Some(v) => Poll::Ready(v),
            None => {
                g.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    });
    (send, recv)
}

#[cfg(feature = "burn")]
#[wasm_bindgen]
pub async fn matmul(m: usize, k: usize, n: usize) -> Result<Vec<f32>, JsValue> {
    use burn::prelude::*;
    let device = Device::wgpu_options()
        .init_async()
        .await
        .map_err(|e| JsValue::from_str(&format!("{e:?}")))?;
    let a = Tensor::<2>::from_data(TensorData::new(matrix(m, k, 1), [m, k]), &device);
    let b = Tensor::<2>::from_data(TensorData::new(matrix(k, n, 2), [k, n]), &device);
    let c = a.matmul(b);
    let data = c.into_data_async().await.map_err(|e| JsValue::from_str(&format!("{e:?}")))?;
    data.to_vec::<f32>().map_err(|e| JsValue::from_str(&format!("{e:?}")))
}
