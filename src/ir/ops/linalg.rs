//! Linalg family ops (placeholder until the family lands).

use crate::ir::fact::Fact;

/// Linalg family op.
#[derive(Clone, Debug)]
pub enum LinalgOp {}

impl LinalgOp {
    pub fn name(&self) -> &'static str {
        match *self {}
    }

    pub fn infer(&self, _inputs: &[Fact]) -> Vec<Fact> {
        match *self {}
    }
}
