//! Recurrent state as graph inputs and outputs, so that a sequence model can be run one step at
//! a time with its state carried by the caller ([`expose_recurrent_state`]).
//!
//! For every `LSTM`, `GRU` and `RNN` node of the main graph, its `initial_h` (and, for an LSTM,
//! `initial_c`) input becomes a graph input and its `Y_h` (`Y_c`) output a graph output. Running
//! the rewritten graph on a sequence of length 1 with the state the previous run returned then
//! gives what the original graph gives on the whole sequence, at a cost that does not grow with
//! the sequence (exactly: each recurrent node computes its step from the same state). Inputs
//! and outputs the model already declares (PyTorch's `h0`/`c0` → `hn`/`cn` when `forward`
//! takes and returns the state) are kept, under their names; an initial state the model
//! computes (zeros of the batch's shape) or leaves out is replaced by a new input
//! `<node>/initial_h`, and the nodes that only computed it are removed, as is a graph input
//! that only they read (a stacked LSTM's `h0` of `[layers, batch, hidden]`, sliced per layer:
//! each layer's node then has its own state input; `hn`, their concatenation, stays an output).
//!
//! Only forward recurrences stream: a `reverse` or `bidirectional` node needs the whole
//! sequence before its first output, and `sequence_lens` would fix the sequence's length, so
//! both are refused with [`Error::Unsupported`] naming the node.

use super::fact::{Dim, Fact};
use super::ops::rnn::{Cell, Direction};
use super::{Graph, Op, ValueId};
use crate::error::{Error, Result};
use crate::tensor::DType;

/// The state of one recurrent node, as the rewritten graph exposes it.
#[derive(Clone, Debug, PartialEq)]
pub struct RecurrentState {
    /// The node's name in the model.
    pub node: String,
    pub cell: Cell,
    pub hidden: usize,
    /// Graph inputs that take the state before the run: `initial_h`, then `initial_c` for an
    /// LSTM. Each is `[1, batch, hidden]` (`[batch, 1, hidden]` with `layout = 1`).
    pub inputs: Vec<String>,
    /// Graph outputs that give the state after the run, in the order of `inputs`.
    pub outputs: Vec<String>,
    /// Whether the state tensors are batch-first (`layout = 1`).
    pub batch_first: bool,
}

impl RecurrentState {
    /// The shape of each state tensor for `batch` sequences.
    pub fn shape(&self, batch: usize) -> Vec<usize> {
        if self.batch_first {
            vec![batch, 1, self.hidden]
        } else {
            vec![1, batch, self.hidden]
        }
    }
}

/// Rewrites `graph` so that every recurrent node's state is a graph input and a graph output
/// (see the module docs) and returns them, in node order. A graph without a recurrent node is
/// an [`Error::Unsupported`] (nothing to carry), as is a node that cannot stream.
pub fn expose_recurrent_state(graph: &mut Graph) -> Result<Vec<RecurrentState>> {
    let read_before: Vec<ValueId> = graph
        .inputs
        .iter()
        .copied()
        .filter(|&v| readers(graph, v) > 0)
        .collect();
    let mut states = Vec::new();
    for i in 0..graph.nodes.len() {
        let Op::Rnn(op) = &graph.nodes[i].op else {
            continue;
        };
        let (cell, hidden, direction, batch_first) =
            (op.cell, op.hidden, op.direction, op.batch_first);
        let name = graph.nodes[i].name.clone();
        let kind = graph.nodes[i].op.name();
        if direction != Direction::Forward {
            return Err(Error::Unsupported(format!(
                "{kind} node '{name}' runs {}: its first output needs the whole sequence, so \
                 its state cannot be carried from one answer to the next (export a forward \
                 recurrence, or declare the model's state 'rerun')",
                if direction == Direction::Reverse {
                    "in reverse"
                } else {
                    "in both directions"
                }
            )));
        }
        if graph.nodes[i].inputs.get(4).copied().flatten().is_some() {
            return Err(Error::Unsupported(format!(
                "{kind} node '{name}' takes sequence_lens: a streamed step has length 1, so \
                 the model cannot stream (export it without sequence lengths)"
            )));
        }
        let slots: &[(usize, usize, &str)] = if cell == Cell::Lstm {
            &[(5, 1, "initial_h"), (6, 2, "initial_c")]
        } else {
            &[(5, 1, "initial_h")]
        };
        let shape = if batch_first {
            vec![Dim::Any, Dim::Known(1), Dim::Known(hidden)]
        } else {
            vec![Dim::Known(1), Dim::Any, Dim::Known(hidden)]
        };
        let mut state = RecurrentState {
            node: name.clone(),
            cell,
            hidden,
            inputs: Vec::new(),
            outputs: Vec::new(),
            batch_first,
        };
        for &(input, output, what) in slots {
            let fact = Fact::new(Some(DType::F32), Some(shape.clone()));
            let current = graph.nodes[i].inputs.get(input).copied().flatten();
            let reuse = current.filter(|&v| graph.inputs.contains(&v) && readers(graph, v) == 1);
            let v = match reuse {
                Some(v) => v,
                None => {
                    let id =
                        graph.add_value(unique(graph, &format!("{name}/{what}")), fact.clone());
                    graph.inputs.push(id);
                    let node = &mut graph.nodes[i];
                    if node.inputs.len() <= input {
                        node.inputs.resize(input + 1, None);
                    }
                    node.inputs[input] = Some(id);
                    id
                }
            };
            state.inputs.push(graph.values[v].name.clone());

            while graph.nodes[i].outputs.len() <= output {
                let k = graph.nodes[i].outputs.len();
                let id = graph.add_value(format!("{name}:unused{k}"), Fact::unknown());
                graph.nodes[i].outputs.push(id);
            }
            let out = graph.nodes[i].outputs[output];
            if !graph.outputs.contains(&out) {
                // an omitted output has a generated name that may not be unique
                let out_name = what.replace("initial_", "Y_");
                if graph.values[out].name.contains(":unused") {
                    graph.values[out].name = unique(graph, &format!("{name}/{out_name}"));
                }
                graph.values[out].fact = fact;
                graph.outputs.push(out);
            }
            state.outputs.push(graph.values[out].name.clone());
        }
        states.push(state);
    }
    if states.is_empty() {
        return Err(Error::Unsupported(
            "the model has no LSTM, GRU or RNN node whose state could be carried between \
             answers (declare its state 'rerun' to run the whole history each time)"
                .into(),
        ));
    }
    graph.prune();
    // inputs only the replaced initial states read (a stacked LSTM's h0 [layers, batch, H],
    // sliced per layer) are fed per node now
    let unread: Vec<ValueId> = graph
        .inputs
        .iter()
        .copied()
        .filter(|&v| {
            read_before.contains(&v) && readers(graph, v) == 0 && !graph.outputs.contains(&v)
        })
        .collect();
    graph.inputs.retain(|v| !unread.contains(v));
    Ok(states)
}

/// How many node inputs read `v`.
fn readers(graph: &Graph, v: ValueId) -> usize {
    graph
        .nodes
        .iter()
        .map(|n| n.inputs.iter().flatten().filter(|&&x| x == v).count())
        .sum()
}

/// `base`, or `base#2`, `base#3`… when a value already has the name.
fn unique(graph: &Graph, base: &str) -> String {
    if graph.find_value(base).is_none() {
        return base.to_string();
    }
    (2..)
        .map(|k| format!("{base}#{k}"))
        .find(|n| graph.find_value(n).is_none())
        .expect("a free name")
}
