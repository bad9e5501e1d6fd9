//! Node attributes as typed values, and the context op builders read them through.

use crate::error::{Error, Result};
use crate::ir::Graph;
use crate::tensor::{DType, Tensor};
use std::sync::Arc;

/// An attribute value, converted from `AttributeProto` once at load.
#[derive(Clone, Debug)]
pub enum Attr {
    Float(f32),
    Int(i64),
    String(String),
    Tensor(Arc<Tensor>),
    Graph(Arc<Graph>),
    Floats(Vec<f32>),
    Ints(Vec<i64>),
    Strings(Vec<String>),
    Tensors(Vec<Arc<Tensor>>),
    Graphs(Vec<Arc<Graph>>),
    /// Sparse tensors and type protos: recognised but not used by any implemented op.
    Other(&'static str),
}

impl Attr {
    fn kind(&self) -> &'static str {
        match self {
            Attr::Float(_) => "float",
            Attr::Int(_) => "int",
            Attr::String(_) => "string",
            Attr::Tensor(_) => "tensor",
            Attr::Graph(_) => "graph",
            Attr::Floats(_) => "floats",
            Attr::Ints(_) => "ints",
            Attr::Strings(_) => "strings",
            Attr::Tensors(_) => "tensors",
            Attr::Graphs(_) => "graphs",
            Attr::Other(k) => k,
        }
    }
}

/// What an op builder sees of a node: its name, op type, opset, arity, attributes, and which
/// inputs are constants known at load time.
#[derive(Debug)]
pub struct NodeCtx {
    pub name: String,
    pub op_type: String,
    /// Opset version of the node's domain that the model imports.
    pub opset: i64,
    /// Number of inputs the node lists (omitted optional inputs included as empty names).
    pub num_inputs: usize,
    pub num_outputs: usize,
    /// Whether input `i` is present (not omitted with an empty name).
    pub input_present: Vec<bool>,
    /// The dtype of input `i` as the model declares or inference found it (the logical dtype:
    /// `int16`, not the `int32` it is computed in), when known.
    pub input_dtypes: Vec<Option<DType>>,
    /// The value of input `i` when it is a constant known at load (initializer or `Constant`).
    pub const_inputs: Vec<Option<Arc<Tensor>>>,
    pub attrs: Vec<(String, Attr)>,
}

impl NodeCtx {
    /// The attribute named `name`, if present.
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }

    fn wrong(&self, name: &str, want: &str, got: &Attr) -> Error {
        Error::model(format!(
            "node '{}' ({}): attribute '{name}' should be {want}, got {}",
            self.name,
            self.op_type,
            got.kind()
        ))
    }

    /// An error saying the node is not valid as written (for builders).
    pub fn invalid(&self, msg: impl std::fmt::Display) -> Error {
        Error::model(format!("node '{}' ({}): {msg}", self.name, self.op_type))
    }

    /// An error saying this use of the op is valid ONNX that Hearth does not implement.
    pub fn unsupported(&self, msg: impl std::fmt::Display) -> Error {
        Error::Unsupported(format!("node '{}' ({}): {msg}", self.name, self.op_type))
    }

    pub fn int_opt(&self, name: &str) -> Result<Option<i64>> {
        match self.attr(name) {
            None => Ok(None),
            Some(Attr::Int(v)) => Ok(Some(*v)),
            Some(a) => Err(self.wrong(name, "an int", a)),
        }
    }
    pub fn int(&self, name: &str, default: i64) -> Result<i64> {
        Ok(self.int_opt(name)?.unwrap_or(default))
    }

    pub fn float_opt(&self, name: &str) -> Result<Option<f32>> {
        match self.attr(name) {
            None => Ok(None),
            Some(Attr::Float(v)) => Ok(Some(*v)),
            // Some exporters write integral floats as ints.
            Some(Attr::Int(v)) => Ok(Some(*v as f32)),
            Some(a) => Err(self.wrong(name, "a float", a)),
        }
    }
    pub fn float(&self, name: &str, default: f32) -> Result<f32> {
        Ok(self.float_opt(name)?.unwrap_or(default))
    }

    pub fn ints_opt(&self, name: &str) -> Result<Option<Vec<i64>>> {
        match self.attr(name) {
            None => Ok(None),
            Some(Attr::Ints(v)) => Ok(Some(v.clone())),
            Some(Attr::Int(v)) => Ok(Some(vec![*v])),
            Some(a) => Err(self.wrong(name, "a list of ints", a)),
        }
    }

    pub fn floats_opt(&self, name: &str) -> Result<Option<Vec<f32>>> {
        match self.attr(name) {
            None => Ok(None),
            Some(Attr::Floats(v)) => Ok(Some(v.clone())),
            Some(Attr::Float(v)) => Ok(Some(vec![*v])),
            Some(a) => Err(self.wrong(name, "a list of floats", a)),
        }
    }

    pub fn string_opt(&self, name: &str) -> Result<Option<String>> {
        match self.attr(name) {
            None => Ok(None),
            Some(Attr::String(v)) => Ok(Some(v.clone())),
            Some(a) => Err(self.wrong(name, "a string", a)),
        }
    }
    pub fn string(&self, name: &str, default: &str) -> Result<String> {
        Ok(self
            .string_opt(name)?
            .unwrap_or_else(|| default.to_string()))
    }

    pub fn strings_opt(&self, name: &str) -> Result<Option<Vec<String>>> {
        match self.attr(name) {
            None => Ok(None),
            Some(Attr::Strings(v)) => Ok(Some(v.clone())),
            Some(a) => Err(self.wrong(name, "a list of strings", a)),
        }
    }

    pub fn tensor_opt(&self, name: &str) -> Result<Option<Arc<Tensor>>> {
        match self.attr(name) {
            None => Ok(None),
            Some(Attr::Tensor(t)) => Ok(Some(t.clone())),
            Some(a) => Err(self.wrong(name, "a tensor", a)),
        }
    }

    /// Moves the graph attribute `name` out of the context (the op owns its subgraph; `Graph`
    /// has no `Clone`: a derived one was 12 KB of wasm).
    pub fn take_graph(&mut self, name: &str) -> Result<Option<Graph>> {
        let Some(i) = self.attrs.iter().position(|(n, _)| n == name) else {
            return Ok(None);
        };
        match self.attrs.remove(i).1 {
            Attr::Graph(g) => Arc::try_unwrap(g).map(Some).map_err(|_| {
                self.invalid(format!(
                    "attribute '{name}': the graph is shared with another node"
                ))
            }),
            a => Err(self.wrong(name, "a graph", &a)),
        }
    }

    /// Whether optional input `i` is present.
    pub fn has_input(&self, i: usize) -> bool {
        self.input_present.get(i).copied().unwrap_or(false)
    }

    /// The constant value of input `i`, when known at load.
    pub fn const_input(&self, i: usize) -> Option<&Arc<Tensor>> {
        self.const_inputs.get(i).and_then(|c| c.as_ref())
    }

    /// Checks the number of present inputs is within `min..=max`.
    pub fn expect_inputs(&self, min: usize, max: usize) -> Result<()> {
        if self.num_inputs < min || self.num_inputs > max {
            return Err(self.invalid(format!(
                "expected {min}..={max} inputs, got {}",
                self.num_inputs
            )));
        }
        Ok(())
    }
}
