//! ONNX front end: protobuf bytes → [`ir::Graph`](crate::ir::Graph).

pub mod attr;
pub mod ops;
#[allow(clippy::all, missing_docs)]
pub mod proto;
