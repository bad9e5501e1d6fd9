//! Sequence and optional kernels, over [`Value`]s. The executor runs these (they are not tensor
//! kernels); data movement inside them reuses the shape family's kernels.

use super::shape;
use crate::error::{Error, Result};
use crate::ir::ops::seq::SeqOp;
use crate::ir::ops::shape::ShapeOp;
use crate::tensor::Tensor;
use crate::value::Value;

/// An input of a sequence op: a tensor slot or a value slot of the executor.
#[derive(Clone, Copy, Debug)]
pub enum Arg<'a> {
    T(&'a Tensor),
    V(&'a Value),
}

impl<'a> Arg<'a> {
    fn tensor(self, what: &str) -> Result<&'a Tensor> {
        match self {
            Arg::T(t) | Arg::V(Value::Tensor(t)) => Ok(t),
            Arg::V(v) => Err(Error::shape(format!(
                "{what} must be a tensor, got a {}",
                v.kind()
            ))),
        }
    }

    fn sequence(self, what: &str) -> Result<&'a [Value]> {
        match self {
            Arg::V(Value::Sequence(s)) => Ok(s),
            Arg::T(_) => Err(Error::shape(format!(
                "{what} must be a sequence, got a tensor"
            ))),
            Arg::V(v) => Err(Error::shape(format!(
                "{what} must be a sequence, got a {}",
                v.kind()
            ))),
        }
    }

    fn to_value(self) -> Value {
        match self {
            Arg::T(t) => Value::Tensor(t.clone()),
            Arg::V(v) => v.clone(),
        }
    }
}

fn arg<'a>(args: &[Option<Arg<'a>>], i: usize, what: &str) -> Result<Arg<'a>> {
    args.get(i)
        .copied()
        .flatten()
        .ok_or_else(|| Error::shape(format!("missing required input {i} ({what})")))
}

/// A position in `0..=len` (`insert`) or `0..len`, negative counting from the end.
fn position(t: &Tensor, len: usize, insert: bool) -> Result<usize> {
    if t.numel() != 1 || t.dtype().is_float() {
        return Err(Error::shape(format!(
            "position must be an integer scalar, got {} of shape {:?}",
            t.dtype(),
            t.shape()
        )));
    }
    let p = t.to_i64_vec()[0];
    let n = len as i64;
    let q = if p < 0 { p + n } else { p };
    let hi = if insert { n } else { n - 1 };
    if q < 0 || q > hi {
        return Err(Error::shape(format!(
            "position {p} is out of range for a sequence of {len}"
        )));
    }
    Ok(q as usize)
}

fn tensors<'a>(s: &'a [Value], what: &str) -> Result<Vec<&'a Tensor>> {
    s.iter()
        .map(|v| {
            v.as_tensor().ok_or_else(|| {
                Error::shape(format!(
                    "{what}: elements must be tensors, got a {}",
                    v.kind()
                ))
            })
        })
        .collect()
}

pub fn run(op: &SeqOp, args: &[Option<Arg>]) -> Result<Vec<Value>> {
    Ok(vec![match op {
        SeqOp::Empty { .. } => Value::Sequence(Vec::new()),
        SeqOp::Construct => {
            let ts: Vec<Value> = args
                .iter()
                .map(|a| a.ok_or_else(|| Error::shape("SequenceConstruct: an input is missing")))
                .map(|a| a.and_then(|a| a.tensor("SequenceConstruct input").map(|t| t.clone())))
                .map(|t| t.map(Value::Tensor))
                .collect::<Result<_>>()?;
            if let Some(Value::Tensor(first)) = ts.first() {
                if ts
                    .iter()
                    .any(|v| v.as_tensor().map(Tensor::dtype) != Some(first.dtype()))
                {
                    return Err(Error::dtype(
                        "SequenceConstruct: the tensors must have one dtype",
                    ));
                }
            }
            Value::Sequence(ts)
        }
        SeqOp::At => {
            let s = arg(args, 0, "input_sequence")?.sequence("input_sequence")?;
            let p = position(
                arg(args, 1, "position")?.tensor("position")?,
                s.len(),
                false,
            )?;
            s[p].clone()
        }
        SeqOp::Insert => {
            let s = arg(args, 0, "input_sequence")?.sequence("input_sequence")?;
            let t = arg(args, 1, "tensor")?.tensor("tensor")?;
            if let Some(first) = s.first().and_then(Value::as_tensor) {
                if first.dtype() != t.dtype() {
                    return Err(Error::dtype(format!(
                        "SequenceInsert: a {} tensor into a sequence of {}",
                        t.dtype(),
                        first.dtype()
                    )));
                }
            }
            let p = match args.get(2).copied().flatten() {
                Some(p) => position(p.tensor("position")?, s.len(), true)?,
                None => s.len(),
            };
            let mut out = s.to_vec();
            out.insert(p, Value::Tensor(t.clone()));
            Value::Sequence(out)
        }
        SeqOp::Erase => {
            let s = arg(args, 0, "input_sequence")?.sequence("input_sequence")?;
            if s.is_empty() {
                return Err(Error::shape("SequenceErase: the sequence is empty"));
            }
            let p = match args.get(1).copied().flatten() {
                Some(p) => position(p.tensor("position")?, s.len(), false)?,
                None => s.len() - 1,
            };
            let mut out = s.to_vec();
            out.remove(p);
            Value::Sequence(out)
        }
        SeqOp::Length => {
            let s = arg(args, 0, "input_sequence")?.sequence("input_sequence")?;
            Value::Tensor(Tensor::scalar_i64(s.len() as i64))
        }
        SeqOp::SplitToSequence { axis, keepdims } => {
            let x = arg(args, 0, "input")?.tensor("input")?;
            let a = super::util::norm_axis(*axis, x.rank())?;
            let dim = x.shape()[a];
            let split = args.get(1).copied().flatten();
            let (sizes, squeeze): (Vec<i64>, bool) = match split {
                None => (vec![1; dim], !keepdims),
                Some(s) => {
                    let s = s.tensor("split")?;
                    let v = s.to_i64_vec();
                    if s.rank() == 0 || s.numel() == 1 && s.rank() == 0 {
                        let c = v[0];
                        if c <= 0 {
                            return Err(Error::shape(format!(
                                "SplitToSequence: split {c} must be positive"
                            )));
                        }
                        let c = c as usize;
                        let mut sz = vec![c as i64; dim / c];
                        if dim % c != 0 {
                            sz.push((dim % c) as i64);
                        }
                        (sz, false)
                    } else {
                        (v, false)
                    }
                }
            };
            let parts = shape::run(
                &ShapeOp::Split {
                    axis: a as i64,
                    split: Some(sizes.clone()),
                    outputs: sizes.len(),
                },
                &[Some(x)],
            )?;
            let parts = if squeeze {
                parts
                    .iter()
                    .map(|p| {
                        shape::run(
                            &ShapeOp::Squeeze {
                                axes: Some(vec![a as i64]),
                            },
                            &[Some(p)],
                        )
                        .map(|mut v| v.remove(0))
                    })
                    .collect::<Result<Vec<_>>>()?
            } else {
                parts
            };
            Value::Sequence(parts.into_iter().map(Value::Tensor).collect())
        }
        SeqOp::ConcatFromSequence { axis, new_axis } => {
            let s = arg(args, 0, "input_sequence")?.sequence("input_sequence")?;
            let ts = tensors(s, "ConcatFromSequence")?;
            if ts.is_empty() {
                return Err(Error::shape("ConcatFromSequence: the sequence is empty"));
            }
            let r = ts[0].rank() as i64;
            let axis = if *new_axis && *axis < 0 {
                axis + r + 1
            } else {
                *axis
            };
            let parts: Vec<Tensor> = if *new_axis {
                ts.iter()
                    .map(|t| {
                        shape::run(
                            &ShapeOp::Unsqueeze {
                                axes: Some(vec![axis]),
                            },
                            &[Some(t)],
                        )
                        .map(|mut v| v.remove(0))
                    })
                    .collect::<Result<_>>()?
            } else {
                ts.iter().map(|t| (*t).clone()).collect()
            };
            let refs: Vec<Option<&Tensor>> = parts.iter().map(Some).collect();
            Value::Tensor(shape::run(&ShapeOp::Concat { axis }, &refs)?.remove(0))
        }
        SeqOp::Optional => match args.first().copied().flatten() {
            None => Value::Optional(None),
            Some(a) => Value::Optional(Some(Box::new(a.to_value()))),
        },
        SeqOp::OptionalHasElement => {
            let has = match args.first().copied().flatten() {
                None => false,
                Some(Arg::V(Value::Optional(o))) => o.is_some(),
                Some(_) => true,
            };
            Value::Tensor(Tensor::from_bool(vec![], vec![has])?)
        }
        SeqOp::OptionalGetElement => match arg(args, 0, "input")? {
            Arg::V(Value::Optional(Some(v))) => (**v).clone(),
            Arg::V(Value::Optional(None)) => {
                return Err(Error::shape("OptionalGetElement: the optional is empty"))
            }
            a => a.to_value(),
        },
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_ops_round_trip() {
        let x = Tensor::from_f32(vec![4, 2], (0..8).map(|i| i as f32).collect()).unwrap();
        let split = run(
            &SeqOp::SplitToSequence {
                axis: 0,
                keepdims: false,
            },
            &[Some(Arg::T(&x))],
        )
        .unwrap()
        .remove(0);
        let Value::Sequence(parts) = &split else {
            panic!("not a sequence")
        };
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[1].as_tensor().unwrap().as_f32().unwrap(), &[2.0, 3.0]);
        let back = run(
            &SeqOp::ConcatFromSequence {
                axis: 0,
                new_axis: true,
            },
            &[Some(Arg::V(&split))],
        )
        .unwrap()
        .remove(0);
        assert_eq!(back.as_tensor().unwrap(), &x);
        let at = Tensor::scalar_i64(-1);
        let last = run(&SeqOp::At, &[Some(Arg::V(&split)), Some(Arg::T(&at))]).unwrap();
        assert_eq!(last[0].as_tensor().unwrap().as_f32().unwrap(), &[6.0, 7.0]);
        let far = Tensor::scalar_i64(4);
        let e = run(&SeqOp::At, &[Some(Arg::V(&split)), Some(Arg::T(&far))]).unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
        let erased = run(&SeqOp::Erase, &[Some(Arg::V(&split))])
            .unwrap()
            .remove(0);
        let n = run(&SeqOp::Length, &[Some(Arg::V(&erased))]).unwrap();
        assert_eq!(n[0].as_tensor().unwrap().as_i64().unwrap(), &[3]);
        let empty = run(&SeqOp::Optional, &[None]).unwrap().remove(0);
        let has = run(&SeqOp::OptionalHasElement, &[Some(Arg::V(&empty))]).unwrap();
        assert_eq!(has[0].as_tensor().unwrap().as_bool().unwrap(), &[false]);
        assert!(run(&SeqOp::OptionalGetElement, &[Some(Arg::V(&empty))]).is_err());
    }
}
