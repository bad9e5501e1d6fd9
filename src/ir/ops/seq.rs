//! Sequence and optional ops. Their inputs and outputs are [`Value`](crate::value::Value)s, not
//! only tensors, so the executor runs them (`backend::cpu::seq::run`), never constant folding.

use crate::ir::fact::{Fact, ValueKind};
use crate::tensor::DType;

#[derive(Clone, Debug)]
pub enum SeqOp {
    /// An empty sequence of `dtype` (float32 by default).
    Empty {
        dtype: DType,
    },
    Construct,
    At,
    /// Inputs: sequence, tensor, optional position (default: the end).
    Insert,
    /// Inputs: sequence, optional position (default: the last).
    Erase,
    Length,
    SplitToSequence {
        axis: i64,
        keepdims: bool,
    },
    ConcatFromSequence {
        axis: i64,
        new_axis: bool,
    },
    /// `Optional`: wraps its input, or is empty without one.
    Optional,
    OptionalHasElement,
    OptionalGetElement,
}

impl SeqOp {
    pub fn name(&self) -> &'static str {
        match self {
            SeqOp::Empty { .. } => "SequenceEmpty",
            SeqOp::Construct => "SequenceConstruct",
            SeqOp::At => "SequenceAt",
            SeqOp::Insert => "SequenceInsert",
            SeqOp::Erase => "SequenceErase",
            SeqOp::Length => "SequenceLength",
            SeqOp::SplitToSequence { .. } => "SplitToSequence",
            SeqOp::ConcatFromSequence { .. } => "ConcatFromSequence",
            SeqOp::Optional => "Optional",
            SeqOp::OptionalHasElement => "OptionalHasElement",
            SeqOp::OptionalGetElement => "OptionalGetElement",
        }
    }

    pub fn infer(&self, inputs: &[Fact]) -> Vec<Fact> {
        let x = inputs.first().cloned().unwrap_or_default();
        let seq = |d| Fact::of_kind(ValueKind::Sequence, d);
        match self {
            SeqOp::Empty { dtype } => vec![seq(Some(*dtype))],
            SeqOp::Construct | SeqOp::SplitToSequence { .. } => vec![seq(x.dtype)],
            SeqOp::Insert | SeqOp::Erase => vec![seq(x.dtype)],
            SeqOp::At | SeqOp::ConcatFromSequence { .. } => vec![Fact::new(x.dtype, None)],
            SeqOp::Length => vec![Fact::new(Some(DType::I64), Some(vec![]))],
            SeqOp::Optional => {
                let kind = if x.kind == ValueKind::Sequence {
                    ValueKind::OptionalSequence
                } else {
                    ValueKind::Optional
                };
                vec![Fact::of_kind(kind, x.dtype)]
            }
            SeqOp::OptionalHasElement => vec![Fact::new(Some(DType::Bool), Some(vec![]))],
            SeqOp::OptionalGetElement => match x.kind {
                ValueKind::OptionalSequence | ValueKind::Sequence => vec![seq(x.dtype)],
                _ => vec![Fact::new(x.dtype, None)],
            },
        }
    }
}
