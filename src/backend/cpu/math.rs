//! CPU kernels of the math family (placeholder until the family lands).

use crate::error::Result;
use crate::ir::ops::math::MathOp;
use crate::tensor::Tensor;

pub fn run(op: &MathOp, _inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    match *op {}
}
