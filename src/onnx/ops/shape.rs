//! Builders of the data-movement and shape family.

use super::{NodeCtx, Registry};
use crate::error::{Error, Result};
use crate::ir::ops::shape::{PadMode, ShapeOp};
use crate::ir::Op;
use crate::tensor::{Tensor, TensorData};
use std::sync::Arc;

fn op(o: ShapeOp) -> Result<Op> {
    Ok(Op::Shape(o))
}

/// Registers every shape op.
pub fn register(r: &mut Registry) {
    r.insert("Identity", |_| op(ShapeOp::Identity));
    r.insert("Dropout", |c| {
        // training_mode is an input from opset 12, checked at run time by the kernel
        if c.int("is_test", 1)? == 0 && c.opset < 7 {
            return Err(
                c.unsupported("Dropout in training mode (random): Hearth runs inference only")
            );
        }
        op(ShapeOp::Dropout)
    });
    r.insert("Flatten", |c| {
        op(ShapeOp::Flatten {
            axis: c.int("axis", 1)?,
        })
    });
    r.insert("Reshape", |c| {
        op(ShapeOp::Reshape {
            shape: if c.opset < 5 {
                c.ints_opt("shape")?
            } else {
                None
            },
            allowzero: c.int("allowzero", 0)? != 0,
        })
    });
    r.insert("Transpose", |c| {
        let perm = match c.ints_opt("perm")? {
            None => None,
            Some(p) => {
                let mut seen = vec![false; p.len()];
                for &i in &p {
                    if i < 0
                        || i as usize >= p.len()
                        || std::mem::replace(&mut seen[i as usize], true)
                    {
                        return Err(c.invalid(format!("perm {p:?} is not a permutation")));
                    }
                }
                Some(p.into_iter().map(|i| i as usize).collect())
            }
        };
        op(ShapeOp::Transpose { perm })
    });
    r.insert("Squeeze", |c| {
        op(ShapeOp::Squeeze {
            axes: if c.opset < 13 {
                c.ints_opt("axes")?
            } else {
                None
            },
        })
    });
    r.insert("Unsqueeze", |c| {
        let axes = if c.opset < 13 {
            Some(
                c.ints_opt("axes")?
                    .ok_or_else(|| c.invalid("missing attribute 'axes'"))?,
            )
        } else {
            None
        };
        op(ShapeOp::Unsqueeze { axes })
    });
    r.insert("Concat", |c| {
        let axis = c
            .int_opt("axis")?
            .ok_or_else(|| c.invalid("missing attribute 'axis'"))?;
        op(ShapeOp::Concat { axis })
    });
    r.insert("Split", |c| {
        let split = if c.opset < 13 {
            c.ints_opt("split")?
        } else {
            None
        };
        if let Some(n) = c.int_opt("num_outputs")? {
            if n as usize != c.num_outputs {
                return Err(c.invalid(format!(
                    "num_outputs {n} but the node has {} outputs",
                    c.num_outputs
                )));
            }
        }
        op(ShapeOp::Split {
            axis: c.int("axis", 0)?,
            split,
            outputs: c.num_outputs,
        })
    });
    r.insert("Slice", |c| {
        if c.opset < 10 {
            let starts = c
                .ints_opt("starts")?
                .ok_or_else(|| c.invalid("missing 'starts'"))?;
            let ends = c
                .ints_opt("ends")?
                .ok_or_else(|| c.invalid("missing 'ends'"))?;
            op(ShapeOp::Slice {
                starts: Some(starts),
                ends: Some(ends),
                axes: c.ints_opt("axes")?,
            })
        } else {
            op(ShapeOp::Slice {
                starts: None,
                ends: None,
                axes: None,
            })
        }
    });
    r.insert("Gather", |c| {
        op(ShapeOp::Gather {
            axis: c.int("axis", 0)?,
        })
    });
    r.insert("GatherElements", |c| {
        op(ShapeOp::GatherElements {
            axis: c.int("axis", 0)?,
        })
    });
    r.insert("Shape", |c| {
        op(ShapeOp::Shape {
            start: c.int("start", 0)?,
            end: c.int_opt("end")?,
        })
    });
    r.insert("Size", |_| op(ShapeOp::Size));
    r.insert("Constant", constant);
    r.insert("ConstantOfShape", |c| {
        let value = c.tensor_opt("value")?;
        if let Some(v) = &value {
            if v.numel() != 1 {
                return Err(c.invalid("value must hold one element"));
            }
        }
        op(ShapeOp::ConstantOfShape {
            value: value.map(|v| Arc::new((*v).clone().into_compute())),
        })
    });
    r.insert("Expand", |_| op(ShapeOp::Expand));
    r.insert("Range", |_| op(ShapeOp::Range));
    r.insert("Tile", |c| {
        if c.opset < 6 {
            return Err(c.unsupported("Tile before opset 6 (tiles/axis inputs)"));
        }
        op(ShapeOp::Tile)
    });
    r.insert("Pad", |c| {
        let mode = match c.string("mode", "constant")?.as_str() {
            "constant" => PadMode::Constant,
            "reflect" => PadMode::Reflect,
            "edge" => PadMode::Edge,
            "wrap" => PadMode::Wrap,
            m => return Err(c.invalid(format!("unknown mode '{m}'"))),
        };
        let (pads, value) = if c.opset < 11 {
            let pads = c.ints_opt("pads")?.or(c.ints_opt("paddings")?);
            (
                Some(pads.ok_or_else(|| c.invalid("missing attribute 'pads'"))?),
                c.float("value", 0.0)?,
            )
        } else {
            (None, 0.0)
        };
        op(ShapeOp::Pad { mode, pads, value })
    });
    r.insert("OneHot", |c| {
        op(ShapeOp::OneHot {
            axis: c.int("axis", -1)?,
        })
    });
    r.insert("Trilu", |c| {
        op(ShapeOp::Trilu {
            upper: c.int("upper", 1)? != 0,
        })
    });
    r.insert("DepthToSpace", |c| {
        let block = c.int("blocksize", 0)?;
        if block <= 0 {
            return Err(c.invalid("blocksize must be positive"));
        }
        let crd = match c.string("mode", "DCR")?.as_str() {
            "DCR" => false,
            "CRD" => true,
            m => return Err(c.invalid(format!("unknown mode '{m}'"))),
        };
        op(ShapeOp::DepthToSpace {
            block: block as usize,
            crd,
        })
    });
    r.insert("SpaceToDepth", |c| {
        let block = c.int("blocksize", 0)?;
        if block <= 0 {
            return Err(c.invalid("blocksize must be positive"));
        }
        let crd = match c.string("mode", "DCR")?.as_str() {
            "DCR" => false,
            "CRD" => true,
            m => return Err(c.invalid(format!("unknown mode '{m}'"))),
        };
        op(ShapeOp::SpaceToDepth {
            block: block as usize,
            crd,
        })
    });
}

fn constant(c: &NodeCtx) -> Result<Op> {
    let t: Tensor = if let Some(t) = c.tensor_opt("value")? {
        (*t).clone()
    } else if let Some(v) = c.float_opt("value_float")? {
        Tensor::scalar_f32(v)
    } else if let Some(v) = c.floats_opt("value_floats")? {
        Tensor::from_f32(vec![v.len()], v)?
    } else if let Some(v) = c.int_opt("value_int")? {
        Tensor::scalar_i64(v)
    } else if let Some(v) = c.ints_opt("value_ints")? {
        Tensor::from_i64(vec![v.len()], v)?
    } else if c.attr("value_string").is_some() || c.attr("value_strings").is_some() {
        return Err(Error::UnsupportedDType(format!(
            "string (Constant '{}')",
            c.name
        )));
    } else if c.attr("sparse_value").is_some() {
        return Err(c.unsupported("sparse constants"));
    } else {
        return Err(c.invalid("no value attribute"));
    };
    let t = t.into_compute();
    debug_assert!(!matches!(t.data(), TensorData::F16(_) | TensorData::F64(_)));
    op(ShapeOp::Constant { value: Arc::new(t) })
}
