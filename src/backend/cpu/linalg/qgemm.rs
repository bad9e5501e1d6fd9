//! The integer GEMM behind MatMulInteger: `C (i32, m × n) = A' · B'` where `A'` and `B'` are 8-bit
//! operands minus their zero points. An 8-bit value minus an 8-bit zero point lies in
//! [-255, 255], so both sides are widened once to i16 and laid out as rows of `k8` values (K
//! rounded up to a multiple of 8, zero-padded): A as it is, B transposed (one row per output
//! column). Every output is then the dot product of two contiguous i16 rows: on wasm SIMD128
//! `i32x4.dot_i16x8_s` takes 8 products per instruction, in tiles of 2 rows × 4 columns; the
//! scalar twin computes the same sums elsewhere and in the tests. Sums wrap in i32, as
//! onnxruntime's do (a pair of products, at most 2 · 255², never overflows before the add).

/// K rounded up to whole 8-lane vectors.
pub fn padded_k(k: usize) -> usize {
    k.div_ceil(8) * 8
}

/// `rows` rows of `k` values from `at(r, p)`, each padded with zeros to [`padded_k`].
pub fn pack(rows: usize, k: usize, mut at: impl FnMut(usize, usize) -> i16) -> Vec<i16> {
    let k8 = padded_k(k);
    let mut v = vec![0i16; rows * k8];
    for r in 0..rows {
        for p in 0..k {
            v[r * k8 + p] = at(r, p);
        }
    }
    v
}

/// `out[i·n + j] = Σ_p a[i·k8 + p] · bt[j·k8 + p]` (wrapping), for packed `a` (m rows) and `bt`
/// (n rows).
pub fn qgemm(m: usize, n: usize, k8: usize, a: &[i16], bt: &[i16], out: &mut [i32]) {
    assert!(k8 % 8 == 0 && a.len() >= m * k8 && bt.len() >= n * k8 && out.len() >= m * n);
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    simd::qgemm(m, n, k8, a, bt, out);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    scalar(m, n, k8, a, bt, out);
}

/// The scalar twin of the SIMD128 kernel (and the kernel off wasm, where LLVM vectorizes it).
pub fn scalar(m: usize, n: usize, k8: usize, a: &[i16], bt: &[i16], out: &mut [i32]) {
    for i in 0..m {
        let ar = &a[i * k8..(i + 1) * k8];
        for j in 0..n {
            let br = &bt[j * k8..(j + 1) * k8];
            out[i * n + j] = ar
                .iter()
                .zip(br)
                .fold(0i32, |s, (&x, &y)| s.wrapping_add(x as i32 * y as i32));
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use core::arch::wasm32::*;

    #[inline(always)]
    fn hsum(v: v128) -> i32 {
        let s = i32x4_add(v, i32x4_shuffle::<2, 3, 0, 1>(v, v));
        i32x4_extract_lane::<0>(s).wrapping_add(i32x4_extract_lane::<1>(s))
    }

    /// An `R` × `C` tile of outputs at rows `i..i+R`, columns `j..j+C`.
    #[inline(always)]
    fn tile<const R: usize, const C: usize>(
        i: usize,
        j: usize,
        n: usize,
        k8: usize,
        a: &[i16],
        bt: &[i16],
        out: &mut [i32],
    ) {
        let mut acc = [[i32x4_splat(0); C]; R];
        let ap: [*const i16; R] = core::array::from_fn(|r| a[(i + r) * k8..].as_ptr());
        let bp: [*const i16; C] = core::array::from_fn(|c| bt[(j + c) * k8..].as_ptr());
        let mut p = 0;
        while p < k8 {
            // SAFETY: rows are k8 long and p + 8 <= k8 (k8 is a multiple of 8); the caller's
            // slices hold every row of the tile (checked in `qgemm`)
            unsafe {
                let x: [v128; R] = core::array::from_fn(|r| v128_load(ap[r].add(p) as *const v128));
                for c in 0..C {
                    let y = v128_load(bp[c].add(p) as *const v128);
                    for r in 0..R {
                        acc[r][c] = i32x4_add(acc[r][c], i32x4_dot_i16x8(x[r], y));
                    }
                }
            }
            p += 8;
        }
        for r in 0..R {
            for c in 0..C {
                out[(i + r) * n + j + c] = hsum(acc[r][c]);
            }
        }
    }

    pub fn qgemm(m: usize, n: usize, k8: usize, a: &[i16], bt: &[i16], out: &mut [i32]) {
        let mut i = 0;
        while i + 2 <= m {
            let mut j = 0;
            while j + 4 <= n {
                tile::<2, 4>(i, j, n, k8, a, bt, out);
                j += 4;
            }
            while j < n {
                tile::<2, 1>(i, j, n, k8, a, bt, out);
                j += 1;
            }
            i += 2;
        }
        if i < m {
            let mut j = 0;
            while j + 4 <= n {
                tile::<1, 4>(i, j, n, k8, a, bt, out);
                j += 4;
            }
            while j < n {
                tile::<1, 1>(i, j, n, k8, a, bt, out);
                j += 1;
            }
        }
    }
}

/// Runs the kernel against its scalar twin over shapes that cover every tile edge (m odd, n not
/// a multiple of 4, K not a multiple of 8, empty sides) and extreme values; returns how many
/// outputs differ (0 expected). The wasm tests call it through `qgemmCheckForTest`, so the
/// SIMD128 path is checked where it runs.
#[cfg(any(test, feature = "test-api"))]
pub fn check_against_scalar() -> usize {
    let mut rng = crate::testing::Rng::new(8);
    let mut bad = 0;
    for (m, n, k) in [
        (1, 1, 1),
        (2, 4, 8),
        (3, 5, 7),
        (5, 9, 17),
        (4, 8, 64),
        (7, 3, 33),
        (0, 3, 4),
        (3, 0, 4),
        (2, 2, 0),
        (9, 13, 100),
    ] {
        let k8 = padded_k(k);
        let a = pack(m, k, |_, _| rng.below(511) as i16 - 255);
        let bt = pack(n, k, |_, _| rng.below(511) as i16 - 255);
        let (mut got, mut want) = (vec![0; m * n], vec![0; m * n]);
        qgemm(m, n, k8, &a, &bt, &mut got);
        scalar(m, n, k8, &a, &bt, &mut want);
        bad += got.iter().zip(&want).filter(|(x, y)| x != y).count();
    }
    // the extremes: every product ±255², long K (wrapping sums)
    let k = 40_000;
    let a = pack(2, k, |r, _| if r == 0 { 255 } else { -255 });
    let bt = pack(4, k, |c, p| if (c + p) % 2 == 0 { 255 } else { -255 });
    let (mut got, mut want) = (vec![0; 8], vec![0; 8]);
    qgemm(2, 4, padded_k(k), &a, &bt, &mut got);
    scalar(2, 4, padded_k(k), &a, &bt, &mut want);
    bad + got.iter().zip(&want).filter(|(x, y)| x != y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scalar twin against a direct i64 triple loop, wrapped to i32.
    #[test]
    fn scalar_twin_matches_direct_sums() {
        let mut rng = crate::testing::Rng::new(3);
        for (m, n, k) in [
            (1, 1, 1),
            (3, 5, 7),
            (6, 4, 16),
            (2, 9, 31),
            (0, 2, 3),
            (2, 2, 0),
        ] {
            let av: Vec<i16> = (0..m * k).map(|_| rng.below(511) as i16 - 255).collect();
            let bv: Vec<i16> = (0..k * n).map(|_| rng.below(511) as i16 - 255).collect();
            let a = pack(m, k, |i, p| av[i * k + p]);
            let bt = pack(n, k, |j, p| bv[p * n + j]);
            let mut got = vec![0; m * n];
            qgemm(m, n, padded_k(k), &a, &bt, &mut got);
            for i in 0..m {
                for j in 0..n {
                    let s: i64 = (0..k)
                        .map(|p| av[i * k + p] as i64 * bv[p * n + j] as i64)
                        .sum();
                    assert_eq!(got[i * n + j], s as i32, "{m}×{n}×{k} at {i},{j}");
                }
            }
        }
        assert_eq!(check_against_scalar(), 0);
    }
}
