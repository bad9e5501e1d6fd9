//! The GPU's ops: one module per op family, each with the [`OpEntry`] that says which nodes it
//! takes (`claim`, when a session is built) and the shader it records (`launch`, every run), its
//! typed shader parameters (enums shared with the WGSL through generated constants) and its
//! parity test against the CPU kernel. Adding a GPU op is one module plus one line in [`OPS`].

use super::dispatch::{GpuTensor, Shader};
use super::graph::GpuGraph;
use crate::ir::{Graph, Node, ValueId};
use crate::plan::exec::{Ctx, Launch};
use crate::tensor::DType;

pub mod binary;
pub mod gemm;
pub mod layer_norm;
pub mod softmax;
pub mod transpose;
pub mod unary;
pub mod view;

/// A node the GPU took: records its dispatch for the actual inputs, or declines with a reason
/// (inputs that are not f32, a layout or size the kernel does not handle; the CPU kernels then
/// run the node).
pub(crate) trait GpuOp: std::fmt::Debug + Send + Sync {
    fn launch(&self, ctx: &mut Ctx<'_, '_, GpuGraph>, i: usize)
        -> crate::Result<Launch<GpuTensor>>;
    /// The nodes after this one that its dispatch computes too when the inputs allow (fusion).
    fn fuses(&self) -> &[usize] {
        &[]
    }
}

/// One op family: its shader (none for views) and which nodes it takes.
pub(crate) struct OpEntry {
    pub shader: Option<&'static Shader>,
    pub claim: fn(&Claim) -> Option<Box<dyn GpuOp>>,
}

/// Every GPU op family, tried in order for each node.
pub(crate) const OPS: &[OpEntry] = &[
    gemm::ENTRY,
    unary::ENTRY,
    binary::ENTRY,
    softmax::ENTRY,
    layer_norm::ENTRY,
    transpose::ENTRY,
    view::ENTRY,
];

/// What a family's `claim` sees: the graph, the node, and who reads each value.
pub(crate) struct Claim<'a> {
    pub graph: &'a Graph,
    pub i: usize,
    readers: &'a [Vec<usize>],
}

impl<'a> Claim<'a> {
    pub(crate) fn new(graph: &'a Graph, i: usize, readers: &'a [Vec<usize>]) -> Claim<'a> {
        Claim { graph, i, readers }
    }

    pub fn node(&self) -> &'a Node {
        &self.graph.nodes[self.i]
    }

    /// The reader of intermediate `v` when exactly one node reads it (and it is not an output).
    pub fn only_reader(&self, v: ValueId) -> Option<usize> {
        if self.graph.outputs.contains(&v) {
            return None;
        }
        match self.readers[v].as_slice() {
            [r] => Some(*r),
            _ => None,
        }
    }

    /// Input `k` as a scalar f32 constant: `Some(None)` when the input is absent, `None` when it
    /// is present but not a scalar f32 constant.
    pub fn const_scalar(&self, k: usize) -> Option<Option<f32>> {
        match self.node().inputs.get(k).copied().flatten() {
            None => Some(None),
            Some(v) => {
                let t = self.graph.constants.get(&v)?;
                if t.numel() != 1 || t.dtype() != DType::F32 {
                    return None;
                }
                Some(Some(t.as_f32().ok()?[0]))
            }
        }
    }
}

/// Who reads each value of `graph` (node indices, in order).
pub(crate) fn readers(graph: &Graph) -> Vec<Vec<usize>> {
    let mut r = vec![Vec::new(); graph.values.len()];
    for (i, n) in graph.nodes.iter().enumerate() {
        for &v in n.inputs.iter().flatten() {
            r[v].push(i);
        }
    }
    r
}

/// Every shader the engine's ops use (compiled when a session is built).
pub(crate) fn shaders() -> Vec<&'static Shader> {
    OPS.iter().filter_map(|e| e.shader).collect()
}

#[cfg(test)]
mod tests;
