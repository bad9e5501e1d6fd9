//! Conv family ops (placeholder until the family lands).

use crate::ir::fact::Fact;

/// Conv family op.
#[derive(Clone, Debug)]
pub enum ConvOp {}

impl ConvOp {
    pub fn name(&self) -> &'static str {
        match *self {}
    }

    pub fn infer(&self, _inputs: &[Fact]) -> Vec<Fact> {
        match *self {}
    }
}
