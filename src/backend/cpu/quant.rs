//! CPU kernels of the quant family (placeholder until the family lands).

use crate::error::Result;
use crate::ir::ops::quant::QuantOp;
use crate::tensor::Tensor;

pub fn run(op: &QuantOp, _inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    match *op {}
}
