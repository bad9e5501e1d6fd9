//! CPU kernels of the reduction family. Reductions walk the input once, mapping each element to
//! its output slot; the common case of reducing trailing contiguous axes is a tight row loop.

use super::screen::{Post, Screen};
use super::util::{input, norm_axis, opt_input};
use crate::error::{Error, Result};
use crate::ir::ops::reduce::{ReduceKind, ReduceOp};
use crate::tensor::{strides, DType, Tensor, TensorData};

pub fn run(op: &ReduceOp, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    run_packed(op, inputs, None)
}

/// The screening copy of a fused MatMul → TopK's constant B (its items are B's columns), made
/// once when the session is built.
pub fn prepack(op: &ReduceOp, consts: &[Option<&Tensor>]) -> Option<Screen> {
    let ReduceOp::MatMulTopK { .. } = op else {
        return None;
    };
    if !cfg!(feature = "retrieval") {
        return None;
    }
    let b = consts.get(1).copied().flatten()?;
    match (b.data(), b.shape()) {
        (TensorData::F32(v), &[k, n]) => Screen::build_columns(v, k, n),
        _ => None,
    }
}

/// [`run`] with a fused MatMul → TopK's screening copy of B ([`prepack`]).
pub fn run_packed(
    op: &ReduceOp,
    inputs: &[Option<&Tensor>],
    screen: Option<&Screen>,
) -> Result<Vec<Tensor>> {
    let x = input(inputs, 0, "data")?;
    Ok(match op {
        ReduceOp::Reduce {
            kind,
            axes,
            keepdims,
            noop_empty,
        } => {
            let axes = match axes {
                Some(a) => a.clone(),
                None => opt_input(inputs, 1)
                    .map(|t| t.to_i64_vec())
                    .unwrap_or_default(),
            };
            if axes.is_empty() && *noop_empty {
                return Ok(vec![x.clone()]);
            }
            vec![reduce(x, *kind, &axes, *keepdims)?]
        }
        ReduceOp::ArgExt {
            max,
            axis,
            keepdims,
            select_last,
        } => {
            vec![arg_ext(x, *max, *axis, *keepdims, *select_last)?]
        }
        ReduceOp::TopK { k, axis, largest } => {
            let k = match k {
                Some(k) => *k,
                None => {
                    let t = input(inputs, 1, "K")?;
                    *t.to_i64_vec()
                        .first()
                        .ok_or_else(|| Error::shape("TopK: K is empty"))?
                }
            };
            topk(x, k, *axis, *largest)?
        }
        ReduceOp::MatMulTopK { k, largest } => {
            matmul_topk(x, input(inputs, 1, "B")?, *k, *largest, screen)?
        }
        ReduceOp::CumSum { exclusive, reverse } | ReduceOp::CumProd { exclusive, reverse } => {
            let product = matches!(op, ReduceOp::CumProd { .. });
            let axis = input(inputs, 1, "axis")?.to_i64_vec();
            let axis = *axis
                .first()
                .ok_or_else(|| Error::shape("CumSum/CumProd: axis is empty"))?;
            vec![cumulate(x, axis, *exclusive, *reverse, product)?]
        }
    })
}

/// Splits `shape` at the reduced axes: output shape (keepdims) and, per input element, its
/// output offset computed from strides with 0 on reduced axes.
fn out_strides(shape: &[usize], reduced: &[bool]) -> (Vec<usize>, Vec<usize>) {
    let kept: Vec<usize> = shape
        .iter()
        .zip(reduced)
        .map(|(&d, &r)| if r { 1 } else { d })
        .collect();
    let ks = strides(&kept);
    let st = ks
        .iter()
        .zip(reduced)
        .map(|(&s, &r)| if r { 0 } else { s })
        .collect();
    (kept, st)
}

fn reduce(x: &Tensor, kind: ReduceKind, axes: &[i64], keepdims: bool) -> Result<Tensor> {
    let shape = x.shape();
    let r = shape.len();
    let mut reduced = vec![axes.is_empty(); r];
    for &a in axes {
        reduced[norm_axis(a, r)?] = true;
    }
    let (kept, ost) = out_strides(shape, &reduced);
    let n_out: usize = kept.iter().product();
    let count = if n_out == 0 {
        0
    } else {
        x.numel() / n_out.max(1)
    };
    let vals = x.to_f64_vec();
    use ReduceKind as K;
    let init = match kind {
        K::Max => f64::NEG_INFINITY,
        K::Min => f64::INFINITY,
        K::Prod => 1.0,
        K::LogSumExp => f64::NEG_INFINITY,
        _ => 0.0,
    };
    let mut acc = vec![init; n_out];
    // for LogSumExp: first pass finds the max per slot
    let mut maxes = vec![f64::NEG_INFINITY; if kind == K::LogSumExp { n_out } else { 0 }];
    let offset_of = |flat: usize| -> usize {
        let mut rem = flat;
        let mut o = 0;
        for d in (0..r).rev() {
            o += (rem % shape[d]) * ost[d];
            rem /= shape[d];
        }
        o
    };
    // trailing-axes fast path: output slot = flat / count
    let trailing = {
        let first = reduced.iter().position(|&b| b).unwrap_or(r);
        reduced[first..].iter().all(|&b| b)
    };
    let slot = |flat: usize| {
        if trailing {
            flat / count.max(1)
        } else {
            offset_of(flat)
        }
    };
    if kind == K::LogSumExp {
        for (i, &v) in vals.iter().enumerate() {
            let s = slot(i);
            maxes[s] = maxes[s].max(v);
        }
    }
    for (i, &v) in vals.iter().enumerate() {
        let s = slot(i);
        let a = &mut acc[s];
        match kind {
            K::Sum | K::Mean | K::LogSum => *a += v,
            K::Max => {
                *a = if v.is_nan() || *a >= v {
                    if v.is_nan() {
                        v
                    } else {
                        *a
                    }
                } else {
                    v
                }
            }
            K::Min => {
                *a = if v.is_nan() || *a <= v {
                    if v.is_nan() {
                        v
                    } else {
                        *a
                    }
                } else {
                    v
                }
            }
            K::Prod => *a *= v,
            K::L1 => *a += v.abs(),
            K::L2 | K::SumSquare => *a += v * v,
            K::LogSumExp => {
                let m = maxes[s];
                if m.is_finite() {
                    *a = if a.is_finite() {
                        *a + (v - m).exp()
                    } else {
                        (v - m).exp()
                    };
                }
            }
        }
    }
    for (s, a) in acc.iter_mut().enumerate() {
        match kind {
            K::Mean => *a /= count as f64,
            K::L2 => *a = a.sqrt(),
            K::LogSum => *a = a.ln(),
            K::LogSumExp => {
                let m = maxes[s];
                *a = if m.is_finite() { m + a.ln() } else { m };
            }
            _ => {}
        }
    }
    let out_shape: Vec<usize> = if keepdims {
        kept
    } else {
        shape
            .iter()
            .zip(&reduced)
            .filter(|(_, &r)| !r)
            .map(|(&d, _)| d)
            .collect()
    };
    let data = match x.dtype() {
        DType::F32 => TensorData::F32(acc.into_iter().map(|v| v as f32).collect()),
        DType::I64 => TensorData::I64(acc.into_iter().map(int_of(i64::MIN, i64::MAX)).collect()),
        DType::I32 => TensorData::I32(
            acc.into_iter()
                .map(|v| int_of(i32::MIN as i64, i32::MAX as i64)(v) as i32)
                .collect(),
        ),
        DType::I8 => TensorData::I8(
            acc.into_iter()
                .map(|v| int_of(i8::MIN as i64, i8::MAX as i64)(v) as i8)
                .collect(),
        ),
        DType::U8 => TensorData::U8(
            acc.into_iter()
                .map(|v| int_of(0, u8::MAX as i64)(v) as u8)
                .collect(),
        ),
        DType::Bool if matches!(kind, K::Max | K::Min) => {
            TensorData::Bool(acc.into_iter().map(|v| int_of(0, 1)(v) != 0).collect())
        }
        d => {
            return Err(Error::dtype(format!(
                "{kind:?} reduction does not take {d}"
            )))
        }
    };
    Tensor::new(out_shape, data)
}

/// Converts a reduced value back to an integer; infinities (empty max/min) become the
/// type's extremes as numpy's identity elements do.
fn int_of(min: i64, max: i64) -> impl Fn(f64) -> i64 {
    move |v| {
        if v == f64::INFINITY {
            max
        } else if v == f64::NEG_INFINITY {
            min
        } else {
            v as i64
        }
    }
}

/// (outer, len, inner) of `shape` around axis `a`.
fn around(shape: &[usize], a: usize) -> (usize, usize, usize) {
    (
        shape[..a].iter().product(),
        shape[a],
        shape[a + 1..].iter().product(),
    )
}

fn arg_ext(x: &Tensor, max: bool, axis: i64, keepdims: bool, last: bool) -> Result<Tensor> {
    let a = norm_axis(axis, x.rank())?;
    let (outer, len, inner) = around(x.shape(), a);
    if len == 0 {
        return Err(Error::shape("ArgMax/ArgMin over an empty axis"));
    }
    let v = x.to_f64_vec();
    let mut out = Vec::with_capacity(outer * inner);
    for o in 0..outer {
        for i in 0..inner {
            let mut best = 0usize;
            for j in 1..len {
                let (c, b) = (
                    v[(o * len + j) * inner + i],
                    v[(o * len + best) * inner + i],
                );
                let better = if max {
                    c > b || (last && c == b)
                } else {
                    c < b || (last && c == b)
                };
                if better {
                    best = j;
                }
            }
            out.push(best as i64);
        }
    }
    let mut shape = x.shape().to_vec();
    if keepdims {
        shape[a] = 1;
    } else {
        shape.remove(a);
    }
    Tensor::from_i64(shape, out)
}

fn topk(x: &Tensor, k: i64, axis: i64, largest: bool) -> Result<Vec<Tensor>> {
    let a = norm_axis(axis, x.rank())?;
    let (outer, len, inner) = around(x.shape(), a);
    if k < 0 || k as usize > len {
        return Err(Error::shape(format!(
            "TopK: k = {k} but axis {axis} has {len} elements"
        )));
    }
    let k = k as usize;
    if let (TensorData::F32(v), 1) = (x.data(), inner) {
        // k = 0 (empty outputs) takes the general path: the small-k buffer needs a last element
        if (1..=64).contains(&k) && k * 8 <= len {
            return topk_small_k(v, x.shape(), a, outer, len, k, largest);
        }
    }
    let v = x.to_f64_vec();
    let mut order: Vec<usize> = Vec::with_capacity(len);
    let mut picks = vec![0usize; outer * k * inner];
    for o in 0..outer {
        for i in 0..inner {
            order.clear();
            order.extend(0..len);
            let key = |j: usize| v[(o * len + j) * inner + i];
            // ties go to the lower index; NaN counts as largest
            let cmp = |p: &usize, q: &usize| {
                let (x, y) = (key(*p), key(*q));
                let ord = if largest {
                    y.total_cmp(&x)
                } else {
                    x.total_cmp(&y)
                };
                ord.then(p.cmp(q))
            };
            if k < len {
                order.select_nth_unstable_by(k.saturating_sub(1).min(len - 1), cmp);
                order.truncate(k);
            }
            super::util::sort_indices(&mut order, &|p, q| cmp(&p, &q));
            for (r, &j) in order.iter().take(k).enumerate() {
                picks[(o * k + r) * inner + i] = (o * len + j) * inner + i;
            }
        }
    }
    let indices: Vec<i64> = picks.iter().map(|&p| ((p / inner) % len) as i64).collect();
    let mut shape = x.shape().to_vec();
    shape[a] = k;
    let values = crate::map_moved!(x.data(), d => picks.iter().map(|&p| d[p].clone()).collect());
    Ok(vec![
        Tensor::new(shape.clone(), values)?,
        Tensor::from_i64(shape, indices)?,
    ])
}

/// The fused `TopK(MatMul(A, B), k)` over the last axis ([`crate::ir::retrieve`]): the same
/// outputs as the two kernels. Per row of A (up to 8 rows; more, or no screening copy, or a
/// query the screen declines, such as one holding NaN or inf: the MatMul and TopK kernels
/// themselves), the int8 screening pass ([`Screen::candidates`]) names the columns of B that
/// may rank in the top k, those are scored exactly in the order of the few-rows product
/// ([`super::linalg::rows::column_dot`]: the same bits as the unfused MatMul wherever it runs
/// that product, i.e. for ≤ 4 rows over a B of more than 2^20 floats, which is where the rewrite
/// fuses), and selected with TopK's order (`total_cmp`, ties to the lower index), sorted.
#[inline(never)]
fn matmul_topk(
    a: &Tensor,
    b: &Tensor,
    k: usize,
    largest: bool,
    screen: Option<&Screen>,
) -> Result<Vec<Tensor>> {
    let screened = if cfg!(feature = "retrieval") {
        screened_topk(a, b, k, largest, screen)?
    } else {
        None
    };
    match screened {
        Some(out) => Ok(out),
        None => topk(
            &super::linalg::matmul(a, b, None, None)?,
            k as i64,
            -1,
            largest,
        ),
    }
}

/// [`matmul_topk`] through the screen, or `None` where it does not apply.
fn screened_topk(
    a: &Tensor,
    b: &Tensor,
    k: usize,
    largest: bool,
    screen: Option<&Screen>,
) -> Result<Option<Vec<Tensor>>> {
    let (TensorData::F32(x), TensorData::F32(bv), &[kd, n], Some(s)) =
        (a.data(), b.data(), b.shape(), screen)
    else {
        return Ok(None);
    };
    let r = a.rank();
    // MatMul's and TopK's own errors and empty cases stay theirs
    if r == 0 || a.shape()[r - 1] != kd || kd == 0 || k == 0 || k > n || s.len() != n {
        return Ok(None);
    }
    if x.len() / kd > 8 {
        return Ok(None);
    }
    let (mut values, mut indices) = (Vec::new(), Vec::new());
    for row in x.chunks_exact(kd) {
        let Some(c) = s.candidates(row, None, k, largest, Post::default()) else {
            return Ok(None);
        };
        // TopK over the candidates' exact scores: they are in increasing item order, so its
        // ties to the lower position are ties to the lower item
        let scored: Vec<f32> = c
            .iter()
            .map(|&j| super::linalg::rows::column_dot(row, bv, n, j as usize))
            .collect();
        let t = topk(
            &Tensor::from_f32(vec![c.len()], scored)?,
            k as i64,
            0,
            largest,
        )?;
        values.extend_from_slice(t[0].as_f32()?);
        indices.extend(t[1].to_i64_vec().iter().map(|&p| c[p as usize] as i64));
    }
    let mut shape = a.shape()[..r - 1].to_vec();
    shape.push(k);
    Ok(Some(vec![
        Tensor::from_f32(shape.clone(), values)?,
        Tensor::from_i64(shape, indices)?,
    ]))
}

/// TopK for small k over contiguous f32 rows: one pass keeping the best k in a sorted buffer
/// (O(len·log k) compares, no per-element allocation). Same order as the general path: by
/// value (`total_cmp`), ties to the lower index. Once the buffer is full, the elements that
/// cannot enter (almost all of a long row) are passed over by [`next_candidate`].
fn topk_small_k(
    v: &[f32],
    shape: &[usize],
    a: usize,
    outer: usize,
    len: usize,
    k: usize,
    largest: bool,
) -> Result<Vec<Tensor>> {
    let better = |x: f32, y: f32| {
        if largest {
            x.total_cmp(&y).is_gt()
        } else {
            x.total_cmp(&y).is_lt()
        }
    };
    let mut values = Vec::with_capacity(outer * k);
    let mut indices = Vec::with_capacity(outer * k);
    let mut best: Vec<(f32, usize)> = Vec::with_capacity(k + 1);
    for row in v.chunks(len).take(outer) {
        best.clear();
        let mut j = 0;
        while j < len {
            if best.len() == k {
                j = next_candidate(row, j, total_key(best[k - 1].0), largest, TOPK_KERNEL);
                if j == len {
                    break;
                }
            }
            let x = row[j];
            // after every element at least as good (earlier indices win ties)
            let pos = best.partition_point(|&(y, _)| !better(x, y));
            best.insert(pos, (x, j));
            best.truncate(k);
            j += 1;
        }
        values.extend(best.iter().map(|b| b.0));
        indices.extend(best.iter().map(|b| b.1 as i64));
    }
    let mut out_shape = shape.to_vec();
    out_shape[a] = k;
    Ok(vec![
        Tensor::from_f32(out_shape.clone(), values)?,
        Tensor::from_i64(out_shape, indices)?,
    ])
}

/// The scan of [`topk_small_k`] in the product (the scalar twin runs in the parity checks).
const TOPK_KERNEL: crate::backend::cpu::linalg::sgemm::Kernel =
    crate::backend::cpu::linalg::sgemm::Kernel::Simd;

/// `f32::total_cmp` as an i32 key: `total_key(x) < total_key(y)` exactly when `x.total_cmp(&y)`
/// is `Less` (negative values' magnitude bits flipped, as the standard library does).
#[inline(always)]
fn total_key(x: f32) -> i32 {
    let b = x.to_bits() as i32;
    b ^ (((b >> 31) as u32) >> 1) as i32
}

/// The first index `j ≥ from` whose value is strictly better than the one of key `worst`
/// (greater in `total_cmp` order when `largest`, else smaller), or `row.len()`. The SIMD128
/// kernel tests 16 values per step and finds the index in a step that holds one with the
/// scalar twin's loop, so both return the same index.
fn next_candidate(
    row: &[f32],
    from: usize,
    worst: i32,
    largest: bool,
    kernel: crate::backend::cpu::linalg::sgemm::Kernel,
) -> usize {
    let scalar = |from: usize, to: usize| {
        (from..to)
            .find(|&j| {
                let key = total_key(row[j]);
                if largest {
                    key > worst
                } else {
                    key < worst
                }
            })
            .unwrap_or(to)
    };
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if kernel == crate::backend::cpu::linalg::sgemm::Kernel::Simd {
        use core::arch::wasm32::*;
        let t = i32x4_splat(worst);
        let p = row.as_ptr();
        let beats = |j: usize| {
            // SAFETY: the caller's j + 4 ≤ row.len()
            let b = unsafe { v128_load(p.add(j) as *const v128) };
            let key = v128_xor(b, u32x4_shr(i32x4_shr(b, 31), 1));
            if largest {
                i32x4_gt(key, t)
            } else {
                i32x4_lt(key, t)
            }
        };
        let mut j = from;
        while j + 16 <= row.len() {
            let any = v128_or(
                v128_or(beats(j), beats(j + 4)),
                v128_or(beats(j + 8), beats(j + 12)),
            );
            if v128_any_true(any) {
                return scalar(j, j + 16);
            }
            j += 16;
        }
        return scalar(j, row.len());
    }
    let _ = kernel;
    scalar(from, row.len())
}

/// Runs [`next_candidate`]'s SIMD128 kernel against its scalar twin inside wasm over rows with
/// ties, both zeros, infinities and NaNs of both signs, every start offset and both directions;
/// returns how many answers differ (0 expected). Inside wasm this is the test hook
/// `topkCheckForTest`.
#[cfg(any(test, feature = "test-api"))]
pub fn check_against_scalar() -> usize {
    use crate::backend::cpu::linalg::sgemm::Kernel;
    let mut rng = crate::testing::Rng::new(23);
    let special = [
        0.0,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        -f32::NAN,
        f32::MIN_POSITIVE,
        -1.0,
        1.0,
    ];
    let mut bad = 0;
    for len in [0usize, 1, 15, 16, 17, 40, 100] {
        let row: Vec<f32> = (0..len)
            .map(|i| {
                let x = rng.f32_in(-1.0, 1.0);
                if i % 7 == 3 {
                    special[i % special.len()]
                } else {
                    (x * 8.0).round() / 8.0
                }
            })
            .collect();
        for &w in special.iter().chain(&[0.5, -0.75, 0.875]) {
            for largest in [true, false] {
                for from in 0..=len {
                    let (s, v) = (
                        next_candidate(&row, from, total_key(w), largest, Kernel::Scalar),
                        next_candidate(&row, from, total_key(w), largest, Kernel::Simd),
                    );
                    bad += usize::from(s != v);
                }
            }
        }
    }
    bad
}

/// CumSum, or CumProd with `product`.
fn cumulate(
    x: &Tensor,
    axis: i64,
    exclusive: bool,
    reverse: bool,
    product: bool,
) -> Result<Tensor> {
    let a = norm_axis(axis, x.rank())?;
    let (outer, len, inner) = around(x.shape(), a);
    macro_rules! go {
        ($v:expr, $zero:expr, $one:expr, $mul:expr) => {{
            let mut out = $v.clone();
            for o in 0..outer {
                for i in 0..inner {
                    let mut acc = if product { $one } else { $zero };
                    for step in 0..len {
                        let j = if reverse { len - 1 - step } else { step };
                        let p = (o * len + j) * inner + i;
                        let next = if product {
                            $mul(acc, $v[p])
                        } else {
                            acc + $v[p]
                        };
                        out[p] = if exclusive { acc } else { next };
                        acc = next;
                    }
                }
            }
            out
        }};
    }
    let data = match x.data() {
        TensorData::F32(v) => TensorData::F32(go!(v, 0.0f32, 1.0f32, |a: f32, b: f32| a * b)),
        TensorData::I64(v) => TensorData::I64(go!(v, 0i64, 1i64, i64::wrapping_mul)),
        TensorData::I32(v) => TensorData::I32(go!(v, 0i32, 1i32, i32::wrapping_mul)),
        d => {
            return Err(Error::dtype(format!(
                "CumSum/CumProd does not take {}",
                d.dtype()
            )))
        }
    };
    Tensor::new(x.shape().to_vec(), data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cumulative_products_follow_the_operator_document() {
        let x = Tensor::from_f32(vec![3], vec![1.0, 2.0, 3.0]).unwrap();
        let run = |e, r| {
            cumulate(&x, 0, e, r, true)
                .unwrap()
                .as_f32()
                .unwrap()
                .to_vec()
        };
        assert_eq!(run(false, false), [1.0, 2.0, 6.0]);
        assert_eq!(run(true, false), [1.0, 1.0, 2.0]);
        assert_eq!(run(false, true), [6.0, 6.0, 3.0]);
        assert_eq!(run(true, true), [6.0, 3.0, 1.0]);
    }

    #[test]
    fn reduce_middle_axis_matches_hand_sums() {
        let x = Tensor::from_f32(vec![2, 3, 2], (0..12).map(|i| i as f32).collect()).unwrap();
        let s = reduce(&x, ReduceKind::Sum, &[1], false).unwrap();
        assert_eq!(s.shape(), &[2, 2]);
        assert_eq!(s.as_f32().unwrap(), &[6., 9., 24., 27.]);
        let m = reduce(&x, ReduceKind::Max, &[-1], true).unwrap();
        assert_eq!(m.shape(), &[2, 3, 1]);
        assert_eq!(m.as_f32().unwrap(), &[1., 3., 5., 7., 9., 11.]);
        let all = reduce(&x, ReduceKind::Mean, &[], false).unwrap();
        assert_eq!(all.as_f32().unwrap(), &[5.5]);
    }

    #[test]
    fn topk_ties_prefer_lower_index() {
        let x = Tensor::from_f32(vec![6], vec![1., 3., 3., 2., 3., 0.]).unwrap();
        let out = topk(&x, 3, 0, true).unwrap();
        assert_eq!(out[0].as_f32().unwrap(), &[3., 3., 3.]);
        assert_eq!(out[1].as_i64().unwrap(), &[1, 2, 4]);
        let out = topk(&x, 2, 0, false).unwrap();
        assert_eq!(out[1].as_i64().unwrap(), &[5, 0]);
        assert!(topk(&x, 7, 0, true).is_err());
    }

    #[test]
    fn total_key_orders_like_total_cmp() {
        let v = [
            f32::NEG_INFINITY,
            -f32::NAN,
            -1.5,
            -0.0,
            0.0,
            1e-40,
            2.0,
            f32::INFINITY,
            f32::NAN,
        ];
        for x in v {
            for y in v {
                assert_eq!(total_key(x).cmp(&total_key(y)), x.total_cmp(&y), "{x} {y}");
            }
        }
    }

    #[test]
    fn topk_scan_simd_equals_scalar_twin() {
        assert_eq!(check_against_scalar(), 0);
    }

    #[test]
    fn topk_small_k_matches_general_path() {
        // values with many ties (rounded), both directions, several rows
        let v: Vec<f32> = crate::backend::cpu::util::test_values(3 * 500, 11)
            .into_iter()
            .map(|x| (x * 20.0).round())
            .collect();
        let x = Tensor::from_f32(vec![3, 500], v.clone()).unwrap();
        for largest in [true, false] {
            let fast = topk(&x, 10, 1, largest).unwrap();
            let shape = [3usize, 500];
            // the general path: sort every row by (value, index)
            let mut want_idx = vec![];
            for r in 0..3 {
                let row = &v[r * 500..(r + 1) * 500];
                let mut order: Vec<usize> = (0..500).collect();
                order.sort_by(|&p, &q| {
                    let o = row[p].total_cmp(&row[q]);
                    (if largest { o.reverse() } else { o }).then(p.cmp(&q))
                });
                want_idx.extend(order[..10].iter().map(|&i| i as i64));
            }
            assert_eq!(
                fast[1].as_i64().unwrap(),
                &want_idx[..],
                "largest={largest} {shape:?}"
            );
        }
    }
}
