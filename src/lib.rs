//! Hearth: on-device inference for the browser.
//!
//! ```text
//! model bytes ─► onnx/ (parse) ─► ir/ (graph, facts, folding) ─► plan/ (order, lifetimes)
//!             ─► backend/cpu (kernels) ─► tensors ─► wasm/ (JS boundary)
//! bundle bytes ─► bundle/ (manifest + safetensors) ─► recommend/ (scoring, top-k, fold-in)
//! ```
//!
//! Start with [`Session::from_bytes`] and [`Session::run`]; for recommendations,
//! [`Recommender::from_bytes`], a [`Profile`] and [`Recommender::recommend`].

pub mod backend;
pub mod bundle;
#[cfg(feature = "cli")]
pub mod cli;
#[cfg(feature = "test-api")]
pub mod conformance;
#[cfg(feature = "education")]
pub mod education;
pub mod error;
pub mod ir;
pub mod onnx;
pub mod plan;
pub mod recommend;
pub mod session;
#[cfg(feature = "ml")]
pub mod tabular;
pub mod tensor;
#[cfg(any(test, feature = "test-api"))]
pub mod testing;
pub mod value;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use error::{Error, Result};
pub use ir::{Dim, ValueKind};
pub use plan::{BackendKind, Placement, PlannedNode};
pub use recommend::{Event, Profile, Query, Recommendation, Recommender};
pub use session::{BackendChoice, BackendProbe, IoInfo, Session, SessionOptions};
pub use tensor::{DType, Tensor, TensorData};
pub use value::{Map, MapKeys, Value};
