//! Builders of the quantisation family.

use super::{NodeCtx, Registry};
use crate::error::{Error, Result};
use crate::ir::ops::quant::QuantOp;
use crate::ir::Op;
use crate::tensor::{onnx_dtype_name, DType};

fn group(c: &NodeCtx) -> Result<usize> {
    match c.int("group", 1)? {
        g if g >= 1 => Ok(g as usize),
        _ => Err(c.invalid("group must be >= 1")),
    }
}

pub fn register(r: &mut Registry) {
    r.insert("QuantizeLinear", |c| {
        let code = c.int("output_dtype", 0)? as i32;
        let output = if code == 0 {
            DType::U8
        } else {
            DType::from_onnx(code).map_err(|_| {
                Error::UnsupportedDType(format!(
                    "{} (QuantizeLinear output)",
                    onnx_dtype_name(code)
                ))
            })?
        };
        // the zero point's dtype, when given, is the output's (int16 is computed in int32)
        let output = match c.input_dtypes.get(2).copied().flatten() {
            Some(d) if c.has_input(2) => d,
            _ => output,
        };
        let block = c.int("block_size", 0)?;
        if block < 0 {
            return Err(c.invalid("block_size must be >= 0"));
        }
        Ok(Op::Quant(QuantOp::Quantize {
            axis: c.int("axis", 1)?,
            block: block as usize,
            saturate: c.int("saturate", 1)? != 0,
            output,
        }))
    });
    r.insert("DequantizeLinear", |c| {
        let block = c.int("block_size", 0)?;
        if block < 0 {
            return Err(c.invalid("block_size must be >= 0"));
        }
        Ok(Op::Quant(QuantOp::Dequantize {
            axis: c.int("axis", 1)?,
            block: block as usize,
        }))
    });
    r.insert("DynamicQuantizeLinear", |_| {
        Ok(Op::Quant(QuantOp::DynamicQuantize))
    });
    r.insert("QLinearMatMul", |_| Ok(Op::Quant(QuantOp::QLinearMatMul)));
    r.insert("ConvInteger", |c| {
        Ok(Op::Quant(QuantOp::ConvInteger {
            window: super::conv::window(c)?,
            group: group(c)?,
        }))
    });
    r.insert("QLinearConv", |c| {
        Ok(Op::Quant(QuantOp::QLinearConv {
            window: super::conv::window(c)?,
            group: group(c)?,
        }))
    });
}
