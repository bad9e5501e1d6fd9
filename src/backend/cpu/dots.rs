//! Scoring kernels: one query vector against every row of an item table (the recommender's
//! scans and the int8 screening pass of [`super::screen`]).
//!
//! Each kernel has a SIMD128 body (wasm) and a scalar twin that performs the same operations in
//! the same order, so both give bit-identical scores (a test checks it) and the native CLI ranks
//! exactly like the browser. The f32 order is fixed: four 4-lane accumulators over blocks of 16,
//! leftover blocks of 4 into accumulator 0, then `((a0+a1)+(a2+a3))`, then lanes `(l0+l2)+(l1+l3)`,
//! then the tail elements one by one. No fused multiply-add anywhere (wasm has none).

/// Scale used to quantize a query to i16 for an int8 table of dimension `d`: the largest value
/// such that `127 · qmax · d` fits an i32 accumulator.
pub fn i16_query_max(d: usize) -> i32 {
    (i32::MAX / (127 * d.max(1) as i32)).min(32767)
}

/// Quantizes `q` to i16 (`q ≈ scale · out`); returns the scale.
pub fn quantize_query_i16(q: &[f32], out: &mut [i16]) -> f32 {
    let qmax = i16_query_max(q.len()) as f32;
    let max = q.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max == 0.0 {
        out.fill(0);
        return 0.0;
    }
    let scale = max / qmax;
    for (o, x) in out.iter_mut().zip(q) {
        *o = (x / scale).round().clamp(-qmax, qmax) as i16;
    }
    scale
}

/// f16 bits → f32 for finite values (the bundle loader rejects inf/NaN): the magnitude bits are
/// moved into an f32 and rescaled by 2^112, which is exact for normal and subnormal halves.
#[inline(always)]
pub fn f16_to_f32(h: u16) -> f32 {
    let mag = f32::from_bits(((h & 0x7fff) as u32) << 13) * f32::from_bits(0x7780_0000); // 2^112
    f32::from_bits(mag.to_bits() | (((h & 0x8000) as u32) << 16))
}

pub mod scalar {
    use super::f16_to_f32;
    use crate::backend::cpu::screen::Post;

    #[inline(always)]
    fn finish(acc: [[f32; 4]; 4], mut s_tail: impl FnMut(f32) -> f32) -> f32 {
        let mut t = [0f32; 4];
        for l in 0..4 {
            t[l] = (acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l]);
        }
        s_tail((t[0] + t[2]) + (t[1] + t[3]))
    }

    /// Dot product of a row (as loaded by `get`) with `q`, in the canonical order.
    #[inline(always)]
    fn dot_by(q: &[f32], get: impl Fn(usize) -> f32) -> f32 {
        let d = q.len();
        let mut acc = [[0f32; 4]; 4];
        let mut i = 0;
        while i + 16 <= d {
            for (k, a) in acc.iter_mut().enumerate() {
                for (l, x) in a.iter_mut().enumerate() {
                    let j = i + 4 * k + l;
                    *x += get(j) * q[j];
                }
            }
            i += 16;
        }
        while i + 4 <= d {
            for (l, x) in acc[0].iter_mut().enumerate() {
                *x += get(i + l) * q[i + l];
            }
            i += 4;
        }
        finish(acc, |mut s| {
            for j in i..d {
                s += get(j) * q[j];
            }
            s
        })
    }

    pub fn dot_f32(row: &[f32], q: &[f32]) -> f32 {
        dot_by(q, |j| row[j])
    }

    /// `out[r] = dot_f32(row r, q)` for the consecutive rows of `rows` (`q.len()` wide).
    pub fn dots_f32(rows: &[f32], q: &[f32], out: &mut [f32]) {
        let d = q.len();
        for (r, o) in out.iter_mut().enumerate() {
            *o = dot_f32(&rows[r * d..(r + 1) * d], q);
        }
    }

    pub fn dot_f16(row: &[u16], q: &[f32]) -> f32 {
        dot_by(q, |j| f16_to_f32(row[j]))
    }

    pub fn dot_i8(row: &[i8], q: &[i16]) -> i32 {
        row.iter().zip(q).map(|(a, b)| *a as i32 * *b as i32).sum()
    }

    /// `out[r] = dot_i8(row r, q)` for the consecutive rows of `rows` (`q.len()` wide).
    pub fn dots_i8(rows: &[i8], q: &[i16], out: &mut [i32]) {
        let d = q.len();
        for (r, o) in out.iter_mut().enumerate() {
            *o = dot_i8(&rows[r * d..(r + 1) * d], q);
        }
    }

    /// One bound of [`bounds`]: `post.apply(j, (dot as f32 · sx + k) · scale + eta)`.
    #[inline(always)]
    pub fn bound(
        dot: i32,
        scale: f32,
        (sx, k, eta): (f32, f32, f32),
        post: &Post,
        j: usize,
    ) -> f32 {
        post.apply(j, (dot as f32 * sx + k) * scale + eta)
    }

    /// The screening pass's bounds of a block ([`crate::backend::cpu::screen`]) through the
    /// caller's epilogue, `out[j] = bound(dots[j], scales[j], b, post, j)`, and which of them
    /// are not below `t`: bit `j % 64` of `keep[j / 64]` is set when `!(out[j] < t)` (a NaN
    /// is kept) and, with a `mask` (the block's candidate bits, words past its end taken as
    /// zero), set in it. `keep` holds at least `out.len().div_ceil(64)` words.
    #[allow(clippy::too_many_arguments)]
    pub fn bounds(
        dots: &[i32],
        scales: &[f32],
        b: (f32, f32, f32),
        post: &Post,
        t: f32,
        mask: Option<&[u64]>,
        out: &mut [f32],
        keep: &mut [u64],
    ) {
        keep[..out.len().div_ceil(64)].fill(0);
        for (j, ((o, d), s)) in out.iter_mut().zip(dots).zip(scales).enumerate() {
            *o = bound(*d, *s, b, post, j);
            keep[j / 64] |= (!(*o < t) as u64) << (j % 64);
        }
        and_mask(&mut keep[..out.len().div_ceil(64)], mask);
    }

    /// `keep &= mask` word by word (a missing mask word is zero; no mask keeps all).
    #[inline(always)]
    pub fn and_mask(keep: &mut [u64], mask: Option<&[u64]>) {
        if let Some(m) = mask {
            for (w, k) in keep.iter_mut().enumerate() {
                *k &= m.get(w).copied().unwrap_or(0);
            }
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd {
    use crate::backend::cpu::screen::Post;
    use core::arch::wasm32::*;

    #[inline(always)]
    unsafe fn ld(p: *const f32) -> v128 {
        v128_load(p as *const v128)
    }

    #[inline(always)]
    fn finish(a: [v128; 4]) -> f32 {
        let t = f32x4_add(f32x4_add(a[0], a[1]), f32x4_add(a[2], a[3]));
        let u = f32x4_add(t, i32x4_shuffle::<2, 3, 0, 1>(t, t));
        f32x4_extract_lane::<0>(u) + f32x4_extract_lane::<1>(u)
    }

    /// f16 bits (8 lanes) → two f32x4, the same value as [`super::f16_to_f32`]: each half is
    /// placed in the top 16 bits of a lane, an arithmetic shift by 3 lines its exponent and
    /// mantissa up with an f32's (the sign stays in bit 31; the mask drops its copies), and
    /// the 2^112 multiply rebiases the exponent (exact for normal and subnormal halves).
    #[inline(always)]
    fn f16x8_to_f32(h: v128) -> (v128, v128) {
        let z = i16x8_splat(0);
        let lo = i16x8_shuffle::<8, 0, 9, 1, 10, 2, 11, 3>(h, z);
        let hi = i16x8_shuffle::<8, 4, 9, 5, 10, 6, 11, 7>(h, z);
        let cvt = |w: v128| {
            let bits = v128_and(i32x4_shr(w, 3), i32x4_splat(0x8FFF_E000u32 as i32));
            f32x4_mul(bits, f32x4_splat(f32::from_bits(0x7780_0000)))
        };
        (cvt(lo), cvt(hi))
    }

    pub fn dot_f32(row: &[f32], q: &[f32]) -> f32 {
        let d = q.len();
        debug_assert_eq!(row.len(), d);
        let (r, p) = (row.as_ptr(), q.as_ptr());
        let mut a = [f32x4_splat(0.0); 4];
        let mut i = 0;
        unsafe {
            while i + 16 <= d {
                for (k, acc) in a.iter_mut().enumerate() {
                    let o = i + 4 * k;
                    *acc = f32x4_add(*acc, f32x4_mul(ld(r.add(o)), ld(p.add(o))));
                }
                i += 16;
            }
            while i + 4 <= d {
                a[0] = f32x4_add(a[0], f32x4_mul(ld(r.add(i)), ld(p.add(i))));
                i += 4;
            }
        }
        let mut s = finish(a);
        for j in i..d {
            s += row[j] * q[j];
        }
        s
    }

    /// The four accumulators of [`dot_f32`] for two rows at once (each row's own operations in
    /// its own order; the query's vectors are loaded once for both), folded to
    /// `(a0 + a1) + (a2 + a3)`; and how many leading values they cover.
    #[inline(always)]
    unsafe fn pair(r0: *const f32, r1: *const f32, p: *const f32, d: usize) -> (v128, v128, usize) {
        let (mut a, mut b) = ([f32x4_splat(0.0); 4], [f32x4_splat(0.0); 4]);
        let mut i = 0;
        while i + 16 <= d {
            for k in 0..4 {
                let (o, x) = (i + 4 * k, ld(p.add(i + 4 * k)));
                a[k] = f32x4_add(a[k], f32x4_mul(ld(r0.add(o)), x));
                b[k] = f32x4_add(b[k], f32x4_mul(ld(r1.add(o)), x));
            }
            i += 16;
        }
        while i + 4 <= d {
            let x = ld(p.add(i));
            a[0] = f32x4_add(a[0], f32x4_mul(ld(r0.add(i)), x));
            b[0] = f32x4_add(b[0], f32x4_mul(ld(r1.add(i)), x));
            i += 4;
        }
        let fold = |a: [v128; 4]| f32x4_add(f32x4_add(a[0], a[1]), f32x4_add(a[2], a[3]));
        (fold(a), fold(b), i)
    }

    /// `out[r] = dot_f32(row r, q)` bit for bit, four rows per step: two [`pair`]s, and the
    /// four horizontal sums `(l0 + l2) + (l1 + l3)` of [`finish`] done together by two
    /// transposing shuffles, stored as one vector.
    pub fn dots_f32(rows: &[f32], q: &[f32], out: &mut [f32]) {
        let (d, n) = (q.len(), out.len());
        assert!(rows.len() >= n * d, "dots_f32: rows too short");
        let (p, base) = (q.as_ptr(), rows.as_ptr());
        let mut r = 0;
        while r + 4 <= n {
            // SAFETY: rows r..r+4 lie inside `rows` (asserted above), out[r..r+4] inside out
            unsafe {
                let row = |t: usize| base.add((r + t) * d);
                let (t0, t1, i) = pair(row(0), row(1), p, d);
                let (t2, t3, _) = pair(row(2), row(3), p, d);
                // [t0l0+t0l2, t1l0+t1l2, t0l1+t0l3, t1l1+t1l3], the same for rows 2, 3
                let z01 = f32x4_add(
                    i32x4_shuffle::<0, 4, 1, 5>(t0, t1),
                    i32x4_shuffle::<2, 6, 3, 7>(t0, t1),
                );
                let z23 = f32x4_add(
                    i32x4_shuffle::<0, 4, 1, 5>(t2, t3),
                    i32x4_shuffle::<2, 6, 3, 7>(t2, t3),
                );
                let s = f32x4_add(
                    i32x4_shuffle::<0, 1, 4, 5>(z01, z23),
                    i32x4_shuffle::<2, 3, 6, 7>(z01, z23),
                );
                v128_store(out.as_mut_ptr().add(r) as *mut v128, s);
                for t in 0..4 {
                    let o = &mut out[r + t];
                    for j in i..d {
                        *o += rows[(r + t) * d + j] * q[j];
                    }
                }
            }
            r += 4;
        }
        for (t, o) in out.iter_mut().enumerate().skip(r) {
            *o = dot_f32(&rows[t * d..(t + 1) * d], q);
        }
    }

    pub fn dot_f16(row: &[u16], q: &[f32]) -> f32 {
        let d = q.len();
        debug_assert_eq!(row.len(), d);
        let (r, p) = (row.as_ptr(), q.as_ptr());
        let mut a = [f32x4_splat(0.0); 4];
        let mut i = 0;
        unsafe {
            while i + 16 <= d {
                let (x0, x1) = f16x8_to_f32(v128_load(r.add(i) as *const v128));
                let (x2, x3) = f16x8_to_f32(v128_load(r.add(i + 8) as *const v128));
                for (k, x) in [x0, x1, x2, x3].into_iter().enumerate() {
                    a[k] = f32x4_add(a[k], f32x4_mul(x, ld(p.add(i + 4 * k))));
                }
                i += 16;
            }
            while i + 4 <= d {
                let h = v128_load64_zero(r.add(i) as *const u64);
                let (x, _) = f16x8_to_f32(h);
                a[0] = f32x4_add(a[0], f32x4_mul(x, ld(p.add(i))));
                i += 4;
            }
        }
        let mut s = finish(a);
        for j in i..d {
            s += super::f16_to_f32(row[j]) * q[j];
        }
        s
    }

    pub fn dot_i8(row: &[i8], q: &[i16]) -> i32 {
        let d = q.len();
        debug_assert_eq!(row.len(), d);
        let (r, p) = (row.as_ptr(), q.as_ptr());
        let mut acc = i32x4_splat(0);
        let mut i = 0;
        unsafe {
            while i + 16 <= d {
                let x = v128_load(r.add(i) as *const v128);
                let q0 = v128_load(p.add(i) as *const v128);
                let q1 = v128_load(p.add(i + 8) as *const v128);
                acc = i32x4_add(acc, i32x4_dot_i16x8(i16x8_extend_low_i8x16(x), q0));
                acc = i32x4_add(acc, i32x4_dot_i16x8(i16x8_extend_high_i8x16(x), q1));
                i += 16;
            }
        }
        let mut s = i32x4_extract_lane::<0>(acc)
            .wrapping_add(i32x4_extract_lane::<1>(acc))
            .wrapping_add(i32x4_extract_lane::<2>(acc))
            .wrapping_add(i32x4_extract_lane::<3>(acc));
        for j in i..d {
            s += row[j] as i32 * q[j] as i32;
        }
        s
    }

    /// `out[r] = dot_i8(row r, q)` (the sums are exact integers, so equal to the scalar
    /// twin's), four rows per step sharing the query's vectors, their four horizontal sums done
    /// together by two transposing shuffles. Rows are `q.len()` wide.
    pub fn dots_i8(rows: &[i8], q: &[i16], out: &mut [i32]) {
        let (d, n) = (q.len(), out.len());
        assert!(rows.len() >= n * d, "dots_i8: rows too short");
        let (p, base) = (q.as_ptr(), rows.as_ptr());
        let d16 = d - d % 16;
        let mut r = 0;
        while r + 4 <= n {
            // SAFETY: rows r..r+4 lie inside `rows` (asserted above), out[r..r+4] inside out
            unsafe {
                let mut a = [i32x4_splat(0); 4];
                let mut i = 0;
                while i < d16 {
                    let q0 = v128_load(p.add(i) as *const v128);
                    let q1 = v128_load(p.add(i + 8) as *const v128);
                    for (t, acc) in a.iter_mut().enumerate() {
                        // sign-extending loads: one instruction each, where extending the
                        // high half of a loaded vector takes two
                        let x = base.add((r + t) * d + i);
                        let (x0, x1) =
                            (i16x8_load_extend_i8x8(x), i16x8_load_extend_i8x8(x.add(8)));
                        *acc = i32x4_add(*acc, i32x4_dot_i16x8(x0, q0));
                        *acc = i32x4_add(*acc, i32x4_dot_i16x8(x1, q1));
                    }
                    i += 16;
                }
                let z01 = i32x4_add(
                    i32x4_shuffle::<0, 4, 1, 5>(a[0], a[1]),
                    i32x4_shuffle::<2, 6, 3, 7>(a[0], a[1]),
                );
                let z23 = i32x4_add(
                    i32x4_shuffle::<0, 4, 1, 5>(a[2], a[3]),
                    i32x4_shuffle::<2, 6, 3, 7>(a[2], a[3]),
                );
                let s = i32x4_add(
                    i32x4_shuffle::<0, 1, 4, 5>(z01, z23),
                    i32x4_shuffle::<2, 3, 6, 7>(z01, z23),
                );
                v128_store(out.as_mut_ptr().add(r) as *mut v128, s);
            }
            for t in 0..4 {
                for j in d16..d {
                    out[r + t] += rows[(r + t) * d + j] as i32 * q[j] as i32;
                }
            }
            r += 4;
        }
        for (t, o) in out.iter_mut().enumerate().skip(r) {
            *o = dot_i8(&rows[t * d..(t + 1) * d], q);
        }
    }

    /// [`super::scalar::bounds`] four values per vector: the same operations (the i32 → f32
    /// conversion rounds to nearest in both), so the same bits, and the four lanes' test
    /// against `t` as one bitmask; the mask ANDed in by words.
    #[allow(clippy::too_many_arguments)]
    pub fn bounds(
        dots: &[i32],
        scales: &[f32],
        b: (f32, f32, f32),
        post: &Post,
        t: f32,
        mask: Option<&[u64]>,
        out: &mut [f32],
        keep: &mut [u64],
    ) {
        let n = out.len();
        assert!(dots.len() >= n && scales.len() >= n, "bounds: short block");
        assert!(
            post.norms.is_none_or(|v| v.len() >= n),
            "bounds: short norms"
        );
        assert!(post.bias.is_none_or(|v| v.len() >= n), "bounds: short bias");
        keep[..n.div_ceil(64)].fill(0);
        let (vs, vk, ve) = (f32x4_splat(b.0), f32x4_splat(b.1), f32x4_splat(b.2));
        let (vp, vt) = (f32x4_splat(post.scale), f32x4_splat(t));
        let mut j = 0;
        while j + 4 <= n {
            // SAFETY: j + 4 ≤ the length of every slice read (asserted above)
            unsafe {
                let v = f32x4_convert_i32x4(v128_load(dots.as_ptr().add(j) as *const v128));
                let s = ld(scales.as_ptr().add(j));
                let mut hi = f32x4_add(f32x4_mul(f32x4_add(f32x4_mul(v, vs), vk), s), ve);
                if let Some(m) = post.norms {
                    hi = f32x4_mul(f32x4_mul(hi, vp), ld(m.as_ptr().add(j)));
                }
                if let Some(c) = post.bias {
                    hi = f32x4_add(hi, ld(c.as_ptr().add(j)));
                }
                v128_store(out.as_mut_ptr().add(j) as *mut v128, hi);
                let below = i32x4_bitmask(f32x4_lt(hi, vt)) as u64;
                keep[j / 64] |= (!below & 15) << (j % 64);
            }
            j += 4;
        }
        for j in j..n {
            out[j] = super::scalar::bound(dots[j], scales[j], b, post, j);
            keep[j / 64] |= (!(out[j] < t) as u64) << (j % 64);
        }
        super::scalar::and_mask(&mut keep[..n.div_ceil(64)], mask);
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub use simd::{bounds, dot_f16, dot_f32, dot_i8, dots_f32, dots_i8};

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub use scalar::{bounds, dot_f16, dot_f32, dot_i8, dots_f32, dots_i8};

#[cfg(test)]
mod tests {
    use super::*;

    fn vals(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(1664525).wrapping_add(1013904223);
                (s >> 8) as f32 / (1 << 24) as f32 * 2.0 - 1.0
            })
            .collect()
    }

    #[test]
    fn f16_conversion_matches_half_for_every_finite_value() {
        for h in 0..=u16::MAX {
            if h & 0x7c00 == 0x7c00 {
                continue;
            }
            let want = half::f16::from_bits(h).to_f32();
            assert_eq!(f16_to_f32(h).to_bits(), want.to_bits(), "bits {h:#06x}");
        }
    }

    #[test]
    fn dots_match_f64_reference_for_every_length() {
        for d in 0..70 {
            let (a, b) = (vals(d, 1 + d as u32), vals(d, 100 + d as u32));
            let want: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
            let got = dot_f32(&a, &b) as f64;
            assert!(
                (got - want).abs() <= 1e-5 * (1.0 + want.abs()),
                "d={d}: {got} vs {want}"
            );
            assert_eq!(dot_f32(&a, &b).to_bits(), scalar::dot_f32(&a, &b).to_bits());

            let h: Vec<u16> = a
                .iter()
                .map(|x| half::f16::from_f32(*x).to_bits())
                .collect();
            let want16: f64 = h
                .iter()
                .zip(&b)
                .map(|(x, y)| half::f16::from_bits(*x).to_f64() * *y as f64)
                .sum();
            assert!((dot_f16(&h, &b) as f64 - want16).abs() <= 1e-5 * (1.0 + want16.abs()));
            assert_eq!(dot_f16(&h, &b).to_bits(), scalar::dot_f16(&h, &b).to_bits());

            let q8: Vec<i8> = a.iter().map(|x| (x * 127.0) as i8).collect();
            let mut q16 = vec![0i16; d];
            quantize_query_i16(&b, &mut q16);
            let want8: i64 = q8
                .iter()
                .zip(&q16)
                .map(|(x, y)| *x as i64 * *y as i64)
                .sum();
            assert_eq!(dot_i8(&q8, &q16) as i64, want8);
        }
    }

    #[test]
    fn block_dots_equal_single_dots_for_every_length() {
        for d in 0..40 {
            for n in [0usize, 1, 3, 4, 5, 9] {
                let (rows, q) = (vals(n * d, 7 + d as u32), vals(d, 300 + d as u32));
                let mut got = vec![f32::NAN; n];
                dots_f32(&rows, &q, &mut got);
                for (r, g) in got.iter().enumerate() {
                    let want = scalar::dot_f32(&rows[r * d..(r + 1) * d], &q);
                    assert_eq!(g.to_bits(), want.to_bits(), "d={d} n={n} row {r}");
                }
            }
        }
    }

    #[test]
    fn block_int8_dots_equal_single_dots_for_every_length() {
        for d in 0..40 {
            for n in [0usize, 1, 3, 4, 5, 9] {
                let rows: Vec<i8> = vals(n * d, 11 + d as u32)
                    .iter()
                    .map(|v| (v * 127.0) as i8)
                    .collect();
                let mut q = vec![0i16; d];
                quantize_query_i16(&vals(d, 500 + d as u32), &mut q);
                let mut got = vec![i32::MIN; n];
                dots_i8(&rows, &q, &mut got);
                for (r, g) in got.iter().enumerate() {
                    let want: i64 = rows[r * d..(r + 1) * d]
                        .iter()
                        .zip(&q)
                        .map(|(a, b)| *a as i64 * *b as i64)
                        .sum();
                    assert_eq!(*g as i64, want, "d={d} n={n} row {r}");
                    assert_eq!(*g, scalar::dot_i8(&rows[r * d..(r + 1) * d], &q));
                }
            }
        }
    }

    #[test]
    fn bounds_apply_the_epilogue_and_mark_those_not_below_the_threshold() {
        use crate::backend::cpu::screen::Post;
        let n = 150;
        let dots: Vec<i32> = (0..n as i32).map(|j| (j * 7919) % 2001 - 1000).collect();
        let scales: Vec<f32> = (0..n).map(|j| 2f32.powi(j as i32 % 5 - 8)).collect();
        let mut norms = vals(n, 3).iter().map(|v| v.abs()).collect::<Vec<_>>();
        norms[77] = f32::NAN;
        let bias = vals(n, 4);
        let b = (0.01, 3.5, 1e-44);
        for (nm, bs) in [(None, None), (Some(&norms[..]), Some(&bias[..]))] {
            let post = Post {
                scale: 0.75,
                norms: nm,
                bias: bs,
            };
            let t = 0.02;
            // the masked pass: a mask of two words for a block of three (the third is zero)
            let mask = [0xF0F0_1234_8000_FFFFu64, 0x0000_2000_FFFF_2001];
            for m in [None, Some(&mask[..])] {
                let (mut out, mut keep) = (vec![0f32; n], [u64::MAX; 3]);
                bounds(&dots, &scales, b, &post, t, m, &mut out, &mut keep);
                let (mut so, mut sk) = (vec![0f32; n], [u64::MAX; 3]);
                scalar::bounds(&dots, &scales, b, &post, t, m, &mut so, &mut sk);
                assert_eq!(keep, sk, "the scalar twin's bits");
                for j in 0..n {
                    let want = post.apply(j, (dots[j] as f32 * b.0 + b.1) * scales[j] + b.2);
                    assert_eq!(out[j].to_bits(), want.to_bits(), "{j}");
                    assert_eq!(so[j].to_bits(), want.to_bits(), "{j}");
                    let in_mask =
                        m.is_none_or(|m| m.get(j / 64).is_some_and(|w| w >> (j % 64) & 1 == 1));
                    assert_eq!(
                        keep[j / 64] >> (j % 64) & 1 == 1,
                        !(want < t) && in_mask,
                        "{j}"
                    );
                }
                assert_eq!(keep[2] >> (n % 64), 0, "bits past the block");
                assert!(
                    keep[1] >> 13 & 1 == 1 || nm.is_none(),
                    "a NaN bound is kept"
                );
            }
        }
    }

    #[test]
    fn i16_query_cannot_overflow_the_accumulator() {
        for d in [1, 64, 512, 513, 4096] {
            let row = vec![-127i8; d];
            let mut q = vec![0i16; d];
            quantize_query_i16(&vec![-1.0; d], &mut q);
            let want: i64 = row.iter().zip(&q).map(|(a, b)| *a as i64 * *b as i64).sum();
            assert!(want <= i32::MAX as i64);
            assert_eq!(scalar::dot_i8(&row, &q) as i64, want);
        }
    }
}
