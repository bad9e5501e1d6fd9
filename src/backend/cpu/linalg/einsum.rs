//! Einsum on the CPU.
//!
//! Two-operand contractions that are a (batched) matrix product after permuting axes — batched
//! matmul, inner and outer products, products with transposed operands — go to
//! [`gemm_strided`]: an operand already in `[batch, rows, inner]` or `[batch, inner, rows]`
//! order is read in place, any other order is permuted once into a contiguous copy, and the
//! result is permuted once if the output asks for another order. Everything else (one operand:
//! transposes, sums, diagonals; three or more operands; subscripts summed inside one operand;
//! broadcast size-1 dims) runs as a direct sum over the whole index space, exact for every
//! equation numpy accepts but not GEMM-fast.

use super::gemm_strided;
use crate::error::{Error, Result};
use crate::ir::ops::linalg::{EinsumSpec, ELLIPSIS};
use crate::tensor::{numel_checked, strides, Tensor, TensorData};
use std::ops::{AddAssign, Mul};

/// Largest index space the direct-sum path walks (output elements × summed combinations);
/// 2^31 so that it fits `usize` on wasm32 too.
const MAX_ITERATIONS: usize = 1 << 31;

/// The equation with `...` expanded for the given operand ranks: one label per axis (ellipsis
/// axes get labels 128.. aligned to the right as numpy broadcasts them) and each label's size.
struct Expanded {
    inputs: Vec<Vec<u8>>,
    output: Vec<u8>,
    /// Size of each label (`usize::MAX` when unused).
    size: [usize; 256],
}

fn expand(spec: &EinsumSpec, shapes: &[&[usize]]) -> Result<Expanded> {
    let eq = &spec.equation;
    if shapes.len() != spec.inputs.len() {
        return Err(Error::shape(format!(
            "Einsum '{eq}': the equation has {} operands but {} inputs were given",
            spec.inputs.len(),
            shapes.len()
        )));
    }
    let mut n_ells = Vec::with_capacity(shapes.len());
    for (term, shape) in spec.inputs.iter().zip(shapes) {
        let explicit = term.iter().filter(|&&c| c != ELLIPSIS).count();
        let has_ell = term.contains(&ELLIPSIS);
        let fits = if has_ell {
            shape.len() >= explicit
        } else {
            shape.len() == explicit
        };
        if !fits {
            return Err(Error::shape(format!(
                "Einsum '{eq}': term '{}' needs rank {}{explicit} but the operand has shape {shape:?}",
                String::from_utf8_lossy(term).replace('.', "..."),
                if has_ell { ">= " } else { "" }
            )));
        }
        n_ells.push(shape.len() - explicit);
    }
    let max_ell = n_ells.iter().copied().max().unwrap_or(0);
    let ell_labels = |n: usize| (max_ell - n..max_ell).map(|j| 128 + j as u8);
    let expand_term = |term: &[u8], n: usize| -> Vec<u8> {
        let mut v = Vec::with_capacity(term.len() + n);
        for &c in term {
            if c == ELLIPSIS {
                v.extend(ell_labels(n));
            } else {
                v.push(c);
            }
        }
        v
    };
    let inputs: Vec<Vec<u8>> = spec
        .inputs
        .iter()
        .zip(&n_ells)
        .map(|(t, &n)| expand_term(t, n))
        .collect();
    let output = expand_term(&spec.output, max_ell);
    let mut size = [usize::MAX; 256];
    for (labels, shape) in inputs.iter().zip(shapes) {
        for (&c, &d) in labels.iter().zip(shape.iter()) {
            let s = &mut size[c as usize];
            if *s == usize::MAX || *s == 1 {
                *s = d;
            } else if d != 1 && d != *s {
                return Err(Error::shape(format!(
                    "Einsum '{eq}': subscript '{}' has size {s} in one place and {d} in another (operand shapes {shapes:?})",
                    label_name(c)
                )));
            }
        }
    }
    Ok(Expanded {
        inputs,
        output,
        size,
    })
}

fn label_name(c: u8) -> String {
    if c >= 128 {
        format!("...#{}", c - 128)
    } else {
        (c as char).to_string()
    }
}

/// Runs an einsum on operands of one dtype (float32, int64 or int32).
#[inline(never)]
pub fn einsum(spec: &EinsumSpec, ts: &[&Tensor]) -> Result<Tensor> {
    let shapes: Vec<&[usize]> = ts.iter().map(|t| t.shape()).collect();
    let ex = expand(spec, &shapes)?;
    let out_shape: Vec<usize> = ex.output.iter().map(|&c| ex.size[c as usize]).collect();
    numel_checked(&out_shape)?;
    let dtype = ts.first().map(|t| t.dtype());
    if let Some(t) = ts.iter().find(|t| Some(t.dtype()) != dtype) {
        return Err(Error::dtype(format!(
            "Einsum '{}': operands must share one dtype, got {:?} and {}",
            spec.equation,
            dtype,
            t.dtype()
        )));
    }
    macro_rules! general {
        ($variant:ident, $ctor:expr) => {{
            let vals: Vec<&[_]> = ts
                .iter()
                .map(|t| match t.data() {
                    TensorData::$variant(v) => v.as_slice(),
                    _ => unreachable!("dtypes checked above"),
                })
                .collect();
            let out = direct_sum(&ex, &shapes, &vals, &out_shape, &spec.equation)?;
            Tensor::new(out_shape, $ctor(out))
        }};
    }
    match dtype {
        Some(crate::tensor::DType::F32) => {
            if ts.len() == 2 {
                if let Some(out) = try_gemm(&ex, ts[0], ts[1])? {
                    return Tensor::from_f32(out_shape, out);
                }
            }
            general!(F32, TensorData::F32)
        }
        Some(crate::tensor::DType::I64) => general!(I64, TensorData::I64),
        Some(crate::tensor::DType::I32) => general!(I32, TensorData::I32),
        Some(d) => Err(Error::dtype(format!(
            "Einsum '{}': operands of type {d} are not supported (float32, int64, int32 are)",
            spec.equation
        ))),
        None => Err(Error::shape(format!(
            "Einsum '{}': no operands",
            spec.equation
        ))),
    }
}

/// The contraction as one batched GEMM, or `None` when it is not of that form.
fn try_gemm(ex: &Expanded, a: &Tensor, b: &Tensor) -> Result<Option<Vec<f32>>> {
    let (la, lb, lo) = (&ex.inputs[0], &ex.inputs[1], &ex.output);
    let distinct = |l: &[u8]| (0..l.len()).all(|i| !l[..i].contains(&l[i]));
    if !distinct(la) || !distinct(lb) {
        return Ok(None);
    }
    // every axis at full size (no broadcast 1s) and no subscript summed inside one operand
    let full =
        |l: &[u8], shape: &[usize]| l.iter().zip(shape).all(|(&c, &d)| d == ex.size[c as usize]);
    if !full(la, a.shape()) || !full(lb, b.shape()) {
        return Ok(None);
    }
    if la.iter().any(|c| !lb.contains(c) && !lo.contains(c))
        || lb.iter().any(|c| !la.contains(c) && !lo.contains(c))
    {
        return Ok(None);
    }
    let batch: Vec<u8> = lo
        .iter()
        .copied()
        .filter(|c| la.contains(c) && lb.contains(c))
        .collect();
    let rows: Vec<u8> = lo.iter().copied().filter(|c| !lb.contains(c)).collect();
    let cols: Vec<u8> = lo.iter().copied().filter(|c| !la.contains(c)).collect();
    let inner: Vec<u8> = la.iter().copied().filter(|c| !lo.contains(c)).collect();
    let prod = |l: &[u8]| l.iter().map(|&c| ex.size[c as usize]).product::<usize>();
    let (nb, m, n, k) = (prod(&batch), prod(&rows), prod(&cols), prod(&inner));
    let cat = |parts: &[&[u8]]| parts.concat();

    // lhs as [batch, m, k] (strides (k, 1)) or [batch, k, m] (strides (1, m)), copied if neither
    let av = a.as_f32()?;
    let a_owned;
    let (a_data, a_st): (&[f32], (usize, usize)) = if *la == cat(&[&batch, &rows, &inner]) {
        (av, (k, 1))
    } else if *la == cat(&[&batch, &inner, &rows]) {
        (av, (1, m))
    } else {
        a_owned = permute_to(av, la, a.shape(), &cat(&[&batch, &rows, &inner]))?;
        (&a_owned, (k, 1))
    };
    let bv = b.as_f32()?;
    let b_owned;
    let (b_data, b_st): (&[f32], (usize, usize)) = if *lb == cat(&[&batch, &inner, &cols]) {
        (bv, (n, 1))
    } else if *lb == cat(&[&batch, &cols, &inner]) {
        (bv, (1, k))
    } else {
        b_owned = permute_to(bv, lb, b.shape(), &cat(&[&batch, &inner, &cols]))?;
        (&b_owned, (n, 1))
    };
    let total = numel_checked(&[nb, m, n])?;
    let mut out = vec![0.0f32; total];
    if m > 0 && n > 0 {
        for i in 0..nb {
            gemm_strided(
                m,
                n,
                k,
                &mut out[i * m * n..(i + 1) * m * n],
                false,
                &a_data[i * m * k..],
                a_st,
                &b_data[i * k * n..],
                b_st,
                1.0,
            );
        }
    }
    let computed = cat(&[&batch, &rows, &cols]);
    if computed == *lo {
        return Ok(Some(out));
    }
    let shape: Vec<usize> = computed.iter().map(|&c| ex.size[c as usize]).collect();
    Ok(Some(permute_to(&out, &computed, &shape, lo)?))
}

/// Copies `src` (axes labelled `from`, shape `shape`) into row-major order of the labels `to`
/// (a permutation of `from`).
fn permute_to<T: Copy + Default>(
    src: &[T],
    from: &[u8],
    shape: &[usize],
    to: &[u8],
) -> Result<Vec<T>> {
    let st = strides(shape);
    let mut src_st = Vec::with_capacity(to.len());
    let mut dims = Vec::with_capacity(to.len());
    for c in to {
        let p = from
            .iter()
            .position(|f| f == c)
            .ok_or_else(|| Error::shape("einsum: internal permutation mismatch"))?;
        src_st.push(st[p]);
        dims.push(shape[p]);
    }
    let n = numel_checked(&dims)?;
    let mut out = vec![T::default(); n];
    if n == 0 {
        return Ok(out);
    }
    let r = dims.len();
    if r == 0 {
        out[0] = src[0];
        return Ok(out);
    }
    let (last, last_st) = (dims[r - 1], src_st[r - 1]);
    let mut idx = vec![0usize; r - 1];
    let mut off = 0usize;
    for row in out.chunks_exact_mut(last) {
        for (j, o) in row.iter_mut().enumerate() {
            *o = src[off + j * last_st];
        }
        // next row: odometer over the leading axes, offset updated incrementally
        for d in (0..r - 1).rev() {
            idx[d] += 1;
            off += src_st[d];
            if idx[d] < dims[d] {
                break;
            }
            off -= src_st[d] * dims[d];
            idx[d] = 0;
        }
    }
    Ok(out)
}

/// The walk of [`direct_sum`] over every label, the same for every dtype (so built once, not
/// per dtype): each label's size, its stride in each operand and in the output.
struct Walk {
    dims: Vec<usize>,
    op_st: Vec<Vec<usize>>,
    out_st: Vec<usize>,
    /// Number of steps (the product of `dims`).
    total: usize,
    n_out: usize,
}

#[inline(never)]
fn walk(ex: &Expanded, shapes: &[&[usize]], out_shape: &[usize], eq: &str) -> Result<Walk> {
    let n_out = numel_checked(out_shape)?;
    let mut labels: Vec<u8> = ex.output.clone();
    for &c in ex.inputs.iter().flatten() {
        if !labels.contains(&c) {
            labels.push(c);
        }
    }
    let dims: Vec<usize> = labels.iter().map(|&c| ex.size[c as usize]).collect();
    let total = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&t| t <= MAX_ITERATIONS)
        .ok_or_else(|| {
            Error::Limit(format!(
                "Einsum '{eq}': the index space {dims:?} is too large to sum directly"
            ))
        })?;
    // per label: stride in each operand (summed over repeats, 0 on broadcast axes), in the output
    let op_st: Vec<Vec<usize>> = ex
        .inputs
        .iter()
        .zip(shapes)
        .map(|(l, shape)| {
            let st = strides(shape);
            labels
                .iter()
                .map(|c| {
                    l.iter()
                        .zip(shape.iter().zip(&st))
                        .filter(|(d, (&size, _))| *d == c && size != 1)
                        .map(|(_, (_, &s))| s)
                        .sum()
                })
                .collect()
        })
        .collect();
    let mut out_st = strides(out_shape);
    out_st.resize(labels.len(), 0);
    Ok(Walk {
        dims,
        op_st,
        out_st,
        total,
        n_out,
    })
}

/// Direct sum over every label: out[o] += Π operand values. Handles diagonals (a label repeated
/// inside one operand), labels summed inside one operand, broadcast size-1 axes, any operand count.
fn direct_sum<T: Copy + Default + Mul<Output = T> + AddAssign>(
    ex: &Expanded,
    shapes: &[&[usize]],
    vals: &[&[T]],
    out_shape: &[usize],
    eq: &str,
) -> Result<Vec<T>> {
    let Walk {
        dims,
        op_st,
        out_st,
        total,
        n_out,
    } = walk(ex, shapes, out_shape, eq)?;
    let mut out = vec![T::default(); n_out];
    if total == 0 {
        return Ok(out);
    }
    let r = dims.len();
    let mut idx = vec![0usize; r];
    let mut offs = vec![0usize; vals.len()];
    let mut o = 0usize;
    for _ in 0..total {
        let mut p = vals[0][offs[0]];
        for (v, &off) in vals.iter().zip(&offs).skip(1) {
            p = p * v[off];
        }
        out[o] += p;
        for d in (0..r).rev() {
            idx[d] += 1;
            o += out_st[d];
            for (off, st) in offs.iter_mut().zip(&op_st) {
                *off += st[d];
            }
            if idx[d] < dims[d] {
                break;
            }
            o -= out_st[d] * dims[d];
            for (off, st) in offs.iter_mut().zip(&op_st) {
                *off -= st[d] * dims[d];
            }
            idx[d] = 0;
        }
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::type_complexity)]
mod tests {
    use super::super::super::util::test_values as rand;
    use super::*;

    fn run(eq: &str, ts: &[&Tensor]) -> Result<Tensor> {
        einsum(&EinsumSpec::parse(eq).map_err(Error::shape)?, ts)
    }

    /// The direct-sum path on the same operands (the reference for the GEMM path).
    fn reference(eq: &str, ts: &[&Tensor]) -> Vec<f32> {
        let spec = EinsumSpec::parse(eq).unwrap();
        let shapes: Vec<&[usize]> = ts.iter().map(|t| t.shape()).collect();
        let ex = expand(&spec, &shapes).unwrap();
        let out_shape: Vec<usize> = ex.output.iter().map(|&c| ex.size[c as usize]).collect();
        let vals: Vec<&[f32]> = ts.iter().map(|t| t.as_f32().unwrap()).collect();
        direct_sum(&ex, &shapes, &vals, &out_shape, eq).unwrap()
    }

    fn t(shape: &[usize], seed: u64) -> Tensor {
        let n = shape.iter().product();
        Tensor::from_f32(shape.to_vec(), rand(n, seed)).unwrap()
    }

    fn close(got: &[f32], want: &[f32], what: &str) {
        crate::testing::assert_close(what, got, want, 1e-5, 1e-5);
    }

    #[test]
    fn gemm_path_matches_direct_sum() {
        let cases: &[(&str, &[usize], &[usize], &[usize])] = &[
            ("ij,jk->ik", &[3, 4], &[4, 5], &[3, 5]),
            ("bij,bjk->bik", &[2, 3, 4], &[2, 4, 5], &[2, 3, 5]),
            ("ij,kj->ik", &[3, 4], &[5, 4], &[3, 5]),
            ("ji,jk->ik", &[4, 3], &[4, 5], &[3, 5]),
            ("ij,jk->ki", &[3, 4], &[4, 5], &[5, 3]),
            ("i,i", &[7], &[7], &[]),
            ("i,j->ij", &[3], &[4], &[3, 4]),
            (
                "bhqd,bhkd->bhqk",
                &[2, 3, 4, 5],
                &[2, 3, 6, 5],
                &[2, 3, 4, 6],
            ),
            (
                "bqhd,bkhd->bhqk",
                &[2, 4, 3, 5],
                &[2, 6, 3, 5],
                &[2, 3, 4, 6],
            ),
            ("...ij,...jk", &[2, 3, 4], &[2, 4, 5], &[2, 3, 5]),
            ("abc,cd->abd", &[2, 3, 4], &[4, 5], &[2, 3, 5]),
            ("ik,kj", &[1, 0], &[0, 3], &[1, 3]),
        ];
        for (i, &(eq, sa, sb, so)) in cases.iter().enumerate() {
            let (a, b) = (t(sa, 2 * i as u64 + 1), t(sb, 2 * i as u64 + 2));
            let spec = EinsumSpec::parse(eq).unwrap();
            let ex = expand(&spec, &[sa, sb]).unwrap();
            let fast = try_gemm(&ex, &a, &b).unwrap();
            assert!(fast.is_some(), "{eq} should take the GEMM path");
            let got = run(eq, &[&a, &b]).unwrap();
            assert_eq!(got.shape(), so, "{eq}");
            close(got.as_f32().unwrap(), &reference(eq, &[&a, &b]), eq);
        }
    }

    #[test]
    fn matches_numpy() {
        // values from numpy.einsum
        let x = Tensor::from_f32(vec![2, 3], vec![1., 2., 3., 4., 5., 6.]).unwrap();
        let y = Tensor::from_f32(vec![3, 2], vec![1., -1., 0., 2., 3., 0.5]).unwrap();
        let sq = Tensor::from_f32(vec![2, 2], vec![1., 2., 3., 4.]).unwrap();
        let cases: Vec<(&str, Vec<&Tensor>, Vec<usize>, Vec<f32>)> = vec![
            ("ij->ji", vec![&x], vec![3, 2], vec![1., 4., 2., 5., 3., 6.]),
            ("ij->i", vec![&x], vec![2], vec![6., 15.]),
            ("ij", vec![&x], vec![2, 3], vec![1., 2., 3., 4., 5., 6.]),
            ("ji", vec![&x], vec![3, 2], vec![1., 4., 2., 5., 3., 6.]),
            ("ii", vec![&sq], vec![], vec![5.]),
            ("ii->i", vec![&sq], vec![2], vec![1., 4.]),
            ("ij,jk", vec![&x, &y], vec![2, 2], vec![10., 4.5, 22., 9.]),
            ("ij,jk->", vec![&x, &y], vec![], vec![45.5]),
            ("ij,ij->i", vec![&x, &x], vec![2], vec![14., 77.]),
            (
                "Ab,bC->CA",
                vec![&x, &y],
                vec![2, 2],
                vec![10., 22., 4.5, 9.],
            ),
            (
                "ij,jk,kl->il",
                vec![&x, &y, &sq],
                vec![2, 2],
                vec![23.5, 38., 49., 80.],
            ),
        ];
        for (eq, ops, shape, want) in cases {
            let got = run(eq, &ops).unwrap();
            assert_eq!(got.shape(), shape.as_slice(), "{eq}");
            close(got.as_f32().unwrap(), &want, eq);
        }
    }

    #[test]
    fn batch_diagonal_and_broadcast_ellipsis() {
        let x = t(&[3, 4, 4], 7);
        let got = run("...ii->...i", &[&x]).unwrap();
        assert_eq!(got.shape(), &[3, 4]);
        let v = x.as_f32().unwrap();
        let want: Vec<f32> = (0..3)
            .flat_map(|b| (0..4).map(move |i| b * 16 + i * 5))
            .map(|o| v[o])
            .collect();
        close(got.as_f32().unwrap(), &want, "diag");
        // ellipsis axes broadcast like numpy: [2,1,3,4] · [5,4,2] -> [2,5,3,2]
        let (a, b) = (t(&[2, 1, 3, 4], 8), t(&[5, 4, 2], 9));
        let got = run("...ij,...jk->...ik", &[&a, &b]).unwrap();
        assert_eq!(got.shape(), &[2, 5, 3, 2]);
        let (av, bv) = (a.as_f32().unwrap(), b.as_f32().unwrap());
        let want = super::super::gemm_scalar(3, 2, 4, &av[12..], (4, 1), &bv[3 * 8..], (2, 1));
        close(
            &got.as_f32().unwrap()[(5 + 3) * 6..(5 + 3) * 6 + 6],
            &want,
            "bcast",
        );
    }

    #[test]
    fn integer_operands() {
        let a = Tensor::from_i64(vec![2, 2], vec![1, 2, 3, 4]).unwrap();
        let got = run("ij,jk->ik", &[&a, &a]).unwrap();
        assert_eq!(got.as_i64().unwrap(), &[7, 10, 15, 22]);
    }

    #[test]
    fn bad_equations_and_operands_are_errors() {
        for eq in ["ij,jk->iq", "i..j", "i...j...", "i1", "ij->ii"] {
            assert!(EinsumSpec::parse(eq).is_err(), "{eq}");
        }
        let x = t(&[2, 3], 1);
        let s = Tensor::scalar_f32(1.0);
        // rank mismatches, including a long term against a scalar (no underflow)
        assert!(run("ijk", &[&x]).is_err());
        assert!(run("...abcdefg", &[&s]).is_err());
        assert!(run("ij,jk", &[&x, &x]).is_err());
        assert!(run("ij,jk", &[&x]).is_err());
        let i = Tensor::from_i64(vec![2, 3], vec![0; 6]).unwrap();
        assert!(run("ij,ij", &[&x, &i]).is_err());
    }

    #[test]
    fn implicit_output_sorts_and_keeps_ellipsis_first() {
        let spec = EinsumSpec::parse("ba,...c").unwrap();
        assert_eq!(spec.output, vec![ELLIPSIS, b'a', b'b', b'c']);
        let spec = EinsumSpec::parse("Bb,bC").unwrap();
        assert_eq!(spec.output, b"BC".to_vec());
    }
}
