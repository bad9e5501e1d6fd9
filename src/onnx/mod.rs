//! ONNX front end: protobuf bytes → [`ir::Graph`](crate::ir::Graph).

pub mod attr;
pub mod ops;
pub mod parse;
#[allow(clippy::all, missing_docs)]
pub mod proto;
pub mod tensor;
