//! Operator tests written once and run on every backend (as candle's `test_device!` does): each
//! test builds a one-node model, runs it through a [`Session`] on the backend it is given, and
//! compares with a scalar f64 reference written here (independent of both backends' kernels),
//! within the tolerance it states. On the GPU backend a test also checks that the node ran on
//! the GPU (the placement report), so a claim that silently moved to the CPU fails.
//!
//! `on_every_backend!` makes one `#[test]` per backend: `cpu::name` always, `webgpu::name` with
//! feature `webgpu` (on lavapipe where there is no GPU; `scripts/setup.sh` installs it).

mod common;

use common::{floats, int_attr, ints, model, node, value_info};
use hearth::onnx::proto::{self, AttributeProto};
use hearth::testing::Rng;
use hearth::{BackendChoice, BackendKind, Session, SessionOptions, Tensor};

const F32: i32 = 1;

macro_rules! on_every_backend {
    ($( $(#[$meta:meta])* fn $name:ident($b:ident) $body:block )*) => {
        mod cpu {
            use super::*;
            $( $(#[$meta])* #[test] fn $name() { let $b = BackendKind::Cpu; $body } )*
        }
        #[cfg(feature = "webgpu")]
        mod webgpu {
            use super::*;
            $( $(#[$meta])* #[test] fn $name() { let $b = BackendKind::WebGpu; $body } )*
        }
    };
}

fn float_attr(name: &str, v: f32) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(proto::attribute_proto::AttributeType::Float as i32),
        f: Some(v),
        ..Default::default()
    }
}

fn ints_attr(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(proto::attribute_proto::AttributeType::Ints as i32),
        ints: v.to_vec(),
        ..Default::default()
    }
}

fn dims(shape: &[usize]) -> Vec<Result<i64, &'static str>> {
    shape.iter().map(|&d| Ok(d as i64)).collect()
}

/// One op under test: its node (inputs `x0`, `x1`, … then initializers), its graph inputs.
struct Case {
    op: &'static str,
    attrs: Vec<AttributeProto>,
    inputs: Vec<Tensor>,
    inits: Vec<proto::TensorProto>,
    /// names of initializer inputs, after the graph inputs
    init_names: Vec<&'static str>,
    /// a unary op applied to the first input before the op under test (a view such as Reshape
    /// runs on the GPU only over a value already there)
    pre: Option<&'static str>,
}

impl Case {
    fn new(op: &'static str, inputs: Vec<Tensor>) -> Case {
        Case {
            op,
            attrs: Vec::new(),
            inputs,
            inits: Vec::new(),
            init_names: Vec::new(),
            pre: None,
        }
    }

    fn after(mut self, op: &'static str) -> Case {
        self.pre = Some(op);
        self
    }

    fn attr(mut self, a: AttributeProto) -> Case {
        self.attrs.push(a);
        self
    }

    fn init(mut self, name: &'static str, t: proto::TensorProto) -> Case {
        self.inits.push(t);
        self.init_names.push(name);
        self
    }

    /// Runs the case on `backend`; returns its one output.
    fn run(self, backend: BackendKind) -> Tensor {
        let names: Vec<String> = (0..self.inputs.len()).map(|i| format!("x{i}")).collect();
        let mut node_in: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut nodes = Vec::new();
        if let Some(pre) = self.pre {
            nodes.push(node(pre, &["x0"], &["p0"]));
            node_in[0] = "p0";
        }
        node_in.extend(&self.init_names);
        let mut n = node(self.op, &node_in, &["y"]);
        n.attribute = self.attrs;
        nodes.push(n);
        let ins = names
            .iter()
            .zip(&self.inputs)
            .map(|(name, t)| value_info(name, F32, &dims(t.shape())))
            .collect();
        // the output's shape is left to inference
        let mut out = value_info("y", F32, &[]);
        if let Some(proto::type_proto::Value::TensorType(t)) =
            out.r#type.as_mut().and_then(|t| t.value.as_mut())
        {
            t.shape = None;
        }
        let bytes = model(nodes, self.inits, ins, vec![out]);
        let choice = match backend {
            BackendKind::Cpu => BackendChoice::Cpu,
            BackendKind::WebGpu => BackendChoice::WebGpu,
        };
        let s = Session::with_options(&bytes, &[], &SessionOptions { backend: choice })
            .unwrap_or_else(|e| panic!("{}: load on {backend:?}: {e}", self.op));
        assert_eq!(s.backend(), backend, "{}: session backend", self.op);
        let feeds: Vec<(&str, &Tensor)> = names
            .iter()
            .map(String::as_str)
            .zip(self.inputs.iter())
            .collect();
        let y = s
            .run(&feeds)
            .unwrap_or_else(|e| panic!("{}: run on {backend:?}: {e}", self.op))
            .remove(0);
        if backend == BackendKind::WebGpu {
            let p = s.placement().expect("a GPU session reports its placement");
            assert!(
                p.gpu.get(self.op).copied().unwrap_or(0) >= 1,
                "{} did not run on the GPU: {p:?}",
                self.op
            );
        }
        y
    }
}

/// `|got − want| ≤ atol + rtol·|want|` elementwise (NaN equals NaN), shapes equal.
fn check(what: &str, got: &Tensor, shape: &[usize], want: &[f64], atol: f64, rtol: f64) {
    assert_eq!(got.shape(), shape, "{what}: shape");
    hearth::testing::assert_close(what, got.as_f32().unwrap(), want, atol, rtol);
}

fn f64s(t: &Tensor) -> Vec<f64> {
    t.as_f32().unwrap().iter().map(|&v| v as f64).collect()
}

/// Row-major strides of `shape`.
fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// Numpy broadcasting of two shapes, and for each output index the flat index of each input.
fn broadcast(a: &[usize], b: &[usize]) -> (Vec<usize>, Vec<(usize, usize)>) {
    let r = a.len().max(b.len());
    let pad = |s: &[usize]| {
        let mut p = vec![1; r - s.len()];
        p.extend_from_slice(s);
        p
    };
    let (pa, pb) = (pad(a), pad(b));
    let out: Vec<usize> = (0..r).map(|i| pa[i].max(pb[i])).collect();
    let (sa, sb, so) = (strides(&pa), strides(&pb), strides(&out));
    let n: usize = out.iter().product();
    let idx = (0..n)
        .map(|flat| {
            let (mut ia, mut ib) = (0, 0);
            for d in 0..r {
                let c = flat / so[d] % out[d];
                ia += if pa[d] == 1 { 0 } else { c * sa[d] };
                ib += if pb[d] == 1 { 0 } else { c * sb[d] };
            }
            (ia, ib)
        })
        .collect();
    (out, idx)
}

fn gemm_ref(a: &[f64], b: &[f64], m: usize, k: usize, n: usize, trans_b: bool) -> Vec<f64> {
    let mut y = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            y[i * n + j] = (0..k)
                .map(|p| a[i * k + p] * if trans_b { b[j * k + p] } else { b[p * n + j] })
                .sum();
        }
    }
    y
}

on_every_backend! {
    /// Gemm with transB, alpha, beta and a broadcast bias: tolerance 1e-5 + 1e-4·|y| (f32 sums of
    /// 37 products in another order).
    fn gemm_trans_b_alpha_beta_bias(backend) {
        let (m, k, n) = (5, 37, 6);
        let mut r = Rng::new(1);
        let a = r.tensor(&[m, k], -1.0, 1.0);
        let b = r.f32s(n * k, -1.0, 1.0);
        let c = r.f32s(n, -1.0, 1.0);
        let y = Case::new("Gemm", vec![a.clone()])
            .init("b", floats("b", &[n as i64, k as i64], &b))
            .init("c", floats("c", &[n as i64], &c))
            .attr(int_attr("transB", 1))
            .attr(float_attr("alpha", 0.5))
            .attr(float_attr("beta", 2.0))
            .run(backend);
        let b64: Vec<f64> = b.iter().map(|&v| v as f64).collect();
        let want: Vec<f64> = gemm_ref(&f64s(&a), &b64, m, k, n, true)
            .iter()
            .enumerate()
            .map(|(i, v)| 0.5 * v + 2.0 * c[i % n] as f64)
            .collect();
        check("Gemm", &y, &[m, n], &want, 1e-5, 1e-4);
    }

    /// Batched MatMul [2, 4, 9] × [9, 3] (the weight broadcast over the batch).
    fn matmul_batched(backend) {
        let mut r = Rng::new(2);
        let a = r.tensor(&[2, 4, 9], -1.0, 1.0);
        let w = r.f32s(9 * 3, -1.0, 1.0);
        let y = Case::new("MatMul", vec![a.clone()])
            .init("w", floats("w", &[9, 3], &w))
            .run(backend);
        let w64: Vec<f64> = w.iter().map(|&v| v as f64).collect();
        let a64 = f64s(&a);
        let want: Vec<f64> = (0..2)
            .flat_map(|bi| gemm_ref(&a64[bi * 36..(bi + 1) * 36], &w64, 4, 9, 3, false))
            .collect();
        check("MatMul", &y, &[2, 4, 3], &want, 1e-5, 1e-4);
    }

    /// Unary functions against f64 libm, over inputs in each function's domain; NaN stays NaN
    /// through Relu (as onnxruntime keeps it). Tolerance 1e-5 + 1e-5·|y| (fast approximations of
    /// exp and tanh on both backends).
    fn unary_functions(backend) {
        type F = fn(f64) -> f64;
        let cases: [(&'static str, F, f32, f32); 9] = [
            ("Relu", |x| x.max(0.0), -3.0, 3.0),
            ("Sigmoid", |x| 1.0 / (1.0 + (-x).exp()), -8.0, 8.0),
            ("Tanh", f64::tanh, -4.0, 4.0),
            ("Exp", f64::exp, -5.0, 5.0),
            ("Abs", f64::abs, -3.0, 3.0),
            ("Neg", |x| -x, -3.0, 3.0),
            ("Sqrt", f64::sqrt, 0.0, 9.0),
            ("Softplus", |x| x.exp().ln_1p(), -6.0, 6.0),
            ("Softsign", |x| x / (1.0 + x.abs()), -6.0, 6.0),
        ];
        for (i, (op, f, lo, hi)) in cases.into_iter().enumerate() {
            let mut x = Rng::new(10 + i as u64).tensor(&[3, 67], lo, hi);
            if op == "Relu" {
                if let hearth::TensorData::F32(v) = x.data_mut() {
                    v[5] = f32::NAN;
                }
            }
            let y = Case::new(op, vec![x.clone()]).run(backend);
            let want: Vec<f64> = f64s(&x).into_iter().map(|v| if v.is_nan() { v } else { f(v) }).collect();
            check(op, &y, &[3, 67], &want, 1e-5, 1e-5);
        }
    }

    /// Broadcasting binary ops: [2, 3, 5] with [3, 1]; Pow over a positive base. Exact up to
    /// 1 ulp-ish (1e-6 + 1e-6·|y|), Pow 1e-5 + 1e-5·|y|.
    fn binary_broadcasting(backend) {
        type F = fn(f64, f64) -> f64;
        let cases: [(&'static str, F); 7] = [
            ("Add", |a, b| a + b),
            ("Sub", |a, b| a - b),
            ("Mul", |a, b| a * b),
            ("Div", |a, b| a / b),
            ("Max", f64::max),
            ("Min", f64::min),
            ("Pow", f64::powf),
        ];
        for (i, (op, f)) in cases.into_iter().enumerate() {
            let mut r = Rng::new(20 + i as u64);
            let a = r.tensor(&[2, 3, 5], 0.5, 2.0);
            let b = r.tensor(&[3, 1], 0.5, 2.0);
            let y = Case::new(op, vec![a.clone(), b.clone()]).run(backend);
            let (shape, idx) = broadcast(a.shape(), b.shape());
            let (a64, b64) = (f64s(&a), f64s(&b));
            let want: Vec<f64> = idx.iter().map(|&(ia, ib)| f(a64[ia], b64[ib])).collect();
            let tol = if op == "Pow" { 1e-5 } else { 1e-6 };
            check(op, &y, &shape, &want, tol, tol);
        }
    }

    /// Softmax and LogSoftmax over the last axis of [4, 33]: 1e-6 + 1e-5·|y|.
    fn softmax_last_axis(backend) {
        for (op, log) in [("Softmax", false), ("LogSoftmax", true)] {
            let x = Rng::new(30).tensor(&[4, 33], -5.0, 5.0);
            let y = Case::new(op, vec![x.clone()]).attr(int_attr("axis", -1)).run(backend);
            let x64 = f64s(&x);
            let want: Vec<f64> = x64
                .chunks(33)
                .flat_map(|row| {
                    let m = row.iter().cloned().fold(f64::MIN, f64::max);
                    let s: f64 = row.iter().map(|v| (v - m).exp()).sum();
                    row.iter()
                        .map(|v| if log { v - m - s.ln() } else { (v - m).exp() / s })
                        .collect::<Vec<_>>()
                })
                .collect();
            check(op, &y, &[4, 33], &want, 1e-6, 1e-5);
        }
    }

    /// LayerNormalization over the last axis with scale and bias, epsilon 1e-3: 1e-5 + 1e-4·|y|.
    fn layer_normalization(backend) {
        let mut r = Rng::new(40);
        let x = r.tensor(&[3, 2, 24], -3.0, 3.0);
        let g = r.f32s(24, 0.5, 1.5);
        let b = r.f32s(24, -0.5, 0.5);
        let y = Case::new("LayerNormalization", vec![x.clone()])
            .init("g", floats("g", &[24], &g))
            .init("b", floats("b", &[24], &b))
            .attr(int_attr("axis", -1))
            .attr(float_attr("epsilon", 1e-3))
            .run(backend);
        let want: Vec<f64> = f64s(&x)
            .chunks(24)
            .flat_map(|row| {
                let mean = row.iter().sum::<f64>() / 24.0;
                let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 24.0;
                let inv = 1.0 / (var + 1e-3f32 as f64).sqrt();
                row.iter()
                    .enumerate()
                    .map(|(j, v)| (v - mean) * inv * g[j] as f64 + b[j] as f64)
                    .collect::<Vec<_>>()
            })
            .collect();
        check("LayerNormalization", &y, &[3, 2, 24], &want, 1e-5, 1e-4);
    }

    /// Transpose with perm [2, 0, 1]: exact.
    fn transpose_permutes(backend) {
        let x = Rng::new(50).tensor(&[3, 4, 5], -1.0, 1.0);
        let y = Case::new("Transpose", vec![x.clone()])
            .attr(ints_attr("perm", &[2, 0, 1]))
            .run(backend);
        let x64 = f64s(&x);
        let mut want = Vec::new();
        for k in 0..5 {
            for i in 0..3 {
                for j in 0..4 {
                    want.push(x64[i * 20 + j * 5 + k]);
                }
            }
        }
        check("Transpose", &y, &[5, 3, 4], &want, 0.0, 0.0);
    }

    /// Reshape of Neg(x) to [-1, 6] (a view on the GPU): the same values, exactly.
    fn reshape_keeps_values(backend) {
        let x = Rng::new(60).tensor(&[2, 3, 4], -1.0, 1.0);
        let y = Case::new("Reshape", vec![x.clone()])
            .after("Neg")
            .init("s", ints("s", &[2], &[-1, 6]))
            .run(backend);
        let want: Vec<f64> = f64s(&x).iter().map(|v| -v).collect();
        check("Reshape", &y, &[4, 6], &want, 0.0, 0.0);
    }
}
