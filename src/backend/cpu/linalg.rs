//! CPU kernels of the linear-algebra family. Matrix products go to Hearth's own f32 GEMM
//! ([`sgemm`]: packed panels, a register-blocked SIMD128 micro-kernel) on borrowed slices with
//! explicit strides, so transposed operands and broadcast batches cost no copies; a constant B
//! (a MatMul's or Gemm's weight) is packed once when the session is built ([`prepack`]).

#[cfg(feature = "extra-ops")]
mod det;
mod einsum;
pub mod qgemm;
pub mod rows;
pub mod sgemm;

use super::util::{broadcast_shape, input, norm_axis, opt_input};
use crate::error::{Error, Result};
use crate::ir::ops::linalg::LinalgOp;
use crate::tensor::{numel_checked, strides, Tensor, TensorData};

pub fn run(op: &LinalgOp, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    run_packed(op, inputs, None)
}

/// A MatMul's or Gemm's constant f32 matrix B packed for the f32 GEMM ([`sgemm::PackedB`]).
#[derive(Debug)]
pub enum Pack {
    /// Packed when the session is built.
    Ready(sgemm::PackedB),
    /// A B too large to keep twice for nothing (more than [`STREAMED`] floats: a vocabulary or
    /// catalogue projection): packed on the first run whose A has more than 4 rows, then kept.
    /// Fewer rows read it row-major ([`use_packed`]); more rows would otherwise pack it on every
    /// run, O(K·N) reads and writes of a B that does not fit the caches (ddddocr's 1024 × 8210
    /// classifier over 20 time steps spent a fifth of its run there).
    Deferred(std::sync::OnceLock<sgemm::PackedB>),
}

/// The [`Pack`] of a MatMul's or Gemm's constant f32 matrix B, when the session is built;
/// `None` for other ops and for a B that is not a constant matrix.
pub fn prepack(op: &LinalgOp, consts: &[Option<&Tensor>]) -> Option<Pack> {
    let b = consts.get(1).copied().flatten()?;
    if b.numel() > STREAMED {
        let packs = matches!(op, LinalgOp::MatMul | LinalgOp::Gemm { .. })
            && matches!((b.data(), b.rank()), (TensorData::F32(_), 2));
        return packs.then(|| Pack::Deferred(std::sync::OnceLock::new()));
    }
    pack_b(op, b).map(Pack::Ready)
}

/// B packed for `op` (MatMul, Gemm), when it is an f32 matrix.
fn pack_b(op: &LinalgOp, b: &Tensor) -> Option<sgemm::PackedB> {
    let (TensorData::F32(v), [r, c]) = (b.data(), b.shape()) else {
        return None;
    };
    let (r, c) = (*r, *c);
    match op {
        LinalgOp::MatMul | LinalgOp::Gemm { trans_b: false, .. } => {
            Some(sgemm::PackedB::new(r, c, v, (c, 1)))
        }
        LinalgOp::Gemm { trans_b: true, .. } => Some(sgemm::PackedB::new(c, r, v, (1, c))),
        _ => None,
    }
}

/// The packed B of this run: the [`Pack::Ready`] one, or the deferred one once A has more than
/// 4 rows (packed then, on first use).
fn packed_for<'a>(
    op: &LinalgOp,
    inputs: &[Option<&Tensor>],
    pack: Option<&'a Pack>,
) -> Option<&'a sgemm::PackedB> {
    match pack? {
        Pack::Ready(p) => Some(p),
        Pack::Deferred(cell) => {
            let (a, b) = (inputs.first().copied()??, inputs.get(1).copied()??);
            let rows = match (op, a.shape(), b.shape()) {
                (LinalgOp::Gemm { trans_a, .. }, [r, c], _) => {
                    if *trans_a {
                        *c
                    } else {
                        *r
                    }
                }
                (LinalgOp::MatMul, _, [k, _]) if *k > 0 => a.numel() / k,
                _ => 0,
            };
            (rows > 4).then(|| cell.get_or_init(|| pack_b(op, b).unwrap_or_default()))
        }
    }
}

/// Whether a product of `m` rows runs on B packed ahead. Not for a few rows over a B too large
/// for the caches (streamed from memory once per run): there the row-major B, read four rows at
/// a time by [`small_rows`], streams 3–4× faster than the 8-column panels (measured on the
/// 1 × 64 · 64 × 100k scores of `rec.onnx`, p10 2.5 vs 11.4 ms; the panels' interleaved
/// streams, 2 KB apart, seem to defeat the hardware prefetcher).
fn use_packed(m: usize, p: &sgemm::PackedB) -> bool {
    m > 4 || p.k() * p.n() <= STREAMED
}

/// A B of more floats than this (4 MB) streams from memory rather than the caches.
pub(crate) const STREAMED: usize = 1 << 20;

/// [`run`] with B packed ahead ([`prepack`]) for MatMul and Gemm.
pub fn run_packed(
    op: &LinalgOp,
    inputs: &[Option<&Tensor>],
    pack: Option<&Pack>,
) -> Result<Vec<Tensor>> {
    let packed = packed_for(op, inputs, pack);
    Ok(match op {
        LinalgOp::MatMul => vec![matmul(
            input(inputs, 0, "A")?,
            input(inputs, 1, "B")?,
            opt_input(inputs, 2),
            packed,
        )?],
        LinalgOp::Gemm {
            alpha,
            beta,
            trans_a,
            trans_b,
        } => vec![gemm_op(
            input(inputs, 0, "A")?,
            input(inputs, 1, "B")?,
            opt_input(inputs, 2),
            *alpha,
            *beta,
            *trans_a,
            *trans_b,
            packed,
        )?],
        LinalgOp::Einsum(spec) => {
            let ts = (0..spec.inputs.len())
                .map(|i| input(inputs, i, "operand"))
                .collect::<Result<Vec<_>>>()?;
            vec![einsum::einsum(spec, &ts)?]
        }
        LinalgOp::MatMulInteger => vec![matmul_integer(inputs)?],
        #[cfg(feature = "extra-ops")]
        LinalgOp::Det => vec![det::det(input(inputs, 0, "X")?)?],
        #[cfg(not(feature = "extra-ops"))]
        LinalgOp::Det => return Err(crate::onnx::not_in_this_build("Det")),
        LinalgOp::GroupNorm {
            num_groups,
            epsilon,
        } => vec![group_norm(inputs, *num_groups, *epsilon)?],
        LinalgOp::MeanVarianceNorm { axes } => {
            vec![mean_variance_norm(input(inputs, 0, "X")?, axes)?]
        }
        LinalgOp::Lrn {
            size,
            alpha,
            beta,
            bias,
        } => vec![lrn(input(inputs, 0, "X")?, *size, *alpha, *beta, *bias)?],
        LinalgOp::Softmax { axis, log, legacy } => {
            vec![softmax(
                input(inputs, 0, "input")?,
                *axis,
                *legacy,
                if *log { Mode::Log } else { Mode::Soft },
            )?]
        }
        LinalgOp::Hardmax { axis, legacy } => vec![softmax(
            input(inputs, 0, "input")?,
            *axis,
            *legacy,
            Mode::Hard,
        )?],
        LinalgOp::LayerNorm { axis, epsilon } => layer_norm(
            input(inputs, 0, "X")?,
            input(inputs, 1, "Scale")?,
            opt_input(inputs, 2),
            *axis,
            *epsilon,
        )?,
        LinalgOp::BatchNorm { epsilon } => vec![batch_norm(inputs, *epsilon)?],
        LinalgOp::InstanceNorm { epsilon } => vec![instance_norm(
            input(inputs, 0, "input")?,
            input(inputs, 1, "scale")?,
            input(inputs, 2, "B")?,
            *epsilon,
        )?],
    })
}

/// The f32 GEMM's micro-kernel in the product (the scalar twin runs in the parity checks).
const KERNEL: sgemm::Kernel = sgemm::Kernel::Simd;

/// `dst[m×n] = beta_dst·dst + Σ lhs·rhs` with element strides (row, col) for each operand.
/// Safe wrapper: checks every operand's extent lies inside its slice before calling gemm.
#[allow(clippy::too_many_arguments)]
pub fn gemm_strided(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    read_dst: bool,
    lhs: &[f32],
    (lhs_rs, lhs_cs): (usize, usize),
    rhs: &[f32],
    (rhs_rs, rhs_cs): (usize, usize),
    scale: f32,
) {
    let extent = sgemm::extent;
    assert!(dst.len() >= m * n, "gemm: dst too small");
    assert!(
        lhs.len() >= extent(m, k, (lhs_rs, lhs_cs)),
        "gemm: lhs too small"
    );
    assert!(
        rhs.len() >= extent(k, n, (rhs_rs, rhs_cs)),
        "gemm: rhs too small"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !read_dst {
            dst[..m * n].fill(0.0);
        }
        return;
    }
    // Few rows (batch-1 layers, RNN steps): gemm's packing costs more than the product.
    // Contiguous dot products or row updates vectorise for SIMD128 directly.
    if m <= 4 {
        small_rows(
            m,
            n,
            k,
            dst,
            read_dst,
            lhs,
            (lhs_rs, lhs_cs),
            rhs,
            (rhs_rs, rhs_cs),
            scale,
        );
        return;
    }
    sgemm::sgemm(
        m,
        n,
        k,
        dst,
        read_dst,
        lhs,
        (lhs_rs, lhs_cs),
        rhs,
        (rhs_rs, rhs_cs),
        scale,
        KERNEL,
    );
}

/// The few-rows product of [`gemm_strided`]: each output row is either `n` contiguous dot
/// products (rhs contiguous along k, e.g. a transposed weight) or, for a row-major rhs, the
/// blocked row updates of [`rows::product`].
#[allow(clippy::too_many_arguments)]
fn small_rows(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    read_dst: bool,
    lhs: &[f32],
    (lrs, lcs): (usize, usize),
    rhs: &[f32],
    (rrs, rcs): (usize, usize),
    scale: f32,
) {
    if rcs == 1 && !(rrs == 1 && lcs == 1) {
        // row-major rhs: B streamed once for all the rows, in column blocks ([`rows`])
        rows::product(
            m,
            n,
            k,
            dst,
            read_dst,
            lhs,
            (lrs, lcs),
            rhs,
            rrs,
            scale,
            KERNEL,
        );
        return;
    }
    for i in 0..m {
        let out = &mut dst[i * n..(i + 1) * n];
        if !read_dst {
            out.fill(0.0);
        }
        if rrs == 1 && lcs == 1 {
            let a = &lhs[i * lrs..i * lrs + k];
            for (j, o) in out.iter_mut().enumerate() {
                let b = &rhs[j * rcs..j * rcs + k];
                *o += scale * dot(a, b);
            }
        } else {
            for (j, o) in out.iter_mut().enumerate() {
                let s: f32 = (0..k)
                    .map(|p| lhs[i * lrs + p * lcs] * rhs[p * rrs + j * rcs])
                    .sum();
                *o += scale * s;
            }
        }
    }
}

/// Dot product with 8 independent accumulators (vectorises to SIMD128 without reassociation
/// flags).
#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s = (acc[0] + acc[4]) + (acc[1] + acc[5]) + (acc[2] + acc[6]) + (acc[3] + acc[7]);
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// Scalar twin of [`gemm_strided`] (the reference in tests).
#[cfg(test)]
pub fn gemm_scalar(
    m: usize,
    n: usize,
    k: usize,
    lhs: &[f32],
    l: (usize, usize),
    rhs: &[f32],
    r: (usize, usize),
) -> Vec<f32> {
    let mut out = vec![0.0f32; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0f64;
            for p in 0..k {
                s += lhs[i * l.0 + p * l.1] as f64 * rhs[p * r.0 + j * r.1] as f64;
            }
            out[i * n + j] = s as f32;
        }
    }
    out
}

/// numpy `matmul`: batched, broadcasting, 1-D operands promoted and their axis removed.
/// MatMul's shapes: the matrix sizes, the broadcast batches with each operand's offset per
/// batch, and the output shape (1-D operands' axes dropped).
struct MmPlan {
    m: usize,
    k: usize,
    n: usize,
    nb: usize,
    ao: Vec<usize>,
    bo: Vec<usize>,
    /// B is one matrix and A's batch axes are the output's: one GEMM over all rows of A
    one_b: bool,
    out_shape: Vec<usize>,
}

fn mm_plan(ash: &[usize], bsh: &[usize], what: &str) -> Result<MmPlan> {
    if ash.is_empty() || bsh.is_empty() {
        return Err(Error::shape(format!("{what} operands must have rank >= 1")));
    }
    let a2: Vec<usize> = if ash.len() == 1 {
        vec![1, ash[0]]
    } else {
        ash.to_vec()
    };
    let b2: Vec<usize> = if bsh.len() == 1 {
        vec![bsh[0], 1]
    } else {
        bsh.to_vec()
    };
    let (m, k) = (a2[a2.len() - 2], a2[a2.len() - 1]);
    let (k2, n) = (b2[b2.len() - 2], b2[b2.len() - 1]);
    if k != k2 {
        return Err(Error::shape(format!(
            "{what}: A has shape {ash:?} and B has shape {bsh:?}; A's last dim {k} must equal B's second-to-last {k2}"
        )));
    }
    let batch = broadcast_shape(&a2[..a2.len() - 2], &b2[..b2.len() - 2])?;
    let nb: usize = batch.iter().product();
    let mut out_shape = batch.clone();
    out_shape.extend([m, n]);
    numel_checked(&out_shape)?;
    // batch offsets of each operand (0 stride on broadcast batch axes)
    let offsets = |shape: &[usize], mat: usize| -> Vec<usize> {
        let bs = &shape[..shape.len() - 2];
        let st = super::util::broadcast_strides(bs, &batch);
        (0..nb)
            .map(|i| {
                let mut rem = i;
                let mut off = 0;
                for d in (0..batch.len()).rev() {
                    off += (rem % batch[d]) * st[d];
                    rem /= batch[d];
                }
                off * mat
            })
            .collect()
    };
    let (ao, bo) = (offsets(&a2, m * k), offsets(&b2, k * n));
    if bsh.len() == 1 {
        out_shape.pop();
    }
    if ash.len() == 1 {
        out_shape.remove(out_shape.len() - if bsh.len() == 1 { 1 } else { 2 });
    }
    Ok(MmPlan {
        m,
        k,
        n,
        nb,
        ao,
        bo,
        one_b: b2.len() == 2 && a2.len() - 2 == batch.len(),
        out_shape,
    })
}

/// MatMul, with `bias` (the fused `MatMul + Add`'s N values, one per column of B) added to
/// every output row: the GEMM starts from it and accumulates onto it.
#[inline(never)]
pub fn matmul(
    a: &Tensor,
    b: &Tensor,
    bias: Option<&Tensor>,
    packed: Option<&sgemm::PackedB>,
) -> Result<Tensor> {
    let MmPlan {
        m,
        k,
        n,
        nb,
        ao,
        bo,
        one_b,
        out_shape: out_shape_final,
    } = mm_plan(a.shape(), b.shape(), "MatMul")?;
    match (a.data(), b.data()) {
        (TensorData::F32(x), TensorData::F32(y)) => {
            let mut out = vec![0.0f32; nb * m * n];
            let read = match bias {
                Some(c) if c.numel() == n => {
                    fill_c(&mut out, n, c.as_f32()?, (0, 1), 1.0);
                    true
                }
                Some(c) => {
                    return Err(Error::shape(format!(
                        "MatMul: the fused bias has {} values for {n} columns",
                        c.numel()
                    )))
                }
                None => false,
            };
            if let Some(p) =
                packed.filter(|p| one_b && p.k() == k && p.n() == n && use_packed(nb * m, p))
            {
                sgemm::sgemm_packed(nb * m, &mut out, read, x, (k, 1), p, 1.0, KERNEL);
                return Tensor::from_f32(out_shape_final, out);
            }
            if one_b {
                // one weight matrix for every batch of A ([.., M, K] · [K, N]): a single GEMM
                // over all nb·M rows instead of nb small ones (RNN outputs, attention projections)
                gemm_strided(nb * m, n, k, &mut out, read, x, (k, 1), y, (n, 1), 1.0);
                return Tensor::from_f32(out_shape_final, out);
            }
            for i in 0..nb {
                gemm_strided(
                    m,
                    n,
                    k,
                    &mut out[i * m * n..(i + 1) * m * n],
                    read,
                    &x[ao[i]..],
                    (k, 1),
                    &y[bo[i]..],
                    (n, 1),
                    1.0,
                );
            }
            Tensor::from_f32(out_shape_final, out)
        }
        _ if bias.is_some() => Err(Error::dtype("MatMul: a fused bias needs f32 operands")),
        _ if a.dtype() == b.dtype()
            && !a.dtype().is_float()
            && a.dtype() != crate::tensor::DType::Bool =>
        {
            let (x, y) = (a.to_i64_vec(), b.to_i64_vec());
            let mut out = vec![0i64; nb * m * n];
            for bi in 0..nb {
                for i in 0..m {
                    for j in 0..n {
                        out[bi * m * n + i * n + j] = (0..k)
                            .map(|p| x[ao[bi] + i * k + p].wrapping_mul(y[bo[bi] + p * n + j]))
                            .fold(0i64, i64::wrapping_add);
                    }
                }
            }
            let t = Tensor::from_i64(out_shape_final, out)?;
            super::math::cast(&t, a.dtype())
        }
        _ => Err(Error::dtype(format!(
            "MatMul: unsupported input types {} and {}",
            a.dtype(),
            b.dtype()
        ))),
    }
}

/// MatMulInteger: `(A - a_zero_point) · (B - b_zero_point)` of 8-bit operands, in int32 with
/// MatMul's broadcasting. A's zero point is one value or one per row of A (its second-to-last
/// axis); B's is one value or one per column of B (its last axis).
#[inline(never)]
pub(super) fn matmul_integer(inputs: &[Option<&Tensor>]) -> Result<Tensor> {
    let a = input(inputs, 0, "A")?;
    let b = input(inputs, 1, "B")?;
    let plan = mm_plan(a.shape(), b.shape(), "MatMulInteger")?;
    // 8-bit values minus 8-bit zero points, widened to i16 (they fit); A's zero point per row,
    // B's per column
    let widen = super::quant::widen_minus_zp;
    let op = "MatMulInteger";
    let av = widen(
        op,
        "a",
        a,
        opt_input(inputs, 2),
        (plan.m, plan.k, "row of A"),
    )?;
    let bv = widen(op, "b", b, opt_input(inputs, 3), (plan.n, 1, "column of B"))?;
    let MmPlan {
        m,
        k,
        n,
        nb,
        ao,
        bo,
        one_b,
        out_shape,
    } = plan;
    let k8 = qgemm::padded_k(k);
    let mut out = vec![0i32; nb * m * n];
    // B packed transposed once per distinct matrix (once for a weight shared by every batch)
    let pack_b = |o: usize| qgemm::pack(n, k, |j, p| bv[o + p * n + j]);
    if one_b {
        let bt = pack_b(0);
        let ap = qgemm::pack(nb * m, k, |r, p| av[r * k + p]);
        qgemm::qgemm(nb * m, n, k8, &ap, &bt, &mut out);
    } else {
        for i in 0..nb {
            let bt = pack_b(bo[i]);
            let ap = qgemm::pack(m, k, |r, p| av[ao[i] + r * k + p]);
            qgemm::qgemm(m, n, k8, &ap, &bt, &mut out[i * m * n..(i + 1) * m * n]);
        }
    }
    Tensor::new(out_shape, TensorData::I32(out))
}

#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn gemm_op(
    a: &Tensor,
    b: &Tensor,
    c: Option<&Tensor>,
    alpha: f32,
    beta: f32,
    ta: bool,
    tb: bool,
    packed: Option<&sgemm::PackedB>,
) -> Result<Tensor> {
    if a.rank() != 2 || b.rank() != 2 {
        return Err(Error::shape(format!(
            "Gemm: A {:?} and B {:?} must be matrices",
            a.shape(),
            b.shape()
        )));
    }
    let (x, y) = (a.as_f32()?, b.as_f32()?);
    let (m, k) = if ta {
        (a.shape()[1], a.shape()[0])
    } else {
        (a.shape()[0], a.shape()[1])
    };
    let (k2, n) = if tb {
        (b.shape()[1], b.shape()[0])
    } else {
        (b.shape()[0], b.shape()[1])
    };
    if k != k2 {
        return Err(Error::shape(format!(
            "Gemm: A {:?} (transA={}) and B {:?} (transB={}) have inner dims {k} and {k2}",
            a.shape(),
            ta as u8,
            b.shape(),
            tb as u8
        )));
    }
    let mut out = vec![0.0f32; numel_checked(&[m, n])?];
    let mut read = false;
    if let Some(c) = c {
        let cv = c.as_f32()?;
        let bs = broadcast_shape(c.shape(), &[m, n])?;
        if bs != [m, n] {
            return Err(Error::shape(format!(
                "Gemm: C {:?} does not broadcast to [{m}, {n}]",
                c.shape()
            )));
        }
        if beta != 0.0 {
            let st = super::util::broadcast_strides(c.shape(), &[m, n]);
            fill_c(&mut out, n, cv, (st[0], st[1]), beta);
            read = true;
        }
    }
    let ls = if ta { (1, m) } else { (k, 1) };
    let rs = if tb { (1, k) } else { (n, 1) };
    match packed.filter(|p| p.k() == k && p.n() == n && use_packed(m, p)) {
        Some(p) => sgemm::sgemm_packed(m, &mut out, read, x, ls, p, alpha, KERNEL),
        None => gemm_strided(m, n, k, &mut out, read, x, ls, y, rs, alpha),
    }
    Tensor::from_f32(vec![m, n], out)
}

/// Gemm's `β·C` (and the fused MatMul bias: β = 1, strides (0, 1)) written into the rows of
/// `out` (`n` columns) that the product then accumulates onto; `st`: C's (row, column) strides.
fn fill_c(out: &mut [f32], n: usize, c: &[f32], st: (usize, usize), beta: f32) {
    for (i, row) in out.chunks_exact_mut(n.max(1)).enumerate() {
        if beta == 1.0 && st.1 == 1 {
            // a row of C (or the bias) as it lies, times 1: a copy
            row.copy_from_slice(&c[i * st.0..i * st.0 + n]);
        } else {
            for (j, o) in row.iter_mut().enumerate() {
                *o = beta * c[i * st.0 + j * st.1];
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Soft,
    Log,
    Hard,
}

/// Softmax family over one axis (`legacy`: over all axes from `axis` on, as opset < 13).
///
/// The input is viewed as `[outer, len, inner]` with the normalised axis in the middle. The
/// common `inner == 1` case (last axis, or any legacy softmax) works on contiguous rows; otherwise
/// each `[len, inner]` block is processed a row of `inner` lanes at a time, so both paths are
/// contiguous loops LLVM can vectorise: a row's max and sum in [`LANES`] partial results, `exp`
/// in one pass over the whole output ([`exp_in_place`]).
#[inline(never)]
fn softmax(x: &Tensor, axis: i64, legacy: bool, mode: Mode) -> Result<Tensor> {
    let v = x.as_f32()?;
    let shape = x.shape();
    let a = norm_axis(axis, shape.len())?;
    let (len, inner) = if legacy {
        (shape[a..].iter().product::<usize>(), 1)
    } else {
        (shape[a], shape[a + 1..].iter().product::<usize>())
    };
    let block = len * inner;
    let mut out = vec![0.0f32; v.len()];
    if block == 0 {
        return Tensor::from_f32(shape.to_vec(), out);
    }
    if inner == 1 {
        for (dst, src) in out.chunks_exact_mut(len).zip(v.chunks_exact(len)) {
            softmax_row(src, dst, mode);
        }
    } else {
        let mut max = vec![0.0f32; inner];
        let mut acc = vec![0.0f32; inner];
        for (dst, src) in out.chunks_exact_mut(block).zip(v.chunks_exact(block)) {
            softmax_columns(src, dst, inner, mode, &mut max, &mut acc);
        }
    }
    Tensor::from_f32(shape.to_vec(), out)
}

/// One contiguous row: numerically stable (the row's max is subtracted before `exp`).
fn softmax_row(src: &[f32], dst: &mut [f32], mode: Mode) {
    if mode == Mode::Hard {
        let best = src
            .iter()
            .enumerate()
            .fold(0, |b, (j, &x)| if x > src[b] { j } else { b });
        dst.fill(0.0);
        dst[best] = 1.0;
        return;
    }
    let max = row_max(src);
    for (d, &x) in dst.iter_mut().zip(src) {
        *d = x - max;
    }
    exp_in_place(dst);
    let sum = lane_sum(dst, |v| v);
    if mode == Mode::Log {
        let shift = max + sum.ln();
        for (d, &x) in dst.iter_mut().zip(src) {
            *d = x - shift;
        }
    } else {
        let inv = 1.0 / sum;
        dst.iter_mut().for_each(|d| *d *= inv);
    }
}

/// `e^x` over a slice through the Exp op's own kernel (one vectorised copy of `exp` in the build).
fn exp_in_place(v: &mut [f32]) {
    super::math::map_float_in_place(crate::ir::ops::math::Unary::Exp, v);
}

/// Lanes of [`row_max`] and [`lane_sum`]: independent accumulators LLVM keeps in two `f32x4`.
const LANES: usize = 8;

/// Greatest value of a row (`NEG_INFINITY` when empty; NaN is skipped, as `f32::max` does, and
/// the NaN then reaches every output through `exp`), lane-wise so that it vectorises.
fn row_max(src: &[f32]) -> f32 {
    let mut m = [f32::NEG_INFINITY; LANES];
    let chunks = src.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for (m, &x) in m.iter_mut().zip(c) {
            *m = if *m < x { x } else { *m };
        }
    }
    tail.iter()
        .chain(&m)
        .copied()
        .fold(f32::NEG_INFINITY, f32::max)
}

/// Sum of `f` over a row into [`LANES`] partial sums (a single running sum is one long chain
/// of dependent adds that does not vectorise).
fn lane_sum(src: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0.0f32; LANES];
    let chunks = src.chunks_exact(LANES);
    let tail = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += f(v);
        }
    }
    acc.iter().copied().chain(tail.iter().map(|&v| f(v))).sum()
}

/// One `[len, inner]` block normalised along `len`, `inner` columns at a time.
fn softmax_columns(
    src: &[f32],
    dst: &mut [f32],
    inner: usize,
    mode: Mode,
    max: &mut [f32],
    acc: &mut [f32],
) {
    let rows = || src.chunks_exact(inner);
    if mode == Mode::Hard {
        // first index of each column's max (acc holds the index as f32: exact below 2^24)
        max.copy_from_slice(&src[..inner]);
        acc.fill(0.0);
        for (j, row) in rows().enumerate().skip(1) {
            for ((m, b), &x) in max.iter_mut().zip(acc.iter_mut()).zip(row) {
                if x > *m {
                    *m = x;
                    *b = j as f32;
                }
            }
        }
        for (j, d) in dst.chunks_exact_mut(inner).enumerate() {
            for (d, &b) in d.iter_mut().zip(acc.iter()) {
                *d = if b == j as f32 { 1.0 } else { 0.0 };
            }
        }
        return;
    }
    max.fill(f32::NEG_INFINITY);
    for row in rows() {
        for (m, &x) in max.iter_mut().zip(row) {
            *m = m.max(x);
        }
    }
    for (d, row) in dst.chunks_exact_mut(inner).zip(rows()) {
        for ((d, &m), &x) in d.iter_mut().zip(max.iter()).zip(row) {
            *d = x - m;
        }
    }
    exp_in_place(dst);
    acc.fill(0.0);
    for d in dst.chunks_exact(inner) {
        for (s, &d) in acc.iter_mut().zip(d) {
            *s += d;
        }
    }
    if mode == Mode::Log {
        for (s, &m) in acc.iter_mut().zip(max.iter()) {
            *s = m + s.ln();
        }
        for (d, row) in dst.chunks_exact_mut(inner).zip(rows()) {
            for ((d, &x), &shift) in d.iter_mut().zip(row).zip(acc.iter()) {
                *d = x - shift;
            }
        }
    } else {
        acc.iter_mut().for_each(|s| *s = 1.0 / *s);
        for d in dst.chunks_exact_mut(inner) {
            for (d, &inv) in d.iter_mut().zip(acc.iter()) {
                *d *= inv;
            }
        }
    }
}

#[inline(never)]
fn layer_norm(
    x: &Tensor,
    scale: &Tensor,
    bias: Option<&Tensor>,
    axis: i64,
    eps: f32,
) -> Result<Vec<Tensor>> {
    let v = x.as_f32()?;
    let shape = x.shape();
    let a = norm_axis(axis, shape.len())?;
    let outer: usize = shape[..a].iter().product();
    let len: usize = shape[a..].iter().product();
    let bcast = |t: &Tensor, what: &str| -> Result<Vec<f32>> {
        let bs = broadcast_shape(t.shape(), &shape[a..])?;
        if bs != shape[a..] {
            return Err(Error::shape(format!(
                "LayerNormalization: {what} {:?} does not fit {:?}",
                t.shape(),
                &shape[a..]
            )));
        }
        let st = super::util::broadcast_strides(t.shape(), &shape[a..]);
        let tv = t.as_f32()?;
        let inner = &shape[a..];
        let ist = strides(inner);
        Ok((0..len)
            .map(|f| {
                tv[(0..inner.len())
                    .map(|d| ((f / ist[d]) % inner[d]) * st[d])
                    .sum::<usize>()]
            })
            .collect())
    };
    let s = bcast(scale, "Scale")?;
    let b = match bias {
        Some(t) => bcast(t, "B")?,
        None => vec![0.0; len],
    };
    let mut out = vec![0.0f32; v.len()];
    let mut means = vec![0.0f32; outer];
    let mut invs = vec![0.0f32; outer];
    for o in 0..outer {
        let row = &v[o * len..(o + 1) * len];
        let (mean, inv) = mean_inv_std(row, eps);
        let dst = &mut out[o * len..(o + 1) * len];
        for (((d, &x), &s), &b) in dst.iter_mut().zip(row).zip(&s).zip(&b) {
            *d = (x - mean) * inv * s + b;
        }
        means[o] = mean;
        invs[o] = inv;
    }
    let mut stat_shape = shape[..a].to_vec();
    stat_shape.extend(std::iter::repeat_n(1, shape.len() - a));
    Ok(vec![
        Tensor::from_f32(shape.to_vec(), out)?,
        Tensor::from_f32(stat_shape.clone(), means)?,
        Tensor::from_f32(stat_shape, invs)?,
    ])
}

fn per_channel(t: &Tensor, c: usize, what: &str) -> Result<Vec<f32>> {
    let v = t.as_f32()?;
    if v.len() != c {
        return Err(Error::shape(format!(
            "{what} has {} values for {c} channels",
            v.len()
        )));
    }
    Ok(v.to_vec())
}

/// Inference batch normalisation: `y = x·k + (B - mean·k)` with `k = scale / sqrt(var + eps)`.
/// Parameters hold one value per channel, or (`spatial=0`, opsets < 9) one per element of a
/// `[C, D1, …]` slab.
#[inline(never)]
fn batch_norm(inputs: &[Option<&Tensor>], eps: f32) -> Result<Tensor> {
    let x = input(inputs, 0, "X")?;
    let v = x.as_f32()?;
    if x.rank() < 2 {
        return Err(Error::shape(format!(
            "BatchNormalization: X {:?} needs rank >= 2",
            x.shape()
        )));
    }
    let (n, c) = (x.shape()[0], x.shape()[1]);
    let spatial: usize = x.shape()[2..].iter().product();
    let p = input(inputs, 1, "scale")?.numel();
    let per_element = p != c && p == c * spatial;
    let len = if per_element { c * spatial } else { c };
    let param = |i: usize, what: &str| -> Result<Vec<f32>> {
        let t = input(inputs, i, what)?;
        let v = t.as_f32()?;
        if v.len() != len {
            return Err(Error::shape(format!(
                "BatchNormalization: {what} has shape {:?} but X {:?} needs {c} values (one per channel){}",
                t.shape(),
                x.shape(),
                if spatial > 1 { format!(" or {} (one per element of a channel slab)", c * spatial) } else { String::new() }
            )));
        }
        Ok(v.to_vec())
    };
    let scale = param(1, "scale")?;
    let bias = param(2, "B")?;
    let mean = param(3, "input_mean")?;
    let var = param(4, "input_var")?;
    let k: Vec<f32> = scale
        .iter()
        .zip(&var)
        .map(|(s, v)| s / (v + eps).sqrt())
        .collect();
    let off: Vec<f32> = bias
        .iter()
        .zip(&mean)
        .zip(&k)
        .map(|((b, m), k)| b - m * k)
        .collect();
    let mut out = vec![0.0f32; v.len()];
    let slab = c * spatial;
    if slab == 0 {
        return Tensor::from_f32(x.shape().to_vec(), out);
    }
    for (dst, src) in out.chunks_exact_mut(slab).zip(v.chunks_exact(slab)).take(n) {
        if per_element {
            for (((o, &x), &k), &b) in dst.iter_mut().zip(src).zip(&k).zip(&off) {
                *o = x * k + b;
            }
        } else if spatial > 0 {
            for (ch, (o, x)) in dst
                .chunks_exact_mut(spatial)
                .zip(src.chunks_exact(spatial))
                .enumerate()
            {
                let (k, b) = (k[ch], off[ch]);
                for (o, &x) in o.iter_mut().zip(x) {
                    *o = x * k + b;
                }
            }
        }
    }
    Tensor::from_f32(x.shape().to_vec(), out)
}

#[inline(never)]
fn instance_norm(x: &Tensor, scale: &Tensor, bias: &Tensor, eps: f32) -> Result<Tensor> {
    let v = x.as_f32()?;
    if x.rank() < 2 {
        return Err(Error::shape(format!(
            "InstanceNormalization: input {:?} needs rank >= 2",
            x.shape()
        )));
    }
    let (n, c) = (x.shape()[0], x.shape()[1]);
    let spatial: usize = x.shape()[2..].iter().product();
    let s = per_channel(scale, c, "scale")?;
    let b = per_channel(bias, c, "B")?;
    let mut out = vec![0.0f32; v.len()];
    for bi in 0..n {
        for ch in 0..c {
            let base = (bi * c + ch) * spatial;
            let row = &v[base..base + spatial];
            let (mean, inv) = mean_inv_std(row, eps);
            let k = s[ch] * inv;
            for i in 0..spatial {
                out[base + i] = (row[i] - mean) * k + b[ch];
            }
        }
    }
    Tensor::from_f32(x.shape().to_vec(), out)
}

/// Mean and inverse standard deviation of `row` (two passes: no cancellation).
fn mean_inv_std(row: &[f32], eps: f32) -> (f32, f32) {
    let len = row.len().max(1) as f32;
    let mean = lane_sum(row, |x| x) / len;
    let var = lane_sum(row, |x| (x - mean) * (x - mean)) / len;
    (mean, 1.0 / (var + eps).sqrt())
}

/// GroupNormalization: per instance, statistics over each group of `C / num_groups` channels
/// (with their spatial extent); scale and bias per channel or per group.
#[inline(never)]
fn group_norm(inputs: &[Option<&Tensor>], groups: usize, eps: f32) -> Result<Tensor> {
    let x = input(inputs, 0, "X")?;
    let v = x.as_f32()?;
    if x.rank() < 2 {
        return Err(Error::shape(format!(
            "GroupNormalization: X {:?} needs rank >= 2",
            x.shape()
        )));
    }
    let (n, c) = (x.shape()[0], x.shape()[1]);
    if c % groups != 0 {
        return Err(Error::shape(format!(
            "GroupNormalization: {c} channels of X {:?} cannot be split into {groups} groups",
            x.shape()
        )));
    }
    let spatial: usize = x.shape()[2..].iter().product();
    let per_group = c / groups;
    let param = |i: usize, what: &str| -> Result<Vec<f32>> {
        let t = input(inputs, i, what)?;
        let pv = t.as_f32()?;
        if pv.len() == c {
            Ok(pv.to_vec())
        } else if pv.len() == groups {
            Ok(pv
                .iter()
                .flat_map(|&p| std::iter::repeat_n(p, per_group))
                .collect())
        } else {
            Err(Error::shape(format!(
                "GroupNormalization: {what} has shape {:?}; expected {c} values (one per channel) or {groups} (one per group)",
                t.shape()
            )))
        }
    };
    let scale = param(1, "scale")?;
    let bias = param(2, "bias")?;
    let mut out = vec![0.0f32; v.len()];
    let block = per_group * spatial;
    if block == 0 {
        return Tensor::from_f32(x.shape().to_vec(), out);
    }
    for (gi, (dst, src)) in out
        .chunks_exact_mut(block)
        .zip(v.chunks_exact(block))
        .enumerate()
        .take(n * groups)
    {
        let (mean, inv) = mean_inv_std(src, eps);
        let ch0 = (gi % groups) * per_group;
        if spatial == 0 {
            continue;
        }
        for (j, (o, x)) in dst
            .chunks_exact_mut(spatial)
            .zip(src.chunks_exact(spatial))
            .enumerate()
        {
            let k = inv * scale[ch0 + j];
            let b = bias[ch0 + j] - mean * k;
            for (o, &x) in o.iter_mut().zip(x) {
                *o = x * k + b;
            }
        }
    }
    Tensor::from_f32(x.shape().to_vec(), out)
}

/// MeanVarianceNormalization: `(X - mean) / (sqrt(var) + 1e-9)` with statistics over `axes`.
#[inline(never)]
fn mean_variance_norm(x: &Tensor, axes: &[i64]) -> Result<Tensor> {
    let v = x.as_f32()?;
    let shape = x.shape();
    let mut reduced = vec![false; shape.len()];
    for &a in axes {
        reduced[norm_axis(a, shape.len())?] = true;
    }
    // statistics index of every element: its coordinates on the kept axes, row-major
    let kept: Vec<usize> = shape
        .iter()
        .zip(&reduced)
        .map(|(&d, &r)| if r { 1 } else { d })
        .collect();
    let stat_st = super::util::broadcast_strides(&kept, shape);
    let n_stats = numel_checked(&kept)?;
    let group_of = |f: &mut dyn FnMut(usize, usize)| {
        let mut idx = vec![0usize; shape.len()];
        let mut g = 0usize;
        for i in 0..v.len() {
            f(i, g);
            for d in (0..shape.len()).rev() {
                idx[d] += 1;
                g += stat_st[d];
                if idx[d] < shape[d] {
                    break;
                }
                g -= stat_st[d] * shape[d];
                idx[d] = 0;
            }
        }
    };
    let count = (v.len() / n_stats.max(1)).max(1) as f32;
    let mut mean = vec![0.0f32; n_stats];
    group_of(&mut |i, g| mean[g] += v[i]);
    mean.iter_mut().for_each(|m| *m /= count);
    let mut var = vec![0.0f32; n_stats];
    group_of(&mut |i, g| var[g] += (v[i] - mean[g]) * (v[i] - mean[g]));
    let inv: Vec<f32> = var
        .iter()
        .map(|s| 1.0 / ((s / count).sqrt() + 1e-9))
        .collect();
    let mut out = vec![0.0f32; v.len()];
    group_of(&mut |i, g| out[i] = (v[i] - mean[g]) * inv[g]);
    Tensor::from_f32(shape.to_vec(), out)
}

/// LRN: `y = x / (bias + alpha/size · Σ x²)^beta`, the sum over channels
/// `c - floor((size-1)/2) ..= c + ceil((size-1)/2)` clipped to the tensor.
#[inline(never)]
fn lrn(x: &Tensor, size: usize, alpha: f32, beta: f32, bias: f32) -> Result<Tensor> {
    let v = x.as_f32()?;
    if x.rank() < 2 {
        return Err(Error::shape(format!(
            "LRN: X {:?} needs rank >= 2 ([N, C, ...])",
            x.shape()
        )));
    }
    let c = x.shape()[1];
    let spatial: usize = x.shape()[2..].iter().product();
    let slab = c * spatial;
    let mut out = vec![0.0f32; v.len()];
    if slab == 0 {
        return Tensor::from_f32(x.shape().to_vec(), out);
    }
    let (before, after) = ((size - 1) / 2, size / 2);
    let k = alpha / size as f32;
    let mut sq = vec![0.0f32; spatial];
    for (dst, src) in out.chunks_exact_mut(slab).zip(v.chunks_exact(slab)) {
        for ch in 0..c {
            sq.fill(0.0);
            for i in ch.saturating_sub(before)..(ch + after + 1).min(c) {
                for (s, &x) in sq.iter_mut().zip(&src[i * spatial..(i + 1) * spatial]) {
                    *s += x * x;
                }
            }
            let row = ch * spatial..(ch + 1) * spatial;
            for ((o, &x), &s) in dst[row.clone()].iter_mut().zip(&src[row]).zip(&sq) {
                *o = x / (bias + k * s).powf(beta);
            }
        }
    }
    Tensor::from_f32(x.shape().to_vec(), out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::util::test_values as rand;

    /// MatMul and Gemm on B packed at load ([`prepack`]) against the same call packing per run
    /// (bit-identical: the same kernel and order) and against f64 sums; every transpose, alpha,
    /// beta with a broadcast C, one and several rows, a batched A.
    #[test]
    fn prepacked_b_matches_unpacked() {
        for &(m, k, n) in &[(1, 64, 256), (3, 17, 9), (64, 256, 10), (5, 300, 33)] {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let a_sh = if ta { vec![k, m] } else { vec![m, k] };
                let b_sh = if tb { vec![n, k] } else { vec![k, n] };
                let a = Tensor::from_f32(a_sh, rand(m * k, 11)).unwrap();
                let b = Tensor::from_f32(b_sh, rand(k * n, 12)).unwrap();
                let c = Tensor::from_f32(vec![n], rand(n, 13)).unwrap();
                let op = LinalgOp::Gemm {
                    alpha: 0.75,
                    beta: -1.5,
                    trans_a: ta,
                    trans_b: tb,
                };
                let ins = [Some(&a), Some(&b), Some(&c)];
                let p = prepack(&op, &[None, Some(&b), None]).expect("a constant matrix packs");
                let got = run_packed(&op, &ins, Some(&p)).unwrap().remove(0);
                let want = run(&op, &ins).unwrap().remove(0);
                let (g, w) = (got.as_f32().unwrap(), want.as_f32().unwrap());
                let (av, bv, cv) = (
                    a.as_f32().unwrap(),
                    b.as_f32().unwrap(),
                    c.as_f32().unwrap(),
                );
                for i in 0..m {
                    for j in 0..n {
                        let s: f64 = (0..k)
                            .map(|p| {
                                let x = if ta { av[p * m + i] } else { av[i * k + p] };
                                let y = if tb { bv[j * k + p] } else { bv[p * n + j] };
                                x as f64 * y as f64
                            })
                            .sum();
                        let r = 0.75 * s - 1.5 * cv[j] as f64;
                        let x = g[i * n + j] as f64;
                        assert!(
                            (x - r).abs() <= 1e-4 * (1.0 + r.abs()),
                            "{m}×{k}×{n} {ta} {tb}: {x} vs {r}"
                        );
                    }
                }
                if m > 4 {
                    assert_eq!(
                        g, w,
                        "{m}×{k}×{n} ta={ta} tb={tb}: packed at load vs per run"
                    );
                }
            }
            // MatMul with a batched A over one packed B
            let a = Tensor::from_f32(vec![2, m, k], rand(2 * m * k, 14)).unwrap();
            let b = Tensor::from_f32(vec![k, n], rand(k * n, 15)).unwrap();
            let p = prepack(&LinalgOp::MatMul, &[None, Some(&b)]).unwrap();
            let got = run_packed(&LinalgOp::MatMul, &[Some(&a), Some(&b)], Some(&p)).unwrap();
            let want = matmul(&a, &b, None, None).unwrap();
            assert_eq!(got[0].shape(), want.shape());
            for (x, y) in got[0].as_f32().unwrap().iter().zip(want.as_f32().unwrap()) {
                assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "{x} vs {y}");
            }
        }
        // a B that is not a constant matrix is not packed
        let v = Tensor::from_f32(vec![3], vec![1.0; 3]).unwrap();
        assert!(prepack(&LinalgOp::MatMul, &[None, Some(&v)]).is_none());
        assert!(prepack(&LinalgOp::MatMul, &[None, None]).is_none());
    }

    #[test]
    fn gemm_kernel_matches_scalar_twin() {
        for &(m, n, k) in &[
            (1, 1, 1),
            (1, 256, 64),
            (7, 13, 5),
            (64, 10, 256),
            (33, 65, 17),
            // few rows, wide output: column blocks and the 4-row passes with a remainder
            (1, 5000, 7),
            (3, 2100, 10),
        ] {
            let a = rand(m * k, 1);
            let b = rand(k * n, 2);
            // row-major, both transposed, and lhs row-major with a transposed rhs (dot path)
            for (ls, rs) in [((k, 1), (n, 1)), ((1, m), (1, k)), ((k, 1), (1, k))] {
                let mut out = vec![0.0; m * n];
                gemm_strided(m, n, k, &mut out, false, &a, ls, &b, rs, 1.0);
                let want = gemm_scalar(m, n, k, &a, ls, &b, rs);
                for (g, w) in out.iter().zip(&want) {
                    assert!(
                        (g - w).abs() <= 1e-5 + 1e-5 * w.abs(),
                        "{m}x{n}x{k}: {g} vs {w}"
                    );
                }
            }
        }
    }

    /// A B of more than [`STREAMED`] floats is packed on the first run with more than 4 rows of
    /// A, not at load nor for fewer rows, and the product on it equals the per-run packing's bit
    /// for bit (MatMul, and Gemm with B transposed).
    #[test]
    fn large_b_is_packed_on_first_use_by_many_rows() {
        let (k, n) = (1025, 1024);
        let b = Tensor::from_f32(vec![k, n], rand(k * n, 31)).unwrap();
        let tb = LinalgOp::Gemm {
            alpha: 1.0,
            beta: 1.0,
            trans_a: false,
            trans_b: true,
        };
        let bt = Tensor::from_f32(vec![n, k], rand(k * n, 32)).unwrap();
        for (op, b) in [(LinalgOp::MatMul, &b), (tb, &bt)] {
            let pack = prepack(&op, &[None, Some(b)]).unwrap();
            let Pack::Deferred(cell) = &pack else {
                panic!("packed at load")
            };
            for (m, packed) in [(2, false), (5, true), (3, true)] {
                let a = Tensor::from_f32(vec![m, k], rand(m * k, 33 + m as u64)).unwrap();
                let ins = [Some(&a), Some(b)];
                let got = run_packed(&op, &ins, Some(&pack)).unwrap().remove(0);
                let want = run(&op, &ins).unwrap().remove(0);
                assert_eq!(cell.get().is_some(), packed, "{op:?} m = {m}");
                assert_eq!(
                    got.as_f32().unwrap(),
                    want.as_f32().unwrap(),
                    "{op:?} m = {m}"
                );
            }
        }
    }

    /// The fused bias (`MatMul + Add`): every path (B packed at load, one B for a batched A,
    /// per-batch products) equals the plain product plus the bias row, within rounding (the
    /// GEMM accumulates onto the bias); a bias of the wrong length or on integer operands is a
    /// typed error.
    #[test]
    fn matmul_with_fused_bias_adds_it_to_every_row() {
        let (k, n) = (19, 13);
        let bias = Tensor::from_f32(vec![n], rand(n, 21)).unwrap();
        let bv = bias.as_f32().unwrap();
        for (ash, bsh, pack) in [
            (vec![5, k], vec![k, n], true),
            (vec![2, 3, k], vec![k, n], false),
            (vec![2, 3, k], vec![2, k, n], false),
            (vec![1, k], vec![k, n], true),
        ] {
            let a = Tensor::from_f32(ash.clone(), rand(ash.iter().product(), 22)).unwrap();
            let b = Tensor::from_f32(bsh.clone(), rand(bsh.iter().product(), 23)).unwrap();
            let p = pack.then(|| prepack(&LinalgOp::MatMul, &[None, Some(&b)]).unwrap());
            let inputs = [Some(&a), Some(&b), Some(&bias)];
            let got = run_packed(&LinalgOp::MatMul, &inputs, p.as_ref()).unwrap();
            let plain = matmul(&a, &b, None, None).unwrap();
            assert_eq!(got[0].shape(), plain.shape());
            let got = got[0].as_f32().unwrap();
            for (i, (g, w)) in got.iter().zip(plain.as_f32().unwrap()).enumerate() {
                let want = w + bv[i % n];
                assert!(
                    (g - want).abs() <= 1e-5 * (1.0 + want.abs()),
                    "{ash:?}·{bsh:?}: {g} vs {want}"
                );
            }
        }
        let a = Tensor::from_f32(vec![2, k], rand(2 * k, 24)).unwrap();
        let b = Tensor::from_f32(vec![k, n], rand(k * n, 25)).unwrap();
        let short = Tensor::from_f32(vec![n - 1], rand(n - 1, 26)).unwrap();
        let e = matmul(&a, &b, Some(&short), None).unwrap_err().to_string();
        assert!(e.contains("12 values for 13 columns"), "{e}");
        let ai = Tensor::from_i64(vec![1, 2], vec![1, 2]).unwrap();
        let bi = Tensor::from_i64(vec![2, 1], vec![3, 4]).unwrap();
        let one = Tensor::from_f32(vec![1], vec![1.0]).unwrap();
        assert!(matmul(&ai, &bi, Some(&one), None).is_err());
        assert_eq!(
            matmul(&ai, &bi, None, None).unwrap().to_f64_vec(),
            vec![11.0]
        );
    }

    #[test]
    fn matmul_broadcasts_batches_and_vectors() {
        let a = Tensor::from_f32(vec![2, 1, 2, 3], rand(12, 3)).unwrap();
        let b = Tensor::from_f32(vec![4, 3, 2], rand(24, 4)).unwrap();
        let c = matmul(&a, &b, None, None).unwrap();
        assert_eq!(c.shape(), &[2, 4, 2, 2]);
        let (av, bv) = (a.as_f32().unwrap(), b.as_f32().unwrap());
        let want = gemm_scalar(2, 2, 3, &av[6..], (3, 1), &bv[12..], (2, 1));
        // batch (1, 2) of the output reads A's batch 1 and B's batch 2
        let got = &c.as_f32().unwrap()[(4 + 2) * 4..(4 + 2) * 4 + 4];
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-6, "{g} vs {w}");
        }
        let v = Tensor::from_f32(vec![3], vec![1., 2., 3.]).unwrap();
        assert_eq!(
            matmul(
                &v,
                &Tensor::from_f32(vec![3, 2], vec![1., 0., 0., 1., 1., 1.]).unwrap(),
                None,
                None
            )
            .unwrap()
            .shape(),
            &[2]
        );
        assert!(matmul(&b, &b, None, None).is_err());
    }

    #[test]
    fn batched_a_with_one_weight_matrix() {
        let a = Tensor::from_f32(vec![2, 3, 4], rand(24, 8)).unwrap();
        let b = Tensor::from_f32(vec![4, 5], rand(20, 9)).unwrap();
        let c = matmul(&a, &b, None, None).unwrap();
        assert_eq!(c.shape(), &[2, 3, 5]);
        let (av, bv) = (a.as_f32().unwrap(), b.as_f32().unwrap());
        for batch in 0..2 {
            let want = gemm_scalar(3, 5, 4, &av[batch * 12..], (4, 1), bv, (5, 1));
            let got = &c.as_f32().unwrap()[batch * 15..(batch + 1) * 15];
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-6, "{g} vs {w}");
            }
        }
    }
}

#[cfg(test)]
mod integer_tests {
    use super::*;

    fn u8t(shape: &[usize], v: &[u8]) -> Tensor {
        Tensor::new(shape.to_vec(), TensorData::U8(v.to_vec())).unwrap()
    }
    fn i8t(shape: &[usize], v: &[i8]) -> Tensor {
        Tensor::new(shape.to_vec(), TensorData::I8(v.to_vec())).unwrap()
    }

    #[test]
    fn matmul_integer_zero_points_match_numpy() {
        // numpy: (A - [[12],[11],[10],[9]]) @ (B - [1, 2])
        let a = u8t(&[4, 3], &[11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0]);
        let b = u8t(&[3, 2], &[1, 4, 2, 5, 3, 6]);
        let za = u8t(&[4], &[12, 11, 10, 9]);
        let zb = u8t(&[2], &[1, 2]);
        let y = run(
            &LinalgOp::MatMulInteger,
            &[Some(&a), Some(&b), Some(&za), Some(&zb)],
        )
        .unwrap();
        assert_eq!(y[0].shape(), &[4, 2]);
        assert_eq!(y[0].data(), &TensorData::I32([-23, -53].repeat(4)));
        // int8 with scalar zero points: (A - 1) @ (B + 2)
        let a = i8t(&[2, 2], &[-3, 5, 127, -128]);
        let b = i8t(&[2, 2], &[2, -1, 0, 7]);
        let y = run(
            &LinalgOp::MatMulInteger,
            &[
                Some(&a),
                Some(&b),
                Some(&i8t(&[], &[1])),
                Some(&i8t(&[1], &[-2])),
            ],
        )
        .unwrap();
        assert_eq!(y[0].data(), &TensorData::I32(vec![-8, 32, 246, -1035]));
        // no zero points, wrong types and wrong zero-point lengths are typed errors
        assert!(run(&LinalgOp::MatMulInteger, &[Some(&a), Some(&b)]).is_ok());
        let f = Tensor::from_f32(vec![2, 2], vec![0.0; 4]).unwrap();
        assert!(run(&LinalgOp::MatMulInteger, &[Some(&f), Some(&b)]).is_err());
        let bad = i8t(&[3], &[0, 0, 0]);
        assert!(run(&LinalgOp::MatMulInteger, &[Some(&a), Some(&b), Some(&bad)]).is_err());
        assert!(run(
            &LinalgOp::MatMulInteger,
            &[Some(&a), Some(&b), None, Some(&bad)]
        )
        .is_err());
    }
}

#[cfg(test)]
mod matmul_twin_tests {
    use super::super::util::test_values as rand;
    use super::*;

    /// Naive numpy-matmul reference in f64: broadcast batches, promote 1-D operands.
    fn reference(a: &[f32], ash: &[usize], b: &[f32], bsh: &[usize]) -> (Vec<usize>, Vec<f32>) {
        let a2 = if ash.len() == 1 {
            vec![1, ash[0]]
        } else {
            ash.to_vec()
        };
        let b2 = if bsh.len() == 1 {
            vec![bsh[0], 1]
        } else {
            bsh.to_vec()
        };
        let (m, k, n) = (a2[a2.len() - 2], a2[a2.len() - 1], b2[b2.len() - 1]);
        let batch = broadcast_shape(&a2[..a2.len() - 2], &b2[..b2.len() - 2]).unwrap();
        let sa = super::super::util::broadcast_strides(&a2[..a2.len() - 2], &batch);
        let sb = super::super::util::broadcast_strides(&b2[..b2.len() - 2], &batch);
        let nb: usize = batch.iter().product();
        let mut out = vec![0.0f32; nb * m * n];
        for bi in 0..nb {
            let (mut rem, mut oa, mut ob) = (bi, 0, 0);
            for d in (0..batch.len()).rev() {
                oa += (rem % batch[d]) * sa[d];
                ob += (rem % batch[d]) * sb[d];
                rem /= batch[d];
            }
            for i in 0..m {
                for j in 0..n {
                    let s: f64 = (0..k)
                        .map(|p| {
                            a[oa * m * k + i * k + p] as f64 * b[ob * k * n + p * n + j] as f64
                        })
                        .sum();
                    out[bi * m * n + i * n + j] = s as f32;
                }
            }
        }
        let mut shape = batch;
        if ash.len() > 1 {
            shape.push(m);
        }
        if bsh.len() > 1 {
            shape.push(n);
        }
        (shape, out)
    }

    #[test]
    fn matmul_matches_naive_twin_on_random_shapes() {
        // random shape choices: ranks 1..=4, batch dims 1..=3 with broadcast 1s
        let mut rng = crate::testing::Rng::new(0x9e37_79b9_7f4a_7c15);
        let mut next = |n: u64| rng.below(n as usize);
        for case in 0..200 {
            let (m, k, n) = (1 + next(9), 1 + next(40), 1 + next(20));
            let batch_rank = next(3);
            let full: Vec<usize> = (0..batch_rank).map(|_| 1 + next(3)).collect();
            let pick = |full: &[usize], r: usize, bc: &mut dyn FnMut(u64) -> usize| -> Vec<usize> {
                full[full.len() - r..]
                    .iter()
                    .map(|&d| if bc(3) == 0 { 1 } else { d })
                    .collect()
            };
            let ra = next(batch_rank as u64 + 1);
            let rb = next(batch_rank as u64 + 1);
            let mut ash = pick(&full, ra, &mut next);
            let mut bsh = pick(&full, rb, &mut next);
            let (a_vec, b_vec) = (next(6) == 0, next(6) == 0);
            if a_vec {
                ash = vec![k];
            } else {
                ash.extend([m, k]);
            }
            if b_vec {
                bsh = vec![k];
            } else {
                bsh.extend([k, n]);
            }
            let av = rand(ash.iter().product(), case * 2 + 1);
            let bv = rand(bsh.iter().product(), case * 2 + 2);
            let a = Tensor::from_f32(ash.clone(), av.clone()).unwrap();
            let b = Tensor::from_f32(bsh.clone(), bv.clone()).unwrap();
            let got = matmul(&a, &b, None, None).unwrap();
            let (shape, want) = reference(&av, &ash, &bv, &bsh);
            assert_eq!(got.shape(), shape.as_slice(), "{ash:?} x {bsh:?}");
            for (g, w) in got.as_f32().unwrap().iter().zip(&want) {
                assert!(
                    (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
                    "{ash:?} x {bsh:?}: {g} vs {w}"
                );
            }
        }
    }
}

#[cfg(test)]
mod softmax_tests {
    use super::super::util::test_values as rand;
    use super::*;

    /// Scalar f64 reference: gathers each normalised slice and applies the textbook formula.
    fn reference(v: &[f32], shape: &[usize], axis: usize, legacy: bool, mode: Mode) -> Vec<f32> {
        let (len, inner) = if legacy {
            (shape[axis..].iter().product::<usize>(), 1)
        } else {
            (shape[axis], shape[axis + 1..].iter().product::<usize>())
        };
        let outer = v.len() / (len * inner);
        let mut out = vec![0.0f32; v.len()];
        for o in 0..outer {
            for i in 0..inner {
                let at = |j: usize| o * len * inner + j * inner + i;
                let xs: Vec<f64> = (0..len).map(|j| v[at(j)] as f64).collect();
                let max = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = xs.iter().map(|x| (x - max).exp()).sum();
                let first_max = xs.iter().position(|&x| x == max).unwrap();
                for (j, &x) in xs.iter().enumerate() {
                    out[at(j)] = match mode {
                        Mode::Soft => ((x - max).exp() / sum) as f32,
                        Mode::Log => (x - max - sum.ln()) as f32,
                        Mode::Hard => (j == first_max) as u8 as f32,
                    };
                }
            }
        }
        out
    }

    #[test]
    fn softmax_matches_reference_on_every_axis() {
        let shapes: &[&[usize]] = &[&[7], &[3, 5], &[2, 3, 4], &[2, 1, 3, 9], &[4, 33]];
        for (si, shape) in shapes.iter().enumerate() {
            let n = shape.iter().product();
            // scaled so large values exercise the max subtraction
            let v: Vec<f32> = rand(n, si as u64 + 11).iter().map(|x| x * 40.0).collect();
            let t = Tensor::from_f32(shape.to_vec(), v.clone()).unwrap();
            for axis in 0..shape.len() {
                for legacy in [false, true] {
                    for mode in [Mode::Soft, Mode::Log, Mode::Hard] {
                        let got =
                            softmax(&t, axis as i64 - shape.len() as i64, legacy, mode).unwrap();
                        let want = reference(&v, shape, axis, legacy, mode);
                        for (g, w) in got.as_f32().unwrap().iter().zip(&want) {
                            assert!(
                                (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
                                "{shape:?} axis {axis} legacy {legacy}: {g} vs {w}"
                            );
                        }
                    }
                }
            }
        }
        // ties pick the first index; empty tensors and bad axes
        let t = Tensor::from_f32(vec![2, 2], vec![1., 1., 3., 3.]).unwrap();
        assert_eq!(
            softmax(&t, 0, false, Mode::Hard).unwrap().as_f32().unwrap(),
            &[0., 0., 1., 1.]
        );
        assert_eq!(
            softmax(&t, 1, false, Mode::Hard).unwrap().as_f32().unwrap(),
            &[1., 0., 1., 0.]
        );
        let e = Tensor::from_f32(vec![0, 3], vec![]).unwrap();
        assert_eq!(softmax(&e, 1, false, Mode::Soft).unwrap().shape(), &[0, 3]);
        assert!(softmax(&t, 2, false, Mode::Soft).is_err());
    }
}

#[cfg(test)]
mod norm_tests {
    use super::*;

    /// x[i] = i^1.5 / 10 over [1, 4, 3, 2], channel 1 negated (the values the numpy references
    /// below were computed from).
    fn x() -> Tensor {
        let v: Vec<f32> = (0..24)
            .map(|i| {
                let x = (i as f32).powf(1.5) / 10.0;
                if (6..12).contains(&i) {
                    -x
                } else {
                    x
                }
            })
            .collect();
        Tensor::from_f32(vec![1, 4, 3, 2], v).unwrap()
    }

    fn f(shape: &[usize], v: &[f32]) -> Tensor {
        Tensor::from_f32(shape.to_vec(), v.to_vec()).unwrap()
    }

    fn close(got: &Tensor, want: &[f32]) {
        crate::testing::assert_close("linalg", got.as_f32().unwrap(), want, 2e-5, 1e-5);
    }

    #[test]
    fn group_norm_per_group_params_matches_numpy() {
        let op = LinalgOp::GroupNorm {
            num_groups: 2,
            epsilon: 1e-5,
        };
        let (s, b) = (f(&[2], &[2.0, -1.0]), f(&[2], &[0.5, 1.0]));
        let y = run(&op, &[Some(&x()), Some(&s), Some(&b)]).unwrap();
        #[rustfmt::skip]
        close(&y[0], &[1.77271, 1.89714, 2.12464, 2.41924, 2.76811, 3.16382, -0.05595, -0.53166,
            -1.0427, -1.58675, -2.16194, -2.76666, 2.5131, 2.26781, 2.01289, 1.7487, 1.47555,
            1.19372, 0.90347, 0.60505, 0.29867, -0.01547, -0.33719, -0.6663]);
        // per-channel params equal to the per-group ones expanded give the same result
        let (s4, b4) = (f(&[4], &[2., 2., -1., -1.]), f(&[4], &[0.5, 0.5, 1., 1.]));
        let y4 = run(&op, &[Some(&x()), Some(&s4), Some(&b4)]).unwrap();
        assert_eq!(y[0], y4[0]);
        let bad = LinalgOp::GroupNorm {
            num_groups: 3,
            epsilon: 1e-5,
        };
        assert!(run(&bad, &[Some(&x()), Some(&s), Some(&b)]).is_err());
    }

    #[test]
    fn mean_variance_norm_matches_numpy() {
        let op = LinalgOp::MeanVarianceNorm { axes: vec![1, 3] };
        let y = run(&op, &[Some(&x())]).unwrap();
        #[rustfmt::skip]
        close(&y[0], &[-0.71406, -0.68754, -0.63726, -0.58522, -0.54476, -0.4857, -1.1038,
            -1.20519, -1.19683, -1.29294, -1.28063, -1.37089, 0.38831, 0.52894, 0.45204, 0.57759,
            0.49526, 0.60842, 1.31112, 1.48221, 1.26667, 1.41596, 1.22308, 1.35522]);
        let op = LinalgOp::MeanVarianceNorm { axes: vec![4] };
        assert!(run(&op, &[Some(&x())]).is_err());
    }

    #[test]
    fn lrn_matches_numpy() {
        let op = LinalgOp::Lrn {
            size: 2,
            alpha: 0.1,
            beta: 0.6,
            bias: 1.5,
        };
        let y = run(&op, &[Some(&x())]).unwrap();
        #[rustfmt::skip]
        close(&y[0], &[0.0, 0.07346, 0.20148, 0.35601, 0.5228, 0.69136, -0.85388, -1.00498,
            -1.1415, -1.26206, -1.36664, -1.4561, 1.53176, 1.59518, 1.64794, 1.69153, 1.7273,
            1.75644, 3.1325, 3.18016, 3.21608, 3.24214, 3.25995, 3.27092]);
    }

    #[test]
    fn batch_norm_per_element_params_matches_numpy() {
        // spatial=0 (opsets < 9): parameters of shape [C, D1]
        let xb: Vec<f32> = (0..12).map(|i| i as f32 - 5.0).collect();
        let lin = |a: f32, b: f32| {
            (0..6)
                .map(|i| a + (b - a) * i as f32 / 5.0)
                .collect::<Vec<_>>()
        };
        let p = |a, b| f(&[2, 3], &lin(a, b));
        let (s, b, m, v) = (p(0.5, 1.5), p(-1.0, 1.0), p(0.0, 2.0), p(1.0, 3.0));
        let xt = f(&[2, 2, 3], &xb);
        let op = LinalgOp::BatchNorm { epsilon: 1e-5 };
        let y = run(&op, &[Some(&xt), Some(&s), Some(&b), Some(&m), Some(&v)]).unwrap();
        #[rustfmt::skip]
        close(&y[0], &[-3.49999, -3.20307, -2.74911, -2.17318, -1.49618, -0.73205, -0.5, 0.34657,
            1.2758, 2.27653, 3.34116, 4.4641]);
        let short = f(&[4], &[1.0; 4]);
        assert!(run(
            &op,
            &[Some(&xt), Some(&short), Some(&b), Some(&m), Some(&v)]
        )
        .is_err());
    }
}
