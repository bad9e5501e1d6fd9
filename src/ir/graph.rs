//! The graph: values (with facts), nodes in topological order, inputs, outputs and constants.

use super::fact::Fact;
use super::ops::Op;
use crate::tensor::Tensor;
use std::collections::HashMap;
use std::sync::Arc;

/// Index of a value in [`Graph::values`].
pub type ValueId = usize;

/// A named value of the graph and what is known about it.
#[derive(Clone, Debug)]
pub struct ValueInfo {
    pub name: String,
    pub fact: Fact,
}

/// One operation applied to values.
#[derive(Debug)]
pub struct Node {
    /// The node's name in the model (or a generated `op_type#index` when the model gives none).
    pub name: String,
    pub op: Op,
    /// Positional inputs; `None` for an omitted optional input.
    pub inputs: Vec<Option<ValueId>>,
    /// Positional outputs (an omitted optional output still gets a value that nobody reads).
    pub outputs: Vec<ValueId>,
}

/// A computation graph.
#[derive(Debug, Default)]
pub struct Graph {
    pub values: Vec<ValueInfo>,
    /// Nodes in an order where every node comes after the producers of its inputs.
    pub nodes: Vec<Node>,
    /// Values the caller supplies at run time (initializers are not listed here).
    pub inputs: Vec<ValueId>,
    pub outputs: Vec<ValueId>,
    /// Values known before running: initializers, `Constant` outputs, folded results.
    pub constants: HashMap<ValueId, Arc<Tensor>>,
    /// Values read from an enclosing graph (subgraphs of `If`), by their name there.
    pub captures: Vec<(String, ValueId)>,
}

impl Graph {
    /// Adds a value and returns its id.
    pub fn add_value(&mut self, name: impl Into<String>, fact: Fact) -> ValueId {
        self.values.push(ValueInfo {
            name: name.into(),
            fact,
        });
        self.values.len() - 1
    }

    pub fn value_name(&self, id: ValueId) -> &str {
        &self.values[id].name
    }

    /// The id of the value named `name`, if any.
    pub fn find_value(&self, name: &str) -> Option<ValueId> {
        self.values.iter().position(|v| v.name == name)
    }

    /// Removes nodes whose outputs nobody reads and constants nobody uses.
    pub fn prune(&mut self) {
        let mut live = vec![false; self.values.len()];
        for &o in &self.outputs {
            live[o] = true;
        }
        let mut keep = vec![false; self.nodes.len()];
        for (i, n) in self.nodes.iter().enumerate().rev() {
            if n.outputs.iter().any(|&o| live[o]) {
                keep[i] = true;
                for &inp in n.inputs.iter().flatten() {
                    live[inp] = true;
                }
            }
        }
        let mut i = 0;
        self.nodes.retain(|_| {
            i += 1;
            keep[i - 1]
        });
        self.constants.retain(|id, _| live[*id]);
    }
}
