//! CPU kernels of the rnn family (placeholder until the family lands).

use crate::error::Result;
use crate::ir::ops::rnn::RnnOp;
use crate::tensor::Tensor;

pub fn run(op: &RnnOp, _inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    match *op {}
}
