//! The op enum: one variant per op family, each family's enum in its own file with typed attributes.
//!
//! Families: `math` (elementwise, comparison, logic, cast), `linalg` (Gemm, MatMul, Einsum, softmax
//! and normalization), `conv` (convolutions and pooling), `shape` (data movement and shape ops),
//! `reduce` (reductions, arg-min/max, TopK, CumSum), `quant` (Quantize/DequantizeLinear), `rnn`
//! (LSTM, GRU, RNN), `index` (scatters, GatherND, Compress, NonZero, Unique, EyeLike,
//! ReverseSequence), `image` (Resize, GridSample, AffineGrid, Col2Im, CenterCropPad, RoiAlign,
//! NonMaxSuppression), `loss` (NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss), `signal` (DFT, STFT,
//! windows), `transformer` (Attention, RotaryEmbedding, RMS/LpNormalization, SwiGLU,
//! TensorScatter), `seq` (sequences and optionals), and control
//! flow (`If`, and `Loop`/`Scan` in `control`).
//!
//! Each family enum offers `name()` (the ONNX op type) and `infer(&[Fact]) -> Vec<Fact>`
//! (best-effort dtype/shape inference; unknown parts stay `None`/[`Dim::Any`](super::Dim::Any)).

pub mod control;
pub mod conv;
pub mod image;
pub mod index;
pub mod linalg;
pub mod loss;
pub mod math;
pub mod ml;
pub mod quant;
pub mod reduce;
pub mod rnn;
pub mod seq;
pub mod shape;
pub mod signal;
pub mod transformer;

use super::fact::Fact;
use super::graph::Graph;

/// An operation of the IR. Inputs are positional as in ONNX; optional inputs are `None`.
#[derive(Debug)]
pub enum Op {
    Math(math::MathOp),
    Linalg(linalg::LinalgOp),
    Conv(conv::ConvOp),
    Shape(shape::ShapeOp),
    Reduce(reduce::ReduceOp),
    Quant(quant::QuantOp),
    Rnn(rnn::RnnOp),
    Index(index::IndexOp),
    Image(image::ImageOp),
    Loss(loss::LossOp),
    Signal(signal::SignalOp),
    Transformer(transformer::TransformerOp),
    /// Sequence and optional ops, over values rather than tensors (run by the executor).
    Seq(seq::SeqOp),
    /// The `ai.onnx.ml` domain (classical ML: trees, linear models, encoders).
    Ml(ml::MlOp),
    /// ONNX `If`: runs one branch. The node's first input is the condition; the rest are the
    /// outer-scope values the branches read (in the order of `captures`).
    If(Box<IfOp>),
    /// ONNX `Loop`: runs its body while the trip count and condition allow.
    Loop(Box<control::LoopOp>),
    /// ONNX `Scan`: runs its body once per slice of its scan inputs.
    Scan(Box<control::ScanOp>),
}

/// The two branches of an `If`, each a graph whose outputs are the node's outputs.
#[derive(Debug)]
pub struct IfOp {
    pub then_branch: Graph,
    pub else_branch: Graph,
    /// Outer-scope value names captured by either branch, in node-input order after the condition.
    pub captures: Vec<String>,
}

impl Op {
    /// The ONNX op type this op came from.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Math(o) => o.name(),
            Op::Linalg(o) => o.name(),
            Op::Conv(o) => o.name(),
            Op::Shape(o) => o.name(),
            Op::Reduce(o) => o.name(),
            Op::Quant(o) => o.name(),
            Op::Rnn(o) => o.name(),
            Op::Index(o) => o.name(),
            Op::Image(o) => o.name(),
            Op::Loss(o) => o.name(),
            Op::Signal(o) => o.name(),
            Op::Transformer(o) => o.name(),
            Op::Seq(o) => o.name(),
            Op::Ml(o) => o.name(),
            Op::If(_) => "If",
            Op::Loop(_) => "Loop",
            Op::Scan(_) => "Scan",
        }
    }

    /// The subgraphs this op runs (`If`: then, else; `Loop`/`Scan`: the body).
    pub fn subgraphs(&self) -> Vec<&Graph> {
        match self {
            Op::If(op) => vec![&op.then_branch, &op.else_branch],
            Op::Loop(op) => vec![&op.body],
            Op::Scan(op) => vec![&op.body],
            _ => vec![],
        }
    }

    /// [`subgraphs`](Self::subgraphs), mutably (load-time rewrites).
    pub fn subgraphs_mut(&mut self) -> Vec<&mut Graph> {
        match self {
            Op::If(op) => vec![&mut op.then_branch, &mut op.else_branch],
            Op::Loop(op) => vec![&mut op.body],
            Op::Scan(op) => vec![&mut op.body],
            _ => vec![],
        }
    }

    /// Best-effort facts of the outputs from the facts of the inputs (`n_out` outputs).
    pub fn infer(&self, inputs: &[Fact], n_out: usize) -> Vec<Fact> {
        let mut out = match self {
            Op::Math(o) => o.infer(inputs),
            Op::Linalg(o) => o.infer(inputs),
            Op::Conv(o) => o.infer(inputs),
            Op::Shape(o) => o.infer(inputs),
            Op::Reduce(o) => o.infer(inputs),
            Op::Quant(o) => o.infer(inputs),
            Op::Rnn(o) => o.infer(inputs),
            Op::Index(o) => o.infer(inputs),
            Op::Image(o) => o.infer(inputs),
            Op::Loss(o) => o.infer(inputs),
            Op::Signal(o) => o.infer(inputs),
            Op::Transformer(o) => o.infer(inputs),
            Op::Seq(o) => o.infer(inputs),
            Op::Ml(o) => o.infer(inputs),
            Op::If(_) | Op::Loop(_) | Op::Scan(_) => vec![],
        };
        out.resize(n_out, Fact::unknown());
        out
    }
}
