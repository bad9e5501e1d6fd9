//! Constant folding: a node whose outputs can be known before any run becomes constants. The
//! IR knows no kernels, so whoever builds the graph passes an [`Evaluator`] (the ONNX front end
//! passes the CPU backend's `run`).

use super::{Fact, Graph, Op, ValueId};
use crate::error::Result;
use crate::tensor::Tensor;

/// Computes one op on constant inputs (positional; `None` for an omitted optional input).
pub type Evaluator<'a> = &'a dyn Fn(&Op, &[Option<&Tensor>]) -> Result<Vec<Tensor>>;

/// Folded results larger than this many elements stay as nodes (computed per run), so that a
/// model's memory does not grow by constants the exporter chose not to store.
pub const MAX_FOLDED_ELEMENTS: usize = 1 << 22;

/// The outputs of `op` over `inputs` when they are known before running: every present input is
/// a constant of `graph` (then `eval` computes them, unless the result is larger than
/// [`MAX_FOLDED_ELEMENTS`]), or shape inference alone knows every output (`inferred`, e.g.
/// `Shape` of a fully known shape). `None`: the node stays. Control flow (`If`, `Loop`, `Scan`) never folds.
pub fn fold(
    graph: &Graph,
    op: &Op,
    inputs: &[Option<ValueId>],
    inferred: &[Fact],
    eval: Evaluator,
) -> Result<Option<Vec<Tensor>>> {
    let all_constant = inputs
        .iter()
        .flatten()
        .all(|id| graph.constants.contains_key(id));
    // control flow and the ops over sequences/optionals (non-tensor values) never fold
    if !matches!(op, Op::If(_) | Op::Loop(_) | Op::Scan(_) | Op::Seq(_)) && all_constant {
        let args: Vec<Option<&Tensor>> = inputs
            .iter()
            .map(|i| i.and_then(|id| graph.constants.get(&id).map(|t| &**t)))
            .collect();
        let outs = eval(op, &args)?;
        let small = outs.iter().map(Tensor::numel).sum::<usize>() <= MAX_FOLDED_ELEMENTS;
        return Ok(small.then_some(outs));
    }
    if !inferred.is_empty() && inferred.iter().all(|f| f.value.is_some()) {
        return Ok(Some(
            inferred
                .iter()
                .filter_map(|f| f.value.as_deref().cloned())
                .collect(),
        ));
    }
    Ok(None)
}
