//! Execution plans: the order nodes run in, when each intermediate value can be freed, and the
//! plans of subgraphs (`If` branches, `Loop` and `Scan` bodies). Built once per session; the executor ([`exec`]) only follows it,
//! with the nodes a device claimed (decided when the session is built, readable as
//! [`PlannedNode`]s) on that device and every other node on the CPU kernels.

mod control;
pub(crate) mod exec;

pub use exec::run_graph;

use crate::ir::{Graph, Op};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Which backend runs a node (`"cpu"` / `"webgpu"` in JS and JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// The CPU kernels (wasm SIMD128 in the browser).
    Cpu,
    /// The GPU through WebGPU (wgpu natively).
    WebGpu,
}

impl BackendKind {
    /// `"cpu"` or `"webgpu"`: the names the JS API and the reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Cpu => "cpu",
            BackendKind::WebGpu => "webgpu",
        }
    }
}

/// So that `session.backend() == "webgpu"` reads as it did when backends were names.
impl PartialEq<&str> for BackendKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a node was placed when the session was built.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedNode {
    pub node: String,
    pub op: String,
    pub backend: BackendKind,
    /// The device node whose dispatch computes this one too (fusion), if any.
    pub fused_into: Option<String>,
    /// Why a node is on the CPU although the session has a device.
    pub reason: Option<String>,
}

/// Where each op ran in one run, by ONNX op type.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Placement {
    pub gpu: BTreeMap<String, usize>,
    pub cpu: BTreeMap<String, usize>,
    /// Nodes folded into another node's device dispatch (also counted under `gpu`).
    pub fused: usize,
    /// Host→device copies (constants count once per session) and device→host copies.
    pub uploads: usize,
    pub downloads: usize,
    /// Device nodes whose actual inputs did not fit their kernel in this run (node, why): the
    /// CPU kernels ran them.
    pub declined: Vec<(String, String)>,
}

impl Placement {
    pub(crate) fn count_device(&mut self, op: &Op) {
        *self.gpu.entry(op.name().to_string()).or_default() += 1;
    }

    pub(crate) fn count_cpu(&mut self, op: &Op) {
        *self.cpu.entry(op.name().to_string()).or_default() += 1;
    }

    /// One line for reports: `Op×count` on the GPU and on the CPU, fused nodes, copies.
    pub fn summary(&self) -> String {
        let list = |m: &BTreeMap<String, usize>| {
            m.iter()
                .map(|(k, v)| format!("{k}×{v}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        format!(
            "gpu: [{}] cpu: [{}] fused {} uploads {} downloads {}",
            list(&self.gpu),
            list(&self.cpu),
            self.fused,
            self.uploads,
            self.downloads
        )
    }
}

/// How to run one graph.
#[derive(Clone, Debug)]
pub struct Plan {
    /// For each node (in graph order): the values whose last reader it is, freed after it runs.
    pub(crate) frees: Vec<Vec<usize>>,
    /// For each node: the plans of its subgraphs ([`Op::subgraphs`]: `If`'s then and else
    /// branches, a `Loop`'s or `Scan`'s body), empty for other ops.
    pub(crate) subplans: Vec<Vec<Plan>>,
    /// For each node: its constant weights packed for the CPU kernel (MatMul, Gemm, RNNs).
    pub(crate) packed: Vec<Option<Arc<crate::backend::cpu::Prepacked>>>,
    /// For each node: the positions of its inputs that die there (their last reader, read once
    /// by it, neither a graph input, capture, constant nor output), largest first by the
    /// shapes inference knows. A kernel may write its output into such an input's buffer when
    /// the executor holds it (the value was computed in this run): elementwise ops run in
    /// place, Reshape and its kin move the buffer ([`crate::backend::cpu::run_in_place`]).
    pub(crate) donors: Vec<Vec<usize>>,
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
        let subplans = graph
            .nodes
            .iter()
            .map(|n| n.op.subgraphs().into_iter().map(Plan::new).collect())
            .collect();
        let packed = graph
            .nodes
            .iter()
            .map(|n| {
                let consts: Vec<Option<&crate::tensor::Tensor>> = n
                    .inputs
                    .iter()
                    .map(|v| v.and_then(|v| graph.constants.get(&v)).map(|t| &**t))
                    .collect();
                crate::backend::cpu::prepack(&n.op, &consts).map(Arc::new)
            })
            .collect();
        let fed: Vec<usize> = graph
            .inputs
            .iter()
            .copied()
            .chain(graph.captures.iter().map(|(_, id)| *id))
            .collect();
        let donors = graph
            .nodes
            .iter()
            .zip(&frees)
            .map(|(n, dying)| {
                (0..n.inputs.len())
                    .filter(|&k| {
                        crate::backend::cpu::takes_over(&n.op, k)
                            && n.inputs[k].is_some_and(|v| {
                                dying.contains(&v)
                                    && !fed.contains(&v)
                                    && n.inputs.iter().filter(|&&u| u == Some(v)).count() == 1
                            })
                    })
                    .collect()
            })
            .collect();
        Plan {
            frees,
            subplans,
            packed,
            donors,
        }
    }

    /// This plan with every kernel allocating its outputs (no input buffer handed over), for
    /// tests that check the in-place path against it.
    pub fn allocating(mut self) -> Plan {
        self.hand_over_nothing();
        self
    }

    fn hand_over_nothing(&mut self) {
        self.donors.iter_mut().for_each(Vec::clear);
        self.subplans
            .iter_mut()
            .flatten()
            .for_each(Plan::hand_over_nothing);
    }
}
