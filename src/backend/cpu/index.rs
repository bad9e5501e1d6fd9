//! CPU kernels of the indexed read/write family, written once for every dtype (`map_moved!`).
//! Every index is checked against its axis (negative indices count from the end) before any
//! write, so a bad index is an error naming the index and the axis, never a panic.

use super::util::{input, norm_axis};
use crate::error::{Error, Result};
use crate::ir::ops::index::{IndexOp, ScatterReduction};
use crate::map_moved;
use crate::tensor::{numel_checked, strides, DType, Tensor, TensorData};
use half::f16;

pub fn run(op: &IndexOp, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    let x = input(inputs, 0, "data")?;
    Ok(match op {
        IndexOp::ScatterElements { axis, reduction } => vec![scatter_elements(
            x,
            input(inputs, 1, "indices")?,
            input(inputs, 2, "updates")?,
            *axis,
            *reduction,
        )?],
        IndexOp::ScatterND { reduction } => vec![scatter_nd(
            x,
            input(inputs, 1, "indices")?,
            input(inputs, 2, "updates")?,
            *reduction,
        )?],
        IndexOp::GatherND { batch_dims } => {
            vec![gather_nd(x, input(inputs, 1, "indices")?, *batch_dims)?]
        }
        IndexOp::Compress { axis } => vec![compress(x, input(inputs, 1, "condition")?, *axis)?],
        IndexOp::NonZero => vec![non_zero(x)?],
        IndexOp::Unique { sorted, axis } => unique(x, *sorted, *axis)?,
        IndexOp::EyeLike { k, dtype } => vec![eye_like(x, *k, *dtype)?],
        IndexOp::ReverseSequence {
            batch_axis,
            time_axis,
        } => vec![reverse_sequence(
            x,
            input(inputs, 1, "sequence_lens")?,
            *batch_axis,
            *time_axis,
        )?],
    })
}

/// Combining an update with the value it lands on, for every element type.
trait Combine: Copy + PartialOrd {
    fn add(self, o: Self) -> Self;
    fn mul(self, o: Self) -> Self;
}
macro_rules! combine_int {
    ($($t:ty),*) => {$(impl Combine for $t {
        fn add(self, o: Self) -> Self { self.wrapping_add(o) }
        fn mul(self, o: Self) -> Self { self.wrapping_mul(o) }
    })*};
}
combine_int!(i64, i32, i8, u8);
macro_rules! combine_float {
    ($($t:ty),*) => {$(impl Combine for $t {
        fn add(self, o: Self) -> Self { self + o }
        fn mul(self, o: Self) -> Self { self * o }
    })*};
}
combine_float!(f32, f64);
impl Combine for f16 {
    fn add(self, o: Self) -> Self {
        f16::from_f32(self.to_f32() + o.to_f32())
    }
    fn mul(self, o: Self) -> Self {
        f16::from_f32(self.to_f32() * o.to_f32())
    }
}
impl Combine for bool {
    fn add(self, o: Self) -> Self {
        self | o
    }
    fn mul(self, o: Self) -> Self {
        self & o
    }
}

fn combine<T: Combine>(r: ScatterReduction, old: T, new: T) -> T {
    match r {
        ScatterReduction::None => new,
        ScatterReduction::Add => old.add(new),
        ScatterReduction::Mul => old.mul(new),
        ScatterReduction::Max => {
            if new > old {
                new
            } else {
                old
            }
        }
        ScatterReduction::Min => {
            if new < old {
                new
            } else {
                old
            }
        }
    }
}

/// Reads `t` as indices into an axis of size `dim`, normalising negative ones.
fn checked_indices(t: &Tensor, dim: usize, what: &str) -> Result<Vec<usize>> {
    if t.dtype().is_float() || t.dtype() == DType::Bool {
        return Err(Error::dtype(format!(
            "{what}: indices must be int32 or int64, got {}",
            t.dtype()
        )));
    }
    let d = dim as i64;
    t.to_i64_vec()
        .into_iter()
        .map(|i| {
            let j = if i < 0 { i + d } else { i };
            if (0..d).contains(&j) {
                Ok(j as usize)
            } else {
                Err(Error::shape(format!(
                    "{what}: index {i} is out of range [-{d}, {d})"
                )))
            }
        })
        .collect()
}

fn same_dtype(a: &Tensor, b: &Tensor, what: &str) -> Result<()> {
    if a.dtype() != b.dtype() {
        return Err(Error::dtype(format!(
            "{what}: updates are {}, data is {}",
            b.dtype(),
            a.dtype()
        )));
    }
    Ok(())
}

fn scatter_elements(
    x: &Tensor,
    idx: &Tensor,
    upd: &Tensor,
    axis: i64,
    red: ScatterReduction,
) -> Result<Tensor> {
    let r = x.rank();
    let a = norm_axis(axis, r)?;
    same_dtype(x, upd, "ScatterElements")?;
    if idx.shape() != upd.shape() || idx.rank() != r {
        return Err(Error::shape(format!(
            "ScatterElements: indices {:?} and updates {:?} must have the same shape, of data's rank {r}",
            idx.shape(),
            upd.shape()
        )));
    }
    for (d, (&i, &n)) in idx.shape().iter().zip(x.shape()).enumerate() {
        if d != a && i > n {
            return Err(Error::shape(format!(
                "ScatterElements: indices shape {:?} exceeds data {:?} on axis {d}",
                idx.shape(),
                x.shape()
            )));
        }
    }
    let ids = checked_indices(idx, x.shape()[a], "ScatterElements")?;
    let (xs, is) = (strides(x.shape()), strides(idx.shape()));
    let dst: Vec<usize> = (0..ids.len())
        .map(|flat| {
            (0..r)
                .map(|d| {
                    let c = if d == a {
                        ids[flat]
                    } else {
                        (flat / is[d]) % idx.shape()[d]
                    };
                    c * xs[d]
                })
                .sum()
        })
        .collect();
    let mut out = x.clone();
    scatter_into(out.data_mut(), upd.data(), red, |k| (dst[k], 1), ids.len())?;
    Ok(out)
}

/// Writes update block `k` (`count` blocks; block `k` is `len` elements starting at `k·len`
/// of `upd`) at `at(k) = (offset, len)` of `out`.
fn scatter_into(
    out: &mut TensorData,
    upd: &TensorData,
    red: ScatterReduction,
    at: impl Fn(usize) -> (usize, usize),
    count: usize,
) -> Result<()> {
    fn go<T: Combine>(
        o: &mut [T],
        u: &[T],
        red: ScatterReduction,
        at: &dyn Fn(usize) -> (usize, usize),
        count: usize,
    ) {
        for k in 0..count {
            let (off, len) = at(k);
            for j in 0..len {
                o[off + j] = combine(red, o[off + j], u[k * len + j]);
            }
        }
    }
    use TensorData as D;
    match (out, upd) {
        (D::F32(o), D::F32(u)) => go(o, u, red, &at, count),
        (D::F16(o), D::F16(u)) => go(o, u, red, &at, count),
        (D::F64(o), D::F64(u)) => go(o, u, red, &at, count),
        (D::I64(o), D::I64(u)) => go(o, u, red, &at, count),
        (D::I32(o), D::I32(u)) => go(o, u, red, &at, count),
        (D::I8(o), D::I8(u)) => go(o, u, red, &at, count),
        (D::U8(o), D::U8(u)) => go(o, u, red, &at, count),
        (D::Bool(o), D::Bool(u)) => go(o, u, red, &at, count),
        _ => return Err(Error::dtype("scatter: updates and data differ in dtype")),
    }
    Ok(())
}

/// For indices `[…, k]` into `data`: the flat offsets of the addressed slices (each
/// `prod(data.shape[k..])` long), checked.
fn nd_offsets(data: &[usize], idx: &Tensor, what: &str) -> Result<(Vec<usize>, usize)> {
    if idx.rank() == 0 {
        return Err(Error::shape(format!("{what}: indices must have rank >= 1")));
    }
    let k = idx.shape()[idx.rank() - 1];
    if k > data.len() {
        return Err(Error::shape(format!(
            "{what}: index tuples of length {k} for data of rank {}",
            data.len()
        )));
    }
    if idx.dtype().is_float() || idx.dtype() == DType::Bool {
        return Err(Error::dtype(format!(
            "{what}: indices must be int64, got {}",
            idx.dtype()
        )));
    }
    let st = strides(data);
    let v = idx.to_i64_vec();
    let n = if k == 0 { idx.numel() } else { v.len() / k };
    let n = if k == 0 {
        idx.shape()[..idx.rank() - 1].iter().product()
    } else {
        n
    };
    let mut offs = Vec::with_capacity(n);
    for t in 0..n {
        let mut off = 0;
        for j in 0..k {
            let (i, d) = (v[t * k + j], data[j] as i64);
            let i2 = if i < 0 { i + d } else { i };
            if !(0..d).contains(&i2) {
                return Err(Error::shape(format!(
                    "{what}: index {i} is out of range [-{d}, {d}) on axis {j}"
                )));
            }
            off += i2 as usize * st[j];
        }
        offs.push(off);
    }
    Ok((offs, data[k..].iter().product()))
}

fn scatter_nd(x: &Tensor, idx: &Tensor, upd: &Tensor, red: ScatterReduction) -> Result<Tensor> {
    same_dtype(x, upd, "ScatterND")?;
    let (offs, len) = nd_offsets(x.shape(), idx, "ScatterND")?;
    let k = idx.shape()[idx.rank() - 1];
    let mut want = idx.shape()[..idx.rank() - 1].to_vec();
    want.extend_from_slice(&x.shape()[k..]);
    if upd.shape() != want.as_slice() {
        return Err(Error::shape(format!(
            "ScatterND: updates have shape {:?}, expected {want:?}",
            upd.shape()
        )));
    }
    let mut out = x.clone();
    scatter_into(
        out.data_mut(),
        upd.data(),
        red,
        |t| (offs[t], len),
        offs.len(),
    )?;
    Ok(out)
}

fn gather_nd(x: &Tensor, idx: &Tensor, b: usize) -> Result<Tensor> {
    let (xs, is) = (x.shape(), idx.shape());
    if idx.rank() < 1 || b >= idx.rank() || b >= x.rank() || xs[..b] != is[..b] {
        return Err(Error::shape(format!(
            "GatherND: data {xs:?} and indices {is:?} do not share {b} batch dims"
        )));
    }
    let k = is[is.len() - 1];
    if b + k > x.rank() {
        return Err(Error::shape(format!(
            "GatherND: index tuples of length {k} after {b} batch dims for data of rank {}",
            x.rank()
        )));
    }
    let batches: usize = xs[..b].iter().product();
    let inner_data = &xs[b..];
    let inner_idx_shape: Vec<usize> = is[b..].to_vec();
    let per_batch: usize = inner_idx_shape.iter().product();
    let data_block: usize = inner_data.iter().product();
    let v = idx.to_i64_vec();
    let mut offs = Vec::new();
    let mut len = 0;
    for bi in 0..batches {
        let part = Tensor::from_i64(
            inner_idx_shape.clone(),
            v[bi * per_batch..(bi + 1) * per_batch].to_vec(),
        )?;
        let (o, l) = nd_offsets(inner_data, &part, "GatherND")?;
        len = l;
        offs.extend(o.into_iter().map(|o| o + bi * data_block));
    }
    let mut out_shape = is[..is.len() - 1].to_vec();
    out_shape.extend_from_slice(&xs[b + k..]);
    numel_checked(&out_shape)?;
    let data = map_moved!(x.data(), d => {
        let mut out = Vec::with_capacity(offs.len() * len);
        for &o in &offs {
            out.extend_from_slice(&d[o..o + len]);
        }
        out
    });
    Tensor::new(out_shape, data)
}

/// The entries of axis `a` of `x` in `keep` order (a gather along one axis).
fn take_along(x: &Tensor, a: usize, keep: &[usize]) -> Result<Tensor> {
    let sh = x.shape();
    let outer: usize = sh[..a].iter().product();
    let inner: usize = sh[a + 1..].iter().product();
    let dim = sh[a];
    let mut out_shape = sh.to_vec();
    out_shape[a] = keep.len();
    let data = map_moved!(x.data(), v => {
        let mut out = Vec::with_capacity(outer * keep.len() * inner);
        for o in 0..outer {
            for &j in keep {
                let s = (o * dim + j) * inner;
                out.extend_from_slice(&v[s..s + inner]);
            }
        }
        out
    });
    Tensor::new(out_shape, data)
}

fn truthy(t: &Tensor) -> Vec<bool> {
    match t.data() {
        TensorData::Bool(v) => v.clone(),
        _ => t.to_f64_vec().into_iter().map(|v| v != 0.0).collect(),
    }
}

fn compress(x: &Tensor, cond: &Tensor, axis: Option<i64>) -> Result<Tensor> {
    if cond.rank() != 1 {
        return Err(Error::shape(format!(
            "Compress: condition must be 1-D, got shape {:?}",
            cond.shape()
        )));
    }
    let (x, a) = match axis {
        Some(ax) => (x.clone(), norm_axis(ax, x.rank())?),
        None => (x.clone().reshaped(vec![x.numel()])?, 0),
    };
    let c = truthy(cond);
    if c.len() > x.shape()[a] {
        return Err(Error::shape(format!(
            "Compress: condition has {} entries for an axis of {}",
            c.len(),
            x.shape()[a]
        )));
    }
    let keep: Vec<usize> = (0..c.len()).filter(|&i| c[i]).collect();
    take_along(&x, a, &keep)
}

fn non_zero(x: &Tensor) -> Result<Tensor> {
    let nz = truthy(x);
    let shape = if x.rank() == 0 {
        vec![1]
    } else {
        x.shape().to_vec()
    };
    let st = strides(&shape);
    let hits: Vec<usize> = (0..nz.len()).filter(|&i| nz[i]).collect();
    let r = shape.len();
    let mut out = vec![0i64; r * hits.len()];
    for (j, &flat) in hits.iter().enumerate() {
        for d in 0..r {
            out[d * hits.len() + j] = ((flat / st[d]) % shape[d]) as i64;
        }
    }
    Tensor::from_i64(vec![r, hits.len()], out)
}

/// Total order of two values that may be floats (NaN last).
fn order<T: PartialOrd>(x: &T, y: &T) -> std::cmp::Ordering {
    match x.partial_cmp(y) {
        Some(o) => o,
        None => {
            let (xn, yn) = (x.partial_cmp(x).is_none(), y.partial_cmp(y).is_none());
            match (xn, yn) {
                (true, false) => std::cmp::Ordering::Greater,
                (false, true) => std::cmp::Ordering::Less,
                _ => std::cmp::Ordering::Equal,
            }
        }
    }
}

/// Unique slices along an axis: (slice indices of the output in order, first occurrences,
/// inverse indices, counts). `cmp(i, j)` orders the flat elements `i` and `j` (not generic over
/// the dtype, so one copy of this and of the sort serves every dtype).
fn unique_slices(
    outer: usize,
    dim: usize,
    inner: usize,
    sorted: bool,
    cmp: &dyn Fn(usize, usize) -> std::cmp::Ordering,
) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
    let slice_order = |a: usize, b: usize| {
        for o in 0..outer {
            for k in 0..inner {
                let ord = cmp((o * dim + a) * inner + k, (o * dim + b) * inner + k);
                if ord != std::cmp::Ordering::Equal {
                    return ord;
                }
            }
        }
        std::cmp::Ordering::Equal
    };
    // first occurrences, in order of appearance
    let mut firsts: Vec<usize> = Vec::new();
    let mut inverse = vec![0usize; dim];
    let mut by_value: Vec<usize> = (0..dim).collect();
    super::util::sort_indices(&mut by_value, &|a, b| slice_order(a, b));
    let mut group_of = vec![0usize; dim];
    let mut groups: Vec<usize> = Vec::new(); // first index of each group, by value
    for (k, &j) in by_value.iter().enumerate() {
        if k == 0 || slice_order(by_value[k - 1], j) != std::cmp::Ordering::Equal {
            groups.push(j);
        }
        group_of[j] = groups.len() - 1;
    }
    let rank: Vec<usize> = if sorted {
        firsts.extend(groups.iter().copied());
        (0..groups.len()).collect()
    } else {
        let mut seen = vec![usize::MAX; groups.len()];
        for j in 0..dim {
            let g = group_of[j];
            if seen[g] == usize::MAX {
                seen[g] = firsts.len();
                firsts.push(groups[g]);
            }
        }
        seen
    };
    let mut counts = vec![0usize; groups.len()];
    for j in 0..dim {
        let out = rank[group_of[j]];
        inverse[j] = out;
        counts[out] += 1;
    }
    (firsts, inverse, counts)
}

fn unique(x: &Tensor, sorted: bool, axis: Option<i64>) -> Result<Vec<Tensor>> {
    let (x, a) = match axis {
        Some(ax) => (x.clone(), norm_axis(ax, x.rank())?),
        None => (x.clone().reshaped(vec![x.numel()])?, 0),
    };
    let sh = x.shape();
    let outer: usize = sh[..a].iter().product();
    let inner: usize = sh[a + 1..].iter().product();
    let dim = sh[a];
    let (firsts, inverse, counts) = crate::with_data!(x.data(), v => unique_slices(outer, dim, inner, sorted, &|i, j| order(&v[i], &v[j])));
    let i64s = |v: &[usize]| Tensor::from_i64(vec![v.len()], v.iter().map(|&i| i as i64).collect());
    Ok(vec![
        take_along(&x, a, &firsts)?,
        i64s(&firsts)?,
        i64s(&inverse)?,
        i64s(&counts)?,
    ])
}

fn eye_like(x: &Tensor, k: i64, dtype: Option<DType>) -> Result<Tensor> {
    if x.rank() != 2 {
        return Err(Error::shape(format!(
            "EyeLike: input must be 2-D, got shape {:?}",
            x.shape()
        )));
    }
    let (r, c) = (x.shape()[0], x.shape()[1]);
    let dtype = dtype.unwrap_or(x.dtype());
    let mut ones = vec![false; r * c];
    for i in 0..r {
        let j = i as i64 + k;
        if (0..c as i64).contains(&j) {
            ones[i * c + j as usize] = true;
        }
    }
    let data = match dtype {
        DType::F32 => TensorData::F32(ones.iter().map(|&b| b as u8 as f32).collect()),
        DType::I64 => TensorData::I64(ones.iter().map(|&b| b as i64).collect()),
        DType::I32 => TensorData::I32(ones.iter().map(|&b| b as i32).collect()),
        DType::I8 => TensorData::I8(ones.iter().map(|&b| b as i8).collect()),
        DType::U8 => TensorData::U8(ones.iter().map(|&b| b as u8).collect()),
        DType::Bool => TensorData::Bool(ones),
        d => {
            return Err(Error::dtype(format!(
                "EyeLike: output dtype {d} is not computed"
            )))
        }
    };
    Tensor::new(vec![r, c], data)
}

fn reverse_sequence(
    x: &Tensor,
    lens: &Tensor,
    batch_axis: usize,
    time_axis: usize,
) -> Result<Tensor> {
    if x.rank() < 2 {
        return Err(Error::shape(format!(
            "ReverseSequence: input must have rank >= 2, got {:?}",
            x.shape()
        )));
    }
    let sh = x.shape().to_vec();
    let (nb, nt) = (sh[batch_axis], sh[time_axis]);
    let lens = lens.to_i64_vec();
    if lens.len() != nb {
        return Err(Error::shape(format!(
            "ReverseSequence: sequence_lens has {} entries for a batch of {nb}",
            lens.len()
        )));
    }
    if let Some(&l) = lens.iter().find(|&&l| l < 0 || l as usize > nt) {
        return Err(Error::shape(format!(
            "ReverseSequence: sequence length {l} is out of range [0, {nt}]"
        )));
    }
    let inner: usize = sh[2..].iter().product();
    let st = strides(&sh);
    let mut src = Vec::with_capacity(x.numel());
    for i0 in 0..sh[0] {
        for i1 in 0..sh[1] {
            let (b, t) = if batch_axis == 0 { (i0, i1) } else { (i1, i0) };
            let l = lens[b] as usize;
            let ts = if t < l { l - 1 - t } else { t };
            let (s0, s1) = if batch_axis == 0 { (b, ts) } else { (ts, b) };
            let base = s0 * st[0] + s1 * st[1];
            src.extend(base..base + inner);
        }
    }
    let data = map_moved!(x.data(), v => src.iter().map(|&s| v[s].clone()).collect());
    Tensor::new(sh, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scatter_elements_with_reductions() {
        // ONNX operator document example (axis 1)
        let x = Tensor::from_f32(vec![1, 5], vec![1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        let i = Tensor::from_i64(vec![1, 2], vec![1, -2]).unwrap();
        let u = Tensor::from_f32(vec![1, 2], vec![1.1, 2.1]).unwrap();
        let y = scatter_elements(&x, &i, &u, 1, ScatterReduction::None).unwrap();
        assert_eq!(y.as_f32().unwrap(), &[1.0, 1.1, 3.0, 2.1, 5.0]);
        let i = Tensor::from_i64(vec![1, 2], vec![1, 1]).unwrap();
        let y = scatter_elements(&x, &i, &u, 1, ScatterReduction::Add).unwrap();
        assert!((y.as_f32().unwrap()[1] - 5.2).abs() < 1e-6);
        let y = scatter_elements(&x, &i, &u, 1, ScatterReduction::Max).unwrap();
        assert_eq!(y.as_f32().unwrap()[1], 2.1);
        let bad = Tensor::from_i64(vec![1, 2], vec![1, 5]).unwrap();
        let e = scatter_elements(&x, &bad, &u, 1, ScatterReduction::None).unwrap_err();
        assert!(e.to_string().contains("index 5"), "{e}");
    }

    #[test]
    fn gather_nd_and_scatter_nd_are_inverse() {
        let mut rng = crate::testing::Rng::new(3);
        let x = rng.tensor(&[3, 4, 2], -1.0, 1.0);
        let idx = Tensor::from_i64(vec![2, 2], vec![2, 1, 0, -1]).unwrap();
        let g = gather_nd(&x, &idx, 0).unwrap();
        assert_eq!(g.shape(), &[2, 2]);
        let xv = x.as_f32().unwrap();
        assert_eq!(g.as_f32().unwrap(), &[xv[18], xv[19], xv[6], xv[7]]);
        let z = Tensor::zeros(DType::F32, vec![3, 4, 2]).unwrap();
        let s = scatter_nd(&z, &idx, &g, ScatterReduction::None).unwrap();
        let back = gather_nd(&s, &idx, 0).unwrap();
        assert_eq!(back.as_f32().unwrap(), g.as_f32().unwrap());
        // batch_dims = 1: one index per batch row
        let idx = Tensor::from_i64(vec![3, 1], vec![0, 3, 1]).unwrap();
        let g = gather_nd(&x, &idx, 1).unwrap();
        assert_eq!(g.shape(), &[3, 2]);
        assert_eq!(g.as_f32().unwrap()[2], xv[8 + 6]);
    }

    #[test]
    fn unique_sorted_and_unsorted() {
        let x = Tensor::from_f32(vec![6], vec![2.0, 1.0, 1.0, 3.0, 4.0, 3.0]).unwrap();
        let out = unique(&x, false, None).unwrap();
        assert_eq!(out[0].as_f32().unwrap(), &[2.0, 1.0, 3.0, 4.0]);
        assert_eq!(out[1].as_i64().unwrap(), &[0, 1, 3, 4]);
        assert_eq!(out[2].as_i64().unwrap(), &[0, 1, 1, 2, 3, 2]);
        assert_eq!(out[3].as_i64().unwrap(), &[1, 2, 2, 1]);
        let out = unique(&x, true, None).unwrap();
        assert_eq!(out[0].as_f32().unwrap(), &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(out[1].as_i64().unwrap(), &[1, 0, 3, 4]);
        assert_eq!(out[2].as_i64().unwrap(), &[1, 0, 0, 2, 3, 2]);
    }

    #[test]
    fn compress_nonzero_eyelike_reverse() {
        let x = Tensor::from_f32(vec![3, 2], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let c = Tensor::from_bool(vec![2], vec![false, true]).unwrap();
        assert_eq!(
            compress(&x, &c, Some(0)).unwrap().as_f32().unwrap(),
            &[3.0, 4.0]
        );
        assert_eq!(compress(&x, &c, None).unwrap().as_f32().unwrap(), &[2.0]);
        let nz =
            non_zero(&Tensor::from_f32(vec![2, 2], vec![1.0, 0.0, 0.0, 3.0]).unwrap()).unwrap();
        assert_eq!(nz.shape(), &[2, 2]);
        assert_eq!(nz.as_i64().unwrap(), &[0, 1, 0, 1]);
        let e = eye_like(&x, 1, Some(DType::I64)).unwrap();
        assert_eq!(e.as_i64().unwrap(), &[0, 1, 0, 0, 0, 0]);
        let lens = Tensor::from_i64(vec![2], vec![3, 1]).unwrap();
        let r = reverse_sequence(&x, &lens, 1, 0).unwrap();
        assert_eq!(r.as_f32().unwrap(), &[5.0, 2.0, 3.0, 4.0, 1.0, 6.0]);
    }
}
