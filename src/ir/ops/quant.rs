//! Linear quantisation: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, and the
//! integer operators of quantised models (QLinearMatMul, ConvInteger, QLinearConv).

use super::conv::{ConvOp, Window};
use super::linalg::LinalgOp;
use crate::ir::fact::Fact;
use crate::tensor::DType;

#[derive(Clone, Debug)]
pub enum QuantOp {
    /// `output` is the quantised dtype when no zero point says it (opset 21 `output_dtype`).
    Quantize {
        axis: i64,
        block: usize,
        saturate: bool,
        output: DType,
    },
    Dequantize {
        axis: i64,
        block: usize,
    },
    DynamicQuantize,
    /// `a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point`.
    QLinearMatMul,
    /// `x, w, x_zero_point?, w_zero_point?` → int32.
    ConvInteger {
        window: Window,
        group: usize,
    },
    /// `x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B?`.
    QLinearConv {
        window: Window,
        group: usize,
    },
}

impl QuantOp {
    pub fn name(&self) -> &'static str {
        match self {
            QuantOp::Quantize { .. } => "QuantizeLinear",
            QuantOp::Dequantize { .. } => "DequantizeLinear",
            QuantOp::DynamicQuantize => "DynamicQuantizeLinear",
            QuantOp::QLinearMatMul => "QLinearMatMul",
            QuantOp::ConvInteger { .. } => "ConvInteger",
            QuantOp::QLinearConv { .. } => "QLinearConv",
        }
    }

    pub fn infer(&self, inputs: &[Fact]) -> Vec<Fact> {
        let x = inputs.first().cloned().unwrap_or_default();
        match self {
            QuantOp::Quantize { output, .. } => {
                let dtype = inputs.get(2).and_then(|f| f.dtype).or(Some(*output));
                vec![Fact::new(dtype, x.shape)]
            }
            QuantOp::Dequantize { .. } => {
                vec![Fact::new(inputs.get(1).and_then(|f| f.dtype), x.shape)]
            }
            QuantOp::DynamicQuantize => vec![
                Fact::new(Some(DType::U8), x.shape),
                Fact::new(Some(DType::F32), Some(vec![])),
                Fact::new(Some(DType::U8), Some(vec![])),
            ],
            // the shapes are MatMul's and Conv's; the dtype is y's zero point's, else the input's
            QuantOp::QLinearMatMul => {
                let f = LinalgOp::MatMul.infer(&[x.clone(), at(inputs, 3)]);
                vec![Fact::new(
                    at(inputs, 7).dtype.or(x.dtype),
                    f[0].shape.clone(),
                )]
            }
            QuantOp::ConvInteger { window, group } => {
                let f = conv_infer(window, *group, &[x, at(inputs, 1)]);
                vec![Fact::new(Some(DType::I32), f.shape)]
            }
            QuantOp::QLinearConv { window, group } => {
                let f = conv_infer(window, *group, &[x.clone(), at(inputs, 3)]);
                vec![Fact::new(at(inputs, 7).dtype.or(x.dtype), f.shape)]
            }
        }
    }
}

fn at(inputs: &[Fact], i: usize) -> Fact {
    inputs.get(i).cloned().unwrap_or_default()
}

fn conv_infer(window: &Window, group: usize, xw: &[Fact]) -> Fact {
    let conv = ConvOp::Conv {
        window: window.clone(),
        group,
        act: None,
    };
    conv.infer(xw).swap_remove(0)
}
