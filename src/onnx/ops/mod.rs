//! ONNX op builders: one file per op family, one registry keyed by op type.
//!
//! A builder reads a node's attributes (and the opset it was written for) through [`NodeCtx`] and
//! returns the typed [`Op`](crate::ir::Op). Builders run once at load time; kernels never see ONNX.

pub mod conv;
pub mod image;
pub mod index;
pub mod linalg;
#[cfg(feature = "extra-ops")]
pub mod loss;
pub mod math;
#[cfg(feature = "ml")]
pub mod ml;
pub mod quant;
pub mod reduce;
pub mod rnn;
pub mod seq;
pub mod shape;
#[cfg(feature = "extra-ops")]
pub mod signal;
pub mod transformer;

pub use super::attr::NodeCtx;
use crate::error::Result;
use crate::ir::Op;
use std::collections::HashMap;

/// Builds an op from a node.
pub type Builder = fn(&NodeCtx) -> Result<Op>;

/// Op builders by ONNX op type: the default domain `ai.onnx`, and `ai.onnx.ml`.
#[derive(Default)]
pub struct Registry {
    builders: HashMap<&'static str, Builder>,
    ml: HashMap<&'static str, Builder>,
}

impl Registry {
    /// Every op family Hearth implements.
    pub fn with_all_ops() -> Registry {
        let mut r = Registry::default();
        math::register(&mut r);
        linalg::register(&mut r);
        conv::register(&mut r);
        shape::register(&mut r);
        reduce::register(&mut r);
        quant::register(&mut r);
        rnn::register(&mut r);
        index::register(&mut r);
        image::register(&mut r);
        #[cfg(feature = "extra-ops")]
        loss::register(&mut r);
        #[cfg(feature = "extra-ops")]
        signal::register(&mut r);
        transformer::register(&mut r);
        seq::register(&mut r);
        #[cfg(feature = "ml")]
        ml::register(&mut r);
        r
    }

    pub fn insert(&mut self, op_type: &'static str, b: Builder) {
        self.builders.insert(op_type, b);
    }

    pub fn get(&self, op_type: &str) -> Option<Builder> {
        self.builders.get(op_type).copied()
    }

    /// Registers a builder of the `ai.onnx.ml` domain.
    pub fn insert_ml(&mut self, op_type: &'static str, b: Builder) {
        self.ml.insert(op_type, b);
    }

    /// The builder of `op_type` in `domain` (`""` is `ai.onnx`), if Hearth implements it.
    pub fn get_in(&self, domain: &str, op_type: &str) -> Option<Builder> {
        match domain {
            "" => self.get(op_type),
            "ai.onnx.ml" => self.ml.get(op_type).copied(),
            _ => None,
        }
    }

    /// `ai.onnx.ml` op types with a builder, sorted.
    pub fn ml_op_types(&self) -> Vec<&'static str> {
        let mut v: Vec<_> = self.ml.keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// Op types with a builder, sorted.
    pub fn op_types(&self) -> Vec<&'static str> {
        let mut v: Vec<_> = self.builders.keys().copied().collect();
        v.sort_unstable();
        v
    }
}
