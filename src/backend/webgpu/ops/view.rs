//! Shape-only ops on the GPU (Identity, Reshape, Flatten, Squeeze, Unsqueeze): the output is
//! the input's buffer under a new shape, no dispatch. Taken only for a value already on the GPU
//! (and not on the host), with any shape input on the host.

use super::{Claim, GpuOp, OpEntry};
use crate::backend::cpu::shape::{reshape_dims, squeeze_dims, unsqueeze_dims};
use crate::backend::webgpu::dispatch::GpuTensor;
use crate::backend::webgpu::graph::GpuGraph;
use crate::error::Result;
use crate::ir::ops::shape::ShapeOp;
use crate::ir::Op;
use crate::plan::exec::{Ctx, Launch};

pub(crate) const ENTRY: OpEntry = OpEntry {
    shader: None,
    claim,
};

/// The view of the node's own `ShapeOp` (read from the graph at launch).
#[derive(Clone, Copy, Debug)]
struct ViewOp;

fn claim(c: &Claim) -> Option<Box<dyn GpuOp>> {
    match &c.node().op {
        Op::Shape(
            ShapeOp::Identity
            | ShapeOp::Reshape { .. }
            | ShapeOp::Flatten { .. }
            | ShapeOp::Squeeze { .. }
            | ShapeOp::Unsqueeze { .. },
        ) => Some(Box::new(ViewOp)),
        _ => None,
    }
}

impl GpuOp for ViewOp {
    fn launch(&self, ctx: &mut Ctx<'_, '_, GpuGraph>, i: usize) -> Result<Launch<GpuTensor>> {
        let node = &ctx.graph.nodes[i];
        let Some(x) = node.inputs.first().copied().flatten() else {
            return Ok(Launch::Declined("no input".into()));
        };
        // only worth it for a value that is on the GPU alone
        let Some(t) = ctx.device_now(x).filter(|_| ctx.host(x).is_none()).cloned() else {
            return Ok(Launch::Declined("the input is on the host".into()));
        };
        // shapes and axes are integer tensors: always on the host
        let second = node.inputs.get(1).copied().flatten();
        let second = match second {
            Some(v) => match ctx.host(v) {
                Some(h) => Some(h.to_i64_vec()),
                None => {
                    return Ok(Launch::Declined(
                        "the shape input is not on the host".into(),
                    ))
                }
            },
            None => None,
        };
        let Op::Shape(op) = &node.op else {
            return Ok(Launch::Declined("not a view".into()));
        };
        let shape = match op {
            ShapeOp::Identity => t.shape.clone(),
            ShapeOp::Flatten { axis } => {
                let r = t.shape.len() as i64;
                let a = if *axis < 0 { axis + r } else { *axis };
                if a < 0 || a > r {
                    return Ok(Launch::Declined("axis out of range".into()));
                }
                let outer: usize = t.shape[..a as usize].iter().product();
                vec![outer, t.numel() / outer.max(1)]
            }
            ShapeOp::Reshape { shape, allowzero } => match shape.clone().or(second) {
                Some(spec) => reshape_dims(&t.shape, &spec, *allowzero)?,
                None => return Ok(Launch::Declined("no target shape".into())),
            },
            ShapeOp::Squeeze { axes } => squeeze_dims(&t.shape, axes.clone().or(second))?,
            ShapeOp::Unsqueeze { axes } => match axes.clone().or(second) {
                Some(a) => unsqueeze_dims(&t.shape, &a)?,
                None => return Ok(Launch::Declined("no axes".into())),
            },
            _ => return Ok(Launch::Declined("not a view".into())),
        };
        Ok(Launch::ran(node.outputs[0], t.view(shape)))
    }
}
