//! Load-time graph rewrites for the CPU kernels, run once when a session is built (after
//! folding and pruning, before planning):
//!
//! - `Conv → BatchNormalization` with constant weights and statistics: the normalisation is
//!   folded into the convolution's weights and bias (`W' = W·k`, `B' = (B − mean)·k + β` with
//!   `k = scale / √(var + ε)`, per output channel, computed in f64).
//! - `Conv → Relu | Clip | HardSwish | Sigmoid | LeakyRelu`: the activation runs in the Conv's
//!   epilogue ([`ConvAct`]) while its output is in cache, and the intermediate tensor is never
//!   allocated.
//!
//! - `MatMul → TopK` over a large constant catalogue: one screened retrieval node
//!   ([`super::retrieve`]).
//!
//! A rewrite applies only when the Conv's output has exactly one reader (that node) and is not a
//! graph output, so no other node sees the changed value. The device backends claim no Conv, so
//! the rewritten nodes always run on the CPU kernels. Subgraphs (`If` branches, `Loop`/`Scan` bodies) are rewritten the same way.

use super::ops::conv::{ConvAct, ConvOp};
use super::ops::linalg::LinalgOp;
use super::ops::math::{MathOp, Unary};
use super::{Fact, Graph, Op, ValueId};
use crate::tensor::{DType, Tensor};
use std::sync::Arc;

/// Applies every rewrite to `graph` (and its subgraphs); returns how many nodes were removed.
pub fn fuse(graph: &mut Graph) -> usize {
    let mut removed = 0;
    for node in &mut graph.nodes {
        for g in node.op.subgraphs_mut() {
            removed += fuse(g);
        }
    }
    removed += super::retrieve::fuse_matmul_topk(graph);
    loop {
        let readers = reader_counts(graph);
        let mut changed = false;
        let mut dead = vec![false; graph.nodes.len()];
        for i in 0..graph.nodes.len() {
            if dead[i] || !matches!(graph.nodes[i].op, Op::Conv(ConvOp::Conv { .. })) {
                continue;
            }
            let Some(&out) = graph.nodes[i].outputs.first() else {
                continue;
            };
            if graph.nodes[i].outputs.len() != 1
                || readers[out] != 1
                || graph.outputs.contains(&out)
            {
                continue;
            }
            let Some(j) = (i + 1..graph.nodes.len())
                .find(|&j| !dead[j] && graph.nodes[j].inputs.iter().flatten().any(|&v| v == out))
            else {
                continue;
            };
            // the reader must take the Conv's output as its first input, and only there
            if graph.nodes[j].inputs.first().copied().flatten() != Some(out) {
                continue;
            }
            let applied = match &graph.nodes[j].op {
                Op::Linalg(LinalgOp::BatchNorm { epsilon }) => {
                    fold_batch_norm(graph, i, j, *epsilon)
                }
                _ => fold_activation(graph, i, j),
            };
            if applied {
                // the Conv now writes the reader's output
                let y = graph.nodes[j].outputs[0];
                graph.nodes[i].outputs = vec![y];
                dead[j] = true;
                removed += 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
        let mut k = 0;
        graph.nodes.retain(|_| {
            k += 1;
            !dead[k - 1]
        });
    }
    if removed > 0 {
        // weights replaced by their folded copies
        let used = reader_counts(graph);
        let outputs = graph.outputs.clone();
        graph
            .constants
            .retain(|&id, _| used[id] > 0 || outputs.contains(&id));
    }
    removed
}

/// How many node inputs read each value.
fn reader_counts(graph: &Graph) -> Vec<usize> {
    let mut n = vec![0usize; graph.values.len()];
    for node in &graph.nodes {
        for &v in node.inputs.iter().flatten() {
            n[v] += 1;
        }
    }
    n
}

fn constant_f32(graph: &Graph, v: Option<ValueId>) -> Option<&[f32]> {
    let t = graph.constants.get(&v?)?;
    (t.dtype() == DType::F32).then(|| t.as_f32().ok()).flatten()
}

/// Adds a constant value for `t` named after `like`.
fn add_constant(graph: &mut Graph, like: ValueId, what: &str, t: Tensor) -> ValueId {
    let name = format!("{}/{what}", graph.values[like].name);
    let t = Arc::new(t);
    let id = graph.add_value(name, Fact::constant(t.clone()));
    graph.constants.insert(id, t);
    id
}

/// Folds BatchNormalization node `j` into Conv node `i` when the weights, bias and all four
/// statistics are constant f32 with one value per output channel and the Conv has no fused
/// activation yet.
fn fold_batch_norm(graph: &mut Graph, i: usize, j: usize, eps: f32) -> bool {
    let Op::Conv(ConvOp::Conv { act: None, .. }) = graph.nodes[i].op else {
        return false;
    };
    let bn = &graph.nodes[j];
    if bn.inputs.len() != 5 || (bn.outputs.len() != 1 && !extra_outputs_unread(graph, j)) {
        return false;
    }
    let conv = &graph.nodes[i];
    let Some(&Some(wv)) = conv.inputs.get(1) else {
        return false;
    };
    let Some(wt) = graph.constants.get(&wv).cloned() else {
        return false;
    };
    let (Some(w), Some(&m)) = (constant_f32(graph, Some(wv)), wt.shape().first()) else {
        return false;
    };
    let bias_in = conv.inputs.get(2).copied().flatten();
    let bias: Option<&[f32]> = match bias_in {
        Some(_) => match constant_f32(graph, bias_in) {
            Some(b) if b.len() == m => Some(b),
            _ => return false,
        },
        None => None,
    };
    let params: Option<Vec<&[f32]>> = (1..5)
        .map(|k| constant_f32(graph, bn.inputs[k]).filter(|p| p.len() == m))
        .collect();
    let Some(p) = params else {
        return false;
    };
    let (scale, beta, mean, var) = (p[0], p[1], p[2], p[3]);
    if m == 0 || w.len() % m != 0 {
        return false;
    }
    let per = w.len() / m;
    let k: Vec<f64> = (0..m)
        .map(|c| scale[c] as f64 / (var[c] as f64 + eps as f64).sqrt())
        .collect();
    let w2: Vec<f32> = w
        .iter()
        .enumerate()
        .map(|(e, &x)| (x as f64 * k[e / per]) as f32)
        .collect();
    let b2: Vec<f32> = (0..m)
        .map(|c| {
            let b = bias.map_or(0.0, |b| b[c] as f64);
            ((b - mean[c] as f64) * k[c] + beta[c] as f64) as f32
        })
        .collect();
    let (Ok(w2), Ok(b2)) = (
        Tensor::from_f32(wt.shape().to_vec(), w2),
        Tensor::from_f32(vec![m], b2),
    ) else {
        return false;
    };
    let w_id = add_constant(graph, wv, "bn_folded", w2);
    let b_id = add_constant(graph, wv, "bn_folded_bias", b2);
    let conv = &mut graph.nodes[i];
    conv.inputs.truncate(1);
    conv.inputs.push(Some(w_id));
    conv.inputs.push(Some(b_id));
    true
}

/// Whether every output of node `j` after the first is read by no node and is no graph output.
fn extra_outputs_unread(graph: &Graph, j: usize) -> bool {
    let extra = &graph.nodes[j].outputs[1..];
    !graph.outputs.iter().any(|o| extra.contains(o))
        && !graph
            .nodes
            .iter()
            .any(|n| n.inputs.iter().flatten().any(|v| extra.contains(v)))
}

/// Moves the activation of node `j` into Conv node `i`'s epilogue, if it is one the epilogue has.
fn fold_activation(graph: &mut Graph, i: usize, j: usize) -> bool {
    let Op::Conv(ConvOp::Conv { act: None, .. }) = graph.nodes[i].op else {
        return false;
    };
    let node = &graph.nodes[j];
    if node.outputs.len() != 1 {
        return false;
    }
    let act = match &node.op {
        Op::Math(MathOp::Unary(Unary::Relu)) => ConvAct::Relu,
        Op::Math(MathOp::Unary(Unary::HardSwish)) => ConvAct::HardSwish,
        Op::Math(MathOp::Unary(Unary::Sigmoid)) => ConvAct::Sigmoid,
        Op::Math(MathOp::Unary(Unary::LeakyRelu { alpha })) => ConvAct::LeakyRelu { alpha: *alpha },
        Op::Math(MathOp::Clip { min, max }) => {
            // bounds from attributes (opset < 11) or from constant scalar inputs 1 and 2
            let bound = |k: usize, attr: Option<f32>| -> Option<Option<f32>> {
                match node.inputs.get(k).copied().flatten() {
                    None => Some(attr),
                    Some(v) => {
                        let t = graph.constants.get(&v)?;
                        (t.numel() == 1 && t.dtype() == DType::F32)
                            .then(|| t.as_f32().ok().map(|x| x[0]))?
                            .map(Some)
                    }
                }
            };
            let (Some(lo), Some(hi)) = (bound(1, *min), bound(2, *max)) else {
                return false;
            };
            ConvAct::Clip {
                lo: lo.unwrap_or(f32::NEG_INFINITY),
                hi: hi.unwrap_or(f32::INFINITY),
            }
        }
        _ => return false,
    };
    if let Op::Conv(ConvOp::Conv { act: slot, .. }) = &mut graph.nodes[i].op {
        *slot = Some(act);
    }
    true
}
