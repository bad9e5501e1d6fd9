//! Builders of the convolution and pooling family.

use super::{NodeCtx, Registry};
use crate::error::Result;
use crate::ir::ops::conv::{AutoPad, ConvOp, PoolKind, Window};
use crate::ir::Op;

fn positive(c: &NodeCtx, name: &str) -> Result<Vec<usize>> {
    let v = c.ints_opt(name)?.unwrap_or_default();
    v.iter()
        .map(|&x| {
            if x > 0 {
                Ok(x as usize)
            } else {
                Err(c.invalid(format!("{name} must be positive, got {v:?}")))
            }
        })
        .collect()
}

pub(super) fn window(c: &NodeCtx) -> Result<Window> {
    let pads = c.ints_opt("pads")?.unwrap_or_default();
    if pads.iter().any(|&p| p < 0) {
        return Err(c.unsupported(format!("negative pads {pads:?}")));
    }
    let auto_pad = match c.string("auto_pad", "NOTSET")?.as_str() {
        "NOTSET" | "" => AutoPad::NotSet,
        "SAME_UPPER" => AutoPad::SameUpper,
        "SAME_LOWER" => AutoPad::SameLower,
        "VALID" => AutoPad::Valid,
        p => return Err(c.invalid(format!("unknown auto_pad '{p}'"))),
    };
    Ok(Window {
        kernel: positive(c, "kernel_shape")?,
        strides: positive(c, "strides")?,
        dilations: positive(c, "dilations")?,
        pads: pads.into_iter().map(|p| p as usize).collect(),
        auto_pad: Some(auto_pad),
    })
}

fn pool(c: &NodeCtx, kind: PoolKind) -> Result<Op> {
    let w = window(c)?;
    if w.kernel.is_empty() {
        return Err(c.invalid("missing attribute 'kernel_shape'"));
    }
    Ok(Op::Conv(ConvOp::Pool {
        kind,
        window: w,
        ceil_mode: c.int("ceil_mode", 0)? != 0,
        column_major_indices: c.int("storage_order", 0)? != 0,
        indices: kind == PoolKind::Max && c.num_outputs > 1,
    }))
}

pub fn register(r: &mut Registry) {
    #[cfg(feature = "extra-ops")]
    r.insert("MaxUnpool", |c| {
        let window = window(c)?;
        if window.kernel.is_empty() {
            return Err(c.invalid("missing attribute 'kernel_shape'"));
        }
        Ok(Op::Conv(ConvOp::Unpool {
            window,
            output_shape: c.has_input(2),
        }))
    });
    r.insert("Conv", |c| {
        let group = c.int("group", 1)?;
        if group < 1 {
            return Err(c.invalid("group must be >= 1"));
        }
        Ok(Op::Conv(ConvOp::Conv {
            window: window(c)?,
            group: group as usize,
            act: None,
        }))
    });
    r.insert("ConvTranspose", |c| {
        let group = c.int("group", 1)?;
        if group < 1 {
            return Err(c.invalid("group must be >= 1"));
        }
        let nonneg = |name: &str| -> Result<Vec<usize>> {
            let v = c.ints_opt(name)?.unwrap_or_default();
            v.iter()
                .map(|&x| {
                    if x >= 0 {
                        Ok(x as usize)
                    } else {
                        Err(c.invalid(format!("{name} must be >= 0")))
                    }
                })
                .collect()
        };
        Ok(Op::Conv(ConvOp::ConvTranspose {
            window: window(c)?,
            group: group as usize,
            output_padding: nonneg("output_padding")?,
            output_shape: nonneg("output_shape")?,
        }))
    });
    r.insert("MaxPool", |c| pool(c, PoolKind::Max));
    r.insert("AveragePool", |c| {
        pool(
            c,
            PoolKind::Average {
                count_include_pad: c.int("count_include_pad", 0)? != 0,
            },
        )
    });
    r.insert("LpPool", |c| {
        pool(
            c,
            PoolKind::Lp {
                p: c.int("p", 2)? as f32,
            },
        )
    });
    r.insert("GlobalAveragePool", |_| {
        Ok(Op::Conv(ConvOp::GlobalPool {
            kind: PoolKind::Average {
                count_include_pad: false,
            },
        }))
    });
    r.insert("GlobalMaxPool", |_| {
        Ok(Op::Conv(ConvOp::GlobalPool {
            kind: PoolKind::Max,
        }))
    });
    r.insert("GlobalLpPool", |c| {
        Ok(Op::Conv(ConvOp::GlobalPool {
            kind: PoolKind::Lp {
                p: c.int("p", 2)? as f32,
            },
        }))
    });
}
