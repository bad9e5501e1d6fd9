//! Parity of every shader with its CPU twin on random inputs. Each test states its tolerance as
//! `|gpu − cpu| ≤ atol + rtol·|cpu|`. Without a GPU adapter (no Vulkan driver) the tests fail
//! with the device's start error: install `mesa-vulkan-drivers` for lavapipe.

use super::kernels::{self, Act, BinaryCode, GemmGeom};
use super::{GpuDevice, GpuTensor};
use crate::backend::cpu;
use crate::ir::ops::linalg::LinalgOp;
use crate::ir::ops::math::{Binary, MathOp, Unary};
use crate::tensor::Tensor;
use std::sync::Arc;

fn dev() -> Arc<GpuDevice> {
    GpuDevice::shared().expect("a GPU adapter (apt-get install mesa-vulkan-drivers for lavapipe)")
}

fn rand(shape: &[usize], seed: u64, lo: f32, hi: f32) -> Tensor {
    let n: usize = shape.iter().product();
    let mut s = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
    let v = (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            lo + (hi - lo) * ((s >> 40) as f32 / (1u64 << 24) as f32)
        })
        .collect();
    Tensor::from_f32(shape.to_vec(), v).unwrap()
}

fn up(d: &GpuDevice, t: &Tensor) -> GpuTensor {
    d.upload_tensor(t).unwrap()
}

fn assert_close(what: &str, got: &Tensor, want: &Tensor, atol: f32, rtol: f32) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    let (g, w) = (got.as_f32().unwrap(), want.as_f32().unwrap());
    for (i, (&a, &b)) in g.iter().zip(w).enumerate() {
        let ok = if b.is_nan() {
            a.is_nan()
        } else {
            (a - b).abs() <= atol + rtol * b.abs()
        };
        assert!(
            ok,
            "{what}: index {i}: gpu {a}, cpu {b} (atol {atol}, rtol {rtol})"
        );
    }
}

fn cpu1(op: crate::ir::Op, ins: &[&Tensor]) -> Tensor {
    let args: Vec<Option<&Tensor>> = ins.iter().map(|t| Some(*t)).collect();
    cpu::run(&op, &args).unwrap().remove(0)
}

/// Gemm sums in a different order than the CPU's blocked GEMM: 1e-4 relative plus 1e-4·√k absolute.
#[test]
fn gemm_matches_cpu_with_transposes_bias_and_activations() {
    let d = dev();
    for (case, &(m, k, n, ta, tb, c_shape, act)) in [
        (1, 17, 8, false, false, &[8usize][..], Act::Relu),
        (5, 33, 19, true, false, &[5, 1][..], Act::Sigmoid),
        (64, 64, 64, false, true, &[64, 64][..], Act::Tanh),
        (3, 100, 40, true, true, &[][..], Act::None),
    ]
    .iter()
    .enumerate()
    {
        let ash = if ta { [k, m] } else { [m, k] };
        let bsh = if tb { [n, k] } else { [k, n] };
        let a = rand(&ash, 1 + case as u64, -1.0, 1.0);
        let b = rand(&bsh, 11 + case as u64, -1.0, 1.0);
        let c = rand(c_shape, 21 + case as u64, -1.0, 1.0);
        let (alpha, beta) = (0.5, 2.0);
        let op = crate::ir::Op::Linalg(LinalgOp::Gemm {
            alpha,
            beta,
            trans_a: ta,
            trans_b: tb,
        });
        let mut want = cpu1(op, &[&a, &b, &c]);
        let u = match act {
            Act::Relu => Some(Unary::Relu),
            Act::Sigmoid => Some(Unary::Sigmoid),
            Act::Tanh => Some(Unary::Tanh),
            Act::None => None,
        };
        if let Some(u) = u {
            want = cpu1(crate::ir::Op::Math(MathOp::Unary(u)), &[&want]);
        }
        let g = GemmGeom::gemm(a.shape(), b.shape(), ta, tb).unwrap();
        let (rs, cs) = kernels::bias_strides(c.shape(), m, n).unwrap();
        let (ga, gb, gc) = (up(&d, &a), up(&d, &b), up(&d, &c));
        let mut enc = d.encoder();
        let bias = kernels::Bias {
            t: &gc,
            rs,
            cs,
            beta,
        };
        let out = kernels::gemm(
            &d,
            &mut enc,
            &ga,
            &gb,
            g,
            Some(bias),
            alpha,
            act,
            vec![m, n],
        )
        .unwrap();
        let got = d.download(enc, &out).unwrap();
        assert_close(
            &format!("gemm case {case}"),
            &got,
            &want,
            1e-4 * (k as f32).sqrt(),
            1e-4,
        );
    }
}

#[test]
fn matmul_matches_cpu_on_batched_and_vector_shapes() {
    let d = dev();
    for (case, (ash, bsh)) in [
        (vec![7usize], vec![7usize, 5]),
        (vec![4, 6], vec![6]),
        (vec![3, 4, 9], vec![9, 2]),
        (vec![2, 3, 4, 5], vec![2, 3, 5, 6]),
        (vec![4, 5], vec![3, 5, 6]),
        (vec![1, 20, 33], vec![1, 33, 17]),
    ]
    .into_iter()
    .enumerate()
    {
        let a = rand(&ash, 100 + case as u64, -2.0, 2.0);
        let b = rand(&bsh, 200 + case as u64, -2.0, 2.0);
        let want = cpu1(crate::ir::Op::Linalg(LinalgOp::MatMul), &[&a, &b]);
        let (g, shape) = GemmGeom::matmul(&ash, &bsh).unwrap();
        let (ga, gb) = (up(&d, &a), up(&d, &b));
        let mut enc = d.encoder();
        let out = kernels::gemm(&d, &mut enc, &ga, &gb, g, None, 1.0, Act::None, shape).unwrap();
        let got = d.download(enc, &out).unwrap();
        assert_close(
            &format!("matmul {ash:?}·{bsh:?}"),
            &got,
            &want,
            1e-4 * (g.k as f32).sqrt(),
            1e-4,
        );
    }
    // a broadcast the kernel does not cover is refused (the CPU runs it), not computed wrongly
    assert!(GemmGeom::matmul(&[2, 1, 3, 4], &[1, 5, 4, 2]).is_none());
}

/// Transcendentals differ by a few ulps between the driver and Rust's libm; erf is a polynomial
/// (|error| < 1.5e-7): 2e-6 absolute + 1e-5 relative.
#[test]
fn unary_ops_match_cpu() {
    let d = dev();
    let x = rand(&[3, 701], 7, -6.0, 6.0);
    let pos = rand(&[3, 701], 8, 0.01, 20.0);
    let gx = up(&d, &x);
    let gp = up(&d, &pos);
    use Unary as U;
    let ops = [
        U::Abs,
        U::Neg,
        U::Relu,
        U::Exp,
        U::Floor,
        U::Ceil,
        U::Sigmoid,
        U::Tanh,
        U::Sin,
        U::Cos,
        U::Softplus,
        U::Softsign,
        U::LeakyRelu { alpha: 0.1 },
        U::Elu { alpha: 1.5 },
        U::Selu {
            alpha: 1.67,
            gamma: 1.05,
        },
        U::HardSigmoid {
            alpha: 0.2,
            beta: 0.5,
        },
        U::HardSwish,
        U::Gelu { tanh: false },
        U::Gelu { tanh: true },
        U::Erf,
        U::Mish,
        U::Round,
        U::Sign,
        U::ThresholdedRelu { alpha: 1.0 },
        U::Celu { alpha: 2.0 },
        U::Sqrt,
        U::Reciprocal,
        U::Log,
    ];
    let mut enc = d.encoder();
    let mut outs = Vec::new();
    for u in ops {
        let positive_only = matches!(u, U::Sqrt | U::Log | U::Reciprocal);
        let (code, a, b) = kernels::unary_code(&u).expect("a GPU code");
        let src = if positive_only { &gp } else { &gx };
        outs.push((
            u,
            positive_only,
            kernels::unary(&d, &mut enc, src, code, a, b).unwrap(),
        ));
    }
    d.flush(enc);
    for (u, positive_only, out) in outs {
        let src = if positive_only { &pos } else { &x };
        let want = cpu1(crate::ir::Op::Math(MathOp::Unary(u)), &[src]);
        let got = d.download(d.encoder(), &out).unwrap();
        assert_close(&format!("{u:?}"), &got, &want, 2e-6, 1e-5);
    }
}

/// Add/Sub/Mul/Max/Min/PRelu are exact in f32; Div and Pow within 1 ulp-ish: 1e-6 + 1e-6·|cpu|.
#[test]
fn binary_ops_broadcast_like_cpu() {
    let d = dev();
    let shapes = [
        (vec![4usize, 5], vec![4usize, 5]),
        (vec![2, 3, 4], vec![4]),
        (vec![2, 1, 4], vec![3, 1]),
        (vec![], vec![3, 2]),
        (vec![1, 2, 1, 3, 1, 2, 1, 2], vec![2, 1, 2, 1, 2, 1, 2, 1]),
    ];
    for (i, (sa, sb)) in shapes.iter().enumerate() {
        let a = rand(sa, 300 + i as u64, -3.0, 3.0);
        let b = rand(sb, 400 + i as u64, 0.5, 3.0);
        let (ga, gb) = (up(&d, &a), up(&d, &b));
        for (op, code) in [
            (Binary::Add, BinaryCode::Add),
            (Binary::Sub, BinaryCode::Sub),
            (Binary::Mul, BinaryCode::Mul),
            (Binary::Div, BinaryCode::Div),
            (Binary::Pow, BinaryCode::Pow),
            (Binary::PRelu, BinaryCode::PRelu),
        ] {
            if op == Binary::PRelu && b.rank() > a.rank() {
                continue; // PRelu broadcasts the slope to x only
            }
            let want = cpu1(crate::ir::Op::Math(MathOp::Binary(op)), &[&a, &b]);
            let mut enc = d.encoder();
            let out = kernels::binary(&d, &mut enc, &ga, &gb, code).unwrap();
            let got = d.download(enc, &out).unwrap();
            assert_close(&format!("{op:?} {sa:?} {sb:?}"), &got, &want, 1e-6, 1e-5);
        }
    }
}

/// Softmax: 1e-6 absolute + 1e-5 relative (exp and the sum order differ).
#[test]
fn softmax_and_log_softmax_match_cpu() {
    let d = dev();
    for (i, shape) in [vec![1usize, 10], vec![3, 4, 257], vec![70000, 3]]
        .into_iter()
        .enumerate()
    {
        let x = rand(&shape, 500 + i as u64, -10.0, 10.0);
        let gx = up(&d, &x);
        for log in [false, true] {
            let op = crate::ir::Op::Linalg(LinalgOp::Softmax {
                axis: -1,
                log,
                legacy: false,
            });
            let want = cpu1(op, &[&x]);
            let mut enc = d.encoder();
            let out = kernels::softmax(&d, &mut enc, &gx, *shape.last().unwrap(), log).unwrap();
            let got = d.download(enc, &out).unwrap();
            assert_close(
                &format!("softmax log={log} {shape:?}"),
                &got,
                &want,
                1e-6,
                1e-5,
            );
        }
    }
}

/// LayerNorm: 1e-5 absolute + 1e-4 relative (normalised values are O(1); sums differ in order).
#[test]
fn layer_norm_matches_cpu_with_stats() {
    let d = dev();
    for (i, (shape, axis)) in [
        (vec![2usize, 3, 64], -1i64),
        (vec![5, 300], 1),
        (vec![2, 4, 6], 1),
    ]
    .into_iter()
    .enumerate()
    {
        let a = if axis < 0 {
            shape.len() as i64 + axis
        } else {
            axis
        } as usize;
        let inner = shape[a..].to_vec();
        let len: usize = inner.iter().product();
        let x = rand(&shape, 600 + i as u64, -4.0, 4.0);
        let s = rand(&inner, 700 + i as u64, 0.5, 1.5);
        let b = rand(&inner, 800 + i as u64, -1.0, 1.0);
        let op = crate::ir::Op::Linalg(LinalgOp::LayerNorm {
            axis,
            epsilon: 1e-5,
        });
        let want = cpu::run(&op, &[Some(&x), Some(&s), Some(&b)]).unwrap();
        let (gx, gs, gb) = (up(&d, &x), up(&d, &s), up(&d, &b));
        let mut enc = d.encoder();
        let (out, stats) =
            kernels::layer_norm(&d, &mut enc, &gx, len, &gs, Some(&gb), 1e-5).unwrap();
        let got = d.download(enc, &out).unwrap();
        assert_close(&format!("layer_norm {shape:?}"), &got, &want[0], 1e-5, 1e-4);
        let st = d.download(d.encoder(), &stats).unwrap();
        let rows = x.numel() / len;
        let mean = Tensor::from_f32(
            want[1].shape().to_vec(),
            st.as_f32().unwrap()[..rows].to_vec(),
        )
        .unwrap();
        let inv = Tensor::from_f32(
            want[2].shape().to_vec(),
            st.as_f32().unwrap()[rows..].to_vec(),
        )
        .unwrap();
        assert_close("mean", &mean, &want[1], 1e-5, 1e-4);
        assert_close("inv_std", &inv, &want[2], 1e-5, 1e-4);
    }
}

/// Transpose moves values without arithmetic: exact.
#[test]
fn transpose_matches_cpu_on_every_rank() {
    use crate::ir::ops::shape::ShapeOp;
    let d = dev();
    for (i, (shape, perm)) in [
        (vec![5usize, 7], vec![1usize, 0]),
        (vec![2, 3, 4, 5], vec![0, 2, 1, 3]),
        (vec![2, 3, 4, 5], vec![3, 1, 0, 2]),
        (vec![1, 2, 1, 3, 2, 1, 2, 2], vec![7, 6, 5, 4, 3, 2, 1, 0]),
        (vec![6], vec![0]),
    ]
    .into_iter()
    .enumerate()
    {
        let x = rand(&shape, 900 + i as u64, -5.0, 5.0);
        let want = cpu1(
            crate::ir::Op::Shape(ShapeOp::Transpose {
                perm: Some(perm.clone()),
            }),
            &[&x],
        );
        let gx = up(&d, &x);
        let mut enc = d.encoder();
        let out = kernels::transpose(&d, &mut enc, &gx, &perm).unwrap();
        let got = d.download(enc, &out).unwrap();
        assert_close(
            &format!("transpose {shape:?} {perm:?}"),
            &got,
            &want,
            0.0,
            0.0,
        );
    }
}

#[test]
fn pipelines_compile_once_and_buffers_are_reused() {
    // its own device: the other tests share one and allocate concurrently
    let d = GpuDevice::start().expect("a GPU adapter");
    d.compile_all().unwrap();
    let compiled = d.compile_times().len();
    let x = rand(&[1000], 9, -1.0, 1.0);
    let mut created = None;
    for round in 0..20 {
        let gx = up(&d, &x);
        let mut enc = d.encoder();
        let y = kernels::unary(&d, &mut enc, &gx, 2, 0.0, 0.0).unwrap();
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
