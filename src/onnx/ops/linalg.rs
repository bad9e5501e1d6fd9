//! ONNX builders of the linalg family (placeholder until the family lands).

use super::Registry;

pub fn register(_r: &mut Registry) {}
