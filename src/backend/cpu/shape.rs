//! CPU kernels of the data-movement family. Every kernel is written once for all dtypes
//! (`map_moved!`: once per element width); strided copies go through [`strided_copy`].

use super::util::{broadcast_shape, input, norm_axis, opt_input};
use crate::error::{Error, Result};
use crate::ir::ops::shape::{PadMode, ShapeOp};
use crate::map_moved;
use crate::tensor::{numel_checked, strides, Tensor, TensorData};

pub fn run(op: &ShapeOp, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    let x = || input(inputs, 0, "input");
    Ok(match op {
        ShapeOp::Identity => vec![x()?.clone()],
        ShapeOp::Dropout => {
            let x = x()?;
            let training = opt_input(inputs, 2).is_some_and(|t| t.to_i64_vec().first() == Some(&1));
            let ratio = opt_input(inputs, 1)
                .map_or(0.5, |t| t.to_f64_vec().first().copied().unwrap_or(0.5));
            if training && ratio != 0.0 {
                return Err(Error::unsupported(
                    "Dropout in training mode is random: Hearth runs inference only",
                ));
            }
            vec![
                x.clone(),
                Tensor::from_bool(x.shape().to_vec(), vec![true; x.numel()])?,
            ]
        }
        ShapeOp::Transpose { perm } => {
            let x = x()?;
            let perm: Vec<usize> = match perm {
                Some(p) => p.clone(),
                None => (0..x.rank()).rev().collect(),
            };
            vec![transpose(x, &perm)?]
        }
        ShapeOp::Flatten { .. }
        | ShapeOp::Reshape { .. }
        | ShapeOp::Squeeze { .. }
        | ShapeOp::Unsqueeze { .. } => {
            let x = x()?;
            vec![x.clone().reshaped(new_dims(op, x.shape(), inputs)?)?]
        }
        ShapeOp::Concat { axis } => {
            let ts: Vec<&Tensor> = inputs.iter().flatten().copied().collect();
            vec![concat(&ts, *axis)?]
        }
        ShapeOp::Split {
            axis,
            split,
            outputs,
        } => {
            let sizes = split
                .clone()
                .or_else(|| opt_input(inputs, 1).map(|t| t.to_i64_vec()));
            split_op(x()?, *axis, sizes, *outputs)?
        }
        ShapeOp::Slice { starts, ends, axes } => {
            let x = x()?;
            let (starts, ends, axes, steps) = match (starts, ends) {
                (Some(s), Some(e)) => (s.clone(), e.clone(), axes.clone(), None),
                _ => (
                    input(inputs, 1, "starts")?.to_i64_vec(),
                    input(inputs, 2, "ends")?.to_i64_vec(),
                    opt_input(inputs, 3).map(|t| t.to_i64_vec()),
                    opt_input(inputs, 4).map(|t| t.to_i64_vec()),
                ),
            };
            vec![slice(x, &starts, &ends, axes, steps)?]
        }
        ShapeOp::Gather { axis } => vec![gather(x()?, input(inputs, 1, "indices")?, *axis)?],
        ShapeOp::GatherElements { axis } => {
            vec![gather_elements(x()?, input(inputs, 1, "indices")?, *axis)?]
        }
        ShapeOp::Shape { start, end } => {
            let s = x()?.shape();
            let r = s.len() as i64;
            let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
            let (a, b) = (clamp(*start), clamp(end.unwrap_or(r)));
            let dims: Vec<i64> = if a < b {
                s[a..b].iter().map(|&d| d as i64).collect()
            } else {
                vec![]
            };
            vec![Tensor::from_i64(vec![dims.len()], dims)?]
        }
        ShapeOp::Size => vec![Tensor::scalar_i64(x()?.numel() as i64)],
        ShapeOp::Constant { value } => vec![(**value).clone()],
        ShapeOp::ConstantOfShape { value } => {
            let dims = to_dims(&x()?.to_i64_vec(), "ConstantOfShape shape")?;
            let n = numel_checked(&dims)?;
            let data = match value {
                None => TensorData::F32(vec![0.0; n]),
                Some(v) => map_moved!(v.data(), d => vec![d[0].clone(); n]),
            };
            vec![Tensor::new(dims, data)?]
        }
        ShapeOp::Expand => {
            let x = x()?;
            let want = to_dims(&input(inputs, 1, "shape")?.to_i64_vec(), "Expand shape")?;
            let out = broadcast_shape(x.shape(), &want)?;
            vec![expand(x, &out)?]
        }
        ShapeOp::Range => vec![range(
            x()?,
            input(inputs, 1, "limit")?,
            input(inputs, 2, "delta")?,
        )?],
        ShapeOp::Tile => vec![tile(x()?, &input(inputs, 1, "repeats")?.to_i64_vec())?],
        ShapeOp::Pad { mode, pads, value } => {
            let x = x()?;
            let pads = match pads {
                Some(p) => p.clone(),
                None => input(inputs, 1, "pads")?.to_i64_vec(),
            };
            let cval = match (pads.len(), opt_input(inputs, 2)) {
                (_, Some(t)) if t.numel() > 0 => t.to_f64_vec()[0],
                _ => *value as f64,
            };
            let axes = opt_input(inputs, 3).map(|t| t.to_i64_vec());
            vec![pad(x, *mode, &pads, cval, axes)?]
        }
        ShapeOp::OneHot { axis } => vec![one_hot(
            x()?,
            input(inputs, 1, "depth")?,
            input(inputs, 2, "values")?,
            *axis,
        )?],
        ShapeOp::Trilu { upper } => {
            let k =
                opt_input(inputs, 1).map_or(0, |t| t.to_i64_vec().first().copied().unwrap_or(0));
            vec![trilu(x()?, *upper, k)?]
        }
        ShapeOp::DepthToSpace { block, crd } => vec![depth_to_space(x()?, *block, *crd)?],
        ShapeOp::SpaceToDepth { block, crd } => vec![space_to_depth(x()?, *block, *crd)?],
    })
}

/// Flatten, Reshape, Squeeze and Unsqueeze with their input `x` handed over (it dies at this
/// node): the buffer moves to the output instead of being copied. Gives `x` back for other ops.
pub fn run_in_place(
    op: &ShapeOp,
    inputs: &[Option<&Tensor>],
    k: usize,
    x: Tensor,
) -> std::result::Result<Result<Tensor>, Tensor> {
    match op {
        ShapeOp::Flatten { .. }
        | ShapeOp::Reshape { .. }
        | ShapeOp::Squeeze { .. }
        | ShapeOp::Unsqueeze { .. }
            if k == 0 =>
        {
            Ok(new_dims(op, x.shape(), inputs).and_then(|d| x.reshaped(d)))
        }
        _ => Err(x),
    }
}

/// The output shape of Flatten, Reshape, Squeeze or Unsqueeze of an input of `shape` (its data
/// unchanged); `inputs` give the shape or axes inputs.
fn new_dims(op: &ShapeOp, shape: &[usize], inputs: &[Option<&Tensor>]) -> Result<Vec<usize>> {
    match op {
        ShapeOp::Flatten { axis } => {
            let r = shape.len() as i64;
            let a = if *axis < 0 { axis + r } else { *axis };
            if a < 0 || a > r {
                return Err(Error::shape(format!(
                    "Flatten axis {axis} out of range for rank {r}"
                )));
            }
            let outer: usize = shape[..a as usize].iter().product();
            let n: usize = shape.iter().product();
            Ok(vec![outer, n / outer.max(1)])
        }
        ShapeOp::Reshape {
            shape: s,
            allowzero,
        } => {
            let spec = match s {
                Some(s) => s.clone(),
                None => input(inputs, 1, "shape")?.to_i64_vec(),
            };
            reshape_dims(shape, &spec, *allowzero)
        }
        ShapeOp::Squeeze { axes } => {
            let axes = axes
                .clone()
                .or_else(|| opt_input(inputs, 1).map(|t| t.to_i64_vec()));
            squeeze_dims(shape, axes)
        }
        ShapeOp::Unsqueeze { axes } => {
            let axes = match axes {
                Some(a) => a.clone(),
                None => input(inputs, 1, "axes")?.to_i64_vec(),
            };
            unsqueeze_dims(shape, &axes)
        }
        _ => Ok(shape.to_vec()),
    }
}

fn to_dims(v: &[i64], what: &str) -> Result<Vec<usize>> {
    let dims = v
        .iter()
        .map(|&d| {
            usize::try_from(d)
                .map_err(|_| Error::shape(format!("{what}: negative dim {d} in {v:?}")))
        })
        .collect::<Result<Vec<_>>>()?;
    numel_checked(&dims)?;
    Ok(dims)
}

/// Resolves a Reshape spec (0 = copy unless `allowzero`, one -1 inferred).
pub fn reshape_dims(input: &[usize], spec: &[i64], allowzero: bool) -> Result<Vec<usize>> {
    let total: usize = input.iter().product();
    let mut out = Vec::with_capacity(spec.len());
    let mut infer = None;
    for (i, &d) in spec.iter().enumerate() {
        out.push(match d {
            -1 if infer.is_none() => {
                infer = Some(i);
                1
            }
            0 if !allowzero => *input.get(i).ok_or_else(|| {
                Error::shape(format!(
                    "Reshape: 0 at position {i} copies a dim, but the input {input:?} has rank {}",
                    input.len()
                ))
            })?,
            d if d >= 0 => d as usize,
            _ => return Err(Error::shape(format!("Reshape: invalid shape {spec:?}"))),
        });
    }
    let known: usize = out.iter().product();
    if let Some(i) = infer {
        if known == 0 || total % known != 0 {
            return Err(Error::shape(format!(
                "Reshape: cannot reshape {input:?} ({total} elements) to {spec:?}"
            )));
        }
        out[i] = total / known;
    }
    if numel_checked(&out)? != total {
        return Err(Error::shape(format!(
            "Reshape: cannot reshape {input:?} ({total} elements) to {spec:?}"
        )));
    }
    Ok(out)
}

/// Copies `out_shape` elements reading `src[offset + Σ idx·strides]` (strides may be negative
/// or zero): transpose, slice and expand in one walk. The innermost axis is a tight loop.
fn strided_copy<T: Clone>(src: &[T], out_shape: &[usize], st: &[isize], offset: isize) -> Vec<T> {
    let n: usize = out_shape.iter().product();
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return out;
    }
    let rank = out_shape.len();
    if rank == 0 {
        out.push(src[offset as usize].clone());
        return out;
    }
    let (inner, inner_st) = (out_shape[rank - 1], st[rank - 1]);
    let mut idx = vec![0usize; rank - 1];
    let mut base = offset;
    loop {
        if inner_st == 1 {
            out.extend_from_slice(&src[base as usize..base as usize + inner]);
        } else {
            let mut p = base;
            for _ in 0..inner {
                out.push(src[p as usize].clone());
                p += inner_st;
            }
        }
        let mut d = rank - 1;
        loop {
            if d == 0 {
                return out;
            }
            d -= 1;
            idx[d] += 1;
            base += st[d];
            if idx[d] < out_shape[d] {
                break;
            }
            base -= st[d] * out_shape[d] as isize;
            idx[d] = 0;
        }
    }
}

fn transpose(x: &Tensor, perm: &[usize]) -> Result<Tensor> {
    if perm.len() != x.rank() {
        return Err(Error::shape(format!(
            "Transpose: perm {perm:?} does not fit rank {}",
            x.rank()
        )));
    }
    let s = strides(x.shape());
    let out_shape: Vec<usize> = perm.iter().map(|&p| x.shape()[p]).collect();
    let st: Vec<isize> = perm.iter().map(|&p| s[p] as isize).collect();
    if perm.iter().enumerate().all(|(i, &p)| i == p) {
        return Ok(x.clone());
    }
    let data = if x.rank() == 2 {
        map_moved!(x.data(), v => transpose2d(v, x.shape()[0], x.shape()[1]))
    } else {
        map_moved!(x.data(), v => strided_copy(v, &out_shape, &st, 0))
    };
    Tensor::new(out_shape, data)
}

/// Cache-blocked 2-D transpose.
fn transpose2d<T: Clone>(v: &[T], rows: usize, cols: usize) -> Vec<T> {
    const B: usize = 32;
    let mut out = Vec::with_capacity(rows * cols);
    if v.is_empty() {
        return out;
    }
    out.resize(rows * cols, v[0].clone());
    for r0 in (0..rows).step_by(B) {
        for c0 in (0..cols).step_by(B) {
            for r in r0..(r0 + B).min(rows) {
                for c in c0..(c0 + B).min(cols) {
                    out[c * rows + r] = v[r * cols + c].clone();
                }
            }
        }
    }
    out
}

/// The shape `Squeeze` makes of `shape` (`None`: drop every unit axis).
pub fn squeeze_dims(shape: &[usize], axes: Option<Vec<i64>>) -> Result<Vec<usize>> {
    let drop: Vec<usize> = match axes {
        None => (0..shape.len()).filter(|&i| shape[i] == 1).collect(),
        Some(a) => {
            let mut v = Vec::new();
            for ax in a {
                let i = norm_axis(ax, shape.len())?;
                if shape[i] != 1 {
                    return Err(Error::shape(format!(
                        "Squeeze: axis {ax} has size {} in {shape:?}, not 1",
                        shape[i]
                    )));
                }
                v.push(i);
            }
            v
        }
    };
    Ok((0..shape.len())
        .filter(|i| !drop.contains(i))
        .map(|i| shape[i])
        .collect())
}

/// The shape `Unsqueeze` makes of `shape` with unit axes inserted at `axes`.
pub fn unsqueeze_dims(shape: &[usize], axes: &[i64]) -> Result<Vec<usize>> {
    let r = shape.len() + axes.len();
    let mut ins = Vec::with_capacity(axes.len());
    for &a in axes {
        let i = norm_axis(a, r)?;
        if ins.contains(&i) {
            return Err(Error::shape(format!(
                "Unsqueeze: axis {a} repeated in {axes:?}"
            )));
        }
        ins.push(i);
    }
    let mut src = shape.iter();
    Ok((0..r)
        .map(|i| {
            if ins.contains(&i) {
                1
            } else {
                *src.next().unwrap_or(&1)
            }
        })
        .collect())
}

fn concat(ts: &[&Tensor], axis: i64) -> Result<Tensor> {
    let first = *ts
        .first()
        .ok_or_else(|| Error::shape("Concat needs at least one input"))?;
    let rank = first.rank();
    let a = norm_axis(axis, rank)?;
    let mut out_shape = first.shape().to_vec();
    out_shape[a] = 0;
    for t in ts {
        if t.rank() != rank
            || t.dtype() != first.dtype()
            || t.shape()
                .iter()
                .enumerate()
                .any(|(i, &d)| i != a && d != first.shape()[i])
        {
            return Err(Error::shape(format!(
                "Concat on axis {axis}: input {} {:?} does not fit {} {:?}",
                t.dtype(),
                t.shape(),
                first.dtype(),
                first.shape()
            )));
        }
        out_shape[a] += t.shape()[a];
    }
    numel_checked(&out_shape)?;
    let outer: usize = out_shape[..a].iter().product();
    let inner: usize = out_shape[a + 1..].iter().product();
    let total = outer * inner * out_shape[a];
    macro_rules! cat {
        ($var:ident) => {{
            let parts: Vec<&[_]> = ts
                .iter()
                .map(|t| match t.data() {
                    TensorData::$var(v) => v.as_slice(),
                    _ => &[], // dtypes were checked equal above
                })
                .collect();
            let mut out = Vec::with_capacity(total);
            for o in 0..outer {
                for (t, p) in ts.iter().zip(&parts) {
                    let chunk = t.shape()[a] * inner;
                    out.extend_from_slice(&p[o * chunk..(o + 1) * chunk]);
                }
            }
            TensorData::$var(out)
        }};
    }
    let data = match first.data() {
        TensorData::F32(_) => cat!(F32),
        TensorData::F16(_) => cat!(F16),
        TensorData::F64(_) => cat!(F64),
        TensorData::I64(_) => cat!(I64),
        TensorData::I32(_) => cat!(I32),
        TensorData::I8(_) => cat!(I8),
        TensorData::U8(_) => cat!(U8),
        TensorData::Bool(_) => cat!(Bool),
        TensorData::Str(_) => cat!(Str),
        d => {
            return Err(Error::dtype(format!(
                "Concat: {} data must be in its compute dtype {} here",
                d.dtype(),
                d.dtype().compute()
            )))
        }
    };
    Tensor::new(out_shape, data)
}

fn split_op(x: &Tensor, axis: i64, sizes: Option<Vec<i64>>, n: usize) -> Result<Vec<Tensor>> {
    let a = norm_axis(axis, x.rank())?;
    let dim = x.shape()[a];
    let sizes: Vec<usize> = match sizes {
        Some(s) => {
            let s = to_dims(&s, "Split sizes")?;
            if s.iter().sum::<usize>() != dim || s.len() != n {
                return Err(Error::shape(format!(
                    "Split: sizes {s:?} do not split dim {dim} into {n} outputs"
                )));
            }
            s
        }
        None => {
            if n == 0 {
                return Err(Error::shape("Split: no outputs"));
            }
            let chunk = dim.div_ceil(n);
            (0..n)
                .map(|i| chunk.min(dim.saturating_sub(i * chunk)))
                .collect()
        }
    };
    let mut start = 0;
    let mut outs = Vec::with_capacity(n);
    for s in sizes {
        let mut starts = vec![0i64; x.rank()];
        let mut ends: Vec<i64> = x.shape().iter().map(|&d| d as i64).collect();
        starts[a] = start as i64;
        ends[a] = (start + s) as i64;
        outs.push(slice(x, &starts, &ends, None, None)?);
        start += s;
    }
    Ok(outs)
}

fn slice(
    x: &Tensor,
    starts: &[i64],
    ends: &[i64],
    axes: Option<Vec<i64>>,
    steps: Option<Vec<i64>>,
) -> Result<Tensor> {
    let r = x.rank();
    let axes: Vec<usize> = match axes {
        Some(a) => a
            .iter()
            .map(|&ax| norm_axis(ax, r))
            .collect::<Result<_>>()?,
        // without axes, starts[i] is for axis i: there may be no more of them than axes
        None if starts.len() > r => {
            return Err(Error::shape(format!(
                "Slice: {} starts for an input of rank {r} (shape {:?}) without axes",
                starts.len(),
                x.shape()
            )))
        }
        None => (0..starts.len()).collect(),
    };
    let steps = steps.unwrap_or_else(|| vec![1; starts.len()]);
    if ends.len() != starts.len() || axes.len() != starts.len() || steps.len() != starts.len() {
        return Err(Error::shape(format!(
            "Slice: starts {starts:?}, ends {ends:?}, axes {axes:?} and steps {steps:?} must have the same length"
        )));
    }
    let st = strides(x.shape());
    let mut out_shape = x.shape().to_vec();
    let mut ost: Vec<isize> = st.iter().map(|&s| s as isize).collect();
    let mut offset: isize = 0;
    for i in 0..starts.len() {
        let (a, step) = (axes[i], steps[i]);
        if step == 0 {
            return Err(Error::shape("Slice: step 0"));
        }
        let d = x.shape()[a] as i64;
        let norm = |v: i64| if v < 0 { v + d } else { v };
        let (s, e) = if step > 0 {
            (norm(starts[i]).clamp(0, d), norm(ends[i]).clamp(0, d))
        } else {
            (
                norm(starts[i]).clamp(-1, d - 1),
                norm(ends[i]).clamp(-1, d - 1),
            )
        };
        let len = if step > 0 {
            (e - s + step - 1).max(0) / step
        } else {
            (s - e + (-step) - 1).max(0) / (-step)
        };
        out_shape[a] = len as usize;
        if len > 0 {
            offset += s as isize * st[a] as isize;
        }
        ost[a] = st[a] as isize * step as isize;
    }
    let data = map_moved!(x.data(), v => strided_copy(v, &out_shape, &ost, offset));
    Tensor::new(out_shape, data)
}

fn indices_of(t: &Tensor, dim: usize, what: &str) -> Result<Vec<usize>> {
    let d = dim as i64;
    t.to_i64_vec()
        .into_iter()
        .map(|i| {
            let j = if i < 0 { i + d } else { i };
            if j < 0 || j >= d {
                Err(Error::shape(format!(
                    "{what}: index {i} is out of range [-{d}, {d})"
                )))
            } else {
                Ok(j as usize)
            }
        })
        .collect()
}

fn gather(x: &Tensor, idx: &Tensor, axis: i64) -> Result<Tensor> {
    let a = norm_axis(axis, x.rank())?;
    let dim = x.shape()[a];
    let ids = indices_of(idx, dim, "Gather")?;
    let outer: usize = x.shape()[..a].iter().product();
    let inner: usize = x.shape()[a + 1..].iter().product();
    let mut out_shape = x.shape()[..a].to_vec();
    out_shape.extend_from_slice(idx.shape());
    out_shape.extend_from_slice(&x.shape()[a + 1..]);
    numel_checked(&out_shape)?;
    let data = map_moved!(x.data(), v => {
        let mut out = Vec::with_capacity(outer * ids.len() * inner);
        for o in 0..outer {
            for &i in &ids {
                let s = (o * dim + i) * inner;
                out.extend_from_slice(&v[s..s + inner]);
            }
        }
        out
    });
    Tensor::new(out_shape, data)
}

fn gather_elements(x: &Tensor, idx: &Tensor, axis: i64) -> Result<Tensor> {
    let r = x.rank();
    let a = norm_axis(axis, r)?;
    if idx.rank() != r {
        return Err(Error::shape(format!(
            "GatherElements: indices rank {} differs from data rank {r}",
            idx.rank()
        )));
    }
    let dim = x.shape()[a];
    let ids = indices_of(idx, dim, "GatherElements")?;
    let xs = strides(x.shape());
    let is = strides(idx.shape());
    for (i, (&di, &dx)) in idx.shape().iter().zip(x.shape()).enumerate() {
        if i != a && di > dx {
            return Err(Error::shape(format!(
                "GatherElements: indices shape {:?} exceeds data {:?}",
                idx.shape(),
                x.shape()
            )));
        }
    }
    let srcs: Vec<usize> = (0..ids.len())
        .map(|flat| {
            let mut off = 0;
            for d in 0..r {
                let c = (flat / is[d]) % idx.shape()[d];
                off += if d == a { ids[flat] } else { c } * xs[d];
            }
            off
        })
        .collect();
    let data = map_moved!(x.data(), v => srcs.iter().map(|&s| v[s].clone()).collect());
    Tensor::new(idx.shape().to_vec(), data)
}

fn expand(x: &Tensor, out: &[usize]) -> Result<Tensor> {
    let st = super::util::broadcast_strides(x.shape(), out);
    let st: Vec<isize> = st.into_iter().map(|s| s as isize).collect();
    let data = map_moved!(x.data(), v => strided_copy(v, out, &st, 0));
    Tensor::new(out.to_vec(), data)
}

fn range(start: &Tensor, limit: &Tensor, delta: &Tensor) -> Result<Tensor> {
    let scalar = |t: &Tensor, w: &str| {
        if t.numel() == 1 {
            Ok(t.to_f64_vec()[0])
        } else {
            Err(Error::shape(format!("Range: {w} must be a scalar")))
        }
    };
    let (s, l, d) = (
        scalar(start, "start")?,
        scalar(limit, "limit")?,
        scalar(delta, "delta")?,
    );
    if d == 0.0 {
        return Err(Error::shape("Range: delta is 0"));
    }
    let n = ((l - s) / d).ceil().max(0.0);
    if n > crate::tensor::MAX_ELEMENTS as f64 {
        return Err(Error::Limit(format!("Range of {n} elements")));
    }
    let n = n as usize;
    Ok(match start.data() {
        TensorData::F32(_) => {
            let (s, d) = (start.as_f32()?[0], delta.to_f64_vec()[0] as f32);
            Tensor::from_f32(vec![n], (0..n).map(|i| s + i as f32 * d).collect())?
        }
        TensorData::I64(_) => {
            let (s, d) = (start.to_i64_vec()[0], delta.to_i64_vec()[0]);
            Tensor::from_i64(vec![n], (0..n as i64).map(|i| s + i * d).collect())?
        }
        TensorData::I32(_) => {
            let (s, d) = (start.to_i64_vec()[0] as i32, delta.to_i64_vec()[0] as i32);
            Tensor::new(
                vec![n],
                TensorData::I32((0..n as i32).map(|i| s + i * d).collect()),
            )?
        }
        d => return Err(Error::dtype(format!("Range does not take {}", d.dtype()))),
    })
}

/// Where each output element of `out_shape` comes from in a tensor of `in_shape`: `map(d, c)`
/// gives the input coordinate on axis `d` for output coordinate `c`, or `None` for a fill value
/// (then [`FILL`]). Not generic over the dtype, so Tile and Pad share one copy of the index
/// arithmetic and each dtype only gathers ([`gather_fill`]).
fn remap_indices(
    in_shape: &[usize],
    out_shape: &[usize],
    map: &dyn Fn(usize, usize) -> Option<usize>,
) -> Result<Vec<usize>> {
    let n = numel_checked(out_shape)?;
    let ist = strides(in_shape);
    let r = out_shape.len();
    // per axis, the input offset of each output coordinate (FILL where it is padding)
    let axis: Vec<Vec<usize>> = (0..r)
        .map(|d| {
            (0..out_shape[d])
                .map(|c| map(d, c).map_or(FILL, |sc| sc * ist[d]))
                .collect()
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    let mut idx = vec![0usize; r];
    for _ in 0..n {
        let mut src = 0usize;
        for d in 0..r {
            let o = axis[d][idx[d]];
            if o == FILL {
                src = FILL;
                break;
            }
            src += o;
        }
        out.push(src);
        let mut d = r;
        while d > 0 {
            d -= 1;
            idx[d] += 1;
            if idx[d] < out_shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    Ok(out)
}

/// An index of [`remap_indices`] that reads the fill value.
const FILL: usize = usize::MAX;

/// `v` gathered at `idx`, with `fill` where the index is [`FILL`].
fn gather_fill<T: Clone>(v: &[T], idx: &[usize], fill: Option<&T>) -> Vec<T> {
    idx.iter()
        .map(|&s| match (s, fill) {
            (FILL, Some(f)) => f.clone(),
            (FILL, None) => v[0].clone(),
            _ => v[s].clone(),
        })
        .collect()
}

fn tile(x: &Tensor, reps: &[i64]) -> Result<Tensor> {
    if reps.len() != x.rank() {
        return Err(Error::shape(format!(
            "Tile: repeats {reps:?} do not fit rank {}",
            x.rank()
        )));
    }
    let reps = to_dims(reps, "Tile repeats")?;
    let out: Vec<usize> = x.shape().iter().zip(&reps).map(|(d, r)| d * r).collect();
    numel_checked(&out)?;
    let shape = x.shape().to_vec();
    let idx = remap_indices(&shape, &out, &|d, c| Some(c % shape[d]))?;
    let data = map_moved!(x.data(), v => gather_fill(v, &idx, None));
    Tensor::new(out, data)
}

fn pad(
    x: &Tensor,
    mode: PadMode,
    pads: &[i64],
    cval: f64,
    axes: Option<Vec<i64>>,
) -> Result<Tensor> {
    let r = x.rank();
    let axes: Vec<usize> = match axes {
        Some(a) => a
            .iter()
            .map(|&ax| norm_axis(ax, r))
            .collect::<Result<_>>()?,
        None => (0..r).collect(),
    };
    if pads.len() != 2 * axes.len() {
        return Err(Error::shape(format!(
            "Pad: {} pads for {} axes",
            pads.len(),
            axes.len()
        )));
    }
    let mut before = vec![0i64; r];
    let mut after = vec![0i64; r];
    for (k, &a) in axes.iter().enumerate() {
        before[a] = pads[k];
        after[a] = pads[k + axes.len()];
    }
    let shape = x.shape().to_vec();
    let mut out = Vec::with_capacity(r);
    for d in 0..r {
        let n = shape[d] as i64 + before[d] + after[d];
        if n < 0 {
            return Err(Error::shape(format!(
                "Pad: pads {pads:?} remove more than axis {d} holds"
            )));
        }
        if n > 0 && shape[d] == 0 && mode != PadMode::Constant {
            return Err(Error::shape(format!(
                "Pad: mode {mode:?} cannot pad an empty axis"
            )));
        }
        out.push(n as usize);
    }
    let src = |d: usize, c: usize| -> Option<usize> {
        let n = shape[d] as i64;
        let i = c as i64 - before[d];
        if (0..n).contains(&i) {
            return Some(i as usize);
        }
        match mode {
            PadMode::Constant => None,
            PadMode::Edge => Some(i.clamp(0, n - 1) as usize),
            PadMode::Wrap => Some(i.rem_euclid(n) as usize),
            PadMode::Reflect => {
                if n == 1 {
                    return Some(0);
                }
                let p = 2 * (n - 1);
                let m = i.rem_euclid(p);
                Some(if m < n { m } else { p - m } as usize)
            }
        }
    };
    let idx = remap_indices(&shape, &out, &src)?;
    let data = match x.data() {
        TensorData::F32(v) => TensorData::F32(gather_fill(v, &idx, Some(&(cval as f32)))),
        TensorData::I64(v) => TensorData::I64(gather_fill(v, &idx, Some(&(cval as i64)))),
        TensorData::I32(v) => TensorData::I32(gather_fill(v, &idx, Some(&(cval as i32)))),
        TensorData::I8(v) => TensorData::I8(gather_fill(v, &idx, Some(&(cval as i8)))),
        TensorData::U8(v) => TensorData::U8(gather_fill(v, &idx, Some(&(cval as u8)))),
        TensorData::Bool(v) => TensorData::Bool(gather_fill(v, &idx, Some(&(cval != 0.0)))),
        d => return Err(Error::dtype(format!("Pad does not take {}", d.dtype()))),
    };
    Tensor::new(out, data)
}

fn one_hot(idx: &Tensor, depth: &Tensor, values: &Tensor, axis: i64) -> Result<Tensor> {
    if depth.numel() != 1 || values.numel() != 2 {
        return Err(Error::shape(
            "OneHot: depth must be a scalar and values hold [off, on]",
        ));
    }
    let depth = depth.to_f64_vec()[0];
    if depth < 1.0 || depth > crate::tensor::MAX_ELEMENTS as f64 {
        return Err(Error::shape(format!("OneHot: depth {depth} out of range")));
    }
    let depth = depth as usize;
    let r = idx.rank() + 1;
    let a = norm_axis(axis, r)?;
    let mut out_shape = idx.shape().to_vec();
    out_shape.insert(a, depth);
    let n = numel_checked(&out_shape)?;
    let outer: usize = idx.shape()[..a].iter().product();
    let inner: usize = idx.shape()[a..].iter().product();
    let ids = idx.to_f64_vec();
    let data = map_moved!(values.data(), v => {
        let (off, on) = (&v[0], &v[1]);
        let mut out = vec![off.clone(); n];
        for o in 0..outer {
            for i in 0..inner {
                let mut k = ids[o * inner + i] as i64;
                if k < 0 { k += depth as i64; }
                if (0..depth as i64).contains(&k) {
                    out[(o * depth + k as usize) * inner + i] = on.clone();
                }
            }
        }
        out
    });
    Tensor::new(out_shape, data)
}

fn trilu(x: &Tensor, upper: bool, k: i64) -> Result<Tensor> {
    let r = x.rank();
    if r < 2 {
        return Err(Error::shape("Trilu needs rank >= 2"));
    }
    let (rows, cols) = (x.shape()[r - 2], x.shape()[r - 1]);
    let mut t = x.clone();
    let keep = |i: usize, j: usize| {
        let d = j as i64 - i as i64;
        if upper {
            d >= k
        } else {
            d <= k
        }
    };
    map_data_mut(t.data_mut(), rows, cols, keep);
    Ok(t)
}

fn map_data_mut(d: &mut TensorData, rows: usize, cols: usize, keep: impl Fn(usize, usize) -> bool) {
    macro_rules! zero {
        ($v:expr, $z:expr) => {{
            for (flat, x) in $v.iter_mut().enumerate() {
                let (i, j) = ((flat / cols) % rows.max(1), flat % cols.max(1));
                if !keep(i, j) {
                    *x = $z;
                }
            }
        }};
    }
    match d {
        TensorData::F32(v) => zero!(v, 0.0),
        TensorData::F16(v) => zero!(v, half::f16::ZERO),
        TensorData::F64(v) => zero!(v, 0.0),
        TensorData::I64(v) => zero!(v, 0),
        TensorData::I32(v) => zero!(v, 0),
        TensorData::I8(v) => zero!(v, 0),
        TensorData::U8(v) => zero!(v, 0),
        TensorData::Bool(v) => zero!(v, false),
        TensorData::Str(v) => zero!(v, String::new()),
        TensorData::I16(v) => zero!(v, 0),
        TensorData::U16(v) => zero!(v, 0),
        TensorData::U32(v) => zero!(v, 0),
        TensorData::U64(v) => zero!(v, 0),
        TensorData::BF16(v) => zero!(v, half::bf16::ZERO),
    }
}

fn depth_to_space(x: &Tensor, b: usize, crd: bool) -> Result<Tensor> {
    let s = x.shape();
    if s.len() != 4 || s[1] % (b * b) != 0 {
        return Err(Error::shape(format!(
            "DepthToSpace: input {s:?} is not [N, C·{b}², H, W]"
        )));
    }
    let (n, c, h, w) = (s[0], s[1] / (b * b), s[2], s[3]);
    let t = if crd {
        x.clone().reshaped(vec![n, c, b, b, h, w])?
    } else {
        x.clone().reshaped(vec![n, b, b, c, h, w])?
    };
    let perm = if crd {
        [0, 1, 4, 2, 5, 3]
    } else {
        [0, 3, 4, 1, 5, 2]
    };
    transpose(&t, &perm)?.reshaped(vec![n, c, h * b, w * b])
}

fn space_to_depth(x: &Tensor, b: usize, crd: bool) -> Result<Tensor> {
    let s = x.shape();
    if s.len() != 4 || s[2] % b != 0 || s[3] % b != 0 {
        return Err(Error::shape(format!(
            "SpaceToDepth: input {s:?} is not [N, C, H·{b}, W·{b}]"
        )));
    }
    let (n, c, h, w) = (s[0], s[1], s[2] / b, s[3] / b);
    let t = x.clone().reshaped(vec![n, c, h, b, w, b])?;
    let perm = if crd {
        [0, 1, 3, 5, 2, 4]
    } else {
        [0, 3, 5, 1, 2, 4]
    };
    transpose(&t, &perm)?.reshaped(vec![n, c * b * b, h, w])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iota(shape: &[usize]) -> Tensor {
        let n = shape.iter().product::<usize>();
        Tensor::from_f32(shape.to_vec(), (0..n).map(|i| i as f32).collect()).unwrap()
    }

    /// Scalar reference transpose through explicit multi-indices.
    fn naive_transpose(x: &Tensor, perm: &[usize]) -> Vec<f32> {
        let s = x.shape();
        let out: Vec<usize> = perm.iter().map(|&p| s[p]).collect();
        let (is, os) = (strides(s), strides(&out));
        let v = x.as_f32().unwrap();
        (0..v.len())
            .map(|flat| {
                let src: usize = (0..out.len())
                    .map(|d| ((flat / os[d]) % out[d]) * is[perm[d]])
                    .sum();
                v[src]
            })
            .collect()
    }

    #[test]
    fn transpose_matches_reference() {
        for (shape, perm) in [
            (vec![3, 5], vec![1, 0]),
            (vec![2, 3, 4], vec![2, 0, 1]),
            (vec![2, 3, 4, 5], vec![0, 2, 1, 3]),
            (vec![40, 70], vec![1, 0]),
        ] {
            let x = iota(&shape);
            let t = transpose(&x, &perm).unwrap();
            assert_eq!(
                t.as_f32().unwrap(),
                naive_transpose(&x, &perm),
                "{shape:?} {perm:?}"
            );
        }
    }

    #[test]
    fn slice_negative_steps_and_clamping() {
        let x = iota(&[10]);
        let s = slice(&x, &[-1], &[i64::MIN], None, Some(vec![-3])).unwrap();
        assert_eq!(s.as_f32().unwrap(), &[9., 6., 3., 0.]);
        let s = slice(&x, &[2], &[1000], None, None).unwrap();
        assert_eq!(s.numel(), 8);
        let s = slice(&x, &[5], &[2], None, None).unwrap();
        assert_eq!(s.numel(), 0);
    }

    #[test]
    fn gather_checks_indices() {
        let x = iota(&[3, 2]);
        let i = Tensor::from_i64(vec![2], vec![-1, 0]).unwrap();
        assert_eq!(
            gather(&x, &i, 0).unwrap().as_f32().unwrap(),
            &[4., 5., 0., 1.]
        );
        let bad = Tensor::from_i64(vec![1], vec![3]).unwrap();
        let e = gather(&x, &bad, 0).unwrap_err();
        assert!(e.to_string().contains("index 3 is out of range"), "{e}");
    }

    #[test]
    fn reshape_rules() {
        assert_eq!(
            reshape_dims(&[2, 3, 4], &[0, -1], false).unwrap(),
            vec![2, 12]
        );
        assert_eq!(reshape_dims(&[0, 3], &[0, 3], true).unwrap(), vec![0, 3]);
        assert!(reshape_dims(&[2, 3], &[4, -1], false).is_err());
        assert!(reshape_dims(&[2, 3], &[-1, -1], false).is_err());
    }

    #[test]
    fn pad_modes() {
        let x = iota(&[3]);
        let p = |m| {
            pad(&x, m, &[2, 2], 9.0, None)
                .unwrap()
                .as_f32()
                .unwrap()
                .to_vec()
        };
        assert_eq!(p(PadMode::Constant), vec![9., 9., 0., 1., 2., 9., 9.]);
        assert_eq!(p(PadMode::Edge), vec![0., 0., 0., 1., 2., 2., 2.]);
        assert_eq!(p(PadMode::Reflect), vec![2., 1., 0., 1., 2., 1., 0.]);
        assert_eq!(p(PadMode::Wrap), vec![1., 2., 0., 1., 2., 0., 1.]);
    }

    #[test]
    fn concat_and_split_round_trip() {
        let a = iota(&[2, 2]);
        let b = iota(&[2, 3]);
        let c = concat(&[&a, &b], 1).unwrap();
        assert_eq!(c.shape(), &[2, 5]);
        assert_eq!(
            c.as_f32().unwrap(),
            &[0., 1., 0., 1., 2., 2., 3., 3., 4., 5.]
        );
        let parts = split_op(&c, 1, Some(vec![2, 3]), 2).unwrap();
        assert_eq!(parts[0], a);
        assert_eq!(parts[1], b);
    }
}
