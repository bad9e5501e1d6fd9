//! Exact top-k over a large f32 item table through an int8 screening pass: the recommender's
//! scan of an f32 table and the fused `MatMul → TopK` of ONNX retrieval graphs
//! ([`crate::ir::retrieve`]).
//!
//! Scoring 100k × 64 f32 rows streams 25.6 MB per query, and the scan is bound by memory
//! bandwidth, not arithmetic. [`Screen`] keeps an int8 copy of the table (per-row power-of-two
//! scale, rows padded to 16 values: +25 % memory at d = 64, plus 4 bytes of scale per row) and
//! a query takes two passes:
//!
//! 1. Screening: every candidate row gets an approximate score `a_n` from the int8 row and the
//!    query quantized to i16, and a rigorous error bound `e_n ≥ |f32 score − a_n|` (derived
//!    below), so `lo_n = post(a_n − e_n) ≤ score_n ≤ hi_n = post(a_n + e_n)` where `post` is the
//!    caller's monotone (non-decreasing) epilogue ([`Post`]): cosine scaling by non-negative
//!    norms, then an item bias. A running threshold `T` is the k-th largest `lo` seen so far;
//!    a row whose `hi` is below `T` is strictly worse than k rows already seen and can never
//!    enter the top k.
//! 2. Rescoring (by the caller): the rows with `hi ≥ T` for the final `T`
//!    ([`Screen::candidates`]) are scored again with the exact f32 kernel of the plain scan and
//!    selected with its rule, so the result equals the plain scan's, ties and all. Strictly
//!    below in value is strictly below in `f32::total_cmp` order too, so the candidates also
//!    hold the top k under ONNX TopK's ordering (−0 below +0).
//!
//! Where many scores are nearly equal, many rows survive and the query is merely slower; if the
//! bound could overflow f32 for this query, [`Screen::candidates`] declines and the caller runs
//! the plain scan.
//!
//! ## The bound
//! Row `b` (f32, finite) has scale `s = 2^e ≥ max|b_j| / 127` (the smallest such power of two,
//! at least 2^-149) and codes `c_j = round(b_j / s)`; the division by a power of two is exact (or
//! underflows far below 1/2), so `|c_j| ≤ 127`, `b̂_j = s·c_j` is exact and `|b_j − b̂_j| ≤ s/2`.
//! The query `x` is quantized to `q_j` (i16) with scale `s_x`: `x̂_j = s_x·q_j`, `δ_x = max_j |x_j −
//! x̂_j|` (computed per query in f64). The integer dot `I = Σ q_j c_j` is exact in i32
//! ([`super::dots::i16_query_max`]), so `A = s_x·s·I = x̂·b̂`. For the real dot `D = x·b`:
//!
//! ```text
//! D − A = Σ x_j (b_j − b̂_j) + Σ (x_j − x̂_j) b̂_j
//! |D − A| ≤ ‖x‖₁·s/2 + δ_x·‖b̂‖₁ ≤ s·(‖x‖₁/2 + δ_x·127·d)
//! ```
//!
//! The f32 dot `F` that the plain scan computes sums d rounded products along a tree in which
//! every term passes through at most d roundings, so `|F − D| ≤ γ_d Σ|x_j b_j| + d·2^-150`
//! (`γ_d = d·u / (1 − d·u)`, `u = 2^-24`, and each product that underflows loses at most 2^-150);
//! `γ_d ≤ d·2^-23` for `d·u ≤ 1/2` and `Σ|x_j b_j| ≤ ‖x‖_∞·d·max|b_j| ≤ ‖x‖_∞·127·d·s`. Hence
//!
//! ```text
//! |F − A| ≤ s·K + d·2^-150,   K = ‖x‖₁/2 + δ_x·127·d + d·2^-23·‖x‖_∞·127·d.
//! ```
//!
//! The bounds are evaluated in f32 as `hi = (fl(I)·s_x + K')·s + η` and `lo = (fl(I)·s_x −
//! K')·s − η`. Each of the four operations errs by at most `u` relative (or 2^-150 absolute when it
//! underflows); with `|fl(I)·s_x| ≤ V = 127·(‖x‖₁ + d·δ_x)` (as `|I| ≤ 127·Σ|q_j|`), their relative
//! error is below `2^-22·(V + K)·s`, which `K' = K·(1 + 2^-10) + V·2^-18` (computed in f64,
//! rounded up) covers many times over, and `η = (d + 8)·2^-149` covers the underflow terms. `post`
//! is applied to `hi` and `lo` as to `F`: f32 rounding is monotone, so `post(lo) ≤ post(F) ≤
//! post(hi)`. A query for which `s_max·(V + K' + 127·d·‖x‖_∞)` reaches 2^100 is declined, so no
//! bound, partial sum or exact score is infinite or NaN.

use super::dots as kernels;

/// Tables with fewer rows than this are scanned plainly. Measured crossover (the recommender's
/// top-10 in wasm under Node, screened ÷ plain median, same process, alternating): at d = 64
/// 1.15 for 200 items, 1.08 for 500, 0.96 for 1000, 0.79 for 2000, 0.69 for 4000, 0.56 for
/// 8000, 0.48 for 16000; d = 16, 32, 128 cross at about 1000 items too (0.99, 1.00, 0.85) and
/// reach 0.90, 0.87, 0.71 at 2000. Below 2048 the gain is too small to pay for the int8 copy
/// (+25 % of the table's memory at d = 64, built on the first query).
pub const MIN_ITEMS: usize = 2048;

/// A masked block whose candidates are fewer than one in `SPARSE` of its items is screened item
/// by item; denser ones as unmasked blocks are, the mask ANDed into the bounds' keep bits.
const SPARSE: usize = 4;

/// The int8 copy of an f32 table and its per-row scales.
pub struct Screen {
    d: usize,
    /// Row stride of `rows`: `d` rounded up to 16 (zero padding).
    dp: usize,
    rows: Vec<i8>,
    scales: Vec<f32>,
    max_scale: f32,
}

impl std::fmt::Debug for Screen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Screen({} items × {})", self.scales.len(), self.d)
    }
}

/// The smallest power of two `s ≥ 2^-149` with `127·s ≥ m` (0 for `m = 0`).
fn pow2_scale(m: f32) -> f32 {
    if m == 0.0 {
        return 0.0;
    }
    let t = m as f64 / 127.0;
    // 2^ceil(log2 t) from the exponent bits, then corrected so that 127·s ≥ m holds exactly
    let e = ((t.to_bits() >> 52) as i64 - 1023).clamp(-149, 127) as i32;
    let mut s = 2f64.powi(e).max(2f64.powi(-149));
    while 127.0 * s < m as f64 {
        s *= 2.0;
    }
    while s > 2f64.powi(-149) && 127.0 * (s / 2.0) >= m as f64 {
        s /= 2.0;
    }
    s as f32
}

/// The k largest lower bounds seen: a min-heap whose root is the running threshold.
struct Lows {
    k: usize,
    heap: Vec<f32>,
}

impl Lows {
    #[inline(always)]
    fn threshold(&self) -> f32 {
        if self.heap.len() < self.k {
            f32::NEG_INFINITY
        } else {
            self.heap[0]
        }
    }

    /// Keeps `v` if it is above the threshold (`v` is never NaN here).
    fn push(&mut self, v: f32) {
        let h = &mut self.heap;
        if h.len() < self.k {
            h.push(v);
            let mut c = h.len() - 1;
            while c > 0 && h[c] < h[(c - 1) / 2] {
                h.swap(c, (c - 1) / 2);
                c = (c - 1) / 2;
            }
            return;
        }
        h[0] = v;
        let (n, mut p) = (h.len(), 0);
        loop {
            let (l, r) = (2 * p + 1, 2 * p + 2);
            let mut w = p;
            if l < n && h[l] < h[w] {
                w = l;
            }
            if r < n && h[r] < h[w] {
                w = r;
            }
            if w == p {
                break;
            }
            h.swap(p, w);
            p = w;
        }
    }
}

impl Screen {
    /// The int8 copy of `table` (`n × d`, row-major: item `j` is row `j`); `None` when a value
    /// is not finite (the plain scan then keeps the table's own NaN/inf behaviour).
    pub fn build(table: &[f32], d: usize) -> Option<Screen> {
        if d == 0 || table.len() % d != 0 {
            return None;
        }
        Screen::build_strided(table, table.len() / d, d, (d, 1))
    }

    /// The int8 copy of the items of a `d × n` row-major matrix whose item `j` is column `j`
    /// (MatMul's B); `None` when a value is not finite.
    pub fn build_columns(b: &[f32], d: usize, n: usize) -> Option<Screen> {
        if d == 0 || b.len() != d * n {
            return None;
        }
        Screen::build_strided(b, n, d, (1, n))
    }

    /// Item `j`'s value `p` at `v[j·rs + p·cs]`.
    fn build_strided(v: &[f32], n: usize, d: usize, (rs, cs): (usize, usize)) -> Option<Screen> {
        Screen::build_rows(n, d, |j, row| {
            for (p, x) in row.iter_mut().enumerate() {
                *x = v[j * rs + p * cs];
            }
        })
    }

    /// The int8 copy of `n` items of dimension `d > 0` whose f32 values `row(j, out)` writes
    /// (an f16 table's, converted exactly); `None` when a value is not finite.
    pub fn build_rows(n: usize, d: usize, row_of: impl Fn(usize, &mut [f32])) -> Option<Screen> {
        let dp = d.next_multiple_of(16);
        let mut rows = vec![0i8; n * dp];
        let mut scales = vec![0f32; n];
        let mut row = vec![0f32; d];
        for (j, (out, sc)) in rows.chunks_exact_mut(dp).zip(scales.iter_mut()).enumerate() {
            row_of(j, &mut row);
            if row.iter().any(|v| !v.is_finite()) {
                return None;
            }
            let s = pow2_scale(row.iter().fold(0f32, |m, v| m.max(v.abs())));
            *sc = s;
            if s > 0.0 {
                for (o, v) in out.iter_mut().zip(&row) {
                    *o = (v / s).round().clamp(-127.0, 127.0) as i8;
                }
            }
        }
        let max_scale = scales.iter().fold(0f32, |m, s| m.max(*s));
        Some(Screen {
            d,
            dp,
            rows,
            scales,
            max_scale,
        })
    }

    /// Bytes held beside the f32 table.
    pub fn bytes(&self) -> usize {
        self.rows.len() + 4 * self.scales.len()
    }

    /// How many items the table holds.
    pub fn len(&self) -> usize {
        self.scales.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scales.is_empty()
    }

    /// The items (in increasing order) that may rank among the `k` best for query `x` when item
    /// `j` scores `post.apply(j, F_j)`, `F_j` the f32 dot of item `j` and `x` in any summation
    /// order whose terms each pass through at most `d` roundings: among every item, or the set
    /// bits of `mask`; the best are the largest scores, or (with an identity `post`) the
    /// smallest when `!largest`. Every item left out scores strictly worse than `k` items of
    /// the list. `None` when this query's bound could overflow f32 (a non-finite or huge
    /// query), or for the smallest with a `post`: scan plainly.
    pub fn candidates(
        &self,
        x: &[f32],
        mask: Option<&[u64]>,
        k: usize,
        largest: bool,
        post: Post,
    ) -> Option<Vec<u32>> {
        let (d, dp, n, kk) = (self.d, self.dp, self.scales.len(), k);
        if x.len() != d || !(largest || post.is_identity()) {
            return None;
        }
        if kk == 0 {
            return Some(Vec::new());
        }
        let mut q = vec![0i16; dp];
        let sx = kernels::quantize_query_i16(x, &mut q[..d]);
        let (mut n1, mut xinf, mut dx) = (0f64, 0f64, 0f64);
        for (&v, &c) in x.iter().zip(&q) {
            n1 += (v as f64).abs();
            xinf = xinf.max((v as f64).abs());
            dx = dx.max((v as f64 - sx as f64 * c as f64).abs());
        }
        let up = 1.0 + 2f64.powi(-30); // f64 rounding of the sums above
        let (n1, dx, df) = (n1 * up, dx * up, d as f64);
        let k_true = n1 / 2.0 + dx * 127.0 * df + df * 2f64.powi(-23) * xinf * 127.0 * df;
        let v_max = 127.0 * (n1 + df * dx);
        let k = (k_true * (1.0 + 2f64.powi(-10)) + v_max * 2f64.powi(-18)) * up;
        if !(self.max_scale as f64 * (v_max + k + 127.0 * df * xinf) < 2f64.powi(100)) {
            return None;
        }
        let k = k as f32 * (1.0 + f32::EPSILON);
        let eta = (d + 8) as f32 * f32::from_bits(1);
        // the k smallest scores (identity post) are the k largest negated ones: negating the
        // query's scale negates v exactly, so `(v' ± k)·s ± η` bound −F
        let sx = if largest { sx } else { -sx };

        let mut pass = Pass {
            lows: Lows {
                k: kk,
                heap: Vec::with_capacity(kk.min(n)),
            },
            cands: Vec::new(),
            cap: 2 * kk.min(n) + 256,
        };
        let lo = |j: usize, dot: i32| post.apply(j, (dot as f32 * sx - k) * self.scales[j] - eta);
        const BLOCK: usize = 256;
        let (mut dots, mut his) = ([0i32; BLOCK], [0f32; BLOCK]);
        let mut keep = [0u64; BLOCK / 64];
        for j0 in (0..n).step_by(BLOCK) {
            let j1 = (j0 + BLOCK).min(n);
            // the mask's words for this block (those past its end are zero)
            let m = mask.map(|m| &m[(j0 / 64).min(m.len())..(j1.div_ceil(64)).min(m.len())]);
            if let Some(m) = m {
                // a block with few candidates: item by item
                let c: u32 = m.iter().map(|w| w.count_ones()).sum();
                if (c as usize) * SPARSE < j1 - j0 {
                    for_each_set_bit(m, j1 - j0, |t| {
                        let j = j0 + t;
                        let dot = kernels::dot_i8(&self.rows[j * dp..(j + 1) * dp], &q);
                        let hi =
                            kernels::scalar::bound(dot, self.scales[j], (sx, k, eta), &post, j);
                        pass.offer(j, hi, || lo(j, dot));
                    });
                    continue;
                }
            }
            let (dots, his) = (&mut dots[..j1 - j0], &mut his[..j1 - j0]);
            kernels::dots_i8(&self.rows[j0 * dp..j1 * dp], &q, dots);
            // the block's bounds are tested against the threshold at its start, four at a
            // time: it only rises, so an item below it is below the final one, and the
            // survivors (those of the mask) are tested again against the running threshold
            let t = pass.lows.threshold();
            let (b, p) = ((sx, k, eta), post.slice(j0, j1));
            kernels::bounds(dots, &self.scales[j0..j1], b, &p, t, m, his, &mut keep);
            for_each_set_bit(&keep, j1 - j0, |t| {
                pass.offer(j0 + t, his[t], || lo(j0 + t, dots[t]))
            });
        }
        let t = pass.lows.threshold();
        Some(
            pass.cands
                .into_iter()
                .filter(|c| !(c.1 < t))
                .map(|c| c.0)
                .collect(),
        )
    }
}

/// The screening pass's running state: the k best lower bounds and the candidates so far.
struct Pass {
    lows: Lows,
    cands: Vec<(u32, f32)>,
    /// Candidates held before those below the threshold are dropped.
    cap: usize,
}

impl Pass {
    /// Item `j` with upper bound `hi` and lower bound `lo()` (both `post` applied).
    #[inline(always)]
    fn offer(&mut self, j: usize, hi: f32, lo: impl FnOnce() -> f32) {
        let t = self.lows.threshold();
        // NaN-safe: a bound that is not a number keeps the item
        if !(hi < t) {
            let lo = lo();
            if lo > t {
                self.lows.push(lo);
            }
            self.cands.push((j as u32, hi));
            if self.cands.len() >= self.cap {
                let t = self.lows.threshold();
                self.cands.retain(|c| !(c.1 < t));
                if self.cands.len() * 2 > self.cap {
                    self.cap *= 2;
                }
            }
        }
    }
}

/// Calls `f(j)` for every set bit `j < n` of the bitmask `mask` (bit `j % 64` of word `j / 64`),
/// in increasing order.
#[inline(always)]
pub fn for_each_set_bit(mask: &[u64], n: usize, mut f: impl FnMut(usize)) {
    for (w, &bits) in mask.iter().enumerate() {
        let mut b = bits;
        while b != 0 {
            let j = w * 64 + b.trailing_zeros() as usize;
            b &= b - 1;
            if j < n {
                f(j);
            }
        }
    }
}

/// The monotone epilogue of a dot product: `(dot · scale) · norms[j]` when `norms` is given
/// (cosine: non-negative norms and scale), then `+ bias[j]` — non-decreasing in `dot`, as
/// [`Screen::candidates`] needs, since f32 rounding is monotone.
#[derive(Clone, Copy, Default)]
pub struct Post<'a> {
    pub scale: f32,
    pub norms: Option<&'a [f32]>,
    pub bias: Option<&'a [f32]>,
}

impl Post<'_> {
    #[inline(always)]
    pub fn apply(&self, j: usize, dot: f32) -> f32 {
        let mut s = dot;
        if let Some(n) = self.norms {
            s = s * self.scale * n[j];
        }
        if let Some(b) = self.bias {
            s += b[j];
        }
        s
    }

    /// The epilogue of items `j0..j1` as items `0..j1 - j0`.
    pub fn slice(&self, j0: usize, j1: usize) -> Self {
        Post {
            scale: self.scale,
            norms: self.norms.map(|n| &n[j0..j1]),
            bias: self.bias.map(|b| &b[j0..j1]),
        }
    }

    pub fn is_identity(&self) -> bool {
        self.norms.is_none() && self.bias.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_are_the_smallest_power_of_two_covering_the_row() {
        for m in [
            1e-45f32,
            127e-45,
            1e-40,
            1e-30,
            0.5,
            1.0,
            127.0,
            127.5,
            254.0,
            3e38,
            f32::MAX,
        ] {
            let s = pow2_scale(m);
            assert!(s > 0.0 && s.is_finite(), "{m}");
            let b = s.to_bits();
            // a normal power of two has no mantissa bits, a subnormal one a single bit
            let pow2 = b & 0x007f_ffff == 0 || (b >> 23 == 0 && b.is_power_of_two());
            assert!(pow2, "{m}: {s} not a power of two");
            assert!(127.0 * s as f64 >= m as f64, "{m}");
            assert!(
                s == f32::from_bits(1) || 127.0 * (s as f64 / 2.0) < m as f64,
                "{m}"
            );
        }
        assert_eq!(pow2_scale(0.0), 0.0);
    }
}
