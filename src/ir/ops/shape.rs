//! Shape family ops (placeholder until the family lands).

use crate::ir::fact::Fact;

/// Shape family op.
#[derive(Clone, Debug)]
pub enum ShapeOp {}

impl ShapeOp {
    pub fn name(&self) -> &'static str {
        match *self {}
    }

    pub fn infer(&self, _inputs: &[Fact]) -> Vec<Fact> {
        match *self {}
    }
}
