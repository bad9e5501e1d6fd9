//! Loss functions: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (ONNX opset 12+), as
//! exported by training frameworks and kept in inference graphs that report the loss.

use crate::ir::fact::{Dim, Fact};

/// How the per-element losses are reduced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduction {
    /// The per-element losses, shaped like the target.
    None,
    Sum,
    /// The sum divided by the sum of the weights of the elements not ignored.
    Mean,
}

#[derive(Clone, Debug)]
pub enum LossOp {
    /// Inputs: log-probabilities `[N, C, d1…]`, target `[N, d1…]` (int), optional weight `[C]`.
    NegativeLogLikelihood {
        reduction: Reduction,
        ignore_index: Option<i64>,
    },
    /// Inputs: scores `[N, C, d1…]`, labels, optional weights; outputs the loss and, optionally,
    /// the log-softmax of the scores over axis 1.
    SoftmaxCrossEntropy {
        reduction: Reduction,
        ignore_index: Option<i64>,
    },
}

impl LossOp {
    pub fn name(&self) -> &'static str {
        match self {
            LossOp::NegativeLogLikelihood { .. } => "NegativeLogLikelihoodLoss",
            LossOp::SoftmaxCrossEntropy { .. } => "SoftmaxCrossEntropyLoss",
        }
    }

    fn reduction(&self) -> Reduction {
        match self {
            LossOp::NegativeLogLikelihood { reduction, .. }
            | LossOp::SoftmaxCrossEntropy { reduction, .. } => *reduction,
        }
    }

    pub fn infer(&self, inputs: &[Fact]) -> Vec<Fact> {
        let x = inputs.first().cloned().unwrap_or_default();
        let target = inputs.get(1).cloned().unwrap_or_default();
        let shape: Option<Vec<Dim>> = match self.reduction() {
            Reduction::None => target.shape,
            _ => Some(vec![]),
        };
        vec![Fact::new(x.dtype, shape), Fact::new(x.dtype, x.shape)]
    }
}
