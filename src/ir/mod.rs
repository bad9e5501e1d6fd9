//! The intermediate representation: a graph of typed ops over values, with shape/dtype facts,
//! constant folding, dead-node removal and load-time fusion rewrites. Knows no backend and no file format.

pub mod fact;
pub mod fold;
pub mod graph;
pub mod ops;
pub mod rewrite;

pub use fact::{Dim, Fact, ValueKind};
pub use graph::{Graph, Node, ValueId, ValueInfo};
pub use ops::Op;
