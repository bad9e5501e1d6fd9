//! Linear quantisation: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear.

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
}

impl QuantOp {
    pub fn name(&self) -> &'static str {
        match self {
            QuantOp::Quantize { .. } => "QuantizeLinear",
            QuantOp::Dequantize { .. } => "DequantizeLinear",
            QuantOp::DynamicQuantize => "DynamicQuantizeLinear",
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
        }
    }
}
