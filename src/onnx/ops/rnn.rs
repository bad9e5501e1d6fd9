//! ONNX builders of the rnn family (placeholder until the family lands).

use super::Registry;

pub fn register(_r: &mut Registry) {}
