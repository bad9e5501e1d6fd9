//! Load-time graph rewrites for the CPU kernels, run once when a session is built (after
//! folding and pruning, before planning):
//!
//! - `Conv → BatchNormalization` with constant weights and statistics, and `Conv → Mul | Add |
//!   Sub | Div` by a constant with one value per tensor or per output channel: the affine map is
//!   folded into the convolution's weights and bias (`W' = W·k`, `B' = B·k + t` per output
//!   channel, computed in f64; for BatchNormalization `k = scale / √(var + ε)`, `t = β − mean·k`).
//! - The decomposed HardSwish exporters write (`x·Clip(x + 3, 0, 6) / 6` with the operands either
//!   way round, `/ 6` or `· (1/6)`, `x·(Clip(…) / 6)`, and `x·HardSigmoid(x)` with alpha 1/6, beta
//!   0.5) becomes one `HardSwish` node.
//! - The decomposed LayerNormalization (`d = x − ReduceMean(x)`, `d / √(ReduceMean(d²) + ε)`
//!   over the same trailing axes, as Paddle2ONNX and PyTorch below opset 17 write it: `d²` as
//!   `Pow(d, 2)` (the exponent one value of any dtype) or `d·d`, `/ σ` or `· Reciprocal(σ)`,
//!   `x − mean` one node or two equal ones, axes as an attribute or a constant input, negative
//!   when the rank is unknown), then an optional `· γ` and `+ β` by constants that keep the
//!   normalised shape (when those dims are unknown, only one-value constants), becomes one
//!   `LayerNormalization` node (builds with `extra-ops` only: `hearth-cpu` keeps its size).
//! - The decomposed Gelu (`x · 0.5 · (1 + Erf(x / √2))`, the factors in any order and grouping,
//!   `/ √2` or `· (1/√2)`; the tanh form `… (1 + Tanh(√(2/π) · (x + 0.044715 · x³)))` with `x³`
//!   as `Pow(x, 3)` or `x·x·x`) becomes one `Gelu` node (builds with `extra-ops` only: it is
//!   found in transformer models, which load the full build).
//! - `Conv → Relu | Clip | HardSwish | Sigmoid | LeakyRelu`: the activation runs in the Conv's
//!   epilogue ([`ConvAct`]) while its output is in cache, and the intermediate tensor is never
//!   allocated; a `Mul` and then an `Add` (or `Sub`) by scalar constants after a fused HardSwish
//!   join it ([`ConvAct::HardSwishAffine`], computed as the separate ops compute them).
//! - `MatMul → Add` of a constant bias of N values along the last axis (as tf2onnx writes a
//!   Keras Dense layer and transformer exporters their projections): the bias becomes MatMul's
//!   third input, and the GEMM starts from it (one node and one pass over the output fewer; the
//!   sum rounds in another order than the separate Add, within a few ulps).
//! - `MatMul → TopK` over a large constant catalogue: one screened retrieval node
//!   ([`super::retrieve`], feature `retrieval`).
//!
//! A rewrite applies only when every intermediate value it removes is f32, has exactly one reader
//! (the next node of the pattern) and is no graph output, so no other node sees a changed value;
//! a value an `If`/`Loop`/`Scan` body captures counts as read there. Constants must have the
//! values and broadcast shapes the pattern needs (a broadcast that would change the output's
//! shape is refused). The device backends claim no Conv (nor the retrieval node), so the fused
//! nodes always run on the CPU kernels. Subgraphs are rewritten the same way.

use super::ops::conv::{ConvAct, ConvOp};
use super::ops::linalg::LinalgOp;
use super::ops::math::{Binary, MathOp, Unary};
#[cfg(feature = "extra-ops")]
use super::ops::reduce::{ReduceKind, ReduceOp};
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
    let removed_here = removed;
    removed += super::retrieve::fuse_matmul_topk(graph);
    loop {
        // one pass: a node touched by a rewrite is left alone until the next pass, whose
        // reader lists are fresh (a stale list only ever over-counts, so it refuses)
        let uses = Uses::new(graph);
        let n = graph.nodes.len();
        let mut done = vec![false; n];
        let mut dead = vec![false; n];
        for i in 0..n {
            if done[i] {
                continue;
            }
            let killed = match &graph.nodes[i].op {
                Op::Conv(ConvOp::Conv { .. }) => conv_epilogue(graph, &uses, &done, i),
                Op::Linalg(LinalgOp::MatMul) => matmul_bias(graph, &uses, &done, i),
                Op::Math(MathOp::Binary(Binary::Div | Binary::Mul)) => {
                    hard_swish(graph, &uses, &done, i)
                        .or_else(|| layer_norm(graph, &uses, &done, i))
                        .or_else(|| gelu(graph, &uses, &done, i))
                }
                _ => None,
            };
            if let Some(killed) = killed {
                done[i] = true;
                for k in killed {
                    done[k] = true;
                    dead[k] = true;
                    removed += 1;
                }
            }
        }
        if !dead.contains(&true) {
            break;
        }
        let mut k = 0;
        graph.nodes.retain(|_| {
            k += 1;
            !dead[k - 1]
        });
    }
    if removed > removed_here {
        // weights replaced by their folded copies
        let used = Uses::new(graph);
        graph
            .constants
            .retain(|&id, _| !used.readers[id].is_empty() || used.output[id]);
    }
    removed
}

/// A subgraph's read of a value of this graph (a capture), in [`Uses::readers`].
const CAPTURED: usize = usize::MAX;

/// Who reads and who writes each value, for one pass of the rewrites.
struct Uses {
    /// The nodes reading each value, once per input slot ([`CAPTURED`] for a subgraph's read).
    readers: Vec<Vec<usize>>,
    producer: Vec<Option<usize>>,
    output: Vec<bool>,
}

impl Uses {
    fn new(graph: &Graph) -> Uses {
        let mut readers = vec![Vec::new(); graph.values.len()];
        let mut producer = vec![None; graph.values.len()];
        for (i, node) in graph.nodes.iter().enumerate() {
            for &v in node.inputs.iter().flatten() {
                readers[v].push(i);
            }
            for &v in &node.outputs {
                producer[v] = Some(i);
            }
            for g in node.op.subgraphs() {
                for (name, _) in &g.captures {
                    if let Some(v) = graph.find_value(name) {
                        readers[v].push(CAPTURED);
                    }
                }
            }
        }
        let mut output = vec![false; graph.values.len()];
        for &o in &graph.outputs {
            output[o] = true;
        }
        Uses {
            readers,
            producer,
            output,
        }
    }

    /// The one node that reads `v` (in one input slot), when `v` is no graph output and no
    /// subgraph captures it.
    fn sole_reader(&self, v: ValueId) -> Option<usize> {
        match self.readers[v].as_slice() {
            [j] if *j != CAPTURED && !self.output[v] => Some(*j),
            _ => None,
        }
    }

    /// The node that computes `v` for node `reader` alone: `v` is its only output, f32, read by
    /// `reader` only, and neither node was touched in this pass.
    fn private_producer(
        &self,
        graph: &Graph,
        done: &[bool],
        v: ValueId,
        reader: usize,
    ) -> Option<usize> {
        let p = self.producer[v]?;
        (!done[p]
            && !done[reader]
            && graph.nodes[p].outputs.len() == 1
            && self.sole_reader(v) == Some(reader)
            && is_f32(graph, v))
        .then_some(p)
    }
}

fn is_f32(graph: &Graph, v: ValueId) -> bool {
    graph.values[v].fact.dtype == Some(DType::F32)
}

fn constant_f32(graph: &Graph, v: Option<ValueId>) -> Option<&[f32]> {
    let t = graph.constants.get(&v?)?;
    (t.dtype() == DType::F32).then(|| t.as_f32().ok()).flatten()
}

/// The rank of value `v` when its fact knows it.
fn rank(graph: &Graph, v: ValueId) -> Option<usize> {
    graph.values[v].fact.shape.as_ref().map(Vec::len)
}

/// The value of constant `v` when it is one f32 whose broadcast against a tensor of rank `r`
/// (`None`: unknown) leaves that tensor's shape as it is.
fn scalar(graph: &Graph, v: ValueId, r: Option<usize>) -> Option<f32> {
    let t = graph.constants.get(&v)?;
    let fits = match r {
        Some(r) => t.rank() <= r,
        None => t.rank() == 0,
    };
    (fits && t.numel() == 1 && t.dtype() == DType::F32).then(|| t.as_f32().ok().map(|x| x[0]))?
}

/// The values of constant `v` broadcast over the `m` channels (dim 1) of a tensor of rank `r`,
/// when that broadcast leaves the tensor's shape as it is: one value, or `m` values along the
/// channel dim with every other dim 1.
fn per_channel(graph: &Graph, v: ValueId, r: usize, m: usize) -> Option<Vec<f32>> {
    let x = constant_f32(graph, Some(v))?;
    let shape = graph.constants.get(&v)?.shape();
    if shape.len() > r {
        return None;
    }
    let lead = r - shape.len();
    let mut along = false;
    for (k, &d) in shape.iter().enumerate() {
        if d == 1 {
            continue;
        }
        if lead + k != 1 || d != m {
            return None;
        }
        along = true;
    }
    Some(if along { x.to_vec() } else { vec![x[0]; m] })
}

/// Adds a constant value for `t` named after `like`.
fn add_constant(graph: &mut Graph, like: ValueId, what: &str, t: Tensor) -> ValueId {
    let name = format!("{}/{what}", graph.values[like].name);
    let t = Arc::new(t);
    let id = graph.add_value(name, Fact::constant(t.clone()));
    graph.constants.insert(id, t);
    id
}

/// Fuses the one reader of Conv node `i`'s output into the Conv when the pattern allows;
/// returns that reader (now dead: the Conv writes its output).
fn conv_epilogue(graph: &mut Graph, uses: &Uses, done: &[bool], i: usize) -> Option<Vec<usize>> {
    let conv = &graph.nodes[i];
    let Op::Conv(ConvOp::Conv { act, .. }) = &conv.op else {
        return None;
    };
    let act = *act;
    let &[out] = conv.outputs.as_slice() else {
        return None;
    };
    let j = uses.sole_reader(out)?;
    if done[j] || !is_f32(graph, out) || graph.nodes[j].outputs.len() != 1 {
        return None;
    }
    let y = graph.nodes[j].outputs[0];
    let reader = &graph.nodes[j];
    let first = reader.inputs.first().copied().flatten() == Some(out);
    let applied = match &reader.op {
        Op::Linalg(LinalgOp::BatchNorm { epsilon }) if first && act.is_none() => {
            fold_batch_norm(graph, i, j, *epsilon)
        }
        Op::Math(MathOp::Binary(b @ (Binary::Mul | Binary::Add | Binary::Sub | Binary::Div)))
            if reader.inputs.len() == 2 && is_f32(graph, y) =>
        {
            let b = *b;
            let (Some(a0), Some(a1)) = (reader.inputs[0], reader.inputs[1]) else {
                return None;
            };
            let (c, conv_first) = if a0 == out && a1 != out {
                (a1, true)
            } else if a1 == out && a0 != out {
                (a0, false)
            } else {
                return None;
            };
            match act {
                None => fold_binary_constant(graph, i, b, c, conv_first),
                Some(a) => fold_post_affine(graph, i, a, b, c, conv_first),
            }
        }
        _ if first && act.is_none() => fold_activation(graph, i, j),
        _ => false,
    };
    if !applied {
        return None;
    }
    graph.nodes[i].outputs = vec![y];
    Some(vec![j])
}

/// Fuses `MatMul(A, B) + c` (either operand order) into MatMul node `i` as its third input
/// when B is a matrix of known N columns and `c` a constant f32 of N values along the last axis
/// (every other dim 1, no more dims than the product has). Returns the Add (now dead).
fn matmul_bias(graph: &mut Graph, uses: &Uses, done: &[bool], i: usize) -> Option<Vec<usize>> {
    let mm = &graph.nodes[i];
    let (&[Some(a), Some(b)], &[out]) = (mm.inputs.as_slice(), mm.outputs.as_slice()) else {
        return None;
    };
    let j = uses.sole_reader(out)?;
    let add = &graph.nodes[j];
    let (&[Some(l), Some(r)], &[y]) = (add.inputs.as_slice(), add.outputs.as_slice()) else {
        return None;
    };
    let c = if l == out { r } else { l };
    let t = graph.constants.get(&c)?;
    let n = match graph.values[b].fact.shape.as_deref()? {
        [_, n] => n.known()?,
        _ => return None,
    };
    // the product's rank: A's (at least 2), or 1 for a vector A; unknown: a bias of rank 1
    let out_rank = rank(graph, a).map_or(1, |r| if r == 1 { 1 } else { r.max(2) });
    let fits = t.rank() <= out_rank && t.shape().last() == Some(&n) && t.numel() == n;
    (!done[j]
        && c != out
        && fits
        && matches!(add.op, Op::Math(MathOp::Binary(Binary::Add)))
        && t.dtype() == DType::F32
        && is_f32(graph, out)
        && is_f32(graph, y))
    .then_some(())?;
    let mm = &mut graph.nodes[i];
    mm.inputs.push(Some(c));
    mm.outputs = vec![y];
    Some(vec![j])
}

/// Folds `out ∘ c` (`∘` = `b`, `out` the Conv's output, on the left when `conv_first`) into Conv
/// node `i`'s weights and bias when `c` is a finite constant with one value per tensor or per
/// output channel.
fn fold_binary_constant(
    graph: &mut Graph,
    i: usize,
    b: Binary,
    c: ValueId,
    conv_first: bool,
) -> bool {
    let Some((w, m)) = conv_weight(graph, i) else {
        return false;
    };
    let r = w.rank();
    let Some(c) = per_channel(graph, c, r, m) else {
        return false;
    };
    if c.iter().any(|x| !x.is_finite()) {
        return false;
    }
    // y·k + t for each channel's constant x
    let kt: Option<Vec<(f64, f64)>> = c
        .iter()
        .map(|&x| {
            let x = x as f64;
            match (b, conv_first) {
                (Binary::Mul, _) => Some((x, 0.0)),
                (Binary::Add, _) => Some((1.0, x)),
                (Binary::Sub, true) => Some((1.0, -x)),
                (Binary::Sub, false) => Some((-1.0, x)),
                (Binary::Div, true) if x != 0.0 => Some((1.0 / x, 0.0)),
                _ => None,
            }
        })
        .collect();
    let Some(kt) = kt else {
        return false;
    };
    fold_channel_affine(graph, i, &kt)
}

/// Joins `out ∘ c` (a scalar constant `c`) to the HardSwish fused into Conv node `i`, when the
/// epilogue computes it exactly as the separate op: a `Mul` right after the HardSwish, an `Add`
/// (or `Sub` of `c`, which is `Add` of `−c`) after it or after that `Mul`.
fn fold_post_affine(
    graph: &mut Graph,
    i: usize,
    act: ConvAct,
    b: Binary,
    c: ValueId,
    conv_first: bool,
) -> bool {
    let Some((w, _)) = conv_weight(graph, i) else {
        return false;
    };
    let Some(c) = scalar(graph, c, Some(w.rank())) else {
        return false;
    };
    let fresh = |mul| ConvAct::HardSwishAffine { mul, add: -0.0 };
    let next = match (act, b, conv_first) {
        (ConvAct::HardSwish, Binary::Mul, _) => fresh(c),
        (ConvAct::HardSwish, Binary::Add, _) => ConvAct::HardSwishAffine { mul: 1.0, add: c },
        (ConvAct::HardSwish, Binary::Sub, true) => ConvAct::HardSwishAffine { mul: 1.0, add: -c },
        (ConvAct::HardSwishAffine { mul, add }, Binary::Add, _)
            if add.to_bits() == (-0.0f32).to_bits() =>
        {
            ConvAct::HardSwishAffine { mul, add: c }
        }
        (ConvAct::HardSwishAffine { mul, add }, Binary::Sub, true)
            if add.to_bits() == (-0.0f32).to_bits() =>
        {
            ConvAct::HardSwishAffine { mul, add: -c }
        }
        _ => return false,
    };
    if let Op::Conv(ConvOp::Conv { act: slot, .. }) = &mut graph.nodes[i].op {
        *slot = Some(next);
    }
    true
}

/// Conv node `i`'s constant f32 weight and its number of output channels.
fn conv_weight(graph: &Graph, i: usize) -> Option<(Arc<Tensor>, usize)> {
    let wv = graph.nodes[i].inputs.get(1).copied().flatten()?;
    let w = graph.constants.get(&wv)?.clone();
    let m = *w.shape().first()?;
    (w.dtype() == DType::F32 && m > 0 && w.rank() >= 3).then_some((w, m))
}

/// Replaces Conv node `i`'s weight and bias by those of `y·k + t` (per output channel, in f64),
/// when the weight and any bias are constant f32 and no activation is fused yet.
fn fold_channel_affine(graph: &mut Graph, i: usize, kt: &[(f64, f64)]) -> bool {
    let Op::Conv(ConvOp::Conv { act: None, .. }) = graph.nodes[i].op else {
        return false;
    };
    let Some((wt, m)) = conv_weight(graph, i) else {
        return false;
    };
    let Some(wv) = graph.nodes[i].inputs[1] else {
        return false;
    };
    let bias_in = graph.nodes[i].inputs.get(2).copied().flatten();
    let bias: Option<&[f32]> = match bias_in {
        Some(_) => match constant_f32(graph, bias_in) {
            Some(b) if b.len() == m => Some(b),
            _ => return false,
        },
        None => None,
    };
    let Ok(w) = wt.as_f32() else {
        return false;
    };
    if kt.len() != m || w.len() % m != 0 {
        return false;
    }
    let per = w.len() / m;
    let w2: Vec<f32> = w
        .iter()
        .enumerate()
        .map(|(e, &x)| (x as f64 * kt[e / per].0) as f32)
        .collect();
    let b2: Vec<f32> = (0..m)
        .map(|c| (bias.map_or(0.0, |b| b[c] as f64) * kt[c].0 + kt[c].1) as f32)
        .collect();
    let (Ok(w2), Ok(b2)) = (
        Tensor::from_f32(wt.shape().to_vec(), w2),
        Tensor::from_f32(vec![m], b2),
    ) else {
        return false;
    };
    let w_id = add_constant(graph, wv, "folded", w2);
    let b_id = add_constant(graph, wv, "folded_bias", b2);
    let conv = &mut graph.nodes[i];
    conv.inputs.truncate(1);
    conv.inputs.push(Some(w_id));
    conv.inputs.push(Some(b_id));
    true
}

/// Folds BatchNormalization node `j` into Conv node `i` when all four statistics are constant
/// f32 with one value per output channel (and the Conv's weights and bias are constant).
fn fold_batch_norm(graph: &mut Graph, i: usize, j: usize, eps: f32) -> bool {
    let bn = &graph.nodes[j];
    if bn.inputs.len() != 5 || (bn.outputs.len() != 1 && !extra_outputs_unread(graph, j)) {
        return false;
    }
    let Some((_, m)) = conv_weight(graph, i) else {
        return false;
    };
    let params: Option<Vec<&[f32]>> = (1..5)
        .map(|k| constant_f32(graph, bn.inputs[k]).filter(|p| p.len() == m))
        .collect();
    let Some(p) = params else {
        return false;
    };
    let (scale, beta, mean, var) = (p[0], p[1], p[2], p[3]);
    let kt: Vec<(f64, f64)> = (0..m)
        .map(|c| {
            let k = scale[c] as f64 / (var[c] as f64 + eps as f64).sqrt();
            (k, beta[c] as f64 - mean[c] as f64 * k)
        })
        .collect();
    fold_channel_affine(graph, i, &kt)
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

/// Clip node `node`'s bounds: from attributes (opset < 11) or from constant scalar inputs 1
/// and 2 (infinite where absent); `None` when a bound is not constant.
fn clip_bounds(graph: &Graph, node: &super::Node) -> Option<(f32, f32)> {
    let Op::Math(MathOp::Clip { min, max }) = &node.op else {
        return None;
    };
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
    let (lo, hi) = (bound(1, *min)?, bound(2, *max)?);
    Some((lo.unwrap_or(f32::NEG_INFINITY), hi.unwrap_or(f32::INFINITY)))
}

/// Moves the activation of node `j` into Conv node `i`'s epilogue, if it is one the epilogue has.
fn fold_activation(graph: &mut Graph, i: usize, j: usize) -> bool {
    let Op::Conv(ConvOp::Conv { act: None, .. }) = graph.nodes[i].op else {
        return false;
    };
    let node = &graph.nodes[j];
    let act = match &node.op {
        Op::Math(MathOp::Unary(Unary::Relu)) => ConvAct::Relu,
        Op::Math(MathOp::Unary(Unary::HardSwish)) => ConvAct::HardSwish,
        Op::Math(MathOp::Unary(Unary::Sigmoid)) => ConvAct::Sigmoid,
        Op::Math(MathOp::Unary(Unary::LeakyRelu { alpha })) => ConvAct::LeakyRelu { alpha: *alpha },
        Op::Math(MathOp::Clip { .. }) => match clip_bounds(graph, node) {
            Some((lo, hi)) => ConvAct::Clip { lo, hi },
            None => return false,
        },
        _ => return false,
    };
    if let Op::Conv(ConvOp::Conv { act: slot, .. }) = &mut graph.nodes[i].op {
        *slot = Some(act);
    }
    true
}

/// How far a constant may be from 1/6 (or 0.5) and still mean it: relative 1e-6, which takes
/// the constant written with 7 significant digits (`0.1666667`, HardSigmoid's usual alpha) as
/// well as the f32 nearest 1/6, and nothing a model would mean as a different slope.
fn near(x: f32, want: f64) -> bool {
    ((x as f64 - want) / want).abs() <= 1e-6
}

/// The operands of node `i` when it is the binary op `b` with two inputs.
fn binary(graph: &Graph, i: usize, b: Binary) -> Option<(ValueId, ValueId)> {
    let node = &graph.nodes[i];
    match (&node.op, node.inputs.as_slice()) {
        (Op::Math(MathOp::Binary(op)), &[Some(a0), Some(a1)]) if *op == b => Some((a0, a1)),
        _ => None,
    }
}

/// Whether node `i` divides `v` by 6 or multiplies it by 1/6 (a scalar constant that keeps the
/// shape of `v`).
fn sixth_of(graph: &Graph, i: usize, v: ValueId) -> bool {
    let r = rank(graph, v);
    if let Some((a, c)) = binary(graph, i, Binary::Div) {
        return a == v && scalar(graph, c, r) == Some(6.0);
    }
    match binary(graph, i, Binary::Mul) {
        Some((a, c)) if a == v => scalar(graph, c, r).is_some_and(|s| near(s, 1.0 / 6.0)),
        Some((c, a)) if a == v => scalar(graph, c, r).is_some_and(|s| near(s, 1.0 / 6.0)),
        _ => false,
    }
}

/// When value `v` is `Clip(x + 3, 0, 6)` computed for `reader` alone: `x` and the Clip and Add
/// nodes.
fn relu6_of_plus_3(
    graph: &Graph,
    uses: &Uses,
    done: &[bool],
    v: ValueId,
    reader: usize,
) -> Option<(ValueId, [usize; 2])> {
    let pc = uses.private_producer(graph, done, v, reader)?;
    if clip_bounds(graph, &graph.nodes[pc])? != (0.0, 6.0) {
        return None;
    }
    let t = graph.nodes[pc].inputs.first().copied().flatten()?;
    let pa = uses.private_producer(graph, done, t, pc)?;
    let (a0, a1) = binary(graph, pa, Binary::Add)?;
    let x = if scalar(graph, a1, rank(graph, a0)) == Some(3.0) {
        a0
    } else if scalar(graph, a0, rank(graph, a1)) == Some(3.0) {
        a1
    } else {
        return None;
    };
    Some((x, [pc, pa]))
}

/// When value `v` is `HardSwish(x)`'s gate `Clip(x + 3, 0, 6) / 6` (or `HardSigmoid(x)` with
/// alpha 1/6, beta 0.5) computed for `reader` alone: `x` and the nodes computing the gate.
fn hard_swish_gate(
    graph: &Graph,
    uses: &Uses,
    done: &[bool],
    v: ValueId,
    reader: usize,
) -> Option<(ValueId, Vec<usize>)> {
    let pg = uses.private_producer(graph, done, v, reader)?;
    let node = &graph.nodes[pg];
    if let (Op::Math(MathOp::Unary(Unary::HardSigmoid { alpha, beta })), &[Some(x)]) =
        (&node.op, node.inputs.as_slice())
    {
        return (near(*alpha, 1.0 / 6.0) && near(*beta, 0.5)).then(|| (x, vec![pg]));
    }
    let (a0, a1) = match (
        binary(graph, pg, Binary::Div),
        binary(graph, pg, Binary::Mul),
    ) {
        (Some(p), _) | (_, Some(p)) => p,
        _ => return None,
    };
    for c in [a0, a1] {
        if sixth_of(graph, pg, c) {
            if let Some((x, [pc, pa])) = relu6_of_plus_3(graph, uses, done, c, pg) {
                return Some((x, vec![pg, pc, pa]));
            }
        }
    }
    None
}

/// Rewrites node `i` into `HardSwish(x)` when it ends a decomposed HardSwish of f32 `x` (see the
/// module comment); returns the other nodes of the pattern (now dead).
fn hard_swish(graph: &mut Graph, uses: &Uses, done: &[bool], i: usize) -> Option<Vec<usize>> {
    let &[y] = graph.nodes[i].outputs.as_slice() else {
        return None;
    };
    if !is_f32(graph, y) {
        return None;
    }
    let found = (|| {
        // x · gate, either way round
        if let Some((a0, a1)) = binary(graph, i, Binary::Mul) {
            for (x, g) in [(a0, a1), (a1, a0)] {
                if let Some((gx, nodes)) = hard_swish_gate(graph, uses, done, g, i) {
                    if gx == x {
                        return Some((x, nodes));
                    }
                }
            }
        }
        // (x · Clip(x + 3, 0, 6)) / 6, or · (1/6)
        let (a0, a1) = match (binary(graph, i, Binary::Div), binary(graph, i, Binary::Mul)) {
            (Some(p), _) | (_, Some(p)) => p,
            _ => return None,
        };
        for m in [a0, a1] {
            if !sixth_of(graph, i, m) {
                continue;
            }
            let pm = uses.private_producer(graph, done, m, i)?;
            let (b0, b1) = binary(graph, pm, Binary::Mul)?;
            for (x, c) in [(b0, b1), (b1, b0)] {
                if let Some((cx, [pc, pa])) = relu6_of_plus_3(graph, uses, done, c, pm) {
                    if cx == x {
                        return Some((x, vec![pm, pc, pa]));
                    }
                }
            }
        }
        None
    })();
    let (x, nodes) = found?;
    if !is_f32(graph, x) {
        return None;
    }
    let node = &mut graph.nodes[i];
    node.op = Op::Math(MathOp::Unary(Unary::HardSwish));
    node.inputs = vec![Some(x)];
    Some(nodes)
}

/// How many trailing axes node `i` reduces when it is a ReduceMean keeping its dims over
/// exactly the last `k` axes of an input of rank `r` (`None`: unknown, when every axis given is
/// negative), with constant axes.
#[cfg(feature = "extra-ops")]
fn trailing_mean(graph: &Graph, i: usize, r: Option<usize>) -> Option<usize> {
    let node = &graph.nodes[i];
    let Op::Reduce(ReduceOp::Reduce {
        kind: ReduceKind::Mean,
        axes,
        keepdims: true,
        noop_empty,
    }) = &node.op
    else {
        return None;
    };
    let given: &[i64] = match (axes, node.inputs.get(1).copied().flatten()) {
        (Some(a), _) => a,
        (None, Some(v)) => graph.constants.get(&v)?.as_i64().ok()?,
        // every axis
        (None, None) if !noop_empty => return r.filter(|&r| r > 0),
        (None, None) => return None,
    };
    let k = given.len() as i64;
    // each of -k..-1 once: k distinct axes in that range
    for (n, &a) in given.iter().enumerate() {
        let a = match r {
            _ if a < 0 => a,
            Some(r) => a - r as i64,
            None => return None,
        };
        let dup = given[..n]
            .iter()
            .any(|&b| b == a || r.is_some_and(|r| b - r as i64 == a));
        if a < -k || a >= 0 || dup {
            return None;
        }
    }
    (k > 0 && r.is_none_or(|r| k as usize <= r)).then_some(k as usize)
}

/// The one value of constant `v` (any dtype) when its broadcast against a tensor of rank at
/// least `r` leaves that tensor's shape as it is.
#[cfg(feature = "extra-ops")]
fn one_value(graph: &Graph, v: ValueId, r: usize) -> Option<f64> {
    let t = graph.constants.get(&v)?;
    (t.numel() == 1 && t.rank() <= r).then(|| t.to_f64_vec()[0])
}

/// Whether constant `v` is f32 and broadcasts against the normalised dims without changing
/// their shape: against `norm` when those dims are known (its rank at most theirs, each of its
/// dims 1 or theirs), else (`k` dims of unknown size) when it is one value of rank at most `k`.
#[cfg(feature = "extra-ops")]
fn fits_norm(graph: &Graph, v: ValueId, norm: Option<&[usize]>, k: usize) -> bool {
    let Some(t) = graph.constants.get(&v) else {
        return false;
    };
    let s = t.shape();
    t.dtype() == DType::F32
        && match norm {
            Some(n) => {
                s.len() <= n.len()
                    && s.iter()
                        .zip(&n[n.len() - s.len()..])
                        .all(|(&d, &n)| d == 1 || d == n)
            }
            None => t.numel() == 1 && s.len() <= k,
        }
}

/// The node computing `v` when the reads of `v` are those of the nodes `want` (one entry per
/// input slot, in any order), `v` is its only output, f32, no graph output and not captured,
/// and the node was not touched in this pass.
#[cfg(feature = "extra-ops")]
fn owned(graph: &Graph, uses: &Uses, done: &[bool], v: ValueId, want: &[usize]) -> Option<usize> {
    let p = uses.producer[v]?;
    let r = &uses.readers[v];
    let count = |s: &[usize], j: usize| s.iter().filter(|&&n| n == j).count();
    (!done[p]
        && r.len() == want.len()
        && want.iter().all(|&j| count(r, j) == count(want, j))
        && !uses.output[v]
        && graph.nodes[p].outputs.len() == 1
        && is_f32(graph, v))
    .then_some(p)
}

/// The input of node `i` when it is the unary op `u`.
#[cfg(feature = "extra-ops")]
fn unary_of(graph: &Graph, i: usize, u: Unary) -> Option<ValueId> {
    match (&graph.nodes[i].op, graph.nodes[i].inputs.as_slice()) {
        (Op::Math(MathOp::Unary(op)), &[Some(x)]) if *op == u => Some(x),
        _ => None,
    }
}

/// Rewrites the decomposed LayerNormalization whose division (`d / σ`, or `d · σ⁻¹` with
/// `σ⁻¹ = Reciprocal(σ)`) is node `i` into one node at the place of its last op (the
/// division, or the `· γ` and `+ β` after it); returns the other nodes (now dead). See the
/// module comment for the forms; `x − mean` may be one node or two equal ones.
#[cfg(feature = "extra-ops")]
fn layer_norm(graph: &mut Graph, uses: &Uses, done: &[bool], i: usize) -> Option<Vec<usize>> {
    let &[y] = graph.nodes[i].outputs.as_slice() else {
        return None;
    };
    let mut nodes = Vec::new();
    let (d2, s, sr) = match binary(graph, i, Binary::Div) {
        Some((d, s)) => (d, s, i),
        None => {
            let (a0, a1) = binary(graph, i, Binary::Mul)?;
            let (d, pr, s) = [(a0, a1), (a1, a0)].into_iter().find_map(|(d, r)| {
                let pr = uses.private_producer(graph, done, r, i)?;
                Some((d, pr, unary_of(graph, pr, Unary::Reciprocal)?))
            })?;
            nodes.push(pr);
            (d, s, pr)
        }
    };
    // σ = √(mean(d²) + ε)
    let psq = uses.private_producer(graph, done, s, sr)?;
    let v = unary_of(graph, psq, Unary::Sqrt)?;
    let pe = uses.private_producer(graph, done, v, psq)?;
    let (e0, e1) = binary(graph, pe, Binary::Add)?;
    let pv = [e0, e1]
        .into_iter()
        .find_map(|var| uses.private_producer(graph, done, var, pe))?;
    let eps_v = if graph.nodes[pv].outputs[0] == e0 {
        e1
    } else {
        e0
    };
    let p = graph.nodes[pv].inputs.first().copied().flatten()?;
    let pp = uses.private_producer(graph, done, p, pv)?;
    let (d1, slots, two) = match (
        binary(graph, pp, Binary::Pow),
        binary(graph, pp, Binary::Mul),
    ) {
        (Some((b, t)), _) => (b, vec![pp], Some(t)),
        (_, Some((b0, b1))) if b0 == b1 => (b0, vec![pp, pp], None),
        _ => return None,
    };
    // d = x − m, m = mean(x): one node read by the square and the division, or two
    let (ps1, ps2) = if d1 == d2 {
        let mut want = slots.clone();
        want.push(i);
        let ps = owned(graph, uses, done, d1, &want)?;
        (ps, ps)
    } else {
        (
            owned(graph, uses, done, d1, &slots)?,
            uses.private_producer(graph, done, d2, i)?,
        )
    };
    let (x, m) = binary(graph, ps1, Binary::Sub)?;
    if binary(graph, ps2, Binary::Sub)? != (x, m) || !is_f32(graph, x) {
        return None;
    }
    let subs = if ps1 == ps2 { &[ps1][..] } else { &[ps1, ps2] };
    let pm = owned(graph, uses, done, m, subs)?;
    if graph.nodes[pm].inputs.first().copied().flatten() != Some(x) {
        return None;
    }
    // both means over the same trailing axes -k..-1
    let r = rank(graph, x);
    let k = trailing_mean(graph, pm, r)?;
    if trailing_mean(graph, pv, r)? != k {
        return None;
    }
    let bound = r.unwrap_or(k);
    let eps = scalar(graph, eps_v, Some(bound))?;
    if two.is_some_and(|t| one_value(graph, t, bound) != Some(2.0)) {
        return None;
    }
    // the normalised dims, when known
    let norm: Option<Vec<usize>> = graph.values[x].fact.shape.as_ref().and_then(|s| {
        s[s.len() - k..]
            .iter()
            .map(|d| d.known())
            .collect::<Option<_>>()
    });
    // then · γ and + β, when they follow
    nodes.extend([ps1, pm, pp, pv, pe, psq]);
    if ps2 != ps1 {
        nodes.push(ps2);
    }
    let (mut last, mut out) = (i, y);
    let mut found = [None, None];
    for (n, op) in [Binary::Mul, Binary::Add].into_iter().enumerate() {
        let Some(j) = uses.sole_reader(out).filter(|&j| !done[j]) else {
            break;
        };
        let Some((a0, a1)) = binary(graph, j, op) else {
            break;
        };
        let c = if a0 == out { a1 } else { a0 };
        let &[o] = graph.nodes[j].outputs.as_slice() else {
            break;
        };
        if (a0 != out && a1 != out)
            || a0 == a1
            || !fits_norm(graph, c, norm.as_deref(), k)
            || !is_f32(graph, o)
        {
            break;
        }
        found[n] = Some(c);
        nodes.push(last);
        last = j;
        out = o;
    }
    let [scale, bias] = found;
    let scale = match scale {
        Some(c) => c,
        None => {
            let dims = norm.unwrap_or_else(|| vec![1]);
            let ones = Tensor::from_f32(dims.clone(), vec![1.0; dims.iter().product()]).ok()?;
            add_constant(graph, x, "layer_norm_scale", ones)
        }
    };
    let node = &mut graph.nodes[last];
    node.op = Op::Linalg(LinalgOp::LayerNorm {
        axis: -(k as i64),
        epsilon: eps,
    });
    node.inputs = vec![Some(x), Some(scale)];
    if let Some(b) = bias {
        node.inputs.push(Some(b));
    }
    Some(nodes)
}

/// How far a Gelu constant may be from its exact value and still mean it: relative 1e-5, which
/// takes the constants written with 6 significant digits (`1.41421`, `0.797885`).
#[cfg(feature = "extra-ops")]
fn gelu_near(graph: &Graph, v: ValueId, r: Option<usize>, want: f64) -> bool {
    scalar(graph, v, r).is_some_and(|c| ((c as f64 - want) / want).abs() <= 1e-5)
}

/// The factors of the product computed for `reader` by value `v` alone (`v` itself when it is
/// no such product), at most `left` deep, each with the node reading it; the Mul nodes
/// expanded go to `nodes`.
#[cfg(feature = "extra-ops")]
#[allow(clippy::too_many_arguments)]
fn factors(
    graph: &Graph,
    uses: &Uses,
    done: &[bool],
    v: ValueId,
    reader: usize,
    left: usize,
    out: &mut Vec<(ValueId, usize)>,
    nodes: &mut Vec<usize>,
) {
    let p = uses.private_producer(graph, done, v, reader);
    match p.and_then(|p| binary(graph, p, Binary::Mul).map(|ab| (p, ab))) {
        Some((p, (a, b))) if left > 0 && a != b => {
            nodes.push(p);
            factors(graph, uses, done, a, p, left - 1, out, nodes);
            factors(graph, uses, done, b, p, left - 1, out, nodes);
        }
        _ => out.push((v, reader)),
    }
}

/// The operands of node `i` when it is the commutative binary op `b`, the one for which `pick`
/// holds first.
#[cfg(feature = "extra-ops")]
fn either(
    graph: &Graph,
    i: usize,
    b: Binary,
    pick: impl Fn(ValueId) -> bool,
) -> Option<(ValueId, ValueId)> {
    let (a0, a1) = binary(graph, i, b)?;
    if pick(a0) {
        Some((a0, a1))
    } else if pick(a1) {
        Some((a1, a0))
    } else {
        None
    }
}

/// Rewrites the product ending at Mul node `i` into `Gelu(x)` when it is `x · 0.5 · (1 + e)`
/// (the factors in any order and grouping) with `e = Erf(x / √2)` (or `x · (1/√2)`), or
/// `e = Tanh(√(2/π) · (x + 0.044715 · x³))` with `x³` as `Pow(x, 3)` or `x·x·x` (the tanh
/// form); returns the other nodes (now dead).
#[cfg(feature = "extra-ops")]
fn gelu(graph: &mut Graph, uses: &Uses, done: &[bool], i: usize) -> Option<Vec<usize>> {
    let (a, b) = binary(graph, i, Binary::Mul)?;
    let &[y] = graph.nodes[i].outputs.as_slice() else {
        return None;
    };
    let (mut leaves, mut nodes) = (Vec::new(), Vec::new());
    for v in [a, b] {
        factors(graph, uses, done, v, i, 1, &mut leaves, &mut nodes);
    }
    let r = rank(graph, y);
    // 0.5, then 1 + e and x
    let k = leaves
        .iter()
        .position(|&(h, _)| gelu_near(graph, h, r, 0.5))?;
    leaves.remove(k);
    let &[l0, l1] = leaves.as_slice() else {
        return None;
    };
    let (x, pg, e) = [(l0, l1), (l1, l0)]
        .into_iter()
        .find_map(|((x, _), (g, gr))| {
            let pg = uses.private_producer(graph, done, g, gr)?;
            let (_, e) = either(graph, pg, Binary::Add, |c| scalar(graph, c, r) == Some(1.0))?;
            Some((x, pg, e))
        })?;
    let pe = uses.private_producer(graph, done, e, pg)?;
    nodes.extend([pg, pe]);
    let rx = rank(graph, x);
    let tanh = if let Some(u) = unary_of(graph, pe, Unary::Erf) {
        // x / √2 or x · (1/√2)
        let pu = uses.private_producer(graph, done, u, pe)?;
        let ok = match binary(graph, pu, Binary::Div) {
            Some((n, c)) => n == x && gelu_near(graph, c, rx, std::f64::consts::SQRT_2),
            None => either(graph, pu, Binary::Mul, |c| {
                gelu_near(graph, c, rx, std::f64::consts::FRAC_1_SQRT_2)
            })
            .is_some_and(|(_, n)| n == x),
        };
        if !ok {
            return None;
        }
        nodes.push(pu);
        false
    } else {
        // √(2/π) · (x + 0.044715 · x³)
        let w = unary_of(graph, pe, Unary::Tanh)?;
        let pw = uses.private_producer(graph, done, w, pe)?;
        let (_, z) = either(graph, pw, Binary::Mul, |c| {
            gelu_near(graph, c, rx, (2.0 / std::f64::consts::PI).sqrt())
        })?;
        let pz = uses.private_producer(graph, done, z, pw)?;
        let (_, t) = either(graph, pz, Binary::Add, |v| v == x)?;
        let pt = uses.private_producer(graph, done, t, pz)?;
        let (_, q) = either(graph, pt, Binary::Mul, |c| {
            gelu_near(graph, c, rx, 0.044715)
        })?;
        let pq = uses.private_producer(graph, done, q, pt)?;
        nodes.extend([pw, pz, pt, pq]);
        if let Some((b, c)) = binary(graph, pq, Binary::Pow) {
            if b != x || one_value(graph, c, rx.unwrap_or(0)) != Some(3.0) {
                return None;
            }
        } else {
            // x · (x · x), either way round
            let (_, s) = either(graph, pq, Binary::Mul, |v| v == x)?;
            let ps = uses.private_producer(graph, done, s, pq)?;
            if binary(graph, ps, Binary::Mul)? != (x, x) {
                return None;
            }
            nodes.push(ps);
        }
        true
    };
    if !is_f32(graph, x) || !is_f32(graph, y) {
        return None;
    }
    let node = &mut graph.nodes[i];
    node.op = Op::Math(MathOp::Unary(Unary::Gelu { tanh }));
    node.inputs = vec![Some(x)];
    Some(nodes)
}

/// Builds without `extra-ops` do not look for Gelu or LayerNormalization (transformer models
/// load the full build; on PP-OCRv4's recogniser, whose five LayerNorms run on 40 × 120 values,
/// the LayerNorm rewrite measured within noise, 0–3 %, and would cost `hearth-cpu` 2.5 KB
/// brotli).
#[cfg(not(feature = "extra-ops"))]
fn gelu(_: &mut Graph, _: &Uses, _: &[bool], _: usize) -> Option<Vec<usize>> {
    None
}

#[cfg(not(feature = "extra-ops"))]
fn layer_norm(_: &mut Graph, _: &Uses, _: &[bool], _: usize) -> Option<Vec<usize>> {
    None
}
