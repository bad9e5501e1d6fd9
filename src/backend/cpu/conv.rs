//! CPU kernels of the convolution and pooling family, for any number of spatial dims.
//!
//! Conv is im2col + GEMM per (batch, group) through [`gemm_strided`], except depthwise 2-D
//! convolutions (one input channel per group), which accumulate each tap straight into the output
//! rows; a fused activation ([`ConvAct`]) is applied to each output block while it is in cache.
//! ConvTranspose is GEMM + col2im. Pools walk each window directly (2-D max and average pools
//! with direct loops, other ranks through a tap table).

use super::linalg::gemm_strided;
use super::util::{input, next_index, opt_input};
use crate::error::{Error, Result};
use crate::ir::ops::conv::{AutoPad, ConvAct, ConvOp, PoolKind, Window};
use crate::tensor::{numel_checked, Tensor};

pub fn run(op: &ConvOp, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
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
        } => {
            if x.dtype() == crate::tensor::DType::F32 {
                pool(x, *kind, window, *ceil_mode, *column_major_indices)?
            } else {
                // integer pools (MaxPool on uint8/int8) compute exactly in f32
                let xf = super::math::cast(x, crate::tensor::DType::F32)?;
                let mut r = pool(&xf, *kind, window, *ceil_mode, *column_major_indices)?;
                r[0] = super::math::cast(&r[0], x.dtype())?;
                r
            }
        }
        ConvOp::GlobalPool { kind } => vec![global_pool(x, *kind)?],
    })
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

/// im2col of one 2-D plane: rows (kh, kw), columns (oh, ow); stride-1 rows are slice copies.
fn im2col_2d(plane: &[f32], g: &[Dim1], col: &mut [f32]) {
    let (h, w) = (g[0], g[1]);
    let out_sp = h.output * w.output;
    for kh in 0..h.kernel {
        for kw in 0..w.kernel {
            let row = &mut col[(kh * w.kernel + kw) * out_sp..(kh * w.kernel + kw + 1) * out_sp];
            // valid output columns: 0 <= ow*s + kw*d - p < W
            let off = (kw * w.dilation) as isize - w.pad_begin as isize;
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
            for oh in 0..h.output {
                let dst = &mut row[oh * w.output..(oh + 1) * w.output];
                let Some(ih) = h.source(oh, kh) else {
                    dst.fill(0.0);
                    continue;
                };
                dst[..lo].fill(0.0);
                dst[hi..].fill(0.0);
                // no valid column: this tap reads only padding (a window wider than the input).
                // `first` below would then point before or past the row.
                if lo == hi {
                    continue;
                }
                let src = &plane[ih * w.input..(ih + 1) * w.input];
                // lo is the first column with ow*s + off >= 0, so this is an index into the row,
                // and hi the first with ow*s + off >= W, so the last read is inside it
                let first = (lo as isize * s + off) as usize;
                if w.stride == 1 {
                    dst[lo..hi].copy_from_slice(&src[first..first + (hi - lo)]);
                } else {
                    for (k, d) in dst[lo..hi].iter_mut().enumerate() {
                        *d = src[first + k * w.stride];
                    }
                }
            }
        }
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
            .for_each(|x| *x *= (*x / 6.0 + 0.5).clamp(0.0, 1.0)),
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
/// bias or zeros): every tap adds `weight · input row` to the output row it reaches, so each
/// output row stays in L1 for all of its taps and no im2col buffer is written.
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

fn conv(
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    win: &Window,
    group: usize,
    act: Option<ConvAct>,
) -> Result<Tensor> {
    let (xs, ws) = (x.shape(), w.shape());
    if xs.len() < 3 || ws.len() != xs.len() {
        return Err(Error::shape(format!(
            "Conv: X {xs:?} and W {ws:?} must both have rank >= 3 and equal rank"
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
    // N-d (not 2-D) im2col reads through a tap table: (out, tap) → input offset or MAX (padding)
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
        for bi in 0..n {
            for oc in 0..m {
                let plane = &xv[(bi * c + oc / mg) * in_sp..(bi * c + oc / mg + 1) * in_sp];
                let dst = &mut out[(bi * m + oc) * out_sp..(bi * m + oc + 1) * out_sp];
                if let Some(bias) = bias {
                    dst.fill(bias[oc]);
                }
                depthwise_2d(plane, &g, &wv[oc * taps..(oc + 1) * taps], dst);
                apply_act(act, dst);
            }
        }
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
                        im2col_2d(
                            plane,
                            &g,
                            &mut col[ch * taps * out_sp..(ch + 1) * taps * out_sp],
                        );
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
    // for each (input position, tap): the output spatial offset or usize::MAX when cropped
    let mut table = vec![usize::MAX; numel_checked(&[in_sp, taps])?];
    {
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

fn pool(
    x: &Tensor,
    kind: PoolKind,
    win: &Window,
    ceil_mode: bool,
    col_major: bool,
) -> Result<Vec<Tensor>> {
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
    if g.len() == 2 && !matches!(kind, PoolKind::Lp { .. }) {
        return pool_2d(x.as_f32()?, n * c, &g, kind, col_major, out_shape, total);
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
                    for &t in taps_of {
                        if t != usize::MAX && (src[t] > best || at == usize::MAX) {
                            best = src[t];
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
    if kind == PoolKind::Max {
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
                            if v > *b || *a == usize::MAX {
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
            let x = rand(xs.iter().product(), 7);
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
            )
            .unwrap();
            let (want, shape) = direct(&x, xs, &w, ws, stride, pad, dil, group);
            assert_eq!(got.shape(), &shape);
            for (g, w) in got.as_f32().unwrap().iter().zip(&want) {
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
            let plain = conv(&x, &w, Some(&b), &win, group, None).unwrap();
            for (act, op) in &acts {
                let fused = conv(&x, &w, Some(&b), &win, group, Some(*act)).unwrap();
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
        let r = pool(&x, PoolKind::Max, &win, false, false).unwrap();
        assert_eq!(r[0].as_f32().unwrap(), &[4.0]);
        assert_eq!(r[1].as_i64().unwrap(), &[1]);
        let r = pool(&x, PoolKind::Max, &win, false, true).unwrap();
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
            let got = pool(
                &Tensor::from_f32(xs.clone(), x.clone()).unwrap(),
                kind,
                &win,
                ceil,
                false,
            )
            .unwrap();
            let (want, shape) = direct_pool(&x, &xs, kind, &k, &strides, &dil, &pads, ceil);
            let what = format!("case {case}: X {xs:?} {kind:?} {win:?} ceil {ceil}");
            assert_eq!(got[0].shape(), &shape[..], "{what}");
            close(got[0].as_f32().unwrap(), &want, &what);
            let op = ConvOp::Pool {
                kind,
                window: win,
                ceil_mode: ceil,
                column_major_indices: false,
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
            let _ = conv(&x, &w, None, win, 1, None);
            let _ = conv(&x, &w0, None, win, 1, None);
            let _ = conv(&x, &w, None, win, 2, None);
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
                let _ = pool(&x, kind, &pw, true, true);
                let _ = pool(&x, kind, &pw, false, false);
            }
        }
        let empty = Tensor::from_f32(vec![1, 2, 0, 4], vec![]).unwrap();
        let _ = conv(&empty, &w, None, &Window::default(), 1, None);
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
            false,
        );
        // a kernel_shape that disagrees with W is refused
        assert!(conv_transpose(&x, &w, None, &wins[4], 1, &[], &[]).is_err());
    }
}
