//! 3 × 3, stride-1 2-D convolutions by Winograd's minimal filtering F(2 × 2, 3 × 3) (Lavin and
//! Gray, "Fast Algorithms for Convolutional Neural Networks", 2016): each 2 × 2 block of outputs
//! is `Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A` over a 4 × 4 patch `d` of the input, so the 36 multiplies
//! of a direct block become 16 — as 16 GEMMs, one per position ξ of the 4 × 4 transformed
//! tile, of the transformed weights `U_ξ` (`M × C`, packed once at load) by the transformed
//! input `V_ξ` (`C × tiles`), run over blocks of tiles that stay in L2.
//!
//! The transforms only add, subtract and halve, so the result differs from the direct sum by
//! a few roundings of the terms' magnitude (checked against an f64 direct convolution in the
//! tests below and against onnxruntime on the real models of `tests/wild_models.rs`).

use super::{apply_act, Dim1, Scratch, KERNEL};
use crate::backend::cpu::linalg::sgemm::{self, PackedA};
use crate::ir::ops::conv::{ConvAct, Window};

/// Positions of a transformed tile (4 × 4).
const XI: usize = 16;

/// Fewest input and output channels per group that take this path: below them the GEMMs are
/// too shallow or too narrow to repay the transforms.
const MIN_CHANNELS: usize = 8;

/// `Bᵀ d` along one axis, over rows: `y = [x0 − x2, x1 + x2, x2 − x1, x1 − x3]` elementwise
/// (`y[0].len()` values). One copy for every input pass (not inlined: size).
#[inline(never)]
fn input_pass(x: [&[f32]; 4], y: [&mut [f32]; 4]) {
    let [y0, y1, y2, y3] = y;
    let n = y0.len();
    let (x0, x1, x2, x3) = (&x[0][..n], &x[1][..n], &x[2][..n], &x[3][..n]);
    let (y1, y2, y3) = (&mut y1[..n], &mut y2[..n], &mut y3[..n]);
    for i in 0..n {
        (y0[i], y1[i], y2[i], y3[i]) = (x0[i] - x2[i], x1[i] + x2[i], x2[i] - x1[i], x1[i] - x3[i]);
    }
}

/// `Aᵀ m` along one axis, over rows: `y = [x0 + x1 + x2 + b, x1 − x2 − x3 + b]` elementwise.
#[inline(never)]
fn output_pass(x: [&[f32]; 4], y: [&mut [f32]; 2], b: f32) {
    let [y0, y1] = y;
    let n = y0.len();
    let (x0, x1, x2, x3) = (&x[0][..n], &x[1][..n], &x[2][..n], &x[3][..n]);
    let y1 = &mut y1[..n];
    for i in 0..n {
        (y0[i], y1[i]) = (x0[i] + x1[i] + x2[i] + b, x1[i] - x2[i] - x3[i] + b);
    }
}

/// `G` of F(2, 3): the weight transform `U = G g Gᵀ`.
const G: [[f32; 3]; 4] = [
    [1.0, 0.0, 0.0],
    [0.5, 0.5, 0.5],
    [0.5, -0.5, 0.5],
    [0.0, 0.0, 1.0],
];

/// `N` disjoint rows of `n` values from the front of `buf`.
fn rows_mut<const N: usize>(buf: &mut [f32], n: usize) -> [&mut [f32]; N] {
    let mut it = buf.chunks_exact_mut(n);
    core::array::from_fn(|_| it.next().unwrap_or_default())
}

/// Whether a Conv of this window and weight shape (`[M, C/group, kh, kw]`) takes this path.
pub(super) fn applies(win: &Window, ws: &[usize], group: usize) -> bool {
    let ones = |v: &[usize]| v.iter().all(|&s| s == 1);
    ws.len() == 4
        && ws[2] == 3
        && ws[3] == 3
        && ones(&win.strides)
        && ones(&win.dilations)
        && ws[1] >= MIN_CHANNELS
        && ws[0] / group.max(1) >= MIN_CHANNELS
}

/// The transformed weights of one group (`mg` filters of `cg` channels, 3 × 3 each, as ONNX
/// lays them out), as the 16 GEMM left operands `U_ξ` (`mg × cg`).
pub(super) fn pack_weights(w: &[f32], mg: usize, cg: usize, out: &mut Vec<PackedA>) {
    let n = mg * cg;
    let mut u = vec![0.0f32; XI * n];
    for (f, g) in w.chunks_exact(9).enumerate().take(n) {
        for xi in 0..XI {
            let (a, b) = (G[xi / 4], G[xi % 4]);
            let mut sum = 0.0;
            for (i, j) in (0..3).flat_map(|i| (0..3).map(move |j| (i, j))) {
                sum += a[i] * g[3 * i + j] * b[j];
            }
            u[xi * n + f] = sum;
        }
    }
    out.extend(
        u.chunks_exact(n)
            .map(|ux| PackedA::new(mg, cg, ux, (cg, 1))),
    );
}

/// Tiles per block of [`conv`] for `cg` input and `mg` output channels: at most
/// `2^14 / (cg + mg)`, so that the block's 16 transformed inputs (`cg` rows each) and 16
/// products (`mg` rows) hold 2^18 floats (1 MB, this machine's L2 per core; on SqueezeNet's
/// 3 × 3 layers 2^14 measured faster than 2^13 and level with 2^15), in blocks of equal size
/// (no short last block).
fn block_tiles(tiles: usize, cg: usize, mg: usize) -> usize {
    let most = ((1usize << 14) / (cg + mg)).clamp(16, 4096);
    tiles.div_ceil(tiles.div_ceil(most).max(1)).max(1)
}

/// The runs of one tile row inside the block of tiles `t0..t0 + cols` (a row of `tw` tiles):
/// `(tile row, first tile column, tiles, offset in the block)`.
fn segments(
    t0: usize,
    cols: usize,
    tw: usize,
) -> impl Iterator<Item = (usize, usize, usize, usize)> {
    let mut t = t0;
    core::iter::from_fn(move || {
        (t < t0 + cols).then(|| {
            let (tr, tc) = (t / tw, t % tw);
            let len = (tw - tc).min(t0 + cols - t);
            let seg = (tr, tc, len, t - t0);
            t += len;
            seg
        })
    })
}

/// One (batch, group) of a 3 × 3 stride-1 Conv: `xg` its `cg` input planes, `u` the group's
/// [`pack_weights`], `dst` its `mg` output planes (bias added, `act` applied).
///
/// The padded input is kept with each row's even columns first, then its odd ones, so that
/// both halves of `Bᵀ d B` run over contiguous rows ([`input_pass`]: the vertical half over
/// whole rows of a tile row's run, the horizontal half over the even and odd columns shifted
/// by one tile). Per block of tiles: `V` (`[channel][ξ][tile]`, so that `V_ξ` is a row-major
/// `cg × tiles` B with row stride `16·nb`), the 16 GEMMs into `M` (`[ξ][filter][tile]`), then
/// per filter `Aᵀ M A` in two halves ([`output_pass`]) into four rows of outputs by tile, and
/// those interleaved into the output planes.
#[allow(clippy::too_many_arguments)]
pub(super) fn conv(
    xg: &[f32],
    cg: usize,
    g: &[Dim1],
    u: &[PackedA],
    bias: Option<&[f32]>,
    act: Option<ConvAct>,
    dst: &mut [f32],
    s: &mut Scratch,
) {
    let (h, w) = (g[0], g[1]);
    let (oh, ow) = (h.output, w.output);
    let (th, tw) = (oh.div_ceil(2), ow.div_ceil(2));
    let mg = u[0].m();
    // the padded input, large enough for every tile's 4 × 4 patch, each row as its `half`
    // even columns then its `half` odd ones
    let half = (tw + 1).max((w.pad_begin + w.input).div_ceil(2));
    let ph = (2 * th + 2).max(h.pad_begin + h.input);
    let (pw, plane) = (2 * half, ph * 2 * half);
    s.padded.clear();
    s.padded.resize(cg * plane, 0.0);
    for (d, x) in s
        .padded
        .chunks_exact_mut(plane)
        .zip(xg.chunks_exact((h.input * w.input).max(1)))
    {
        for (ih, x) in x.chunks_exact(w.input.max(1)).enumerate() {
            let row = &mut d[(ih + h.pad_begin) * pw..][..pw];
            for (iw, &x) in x.iter().enumerate() {
                let p = iw + w.pad_begin;
                row[p % 2 * half + p / 2] = x;
            }
        }
    }
    let tiles = th * tw;
    let nb = block_tiles(tiles, cg, mg);
    let (v, m, rows) = (&mut s.wino_in, &mut s.wino_out, &mut s.wino_rows);
    v.resize(XI * cg * nb, 0.0);
    m.resize(XI * mg * nb, 0.0);
    rows.resize(12 * (nb + 1), 0.0);
    let mut rows_done = 0;
    for t0 in (0..tiles).step_by(nb) {
        let cols = nb.min(tiles - t0);
        for (tr, tc, len, j0) in segments(t0, cols, tw) {
            for (c, vc) in v.chunks_exact_mut(XI * nb).enumerate() {
                // rows 2·tr .. 2·tr + 4, even and odd columns from tile column tc on
                let at = c * plane + 2 * tr * pw + tc;
                let r = |i: usize, odd: usize| &s.padded[at + i * pw + odd * half..][..len + 1];
                let [e0, e1, e2, e3, o0, o1, o2, o3] = rows_mut(rows, len + 1);
                input_pass([r(0, 0), r(1, 0), r(2, 0), r(3, 0)], [&mut *e0, e1, e2, e3]);
                input_pass([r(0, 1), r(1, 1), r(2, 1), r(3, 1)], [&mut *o0, o1, o2, o3]);
                let [e0, e1, e2, e3, o0, o1, o2, o3] = rows_mut(rows, len + 1);
                for (k, (e, o)) in [(e0, o0), (e1, o1), (e2, o2), (e3, o3)]
                    .into_iter()
                    .enumerate()
                {
                    // columns 2t, 2t + 1, 2t + 2, 2t + 3 of tile t
                    let [a, b, cc, d] = rows_mut(&mut vc[4 * k * nb..], nb);
                    let y = [
                        &mut a[j0..j0 + len],
                        &mut b[j0..],
                        &mut cc[j0..],
                        &mut d[j0..],
                    ];
                    input_pass([&e[..len], &o[..len], &e[1..], &o[1..]], y);
                }
            }
        }
        // M_ξ = U_ξ · V_ξ, each mg × cols (row stride nb)
        for (xi, a) in u.iter().enumerate() {
            let mx = &mut m[xi * mg * nb..(xi + 1) * mg * nb];
            sgemm::sgemm_a_packed(mx, nb, false, a, cols, &v[xi * nb..], XI * nb, 1.0, KERNEL);
        }
        for oc in 0..mg {
            let b = bias.map_or(0.0, |b| b[oc]);
            let mo = |xi: usize| &m[(xi * mg + oc) * nb..][..cols];
            let (sb, yb) = rows.split_at_mut(8 * cols);
            // vertical half: s0k, s1k from column k of the 4 × 4; then the horizontal half
            let [s00, s01, s02, s03, s10, s11, s12, s13] = rows_mut(sb, cols);
            for (k, (s0, s1)) in [(s00, s10), (s01, s11), (s02, s12), (s03, s13)]
                .into_iter()
                .enumerate()
            {
                output_pass([mo(k), mo(4 + k), mo(8 + k), mo(12 + k)], [s0, s1], 0.0);
            }
            let sr = |k: usize| &sb[k * cols..(k + 1) * cols];
            let [y00, y01, y10, y11] = rows_mut(yb, cols);
            output_pass([sr(0), sr(1), sr(2), sr(3)], [&mut *y00, &mut *y01], b);
            output_pass([sr(4), sr(5), sr(6), sr(7)], [&mut *y10, &mut *y11], b);
            let out = &mut dst[oc * oh * ow..(oc + 1) * oh * ow];
            for (tr, tc, len, j0) in segments(t0, cols, tw) {
                for (i, (ya, yb)) in [(&*y00, &*y01), (&*y10, &*y11)].into_iter().enumerate() {
                    if 2 * tr + i < oh {
                        let row = &mut out[(2 * tr + i) * ow + 2 * tc..(2 * tr + i + 1) * ow];
                        interleave(row, &ya[j0..j0 + len], &yb[j0..j0 + len]);
                    }
                }
            }
        }
        // the activation over the output rows this block completed
        let done = if t0 + cols == tiles {
            oh
        } else {
            2 * ((t0 + cols) / tw)
        };
        if act.is_some() && done > rows_done {
            for oc in 0..mg {
                apply_act(
                    act,
                    &mut dst[oc * oh * ow + rows_done * ow..oc * oh * ow + done * ow],
                );
            }
        }
        rows_done = rows_done.max(done);
    }
}

/// `row[2t] = a[t]`, `row[2t + 1] = b[t]` for as much of `row` as there is (an odd output
/// width leaves the last tile's second column out).
#[inline(never)]
fn interleave(row: &mut [f32], a: &[f32], b: &[f32]) {
    let n = a.len().min(row.len() / 2);
    for ((o, &a), &b) in row.chunks_exact_mut(2).zip(&a[..n]).zip(&b[..n]) {
        (o[0], o[1]) = (a, b);
    }
    if row.len() < 2 * a.len() && n < a.len() {
        row[2 * n] = a[n];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tensor;

    fn rand(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    }

    /// Direct 3 × 3 stride-1 convolution in f64 of `group` groups (`c / group` input channels
    /// each; pads `[top, left, bottom, right]`), and the sum of the terms' magnitudes per output
    /// for the tolerance.
    fn direct(
        x: &[f32],
        w: &[f32],
        b: &[f32],
        (n, c, hh, ww): (usize, usize, usize, usize),
        (m, group): (usize, usize),
        [pt, pl, pb, pr]: [usize; 4],
    ) -> (Vec<f64>, Vec<f64>) {
        let (oh, ow) = (hh + pt + pb - 2, ww + pl + pr - 2);
        let (cg, mg) = (c / group, m / group);
        let mut y = vec![0.0; n * m * oh * ow];
        let mut mag = vec![0.0; y.len()];
        for bi in 0..n {
            for oc in 0..m {
                for r in 0..oh {
                    for q in 0..ow {
                        let at = ((bi * m + oc) * oh + r) * ow + q;
                        let (mut s, mut a) = (b[oc] as f64, b[oc].abs() as f64);
                        for ic in 0..cg {
                            let xc = (oc / mg) * cg + ic;
                            for (i, j) in (0..3).flat_map(|i| (0..3).map(move |j| (i, j))) {
                                let (ir, iq) = (
                                    (r + i) as isize - pt as isize,
                                    (q + j) as isize - pl as isize,
                                );
                                if ir < 0 || iq < 0 || ir >= hh as isize || iq >= ww as isize {
                                    continue;
                                }
                                let xv =
                                    x[((bi * c + xc) * hh + ir as usize) * ww + iq as usize] as f64;
                                let wv = w[((oc * cg + ic) * 3 + i) * 3 + j] as f64;
                                s += xv * wv;
                                a += (xv * wv).abs();
                            }
                        }
                        y[at] = s;
                        mag[at] = a;
                    }
                }
            }
        }
        (y, mag)
    }

    #[test]
    fn winograd_matches_direct_f64_convolution() {
        // odd and even sizes (partial tiles), symmetric and asymmetric padding (inputs smaller
        // than a tile, wider pads than the kernel), two groups, tile blocks that split tile rows
        // and a partial last one, a bias and a fused Relu
        for (i, &(n, c, hh, ww, m, group, pads)) in [
            (1, 8, 6, 6, 8, 1, [1; 4]),
            (1, 8, 1, 1, 8, 1, [1; 4]),
            (2, 8, 3, 2, 8, 1, [2; 4]),
            (2, 9, 7, 5, 12, 1, [0; 4]),
            (1, 8, 5, 7, 8, 1, [0, 2, 1, 0]),
            (1, 9, 4, 9, 10, 1, [2, 0, 0, 1]),
            (2, 8, 2, 3, 8, 1, [1, 1, 3, 2]),
            (1, 16, 9, 8, 16, 2, [1, 0, 1, 2]),
            (1, 16, 13, 13, 24, 1, [1; 4]),
            (1, 8, 40, 37, 8, 1, [1; 4]),
            (1, 64, 20, 30, 9, 1, [1; 4]),
            (1, 64, 40, 61, 16, 1, [1; 4]),
        ]
        .iter()
        .enumerate()
        {
            let cg = c / group;
            let x = rand(n * c * hh * ww, 3 * i as u64 + 1);
            let w = rand(m * cg * 9, 3 * i as u64 + 2);
            let b = rand(m, 3 * i as u64 + 3);
            let win = Window {
                kernel: vec![3, 3],
                strides: vec![1, 1],
                dilations: vec![],
                pads: vec![pads[0], pads[1], pads[2], pads[3]],
                auto_pad: None,
            };
            assert!(applies(&win, &[m, cg, 3, 3], group));
            let packed = super::super::pack_weight(&w, m / group, cg * 9, cg, true);
            let xt = Tensor::from_f32(vec![n, c, hh, ww], x.clone()).unwrap();
            let wt = Tensor::from_f32(vec![m, cg, 3, 3], w.clone()).unwrap();
            let bt = Tensor::from_f32(vec![m], b.clone()).unwrap();
            let g = super::super::geometry(&win, &[hh, ww], &[3, 3], false).unwrap();
            for act in [None, Some(ConvAct::Relu)] {
                let got = super::super::conv(&xt, &wt, Some(&bt), &win, group, act, Some(&packed))
                    .unwrap();
                // the Conv took this path: the same bits as the kernel called directly
                let mut own = vec![0.0f32; got.numel()];
                let (ins, outs) = (cg * hh * ww, own.len() / n / group);
                let (mg, us) = (m / group, packed.groups.chunks_exact(16));
                let per = x.chunks_exact(ins).zip(own.chunks_exact_mut(outs));
                for (k, ((xb, yb), u)) in per.zip(us.cycle()).enumerate() {
                    let gi = k % group;
                    let bias = &b[gi * mg..(gi + 1) * mg];
                    conv(xb, cg, &g, u, Some(bias), act, yb, &mut Scratch::default());
                }
                assert_eq!(got.as_f32().unwrap(), &own[..], "case {i}");
                // and the per-run transform gives the same bits
                let per_run =
                    super::super::conv(&xt, &wt, Some(&bt), &win, group, act, None).unwrap();
                assert_eq!(got, per_run, "case {i}");
                let (want, mag) = direct(&x, &w, &b, (n, c, hh, ww), (m, group), pads);
                assert_eq!(got.numel(), want.len());
                for (k, (&g, (&v, &a))) in got
                    .as_f32()
                    .unwrap()
                    .iter()
                    .zip(want.iter().zip(&mag))
                    .enumerate()
                {
                    let v = if act.is_some() { v.max(0.0) } else { v };
                    assert!(
                        (g as f64 - v).abs() <= 1e-5 * (a + 1.0),
                        "case {i} act {act:?} output {k}: {g} vs {v}"
                    );
                }
            }
        }
    }

    #[test]
    fn only_3x3_stride_1_convolutions_of_enough_channels_apply() {
        let win = |s: usize, d: usize| Window {
            kernel: vec![],
            strides: vec![s, s],
            dilations: vec![d, d],
            pads: vec![],
            auto_pad: None,
        };
        assert!(applies(&win(1, 1), &[16, 16, 3, 3], 1));
        assert!(!applies(&win(2, 1), &[16, 16, 3, 3], 1));
        assert!(!applies(&win(1, 2), &[16, 16, 3, 3], 1));
        assert!(!applies(&win(1, 1), &[16, 16, 5, 5], 1));
        assert!(!applies(&win(1, 1), &[16, 3, 3, 3], 1));
        assert!(!applies(&win(1, 1), &[16, 16, 3, 3], 4));
        assert!(!applies(&win(1, 1), &[16, 16, 3], 1));
    }
}
