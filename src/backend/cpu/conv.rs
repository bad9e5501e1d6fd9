//! CPU kernels of the convolution and pooling family, for any number of spatial dims.
//!
//! A 1-D or 2-D Conv is a GEMM per (batch, group) over blocks of output columns: each block's
//! im2col columns are written straight into the GEMM's B panels and multiplied by the weights
//! as the GEMM's packed A (packed once at load for a constant weight: [`prepack`]); a 3 × 3
//! stride-1 Conv of at least 8 input and output channels per group runs by Winograd's
//! F(2 × 2, 3 × 3) instead ([`winograd`]: 16 GEMMs of the transformed weights, transformed at
//! load for a constant weight, 2.25× fewer multiplies); higher ranks and layers of few output channels take a full im2col
//! matrix through [`gemm_strided`]. Depthwise 2-D convolutions (one
//! input channel per group) run over a zero-padded copy of each plane, keeping 8 outputs in
//! registers over all taps (SIMD128 for strides 1 and 2, the scalar twin for larger). A fused
//! activation ([`ConvAct`]) is applied to each output block while it is in cache.
//! ConvTranspose is GEMM + col2im. Pools walk each window directly (2-D max and average pools
//! with direct loops, other ranks through a tap table); a 2-D MaxPool without its `Indices`
//! output runs over a −∞-padded plane like the depthwise kernel (SIMD128, scalar twin).

use super::linalg::gemm_strided;
use super::linalg::sgemm::{self, PackedA, PackedB};
use super::util::{input, next_index, opt_input};
use crate::error::{Error, Result};
use crate::ir::ops::conv::{AutoPad, ConvAct, ConvOp, PoolKind, Window};
use crate::tensor::{numel_checked, Tensor, TensorData};
use std::cell::RefCell;

mod winograd;

pub fn run(op: &ConvOp, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    run_packed(op, inputs, None)
}

/// A Conv's constant weight packed for the GEMM when the session is built ([`pack_weight`]).
#[derive(Debug)]
pub struct Packed {
    wino: bool,
    groups: Vec<PackedA>,
}

/// A Conv's weight (`mg` filters of `rows = cg · taps` values per group) as the GEMM's A: per
/// group its `mg × rows` matrix ([`PackedA`]), or for the [`winograd`] path its 16 transformed
/// `mg × cg` matrices.
fn pack_weight(w: &[f32], mg: usize, rows: usize, cg: usize, wino: bool) -> Packed {
    let mut groups = vec![];
    for wg in w.chunks_exact(mg * rows) {
        if wino {
            winograd::pack_weights(wg, mg, cg, &mut groups);
        } else {
            groups.push(PackedA::new(mg, rows, wg, (rows, 1)));
        }
    }
    Packed { wino, groups }
}

/// A weight of more floats than this is not packed at load (the copy sits beside the
/// constant; the same bound as MatMul's B): it is packed per run.
const PREPACK_MAX: usize = 1 << 20;

/// Packs a Conv's constant f32 weight for the GEMM path; `None` for other ops, a weight that
/// is not a constant, a depthwise weight (one input channel per group: the depthwise kernel
/// reads it as it lies) and a weight over [`PREPACK_MAX`] floats.
pub fn prepack(op: &ConvOp, consts: &[Option<&Tensor>]) -> Option<Packed> {
    let ConvOp::Conv { group, window, .. } = op else {
        return None;
    };
    let w = consts.get(1).copied().flatten()?;
    let TensorData::F32(v) = w.data() else {
        return None;
    };
    let ws = w.shape();
    let group = *group;
    if ws.len() < 3 || group == 0 || ws[0] % group != 0 || v.len() > PREPACK_MAX {
        return None;
    }
    if ws[1] == 1 && group > 1 {
        return None;
    }
    let (mg, rows) = (ws[0] / group, v.len() / ws[0]);
    let wino = winograd::applies(window, ws, group);
    Some(pack_weight(v, mg, rows, ws[1], wino))
}

/// [`run`] with a Conv's weight packed ahead ([`prepack`]).
pub fn run_packed(
    op: &ConvOp,
    inputs: &[Option<&Tensor>],
    packed: Option<&Packed>,
) -> Result<Vec<Tensor>> {
    let x = input(inputs, 0, "X")?;
    Ok(match op {
        ConvOp::Conv { window, group, act } => {
            vec![conv(
                x,
                input(inputs, 1, "W")?,
                opt_input(inputs, 2),
                window,
                *group,
                *act,
                packed,
            )?]
        }
        ConvOp::ConvTranspose {
            window,
            group,
            output_padding,
            output_shape,
        } => vec![conv_transpose(
            x,
            input(inputs, 1, "W")?,
            opt_input(inputs, 2),
            window,
            *group,
            output_padding,
            output_shape,
        )?],
        ConvOp::Pool {
            kind,
            window,
            ceil_mode,
            column_major_indices,
            indices,
        } => {
            let idx = (*indices).then_some(*column_major_indices);
            if x.dtype() == crate::tensor::DType::F32 {
                pool(x, *kind, window, *ceil_mode, idx)?
            } else {
                // integer pools (MaxPool on uint8/int8) compute exactly in f32
                let xf = super::math::cast(x, crate::tensor::DType::F32)?;
                let mut r = pool(&xf, *kind, window, *ceil_mode, idx)?;
                r[0] = super::math::cast(&r[0], x.dtype())?;
                r
            }
        }
        ConvOp::GlobalPool { kind } => vec![global_pool(x, *kind)?],
        #[cfg(feature = "extra-ops")]
        ConvOp::Unpool { window, .. } => vec![max_unpool(x, inputs, window)?],
        #[cfg(not(feature = "extra-ops"))]
        ConvOp::Unpool { .. } => return Err(crate::onnx::not_in_this_build("MaxUnpool")),
    })
}

#[cfg(feature = "extra-ops")]
/// MaxUnpool as the ONNX reference defines it: each value of X goes to its flat index (from
/// MaxPool, over the whole N × C × spatial tensor) in a zero tensor of the inferred shape,
/// `(in - 1)·stride + kernel - pads`; an `output_shape` input places that tensor at the
/// origin of a zero tensor of its shape.
fn max_unpool(x: &Tensor, inputs: &[Option<&Tensor>], win: &Window) -> Result<Tensor> {
    let xs = x.shape();
    let sp = xs.len().saturating_sub(2);
    if xs.len() < 3 || win.kernel.len() != sp {
        return Err(Error::shape(format!(
            "MaxUnpool: X {xs:?} needs rank 2 + {} (kernel_shape {:?})",
            win.kernel.len(),
            win.kernel
        )));
    }
    let mut inferred = xs[..2].to_vec();
    for d in 0..sp {
        let o = crate::ir::ops::conv::unpooled_dim(win, d, sp, xs[2 + d], win.kernel[d]);
        inferred.push(o.ok_or_else(|| {
            Error::shape(format!(
                "MaxUnpool: spatial dim {d} of X {xs:?} gives no output with kernel {:?}, \
                 strides {:?} and pads {:?}",
                win.kernel, win.strides, win.pads
            ))
        })?);
    }
    let idx = input(inputs, 1, "I")?;
    if idx.shape() != xs {
        return Err(Error::shape(format!(
            "MaxUnpool: I has shape {:?}; expected X's {xs:?}",
            idx.shape()
        )));
    }
    let total = numel_checked(&inferred)?;
    let mut y = vec![0.0f32; total];
    for (&i, &v) in idx.to_i64_vec().iter().zip(x.as_f32()?) {
        let slot = usize::try_from(i).ok().filter(|&i| i < total);
        let slot = slot.ok_or_else(|| {
            Error::shape(format!(
                "MaxUnpool: index {i} in I is outside the output {inferred:?} ({total} values)"
            ))
        })?;
        y[slot] = v;
    }
    let Some(shape_t) = opt_input(inputs, 2) else {
        return Tensor::from_f32(inferred, y);
    };
    let want: Vec<usize> = shape_t
        .to_i64_vec()
        .iter()
        .map(|&d| usize::try_from(d).unwrap_or(usize::MAX))
        .collect();
    if want.len() != xs.len() || want.iter().zip(&inferred).any(|(w, i)| w < i) {
        return Err(Error::shape(format!(
            "MaxUnpool: output_shape {want:?} must have X's rank and hold the inferred shape \
             {inferred:?}"
        )));
    }
    let mut out = vec![0.0f32; numel_checked(&want)?];
    // copy each innermost row of the inferred tensor to its place in the larger one
    let (row, rows) = (
        inferred[xs.len() - 1],
        total / inferred[xs.len() - 1].max(1),
    );
    for r in 0..rows {
        let (mut dst, mut rem) = (0usize, r);
        for d in (0..xs.len() - 1).rev() {
            let c = rem % inferred[d];
            rem /= inferred[d];
            dst += c * want[d + 1..].iter().product::<usize>();
        }
        out[dst..dst + row].copy_from_slice(&y[r * row..(r + 1) * row]);
    }
    Tensor::from_f32(want, out)
}

/// Resolved geometry of one spatial dim.
#[derive(Clone, Copy, Debug)]
pub(super) struct Dim1 {
    input: usize,
    kernel: usize,
    stride: usize,
    dilation: usize,
    pad_begin: usize,
    pad_end: usize,
    pub(super) output: usize,
}

impl Dim1 {
    /// Input coordinate of output `o` at kernel tap `k`, or `None` in the padding.
    #[inline]
    fn source(&self, o: usize, k: usize) -> Option<usize> {
        let i = (o * self.stride + k * self.dilation) as isize - self.pad_begin as isize;
        (i >= 0 && (i as usize) < self.input).then_some(i as usize)
    }
}

fn or_ones(v: &[usize], n: usize) -> Vec<usize> {
    if v.is_empty() {
        vec![1; n]
    } else {
        v.to_vec()
    }
}

/// Largest extent (input, pads, dilated kernel, stride) a window may have along one dim: it keeps
/// every coordinate sum (`o·stride + k·dilation`, `input + pads`) far from overflow, also where
/// `usize` has 32 bits.
const MAX_EXTENT: usize = 1 << 28;

/// [`Error::Limit`] unless every value is at most [`MAX_EXTENT`].
fn bounded(vals: &[usize]) -> Result<()> {
    match vals.iter().find(|&&v| v > MAX_EXTENT) {
        Some(v) => Err(Error::Limit(format!(
            "window value {v} exceeds the limit of {MAX_EXTENT} along one dim"
        ))),
        None => Ok(()),
    }
}

/// Extent `dilation·(kernel − 1) + 1` of a dilated kernel (`kernel >= 1`), bounded.
fn extent(dilation: usize, kernel: usize) -> Result<usize> {
    let e = dilation
        .checked_mul(kernel.saturating_sub(1))
        .map_or(usize::MAX, |e| e.saturating_add(1));
    bounded(&[e])?;
    Ok(e)
}

/// Resolves pads, auto_pad and the output size of every spatial dim.
pub(super) fn geometry(
    w: &Window,
    spatial: &[usize],
    kernel: &[usize],
    ceil_mode: bool,
) -> Result<Vec<Dim1>> {
    let n = spatial.len();
    let strides = or_ones(&w.strides, n);
    let dil = or_ones(&w.dilations, n);
    if kernel.len() != n
        || strides.len() != n
        || dil.len() != n
        || !(w.pads.is_empty() || w.pads.len() == 2 * n)
    {
        return Err(Error::shape(format!(
            "window attributes (kernel {kernel:?}, strides {strides:?}, dilations {dil:?}, pads {:?}) do not fit {n} spatial dims",
            w.pads
        )));
    }
    let mut out = Vec::with_capacity(n);
    for d in 0..n {
        if kernel[d] == 0 {
            return Err(Error::shape(format!(
                "spatial dim {d}: the kernel is empty (kernel {kernel:?})"
            )));
        }
        let eff = extent(dil[d], kernel[d])?;
        let (pb0, pe0) = if w.pads.is_empty() {
            (0, 0)
        } else {
            (w.pads[d], w.pads[d + n])
        };
        bounded(&[spatial[d], pb0, pe0, strides[d]])?;
        let (pb, pe, o) = match w.auto_pad.unwrap_or(AutoPad::NotSet) {
            AutoPad::SameUpper | AutoPad::SameLower => {
                let o = spatial[d].div_ceil(strides[d]);
                let total = ((o.max(1) - 1) * strides[d] + eff).saturating_sub(spatial[d]);
                let small = total / 2;
                let (pb, pe) = if w.auto_pad == Some(AutoPad::SameUpper) {
                    (small, total - small)
                } else {
                    (total - small, small)
                };
                (pb, pe, o)
            }
            AutoPad::Valid | AutoPad::NotSet => {
                let (pb, pe) = if w.auto_pad == Some(AutoPad::Valid) || w.pads.is_empty() {
                    (0, 0)
                } else {
                    (w.pads[d], w.pads[d + n])
                };
                let span = spatial[d] + pb + pe;
                if span < eff {
                    return Err(Error::shape(format!(
                        "spatial dim {d}: input {} with pads ({pb}, {pe}) is smaller than the window {eff}",
                        spatial[d]
                    )));
                }
                let mut o = if ceil_mode {
                    (span - eff).div_ceil(strides[d]) + 1
                } else {
                    (span - eff) / strides[d] + 1
                };
                // a window may not start in the end padding
                if ceil_mode && (o - 1) * strides[d] >= spatial[d] + pb {
                    o -= 1;
                }
                (pb, pe, o)
            }
        };
        out.push(Dim1 {
            input: spatial[d],
            kernel: kernel[d],
            stride: strides[d],
            dilation: dil[d],
            pad_begin: pb,
            pad_end: pe,
            output: o,
        });
    }
    Ok(out)
}

/// Visits every (output position, kernel tap) pair of an N-d window: `f(out_flat, k_flat,
/// Some(in_flat) | None)`.
pub(super) fn for_each_tap(g: &[Dim1], mut f: impl FnMut(usize, usize, Option<usize>)) {
    let n = g.len();
    let outs: usize = g.iter().map(|d| d.output).product();
    let taps: usize = g.iter().map(|d| d.kernel).product();
    let mut o_idx = vec![0usize; n];
    // k_idx wraps back to zeros after the last tap, so one buffer serves every output
    let mut k_idx = vec![0usize; n];
    for of in 0..outs {
        for kf in 0..taps {
            let mut src = Some(0usize);
            for d in 0..n {
                src = match (src, g[d].source(o_idx[d], k_idx[d])) {
                    (Some(s), Some(i)) => Some(s * g[d].input + i),
                    _ => None,
                };
                if src.is_none() {
                    break;
                }
            }
            f(of, kf, src);
            next_index(&mut k_idx, |d| g[d].kernel);
        }
        next_index(&mut o_idx, |d| g[d].output);
    }
}

/// Applies a fused activation in place, each exactly as the standalone op's kernel computes it
/// (`backend::cpu::math`).
pub fn apply_act(act: Option<ConvAct>, v: &mut [f32]) {
    match act {
        None => {}
        // NaN stays NaN, as in the Relu kernel
        Some(ConvAct::Relu) => v
            .iter_mut()
            .for_each(|x| *x = if *x < 0.0 { 0.0 } else { *x }),
        Some(ConvAct::Clip { lo, hi }) => v.iter_mut().for_each(|x| {
            *x = if *x < lo {
                lo
            } else if *x > hi {
                hi
            } else {
                *x
            }
        }),
        Some(ConvAct::HardSwish) => v
            .iter_mut()
            .for_each(|x| *x *= (*x * (1.0 / 6.0) + 0.5).clamp(0.0, 1.0)),
        Some(ConvAct::HardSwishAffine { mul, add }) => v.iter_mut().for_each(|x| {
            let h = *x * (*x * (1.0 / 6.0) + 0.5).clamp(0.0, 1.0);
            *x = h * mul + add
        }),
        Some(ConvAct::Sigmoid) => v.iter_mut().for_each(|x| *x = super::fastmath::sigmoid(*x)),
        Some(ConvAct::LeakyRelu { alpha }) => v
            .iter_mut()
            .for_each(|x| *x = if *x < 0.0 { alpha * *x } else { *x }),
    }
}

/// The output columns `lo..hi` of a 1-D geometry whose input index at tap `k` lies inside the
/// input, and the input index of column `lo` (meaningful only when `lo < hi`).
#[inline]
fn valid_columns(w: &Dim1, k: usize) -> (usize, usize, usize) {
    let off = (k * w.dilation) as isize - w.pad_begin as isize;
    let s = w.stride as isize;
    let lo = if off >= 0 {
        0
    } else {
        ((-off + s - 1) / s) as usize
    }
    .min(w.output);
    let hi = if (w.input as isize) - off <= 0 {
        0
    } else {
        (((w.input as isize - off) + s - 1) / s) as usize
    }
    .clamp(lo, w.output);
    let first = if lo < hi {
        (lo as isize * s + off) as usize
    } else {
        0
    };
    (lo, hi, first)
}

/// Depthwise 2-D convolution of one plane into one output plane (`dst`, already holding the
/// bias or zeros), with no padded copy: the reference of [`depthwise_padded`] in tests: every tap adds `weight · input row` to the output row it reaches, so each
/// output row stays in L1 for all of its taps and no im2col buffer is written.
#[cfg(any(test, feature = "test-api"))]
fn depthwise_2d(plane: &[f32], g: &[Dim1], wk: &[f32], dst: &mut [f32]) {
    let (h, w) = (g[0], g[1]);
    let cols: Vec<(usize, usize, usize)> = (0..w.kernel).map(|kw| valid_columns(&w, kw)).collect();
    for oh in 0..h.output {
        let out = &mut dst[oh * w.output..(oh + 1) * w.output];
        for kh in 0..h.kernel {
            let Some(ih) = h.source(oh, kh) else {
                continue;
            };
            let src = &plane[ih * w.input..(ih + 1) * w.input];
            for (kw, &(lo, hi, first)) in cols.iter().enumerate() {
                if lo == hi {
                    continue;
                }
                let k = wk[kh * w.kernel + kw];
                let o = &mut out[lo..hi];
                if w.stride == 1 {
                    for (d, &x) in o.iter_mut().zip(&src[first..first + (hi - lo)]) {
                        *d += k * x;
                    }
                } else {
                    for (j, d) in o.iter_mut().enumerate() {
                        *d += k * src[first + j * w.stride];
                    }
                }
            }
        }
    }
}

thread_local! {
    /// Buffers reused across calls of the blocked 2-D GEMM path.
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

/// The f32 GEMM's micro-kernel in the product (the scalar twin runs in the parity checks).
const KERNEL: sgemm::Kernel = sgemm::Kernel::Simd;

/// Up to this many output channels per group a 2-D Conv writes its whole im2col matrix and the
/// GEMM reads it in place; more take [`conv_2d_blocked`]. The bound was 16 (LeNet's 6- and
/// 16-channel layers measured 17 % slower blocked at an earlier state of the blocked path);
/// re-measured on 2026-12-02, blocked is faster from 6 channels on: LeNet −22 %
/// with its 16-channel layer blocked and −10 % more with its 6-channel one too, the CRNN's
/// 16-channel stride-2 stem −11 %. Below 6 nothing was measured: 5 rather than 4 only because
/// the `hearth-cpu` build compresses 640 B smaller so (the code is the same).
const DIRECT_MAX_ROWS: usize = 5;

/// Output columns per block of [`conv_2d_blocked`] for `rows` im2col rows: the block's panels
/// (`rows × cols` floats) stay near 256 KB, in L2, between being written and read.
fn block_cols(rows: usize) -> usize {
    ((1usize << 16) / rows.max(1)).clamp(16, 1024) / 8 * 8
}

/// One im2col row (kernel tap `(kh, kw)` of one input plane) over output positions `j0..j1`
/// (flat `oh · OW + ow`) into `out` (`j1 − j0` values; padding reads as 0).
fn im2col_segment(plane: &[f32], g: &[Dim1], kh: usize, kw: usize, j0: usize, out: &mut [f32]) {
    let (h, w) = (g[0], g[1]);
    let (lo, hi, first) = valid_columns(&w, kw);
    let mut j = j0;
    let mut done = 0;
    while done < out.len() {
        let (oh, ow0) = (j / w.output, j % w.output);
        let ow1 = w.output.min(ow0 + out.len() - done);
        let dst = &mut out[done..done + (ow1 - ow0)];
        match h.source(oh, kh) {
            None => dst.fill(0.0),
            Some(ih) => {
                // the valid columns of this tap inside ow0..ow1
                let (a, b) = (lo.clamp(ow0, ow1), hi.clamp(ow0, ow1));
                dst[..a - ow0].fill(0.0);
                dst[b - ow0..].fill(0.0);
                if a < b {
                    let src = &plane[ih * w.input..(ih + 1) * w.input];
                    let s0 = first + (a - lo) * w.stride;
                    let d = &mut dst[a - ow0..b - ow0];
                    if w.stride == 1 {
                        d.copy_from_slice(&src[s0..s0 + (b - a)]);
                    } else {
                        for (k, d) in d.iter_mut().enumerate() {
                            *d = src[s0 + k * w.stride];
                        }
                    }
                }
            }
        }
        done += ow1 - ow0;
        j += ow1 - ow0;
    }
}

/// A 2-D convolution of one (batch, group) as GEMMs over blocks of output columns: each
/// block's im2col columns are written straight into the GEMM's B panels (in L2, never a whole
/// im2col matrix), multiplied by the packed weights `a` (`mg × cg·taps`) into the output block
/// (bias first, the fused activation after, while the block is in cache).
///
/// The columns are read from the input with its padding as zeros ([`padded_input`]; the input
/// itself when there is no padding), so every im2col value is `src[tap offset + column base]`:
/// a panel's 8 columns on one output row at stride 1 are 8 consecutive values (one copy),
/// others are gathered. A panel is filled over all its `cg·taps` depths at once (contiguous
/// writes).
#[allow(clippy::too_many_arguments)]
fn conv_2d_blocked(
    xg: &[f32],
    cg: usize,
    g: &[Dim1],
    a: &PackedA,
    bias: Option<&[f32]>,
    act: Option<ConvAct>,
    dst: &mut [f32],
    s: &mut Scratch,
) {
    let (h, w) = (g[0], g[1]);
    let out_sp = h.output * w.output;
    let taps = h.kernel * w.kernel;
    let rows = cg * taps;
    let mg = a.m();
    let (src, plane, width): (&[f32], usize, usize) = if padded_input(g) {
        let (ph, pw) = padded_dims(g);
        s.padded.clear();
        s.padded.resize(cg * ph * pw, 0.0);
        let in_sp = h.input * w.input;
        for (dst, plane) in s
            .padded
            .chunks_exact_mut(ph * pw)
            .zip(xg.chunks_exact(in_sp.max(1)))
        {
            copy_into_padding(dst, pw, plane, g);
        }
        (&s.padded, ph * pw, pw)
    } else {
        (xg, h.input * w.input, w.input)
    };
    // each depth's offset: channel plane, kernel row and column
    s.taps.clear();
    s.taps.extend((0..rows).map(|p| {
        let (ch, t) = (p / taps, p % taps);
        ch * plane + (t / w.kernel) * h.dilation * width + (t % w.kernel) * w.dilation
    }));
    let nb = block_cols(rows);
    for j0 in (0..out_sp).step_by(nb) {
        let cols = nb.min(out_sp - j0);
        // each column's window origin
        s.bases.clear();
        s.bases.extend((j0..j0 + cols).map(|j| {
            let (oh, ow) = (j / w.output, j % w.output);
            oh * h.stride * width + ow * w.stride
        }));
        let panels = s.pb.panels_mut(rows, cols);
        for (q, panel) in panels.chunks_exact_mut(rows * sgemm::NR).enumerate() {
            let b = &s.bases[q * sgemm::NR..cols.min((q + 1) * sgemm::NR)];
            fill_panel(src, &s.taps, b, panel);
        }
        if let Some(bias) = bias {
            for (oc, &b) in bias.iter().enumerate() {
                dst[oc * out_sp + j0..oc * out_sp + j0 + cols].fill(b);
            }
        }
        sgemm::sgemm_prepacked(
            &mut dst[j0..],
            out_sp,
            bias.is_some(),
            a,
            &s.pb,
            1.0,
            KERNEL,
        );
        for oc in 0..mg {
            apply_act(act, &mut dst[oc * out_sp + j0..oc * out_sp + j0 + cols]);
        }
    }
}

/// One B panel of im2col columns: depth `p`, lane `l` is `src[taps[p] + bases[l]]` (lanes
/// past `bases.len()` are left as they are: the GEMM never stores them). Eight bases in a row
/// (stride 1 on one output row) copy 8 consecutive values.
fn fill_panel(src: &[f32], taps: &[usize], bases: &[usize], panel: &mut [f32]) {
    const NR: usize = sgemm::NR;
    let rows = panel.chunks_exact_mut(NR).zip(taps);
    if bases.len() == NR && bases[NR - 1] == bases[0] + NR - 1 {
        let b0 = bases[0];
        for (d, &t) in rows {
            let v: &[f32; NR] = src[t + b0..t + b0 + NR].try_into().unwrap();
            let d: &mut [f32; NR] = d.try_into().unwrap();
            *d = *v;
        }
    } else {
        for (d, &t) in rows {
            for (d, &b) in d.iter_mut().zip(bases) {
                *d = src[t + b];
            }
        }
    }
}

/// Whether a 2-D Conv's geometry pads its input (so [`conv_2d_blocked`] reads a padded copy).
fn padded_input(g: &[Dim1]) -> bool {
    g.iter().any(|d| {
        d.pad_begin > 0 || (d.output.max(1) - 1) * d.stride + (d.kernel - 1) * d.dilation >= d.input
    })
}

/// (rows, width) of [`conv_2d_blocked`]'s padded input: every window of every output inside,
/// and the input at `(pad_begin, pad_begin)`.
fn padded_dims(g: &[Dim1]) -> (usize, usize) {
    let ext = |d: &Dim1| {
        ((d.output.max(1) - 1) * d.stride + (d.kernel - 1) * d.dilation + 1)
            .max(d.pad_begin + d.input)
    };
    (ext(&g[0]), ext(&g[1]))
}

/// Buffers [`conv_2d_blocked`] reuses across calls.
#[derive(Default)]
struct Scratch {
    /// one column block of the im2col matrix as GEMM panels
    pb: PackedB,
    /// the input with its padding
    padded: Vec<f32>,
    /// each im2col depth's offset in the (padded) input
    taps: Vec<usize>,
    /// each column's window origin in the block
    bases: Vec<usize>,
    /// [`winograd`]: a block's transformed input, its 16 products, rows of transform results
    wino_in: Vec<f32>,
    wino_out: Vec<f32>,
    wino_rows: Vec<f32>,
}

/// Output columns per step of the padded depthwise kernel (two f32x4 accumulators).
const DW_COLS: usize = 8;

/// Which depthwise kernel runs: SIMD128 (on wasm with `simd128`; elsewhere the scalar twin) or
/// the scalar twin.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DwKernel {
    Simd,
    Scalar,
}

/// A depthwise plane copied with its padding as zeros: row `r`, column `c` of the copy is the
/// input's `(r − pad_h, c − pad_w)`, wide enough that every step of [`DW_COLS`] outputs reads
/// inside it.
#[derive(Default)]
struct PaddedPlane {
    width: usize,
    data: Vec<f32>,
}

impl PaddedPlane {
    /// The copy's (rows, width) for geometry `g`.
    fn dims(g: &[Dim1]) -> (usize, usize) {
        let (h, w) = (g[0], g[1]);
        let rows = (h.output.max(1) - 1) * h.stride + (h.kernel - 1) * h.dilation + 1;
        let steps = w.output.div_ceil(DW_COLS).max(1);
        // the last step reads DW_COLS·stride values from its first column at each tap
        let width =
            ((steps - 1) * DW_COLS * w.stride + (w.kernel - 1) * w.dilation + DW_COLS * w.stride)
                .max(w.pad_begin + w.input);
        (rows.max(h.pad_begin + h.input), width)
    }

    fn fill(&mut self, plane: &[f32], g: &[Dim1]) {
        self.fill_with(plane, g, 0.0);
    }

    /// [`Self::fill`] with `pad` in the padding (−∞ for a max pool).
    fn fill_with(&mut self, plane: &[f32], g: &[Dim1], pad: f32) {
        let (rows, width) = Self::dims(g);
        self.width = width;
        self.data.clear();
        self.data.resize(rows * width, pad);
        copy_into_padding(&mut self.data, width, plane, g);
    }
}

/// Copies 2-D `plane` (`g`'s input) into `dst`, a plane `width` wide with its padding already
/// written: input `(ih, iw)` goes to `(ih + pad_h, iw + pad_w)`.
fn copy_into_padding(dst: &mut [f32], width: usize, plane: &[f32], g: &[Dim1]) {
    let (h, w) = (g[0], g[1]);
    for ih in 0..h.input {
        let at = (ih + h.pad_begin) * width + w.pad_begin;
        dst[at..at + w.input].copy_from_slice(&plane[ih * w.input..(ih + 1) * w.input]);
    }
}

/// Depthwise 2-D convolution of one zero-padded plane into one output plane:
/// each step keeps [`DW_COLS`] outputs in registers over all taps, `acc = bias`, then
/// `acc = acc + w·x` per tap in (kh, kw) order, one rounding for the product and one for the
/// sum, the order of [`depthwise_2d`]; a tap in the padding adds `w·0` where that kernel skips
/// it (the same sum but for the sign of a zero, and NaN for an infinite weight, as a zero-padded
/// reference computes).
fn depthwise_padded(
    p: &PaddedPlane,
    g: &[Dim1],
    wk: &[f32],
    bias: f32,
    dst: &mut [f32],
    kernel: DwKernel,
) {
    let (h, w) = (g[0], g[1]);
    assert!(wk.len() >= h.kernel * w.kernel && dst.len() >= h.output * w.output);
    // SIMD128 for strides 1 and 2; larger strides (rare) take the scalar twin
    let simd = kernel == DwKernel::Simd && w.stride <= 2;
    let (rows, width) = PaddedPlane::dims(g);
    assert!(p.width == width && p.data.len() >= rows * width);
    // SAFETY: every step's reads lie inside the padded plane (PaddedPlane::dims, checked)
    unsafe {
        match (simd, h.kernel, w.kernel) {
            (true, 3, 3) => dw_plane_simd::<3>(p, g, wk, bias, dst),
            (true, ..) => dw_plane_simd::<0>(p, g, wk, bias, dst),
            (false, ..) => dw_plane_scalar::<0>(p, g, wk, bias, dst),
        }
    }
}

/// The scalar twin of [`depthwise_padded`]'s SIMD128 kernel (`K`: a square kernel's size
/// known at compile time, or 0).
///
/// # Safety
/// `p` must be the padded plane of geometry `g` ([`PaddedPlane::dims`]).
unsafe fn dw_plane_scalar<const K: usize>(
    p: &PaddedPlane,
    g: &[Dim1],
    wk: &[f32],
    bias: f32,
    dst: &mut [f32],
) {
    let (h, w) = (g[0], g[1]);
    for oh in 0..h.output {
        let row = &mut dst[oh * w.output..(oh + 1) * w.output];
        for (step, out) in row.chunks_mut(DW_COLS).enumerate() {
            let x = p
                .data
                .as_ptr()
                .add(oh * h.stride * p.width + step * DW_COLS * w.stride);
            let mut acc = [bias; DW_COLS];
            for kh in 0..h.kernel {
                for kw in 0..w.kernel {
                    let k = wk[kh * w.kernel + kw];
                    let t = x.add(kh * h.dilation * p.width + kw * w.dilation);
                    for (l, a) in acc.iter_mut().enumerate() {
                        *a += k * *t.add(l * w.stride);
                    }
                }
            }
            out.copy_from_slice(&acc[..out.len()]);
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use dw_plane_scalar as dw_plane_simd;

/// The plane kernels' eight values from `t`: `t[0..8]` at stride 1, the even ones of
/// `t[0..16]` at stride 2 (the only strides the SIMD128 plane kernels take).
///
/// # Safety
/// `t` must be valid for reading 8 (stride 1) or 16 (stride 2) values.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
unsafe fn load8(
    t: *const f32,
    stride: usize,
) -> (core::arch::wasm32::v128, core::arch::wasm32::v128) {
    use core::arch::wasm32::*;
    if stride == 1 {
        (
            v128_load(t as *const v128),
            v128_load(t.add(4) as *const v128),
        )
    } else {
        let v0 = v128_load(t as *const v128);
        let v1 = v128_load(t.add(4) as *const v128);
        let v2 = v128_load(t.add(8) as *const v128);
        let v3 = v128_load(t.add(12) as *const v128);
        (
            i32x4_shuffle::<0, 2, 4, 6>(v0, v1),
            i32x4_shuffle::<0, 2, 4, 6>(v2, v3),
        )
    }
}

/// Stores the eight lanes of `(a0, a1)` into `out` (up to [`DW_COLS`] values: a row's last
/// step may be shorter).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn store8(out: &mut [f32], a0: core::arch::wasm32::v128, a1: core::arch::wasm32::v128) {
    use core::arch::wasm32::*;
    if out.len() == DW_COLS {
        // SAFETY: `out` holds DW_COLS = 8 values
        unsafe {
            v128_store(out.as_mut_ptr() as *mut v128, a0);
            v128_store(out.as_mut_ptr().add(4) as *mut v128, a1);
        }
        return;
    }
    let mut acc = [0.0f32; DW_COLS];
    // SAFETY: `acc` holds DW_COLS = 8 values
    unsafe {
        v128_store(acc.as_mut_ptr() as *mut v128, a0);
        v128_store(acc.as_mut_ptr().add(4) as *mut v128, a1);
    }
    out.copy_from_slice(&acc[..out.len()]);
}

/// [`depthwise_padded`] in SIMD128: two f32x4 accumulators per step, each weight broadcast
/// once per plane; stride 2 loads 16 values and keeps the even lanes. `K` > 0: a `K × K` kernel
/// (its tap loops unrolled; 3 × 3 measured 25 % faster so, 5 × 5 only 6 %), 0: any size.
///
/// # Safety
/// As [`dw_plane_scalar`].
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
unsafe fn dw_plane_simd<const K: usize>(
    p: &PaddedPlane,
    g: &[Dim1],
    wk: &[f32],
    bias: f32,
    dst: &mut [f32],
) {
    use core::arch::wasm32::*;
    let (h, w) = (g[0], g[1]);
    let (kh_n, kw_n) = if K > 0 { (K, K) } else { (h.kernel, w.kernel) };
    let ws: Vec<v128> = wk[..kh_n * kw_n].iter().map(|&k| f32x4_splat(k)).collect();
    let b = f32x4_splat(bias);
    for oh in 0..h.output {
        let row = &mut dst[oh * w.output..(oh + 1) * w.output];
        for (step, out) in row.chunks_mut(DW_COLS).enumerate() {
            let x = p
                .data
                .as_ptr()
                .add(oh * h.stride * p.width + step * DW_COLS * w.stride);
            let (mut a0, mut a1) = (b, b);
            for kh in 0..kh_n {
                let r = x.add(kh * h.dilation * p.width);
                for kw in 0..kw_n {
                    let k = *ws.get_unchecked(kh * kw_n + kw);
                    let t = r.add(kw * w.dilation);
                    let (x0, x1) = load8(t, w.stride);
                    a0 = f32x4_add(a0, f32x4_mul(k, x0));
                    a1 = f32x4_add(a1, f32x4_mul(k, x1));
                }
            }
            store8(out, a0, a1);
        }
    }
}

/// `f32x4.max` of wasm on one lane: NaN if either is NaN, `+0` over `−0`, else the greater.
#[inline(always)]
fn wasm_max(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if a == b {
        // equal, or zeros of either sign: the AND of the bits keeps +0 over −0
        f32::from_bits(a.to_bits() & b.to_bits())
    } else if a > b {
        a
    } else {
        b
    }
}

/// 2-D MaxPool (no `Indices`) of one input plane into one output plane, as if over the plane
/// padded with −∞: per step [`DW_COLS`] outputs, `acc = max(acc, x)` as wasm's `f32x4.max`
/// (NaN propagates; a window wholly in the padding gives −∞, as the table walk does). The
/// scalar twin walks every tap of a padded copy (`p`); the SIMD128 kernel takes the maximum over
/// the window's rows first (one pass over each input row, no padded copy) and then over its
/// columns, the same maximum since `max` is associative and commutative (−∞ changes nothing).
fn max_pool_plane(
    plane: &[f32],
    g: &[Dim1],
    dst: &mut [f32],
    kernel: DwKernel,
    p: &mut PaddedPlane,
) {
    let (h, w) = (g[0], g[1]);
    assert!(dst.len() >= h.output * w.output && plane.len() >= h.input * w.input);
    let simd = cfg!(all(target_arch = "wasm32", target_feature = "simd128"))
        && kernel == DwKernel::Simd
        && w.stride <= 2;
    if simd {
        // SAFETY: the row buffer is PaddedPlane::dims' width, which every step's reads fit
        unsafe { mp_rows_simd(plane, g, dst, &mut p.data) }
        return;
    }
    p.fill_with(plane, g, f32::NEG_INFINITY);
    // SAFETY: every step's reads lie inside the padded plane (PaddedPlane::dims)
    unsafe { mp_plane_scalar(p, g, dst) }
}

/// The scalar twin of [`max_pool_plane`]'s SIMD128 kernel.
///
/// # Safety
/// `p` must be the padded plane of geometry `g` ([`PaddedPlane::dims`]).
unsafe fn mp_plane_scalar(p: &PaddedPlane, g: &[Dim1], dst: &mut [f32]) {
    let (h, w) = (g[0], g[1]);
    for oh in 0..h.output {
        let row = &mut dst[oh * w.output..(oh + 1) * w.output];
        for (step, out) in row.chunks_mut(DW_COLS).enumerate() {
            let x = p
                .data
                .as_ptr()
                .add(oh * h.stride * p.width + step * DW_COLS * w.stride);
            let mut acc = [f32::NEG_INFINITY; DW_COLS];
            for kh in 0..h.kernel {
                for kw in 0..w.kernel {
                    let t = x.add(kh * h.dilation * p.width + kw * w.dilation);
                    for (l, a) in acc.iter_mut().enumerate() {
                        *a = wasm_max(*a, *t.add(l * w.stride));
                    }
                }
            }
            out.copy_from_slice(&acc[..out.len()]);
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
unsafe fn mp_rows_simd(_: &[f32], _: &[Dim1], _: &mut [f32], _: &mut Vec<f32>) {
    unreachable!("the SIMD128 max pool runs only on wasm with simd128")
}

/// [`max_pool_plane`] in SIMD128: per output row, `rows[pad_w + x]` = the maximum of input
/// column `x` over the window's rows inside the input (−∞ in the padding columns, or everywhere
/// when no row is inside), then per step two f32x4 maxima over the window's columns of `rows`
/// (stride 2 loads 16 values and keeps the even lanes).
///
/// # Safety
/// `g` must be `plane`'s geometry with a column stride of 1 or 2.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
unsafe fn mp_rows_simd(plane: &[f32], g: &[Dim1], dst: &mut [f32], rows: &mut Vec<f32>) {
    use core::arch::wasm32::*;
    let (h, w) = (g[0], g[1]);
    let (_, width) = PaddedPlane::dims(g);
    rows.clear();
    rows.resize(width, f32::NEG_INFINITY);
    let valid = w.pad_begin..w.pad_begin + w.input;
    for oh in 0..h.output {
        let mut any = false;
        for kh in 0..h.kernel {
            let Some(ih) = h.source(oh, kh) else {
                continue;
            };
            let src = &plane[ih * w.input..(ih + 1) * w.input];
            let d = &mut rows[valid.clone()];
            if !any {
                d.copy_from_slice(src);
                any = true;
                continue;
            }
            let mut d4 = d.chunks_exact_mut(4);
            let mut s4 = src.chunks_exact(4);
            for (d, s) in (&mut d4).zip(&mut s4) {
                let (dp, sp) = (d.as_mut_ptr() as *mut v128, s.as_ptr() as *const v128);
                v128_store(dp, f32x4_max(v128_load(dp), v128_load(sp)));
            }
            for (d, &s) in d4.into_remainder().iter_mut().zip(s4.remainder()) {
                *d = wasm_max(*d, s);
            }
        }
        if !any {
            rows[valid.clone()].fill(f32::NEG_INFINITY);
        }
        let out = &mut dst[oh * w.output..(oh + 1) * w.output];
        for (step, out) in out.chunks_mut(DW_COLS).enumerate() {
            let x = rows.as_ptr().add(step * DW_COLS * w.stride);
            let (mut a0, mut a1) = (
                f32x4_splat(f32::NEG_INFINITY),
                f32x4_splat(f32::NEG_INFINITY),
            );
            for kw in 0..w.kernel {
                let (x0, x1) = load8(x.add(kw * w.dilation), w.stride);
                a0 = f32x4_max(a0, x0);
                a1 = f32x4_max(a1, x1);
            }
            store8(out, a0, a1);
        }
    }
}

thread_local! {
    /// The padded copy of the depthwise kernel's current plane, reused across calls.
    static DW_PLANE: RefCell<PaddedPlane> = RefCell::default();
}

/// The depthwise kernel in use.
const DW_KERNEL: DwKernel = DwKernel::Simd;

/// Runs the SIMD128 depthwise kernel against its scalar twin and against [`depthwise_2d`] on
/// strides 1, 2 and 3 (the scalar twin), dilations, pads, kernel sizes 1–5 and widths around the step edges; returns
/// how many outputs are not bit-identical (0 expected); then the SIMD128 max pool
/// ([`max_pool_plane`]) over the same geometries against its scalar twin and the table walk.
/// Inside wasm this is the test hook `depthwiseCheckForTest`. (Random weights and inputs: no zero sums, so the padding's `w·0`
/// terms change no bit.)
#[cfg(any(test, feature = "test-api"))]
pub fn depthwise_check_against_scalar() -> usize {
    let mut rng = crate::testing::Rng::new(21);
    let mut bad = 0;
    for &(hw, k, stride, pad, dil) in &[
        (1, 1, 1, 0, 1),
        (5, 3, 1, 1, 1),
        (7, 3, 2, 1, 1),
        (9, 5, 1, 2, 1),
        (16, 3, 1, 0, 1),
        (17, 5, 2, 2, 1),
        (20, 3, 1, 2, 2),
        (23, 2, 2, 0, 1),
        (33, 4, 1, 3, 1),
        (19, 3, 3, 1, 1),
    ] {
        let win = Window {
            kernel: vec![k, k],
            strides: vec![stride; 2],
            dilations: vec![dil; 2],
            pads: vec![pad; 4],
            ..Default::default()
        };
        let Ok(g) = geometry(&win, &[hw, hw + 3], &[k, k], false) else {
            continue;
        };
        let plane = rng.f32s(hw * (hw + 3), -1.0, 1.0);
        let wk = rng.f32s(k * k, -1.0, 1.0);
        let bias = rng.f32s(1, -1.0, 1.0)[0];
        let out_sp = g[0].output * g[1].output;
        let mut want = vec![bias; out_sp];
        depthwise_2d(&plane, &g, &wk, &mut want);
        let mut p = PaddedPlane::default();
        p.fill(&plane, &g);
        for kern in [DwKernel::Simd, DwKernel::Scalar] {
            let mut got = vec![f32::NAN; out_sp];
            depthwise_padded(&p, &g, &wk, bias, &mut got, kern);
            bad += crate::testing::bit_mismatches(&got, &want);
        }
        // the max pool over the same geometry, padded with −∞, against the table walk (a few
        // zeros of both signs among the inputs)
        let mut plane = plane;
        for (i, v) in plane.iter_mut().enumerate().filter(|(i, _)| i % 7 == 3) {
            *v = if i % 2 == 0 { 0.0 } else { -0.0 };
        }
        let x = Tensor::from_f32(vec![1, 1, hw, hw + 3], plane.clone()).unwrap();
        let want = pool(&x, PoolKind::Max, &win, false, Some(false)).unwrap();
        let want = want[0].as_f32().unwrap();
        for kern in [DwKernel::Simd, DwKernel::Scalar] {
            let mut got = vec![f32::NAN; out_sp];
            max_pool_plane(&plane, &g, &mut got, kern, &mut p);
            // the table walk keeps the first of equal maxima: compare zeros by value
            bad += got
                .iter()
                .zip(want)
                .filter(|(a, b)| a.to_bits() != b.to_bits() && !(**a == 0.0 && **b == 0.0))
                .count();
            let mut twin = vec![f32::NAN; out_sp];
            max_pool_plane(&plane, &g, &mut twin, DwKernel::Scalar, &mut p);
            bad += crate::testing::bit_mismatches(&got, &twin);
        }
    }
    bad
}

fn conv(
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    win: &Window,
    group: usize,
    act: Option<ConvAct>,
    packed: Option<&Packed>,
) -> Result<Tensor> {
    let (xs, ws) = (x.shape(), w.shape());
    if xs.len() < 3 || ws.len() != xs.len() {
        return Err(Error::shape(format!(
            "Conv: X {xs:?} and W {ws:?} must both have rank >= 3 and equal rank"
        )));
    }
    if group == 0 {
        return Err(Error::shape(format!(
            "Conv: group must be at least 1 (W {ws:?})"
        )));
    }
    let (n, c) = (xs[0], xs[1]);
    let (m, cg) = (ws[0], ws[1]);
    if c % group != 0 || m % group != 0 || cg * group != c {
        return Err(Error::shape(format!(
            "Conv: X has {c} channels and W {ws:?} expects {cg} per group × {group} groups"
        )));
    }
    let kernel = if win.kernel.is_empty() {
        ws[2..].to_vec()
    } else {
        win.kernel.clone()
    };
    if kernel != ws[2..] {
        return Err(Error::shape(format!(
            "Conv: kernel_shape {kernel:?} differs from W {ws:?}"
        )));
    }
    let mut g = geometry(win, &xs[2..], &kernel, false)?;
    if g.len() == 1 {
        // 1-D runs as 2-D with a unit height: the row-copy im2col instead of a tap table
        let unit = Dim1 {
            input: 1,
            kernel: 1,
            stride: 1,
            dilation: 1,
            pad_begin: 0,
            pad_end: 0,
            output: 1,
        };
        g.insert(0, unit);
    }
    let in_sp: usize = xs[2..].iter().product();
    let out_sp: usize = g.iter().map(|d| d.output).product();
    let taps: usize = kernel.iter().product();
    let mut out_shape = vec![n, m];
    out_shape.extend(g[g.len() + 2 - xs.len()..].iter().map(|d| d.output));
    let total = numel_checked(&out_shape)?;
    let (xv, wv) = (x.as_f32()?, w.as_f32()?);
    let bias = match b {
        Some(b) if b.numel() == m => Some(b.as_f32()?),
        Some(b) => {
            return Err(Error::shape(format!(
                "Conv: B has {} values for {m} output channels",
                b.numel()
            )))
        }
        None => None,
    };
    let mg = m / group;
    let rows = cg * taps;
    numel_checked(&[rows, out_sp])?;
    // N-d (not 1-D or 2-D) im2col reads through a tap table: (out, tap) → input offset or MAX
    // (padding); 2-D copies row segments
    let two_d = g.len() == 2;
    let mut table = vec![usize::MAX; if two_d { 0 } else { out_sp * taps }];
    if !two_d {
        for_each_tap(&g, |of, kf, src| {
            table[kf * out_sp + of] = src.unwrap_or(usize::MAX)
        });
    }
    let pointwise =
        taps == 1 && g.iter().all(|d| d.stride == 1 && d.pad_begin == 0) && out_sp == in_sp;
    if two_d && cg == 1 && group > 1 && !pointwise {
        // depthwise (a channel multiplier mg ≥ 1 reads the same input plane mg times); a
        // single-channel input with one group (LeNet's first layer) stays on GEMM, which
        // measured faster there
        let mut out = vec![0.0f32; total];
        let (rows, width) = PaddedPlane::dims(&g);
        numel_checked(&[rows, width])?;
        let mut plane_copy = DW_PLANE.with(|p| std::mem::take(&mut *p.borrow_mut()));
        for bi in 0..n {
            for oc in 0..m {
                let plane = &xv[(bi * c + oc / mg) * in_sp..(bi * c + oc / mg + 1) * in_sp];
                let dst = &mut out[(bi * m + oc) * out_sp..(bi * m + oc + 1) * out_sp];
                let b = bias.map_or(0.0, |b| b[oc]);
                let wk = &wv[oc * taps..(oc + 1) * taps];
                // a channel multiplier reads the same plane again: copy it once
                if oc % mg == 0 {
                    plane_copy.fill(plane, &g);
                }
                depthwise_padded(&plane_copy, &g, wk, b, dst, DW_KERNEL);
                apply_act(act, dst);
            }
        }
        DW_PLANE.with(|p| *p.borrow_mut() = plane_copy);
        return Tensor::from_f32(out_shape, out);
    }
    let wino = two_d && winograd::applies(win, ws, group);
    if wino || (two_d && mg > DIRECT_MAX_ROWS) {
        // the weights packed at load when they are this call's (same path, groups and shape),
        // else per run; per group one packed A, or 16 for Winograd
        let (per_group, k) = if wino { (16, cg) } else { (1, rows) };
        let fits = |p: &&Packed| {
            p.wino == wino
                && p.groups.len() == per_group * group
                && p.groups.iter().all(|a| a.m() == mg && a.k() == k)
        };
        let per_run;
        let weights = match packed.filter(fits) {
            Some(p) => &p.groups,
            None => {
                per_run = pack_weight(wv, mg, rows, cg, wino);
                &per_run.groups
            }
        };
        let mut out = vec![0.0f32; total];
        let mut scratch = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
        for bi in 0..n {
            for (gi, a) in weights.chunks_exact(per_group).enumerate() {
                let xg = &xv[(bi * c + gi * cg) * in_sp..(bi * c + (gi + 1) * cg) * in_sp];
                let dst = &mut out[(bi * m + gi * mg) * out_sp..(bi * m + (gi + 1) * mg) * out_sp];
                let bias = bias.map(|b| &b[gi * mg..(gi + 1) * mg]);
                if wino {
                    winograd::conv(xg, cg, &g, a, bias, act, dst, &mut scratch);
                } else {
                    conv_2d_blocked(xg, cg, &g, &a[0], bias, act, dst, &mut scratch);
                }
            }
        }
        SCRATCH.with(|s| *s.borrow_mut() = scratch);
        return Tensor::from_f32(out_shape, out);
    }
    let mut out = vec![0.0f32; total];
    let mut col = vec![0.0f32; if pointwise { 0 } else { rows * out_sp }];
    for bi in 0..n {
        for gi in 0..group {
            let xg = &xv[(bi * c + gi * cg) * in_sp..(bi * c + (gi + 1) * cg) * in_sp];
            let rhs: &[f32] = if pointwise {
                xg
            } else {
                for ch in 0..cg {
                    let plane = &xg[ch * in_sp..(ch + 1) * in_sp];
                    if two_d {
                        for t in 0..taps {
                            let p = ch * taps + t;
                            let row = &mut col[p * out_sp..(p + 1) * out_sp];
                            im2col_segment(plane, &g, t / g[1].kernel, t % g[1].kernel, 0, row);
                        }
                        continue;
                    }
                    for kf in 0..taps {
                        let dst =
                            &mut col[(ch * taps + kf) * out_sp..(ch * taps + kf + 1) * out_sp];
                        let src = &table[kf * out_sp..(kf + 1) * out_sp];
                        for (d, &s) in dst.iter_mut().zip(src) {
                            *d = if s == usize::MAX { 0.0 } else { plane[s] };
                        }
                    }
                }
                &col
            };
            let wg = &wv[gi * mg * rows..(gi + 1) * mg * rows];
            let dst = &mut out[(bi * m + gi * mg) * out_sp..(bi * m + (gi + 1) * mg) * out_sp];
            let read = if let Some(bias) = bias {
                for (oc, row) in dst.chunks_mut(out_sp).enumerate() {
                    row.fill(bias[gi * mg + oc]);
                }
                true
            } else {
                false
            };
            gemm_strided(
                mg,
                out_sp,
                rows,
                dst,
                read,
                wg,
                (rows, 1),
                rhs,
                (out_sp, 1),
                1.0,
            );
            apply_act(act, dst);
        }
    }
    Tensor::from_f32(out_shape, out)
}

#[allow(clippy::too_many_arguments)]
fn conv_transpose(
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    win: &Window,
    group: usize,
    output_padding: &[usize],
    output_shape: &[usize],
) -> Result<Tensor> {
    let (xs, ws) = (x.shape(), w.shape());
    if xs.len() < 3 || ws.len() != xs.len() {
        return Err(Error::shape(format!(
            "ConvTranspose: X {xs:?} and W {ws:?} must both have rank >= 3 and equal rank"
        )));
    }
    let (n, c) = (xs[0], xs[1]);
    if ws[0] != c || c % group != 0 {
        return Err(Error::shape(format!(
            "ConvTranspose: X has {c} channels but W is {ws:?} with {group} groups"
        )));
    }
    let (cg, mg) = (c / group, ws[1]);
    let m = mg * group;
    let sp = xs.len() - 2;
    let kernel = if win.kernel.is_empty() {
        ws[2..].to_vec()
    } else {
        win.kernel.clone()
    };
    if kernel != ws[2..] {
        return Err(Error::shape(format!(
            "ConvTranspose: kernel_shape {kernel:?} differs from W {ws:?}"
        )));
    }
    let strides = or_ones(&win.strides, sp);
    let dil = or_ones(&win.dilations, sp);
    let opad = if output_padding.is_empty() {
        vec![0; sp]
    } else {
        output_padding.to_vec()
    };
    if strides.len() != sp
        || dil.len() != sp
        || opad.len() != sp
        || !(win.pads.is_empty() || win.pads.len() == 2 * sp)
        || !(output_shape.is_empty() || output_shape.len() >= sp)
    {
        return Err(Error::shape(format!(
            "ConvTranspose: window attributes (strides {strides:?}, dilations {dil:?}, pads {:?}, output_padding {opad:?}, output_shape {output_shape:?}) do not fit {sp} spatial dims",
            win.pads
        )));
    }
    let (pads_begin, pads_end) = if win.pads.is_empty() {
        (vec![0; sp], vec![0; sp])
    } else {
        (win.pads[..sp].to_vec(), win.pads[sp..].to_vec())
    };
    let want_shape = &output_shape[output_shape.len().saturating_sub(sp)..];
    bounded(&xs[2..])?;
    bounded(&strides)?;
    bounded(&opad)?;
    bounded(&win.pads)?;
    bounded(want_shape)?;
    // full (unpadded) output extent and the begin pads that crop it
    let mut full = vec![0usize; sp];
    for d in 0..sp {
        let eff = extent(dil[d], kernel[d])?;
        let span = strides[d].saturating_mul(xs[2 + d].saturating_sub(1));
        bounded(&[span])?;
        full[d] = if xs[2 + d] == 0 {
            0
        } else {
            span + eff + opad[d]
        };
    }
    let mut begin = vec![0isize; sp];
    let mut outd = vec![0usize; sp];
    let auto = win.auto_pad.unwrap_or(AutoPad::NotSet);
    for d in 0..sp {
        let want = if !want_shape.is_empty() {
            Some(want_shape[d])
        } else if matches!(auto, AutoPad::SameUpper | AutoPad::SameLower) {
            Some(xs[2 + d].saturating_mul(strides[d]))
        } else {
            None
        };
        match want {
            Some(o) => {
                bounded(&[o])?;
                // a negative total pads the output (with the bias) beyond the full extent
                let total = full[d] as isize - o as isize;
                let half = total.div_euclid(2);
                begin[d] = if auto == AutoPad::SameUpper {
                    half
                } else {
                    total - half
                };
                outd[d] = o;
            }
            None => {
                let (pb, pe) = match auto {
                    AutoPad::Valid => (0, 0),
                    _ => (pads_begin[d], pads_end[d]),
                };
                outd[d] = full[d].checked_sub(pb + pe).ok_or_else(|| {
                    Error::shape(format!(
                        "ConvTranspose: pads ({pb}, {pe}) exceed the output extent {} of spatial dim {d}",
                        full[d]
                    ))
                })?;
                begin[d] = pb as isize;
            }
        }
    }
    let mut out_shape = vec![n, m];
    out_shape.extend(&outd);
    let total = numel_checked(&out_shape)?;
    let in_sp: usize = xs[2..].iter().product();
    let out_sp: usize = outd.iter().product();
    let taps: usize = kernel.iter().product();
    let (xv, wv) = (x.as_f32()?, w.as_f32()?);
    let bias = b.map(|b| b.as_f32()).transpose()?;
    if bias.is_some_and(|b| b.len() != m) {
        return Err(Error::shape(format!(
            "ConvTranspose: B must have {m} values"
        )));
    }
    // per spatial dim, for each (input coordinate, tap): the output coordinate or usize::MAX
    // when cropped; 2-D scatters row by row through these, other ranks through a full table
    let coord: Vec<Vec<usize>> = (0..sp)
        .map(|d| {
            let k = kernel[d];
            (0..xs[2 + d] * k)
                .map(|f| {
                    let o = ((f / k) * strides[d] + (f % k) * dil[d]) as isize - begin[d];
                    if o >= 0 && (o as usize) < outd[d] {
                        o as usize
                    } else {
                        usize::MAX
                    }
                })
                .collect()
        })
        .collect();
    // for each (input position, tap): the output spatial offset or usize::MAX when cropped
    let mut table = vec![
        usize::MAX;
        if sp == 2 {
            0
        } else {
            numel_checked(&[in_sp, taps])?
        }
    ];
    if sp != 2 {
        let mut i_idx = vec![0usize; sp];
        let mut k_idx = vec![0usize; sp];
        for i_f in 0..in_sp {
            for kf in 0..taps {
                let mut off = Some(0usize);
                for d in 0..sp {
                    let o = (i_idx[d] * strides[d] + k_idx[d] * dil[d]) as isize - begin[d];
                    off = match off {
                        Some(s) if o >= 0 && (o as usize) < outd[d] => {
                            Some(s * outd[d] + o as usize)
                        }
                        _ => None,
                    };
                }
                table[i_f * taps + kf] = off.unwrap_or(usize::MAX);
                next_index(&mut k_idx, |d| kernel[d]);
            }
            next_index(&mut i_idx, |d| xs[2 + d]);
        }
    }
    let rows = mg * taps;
    let mut col = vec![0.0f32; numel_checked(&[rows, in_sp])?];
    let mut out = vec![0.0f32; total];
    for bi in 0..n {
        for gi in 0..group {
            // col[mg·taps, in_sp] = W_gᵀ · X_g   (W_g is [cg, mg·taps])
            let wg = &wv[gi * cg * rows..(gi + 1) * cg * rows];
            let xg = &xv[(bi * c + gi * cg) * in_sp..(bi * c + (gi + 1) * cg) * in_sp];
            gemm_strided(
                rows,
                in_sp,
                cg,
                &mut col,
                false,
                wg,
                (1, rows),
                xg,
                (in_sp, 1),
                1.0,
            );
            for oc in 0..mg {
                let dst = &mut out
                    [(bi * m + gi * mg + oc) * out_sp..(bi * m + gi * mg + oc + 1) * out_sp];
                if let Some(bias) = bias {
                    dst.fill(bias[gi * mg + oc]);
                }
                if sp == 2 {
                    let (kh_n, kw_n, w_in, w_out) = (kernel[0], kernel[1], xs[3], outd[1]);
                    for kf in 0..taps {
                        let (kh, kw) = (kf / kw_n, kf % kw_n);
                        let src = &col[(oc * taps + kf) * in_sp..(oc * taps + kf + 1) * in_sp];
                        for (ih, src) in src.chunks_exact(w_in.max(1)).enumerate() {
                            let oh = coord[0][ih * kh_n + kh];
                            if oh == usize::MAX {
                                continue;
                            }
                            let row = &mut dst[oh * w_out..(oh + 1) * w_out];
                            for (iw, &v) in src.iter().enumerate() {
                                let ow = coord[1][iw * kw_n + kw];
                                if ow != usize::MAX {
                                    row[ow] += v;
                                }
                            }
                        }
                    }
                    continue;
                }
                for kf in 0..taps {
                    let src = &col[(oc * taps + kf) * in_sp..(oc * taps + kf + 1) * in_sp];
                    for (i_f, &v) in src.iter().enumerate() {
                        let o = table[i_f * taps + kf];
                        if o != usize::MAX {
                            dst[o] += v;
                        }
                    }
                }
            }
        }
    }
    Tensor::from_f32(out_shape, out)
}

/// A pool's outputs; `indices`: MaxPool's `Indices` output is asked for, `Some(column_major)`
/// (its storage order), or not (`None`: only the maxima are computed).
fn pool(
    x: &Tensor,
    kind: PoolKind,
    win: &Window,
    ceil_mode: bool,
    indices: Option<bool>,
) -> Result<Vec<Tensor>> {
    let col_major = indices.unwrap_or(false);
    let xs = x.shape();
    if xs.len() < 3 {
        return Err(Error::shape(format!(
            "pooling needs input rank >= 3, got {xs:?}"
        )));
    }
    let g = geometry(win, &xs[2..], &win.kernel, ceil_mode)?;
    let (n, c) = (xs[0], xs[1]);
    let in_sp: usize = xs[2..].iter().product();
    let out_sp: usize = g.iter().map(|d| d.output).product();
    let taps = numel_checked(&win.kernel)?;
    let mut out_shape = vec![n, c];
    out_shape.extend(g.iter().map(|d| d.output));
    let total = numel_checked(&out_shape)?;
    if g.len() == 2 && kind == PoolKind::Max && indices.is_none() {
        let (rows, width) = PaddedPlane::dims(&g);
        numel_checked(&[rows, width])?;
        let xv = x.as_f32()?;
        let mut out = vec![0.0f32; total];
        let mut p = DW_PLANE.with(|p| std::mem::take(&mut *p.borrow_mut()));
        for (plane, dst) in xv
            .chunks_exact(in_sp.max(1))
            .zip(out.chunks_exact_mut(out_sp.max(1)))
        {
            max_pool_plane(plane, &g, dst, DW_KERNEL, &mut p);
        }
        DW_PLANE.with(|c| *c.borrow_mut() = p);
        return Ok(vec![Tensor::from_f32(out_shape, out)?]);
    }
    if g.len() == 2 && !matches!(kind, PoolKind::Lp { .. }) {
        let mut res = pool_2d(x.as_f32()?, n * c, &g, kind, col_major, out_shape, total)?;
        res.truncate(if indices.is_some() { 2 } else { 1 });
        return Ok(res);
    }
    // per (out, tap): input offset or MAX; plus per-out counts of taps inside the padded span
    let mut table = vec![usize::MAX; numel_checked(&[out_sp, taps])?];
    for_each_tap(&g, |of, kf, src| {
        table[of * taps + kf] = src.unwrap_or(usize::MAX)
    });
    // taps inside [−pad_begin, input + pad_end) per output (count_include_pad divisor)
    let mut padded_count = vec![0usize; out_sp];
    {
        let mut o_idx = vec![0usize; g.len()];
        for cnt in padded_count.iter_mut() {
            let mut c = 1usize;
            for (d, dim) in g.iter().enumerate() {
                let lo = -(dim.pad_begin as isize);
                let hi = (dim.input + dim.pad_end) as isize;
                let inside = (0..dim.kernel)
                    .filter(|&k| {
                        let i = (o_idx[d] * dim.stride + k * dim.dilation) as isize
                            - dim.pad_begin as isize;
                        i >= lo && i < hi
                    })
                    .count();
                c *= inside;
            }
            *cnt = c;
            next_index(&mut o_idx, |d| g[d].output);
        }
    }
    let xv = x.as_f32()?;
    let mut out = vec![0.0f32; total];
    let want_indices = indices.is_some();
    let mut indices = if kind == PoolKind::Max {
        vec![0i64; total]
    } else {
        vec![]
    };
    let sp_shape = &xs[2..];
    for plane in 0..n * c {
        let src = &xv[plane * in_sp..(plane + 1) * in_sp];
        for of in 0..out_sp {
            let taps_of = &table[of * taps..(of + 1) * taps];
            let o = plane * out_sp + of;
            match kind {
                PoolKind::Max => {
                    let mut best = f32::NEG_INFINITY;
                    let mut at = usize::MAX;
                    // the first tap, then any greater one or the first NaN (NaN propagates)
                    for &t in taps_of.iter().filter(|&&t| t != usize::MAX) {
                        let v = src[t];
                        if v > best || at == usize::MAX || v.is_nan() && !best.is_nan() {
                            best = v;
                            at = t;
                        }
                    }
                    out[o] = best;
                    if at != usize::MAX {
                        let flat = if col_major {
                            column_major(at, sp_shape)
                        } else {
                            at
                        };
                        indices[o] = (plane * in_sp + flat) as i64;
                    }
                }
                PoolKind::Average { count_include_pad } => {
                    let (mut s, mut k) = (0.0f32, 0usize);
                    for &t in taps_of {
                        if t != usize::MAX {
                            s += src[t];
                            k += 1;
                        }
                    }
                    let div = if count_include_pad {
                        padded_count[of]
                    } else {
                        k
                    };
                    out[o] = if div == 0 { 0.0 } else { s / div as f32 };
                }
                PoolKind::Lp { p } => {
                    let s: f32 = taps_of
                        .iter()
                        .filter(|&&t| t != usize::MAX)
                        .map(|&t| src[t].abs().powf(p))
                        .sum();
                    out[o] = s.powf(1.0 / p);
                }
            }
        }
    }
    let mut res = vec![Tensor::from_f32(out_shape.clone(), out)?];
    if kind == PoolKind::Max && want_indices {
        res.push(Tensor::from_i64(out_shape, indices)?);
    }
    Ok(res)
}

/// 2-D max and average pooling a whole output row at a time: for each valid kernel row and
/// column, every output of the row takes that tap (the tap order, tie-breaking and divisors of
/// the table walk in [`pool`], so the results are identical).
fn pool_2d(
    xv: &[f32],
    planes: usize,
    g: &[Dim1],
    kind: PoolKind,
    col_major: bool,
    out_shape: Vec<usize>,
    total: usize,
) -> Result<Vec<Tensor>> {
    let (h, w) = (g[0], g[1]);
    let in_sp = h.input * w.input;
    let out_sp = h.output * w.output;
    let max = kind == PoolKind::Max;
    let count_include_pad = matches!(
        kind,
        PoolKind::Average {
            count_include_pad: true
        }
    );
    // taps inside [−pad_begin, input + pad_end) (count_include_pad divisor), per dim
    let padded = |d: &Dim1, o: usize| -> usize {
        (0..d.kernel)
            .filter(|&k| {
                let i = (o * d.stride + k * d.dilation) as isize - d.pad_begin as isize;
                i >= -(d.pad_begin as isize) && i < (d.input + d.pad_end) as isize
            })
            .count()
    };
    let valid = |d: &Dim1, o: usize| (0..d.kernel).filter(|&k| d.source(o, k).is_some()).count();
    let cols: Vec<(usize, usize, usize)> = (0..w.kernel).map(|kw| valid_columns(&w, kw)).collect();
    let div_w: Vec<usize> = (0..w.output)
        .map(|o| {
            if count_include_pad {
                padded(&w, o)
            } else {
                valid(&w, o)
            }
        })
        .collect();
    let mut out = vec![0.0f32; total];
    let mut indices = if max { vec![0i64; total] } else { vec![] };
    let mut at = vec![usize::MAX; w.output];
    let sp_shape = [h.input, w.input];
    for p in 0..planes {
        let src = &xv[p * in_sp..(p + 1) * in_sp];
        for oh in 0..h.output {
            let o0 = p * out_sp + oh * w.output;
            let best = &mut out[o0..o0 + w.output];
            best.fill(if max { f32::NEG_INFINITY } else { 0.0 });
            at.fill(usize::MAX);
            for kh in 0..h.kernel {
                let Some(ih) = h.source(oh, kh) else {
                    continue;
                };
                let row = &src[ih * w.input..(ih + 1) * w.input];
                for &(lo, hi, first) in &cols {
                    if lo == hi {
                        continue;
                    }
                    let taps = (first..).step_by(w.stride);
                    if max {
                        for ((b, a), iw) in best[lo..hi].iter_mut().zip(&mut at[lo..hi]).zip(taps) {
                            let v = row[iw];
                            if v > *b || *a == usize::MAX || v.is_nan() && !b.is_nan() {
                                *b = v;
                                *a = ih * w.input + iw;
                            }
                        }
                    } else {
                        for (b, iw) in best[lo..hi].iter_mut().zip(taps) {
                            *b += row[iw];
                        }
                    }
                }
            }
            if max {
                let idx = &mut indices[o0..o0 + w.output];
                for (i, &a) in idx.iter_mut().zip(&at) {
                    if a != usize::MAX {
                        let flat = if col_major {
                            column_major(a, &sp_shape)
                        } else {
                            a
                        };
                        *i = (p * in_sp + flat) as i64;
                    }
                }
            } else {
                let dh = if count_include_pad {
                    padded(&h, oh)
                } else {
                    valid(&h, oh)
                };
                for (b, &dw) in best.iter_mut().zip(&div_w) {
                    let div = dh * dw;
                    *b = if div == 0 { 0.0 } else { *b / div as f32 };
                }
            }
        }
    }
    let mut res = vec![Tensor::from_f32(out_shape.clone(), out)?];
    if max {
        res.push(Tensor::from_i64(out_shape, indices)?);
    }
    Ok(res)
}

/// Row-major spatial offset → column-major (storage_order = 1) offset.
fn column_major(at: usize, shape: &[usize]) -> usize {
    let mut rem = at;
    let mut coords = vec![0usize; shape.len()];
    for d in (0..shape.len()).rev() {
        coords[d] = rem % shape[d];
        rem /= shape[d];
    }
    let mut off = 0;
    for d in (0..shape.len()).rev() {
        off = off * shape[d] + coords[d];
    }
    off
}

fn global_pool(x: &Tensor, kind: PoolKind) -> Result<Tensor> {
    let xs = x.shape();
    if xs.len() < 3 {
        return Err(Error::shape(format!(
            "global pooling needs input rank >= 3, got {xs:?}"
        )));
    }
    let sp: usize = xs[2..].iter().product();
    if sp == 0 && xs[0] * xs[1] > 0 {
        return Err(Error::shape(format!(
            "global pooling over an empty spatial extent (input {xs:?})"
        )));
    }
    let xv = x.as_f32()?;
    let out: Vec<f32> = xv
        .chunks(sp.max(1))
        .take(xs[0] * xs[1])
        .map(|p| match kind {
            PoolKind::Max => p.iter().copied().fold(f32::NEG_INFINITY, f32::max),
            PoolKind::Average { .. } => p.iter().sum::<f32>() / sp as f32,
            PoolKind::Lp { p: e } => p.iter().map(|v| v.abs().powf(e)).sum::<f32>().powf(1.0 / e),
        })
        .collect();
    let mut shape = xs[..2].to_vec();
    shape.extend(std::iter::repeat_n(1, xs.len() - 2));
    Tensor::from_f32(shape, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::util::test_values as rand;

    /// Direct 2-D convolution: the scalar twin of the im2col + GEMM path.
    #[allow(clippy::too_many_arguments)]
    fn direct(
        x: &[f32],
        xs: [usize; 4],
        w: &[f32],
        ws: [usize; 4],
        stride: usize,
        pad: usize,
        dil: usize,
        group: usize,
    ) -> (Vec<f32>, [usize; 4]) {
        let [n, c, h, wd] = xs;
        let [m, cg, kh, kw] = ws;
        let oh = (h + 2 * pad - dil * (kh - 1) - 1) / stride + 1;
        let ow = (wd + 2 * pad - dil * (kw - 1) - 1) / stride + 1;
        let mg = m / group;
        let mut out = vec![0.0f32; n * m * oh * ow];
        for b in 0..n {
            for oc in 0..m {
                let g = oc / mg;
                for y in 0..oh {
                    for xx in 0..ow {
                        let mut s = 0.0f64;
                        for ic in 0..cg {
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let iy = (y * stride + ky * dil) as isize - pad as isize;
                                    let ix = (xx * stride + kx * dil) as isize - pad as isize;
                                    if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < wd
                                    {
                                        let xi = ((b * c + g * cg + ic) * h + iy as usize) * wd
                                            + ix as usize;
                                        let wi = ((oc * cg + ic) * kh + ky) * kw + kx;
                                        s += x[xi] as f64 * w[wi] as f64;
                                    }
                                }
                            }
                        }
                        out[((b * m + oc) * oh + y) * ow + xx] = s as f32;
                    }
                }
            }
        }
        (out, [n, m, oh, ow])
    }

    #[test]
    fn depthwise_simd_matches_scalar_twin() {
        assert_eq!(depthwise_check_against_scalar(), 0);
    }

    /// A Conv's weights packed at load give the per-run path's outputs bit for bit; a packed
    /// weight of another shape is not used.
    #[test]
    fn prepacked_weights_match_per_run_path() {
        for &(c, m, k, hw, group, stride) in &[
            (3, 8, 3, 9, 1, 1),
            (6, 10, 1, 7, 2, 1),
            (4, 5, 5, 11, 1, 2),
            (16, 12, 3, 30, 1, 1),
            (16, 24, 3, 30, 1, 1),
            (6, 40, 1, 7, 2, 1),
            (5, 20, 5, 21, 1, 2),
        ] {
            let x = Tensor::from_f32(vec![2, c, hw, hw], rand(2 * c * hw * hw, 3)).unwrap();
            let wt =
                Tensor::from_f32(vec![m, c / group, k, k], rand(m * c / group * k * k, 4)).unwrap();
            let b = Tensor::from_f32(vec![m], rand(m, 5)).unwrap();
            let op = ConvOp::Conv {
                window: Window {
                    strides: vec![stride; 2],
                    pads: vec![k / 2; 4],
                    ..Default::default()
                },
                group,
                act: Some(ConvAct::Relu),
            };
            let ins = [Some(&x), Some(&wt), Some(&b)];
            let want = run(&op, &ins).unwrap();
            let p = prepack(&op, &[None, Some(&wt)]).expect("a constant Conv weight is packed");
            let got = run_packed(&op, &ins, Some(&p)).unwrap();
            assert_eq!(got[0].shape(), want[0].shape());
            let bits = |t: &Tensor| -> Vec<u32> {
                t.as_f32().unwrap().iter().map(|v| v.to_bits()).collect()
            };
            assert_eq!(bits(&got[0]), bits(&want[0]));
            // a weight of another shape (here: another conv's) falls back to packing per run
            let other = Tensor::from_f32(
                vec![m, c / group, k + 1, k + 1],
                rand(m * c / group * (k + 1) * (k + 1), 6),
            )
            .unwrap();
            let q = prepack(&op, &[None, Some(&other)]).unwrap();
            assert_eq!(
                bits(&run_packed(&op, &ins, Some(&q)).unwrap()[0]),
                bits(&want[0])
            );
        }
        // depthwise weights are not packed
        let dw = Tensor::from_f32(vec![4, 1, 3, 3], rand(36, 7)).unwrap();
        let op = ConvOp::Conv {
            window: Window::default(),
            group: 4,
            act: None,
        };
        assert!(prepack(&op, &[None, Some(&dw)]).is_none());
    }

    /// The blocked path (more than [`DIRECT_MAX_ROWS`] output channels per group, blocks of
    /// output columns, partial panels) against the direct f64 twin.
    #[test]
    fn blocked_conv_matches_direct_twin() {
        for &(c, m, k, hw, stride, pad, dil, group) in &[
            (3, 17, 3, 40, 1, 1, 1, 1),
            (96, 24, 3, 13, 1, 1, 1, 1),
            (8, 34, 3, 19, 2, 1, 2, 2),
            (40, 20, 1, 9, 1, 0, 1, 1),
            (4, 32, 1, 11, 2, 0, 1, 1),
            // unpadded, windows short of the input's end (read in place), stride 3
            (5, 20, 3, 14, 3, 0, 1, 1),
            (6, 18, 5, 20, 1, 2, 1, 1),
        ] {
            let (xs, ws) = ([1, c, hw, hw], [m, c / group, k, k]);
            let (got, want) = against_direct(xs, ws, (stride, pad, dil, group), 8);
            let want: Vec<f64> = want.iter().map(|&v| v as f64).collect();
            close(&got, &want, "blocked conv");
        }
    }

    /// `conv` and the direct twin on random `xs` inputs and `ws` weights (seeds `seed`, 9)
    /// with square `(stride, pad, dilation, group)`: both outputs, the shapes checked equal.
    fn against_direct(
        xs: [usize; 4],
        ws: [usize; 4],
        (stride, pad, dil, group): (usize, usize, usize, usize),
        seed: u64,
    ) -> (Vec<f32>, Vec<f32>) {
        let x = rand(xs.iter().product(), seed);
        let w = rand(ws.iter().product(), 9);
        let win = Window {
            strides: vec![stride; 2],
            dilations: vec![dil; 2],
            pads: vec![pad; 4],
            ..Default::default()
        };
        let got = conv(
            &Tensor::from_f32(xs.to_vec(), x.clone()).unwrap(),
            &Tensor::from_f32(ws.to_vec(), w.clone()).unwrap(),
            None,
            &win,
            group,
            None,
            None,
        )
        .unwrap();
        let (want, shape) = direct(&x, xs, &w, ws, stride, pad, dil, group);
        assert_eq!(got.shape(), &shape);
        (got.as_f32().unwrap().to_vec(), want)
    }

    #[test]
    fn conv_matches_direct_twin() {
        for &(stride, pad, dil, group, c, m) in &[
            (1, 0, 1, 1, 3, 4),
            (2, 1, 1, 1, 2, 3),
            (1, 2, 2, 1, 1, 2),
            (1, 1, 1, 2, 4, 6),
            (2, 0, 1, 3, 3, 3),
            (3, 2, 1, 1, 2, 2),
            (1, 3, 3, 1, 1, 1),
            // depthwise (one input channel per group): the direct kernel, with multipliers
            (1, 1, 1, 4, 4, 4),
            (2, 1, 1, 4, 4, 8),
            (1, 2, 2, 3, 3, 6),
            (2, 0, 1, 2, 2, 2),
        ] {
            let xs = [2, c, 7, 6];
            let ws = [m, c / group, 3, 3];
            let (got, want) = against_direct(xs, ws, (stride, pad, dil, group), 7);
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-5 + 1e-4 * w.abs(), "{g} vs {w}");
            }
        }
    }

    /// A fused activation gives exactly what the standalone op's kernel gives on the unfused
    /// output, on the GEMM path and on the depthwise path, with a bias.
    #[test]
    fn fused_activation_matches_the_standalone_kernels() {
        use crate::ir::ops::math::{MathOp, Unary};
        let acts = [
            (ConvAct::Relu, MathOp::Unary(Unary::Relu)),
            (ConvAct::HardSwish, MathOp::Unary(Unary::HardSwish)),
            (ConvAct::Sigmoid, MathOp::Unary(Unary::Sigmoid)),
            (
                ConvAct::LeakyRelu { alpha: 0.1 },
                MathOp::Unary(Unary::LeakyRelu { alpha: 0.1 }),
            ),
            (
                ConvAct::Clip { lo: 0.0, hi: 0.5 },
                MathOp::Clip {
                    min: Some(0.0),
                    max: Some(0.5),
                },
            ),
        ];
        for &(group, c, m) in &[(1, 3, 4), (4, 4, 4)] {
            let xs = [1, c, 9, 8];
            let ws = [m, c / group, 3, 3];
            let x = Tensor::from_f32(xs.to_vec(), rand(xs.iter().product(), 3)).unwrap();
            let w = Tensor::from_f32(ws.to_vec(), rand(ws.iter().product(), 4)).unwrap();
            let b = Tensor::from_f32(vec![m], rand(m, 5)).unwrap();
            let win = Window {
                pads: vec![1; 4],
                ..Default::default()
            };
            let plain = conv(&x, &w, Some(&b), &win, group, None, None).unwrap();
            for (act, op) in &acts {
                let fused = conv(&x, &w, Some(&b), &win, group, Some(*act), None).unwrap();
                let want = super::super::math::run(op, &[Some(&plain)]).unwrap();
                assert_eq!(
                    fused.as_f32().unwrap(),
                    want[0].as_f32().unwrap(),
                    "{act:?} group {group}"
                );
            }
        }
    }

    #[test]
    fn max_pool_indices() {
        let x = Tensor::from_f32(vec![1, 1, 2, 2], vec![1., 4., 3., 2.]).unwrap();
        let win = Window {
            kernel: vec![2, 2],
            ..Default::default()
        };
        let r = pool(&x, PoolKind::Max, &win, false, Some(false)).unwrap();
        assert_eq!(r[0].as_f32().unwrap(), &[4.0]);
        assert_eq!(r[1].as_i64().unwrap(), &[1]);
        let r = pool(&x, PoolKind::Max, &win, false, Some(true)).unwrap();
        assert_eq!(r[1].as_i64().unwrap(), &[2]);
    }

    use crate::testing::Rng;

    /// Calls `f` with every multi-index of `dims` (row-major), nothing when a dim is 0.
    fn each_index(dims: &[usize], mut f: impl FnMut(&[usize])) {
        let n: usize = dims.iter().product();
        let mut idx = vec![0usize; dims.len()];
        for _ in 0..n {
            f(&idx);
            next_index(&mut idx, |d| dims[d]);
        }
    }

    fn flat(idx: &[usize], dims: &[usize]) -> usize {
        idx.iter().zip(dims).fold(0, |a, (&i, &d)| a * d + i)
    }

    fn close(got: &[f32], want: &[f64], what: &str) {
        crate::testing::assert_close(what, got, want, 1e-5, 1e-4);
    }

    /// `ConvOp::infer` on fully known input shapes gives the shape the kernel produced.
    fn infer_agrees(op: ConvOp, shapes: &[&[usize]], got: &[usize]) {
        let facts: Vec<crate::ir::fact::Fact> = shapes
            .iter()
            .map(|s| {
                crate::ir::fact::Fact::new(
                    Some(crate::tensor::DType::F32),
                    Some(s.iter().map(|&d| crate::ir::fact::Dim::Known(d)).collect()),
                )
            })
            .collect();
        let out = op.infer(&facts);
        assert_eq!(
            out[0].concrete_shape().as_deref(),
            Some(got),
            "infer of {op:?}"
        );
    }

    /// Pads (begin, end) and output size of one dim by the ONNX formulas, written independently
    /// of `geometry`.
    fn ref_dim(
        auto: AutoPad,
        input: usize,
        eff: usize,
        s: usize,
        pads: (usize, usize),
    ) -> (usize, usize, usize) {
        match auto {
            AutoPad::SameUpper | AutoPad::SameLower => {
                let out = input.div_ceil(s);
                let total = ((out - 1) * s + eff).saturating_sub(input);
                if auto == AutoPad::SameUpper {
                    (total / 2, total - total / 2, out)
                } else {
                    (total - total / 2, total / 2, out)
                }
            }
            AutoPad::Valid => (0, 0, (input - eff) / s + 1),
            AutoPad::NotSet => (pads.0, pads.1, (input + pads.0 + pads.1 - eff) / s + 1),
        }
    }

    /// Direct N-d convolution in f64: the scalar twin of im2col + GEMM.
    #[allow(clippy::too_many_arguments)]
    fn direct_nd(
        x: &[f32],
        xs: &[usize],
        w: &[f32],
        ws: &[usize],
        b: Option<&[f32]>,
        strides: &[usize],
        dil: &[usize],
        pads: &[usize],
        auto: AutoPad,
        group: usize,
    ) -> (Vec<f64>, Vec<usize>) {
        let sp = xs.len() - 2;
        let (n, c, m, cg) = (xs[0], xs[1], ws[0], ws[1]);
        let mg = m / group;
        let mut pb = vec![0; sp];
        let mut od = vec![0; sp];
        for d in 0..sp {
            let eff = dil[d] * (ws[2 + d] - 1) + 1;
            let (b0, _, o) = ref_dim(auto, xs[2 + d], eff, strides[d], (pads[d], pads[d + sp]));
            pb[d] = b0;
            od[d] = o;
        }
        let mut oshape = vec![n, m];
        oshape.extend(&od);
        let mut out = vec![0.0f64; oshape.iter().product()];
        each_index(&oshape, |oi| {
            let (bi, oc) = (oi[0], oi[1]);
            let g = oc / mg;
            let mut acc = b.map_or(0.0, |b| b[oc] as f64);
            for ic in 0..cg {
                each_index(&ws[2..], |k| {
                    let mut src = vec![bi, g * cg + ic];
                    for d in 0..sp {
                        let i = (oi[2 + d] * strides[d] + k[d] * dil[d]) as isize - pb[d] as isize;
                        if i < 0 || i as usize >= xs[2 + d] {
                            return;
                        }
                        src.push(i as usize);
                    }
                    let mut wi = vec![oc, ic];
                    wi.extend(k);
                    acc += x[flat(&src, xs)] as f64 * w[flat(&wi, ws)] as f64;
                });
            }
            let _ = c;
            out[flat(oi, &oshape)] = acc;
        });
        (out, oshape)
    }

    #[test]
    fn conv_nd_matches_direct_twin_on_random_cases() {
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        for case in 0..150 {
            let sp = r.range(1, 3);
            let group = r.range(1, 3);
            let cg = r.range(1, 3);
            let mg = r.range(1, 3);
            let n = r.range(1, 2);
            let mut xs = vec![n, cg * group];
            let mut ws = vec![mg * group, cg];
            let (mut strides, mut dil, mut pads) = (vec![], vec![], vec![0; 2 * sp]);
            for d in 0..sp {
                let k = r.range(1, if sp == 3 { 2 } else { 3 });
                let dl = r.range(1, 2);
                let s = r.range(1, 3);
                let eff = dl * (k - 1) + 1;
                xs.push(r.range(eff, eff + if sp == 3 { 3 } else { 6 }));
                ws.push(k);
                strides.push(s);
                dil.push(dl);
                pads[d] = r.range(0, 2);
                pads[d + sp] = r.range(0, 2);
            }
            let auto = [
                AutoPad::NotSet,
                AutoPad::NotSet,
                AutoPad::SameUpper,
                AutoPad::SameLower,
                AutoPad::Valid,
            ][r.below(5)];
            let x = rand(xs.iter().product(), case);
            let w = rand(ws.iter().product(), case + 1000);
            let bias = rand(ws[0], case + 2000);
            let with_bias = r.below(2) == 1;
            let win = Window {
                kernel: if r.below(2) == 1 {
                    ws[2..].to_vec()
                } else {
                    vec![]
                },
                strides: strides.clone(),
                dilations: dil.clone(),
                pads: if auto == AutoPad::NotSet {
                    pads.clone()
                } else {
                    vec![]
                },
                auto_pad: Some(auto),
            };
            let bt = Tensor::from_f32(vec![ws[0]], bias.clone()).unwrap();
            let got = conv(
                &Tensor::from_f32(xs.clone(), x.clone()).unwrap(),
                &Tensor::from_f32(ws.clone(), w.clone()).unwrap(),
                with_bias.then_some(&bt),
                &win,
                group,
                None,
                None,
            )
            .unwrap();
            let (want, shape) = direct_nd(
                &x,
                &xs,
                &w,
                &ws,
                with_bias.then_some(&bias[..]),
                &strides,
                &dil,
                &pads,
                auto,
                group,
            );
            let what = format!("case {case}: X {xs:?} W {ws:?} {win:?} group {group}");
            assert_eq!(got.shape(), &shape[..], "{what}");
            close(got.as_f32().unwrap(), &want, &what);
            infer_agrees(
                ConvOp::Conv {
                    window: win,
                    group,
                    act: None,
                },
                &[&xs, &ws],
                got.shape(),
            );
        }
    }

    /// Direct transposed convolution in f64 (scatter form) with explicit pads.
    #[allow(clippy::too_many_arguments)]
    fn direct_transpose(
        x: &[f32],
        xs: &[usize],
        w: &[f32],
        ws: &[usize],
        strides: &[usize],
        dil: &[usize],
        pads: &[usize],
        opad: &[usize],
        group: usize,
    ) -> (Vec<f64>, Vec<usize>) {
        let sp = xs.len() - 2;
        let (n, c, mg) = (xs[0], xs[1], ws[1]);
        let cg = c / group;
        let mut oshape = vec![n, mg * group];
        for d in 0..sp {
            oshape.push(
                strides[d] * (xs[2 + d] - 1) + dil[d] * (ws[2 + d] - 1) + 1 + opad[d]
                    - pads[d]
                    - pads[d + sp],
            );
        }
        let mut out = vec![0.0f64; oshape.iter().product()];
        each_index(xs, |xi| {
            let (bi, ic) = (xi[0], xi[1]);
            let g = ic / cg;
            for oc in 0..mg {
                each_index(&ws[2..], |k| {
                    let mut dst = vec![bi, g * mg + oc];
                    for d in 0..sp {
                        let o =
                            (xi[2 + d] * strides[d] + k[d] * dil[d]) as isize - pads[d] as isize;
                        if o < 0 || o as usize >= oshape[2 + d] {
                            return;
                        }
                        dst.push(o as usize);
                    }
                    let mut wi = vec![ic, oc];
                    wi.extend(k);
                    out[flat(&dst, &oshape)] += x[flat(xi, xs)] as f64 * w[flat(&wi, ws)] as f64;
                });
            }
        });
        (out, oshape)
    }

    #[test]
    fn conv_transpose_matches_direct_twin_on_random_cases() {
        let mut r = Rng(0x1234_5678_9abc_def1);
        for case in 0..120 {
            let sp = r.range(1, 3);
            let group = r.range(1, 3);
            let cg = r.range(1, 2);
            let mg = r.range(1, 3);
            let mut xs = vec![r.range(1, 2), cg * group];
            let mut ws = vec![cg * group, mg];
            let (mut strides, mut dil, mut pads, mut opad) =
                (vec![], vec![], vec![0; 2 * sp], vec![]);
            for d in 0..sp {
                let k = r.range(1, 3);
                let dl = r.range(1, 2);
                let s = r.range(1, 3);
                xs.push(r.range(1, if sp == 3 { 3 } else { 5 }));
                ws.push(k);
                strides.push(s);
                dil.push(dl);
                opad.push(r.below(s.max(dl)));
                let full = s * (xs[2 + d] - 1) + dl * (k - 1) + 1 + opad[d];
                pads[d] = r.range(0, 2).min((full - 1) / 2);
                pads[d + sp] = r.range(0, 2).min((full - 1) / 2);
            }
            let x = rand(xs.iter().product(), case + 7);
            let w = rand(ws.iter().product(), case + 3000);
            let win = Window {
                kernel: vec![],
                strides: strides.clone(),
                dilations: dil.clone(),
                pads: pads.clone(),
                auto_pad: Some(AutoPad::NotSet),
            };
            let got = conv_transpose(
                &Tensor::from_f32(xs.clone(), x.clone()).unwrap(),
                &Tensor::from_f32(ws.clone(), w.clone()).unwrap(),
                None,
                &win,
                group,
                &opad,
                &[],
            )
            .unwrap();
            let (want, shape) =
                direct_transpose(&x, &xs, &w, &ws, &strides, &dil, &pads, &opad, group);
            let what =
                format!("case {case}: X {xs:?} W {ws:?} {win:?} opad {opad:?} group {group}");
            assert_eq!(got.shape(), &shape[..], "{what}");
            close(got.as_f32().unwrap(), &want, &what);
            // the same output size asked through output_shape gives the same values
            let total: Vec<usize> = shape[2..].to_vec();
            let sym = Window {
                pads: vec![],
                ..win.clone()
            };
            let by_shape = conv_transpose(
                &Tensor::from_f32(xs.clone(), x.clone()).unwrap(),
                &Tensor::from_f32(ws.clone(), w.clone()).unwrap(),
                None,
                &sym,
                group,
                &opad,
                &total,
            )
            .unwrap();
            assert_eq!(by_shape.shape(), got.shape(), "{what}");
            // output_shape crops total = begin + end pads, the larger half at the begin
            let mut split = vec![0; 2 * sp];
            for d in 0..sp {
                let t = pads[d] + pads[d + sp];
                split[d] = t - t / 2;
                split[d + sp] = t / 2;
            }
            let (want, _) =
                direct_transpose(&x, &xs, &w, &ws, &strides, &dil, &split, &opad, group);
            close(
                by_shape.as_f32().unwrap(),
                &want,
                &format!("{what} via output_shape"),
            );
            let op = |window: &Window, output_shape: &[usize]| ConvOp::ConvTranspose {
                window: window.clone(),
                group,
                output_padding: opad.clone(),
                output_shape: output_shape.to_vec(),
            };
            infer_agrees(op(&win, &[]), &[&xs, &ws], got.shape());
            infer_agrees(op(&sym, &total), &[&xs, &ws], got.shape());
        }
    }

    /// Direct N-d pooling in f64 with explicit pads (onnxruntime's rules: ceil-mode windows may
    /// not start in the end padding; `count_include_pad` counts taps inside the padded input).
    #[allow(clippy::too_many_arguments)]
    fn direct_pool(
        x: &[f32],
        xs: &[usize],
        kind: PoolKind,
        k: &[usize],
        strides: &[usize],
        dil: &[usize],
        pads: &[usize],
        ceil: bool,
    ) -> (Vec<f64>, Vec<usize>) {
        let sp = xs.len() - 2;
        let mut oshape = xs[..2].to_vec();
        for d in 0..sp {
            let eff = dil[d] * (k[d] - 1) + 1;
            let span = xs[2 + d] + pads[d] + pads[d + sp];
            let mut o = if ceil {
                (span - eff).div_ceil(strides[d]) + 1
            } else {
                (span - eff) / strides[d] + 1
            };
            if ceil && (o - 1) * strides[d] >= xs[2 + d] + pads[d] {
                o -= 1;
            }
            oshape.push(o);
        }
        let mut out = vec![0.0f64; oshape.iter().product()];
        each_index(&oshape, |oi| {
            let (mut best, mut sum, mut cnt, mut padded) =
                (f64::NEG_INFINITY, 0.0f64, 0usize, 0usize);
            each_index(k, |t| {
                let mut src = oi[..2].to_vec();
                let mut inside_pad = true;
                for d in 0..sp {
                    let i = (oi[2 + d] * strides[d] + t[d] * dil[d]) as isize - pads[d] as isize;
                    if i >= (xs[2 + d] + pads[d + sp]) as isize {
                        inside_pad = false;
                    }
                    src.push(i.max(0) as usize);
                    if i < 0 || i as usize >= xs[2 + d] {
                        src[2 + d] = usize::MAX;
                    }
                }
                padded += inside_pad as usize;
                if src.contains(&usize::MAX) {
                    return;
                }
                let v = x[flat(&src, xs)] as f64;
                best = best.max(v);
                cnt += 1;
                sum += match kind {
                    PoolKind::Lp { p } => v.abs().powf(p as f64),
                    _ => v,
                };
            });
            out[flat(oi, &oshape)] = match kind {
                PoolKind::Max => best,
                PoolKind::Average { count_include_pad } => {
                    sum / if count_include_pad { padded } else { cnt } as f64
                }
                PoolKind::Lp { p } => sum.powf(1.0 / p as f64),
            };
        });
        (out, oshape)
    }

    #[test]
    fn pools_match_direct_twin_on_random_cases() {
        let mut r = Rng(0xdead_beef_cafe_f00d);
        for case in 0..150 {
            let sp = r.range(1, 3);
            let mut xs = vec![r.range(1, 2), r.range(1, 3)];
            let (mut k, mut strides, mut dil, mut pads) = (vec![], vec![], vec![], vec![0; 2 * sp]);
            for d in 0..sp {
                let kk = r.range(1, 3);
                let dl = r.range(1, 2);
                let eff = dl * (kk - 1) + 1;
                k.push(kk);
                dil.push(dl);
                strides.push(r.range(1, 3));
                xs.push(r.range(eff, eff + if sp == 3 { 2 } else { 5 }));
                // pads smaller than the window, as ONNX asks
                pads[d] = r.below(eff.min(3));
                pads[d + sp] = r.below(eff.min(3));
            }
            let kind = [
                PoolKind::Max,
                PoolKind::Average {
                    count_include_pad: false,
                },
                PoolKind::Average {
                    count_include_pad: true,
                },
                PoolKind::Lp { p: 2.0 },
                PoolKind::Lp { p: 3.0 },
            ][r.below(5)];
            let ceil = r.below(2) == 1;
            let x = rand(xs.iter().product(), case + 11);
            let win = Window {
                kernel: k.clone(),
                strides: strides.clone(),
                dilations: dil.clone(),
                pads: pads.clone(),
                auto_pad: Some(AutoPad::NotSet),
            };
            let xt = Tensor::from_f32(xs.clone(), x.clone()).unwrap();
            let got = pool(&xt, kind, &win, ceil, Some(false)).unwrap();
            let (want, shape) = direct_pool(&x, &xs, kind, &k, &strides, &dil, &pads, ceil);
            let what = format!("case {case}: X {xs:?} {kind:?} {win:?} ceil {ceil}");
            assert_eq!(got[0].shape(), &shape[..], "{what}");
            close(got[0].as_f32().unwrap(), &want, &what);
            // without Indices (the padded max pool in 2-D): one output, the same maxima
            let alone = pool(&xt, kind, &win, ceil, None).unwrap();
            assert_eq!(
                alone.len(),
                if kind == PoolKind::Max { 1 } else { got.len() }
            );
            assert_eq!(alone[0].shape(), &shape[..], "{what}");
            close(alone[0].as_f32().unwrap(), &want, &what);
            let op = ConvOp::Pool {
                kind,
                window: win,
                ceil_mode: ceil,
                column_major_indices: false,
                indices: true,
            };
            infer_agrees(op, &[&xs], got[0].shape());
            if kind == PoolKind::Max {
                // every index points at the maximum it reports
                for (&i, &v) in got[1]
                    .as_i64()
                    .unwrap()
                    .iter()
                    .zip(got[0].as_f32().unwrap())
                {
                    assert_eq!(x[i as usize], v, "{what}");
                }
            }
        }
    }

    #[test]
    fn hostile_attributes_give_errors_not_panics() {
        let x = Tensor::from_f32(vec![1, 2, 4, 4], rand(32, 1)).unwrap();
        let w = Tensor::from_f32(vec![2, 2, 2, 2], rand(16, 2)).unwrap();
        let w0 = Tensor::from_f32(vec![2, 2, 0, 2], vec![]).unwrap();
        let huge = usize::MAX / 2;
        let wins = [
            Window {
                pads: vec![1, 1, 1],
                ..Default::default()
            },
            Window {
                pads: vec![huge, huge, huge, huge],
                ..Default::default()
            },
            Window {
                strides: vec![huge, 1],
                ..Default::default()
            },
            Window {
                dilations: vec![huge, huge],
                ..Default::default()
            },
            Window {
                kernel: vec![3, 3],
                ..Default::default()
            },
            Window {
                kernel: vec![huge, huge],
                auto_pad: Some(AutoPad::SameUpper),
                ..Default::default()
            },
            Window {
                dilations: vec![huge, 1],
                auto_pad: Some(AutoPad::SameLower),
                ..Default::default()
            },
        ];
        for win in &wins {
            let _ = conv(&x, &w, None, win, 1, None, None);
            let _ = conv(&x, &w0, None, win, 1, None, None);
            let _ = conv(&x, &w, None, win, 2, None, None);
            let _ = conv_transpose(&x, &w, None, win, 1, &[], &[]);
            let _ = conv_transpose(&x, &w, None, win, 1, &[huge, huge], &[]);
            let _ = conv_transpose(&x, &w, None, win, 2, &[], &[huge, 3]);
            let _ = conv_transpose(&x, &w, None, win, 1, &[], &[7]);
            let pw = Window {
                kernel: if win.kernel.is_empty() {
                    vec![2, 2]
                } else {
                    win.kernel.clone()
                },
                ..win.clone()
            };
            for kind in [
                PoolKind::Max,
                PoolKind::Average {
                    count_include_pad: true,
                },
                PoolKind::Lp { p: 2.0 },
            ] {
                let _ = pool(&x, kind, &pw, true, Some(true));
                let _ = pool(&x, kind, &pw, false, None);
            }
        }
        let empty = Tensor::from_f32(vec![1, 2, 0, 4], vec![]).unwrap();
        let _ = conv(&empty, &w, None, &Window::default(), 1, None, None);
        let _ = conv_transpose(&empty, &w, None, &Window::default(), 1, &[], &[]);
        let _ = global_pool(&empty, PoolKind::Max);
        let _ = pool(
            &empty,
            PoolKind::Max,
            &Window {
                kernel: vec![1, 1],
                ..Default::default()
            },
            false,
            None,
        );
        // a kernel_shape that disagrees with W is refused
        assert!(conv_transpose(&x, &w, None, &wins[4], 1, &[], &[]).is_err());
    }
}
