//! Quant family ops (placeholder until the family lands).

use crate::ir::fact::Fact;

/// Quant family op.
#[derive(Clone, Debug)]
pub enum QuantOp {}

impl QuantOp {
    pub fn name(&self) -> &'static str {
        match *self {}
    }

    pub fn infer(&self, _inputs: &[Fact]) -> Vec<Fact> {
        match *self {}
    }
}
