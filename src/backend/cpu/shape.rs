//! CPU kernels of the shape family (placeholder until the family lands).

use crate::error::Result;
use crate::ir::ops::shape::ShapeOp;
use crate::tensor::Tensor;

pub fn run(op: &ShapeOp, _inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    match *op {}
}
