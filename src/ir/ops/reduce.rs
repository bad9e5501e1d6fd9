//! Reduce family ops (placeholder until the family lands).

use crate::ir::fact::Fact;

/// Reduce family op.
#[derive(Clone, Debug)]
pub enum ReduceOp {}

impl ReduceOp {
    pub fn name(&self) -> &'static str {
        match *self {}
    }

    pub fn infer(&self, _inputs: &[Fact]) -> Vec<Fact> {
        match *self {}
    }
}
