//! The few-rows product over a row-major B: `C (m × n) = (C or 0) + scale · A · B` for m ≤ 4
//! rows of A and a B read where it lies (`B[p][j]` at `p·rrs + j`). This is the batch-1 product
//! over a weight too large to keep packed beside the model's own copy (a catalogue or
//! vocabulary projection: the 1 × 64 · 64 × 100k scores of a recommender graph), so B streams
//! from memory once per run and the kernel is built around that stream:
//!
//! - columns in blocks of [`BLOCK`] (the block of every output row stays in L1);
//! - per block, B's rows in groups of [`G`] = 8: each group is read once, as 8 sequential
//!   streams, and its contribution is added to each of the m output rows in one pass, so C's
//!   block is loaded and stored ⌈k / 8⌉ times while it is in L1, and B once in all;
//! - per output: `c + ((((((a₀b₀ + a₁b₁) + a₂b₂) + a₃b₃) + a₄b₄) + a₅b₅) + a₆b₆) + a₇b₇` for a
//!   full group (the first group of a product that does not read C stores the sum alone), then
//!   `c + a·b` for each of the last `k mod 8` rows; `a` is `scale · A[i][p]`.
//!
//! The SIMD128 kernel computes four columns per vector in exactly that order, and the scalar
//! twin ([`Kernel::Scalar`], also what native builds run, vectorised by LLVM) one column at a
//! time, so the two agree bit for bit ([`check_against_scalar`], run inside wasm by the test
//! hook `rowsCheckForTest`).

use super::sgemm::Kernel;

/// Columns per block: 4 output rows × 1,024 floats = 16 KB of C in L1 beside B's streams.
const BLOCK: usize = 1024;
/// Rows of B per pass over a block.
const G: usize = 8;

/// `dst[m×n] = (dst if read_dst else 0) + scale · lhs · rhs` for `m ≤ 4`, lhs with element
/// strides `(lrs, lcs)`, rhs row-major with row stride `rrs`. The caller checks the extents.
#[allow(clippy::too_many_arguments)]
pub fn product(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    read_dst: bool,
    lhs: &[f32],
    (lrs, lcs): (usize, usize),
    rhs: &[f32],
    rrs: usize,
    scale: f32,
    kernel: Kernel,
) {
    assert!(m <= 4, "rows::product takes at most 4 rows");
    assert!(dst.len() >= m * n, "rows::product: dst too small");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !read_dst {
            dst[..m * n].fill(0.0);
        }
        return;
    }
    assert!(
        rhs.len() >= (k - 1) * rrs + n && lhs.len() > (m - 1) * lrs + (k - 1) * lcs,
        "rows::product: operand too small"
    );
    let a = |i: usize, p: usize| scale * lhs[i * lrs + p * lcs];
    let mut j0 = 0;
    while j0 < n {
        let w = BLOCK.min(n - j0);
        let mut p = 0;
        let mut first = !read_dst;
        while p < k {
            let g = if k - p >= G { G } else { 1 };
            let mut coef = [[0f32; G]; 4];
            let mut rows: [&[f32]; G] = [&[]; G];
            for t in 0..g {
                for (i, c) in coef.iter_mut().enumerate().take(m) {
                    c[t] = a(i, p + t);
                }
                rows[t] = &rhs[(p + t) * rrs + j0..(p + t) * rrs + j0 + w];
            }
            for (i, c) in coef.iter().enumerate().take(m) {
                let out = &mut dst[i * n + j0..i * n + j0 + w];
                pass(kernel, out, first, &rows[..g], &c[..g]);
            }
            first = false;
            p += g;
        }
        j0 += w;
    }
}

/// Column `j` of the one-row product `a · B` (`B` row-major `a.len() × n`) in [`product`]'s
/// order with scale 1 and no C read: the same bits as that product's output `j`, for scoring a
/// few columns (a fused MatMul → TopK's candidates) without the whole row.
pub fn column_dot(a: &[f32], b: &[f32], n: usize, j: usize) -> f32 {
    let k = a.len();
    let at = |p: usize| a[p] * b[p * n + j];
    let (mut out, mut p, mut first) = (0f32, 0, true);
    while p < k {
        let s = if k - p >= G {
            let mut s = at(p) + at(p + 1);
            for t in 2..G {
                s += at(p + t);
            }
            p += G;
            s
        } else {
            p += 1;
            at(p - 1)
        };
        out = if first { s } else { out + s };
        first = false;
    }
    out
}

/// One group's pass over one output row's block: `out = (out or 0) + Σₜ c[t]·rows[t]` in the
/// order of the module documentation (`rows.len()` is [`G`] or 1).
#[inline(always)]
fn pass(kernel: Kernel, out: &mut [f32], first: bool, rows: &[&[f32]], c: &[f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if kernel == Kernel::Simd {
        // SAFETY: every row holds `out.len()` values (sliced by the caller)
        unsafe { simd::pass(out, first, rows, c) };
        return;
    }
    let _ = kernel;
    scalar_pass(out, 0, first, rows, c);
}

/// The scalar twin of [`simd::pass`] from column `from` on (the vector kernel's tail).
#[inline(always)]
fn scalar_pass(out: &mut [f32], from: usize, first: bool, rows: &[&[f32]], c: &[f32]) {
    if rows.len() == G {
        let r: &[&[f32]; G] = rows.try_into().expect("a full group");
        for j in from..out.len() {
            let mut s = c[0] * r[0][j] + c[1] * r[1][j];
            for t in 2..G {
                s += c[t] * r[t][j];
            }
            out[j] = if first { s } else { out[j] + s };
        }
    } else {
        let (c, r) = (c[0], rows[0]);
        for j in from..out.len() {
            out[j] = if first { c * r[j] } else { out[j] + c * r[j] };
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::G;
    use core::arch::wasm32::*;

    /// [`super::scalar_pass`] four columns at a time.
    ///
    /// # Safety
    /// Every slice of `rows` holds at least `out.len()` values.
    #[inline(always)]
    pub unsafe fn pass(out: &mut [f32], first: bool, rows: &[&[f32]], c: &[f32]) {
        let w = out.len();
        let vw = w / 4 * 4;
        let o = out.as_mut_ptr();
        if rows.len() == G {
            let cv: [v128; G] = core::array::from_fn(|t| f32x4_splat(c[t]));
            let r: [*const f32; G] = core::array::from_fn(|t| rows[t].as_ptr());
            let ld = |t: usize, j: usize| f32x4_mul(cv[t], v128_load(r[t].add(j) as *const v128));
            let mut j = 0;
            if first {
                while j < vw {
                    let mut s = f32x4_add(ld(0, j), ld(1, j));
                    for t in 2..G {
                        s = f32x4_add(s, ld(t, j));
                    }
                    v128_store(o.add(j) as *mut v128, s);
                    j += 4;
                }
            } else {
                while j < vw {
                    let mut s = f32x4_add(ld(0, j), ld(1, j));
                    for t in 2..G {
                        s = f32x4_add(s, ld(t, j));
                    }
                    let p = o.add(j) as *mut v128;
                    v128_store(p, f32x4_add(v128_load(p), s));
                    j += 4;
                }
            }
        } else {
            let (cv, r) = (f32x4_splat(c[0]), rows[0].as_ptr());
            let mut j = 0;
            while j < vw {
                let s = f32x4_mul(cv, v128_load(r.add(j) as *const v128));
                let p = o.add(j) as *mut v128;
                v128_store(p, if first { s } else { f32x4_add(v128_load(p), s) });
                j += 4;
            }
        }
        super::scalar_pass(out, vw, first, rows, c);
    }
}

/// Runs the SIMD128 kernel against its scalar twin over block, group and vector edges, 1–4
/// rows, strided and transposed A, scale and an added C; returns how many outputs are not
/// bit-identical (0 expected). Inside wasm this is the test hook `rowsCheckForTest`.
#[cfg(any(test, feature = "test-api"))]
pub fn check_against_scalar() -> usize {
    let mut rng = crate::testing::Rng::new(61);
    let mut bad = 0;
    for &(m, n, k) in &[
        (1, 1, 1),
        (1, 7, 8),
        (1, 1029, 9),
        (2, 2051, 17),
        (3, 13, 7),
        (4, 1024, 64),
        (4, 37, 3),
        (1, 100, 0),
        (2, 0, 5),
    ] {
        for case in 0..4 {
            let lhs = rng.f32s(m * k + 3, -1.0, 1.0);
            let rrs = n + case;
            let rhs = rng.f32s(k * rrs, -1.0, 1.0);
            let ls = if case % 2 == 1 { (1, m) } else { (k, 1) };
            let c0 = rng.f32s(m * n, -1.0, 1.0);
            let (read, scale) = (case >= 2, [1.0, 0.5, -2.0, 1.0][case]);
            let run = |kern: Kernel| {
                let mut c = c0.clone();
                product(m, n, k, &mut c, read, &lhs, ls, &rhs, rrs, scale, kern);
                c
            };
            let (want, got) = (run(Kernel::Scalar), run(Kernel::Simd));
            bad += crate::testing::bit_mismatches(&got, &want);
        }
    }
    bad
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against f64 sums over every block, group and vector edge, 1–4 rows, strides, scale and
    /// an added C.
    #[test]
    fn matches_f64_reference() {
        let mut rng = crate::testing::Rng::new(5);
        for &(m, n, k) in &[
            (1, 1, 1),
            (1, 3, 8),
            (1, 1025, 9),
            (2, 2050, 16),
            (3, 5, 23),
            (4, 1031, 65),
        ] {
            for read in [false, true] {
                let lhs = rng.f32s(m * k, -1.0, 1.0);
                let rrs = n + 2;
                let rhs = rng.f32s(k * rrs, -1.0, 1.0);
                let c0 = rng.f32s(m * n, -1.0, 1.0);
                let mut c = c0.clone();
                product(
                    m,
                    n,
                    k,
                    &mut c,
                    read,
                    &lhs,
                    (k, 1),
                    &rhs,
                    rrs,
                    -0.5,
                    Kernel::Simd,
                );
                for i in 0..m {
                    for j in 0..n {
                        let s: f64 = (0..k)
                            .map(|p| lhs[i * k + p] as f64 * rhs[p * rrs + j] as f64)
                            .sum();
                        let want = -0.5 * s + if read { c0[i * n + j] as f64 } else { 0.0 };
                        let got = c[i * n + j] as f64;
                        assert!(
                            (got - want).abs() <= 1e-5 * (1.0 + want.abs()),
                            "m={m} n={n} k={k} ({i}, {j}): {got} vs {want}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn column_dot_equals_the_product_bit_for_bit() {
        let mut r = crate::testing::Rng(21);
        for k in [0usize, 1, 3, 7, 8, 9, 16, 37, 64] {
            let n = 1500;
            let a = r.f32s(k, -1.0, 1.0);
            let b = r.f32s(k * n, -1.0, 1.0);
            let mut c = vec![f32::NAN; n];
            product(
                1,
                n,
                k,
                &mut c,
                false,
                &a,
                (k, 1),
                &b,
                n,
                1.0,
                Kernel::Scalar,
            );
            for (j, want) in c.iter().enumerate() {
                assert_eq!(
                    column_dot(&a, &b, n, j).to_bits(),
                    want.to_bits(),
                    "k={k} j={j}"
                );
            }
        }
    }

    #[test]
    fn simd_kernel_equals_scalar_twin() {
        assert_eq!(check_against_scalar(), 0);
    }
}
