//! Backends that execute IR ops. `cpu` is always present; `webgpu` arrives with its feature.

pub mod cpu;
