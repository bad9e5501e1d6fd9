//! Control flow over subgraphs: `Loop` and `Scan` (`If` is [`IfOp`](super::IfOp)). Their bodies
//! are graphs the executor runs once per iteration (`plan::control`); values the body reads
//! from enclosing graphs are the node's inputs after its own (in the order of `captures`).

use super::super::graph::Graph;

/// ONNX `Loop` (every opset): inputs `M` (trip count, optional), `cond` (optional), then the
/// loop-carried initial values; the body maps `(iteration, cond, carried…)` to
/// `(cond, carried…, scan outputs…)`. The node yields the final carried values, then each scan
/// output stacked along a new first axis.
#[derive(Debug)]
pub struct LoopOp {
    pub body: Graph,
    /// The node's own inputs (`M`, `cond`, carried values), before the captures.
    pub n_inputs: usize,
    /// Outer-scope value names the body reads, in node-input order after the node's own inputs.
    pub captures: Vec<String>,
}

/// ONNX `Scan`. Opset 8 has a leading `sequence_lens` input and a batch axis 0 on every input
/// and output (`batched`); opset 9+ has neither, and per-input/output axes and directions.
#[derive(Debug)]
pub struct ScanOp {
    pub body: Graph,
    /// Number of scan inputs (`M`); the other `N` inputs are state variables.
    pub num_scan_inputs: usize,
    /// Axis each scan input is iterated over (opset 9+; 0 by default; negative from the end).
    pub input_axes: Vec<i64>,
    /// Per scan input: 0 forward, 1 reverse.
    pub input_directions: Vec<i64>,
    /// Axis of each scan output along which its slices are stacked (opset 9+).
    pub output_axes: Vec<i64>,
    /// Per scan output: 0 appends each iteration's slice, 1 prepends it.
    pub output_directions: Vec<i64>,
    /// Opset 8: input 0 is `sequence_lens` and axis 0 of every input/output is a batch axis.
    pub batched: bool,
    /// The node's own inputs, before the captures.
    pub n_inputs: usize,
    /// Outer-scope value names the body reads, in node-input order after the node's own inputs.
    pub captures: Vec<String>,
}
