//! Backends that execute IR ops. `cpu` is always present; `webgpu` (feature `webgpu`) runs
//! WGSL shaders through wgpu and leaves the ops it has no kernel for to `cpu`.

pub mod cpu;
#[cfg(feature = "webgpu")]
pub mod webgpu;
