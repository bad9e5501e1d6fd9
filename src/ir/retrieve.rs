//! Load-time fusion of retrieval graphs: `MatMul(A, B) → TopK(k)` over the product's last axis,
//! with B a constant f32 `[K, N]` catalogue (an item table stored transposed, as exporters write
//! `user @ items.T`) and k constant, becomes one [`ReduceOp::MatMulTopK`] node. Its CPU kernel
//! screens B's columns with an int8 copy made when the session is built and scores only the
//! few that can rank in the top k, so the 1 × N score row is never written and re-read, and B's
//! 4·K·N bytes are not streamed per run (`backend::cpu::screen`).
//!
//! Applies only where the fused node's outputs equal the unfused pair's bit for bit for 1–4 rows
//! of A: B has more than 2^20 values (so the unfused MatMul runs the streamed few-rows product,
//! whose summation order the fused kernel repeats) and at least
//! [`MIN_ITEMS`](crate::backend::cpu::screen::MIN_ITEMS) columns, the MatMul's output has no
//! reader but the TopK (as its data input) and is no graph output, the TopK's axis is the last,
//! and k is an attribute or a constant input. Everything else stays as it was. Subgraphs are
//! handled by the caller ([`super::rewrite::fuse`] recurses). Cargo feature `retrieval` (in the
//! default features: `hearth-cpu-full` and `hearth`, not `hearth-cpu`).

use super::ops::linalg::LinalgOp;
use super::ops::reduce::ReduceOp;
use super::{Graph, Op};
use crate::tensor::DType;

/// Fuses every qualifying `MatMul → TopK` pair of `graph` (not its subgraphs); returns how many
/// nodes were removed.
pub fn fuse_matmul_topk(graph: &mut Graph) -> usize {
    if !cfg!(feature = "retrieval") {
        return 0;
    }
    let mut readers = vec![0usize; graph.values.len()];
    for node in &graph.nodes {
        for &v in node.inputs.iter().flatten() {
            readers[v] += 1;
        }
    }
    let mut dead = vec![false; graph.nodes.len()];
    for i in 0..graph.nodes.len() {
        if !matches!(graph.nodes[i].op, Op::Linalg(LinalgOp::MatMul)) {
            continue;
        }
        let mm = &graph.nodes[i];
        let (Some(&Some(a)), Some(&Some(bv)), [out]) =
            (mm.inputs.first(), mm.inputs.get(1), mm.outputs.as_slice())
        else {
            continue;
        };
        let out = *out;
        if mm.inputs.len() != 2 || readers[out] != 1 || graph.outputs.contains(&out) {
            continue;
        }
        let Some(b) = graph.constants.get(&bv) else {
            continue;
        };
        let (&[kd, n], DType::F32) = (b.shape(), b.dtype()) else {
            continue;
        };
        if kd * n <= crate::backend::cpu::linalg::STREAMED
            || n < crate::backend::cpu::screen::MIN_ITEMS
        {
            continue;
        }
        let Some(j) = (i + 1..graph.nodes.len())
            .find(|&j| graph.nodes[j].inputs.iter().flatten().any(|&v| v == out))
        else {
            continue;
        };
        let tk = &graph.nodes[j];
        let Op::Reduce(ReduceOp::TopK { k, axis, largest }) = tk.op else {
            continue;
        };
        if tk.inputs.first().copied().flatten() != Some(out) {
            continue;
        }
        // the last axis: -1, or rank − 1 of the product when A's rank is known
        let out_rank =
            graph.values[a]
                .fact
                .shape
                .as_ref()
                .map(|s| if s.len() == 1 { 1 } else { s.len() });
        if axis != -1 && out_rank.is_none_or(|r| axis != r as i64 - 1) {
            continue;
        }
        let k = match k {
            Some(k) => Some(k),
            None => tk
                .inputs
                .get(1)
                .copied()
                .flatten()
                .and_then(|v| graph.constants.get(&v))
                .filter(|t| t.numel() == 1 && t.dtype() == DType::I64)
                .map(|t| t.to_i64_vec()[0]),
        };
        // a k outside 1..=N keeps TopK's own error (or empty outputs) on the unfused path
        let Some(k) = k.filter(|&k| k >= 1 && k as usize <= n) else {
            continue;
        };
        // both names: a kernel error (a wrong inner dimension of A) names the MatMul too
        let mut name = graph.nodes[i].name.clone();
        name.push('+');
        name.push_str(&graph.nodes[j].name);
        let node = &mut graph.nodes[j];
        node.name = name;
        node.op = Op::Reduce(ReduceOp::MatMulTopK {
            k: k as usize,
            largest,
        });
        node.inputs = vec![Some(a), Some(bv)];
        dead[i] = true;
    }
    let removed = dead.iter().filter(|d| **d).count();
    let mut i = 0;
    graph.nodes.retain(|_| {
        i += 1;
        !dead[i - 1]
    });
    removed
}
