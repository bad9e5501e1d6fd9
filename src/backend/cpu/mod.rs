//! The CPU backend: one kernel module per op family, dispatched from [`run`].
//!
//! Kernels take positional inputs (`None` for an omitted optional input) in compute dtypes
//! (`f32`, `i64`, `i32`, `i8`, `u8`, `bool`: see [`crate::tensor`]) and return new tensors. They
//! check what they need of their inputs and return typed errors, never panic, and allocate outputs
//! only through size-checked constructors ([`crate::tensor::numel_checked`]).
//!
//! The kernels a family's dispatcher calls are `#[inline(never)]`: a browser optimises a hot
//! wasm function as a whole, in the background, while the runs meanwhile use its baseline code
//! (about half as fast). With every kernel inlined into its dispatcher (LTO inlines any function
//! with a single caller), one Relu made V8 optimise 18 KB of `math::run` and a Gemm 27 KB of
//! `linalg::run_packed` (60-550 ms each in Node on a loaded 2-core machine); a small model's
//! first hundreds of runs were at baseline speed.

pub mod conv;
pub mod dots;
pub mod fastmath;
pub mod image;
pub mod index;
pub mod linalg;
#[cfg(feature = "extra-ops")]
pub mod loss;
pub mod math;
#[cfg(feature = "ml")]
pub mod ml;
pub mod quant;
pub mod reduce;
pub mod rnn;
pub mod screen;
pub mod seq;
pub mod shape;
#[cfg(feature = "extra-ops")]
pub mod signal;
pub mod transformer;
pub mod util;

use crate::error::Result;
use crate::ir::Op;
use crate::tensor::Tensor;

/// A node's constant weights packed for its kernel once, when the session is built
/// ([`prepack`]), and kept in the plan: no per-run packing.
#[derive(Debug)]
pub enum Prepacked {
    /// MatMul's or Gemm's B.
    Matrix(linalg::Pack),
    /// An RNN's W and R, per direction.
    Rnn(rnn::Packed),
    /// A Conv's weight, per group (the GEMM's A).
    Conv(conv::Packed),
    /// The int8 screening copy of a fused MatMul → TopK's items (B's columns).
    Screen(screen::Screen),
}

/// Packs what node `op` takes as constants (`consts[i]`: input `i` when it is a constant).
pub fn prepack(op: &Op, consts: &[Option<&Tensor>]) -> Option<Prepacked> {
    match op {
        Op::Linalg(o) => linalg::prepack(o, consts).map(Prepacked::Matrix),
        Op::Rnn(o) => rnn::prepack(o, consts).map(Prepacked::Rnn),
        Op::Conv(o) => conv::prepack(o, consts).map(Prepacked::Conv),
        Op::Reduce(o) => reduce::prepack(o, consts).map(Prepacked::Screen),
        _ => None,
    }
}

/// Whether `op` reads a map (`ai.onnx.ml` `DictVectorizer`, `CastMap`): the executor hands it
/// its input as a value ([`run_map`]).
pub fn reads_map(op: &Op) -> bool {
    #[cfg(feature = "ml")]
    if let Op::Ml(o) = op {
        return o.takes_map();
    }
    let _ = op;
    false
}

/// Runs an op that [`reads_map`] on its input value.
pub fn run_map(op: &Op, x: Option<&crate::value::Value>) -> Result<Vec<Tensor>> {
    match op {
        #[cfg(feature = "ml")]
        Op::Ml(o) => ml::maps::run(o, x),
        _ => {
            let _ = x;
            Err(crate::error::Error::unsupported(format!(
                "{} does not read a map",
                op.name()
            )))
        }
    }
}

/// Whether `op` has a form that writes its output into its input `k` when that input dies
/// there ([`run_in_place`]); the plan names donors only for these. The binary arithmetic ops
/// take either input; the others only their first (the data, not a shape, bound or axis).
pub fn takes_over(op: &Op, k: usize) -> bool {
    use crate::ir::ops::math::MathOp as M;
    use crate::ir::ops::shape::ShapeOp as S;
    match op {
        Op::Math(M::Binary(b)) if math::is_float_op(*b) => k < 2,
        Op::Math(M::Unary(_) | M::Clip { .. } | M::Cast { .. } | M::CastLike | M::Variadic(_))
        | Op::Shape(
            S::Identity
            | S::Flatten { .. }
            | S::Reshape { .. }
            | S::Squeeze { .. }
            | S::Unsqueeze { .. },
        ) => k == 0,
        _ => false,
    }
}

/// Runs `op` with input `k` handed over (`x`, which dies at this node; `inputs[k]` is `None`),
/// writing the output into `x`'s buffer: elementwise ops in place, Reshape, Flatten, Squeeze and
/// Unsqueeze moving it. The result equals [`run`]'s bit for bit. Gives `x` back when the kernel
/// has no such form for these inputs (another op or dtype, an output shape other than `x`'s);
/// the executor then runs [`run_packed`].
pub fn run_in_place(
    op: &Op,
    inputs: &[Option<&Tensor>],
    k: usize,
    x: Tensor,
) -> std::result::Result<Result<Vec<Tensor>>, Tensor> {
    let y = match op {
        Op::Math(o) => math::run_in_place(o, inputs, k, x),
        Op::Shape(o) => shape::run_in_place(o, inputs, k, x),
        _ => Err(x),
    }?;
    Ok(y.map(|t| vec![t]))
}

/// Runs one op on the CPU. `If` is control flow and is run by the executor, not here.
pub fn run(op: &Op, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    run_packed(op, inputs, None)
}

/// [`run`] with the node's weights packed ahead ([`prepack`]).
pub fn run_packed(
    op: &Op,
    inputs: &[Option<&Tensor>],
    packed: Option<&Prepacked>,
) -> Result<Vec<Tensor>> {
    match op {
        Op::Math(o) => math::run(o, inputs),
        Op::Linalg(o) => linalg::run_packed(
            o,
            inputs,
            match packed {
                Some(Prepacked::Matrix(p)) => Some(p),
                _ => None,
            },
        ),
        Op::Conv(o) => conv::run_packed(
            o,
            inputs,
            match packed {
                Some(Prepacked::Conv(p)) => Some(p),
                _ => None,
            },
        ),
        Op::Shape(o) => shape::run(o, inputs),
        Op::Reduce(o) => reduce::run_packed(
            o,
            inputs,
            match packed {
                Some(Prepacked::Screen(s)) => Some(s),
                _ => None,
            },
        ),
        Op::Quant(o) => quant::run(o, inputs),
        Op::Rnn(o) => rnn::run_packed(
            o,
            inputs,
            match packed {
                Some(Prepacked::Rnn(p)) => Some(p),
                _ => None,
            },
        ),
        Op::Index(o) => index::run(o, inputs),
        Op::Image(o) => image::run(o, inputs),
        #[cfg(feature = "extra-ops")]
        Op::Loss(o) => loss::run(o, inputs),
        #[cfg(not(feature = "extra-ops"))]
        Op::Loss(o) => Err(crate::onnx::not_in_this_build(o.name())),
        #[cfg(feature = "extra-ops")]
        Op::Signal(o) => signal::run(o, inputs),
        #[cfg(not(feature = "extra-ops"))]
        Op::Signal(o) => Err(crate::onnx::not_in_this_build(o.name())),
        Op::Transformer(o) => transformer::run(o, inputs),
        #[cfg(feature = "ml")]
        Op::Ml(o) => ml::run(o, inputs),
        // the parser builds no ai.onnx.ml op without the feature
        #[cfg(not(feature = "ml"))]
        Op::Ml(_) => Err(crate::error::Error::unsupported(
            "this build has no ai.onnx.ml operators (feature `ml`)",
        )),
        Op::If(_) | Op::Loop(_) | Op::Scan(_) => Err(crate::error::Error::unsupported(format!(
            "{} is run by the executor",
            op.name()
        ))),
        Op::Seq(o) => Err(crate::error::Error::unsupported(format!(
            "{} works on sequences or optionals and is run by the executor",
            o.name()
        ))),
    }
}
