//! Convolutions and pooling over N-d spatial dims (input layout N, C, spatial…).

use crate::ir::fact::Fact;

/// How padding is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoPad {
    /// Explicit `pads`.
    NotSet,
    SameUpper,
    SameLower,
    Valid,
}

/// Window geometry shared by Conv, ConvTranspose and the pools. Empty vectors mean "default
/// for the input's spatial rank" (kernel from the weights; strides/dilations 1; pads 0).
#[derive(Clone, Debug, Default)]
pub struct Window {
    pub kernel: Vec<usize>,
    pub strides: Vec<usize>,
    pub dilations: Vec<usize>,
    /// begin… then end…, as ONNX writes them.
    pub pads: Vec<usize>,
    pub auto_pad: Option<AutoPad>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PoolKind {
    Max,
    Average { count_include_pad: bool },
    Lp { p: f32 },
}

#[derive(Clone, Debug)]
pub enum ConvOp {
    Conv {
        window: Window,
        group: usize,
    },
    ConvTranspose {
        window: Window,
        group: usize,
        output_padding: Vec<usize>,
        output_shape: Vec<usize>,
    },
    Pool {
        kind: PoolKind,
        window: Window,
        ceil_mode: bool,
        column_major_indices: bool,
    },
    GlobalPool {
        kind: PoolKind,
    },
}

impl ConvOp {
    pub fn name(&self) -> &'static str {
        match self {
            ConvOp::Conv { .. } => "Conv",
            ConvOp::ConvTranspose { .. } => "ConvTranspose",
            ConvOp::Pool {
                kind: PoolKind::Max,
                ..
            } => "MaxPool",
            ConvOp::Pool {
                kind: PoolKind::Average { .. },
                ..
            } => "AveragePool",
            ConvOp::Pool {
                kind: PoolKind::Lp { .. },
                ..
            } => "LpPool",
            ConvOp::GlobalPool {
                kind: PoolKind::Max,
            } => "GlobalMaxPool",
            ConvOp::GlobalPool {
                kind: PoolKind::Average { .. },
            } => "GlobalAveragePool",
            ConvOp::GlobalPool {
                kind: PoolKind::Lp { .. },
            } => "GlobalLpPool",
        }
    }

    pub fn infer(&self, inputs: &[Fact]) -> Vec<Fact> {
        let x = inputs.first().cloned().unwrap_or_default();
        match self {
            ConvOp::Pool {
                kind: PoolKind::Max,
                ..
            } => {
                vec![
                    Fact::new(x.dtype, None),
                    Fact::new(Some(crate::tensor::DType::I64), None),
                ]
            }
            _ => vec![Fact::new(x.dtype, None)],
        }
    }
}
