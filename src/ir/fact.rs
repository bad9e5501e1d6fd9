//! What is known about a value before running: dtype, shape (with symbolic dims) and, for
//! constants, the value itself.

use crate::tensor::{DType, Tensor};
use std::sync::Arc;

/// One dimension of a shape known before running.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Dim {
    /// A fixed size.
    Known(usize),
    /// A named symbolic size such as `batch` or `seq` (same name = same size).
    Sym(String),
    /// Unknown and unnamed.
    Any,
}

/// As JS and JSON see a dim: a number, a symbolic name, or `null`.
impl serde::Serialize for Dim {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Dim::Known(n) => s.serialize_u64(*n as u64),
            Dim::Sym(name) => s.serialize_str(name),
            Dim::Any => s.serialize_none(),
        }
    }
}

impl Dim {
    pub fn known(&self) -> Option<usize> {
        match self {
            Dim::Known(n) => Some(*n),
            _ => None,
        }
    }
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Known(n) => write!(f, "{n}"),
            Dim::Sym(s) => f.write_str(s),
            Dim::Any => f.write_str("?"),
        }
    }
}

/// What kind of ONNX value a graph value is (`"tensor"`, `"sequence"`, `"optional"`,
/// `"optionalSequence"`, `"map"`, `"mapSequence"` in JS).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ValueKind {
    #[default]
    Tensor,
    /// `seq(tensor)`: `dtype` is the elements' dtype.
    Sequence,
    /// `optional(tensor)`.
    Optional,
    /// `optional(seq(tensor))`.
    OptionalSequence,
    /// `map(K, V)` (`ai.onnx.ml`): `dtype` is the values' dtype, [`Fact::key`] the keys'.
    Map,
    /// `seq(map(K, V))`, as `ZipMap` writes.
    MapSequence,
}

impl ValueKind {
    pub fn is_tensor(&self) -> bool {
        *self == ValueKind::Tensor
    }
}

/// What is known of a value: each part may be unknown.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fact {
    /// A tensor unless the model or inference says otherwise; for the others `dtype` is their
    /// tensors' dtype and `shape` is `None`.
    pub kind: ValueKind,
    pub dtype: Option<DType>,
    /// `None` when even the rank is unknown.
    pub shape: Option<Vec<Dim>>,
    /// A map's key dtype (int64 or string); `None` for the other kinds.
    pub key: Option<DType>,
    /// The value, when it is a constant (initializer, `Constant`, or folded).
    pub value: Option<Arc<Tensor>>,
}

impl Fact {
    pub fn unknown() -> Fact {
        Fact::default()
    }

    pub fn new(dtype: Option<DType>, shape: Option<Vec<Dim>>) -> Fact {
        Fact {
            kind: ValueKind::Tensor,
            dtype,
            shape,
            key: None,
            value: None,
        }
    }

    /// The fact of a known constant.
    pub fn constant(t: Arc<Tensor>) -> Fact {
        Fact {
            kind: ValueKind::Tensor,
            dtype: Some(t.dtype()),
            shape: Some(t.shape().iter().map(|&d| Dim::Known(d)).collect()),
            key: None,
            value: Some(t),
        }
    }

    /// A sequence or optional whose tensors have `dtype`.
    pub fn of_kind(kind: ValueKind, dtype: Option<DType>) -> Fact {
        Fact {
            kind,
            dtype,
            shape: None,
            key: None,
            value: None,
        }
    }

    /// A map (or sequence of maps, `kind`) of `key` to `value` dtypes.
    pub fn of_map(kind: ValueKind, key: DType, value: Option<DType>) -> Fact {
        Fact {
            key: Some(key),
            ..Fact::of_kind(kind, value)
        }
    }

    pub fn rank(&self) -> Option<usize> {
        self.shape.as_ref().map(|s| s.len())
    }

    /// The shape when every dim is known.
    pub fn concrete_shape(&self) -> Option<Vec<usize>> {
        self.shape.as_ref()?.iter().map(|d| d.known()).collect()
    }
}

/// Broadcasts two symbolic shapes by numpy rules; `None` when they cannot be reconciled here.
pub fn broadcast_dims(a: &[Dim], b: &[Dim]) -> Option<Vec<Dim>> {
    let n = a.len().max(b.len());
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let da = if i + a.len() >= n {
            &a[i + a.len() - n]
        } else {
            &Dim::Known(1)
        };
        let db = if i + b.len() >= n {
            &b[i + b.len() - n]
        } else {
            &Dim::Known(1)
        };
        out.push(match (da, db) {
            (Dim::Known(1), d) | (d, Dim::Known(1)) => d.clone(),
            (x, y) if x == y => x.clone(),
            (Dim::Known(x), Dim::Known(y)) if x != y => return None,
            (Dim::Known(x), _) | (_, Dim::Known(x)) => Dim::Known(*x),
            _ => Dim::Any,
        });
    }
    Some(out)
}
