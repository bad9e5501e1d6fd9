//! Builders of the linear-algebra and normalisation family.

use super::{NodeCtx, Registry};
use crate::error::Result;
use crate::ir::ops::linalg::{EinsumSpec, LinalgOp};
use crate::ir::Op;

fn op(o: LinalgOp) -> Result<Op> {
    Ok(Op::Linalg(o))
}

pub fn register(r: &mut Registry) {
    r.insert("Gemm", |c| {
        op(LinalgOp::Gemm {
            alpha: c.float("alpha", 1.0)?,
            beta: c.float("beta", 1.0)?,
            trans_a: c.int("transA", 0)? != 0,
            trans_b: c.int("transB", 0)? != 0,
        })
    });
    r.insert("MatMul", |c| {
        // a third input is the fused bias only the load-time rewrite writes
        c.expect_inputs(2, 2)?;
        op(LinalgOp::MatMul)
    });
    r.insert("Einsum", |c| {
        let eq = c
            .string_opt("equation")?
            .ok_or_else(|| c.invalid("missing attribute 'equation'"))?;
        let spec = EinsumSpec::parse(&eq).map_err(|e| c.invalid(e))?;
        if spec.inputs.len() != c.num_inputs {
            return Err(c.invalid(format!(
                "equation '{eq}' has {} operands but the node has {} inputs",
                spec.inputs.len(),
                c.num_inputs
            )));
        }
        op(LinalgOp::Einsum(spec))
    });
    r.insert("MatMulInteger", |c| {
        c.expect_inputs(2, 4)?;
        op(LinalgOp::MatMulInteger)
    });
    #[cfg(feature = "extra-ops")]
    r.insert("Det", |_| op(LinalgOp::Det));
    r.insert("Softmax", |c| softmax(c, false));
    r.insert("LogSoftmax", |c| softmax(c, true));
    r.insert("Hardmax", |c| {
        let legacy = c.opset < 13;
        op(LinalgOp::Hardmax {
            axis: c.int("axis", if legacy { 1 } else { -1 })?,
            legacy,
        })
    });
    r.insert("LayerNormalization", |c| {
        op(LinalgOp::LayerNorm {
            axis: c.int("axis", -1)?,
            epsilon: c.float("epsilon", 1e-5)?,
        })
    });
    r.insert("BatchNormalization", |c| {
        if c.int("training_mode", 0)? != 0 || c.num_outputs > 1 && c.opset >= 14 {
            return Err(
                c.unsupported("BatchNormalization in training mode: Hearth runs inference only")
            );
        }
        op(LinalgOp::BatchNorm {
            epsilon: c.float("epsilon", 1e-5)?,
        })
    });
    r.insert("GroupNormalization", |c| {
        let g = c.int("num_groups", 0)?;
        if g <= 0 {
            return Err(c.invalid(format!("num_groups must be positive, got {g}")));
        }
        op(LinalgOp::GroupNorm {
            num_groups: g as usize,
            epsilon: c.float("epsilon", 1e-5)?,
        })
    });
    r.insert("MeanVarianceNormalization", |c| {
        op(LinalgOp::MeanVarianceNorm {
            axes: c.ints_opt("axes")?.unwrap_or_else(|| vec![0, 2, 3]),
        })
    });
    r.insert("LRN", |c| {
        let size = c
            .int_opt("size")?
            .ok_or_else(|| c.invalid("missing attribute 'size'"))?;
        if size <= 0 {
            return Err(c.invalid(format!("size must be positive, got {size}")));
        }
        op(LinalgOp::Lrn {
            size: size as usize,
            alpha: c.float("alpha", 1e-4)?,
            beta: c.float("beta", 0.75)?,
            bias: c.float("bias", 1.0)?,
        })
    });
    r.insert("InstanceNormalization", |c| {
        op(LinalgOp::InstanceNorm {
            epsilon: c.float("epsilon", 1e-5)?,
        })
    });
}

fn softmax(c: &NodeCtx, log: bool) -> Result<Op> {
    let legacy = c.opset < 13;
    op(LinalgOp::Softmax {
        axis: c.int("axis", if legacy { 1 } else { -1 })?,
        log,
        legacy,
    })
}
