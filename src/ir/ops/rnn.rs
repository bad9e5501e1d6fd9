//! Rnn family ops (placeholder until the family lands).

use crate::ir::fact::Fact;

/// Rnn family op.
#[derive(Clone, Debug)]
pub enum RnnOp {}

impl RnnOp {
    pub fn name(&self) -> &'static str {
        match *self {}
    }

    pub fn infer(&self, _inputs: &[Fact]) -> Vec<Fact> {
        match *self {}
    }
}
