//! What the GPU ops' parity tests share (each op module tests its shader against the CPU
//! kernel on random inputs, stating its tolerance as `|gpu − cpu| ≤ atol + rtol·|cpu|`), and
//! the tests of the ops as a whole. Without a GPU adapter (no Vulkan driver) the tests fail with
//! the device's start error: `scripts/setup.sh` installs Mesa's lavapipe.

use super::unary::UnaryCall;
use crate::backend::cpu;
use crate::backend::webgpu::{GpuDevice, GpuTensor};
use crate::ir::ops::math::Unary;
use crate::tensor::Tensor;
use std::sync::Arc;

pub(crate) fn dev() -> Arc<GpuDevice> {
    GpuDevice::shared().expect("a GPU adapter (apt-get install mesa-vulkan-drivers for lavapipe)")
}

pub(crate) fn rand(shape: &[usize], seed: u64, lo: f32, hi: f32) -> Tensor {
    crate::testing::Rng::new(seed).tensor(shape, lo, hi)
}

pub(crate) fn up(d: &GpuDevice, t: &Tensor) -> GpuTensor {
    d.upload_tensor(t).unwrap()
}

pub(crate) fn assert_close(what: &str, got: &Tensor, want: &Tensor, atol: f32, rtol: f32) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    let (g, w) = (got.as_f32().unwrap(), want.as_f32().unwrap());
    crate::testing::assert_close(what, g, w, atol as f64, rtol as f64);
}

pub(crate) fn cpu1(op: crate::ir::Op, ins: &[&Tensor]) -> Tensor {
    let args: Vec<Option<&Tensor>> = ins.iter().map(|t| Some(*t)).collect();
    cpu::run(&op, &args).unwrap().remove(0)
}

#[test]
fn pipelines_compile_once_and_buffers_are_reused() {
    // its own device: the other tests share one and allocate concurrently
    let d = GpuDevice::start().expect("a GPU adapter");
    assert!(d.compile_all(&super::shaders()).is_empty());
    let compiled = d.compile_times().len();
    let x = rand(&[1000], 9, -1.0, 1.0);
    let mut created = None;
    for round in 0..20 {
        let gx = up(&d, &x);
        let mut enc = d.encoder();
        let y =
            super::unary::record(&d, &mut enc, &gx, UnaryCall::of(&Unary::Relu).unwrap()).unwrap();
        let got = d.download(enc, &y).unwrap();
        assert_eq!(got.as_f32().unwrap()[3], x.as_f32().unwrap()[3].max(0.0));
        drop((gx, y));
        let now = d.pool_stats().created;
        if round == 2 {
            created = Some(now);
        }
        if round > 2 {
            assert_eq!(Some(now), created, "round {round} created new buffers");
        }
    }
    assert_eq!(
        d.compile_times().len(),
        compiled,
        "a pipeline was compiled twice"
    );
}

/// Every code of a shader's enum is handled by name in its WGSL, and the generated constants
/// are what the shader sees (so Rust and WGSL cannot drift apart).
#[test]
fn every_enum_code_has_its_case_in_the_shader() {
    use super::binary::BinaryFn;
    use super::gemm::Act;
    use super::unary::UnaryFn;
    let check = |shader: &crate::backend::webgpu::Shader, names: Vec<&str>, skip: &[&str]| {
        let src = shader.source();
        for n in names.iter().filter(|n| !skip.contains(n)) {
            assert!(
                src.contains(&format!("case {n}:")),
                "{}: no case {n}",
                shader.name
            );
            assert!(
                src.contains(&format!("const {n}: u32")),
                "{}: no const {n}",
                shader.name
            );
        }
    };
    check(
        &super::unary::SHADER,
        UnaryFn::ALL.iter().map(|f| f.wgsl_name()).collect(),
        &[],
    );
    check(
        &super::binary::SHADER,
        BinaryFn::ALL.iter().map(|f| f.wgsl_name()).collect(),
        &[],
    );
    // ACT_NONE is the shader's default branch
    check(
        &super::gemm::SHADER,
        Act::ALL.iter().map(|f| f.wgsl_name()).collect(),
        &["ACT_NONE"],
    );
}
