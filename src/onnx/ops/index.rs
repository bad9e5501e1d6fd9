//! Builders of the indexed read/write family.

use super::{NodeCtx, Registry};
use crate::error::Result;
use crate::ir::ops::index::{IndexOp, ScatterReduction};
use crate::ir::Op;
use crate::tensor::DType;

fn op(o: IndexOp) -> Result<Op> {
    Ok(Op::Index(o))
}

fn reduction(c: &NodeCtx) -> Result<ScatterReduction> {
    Ok(match c.string("reduction", "none")?.as_str() {
        "none" => ScatterReduction::None,
        "add" => ScatterReduction::Add,
        "mul" => ScatterReduction::Mul,
        "max" if c.opset >= 18 => ScatterReduction::Max,
        "min" if c.opset >= 18 => ScatterReduction::Min,
        m => {
            return Err(c.invalid(format!(
                "reduction '{m}' (opset {}): expected none, add, mul (and max, min from opset 18)",
                c.opset
            )))
        }
    })
}

/// Registers the scatters, GatherND, Compress, NonZero, Unique, EyeLike and ReverseSequence.
pub fn register(r: &mut Registry) {
    r.insert("ScatterElements", |c| {
        c.expect_inputs(3, 3)?;
        op(IndexOp::ScatterElements {
            axis: c.int("axis", 0)?,
            reduction: reduction(c)?,
        })
    });
    r.insert("Scatter", |c| {
        c.expect_inputs(3, 3)?;
        op(IndexOp::ScatterElements {
            axis: c.int("axis", 0)?,
            reduction: ScatterReduction::None,
        })
    });
    r.insert("ScatterND", |c| {
        c.expect_inputs(3, 3)?;
        op(IndexOp::ScatterND {
            reduction: reduction(c)?,
        })
    });
    r.insert("GatherND", |c| {
        c.expect_inputs(2, 2)?;
        let b = c.int("batch_dims", 0)?;
        if b < 0 {
            return Err(c.invalid(format!("batch_dims {b} must be >= 0")));
        }
        op(IndexOp::GatherND {
            batch_dims: b as usize,
        })
    });
    r.insert("Compress", |c| {
        c.expect_inputs(2, 2)?;
        op(IndexOp::Compress {
            axis: c.int_opt("axis")?,
        })
    });
    r.insert("NonZero", |c| {
        c.expect_inputs(1, 1)?;
        op(IndexOp::NonZero)
    });
    r.insert("Unique", |c| {
        c.expect_inputs(1, 1)?;
        op(IndexOp::Unique {
            sorted: c.int("sorted", 1)? != 0,
            axis: c.int_opt("axis")?,
        })
    });
    r.insert("EyeLike", |c| {
        c.expect_inputs(1, 1)?;
        let dtype = match c.int_opt("dtype")? {
            None => None,
            Some(code) => Some(DType::from_onnx(code as i32)?.compute()),
        };
        op(IndexOp::EyeLike {
            k: c.int("k", 0)?,
            dtype,
        })
    });
    r.insert("ReverseSequence", |c| {
        c.expect_inputs(2, 2)?;
        let (b, t) = (c.int("batch_axis", 1)?, c.int("time_axis", 0)?);
        if !matches!((b, t), (0, 1) | (1, 0)) {
            return Err(c.invalid(format!(
                "batch_axis {b} and time_axis {t}: one must be 0 and the other 1"
            )));
        }
        op(IndexOp::ReverseSequence {
            batch_axis: b as usize,
            time_axis: t as usize,
        })
    });
}
