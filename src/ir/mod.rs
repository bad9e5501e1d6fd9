//! The intermediate representation: a graph of typed ops over values, with shape/dtype facts,
//! constant folding, dead-node removal, load-time fusion rewrites and the exposure of recurrent state for streaming. Knows no backend and no file format.

pub mod fact;
pub mod fold;
pub mod graph;
pub mod ops;
pub mod retrieve;
pub mod rewrite;
pub mod stream;

pub use fact::{Dim, Fact, ValueKind};
pub use graph::{Graph, Node, ValueId, ValueInfo};
pub use ops::Op;
