//! Elementwise one-input functions and Clip (`shaders/unary.wgsl`).

use super::{Claim, GpuOp, OpEntry};
use crate::backend::webgpu::dispatch::{grid, GpuTensor, Shader};
use crate::backend::webgpu::graph::GpuGraph;
use crate::backend::webgpu::{GpuDevice, Recorder};
use crate::error::Result;
use crate::ir::ops::math::{MathOp, Unary};
use crate::ir::Op;
use crate::plan::exec::{Ctx, Launch};

crate::wgsl_enum! {
    /// The functions `unary.wgsl` computes (its `U_*` constants).
    pub enum UnaryFn {
        Abs => U_ABS,
        Neg => U_NEG,
        Relu => U_RELU,
        Sqrt => U_SQRT,
        Reciprocal => U_RECIPROCAL,
        Exp => U_EXP,
        Log => U_LOG,
        Floor => U_FLOOR,
        Ceil => U_CEIL,
        Sigmoid => U_SIGMOID,
        Tanh => U_TANH,
        Sin => U_SIN,
        Cos => U_COS,
        Softplus => U_SOFTPLUS,
        Softsign => U_SOFTSIGN,
        LeakyRelu => U_LEAKY_RELU,
        Elu => U_ELU,
        Selu => U_SELU,
        HardSigmoid => U_HARD_SIGMOID,
        HardSwish => U_HARD_SWISH,
        Gelu => U_GELU,
        GeluTanh => U_GELU_TANH,
        Erf => U_ERF,
        /// `clamp(x, alpha, beta)`
        Clip => U_CLIP,
        Mish => U_MISH,
        Round => U_ROUND,
        Sign => U_SIGN,
        ThresholdedRelu => U_THRESHOLDED_RELU,
        Celu => U_CELU,
    }
}

pub(crate) static SHADER: Shader = Shader {
    name: "unary",
    src: include_str!("../../../../shaders/unary.wgsl"),
    consts: UnaryFn::wgsl_consts,
};

pub(crate) const ENTRY: OpEntry = OpEntry {
    shader: Some(&SHADER),
    claim,
};

/// A unary function with its two parameters (`alpha`, `beta`; unused ones are 0).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UnaryCall {
    pub f: UnaryFn,
    pub alpha: f32,
    pub beta: f32,
}

impl UnaryCall {
    /// The call that computes ONNX unary `u`, or `None` when the shader lacks it.
    pub fn of(u: &Unary) -> Option<UnaryCall> {
        use Unary as U;
        use UnaryFn as F;
        let (f, alpha, beta) = match *u {
            U::Abs => (F::Abs, 0.0, 0.0),
            U::Neg => (F::Neg, 0.0, 0.0),
            U::Relu => (F::Relu, 0.0, 0.0),
            U::Sqrt => (F::Sqrt, 0.0, 0.0),
            U::Reciprocal => (F::Reciprocal, 0.0, 0.0),
            U::Exp => (F::Exp, 0.0, 0.0),
            U::Log => (F::Log, 0.0, 0.0),
            U::Floor => (F::Floor, 0.0, 0.0),
            U::Ceil => (F::Ceil, 0.0, 0.0),
            U::Sigmoid => (F::Sigmoid, 0.0, 0.0),
            U::Tanh => (F::Tanh, 0.0, 0.0),
            U::Sin => (F::Sin, 0.0, 0.0),
            U::Cos => (F::Cos, 0.0, 0.0),
            U::Softplus => (F::Softplus, 0.0, 0.0),
            U::Softsign => (F::Softsign, 0.0, 0.0),
            U::LeakyRelu { alpha } => (F::LeakyRelu, alpha, 0.0),
            U::Elu { alpha } => (F::Elu, alpha, 0.0),
            U::Selu { alpha, gamma } => (F::Selu, alpha, gamma),
            U::HardSigmoid { alpha, beta } => (F::HardSigmoid, alpha, beta),
            U::HardSwish => (F::HardSwish, 0.0, 0.0),
            U::Gelu { tanh: false } => (F::Gelu, 0.0, 0.0),
            U::Gelu { tanh: true } => (F::GeluTanh, 0.0, 0.0),
            U::Erf => (F::Erf, 0.0, 0.0),
            U::Mish => (F::Mish, 0.0, 0.0),
            U::Round => (F::Round, 0.0, 0.0),
            U::Sign => (F::Sign, 0.0, 0.0),
            U::ThresholdedRelu { alpha } => (F::ThresholdedRelu, alpha, 0.0),
            U::Celu { alpha } => (F::Celu, alpha, 0.0),
            _ => return None,
        };
        Some(UnaryCall { f, alpha, beta })
    }

    /// Clip to `[lo, hi]`.
    pub fn clip(lo: f32, hi: f32) -> UnaryCall {
        UnaryCall {
            f: UnaryFn::Clip,
            alpha: lo,
            beta: hi,
        }
    }
}

fn claim(c: &Claim) -> Option<Box<dyn GpuOp>> {
    let call = match &c.node().op {
        Op::Math(MathOp::Unary(u)) => UnaryCall::of(u)?,
        Op::Math(MathOp::Clip { min, max }) => {
            // bounds from attributes, or from scalar constant inputs (absent: unbounded)
            let lo = match min {
                Some(v) => Some(*v),
                None => c.const_scalar(1)?,
            };
            let hi = match max {
                Some(v) => Some(*v),
                None => c.const_scalar(2)?,
            };
            UnaryCall::clip(lo.unwrap_or(f32::MIN), hi.unwrap_or(f32::MAX))
        }
        _ => return None,
    };
    Some(Box::new(call))
}

impl GpuOp for UnaryCall {
    fn launch(&self, ctx: &mut Ctx<'_, '_, GpuGraph>, i: usize) -> Result<Launch<GpuTensor>> {
        let node = &ctx.graph.nodes[i];
        let out = node.outputs[0];
        let x = match ctx.first_f32(i) {
            Ok(x) => x,
            Err(no) => return Ok(no),
        };
        let n: usize = ctx.shape(x).map_or(0, |s| s.iter().product());
        if let Some(no) = ctx.unfit(n, n.div_ceil(256)) {
            return Ok(no);
        }
        let xt = ctx.device(x)?;
        let dev = ctx.gpu().clone();
        let y = record(&dev, ctx.rec(), &xt, *self)?;
        Ok(Launch::ran(out, y))
    }
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Params {
    n: u32,
    op: u32,
    alpha: f32,
    beta: f32,
}

/// Records `out[i] = f(x[i])`.
pub fn record(
    dev: &GpuDevice,
    rec: &mut Recorder,
    x: &GpuTensor,
    call: UnaryCall,
) -> Result<GpuTensor> {
    let out = dev.alloc(&x.shape)?;
    let n = x.numel();
    if n == 0 {
        return Ok(out);
    }
    let (gx, gy) = grid(n.div_ceil(256))?;
    let u = dev.uniform(&Params {
        n: n as u32,
        op: call.f as u32,
        alpha: call.alpha,
        beta: call.beta,
    });
    dev.dispatch(rec, &SHADER, &[&x.buf, &out.buf, &u], (gx, gy, 1))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::webgpu::ops::tests::{assert_close, cpu1, dev, rand, up};
    use crate::ir::ops::math::MathOp;
    use crate::tensor::Tensor;

    /// Relu on the GPU keeps NaN as the CPU kernel does (WGSL's `max` may drop it), exactly.
    #[test]
    fn relu_keeps_nan_like_cpu() {
        let d = dev();
        let x = Tensor::from_f32(vec![5], vec![f32::NAN, -1.0, 0.0, 2.5, -0.0]).unwrap();
        let call = UnaryCall::of(&Unary::Relu).unwrap();
        let mut enc = d.encoder();
        let out = record(&d, &mut enc, &up(&d, &x), call).unwrap();
        let got = d.download(enc, &out).unwrap();
        let want = cpu1(crate::ir::Op::Math(MathOp::Unary(Unary::Relu)), &[&x]);
        assert!(got.as_f32().unwrap()[0].is_nan(), "{got:?}");
        assert_close("relu NaN", &got, &want, 0.0, 0.0);
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
            let call = UnaryCall::of(&u).expect("a GPU code");
            let src = if positive_only { &gp } else { &gx };
            outs.push((u, positive_only, record(&d, &mut enc, src, call).unwrap()));
        }
        d.flush(enc);
        for (u, positive_only, out) in outs {
            let src = if positive_only { &pos } else { &x };
            let want = cpu1(crate::ir::Op::Math(MathOp::Unary(u)), &[src]);
            let got = d.download(d.encoder(), &out).unwrap();
            assert_close(&format!("{u:?}"), &got, &want, 2e-6, 1e-5);
        }
    }
}
