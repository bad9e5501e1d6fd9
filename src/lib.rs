//! Hearth: on-device inference for the browser.
//!
//! ```text
//! model bytes ─► onnx/ (parse) ─► ir/ (graph, facts, folding) ─► plan/ (order, lifetimes)
//!             ─► backend/cpu (kernels) ─► tensors ─► wasm/ (JS boundary)
//! ```

pub mod backend;
pub mod error;
pub mod ir;
pub mod onnx;
pub mod tensor;

pub use error::{Error, Result};
pub use tensor::{DType, Tensor, TensorData};
