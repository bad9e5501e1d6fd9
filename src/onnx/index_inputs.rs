//! The node inputs that the ONNX spec types as integer tensors because they hold shapes, axes,
//! counts or indices (`Reshape`'s `shape`, `Expand`'s `shape`, `Tile`'s `repeats`, …). Kernels
//! read them as `i64` ([`Tensor::to_i64_vec`](crate::tensor::Tensor::to_i64_vec)), which would
//! silently truncate a float tensor (`[2.9, 3.0]` → `[2, 3]`); a model that feeds one is invalid
//! and is refused at load with the node, the input and the dtype the spec asks for.
//!
//! Integer tensors of any width are accepted (their values convert exactly); floats, bools and
//! strings are not. A dtype that is not known at load is left to the kernel.

use crate::error::{Error, Result};
use crate::ir::Fact;
use crate::tensor::DType;

/// What the spec allows for an index-like input.
#[derive(Clone, Copy)]
enum Want {
    /// `tensor(int64)`
    Int64,
    /// `tensor(int32)` or `tensor(int64)` (`Tind`)
    Tind,
    /// `tensor(int32)` (the recurrent ops' `sequence_lens`)
    Int32,
}

impl Want {
    fn name(self) -> &'static str {
        match self {
            Want::Int64 => "int64",
            Want::Tind => "int32 or int64",
            Want::Int32 => "int32",
        }
    }
}

/// `(op type, first opset where the input is typed so, [(input index, input name, dtype)])`.
/// Later versions keep the typing unless a later row for the same op says otherwise.
type Row = (&'static str, i64, &'static [(usize, &'static str, Want)]);

const TABLE: &[Row] = &[
    ("Reshape", 5, &[(1, "shape", Want::Int64)]),
    ("Expand", 8, &[(1, "shape", Want::Int64)]),
    ("Tile", 6, &[(1, "repeats", Want::Int64)]),
    ("ConstantOfShape", 9, &[(0, "input", Want::Int64)]),
    ("Squeeze", 13, &[(1, "axes", Want::Int64)]),
    ("Unsqueeze", 13, &[(1, "axes", Want::Int64)]),
    (
        "Slice",
        10,
        &[
            (1, "starts", Want::Tind),
            (2, "ends", Want::Tind),
            (3, "axes", Want::Tind),
            (4, "steps", Want::Tind),
        ],
    ),
    (
        "Pad",
        11,
        &[(1, "pads", Want::Int64), (3, "axes", Want::Tind)],
    ),
    ("Split", 13, &[(1, "split", Want::Int64)]),
    ("TopK", 10, &[(1, "K", Want::Int64)]),
    ("Resize", 11, &[(3, "sizes", Want::Int64)]),
    ("ReduceSum", 13, &[(1, "axes", Want::Int64)]),
    ("ReduceMean", 18, &[(1, "axes", Want::Int64)]),
    ("ReduceMax", 18, &[(1, "axes", Want::Int64)]),
    ("ReduceMin", 18, &[(1, "axes", Want::Int64)]),
    ("ReduceProd", 18, &[(1, "axes", Want::Int64)]),
    ("ReduceL1", 18, &[(1, "axes", Want::Int64)]),
    ("ReduceL2", 18, &[(1, "axes", Want::Int64)]),
    ("ReduceLogSum", 18, &[(1, "axes", Want::Int64)]),
    ("ReduceLogSumExp", 18, &[(1, "axes", Want::Int64)]),
    ("ReduceSumSquare", 18, &[(1, "axes", Want::Int64)]),
    ("CumSum", 11, &[(1, "axis", Want::Tind)]),
    ("Trilu", 14, &[(1, "k", Want::Int64)]),
    ("Gather", 1, &[(1, "indices", Want::Tind)]),
    ("GatherElements", 11, &[(1, "indices", Want::Tind)]),
    ("GatherND", 11, &[(1, "indices", Want::Int64)]),
    ("ScatterElements", 11, &[(1, "indices", Want::Tind)]),
    ("ScatterND", 11, &[(1, "indices", Want::Int64)]),
    ("ReverseSequence", 10, &[(1, "sequence_lens", Want::Int64)]),
    (
        "NonMaxSuppression",
        10,
        &[(2, "max_output_boxes_per_class", Want::Int64)],
    ),
    ("CenterCropPad", 18, &[(1, "shape", Want::Tind)]),
    (
        "Col2Im",
        18,
        &[
            (1, "image_shape", Want::Int64),
            (2, "block_shape", Want::Int64),
        ],
    ),
    ("AffineGrid", 20, &[(1, "size", Want::Int64)]),
    ("RNN", 7, &[(4, "sequence_lens", Want::Int32)]),
    ("GRU", 7, &[(4, "sequence_lens", Want::Int32)]),
    ("LSTM", 7, &[(4, "sequence_lens", Want::Int32)]),
];

fn is_integer(d: DType) -> bool {
    matches!(d, DType::I64 | DType::I32 | DType::I8 | DType::U8)
}

/// Checks the index-like inputs of an `ai.onnx` node of type `op_type` at `opset` against the
/// spec's integer typing. `inputs[k]` is the fact of input `k` (`None` when absent).
pub fn check(op_type: &str, opset: i64, inputs: &[Option<&Fact>]) -> Result<()> {
    let Some((_, _, slots)) = TABLE
        .iter()
        .filter(|(op, since, _)| *op == op_type && opset >= *since)
        .max_by_key(|(_, since, _)| *since)
    else {
        return Ok(());
    };
    for &(k, name, want) in slots.iter() {
        let Some(Some(fact)) = inputs.get(k) else {
            continue;
        };
        let Some(d) = fact.dtype else { continue };
        if !is_integer(d) {
            return Err(Error::dtype(format!(
                "input {k} '{name}' must be a tensor of {} (it holds shapes, axes or indices), \
                 got {d:?}: cast it to int64 in the exporter or with a Cast node",
                want.name()
            )));
        }
    }
    Ok(())
}
