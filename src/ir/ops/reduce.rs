//! Reductions, arg-min/max, TopK, CumSum.

use crate::ir::fact::Fact;
use crate::tensor::DType;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceKind {
    Sum,
    Mean,
    Max,
    Min,
    Prod,
    L1,
    L2,
    SumSquare,
    LogSum,
    LogSumExp,
}

#[derive(Clone, Debug)]
pub enum ReduceOp {
    /// `axes` from the attribute (older opsets) or, when `None`, from input 1.
    Reduce {
        kind: ReduceKind,
        axes: Option<Vec<i64>>,
        keepdims: bool,
        noop_empty: bool,
    },
    ArgExt {
        max: bool,
        axis: i64,
        keepdims: bool,
        select_last: bool,
    },
    /// `k` from the attribute (opset 1) or input 1.
    TopK {
        k: Option<i64>,
        axis: i64,
        largest: bool,
    },
    CumSum {
        exclusive: bool,
        reverse: bool,
    },
    /// `TopK(MatMul(A, B), k)` over the last axis, fused at load by [`crate::ir::retrieve`]:
    /// inputs A and the constant f32 `[K, N]` B; outputs the TopK's values and indices.
    MatMulTopK {
        k: usize,
        largest: bool,
    },
    /// Opset 26.
    CumProd {
        exclusive: bool,
        reverse: bool,
    },
}

impl ReduceOp {
    pub fn name(&self) -> &'static str {
        match self {
            ReduceOp::Reduce { kind, .. } => match kind {
                ReduceKind::Sum => "ReduceSum",
                ReduceKind::Mean => "ReduceMean",
                ReduceKind::Max => "ReduceMax",
                ReduceKind::Min => "ReduceMin",
                ReduceKind::Prod => "ReduceProd",
                ReduceKind::L1 => "ReduceL1",
                ReduceKind::L2 => "ReduceL2",
                ReduceKind::SumSquare => "ReduceSumSquare",
                ReduceKind::LogSum => "ReduceLogSum",
                ReduceKind::LogSumExp => "ReduceLogSumExp",
            },
            ReduceOp::ArgExt { max: true, .. } => "ArgMax",
            ReduceOp::ArgExt { max: false, .. } => "ArgMin",
            ReduceOp::TopK { .. } => "TopK",
            ReduceOp::CumSum { .. } => "CumSum",
            ReduceOp::MatMulTopK { .. } => "MatMulTopK",
            ReduceOp::CumProd { .. } => "CumProd",
        }
    }

    pub fn infer(&self, inputs: &[Fact]) -> Vec<Fact> {
        let x = inputs.first().cloned().unwrap_or_default();
        match self {
            ReduceOp::ArgExt { .. } => vec![Fact::new(Some(DType::I64), None)],
            ReduceOp::TopK { .. } | ReduceOp::MatMulTopK { .. } => {
                vec![Fact::new(x.dtype, None), Fact::new(Some(DType::I64), None)]
            }
            ReduceOp::CumSum { .. } | ReduceOp::CumProd { .. } => {
                vec![Fact::new(x.dtype, x.shape)]
            }
            ReduceOp::Reduce { .. } => vec![Fact::new(x.dtype, None)],
        }
    }
}
