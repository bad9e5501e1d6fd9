//! Helpers shared by CPU kernels: input access, axis normalisation, broadcasting.

use crate::error::{Error, Result};
use crate::tensor::{numel_checked, strides, Tensor};

/// Sorts indices by `cmp`, stably. Every index sort of the kernels goes through this one
/// instance of the standard library's sort (each generic call site would otherwise carry its
/// own copy, ~10 KB of wasm each).
pub fn sort_indices(v: &mut [usize], cmp: &dyn Fn(usize, usize) -> std::cmp::Ordering) {
    v.sort_by(|&a, &b| cmp(a, b));
}

/// Sorts `v` by `cmp`, stably, through [`sort_indices`] (the recommender's result lists).
pub fn sort_by_shared<T: Clone>(v: &mut Vec<T>, cmp: &dyn Fn(&T, &T) -> std::cmp::Ordering) {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    sort_indices(&mut idx, &|a, b| cmp(&v[a], &v[b]));
    *v = idx.iter().map(|&i| v[i].clone()).collect();
}

/// Input `i`, or an error naming it when it is missing.
pub fn input<'a>(inputs: &[Option<&'a Tensor>], i: usize, what: &str) -> Result<&'a Tensor> {
    match inputs.get(i).copied().flatten() {
        Some(t) => Ok(t),
        None => Err(missing_input(i, what)),
    }
}

/// The error of [`input`], out of line: `input` is inlined into every dispatcher.
#[cold]
#[inline(never)]
fn missing_input(i: usize, what: &str) -> Error {
    Error::shape(format!("missing required input {i} ({what})"))
}

/// Optional input `i`.
pub fn opt_input<'a>(inputs: &[Option<&'a Tensor>], i: usize) -> Option<&'a Tensor> {
    inputs.get(i).copied().flatten()
}

/// Normalises a possibly negative `axis` for a tensor of `rank` (`-1` is the last axis). A
/// scalar (rank 0) has no axis.
pub fn norm_axis(axis: i64, rank: usize) -> Result<usize> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    if a < 0 || a >= r {
        return Err(Error::shape(format!(
            "axis {axis} is out of range for rank {rank}"
        )));
    }
    Ok(a as usize)
}

/// Numpy-style broadcast of two shapes.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return Err(Error::shape(format!(
                "shapes {a:?} and {b:?} cannot be broadcast"
            )));
        };
    }
    numel_checked(&out)?;
    Ok(out)
}

/// Broadcast of any number of shapes.
pub fn broadcast_shapes(shapes: &[&[usize]]) -> Result<Vec<usize>> {
    let mut out: Vec<usize> = Vec::new();
    for s in shapes {
        out = broadcast_shape(&out, s)?;
    }
    Ok(out)
}

/// Strides (in elements) for reading a tensor of `shape` as if it had the broadcast shape `out`
/// (0 on broadcast axes). `shape` must broadcast to `out`.
pub fn broadcast_strides(shape: &[usize], out: &[usize]) -> Vec<usize> {
    let s = strides(shape);
    let off = out.len() - shape.len();
    (0..out.len())
        .map(|i| {
            if i < off || shape[i - off] == 1 {
                0
            } else {
                s[i - off]
            }
        })
        .collect()
}

/// For every element of the broadcast shape `out` (row-major), the source offsets in each input
/// of `shapes`. Calls `f(out_index, &offsets)`.
///
/// The fast path for equal shapes or scalars belongs in the caller; this is the general walk.
pub fn for_each_broadcast(out: &[usize], shapes: &[&[usize]], mut f: impl FnMut(usize, &[usize])) {
    let n: usize = out.iter().product();
    if n == 0 {
        return;
    }
    let st: Vec<Vec<usize>> = shapes.iter().map(|s| broadcast_strides(s, out)).collect();
    let rank = out.len();
    let mut idx = vec![0usize; rank];
    let mut offs = vec![0usize; shapes.len()];
    for o in 0..n {
        f(o, &offs);
        // increment the multi-index, updating offsets incrementally
        let mut d = rank;
        while d > 0 {
            d -= 1;
            idx[d] += 1;
            for (k, s) in st.iter().enumerate() {
                offs[k] += s[d];
            }
            if idx[d] < out[d] {
                break;
            }
            for (k, s) in st.iter().enumerate() {
                offs[k] -= s[d] * out[d];
            }
            idx[d] = 0;
        }
    }
}

/// Advances a row-major multi-index `idx` within `dims` (last axis fastest); wraps to all
/// zeros after the last position.
#[inline]
pub fn next_index(idx: &mut [usize], dims: impl Fn(usize) -> usize) {
    for d in (0..idx.len()).rev() {
        idx[d] += 1;
        if idx[d] < dims(d) {
            return;
        }
        idx[d] = 0;
    }
}

/// Deterministic values in [-1, 1) for kernel tests.
#[cfg(test)]
pub fn test_values(n: usize, seed: u64) -> Vec<f32> {
    crate::testing::Rng::new(seed).f32s(n, -1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_rules() {
        assert_eq!(broadcast_shape(&[2, 1, 3], &[4, 1]).unwrap(), vec![2, 4, 3]);
        assert_eq!(broadcast_shape(&[], &[5]).unwrap(), vec![5]);
        assert!(broadcast_shape(&[2], &[3]).is_err());
    }

    #[test]
    fn broadcast_walk_offsets() {
        let mut got = vec![];
        for_each_broadcast(&[2, 3], &[&[2, 1], &[3]], |o, offs| {
            got.push((o, offs[0], offs[1]))
        });
        assert_eq!(
            got,
            vec![
                (0, 0, 0),
                (1, 0, 1),
                (2, 0, 2),
                (3, 1, 0),
                (4, 1, 1),
                (5, 1, 2)
            ]
        );
    }

    #[test]
    fn axes() {
        assert_eq!(norm_axis(-1, 3).unwrap(), 2);
        assert_eq!(norm_axis(0, 3).unwrap(), 0);
        assert!(norm_axis(3, 3).is_err());
        assert!(norm_axis(-4, 3).is_err());
        assert!(norm_axis(0, 0).is_err(), "a scalar has no axis");
    }
}
