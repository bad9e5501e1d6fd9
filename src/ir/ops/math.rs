//! Math family ops (placeholder until the family lands).

use crate::ir::fact::Fact;

/// Math family op.
#[derive(Clone, Debug)]
pub enum MathOp {}

impl MathOp {
    pub fn name(&self) -> &'static str {
        match *self {}
    }

    pub fn infer(&self, _inputs: &[Fact]) -> Vec<Fact> {
        match *self {}
    }
}
