//! CPU kernels of the reduce family (placeholder until the family lands).

use crate::error::Result;
use crate::ir::ops::reduce::ReduceOp;
use crate::tensor::Tensor;

pub fn run(op: &ReduceOp, _inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    match *op {}
}
