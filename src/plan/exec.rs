//! The interpreter loop: runs a planned graph on the CPU backend.

use super::Plan;
use crate::backend::cpu;
use crate::error::{Error, Result};
use crate::ir::{Graph, Op};
use crate::tensor::Tensor;

/// A value slot during a run: borrowed (constants, caller inputs, captured outer values) or
/// owned (computed).
enum Val<'a> {
    Empty,
    Borrowed(&'a Tensor),
    Owned(Tensor),
}

impl Val<'_> {
    fn get(&self) -> Option<&Tensor> {
        match self {
            Val::Empty => None,
            Val::Borrowed(t) => Some(t),
            Val::Owned(t) => Some(t),
        }
    }
}

/// Runs `graph` following `plan`. `inputs` are in `graph.inputs` order and `captures` in
/// `graph.captures` order, already in compute dtypes. Returns the outputs in `graph.outputs` order.
pub fn run_graph(
    graph: &Graph,
    plan: &Plan,
    inputs: &[&Tensor],
    captures: &[&Tensor],
) -> Result<Vec<Tensor>> {
    let mut slots: Vec<Val> = (0..graph.values.len()).map(|_| Val::Empty).collect();
    for (id, t) in &graph.constants {
        slots[*id] = Val::Borrowed(t);
    }
    for (&id, &t) in graph.inputs.iter().zip(inputs) {
        slots[id] = Val::Borrowed(t);
    }
    for ((_, id), &t) in graph.captures.iter().zip(captures) {
        slots[*id] = Val::Borrowed(t);
    }

    for (i, node) in graph.nodes.iter().enumerate() {
        let outs = {
            let mut args: Vec<Option<&Tensor>> = Vec::with_capacity(node.inputs.len());
            for inp in &node.inputs {
                args.push(match inp {
                    None => None,
                    Some(id) => Some(slots[*id].get().ok_or_else(|| {
                        Error::model(format!(
                            "node '{}' reads '{}' before it is computed",
                            node.name, graph.values[*id].name
                        ))
                    })?),
                });
            }
            let result = match (&node.op, &plan.branches[i]) {
                (Op::If(op), Some(plans)) => run_if(op, plans, &args),
                (op, _) => cpu::run(op, &args),
            };
            result.map_err(|e| match e {
                e @ Error::Node { .. } => e,
                e => Error::Node {
                    node: node.name.clone(),
                    op: node.op.name().to_string(),
                    source: Box::new(e),
                },
            })?
        };
        // A kernel may leave out trailing optional outputs; reading one is reported above.
        for (&id, t) in node.outputs.iter().zip(outs) {
            slots[id] = Val::Owned(t);
        }
        for &v in &plan.frees[i] {
            slots[v] = Val::Empty;
        }
    }

    let mut out = Vec::with_capacity(graph.outputs.len());
    for (k, &id) in graph.outputs.iter().enumerate() {
        let taken = if graph.outputs[k + 1..].contains(&id) {
            slots[id].get().cloned()
        } else {
            match std::mem::replace(&mut slots[id], Val::Empty) {
                Val::Owned(t) => Some(t),
                Val::Borrowed(t) => Some(t.clone()),
                Val::Empty => None,
            }
        };
        out.push(taken.ok_or_else(|| {
            Error::model(format!(
                "output '{}' was not computed",
                graph.values[id].name
            ))
        })?);
    }
    Ok(out)
}

pub(crate) fn run_if(
    op: &crate::ir::ops::IfOp,
    plans: &(Plan, Plan),
    args: &[Option<&Tensor>],
) -> Result<Vec<Tensor>> {
    let cond = args
        .first()
        .copied()
        .flatten()
        .ok_or_else(|| Error::shape("If: missing condition"))?;
    if cond.numel() != 1 {
        return Err(Error::shape(format!(
            "If: the condition must hold one element, got shape {:?}",
            cond.shape()
        )));
    }
    let take_then = cond.to_f64_vec()[0] != 0.0;
    let (graph, plan) = if take_then {
        (&op.then_branch, &plans.0)
    } else {
        (&op.else_branch, &plans.1)
    };
    // captures of this branch, looked up by name among the node's capture inputs
    let mut caps: Vec<&Tensor> = Vec::with_capacity(graph.captures.len());
    for (name, _) in &graph.captures {
        let k = op.captures.iter().position(|c| c == name).ok_or_else(|| {
            Error::model(format!(
                "If: branch reads '{name}', which the node does not capture"
            ))
        })?;
        caps.push(
            args.get(k + 1)
                .copied()
                .flatten()
                .ok_or_else(|| Error::model(format!("If: captured value '{name}' is missing")))?,
        );
    }
    run_graph(graph, plan, &[], &caps)
}
