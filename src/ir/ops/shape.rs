//! Data movement and shape ops. Attributes that later opsets moved to inputs are `Option`s here:
//! `None` means "read the input".

use crate::ir::fact::{Dim, Fact};
use crate::tensor::{DType, Tensor};
use std::sync::Arc;

/// Padding modes of `Pad`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PadMode {
    Constant,
    Reflect,
    Edge,
    Wrap,
}

#[derive(Clone, Debug)]
pub enum ShapeOp {
    Identity,
    /// Inference-mode Dropout: output 0 is the input, output 1 (mask) all true.
    Dropout,
    Flatten {
        axis: i64,
    },
    Reshape {
        shape: Option<Vec<i64>>,
        allowzero: bool,
    },
    Transpose {
        perm: Option<Vec<usize>>,
    },
    Squeeze {
        axes: Option<Vec<i64>>,
    },
    Unsqueeze {
        axes: Option<Vec<i64>>,
    },
    Concat {
        axis: i64,
    },
    /// `outputs` is the node's output count; `split` sizes from the attribute (or input 1).
    Split {
        axis: i64,
        split: Option<Vec<i64>>,
        outputs: usize,
    },
    /// Opset < 10 attributes; `None` reads inputs 1..=4.
    Slice {
        starts: Option<Vec<i64>>,
        ends: Option<Vec<i64>>,
        axes: Option<Vec<i64>>,
    },
    Gather {
        axis: i64,
    },
    GatherElements {
        axis: i64,
    },
    Shape {
        start: i64,
        end: Option<i64>,
    },
    Size,
    Constant {
        value: Arc<Tensor>,
    },
    ConstantOfShape {
        value: Option<Arc<Tensor>>,
    },
    Expand,
    Range,
    Tile,
    /// `pads`/`value` from attributes (opset < 11) or inputs.
    Pad {
        mode: PadMode,
        pads: Option<Vec<i64>>,
        value: f32,
    },
    OneHot {
        axis: i64,
    },
    Trilu {
        upper: bool,
    },
    DepthToSpace {
        block: usize,
        crd: bool,
    },
    /// `crd`: column-row-depth order (opset 28's `mode = CRD`), else depth-column-row.
    SpaceToDepth {
        block: usize,
        crd: bool,
    },
}

impl ShapeOp {
    pub fn name(&self) -> &'static str {
        match self {
            ShapeOp::Identity => "Identity",
            ShapeOp::Dropout => "Dropout",
            ShapeOp::Flatten { .. } => "Flatten",
            ShapeOp::Reshape { .. } => "Reshape",
            ShapeOp::Transpose { .. } => "Transpose",
            ShapeOp::Squeeze { .. } => "Squeeze",
            ShapeOp::Unsqueeze { .. } => "Unsqueeze",
            ShapeOp::Concat { .. } => "Concat",
            ShapeOp::Split { .. } => "Split",
            ShapeOp::Slice { .. } => "Slice",
            ShapeOp::Gather { .. } => "Gather",
            ShapeOp::GatherElements { .. } => "GatherElements",
            ShapeOp::Shape { .. } => "Shape",
            ShapeOp::Size => "Size",
            ShapeOp::Constant { .. } => "Constant",
            ShapeOp::ConstantOfShape { .. } => "ConstantOfShape",
            ShapeOp::Expand => "Expand",
            ShapeOp::Range => "Range",
            ShapeOp::Tile => "Tile",
            ShapeOp::Pad { .. } => "Pad",
            ShapeOp::OneHot { .. } => "OneHot",
            ShapeOp::Trilu { .. } => "Trilu",
            ShapeOp::DepthToSpace { .. } => "DepthToSpace",
            ShapeOp::SpaceToDepth { .. } => "SpaceToDepth",
        }
    }

    pub fn infer(&self, inputs: &[Fact]) -> Vec<Fact> {
        let x = inputs.first().cloned().unwrap_or_default();
        match self {
            ShapeOp::Constant { value } => vec![Fact::constant(value.clone())],
            ShapeOp::Shape { start, end } => {
                let (dtype, shape) = (Some(DType::I64), None);
                let Some(dims) = &x.shape else {
                    return vec![Fact::new(dtype, shape)];
                };
                let r = dims.len() as i64;
                let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
                let (s, e) = (clamp(*start), clamp(end.unwrap_or(r)));
                let part = if s < e { &dims[s..e] } else { &dims[0..0] };
                let mut f = Fact::new(dtype, Some(vec![Dim::Known(part.len())]));
                if let Some(known) = part.iter().map(Dim::known).collect::<Option<Vec<usize>>>() {
                    let v = known.iter().map(|&d| d as i64).collect();
                    if let Ok(t) = Tensor::from_i64(vec![part.len()], v) {
                        f = Fact::constant(Arc::new(t));
                    }
                }
                vec![f]
            }
            ShapeOp::Size => vec![Fact::new(Some(DType::I64), Some(vec![]))],
            ShapeOp::Identity | ShapeOp::Dropout => {
                vec![
                    Fact::new(x.dtype, x.shape),
                    Fact::new(Some(DType::Bool), None),
                ]
            }
            ShapeOp::Transpose { perm } => {
                let shape = x.shape.as_ref().and_then(|s| {
                    let p: Vec<usize> = match perm {
                        Some(p) => p.clone(),
                        None => (0..s.len()).rev().collect(),
                    };
                    (p.len() == s.len() && p.iter().all(|&i| i < s.len()))
                        .then(|| p.iter().map(|&i| s[i].clone()).collect())
                });
                vec![Fact::new(x.dtype, shape)]
            }
            ShapeOp::ConstantOfShape { value } => {
                vec![Fact::new(
                    Some(value.as_ref().map_or(DType::F32, |v| v.dtype())),
                    None,
                )]
            }
            ShapeOp::Range => vec![Fact::new(x.dtype, None)],
            ShapeOp::OneHot { .. } => vec![Fact::new(inputs.get(2).and_then(|f| f.dtype), None)],
            ShapeOp::Split { outputs, .. } => vec![Fact::new(x.dtype, None); *outputs],
            _ => vec![Fact::new(x.dtype, None)],
        }
    }
}
