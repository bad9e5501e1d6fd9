//! CPU kernels of the linalg family (placeholder until the family lands).

use crate::error::Result;
use crate::ir::ops::linalg::LinalgOp;
use crate::tensor::Tensor;

pub fn run(op: &LinalgOp, _inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    match *op {}
}
