//! CPU kernels of the conv family (placeholder until the family lands).

use crate::error::Result;
use crate::ir::ops::conv::ConvOp;
use crate::tensor::Tensor;

pub fn run(op: &ConvOp, _inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    match *op {}
}
