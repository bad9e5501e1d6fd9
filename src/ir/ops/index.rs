//! Indexed reads and writes: scatters, GatherND, Compress, NonZero, Unique, EyeLike,
//! ReverseSequence.

use crate::ir::fact::{Dim, Fact};
use crate::tensor::DType;

/// How a scatter combines an update with the value it lands on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScatterReduction {
    /// The update replaces the value.
    None,
    Add,
    Mul,
    Max,
    Min,
}

#[derive(Clone, Debug)]
pub enum IndexOp {
    /// `ScatterElements` (and the deprecated `Scatter`, opsets 9–10).
    ScatterElements {
        axis: i64,
        reduction: ScatterReduction,
    },
    ScatterND {
        reduction: ScatterReduction,
    },
    GatherND {
        batch_dims: usize,
    },
    /// `axis: None` compresses the flattened input.
    Compress {
        axis: Option<i64>,
    },
    NonZero,
    /// Outputs: unique values, first-occurrence indices, inverse indices, counts.
    Unique {
        sorted: bool,
        axis: Option<i64>,
    },
    /// `dtype: None` keeps the input's dtype.
    EyeLike {
        k: i64,
        dtype: Option<DType>,
    },
    ReverseSequence {
        batch_axis: usize,
        time_axis: usize,
    },
}

impl IndexOp {
    pub fn name(&self) -> &'static str {
        match self {
            IndexOp::ScatterElements { .. } => "ScatterElements",
            IndexOp::ScatterND { .. } => "ScatterND",
            IndexOp::GatherND { .. } => "GatherND",
            IndexOp::Compress { .. } => "Compress",
            IndexOp::NonZero => "NonZero",
            IndexOp::Unique { .. } => "Unique",
            IndexOp::EyeLike { .. } => "EyeLike",
            IndexOp::ReverseSequence { .. } => "ReverseSequence",
        }
    }

    pub fn infer(&self, inputs: &[Fact]) -> Vec<Fact> {
        let x = inputs.first().cloned().unwrap_or_default();
        match self {
            IndexOp::ScatterElements { .. }
            | IndexOp::ScatterND { .. }
            | IndexOp::ReverseSequence { .. } => vec![Fact::new(x.dtype, x.shape)],
            IndexOp::EyeLike { dtype, .. } => vec![Fact::new(dtype.or(x.dtype), x.shape)],
            IndexOp::NonZero => vec![Fact::new(
                Some(DType::I64),
                x.rank().map(|r| vec![Dim::Known(r), Dim::Any]),
            )],
            IndexOp::Unique { .. } => {
                let i = Fact::new(Some(DType::I64), Some(vec![Dim::Any]));
                vec![Fact::new(x.dtype, None), i.clone(), i.clone(), i]
            }
            IndexOp::GatherND { .. } | IndexOp::Compress { .. } => vec![Fact::new(x.dtype, None)],
        }
    }
}
