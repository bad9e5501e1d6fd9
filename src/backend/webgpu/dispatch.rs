//! What every GPU kernel records with: [`Shader`]s (WGSL source plus the constants generated
//! from the Rust enums it switches on), [`GpuTensor`]s in pooled buffers, uniforms, and one
//! compute dispatch into a [`Recorder`]. The engine's op modules (`ops/`) and the recommender
//! (`recommend::gpu`) both dispatch through these: a module that owns a shader passes its
//! `&'static Shader`, and the device compiles it once and caches the pipeline by name.

use super::device::{GpuDevice, Recorder};
use super::pool::GpuBuffer;
use crate::error::{Error, Result};
use std::sync::Arc;

/// A WGSL compute shader with one entry point `main`, inputs bound first, then the outputs,
/// then a uniform `Params`.
pub struct Shader {
    /// Unique among shaders: the pipeline cache key.
    pub name: &'static str,
    pub src: &'static str,
    /// `const NAME: u32 = …u;` lines prepended to `src`: the codes of the Rust enums the shader
    /// switches on (see [`wgsl_enum!`](crate::wgsl_enum)), so no code is written twice.
    pub consts: fn() -> String,
}

impl Shader {
    /// The source the device compiles: the generated constants, then the file.
    pub fn source(&self) -> String {
        let mut s = (self.consts)();
        s.push_str(self.src);
        s
    }
}

/// For shaders without generated constants.
pub fn no_consts() -> String {
    String::new()
}

/// An enum whose variants a shader switches on: a `#[repr(u32)]` Rust enum plus
/// `wgsl_consts()`, the WGSL `const` line of every variant (`const U_ABS: u32 = 0u;`), which
/// the shader's [`Shader::consts`] prepends. The WGSL side writes only the names.
#[macro_export]
#[doc(hidden)]
macro_rules! wgsl_enum {
    ($(#[$m:meta])* $vis:vis enum $name:ident { $($(#[$vm:meta])* $var:ident => $wgsl:ident),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u32)]
        $vis enum $name { $($(#[$vm])* $var),+ }
        impl $name {
            /// Every variant, in code order.
            #[allow(dead_code)]
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            /// The WGSL name of this variant's code.
            #[allow(dead_code)]
            pub fn wgsl_name(self) -> &'static str {
                match self { $($name::$var => stringify!($wgsl)),+ }
            }
            /// `const NAME: u32 = code;` for every variant (codes in declaration order).
            pub fn wgsl_consts() -> String {
                let names: &[&str] = &[$(stringify!($wgsl)),+];
                let mut s = String::new();
                for (code, n) in names.iter().enumerate() {
                    s.push_str("const ");
                    s.push_str(n);
                    s.push_str(": u32 = ");
                    s.push_str(&code.to_string());
                    s.push_str("u;\n");
                }
                s
            }
        }
    };
}

/// A dense row-major f32 tensor in a GPU buffer. Clones share the buffer (reshapes are views).
#[derive(Clone, Debug)]
pub struct GpuTensor {
    pub(crate) buf: Arc<GpuBuffer>,
    pub shape: Vec<usize>,
}

impl GpuTensor {
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// The same buffer under another shape of the same element count.
    pub fn view(&self, shape: Vec<usize>) -> GpuTensor {
        debug_assert_eq!(shape.iter().product::<usize>(), self.numel());
        GpuTensor {
            buf: self.buf.clone(),
            shape,
        }
    }
}

impl crate::plan::exec::DeviceValue for GpuTensor {
    fn shape(&self) -> &[usize] {
        &self.shape
    }
}

/// Usage of every tensor buffer: kernels read and write them, uploads and readbacks copy.
pub(crate) const TENSOR_USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// WebGPU's minimum `maxComputeWorkgroupsPerDimension` (spec §3.6.2 limits); larger 1-D
/// dispatches are folded into a second dimension.
pub const MAX_GROUPS_PER_DIM: u32 = 65535;

fn words<T: Copy>(p: &T) -> &[u8] {
    // SAFETY: the params structs are #[repr(C)] plain u32/f32 fields without padding.
    unsafe { std::slice::from_raw_parts((p as *const T).cast::<u8>(), std::mem::size_of::<T>()) }
}

/// Whether `groups` workgroups fit a 1-D dispatch folded into 2-D (see [`grid`]).
pub fn grid_fits(groups: usize) -> bool {
    let max = MAX_GROUPS_PER_DIM as usize;
    groups.div_ceil(max) <= max
}

/// Grid for `groups` workgroups in 1-D, folded into 2-D above 65535 (the shaders recompute the
/// flat index from `num_workgroups`). A kernel checks [`grid_fits`] before it records.
pub fn grid(groups: usize) -> Result<(u32, u32)> {
    let g = groups as u64;
    let max = MAX_GROUPS_PER_DIM as u64;
    if g <= max {
        return Ok((g as u32, 1));
    }
    let y = g.div_ceil(max);
    if y > max {
        return Err(Error::Limit(format!(
            "{groups} workgroups exceed one GPU dispatch"
        )));
    }
    Ok((max as u32, y as u32))
}

impl GpuDevice {
    /// Why a tensor of `numel` f32 values cannot live in one storage binding of this device, if
    /// it cannot.
    pub fn too_big(&self, numel: usize) -> Option<String> {
        let bytes = (numel as u64 * 4).max(4);
        (bytes.max(256).next_power_of_two() > self.max_binding()).then(|| {
            format!(
                "a tensor of {numel} f32 values exceeds the GPU's largest storage binding ({} B)",
                self.max_binding()
            )
        })
    }

    /// A new tensor buffer for `shape` from the pool, or [`Error::Limit`] when it exceeds one
    /// storage binding ([`too_big`](Self::too_big) says so beforehand).
    pub fn alloc(&self, shape: &[usize]) -> Result<GpuTensor> {
        let n: usize = shape.iter().product();
        if let Some(why) = self.too_big(n) {
            return Err(Error::Limit(why));
        }
        Ok(GpuTensor {
            buf: Arc::new(self.pool.get((n as u64 * 4).max(4), TENSOR_USAGE)),
            shape: shape.to_vec(),
        })
    }

    /// Copies host values into a new tensor buffer (queued before the next submit).
    pub fn upload(&self, shape: &[usize], v: &[f32]) -> Result<GpuTensor> {
        let t = self.alloc(shape)?;
        if !v.is_empty() {
            self.queue
                .write_buffer(t.buf.raw(), 0, bytemuck::cast_slice(v));
        }
        Ok(t)
    }

    /// A uniform buffer holding `p` (a `#[repr(C)]` struct of u32/f32 fields mirroring the
    /// shader's `Params`).
    pub(crate) fn uniform<T: Copy>(&self, p: &T) -> Arc<GpuBuffer> {
        let bytes = words(p);
        let b = self.pool.get(
            bytes.len() as u64,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        );
        self.queue.write_buffer(b.raw(), 0, bytes);
        Arc::new(b)
    }

    /// Records one dispatch of `shader` with `buffers` bound in order (0, 1, …); the buffers
    /// stay alive in `rec` until it is submitted.
    pub(crate) fn dispatch(
        &self,
        rec: &mut Recorder,
        shader: &'static Shader,
        buffers: &[&Arc<GpuBuffer>],
        groups: (u32, u32, u32),
    ) -> Result<()> {
        let pipeline = self.pipeline(shader)?;
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.raw().as_entire_binding(),
            })
            .collect();
        let bind = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(shader.name),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        rec.keep.extend(buffers.iter().map(|b| Arc::clone(b)));
        let mut pass = rec.enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(shader.name),
            timestamp_writes: None,
        });
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups(groups.0, groups.1, groups.2);
        Ok(())
    }
}
