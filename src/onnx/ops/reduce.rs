//! Builders of the reduction family.

use super::{NodeCtx, Registry};
use crate::error::Result;
use crate::ir::ops::reduce::{ReduceKind, ReduceOp};
use crate::ir::Op;

fn reduce(c: &NodeCtx, kind: ReduceKind) -> Result<Op> {
    // axes became an input in opset 13 for ReduceSum and in opset 18 for the others
    let input_since = if kind == ReduceKind::Sum { 13 } else { 18 };
    let axes = if c.opset < input_since {
        Some(c.ints_opt("axes")?.unwrap_or_default())
    } else {
        None
    };
    Ok(Op::Reduce(ReduceOp::Reduce {
        kind,
        axes,
        keepdims: c.int("keepdims", 1)? != 0,
        noop_empty: c.int("noop_with_empty_axes", 0)? != 0,
    }))
}

fn arg(c: &NodeCtx, max: bool) -> Result<Op> {
    Ok(Op::Reduce(ReduceOp::ArgExt {
        max,
        axis: c.int("axis", 0)?,
        keepdims: c.int("keepdims", 1)? != 0,
        select_last: c.int("select_last_index", 0)? != 0,
    }))
}

pub fn register(r: &mut Registry) {
    r.insert("ReduceSum", |c| reduce(c, ReduceKind::Sum));
    r.insert("ReduceMean", |c| reduce(c, ReduceKind::Mean));
    r.insert("ReduceMax", |c| reduce(c, ReduceKind::Max));
    r.insert("ReduceMin", |c| reduce(c, ReduceKind::Min));
    r.insert("ReduceProd", |c| reduce(c, ReduceKind::Prod));
    r.insert("ReduceL1", |c| reduce(c, ReduceKind::L1));
    r.insert("ReduceL2", |c| reduce(c, ReduceKind::L2));
    r.insert("ReduceSumSquare", |c| reduce(c, ReduceKind::SumSquare));
    r.insert("ReduceLogSum", |c| reduce(c, ReduceKind::LogSum));
    r.insert("ReduceLogSumExp", |c| reduce(c, ReduceKind::LogSumExp));
    r.insert("ArgMax", |c| arg(c, true));
    r.insert("ArgMin", |c| arg(c, false));
    r.insert("TopK", |c| {
        let k = if c.opset < 10 {
            Some(
                c.int_opt("k")?
                    .ok_or_else(|| c.invalid("missing attribute 'k'"))?,
            )
        } else {
            None
        };
        // sorted=0 allows any order; Hearth always returns the sorted order
        Ok(Op::Reduce(ReduceOp::TopK {
            k,
            axis: c.int("axis", -1)?,
            largest: c.int("largest", 1)? != 0,
        }))
    });
    r.insert("CumProd", |c| {
        Ok(Op::Reduce(ReduceOp::CumProd {
            exclusive: c.int("exclusive", 0)? != 0,
            reverse: c.int("reverse", 0)? != 0,
        }))
    });
    r.insert("CumSum", |c| {
        Ok(Op::Reduce(ReduceOp::CumSum {
            exclusive: c.int("exclusive", 0)? != 0,
            reverse: c.int("reverse", 0)? != 0,
        }))
    });
}
