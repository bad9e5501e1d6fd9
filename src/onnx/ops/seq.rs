//! Builders of the sequence and optional family.

use super::Registry;
use crate::error::Result;
use crate::ir::ops::seq::SeqOp;
use crate::ir::Op;
use crate::tensor::DType;

fn op(o: SeqOp) -> Result<Op> {
    Ok(Op::Seq(o))
}

/// Registers the Sequence* ops, SplitToSequence, ConcatFromSequence and the Optional* ops.
pub fn register(r: &mut Registry) {
    r.insert("SequenceEmpty", |c| {
        let dtype = match c.int_opt("dtype")? {
            None => DType::F32,
            Some(code) => DType::from_onnx(code as i32)?,
        };
        op(SeqOp::Empty { dtype })
    });
    r.insert("SequenceConstruct", |c| {
        c.expect_inputs(1, usize::MAX)?;
        op(SeqOp::Construct)
    });
    r.insert("SequenceAt", |c| {
        c.expect_inputs(2, 2)?;
        op(SeqOp::At)
    });
    r.insert("SequenceInsert", |c| {
        c.expect_inputs(2, 3)?;
        op(SeqOp::Insert)
    });
    r.insert("SequenceErase", |c| {
        c.expect_inputs(1, 2)?;
        op(SeqOp::Erase)
    });
    r.insert("SequenceLength", |c| {
        c.expect_inputs(1, 1)?;
        op(SeqOp::Length)
    });
    r.insert("SplitToSequence", |c| {
        c.expect_inputs(1, 2)?;
        op(SeqOp::SplitToSequence {
            axis: c.int("axis", 0)?,
            keepdims: c.int("keepdims", 1)? != 0,
        })
    });
    r.insert("ConcatFromSequence", |c| {
        c.expect_inputs(1, 1)?;
        let axis = c
            .int_opt("axis")?
            .ok_or_else(|| c.invalid("missing attribute 'axis'"))?;
        op(SeqOp::ConcatFromSequence {
            axis,
            new_axis: c.int("new_axis", 0)? != 0,
        })
    });
    r.insert("Optional", |c| {
        c.expect_inputs(0, 1)?;
        op(SeqOp::Optional)
    });
    r.insert("OptionalHasElement", |c| {
        c.expect_inputs(0, 1)?;
        op(SeqOp::OptionalHasElement)
    });
    r.insert("OptionalGetElement", |c| {
        c.expect_inputs(1, 1)?;
        op(SeqOp::OptionalGetElement)
    });
}
