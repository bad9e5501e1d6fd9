//! Builders of the loss family.

use super::{NodeCtx, Registry};
use crate::error::Result;
use crate::ir::ops::loss::{LossOp, Reduction};
use crate::ir::Op;

/// Registers NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss.
pub fn register(r: &mut Registry) {
    r.insert("NegativeLogLikelihoodLoss", |c| {
        c.expect_inputs(2, 3)?;
        let (reduction, ignore_index) = common(c)?;
        Ok(Op::Loss(LossOp::NegativeLogLikelihood {
            reduction,
            ignore_index,
        }))
    });
    r.insert("SoftmaxCrossEntropyLoss", |c| {
        c.expect_inputs(2, 3)?;
        let (reduction, ignore_index) = common(c)?;
        Ok(Op::Loss(LossOp::SoftmaxCrossEntropy {
            reduction,
            ignore_index,
        }))
    });
}

fn common(c: &NodeCtx) -> Result<(Reduction, Option<i64>)> {
    let reduction = match c.string("reduction", "mean")?.as_str() {
        "none" => Reduction::None,
        "sum" => Reduction::Sum,
        "mean" => Reduction::Mean,
        m => return Err(c.invalid(format!("reduction '{m}': expected 'none', 'sum' or 'mean'"))),
    };
    Ok((reduction, c.int_opt("ignore_index")?))
}
