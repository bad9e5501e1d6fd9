//! Values that are not plain tensors: ONNX sequences, maps and optionals.
//!
//! ONNX types a graph value as a tensor, a sequence (of tensors, or of maps as `ZipMap` writes), a
//! map (int64 or string keys to a tensor of values), or an optional of one of these. [`Value`] is
//! that type, for the executor's slots and the session's inputs and outputs;
//! [`Session::run`](crate::Session::run) is the tensor-only form.

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// One ONNX value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Tensor(Tensor),
    /// `seq(T)`: every element has the same type.
    Sequence(Vec<Value>),
    /// `map(K, V)`: `keys[i]` maps to element `i` of `values` (a 1-D tensor).
    Map(Map),
    /// `optional(T)`: `None` is the empty optional.
    Optional(Option<Box<Value>>),
}

/// The keys of an ONNX map (the types ONNX allows that Hearth's converters meet).
#[derive(Clone, Debug, PartialEq)]
pub enum MapKeys {
    I64(Vec<i64>),
    Str(Vec<String>),
}

impl MapKeys {
    pub fn len(&self) -> usize {
        match self {
            MapKeys::I64(k) => k.len(),
            MapKeys::Str(k) => k.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An ONNX map: keys and a 1-D tensor of as many values.
#[derive(Clone, Debug, PartialEq)]
pub struct Map {
    keys: MapKeys,
    values: Tensor,
}

impl Map {
    /// A map of `keys` to the elements of `values`, which must be 1-D with one value per key.
    pub fn new(keys: MapKeys, values: Tensor) -> Result<Map> {
        if values.shape().len() != 1 || values.shape()[0] != keys.len() {
            return Err(Error::Argument(format!(
                "a map's values must be 1-D with one value per key: {} keys, values of shape {:?}",
                keys.len(),
                values.shape()
            )));
        }
        Ok(Map { keys, values })
    }

    pub fn keys(&self) -> &MapKeys {
        &self.keys
    }

    pub fn values(&self) -> &Tensor {
        &self.values
    }
}

impl Value {
    /// The tensor this value holds, or [`Error::Argument`] naming `what` and the kind it holds.
    pub fn into_tensor(self, what: &str) -> Result<Tensor> {
        match self {
            Value::Tensor(t) => Ok(t),
            other => Err(Error::Argument(format!(
                "{what} is a {}, not a tensor",
                other.kind()
            ))),
        }
    }

    pub fn as_tensor(&self) -> Option<&Tensor> {
        match self {
            Value::Tensor(t) => Some(t),
            _ => None,
        }
    }

    /// `tensor`, `sequence`, `map` or `optional`.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Tensor(_) => "tensor",
            Value::Sequence(_) => "sequence",
            Value::Map(_) => "map",
            Value::Optional(_) => "optional",
        }
    }
}

impl From<Tensor> for Value {
    fn from(t: Tensor) -> Value {
        Value::Tensor(t)
    }
}
