//! Execution plans: the order nodes run in, when each intermediate value can be freed, and the
//! plans of `If` branches. Built once per session; a run only follows it.

mod exec;
#[cfg(feature = "webgpu")]
pub mod hybrid;

pub use exec::run_graph;

use crate::ir::{Graph, Op};

/// How to run one graph.
#[derive(Clone, Debug)]
pub struct Plan {
    /// For each node (in graph order): the values whose last reader it is, freed after it runs.
    pub(crate) frees: Vec<Vec<usize>>,
    /// For each `If` node: the plans of its then and else branches.
    pub(crate) branches: Vec<Option<Box<(Plan, Plan)>>>,
}

impl Plan {
    /// Plans `graph` (and, recursively, its subgraphs).
    pub fn new(graph: &Graph) -> Plan {
        let n_values = graph.values.len();
        // last node index reading each value; graph outputs are never freed
        let mut last: Vec<Option<usize>> = vec![None; n_values];
        for (i, node) in graph.nodes.iter().enumerate() {
            for &v in node.inputs.iter().flatten() {
                last[v] = Some(i);
            }
            for &v in &node.outputs {
                // an output nobody reads is freed right after its producer
                last[v] = Some(last[v].map_or(i, |l| l.max(i)));
            }
        }
        for &o in &graph.outputs {
            last[o] = None;
        }
        let mut frees = vec![Vec::new(); graph.nodes.len()];
        for (v, l) in last.into_iter().enumerate() {
            if let Some(i) = l {
                if !graph.constants.contains_key(&v) {
                    frees[i].push(v);
                }
            }
        }
        let branches = graph
            .nodes
            .iter()
            .map(|n| match &n.op {
                Op::If(op) => Some(Box::new((
                    Plan::new(&op.then_branch),
                    Plan::new(&op.else_branch),
                ))),
                _ => None,
            })
            .collect();
        Plan { frees, branches }
    }
}
