//! CPU kernels of the image and detection family. Resize is separable: one pass per resized
//! axis, innermost first (which is what the ONNX reference's nesting computes, extrapolated
//! values of `tf_crop_and_resize` included), each output coordinate with its precomputed taps.
//! Interpolation accumulates in f64; nearest-neighbour on f32 is one gather
//! ([`resize_nearest_f32`]).

use super::util::{input, norm_axis, opt_input};
use crate::error::{Error, Result};
use crate::ir::ops::image::{
    AspectPolicy, CoordMode, GridPadding, ImageOp, Interp, NearestMode, ResizeAttrs,
};
use crate::tensor::{numel_checked, strides, DType, Tensor, TensorData};

pub fn run(op: &ImageOp, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    let x = input(inputs, 0, "X")?;
    Ok(vec![match op {
        ImageOp::Resize(a) => resize(x, a, inputs)?,
        ImageOp::GridSample {
            mode,
            padding,
            align_corners,
        } => grid_sample(
            x,
            input(inputs, 1, "grid")?,
            *mode,
            *padding,
            *align_corners,
        )?,
        ImageOp::AffineGrid { align_corners } => {
            affine_grid(x, input(inputs, 1, "size")?, *align_corners)?
        }
        ImageOp::Col2Im {
            dilations,
            pads,
            strides,
        } => col2im(
            x,
            input(inputs, 1, "image_shape")?,
            input(inputs, 2, "block_shape")?,
            dilations.as_deref(),
            pads.as_deref(),
            strides.as_deref(),
        )?,
        ImageOp::CenterCropPad { axes } => {
            center_crop_pad(x, input(inputs, 1, "shape")?, axes.as_deref())?
        }
        ImageOp::RoiAlign {
            max,
            output_height,
            output_width,
            sampling_ratio,
            spatial_scale,
            half_pixel,
        } => roi_align(
            x,
            input(inputs, 1, "rois")?,
            input(inputs, 2, "batch_indices")?,
            &RoiParams {
                max: *max,
                oh: *output_height,
                ow: *output_width,
                sampling: *sampling_ratio,
                scale: *spatial_scale,
                offset: if *half_pixel { 0.5 } else { 0.0 },
                half_pixel: *half_pixel,
            },
        )?,
        ImageOp::NonMaxSuppression { center_point_box } => {
            non_max_suppression(x, input(inputs, 1, "scores")?, inputs, *center_point_box)?
        }
    }])
}

/// Values as f64 for interpolation, and back to the input's dtype (integers rounded and
/// saturated).
fn to_f64(x: &Tensor) -> Result<Vec<f64>> {
    match x.dtype() {
        DType::Bool => Err(Error::dtype("interpolation does not take bool input")),
        _ => Ok(x.to_f64_vec()),
    }
}

fn from_f64(dtype: DType, shape: Vec<usize>, v: Vec<f64>) -> Result<Tensor> {
    let data = match dtype {
        DType::I64 => TensorData::I64(v.iter().map(|&x| x.round() as i64).collect()),
        DType::I32 => TensorData::I32(v.iter().map(|&x| x.round() as i32).collect()),
        DType::I8 => TensorData::I8(v.iter().map(|&x| x.round() as i8).collect()),
        DType::U8 => TensorData::U8(v.iter().map(|&x| x.round() as u8).collect()),
        _ => TensorData::F32(v.iter().map(|&x| x as f32).collect()),
    };
    Tensor::new(shape, data)
}

/// One output coordinate of a resized axis: weighted input indices, or the extrapolation value.
enum Taps {
    Weights(Vec<(usize, f64)>),
    Outside,
}

fn cubic_coeffs(r: f64, a: f64) -> [f64; 4] {
    let k = |x: f64| {
        let x = x.abs();
        if x <= 1.0 {
            ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
        } else if x < 2.0 {
            ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
        } else {
            0.0
        }
    };
    [k(r + 1.0), k(r), k(1.0 - r), k(2.0 - r)]
}

/// The taps of output coordinate `x` on an axis of `len_in` inputs resized by `scale` to
/// `len_out` outputs.
#[allow(clippy::too_many_arguments)]
fn taps(
    a: &ResizeAttrs,
    x: usize,
    len_in: usize,
    len_out: usize,
    scale: f64,
    roi: (f64, f64),
) -> Taps {
    let (xf, lin) = (x as f64, len_in as f64);
    let out_w = scale * lin;
    let xo = match a.coord {
        // as the ONNX reference: the output length here is `scale · len_in`, not rounded
        CoordMode::AlignCorners => {
            if out_w == 1.0 {
                0.0
            } else {
                xf * (lin - 1.0) / (out_w - 1.0)
            }
        }
        CoordMode::Asymmetric => xf / scale,
        CoordMode::TfHalfPixelForNn => (xf + 0.5) / scale,
        CoordMode::TfCropAndResize => {
            let v = if out_w == 1.0 {
                (roi.1 - roi.0) * (lin - 1.0) / 2.0
            } else {
                xf * (roi.1 - roi.0) * (lin - 1.0) / (out_w - 1.0)
            } + roi.0 * (lin - 1.0);
            if v < 0.0 || v > lin - 1.0 {
                return Taps::Outside;
            }
            v
        }
        CoordMode::PytorchHalfPixel => {
            if out_w == 1.0 {
                -0.5
            } else {
                (xf + 0.5) / scale - 0.5
            }
        }
        CoordMode::HalfPixel => (xf + 0.5) / scale - 0.5,
        CoordMode::HalfPixelSymmetric => {
            let adjustment = len_out as f64 / out_w;
            let center = lin / 2.0;
            center * (1.0 - adjustment) + (xf + 0.5) / scale - 0.5
        }
    };
    let clamp = |i: i64| i.clamp(0, len_in as i64 - 1) as usize;
    if a.mode == Interp::Nearest {
        let i = match a.nearest {
            _ if xo.fract() == 0.0 => xo as i64,
            NearestMode::RoundPreferFloor => (xo - 0.5).ceil() as i64,
            NearestMode::RoundPreferCeil => (xo + 0.5).floor() as i64,
            NearestMode::Floor => xo.floor() as i64,
            NearestMode::Ceil => xo.ceil() as i64,
        };
        return Taps::Weights(vec![(clamp(i), 1.0)]);
    }
    // base: the input index left of xo (xo itself minus one when integral), ratio in (0, 1]
    let base = xo.ceil() as i64 - 1;
    let ratio = xo - base as f64;
    let s = scale.min(1.0);
    let (start, coeffs): (i64, Vec<f64>) = match (a.mode, a.antialias && scale < 1.0) {
        (Interp::Linear, false) => (0, vec![1.0 - ratio, ratio]),
        (Interp::Cubic, false) => (-1, cubic_coeffs(ratio, a.cubic_a as f64).to_vec()),
        (Interp::Linear, true) => {
            let start = (-1.0 / s).floor() as i64 + 1;
            let n = 2 - 2 * start;
            let c = (0..n)
                .map(|j| (1.0 - (((start + j) as f64 - ratio) * s).abs()).clamp(0.0, 1.0))
                .collect();
            (start, c)
        }
        (_, true) => {
            let start = (-2.0 / s).floor() as i64 + 1;
            let n = 2 - 2 * start;
            let aa = a.cubic_a as f64;
            let k = |x: f64| {
                let x = x.abs();
                if x <= 1.0 {
                    (aa + 2.0) * x * x * x - (aa + 3.0) * x * x + 1.0
                } else if x < 2.0 {
                    aa * x * x * x - 5.0 * aa * x * x + 8.0 * aa * x - 4.0 * aa
                } else {
                    0.0
                }
            };
            let c = (0..n)
                .map(|j| k(s * ((start + j) as f64 - ratio)))
                .collect();
            (start, c)
        }
        (Interp::Nearest, _) => unreachable!("nearest returned above"),
    };
    let mut w: Vec<(i64, f64)> = coeffs
        .into_iter()
        .enumerate()
        .map(|(j, c)| (base + start + j as i64, c))
        .collect();
    if a.antialias && scale < 1.0 {
        let sum: f64 = w.iter().map(|p| p.1).sum();
        w.iter_mut().for_each(|p| p.1 /= sum);
    }
    if a.exclude_outside {
        for p in &mut w {
            if p.0 < 0 || p.0 >= len_in as i64 {
                p.1 = 0.0;
            }
        }
        let sum: f64 = w.iter().map(|p| p.1).sum();
        if sum != 0.0 {
            w.iter_mut().for_each(|p| p.1 /= sum);
        }
    }
    Taps::Weights(w.into_iter().map(|(i, c)| (clamp(i), c)).collect())
}

fn resize(x: &Tensor, a: &ResizeAttrs, inputs: &[Option<&Tensor>]) -> Result<Tensor> {
    let r = x.rank();
    let in_shape = x.shape().to_vec();
    let axes: Vec<usize> = match &a.axes {
        Some(ax) => ax.iter().map(|&v| norm_axis(v, r)).collect::<Result<_>>()?,
        None => (0..r).collect(),
    };
    let nonempty = |i: usize| opt_input(inputs, i).filter(|t| t.numel() > 0);
    let scales_in: Option<Vec<f64>> = match &a.scales {
        Some(s) => Some(s.iter().map(|&v| v as f64).collect()),
        None => nonempty(a.scales_input).map(|t| t.to_f64_vec()),
    };
    let sizes_in = if a.scales_input == 2 {
        nonempty(3).map(|t| t.to_i64_vec())
    } else {
        None
    };
    let n = axes.len();
    let mut scales = vec![1.0f64; r];
    let mut out_shape = in_shape.clone();
    match (scales_in, sizes_in) {
        (Some(s), None) => {
            if s.len() != n {
                return Err(Error::shape(format!(
                    "Resize: {} scales for {n} axes",
                    s.len()
                )));
            }
            for (k, &ax) in axes.iter().enumerate() {
                if !(s[k] > 0.0) {
                    return Err(Error::shape(format!(
                        "Resize: scale {} must be positive",
                        s[k]
                    )));
                }
                scales[ax] = s[k];
                let o = (s[k] * in_shape[ax] as f64).floor();
                if o > crate::tensor::MAX_ELEMENTS as f64 {
                    return Err(Error::Limit(format!("Resize to {o} along axis {ax}")));
                }
                out_shape[ax] = o as usize;
            }
        }
        (None, Some(sz)) => {
            if sz.len() != n || sz.iter().any(|&v| v < 0) {
                return Err(Error::shape(format!(
                    "Resize: sizes {sz:?} for {n} axes (non-negative)"
                )));
            }
            let ratio = |k: usize| sz[k] as f64 / in_shape[axes[k]] as f64;
            match a.policy {
                AspectPolicy::Stretch => {
                    for (k, &ax) in axes.iter().enumerate() {
                        scales[ax] = ratio(k);
                        out_shape[ax] = sz[k] as usize;
                    }
                }
                p => {
                    let rs = (0..n).map(ratio);
                    let s = if p == AspectPolicy::NotLarger {
                        rs.fold(f64::INFINITY, f64::min)
                    } else {
                        rs.fold(0.0, f64::max)
                    };
                    for &ax in &axes {
                        scales[ax] = s;
                        out_shape[ax] = (s * in_shape[ax] as f64).round() as usize;
                    }
                }
            }
        }
        (Some(_), Some(_)) => {
            return Err(Error::shape(
                "Resize: give either scales or sizes, not both",
            ))
        }
        (None, None) => return Err(Error::shape("Resize: needs scales or sizes")),
    }
    numel_checked(&out_shape)?;
    // roi: [starts…, ends…] over `axes` (all axes without `axes`)
    let mut roi = vec![(0.0f64, 1.0f64); r];
    if a.coord == CoordMode::TfCropAndResize {
        if let Some(t) = nonempty(1) {
            let v = t.to_f64_vec();
            if v.len() != 2 * n {
                return Err(Error::shape(format!(
                    "Resize: roi has {} values, expected {}",
                    v.len(),
                    2 * n
                )));
            }
            for (k, &ax) in axes.iter().enumerate() {
                roi[ax] = (v[k], v[k + n]);
            }
        }
    }
    if let (Interp::Nearest, TensorData::F32(xv)) = (a.mode, x.data()) {
        return resize_nearest_f32(xv, a, &in_shape, out_shape, &scales, &roi);
    }
    let mut cur = to_f64(x)?;
    let mut shape = in_shape.clone();
    for ax in (0..r).rev() {
        let (li, lo) = (shape[ax], out_shape[ax]);
        if identity_axis(a, li, lo, scales[ax]) {
            continue;
        }
        if li == 0 {
            return Err(Error::shape(format!("Resize: axis {ax} is empty")));
        }
        let t: Vec<Taps> = (0..lo)
            .map(|o| taps(a, o, li, lo, scales[ax], roi[ax]))
            .collect();
        let outer: usize = shape[..ax].iter().product();
        let inner: usize = shape[ax + 1..].iter().product();
        let mut next = vec![0.0f64; outer * lo * inner];
        for o in 0..outer {
            for (xo, tap) in t.iter().enumerate() {
                let dst = &mut next[(o * lo + xo) * inner..(o * lo + xo + 1) * inner];
                match tap {
                    Taps::Outside => dst.fill(a.extrapolation as f64),
                    Taps::Weights(w) => {
                        for &(i, c) in w {
                            let src = &cur[(o * li + i) * inner..(o * li + i + 1) * inner];
                            for (d, s) in dst.iter_mut().zip(src) {
                                *d += c * s;
                            }
                        }
                    }
                }
            }
        }
        cur = next;
        shape[ax] = lo;
    }
    from_f64(x.dtype(), out_shape, cur)
}

/// Whether a Resize leaves axis `ax` as it is (no taps computed): same length, scale 1, and a
/// coordinate mode that maps each output onto its own input.
fn identity_axis(a: &ResizeAttrs, li: usize, lo: usize, scale: f64) -> bool {
    li == lo
        && scale == 1.0
        && a.coord != CoordMode::TfCropAndResize
        && a.coord != CoordMode::TfHalfPixelForNn
}

/// Nearest-neighbour Resize of f32 as one gather: per axis, each output coordinate's input
/// offset from the same [`taps`] as the separable path (or the extrapolation value, outside
/// `tf_crop_and_resize`'s roi), then each output row gathered along the last axis; a row whose
/// source is the previous row's (upsampling along an outer axis) is copied from it. The values
/// are the separable path's (which adds `1.0 · x` in f64), but for a −0 kept as −0.
fn resize_nearest_f32(
    xv: &[f32],
    a: &ResizeAttrs,
    in_shape: &[usize],
    out_shape: Vec<usize>,
    scales: &[f64],
    roi: &[(f64, f64)],
) -> Result<Tensor> {
    let r = in_shape.len();
    let st = strides(in_shape);
    let mut maps: Vec<Vec<usize>> = Vec::with_capacity(r);
    for ax in 0..r {
        let (li, lo) = (in_shape[ax], out_shape[ax]);
        let map = if identity_axis(a, li, lo, scales[ax]) {
            (0..lo).map(|o| o * st[ax]).collect()
        } else {
            if li == 0 {
                return Err(Error::shape(format!("Resize: axis {ax} is empty")));
            }
            (0..lo)
                .map(|o| match taps(a, o, li, lo, scales[ax], roi[ax]) {
                    Taps::Weights(w) => w[0].0 * st[ax],
                    Taps::Outside => usize::MAX,
                })
                .collect()
        };
        maps.push(map);
    }
    let total = numel_checked(&out_shape)?;
    let extrap = a.extrapolation;
    let Some((last, outer)) = maps.split_last() else {
        return Tensor::from_f32(out_shape, xv.to_vec());
    };
    let mut out: Vec<f32> = Vec::with_capacity(total);
    let width = last.len();
    if width > 0 {
        let mut idx = vec![0usize; r - 1];
        let mut prev: Option<Option<usize>> = None;
        for _ in 0..total / width {
            // the row's input offset, None when some outer coordinate lies outside
            let base = idx
                .iter()
                .zip(outer)
                .try_fold(0usize, |s, (&i, m)| (m[i] != usize::MAX).then(|| s + m[i]));
            let start = out.len();
            match base {
                _ if prev == Some(base) => out.extend_from_within(start - width..start),
                None => out.resize(start + width, extrap),
                Some(b) => {
                    out.extend(last.iter().map(
                        |&m| {
                            if m == usize::MAX {
                                extrap
                            } else {
                                xv[b + m]
                            }
                        },
                    ))
                }
            }
            prev = Some(base);
            super::util::next_index(&mut idx, |d| out_shape[d]);
        }
    }
    Tensor::from_f32(out_shape, out)
}

/// Denormalises a grid coordinate in [-1, 1] to the input's pixel coordinates.
fn denormalize(v: f64, len: usize, align_corners: bool) -> f64 {
    let l = len as f64;
    if align_corners {
        (v + 1.0) / 2.0 * (l - 1.0)
    } else {
        ((v + 1.0) * l - 1.0) / 2.0
    }
}

/// Reflects `x` into `[lo, hi]`.
fn reflect(x: f64, lo: f64, hi: f64) -> f64 {
    let range = hi - lo;
    if range <= 0.0 {
        return lo;
    }
    if x < lo {
        let dx = lo - x;
        let n = (dx / range) as i64;
        let r = dx - n as f64 * range;
        if n % 2 == 0 {
            lo + r
        } else {
            hi - r
        }
    } else if x > hi {
        let dx = x - hi;
        let n = (dx / range) as i64;
        let r = dx - n as f64 * range;
        if n % 2 == 0 {
            hi - r
        } else {
            lo + r
        }
    } else {
        x
    }
}

fn grid_sample(
    x: &Tensor,
    grid: &Tensor,
    mode: Interp,
    padding: GridPadding,
    align: bool,
) -> Result<Tensor> {
    let r = x.rank();
    if r < 3 || grid.rank() != r || grid.shape()[0] != x.shape()[0] || grid.shape()[r - 1] != r - 2
    {
        return Err(Error::shape(format!(
            "GridSample: X {:?} needs a grid of shape [N, out…, {}], got {:?}",
            x.shape(),
            r.saturating_sub(2),
            grid.shape()
        )));
    }
    let (n, c) = (x.shape()[0], x.shape()[1]);
    let dims: Vec<usize> = x.shape()[2..].to_vec();
    let nd = dims.len();
    let out_sp: Vec<usize> = grid.shape()[1..r - 1].to_vec();
    let n_out: usize = out_sp.iter().product();
    let n_in: usize = dims.iter().product();
    let xv = to_f64(x)?;
    let g = grid.to_f64_vec();
    let st = strides(&dims);
    let (lo, hi): (Vec<f64>, Vec<f64>) = dims
        .iter()
        .map(|&d| {
            if align {
                (0.0, d as f64 - 1.0)
            } else {
                (-0.5, d as f64 - 0.5)
            }
        })
        .unzip();
    // the input index that integer coordinate `i` on dim `d` reads (None: a zero)
    let fetch = |i: i64, d: usize| -> Option<usize> {
        let len = dims[d] as i64;
        match padding {
            GridPadding::Zeros => (0..len).contains(&i).then_some(i as usize),
            GridPadding::Border => Some(i.clamp(0, len - 1) as usize),
            GridPadding::Reflection => {
                Some((reflect(i as f64, lo[d], hi[d]) as i64).clamp(0, len - 1) as usize)
            }
        }
    };
    let mut out = vec![0.0f64; n * c * n_out];
    let mut taps: Vec<Vec<(Option<usize>, f64)>> = vec![Vec::new(); nd];
    for b in 0..n {
        for p in 0..n_out {
            let gp = &g[(b * n_out + p) * nd..(b * n_out + p + 1) * nd];
            for d in 0..nd {
                // the grid's last axis lists coordinates innermost dim first (x, y, z)
                let mut v = denormalize(gp[nd - 1 - d], dims[d], align);
                if mode == Interp::Nearest {
                    v = round_half_even(v);
                }
                if v < lo[d] || v > hi[d] {
                    v = match padding {
                        GridPadding::Border => v.clamp(0.0, dims[d] as f64 - 1.0),
                        GridPadding::Reflection => reflect(v, lo[d], hi[d]),
                        GridPadding::Zeros => v,
                    };
                }
                taps[d] = match mode {
                    Interp::Nearest => vec![(fetch(v as i64, d), 1.0)],
                    Interp::Linear => {
                        let f = v.floor();
                        let t = v - f;
                        vec![(fetch(f as i64, d), 1.0 - t), (fetch(f as i64 + 1, d), t)]
                    }
                    Interp::Cubic => {
                        let f = v.floor();
                        let cs = cubic_coeffs(v - f, -0.75);
                        (0..4)
                            .map(|k| (fetch(f as i64 - 1 + k as i64, d), cs[k]))
                            .collect()
                    }
                };
            }
            // every combination of one tap per dim
            let counts: Vec<usize> = taps.iter().map(|t| t.len()).collect();
            let total: usize = counts.iter().product();
            for ch in 0..c {
                let base = (b * c + ch) * n_in;
                let mut acc = 0.0;
                for combo in 0..total {
                    let (mut rem, mut w, mut off) = (combo, 1.0, Some(0usize));
                    for d in (0..nd).rev() {
                        let (idx, cw) = taps[d][rem % counts[d]];
                        rem /= counts[d];
                        w *= cw;
                        off = off.zip(idx).map(|(o, i)| o + i * st[d]);
                    }
                    if let Some(o) = off {
                        acc += w * xv[base + o];
                    }
                }
                out[(b * c + ch) * n_out + p] = acc;
            }
        }
    }
    let mut shape = vec![n, c];
    shape.extend_from_slice(&out_sp);
    from_f64(x.dtype(), shape, out)
}

fn round_half_even(v: f64) -> f64 {
    let r = v.round();
    if (v - v.trunc()).abs() == 0.5 {
        2.0 * (v / 2.0).round()
    } else {
        r
    }
}

fn affine_grid(theta: &Tensor, size: &Tensor, align: bool) -> Result<Tensor> {
    let size = size.to_i64_vec();
    let nd = size.len().saturating_sub(2);
    if !(nd == 2 || nd == 3) || theta.shape() != [size[0] as usize, nd, nd + 1] {
        return Err(Error::shape(format!(
            "AffineGrid: size {size:?} needs theta of shape [N, {nd}, {}], got {:?}",
            nd + 1,
            theta.shape()
        )));
    }
    if size.iter().any(|&v| v < 0) {
        return Err(Error::shape(format!("AffineGrid: negative size {size:?}")));
    }
    let n = size[0] as usize;
    let sp: Vec<usize> = size[2..].iter().map(|&v| v as usize).collect();
    let base = |i: usize, len: usize| -> f64 {
        if align {
            if len <= 1 {
                -1.0
            } else {
                -1.0 + 2.0 * i as f64 / (len as f64 - 1.0)
            }
        } else {
            (2.0 * i as f64 + 1.0) / len as f64 - 1.0
        }
    };
    let th = theta.to_f64_vec();
    let pts: usize = sp.iter().product();
    let mut shape = vec![n];
    shape.extend_from_slice(&sp);
    shape.push(nd);
    numel_checked(&shape)?;
    let st = strides(&sp);
    let mut out = Vec::with_capacity(n * pts * nd);
    for b in 0..n {
        let t = &th[b * nd * (nd + 1)..(b + 1) * nd * (nd + 1)];
        for p in 0..pts {
            // homogeneous coordinates, innermost dim first: (x, y[, z], 1)
            let mut h = vec![1.0; nd + 1];
            for d in 0..nd {
                h[nd - 1 - d] = base((p / st[d]) % sp[d], sp[d]);
            }
            for row in 0..nd {
                out.push((0..=nd).map(|k| t[row * (nd + 1) + k] * h[k]).sum::<f64>());
            }
        }
    }
    from_f64(theta.dtype(), shape, out)
}

fn col2im(
    x: &Tensor,
    image: &Tensor,
    block: &Tensor,
    dil: Option<&[i64]>,
    pads: Option<&[i64]>,
    strd: Option<&[i64]>,
) -> Result<Tensor> {
    let img = image.to_i64_vec();
    let blk = block.to_i64_vec();
    let nd = img.len();
    let ones = vec![1i64; nd];
    let zeros = vec![0i64; 2 * nd];
    let dil = dil.unwrap_or(&ones);
    let strd = strd.unwrap_or(&ones);
    let pads = pads.unwrap_or(&zeros);
    if blk.len() != nd || dil.len() != nd || strd.len() != nd || pads.len() != 2 * nd {
        return Err(Error::shape(format!(
            "Col2Im: image_shape {img:?}, block_shape {blk:?}, dilations, strides and pads disagree in rank"
        )));
    }
    if img.iter().chain(&blk).any(|&v| v <= 0) || dil.iter().chain(strd).any(|&v| v <= 0) {
        return Err(Error::shape(format!(
            "Col2Im: image_shape {img:?}, block_shape {blk:?}, strides and dilations must be positive"
        )));
    }
    let kprod: usize = blk.iter().map(|&v| v as usize).product();
    if x.rank() != 3 || x.shape()[1] % kprod != 0 {
        return Err(Error::shape(format!(
            "Col2Im: input {:?} must be [N, C·{kprod}, L]",
            x.shape()
        )));
    }
    let (n, c) = (x.shape()[0], x.shape()[1] / kprod);
    // blocks per dim
    let nblk: Vec<i64> = (0..nd)
        .map(|d| (img[d] + pads[d] + pads[d + nd] - dil[d] * (blk[d] - 1) - 1) / strd[d] + 1)
        .collect();
    let l: i64 = nblk.iter().product();
    if nblk.iter().any(|&v| v <= 0) || l as usize != x.shape()[2] {
        return Err(Error::shape(format!(
            "Col2Im: input has {} blocks, the image and block shapes give {nblk:?}",
            x.shape()[2]
        )));
    }
    let img_u: Vec<usize> = img.iter().map(|&v| v as usize).collect();
    let ip: usize = img_u.iter().product();
    let mut shape = vec![n, c];
    shape.extend_from_slice(&img_u);
    numel_checked(&shape)?;
    let xv = to_f64(x)?;
    let (ist, bst, kst) = (
        strides(&img_u),
        strides(&nblk.iter().map(|&v| v as usize).collect::<Vec<_>>()),
        strides(&blk.iter().map(|&v| v as usize).collect::<Vec<_>>()),
    );
    let mut out = vec![0.0f64; n * c * ip];
    let l = l as usize;
    for b in 0..n {
        for ch in 0..c {
            for k in 0..kprod {
                for j in 0..l {
                    let mut off = Some(0usize);
                    for d in 0..nd {
                        let kd = ((k / kst[d]) % blk[d] as usize) as i64;
                        let jd = ((j / bst[d]) % nblk[d] as usize) as i64;
                        let pos = jd * strd[d] - pads[d] + kd * dil[d];
                        off = off
                            .filter(|_| (0..img[d]).contains(&pos))
                            .map(|o| o + pos as usize * ist[d]);
                    }
                    if let Some(o) = off {
                        out[(b * c + ch) * ip + o] += xv[((b * c + ch) * kprod + k) * l + j];
                    }
                }
            }
        }
    }
    from_f64(x.dtype(), shape, out)
}

fn center_crop_pad(x: &Tensor, shape: &Tensor, axes: Option<&[i64]>) -> Result<Tensor> {
    let r = x.rank();
    let axes: Vec<usize> = match axes {
        Some(a) => a.iter().map(|&v| norm_axis(v, r)).collect::<Result<_>>()?,
        None => (0..r).collect(),
    };
    let want = shape.to_i64_vec();
    if want.len() != axes.len() || want.iter().any(|&v| v < 0) {
        return Err(Error::shape(format!(
            "CenterCropPad: shape {want:?} for axes {axes:?}"
        )));
    }
    let mut out_shape = x.shape().to_vec();
    // per axis: output index o reads input index o + shift (when in range)
    let mut shift = vec![0i64; r];
    for (k, &ax) in axes.iter().enumerate() {
        let (d, t) = (x.shape()[ax] as i64, want[k]);
        shift[ax] = if t <= d { (d - t) / 2 } else { -((t - d) / 2) };
        out_shape[ax] = t as usize;
    }
    let n = numel_checked(&out_shape)?;
    let (ist, ost) = (strides(x.shape()), strides(&out_shape));
    let src: Vec<Option<usize>> = (0..n)
        .map(|flat| {
            let mut off = Some(0usize);
            for d in 0..r {
                let i = ((flat / ost[d]) % out_shape[d]) as i64 + shift[d];
                off = off
                    .filter(|_| (0..x.shape()[d] as i64).contains(&i))
                    .map(|o| o + i as usize * ist[d]);
            }
            off
        })
        .collect();
    let data = crate::map_data!(x.data(), v => src
        .iter()
        .map(|s| s.map_or_else(Default::default, |s| v[s].clone()))
        .collect());
    Tensor::new(out_shape, data)
}

struct RoiParams {
    max: bool,
    oh: usize,
    ow: usize,
    sampling: usize,
    scale: f32,
    offset: f64,
    half_pixel: bool,
}

fn roi_align(x: &Tensor, rois: &Tensor, idx: &Tensor, p: &RoiParams) -> Result<Tensor> {
    if x.rank() != 4 || rois.rank() != 2 || rois.shape()[1] != 4 {
        return Err(Error::shape(format!(
            "RoiAlign: X {:?} must be [N, C, H, W] and rois {:?} [R, 4]",
            x.shape(),
            rois.shape()
        )));
    }
    let nr = rois.shape()[0];
    let bi = idx.to_i64_vec();
    if bi.len() != nr {
        return Err(Error::shape(format!(
            "RoiAlign: {} batch indices for {nr} rois",
            bi.len()
        )));
    }
    let (n, c, h, w) = (x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3]);
    let xv = to_f64(x)?;
    let rv = rois.to_f64_vec();
    let shape = vec![nr, c, p.oh, p.ow];
    numel_checked(&shape)?;
    let mut out = vec![0.0f64; nr * c * p.oh * p.ow];
    let sc = p.scale as f64;
    for ri in 0..nr {
        let b = bi[ri];
        if b < 0 || b as usize >= n {
            return Err(Error::shape(format!(
                "RoiAlign: batch index {b} is out of range [0, {n})"
            )));
        }
        let b = b as usize;
        let r = &rv[ri * 4..ri * 4 + 4];
        let (x1, y1) = (r[0] * sc - p.offset, r[1] * sc - p.offset);
        let (x2, y2) = (r[2] * sc - p.offset, r[3] * sc - p.offset);
        let (mut rw, mut rh) = (x2 - x1, y2 - y1);
        if !p.half_pixel {
            rw = rw.max(1.0);
            rh = rh.max(1.0);
        }
        let (bh, bw) = (rh / p.oh as f64, rw / p.ow as f64);
        let gh = if p.sampling > 0 {
            p.sampling
        } else {
            (rh / p.oh as f64).ceil().max(0.0) as usize
        };
        let gw = if p.sampling > 0 {
            p.sampling
        } else {
            (rw / p.ow as f64).ceil().max(0.0) as usize
        };
        let count = (gh * gw).max(1) as f64;
        for ph in 0..p.oh {
            for pw in 0..p.ow {
                // bilinear taps of every sample of the bin: (weights, corner offsets)
                let mut samples: Vec<([f64; 4], [usize; 4])> = Vec::new();
                for iy in 0..gh {
                    let yy = y1 + ph as f64 * bh + (iy as f64 + 0.5) * bh / gh as f64;
                    for ix in 0..gw {
                        let xx = x1 + pw as f64 * bw + (ix as f64 + 0.5) * bw / gw as f64;
                        if yy < -1.0 || yy > h as f64 || xx < -1.0 || xx > w as f64 {
                            samples.push(([0.0; 4], [0; 4]));
                            continue;
                        }
                        let (mut y, mut xq) = (yy.max(0.0), xx.max(0.0));
                        let mut yl = y as usize;
                        let yh = if yl >= h - 1 {
                            yl = h - 1;
                            y = yl as f64;
                            h - 1
                        } else {
                            yl + 1
                        };
                        let mut xl = xq as usize;
                        let xh = if xl >= w - 1 {
                            xl = w - 1;
                            xq = xl as f64;
                            w - 1
                        } else {
                            xl + 1
                        };
                        let (ly, lx) = (y - yl as f64, xq - xl as f64);
                        let (hy, hx) = (1.0 - ly, 1.0 - lx);
                        samples.push((
                            [hy * hx, hy * lx, ly * hx, ly * lx],
                            [yl * w + xl, yl * w + xh, yh * w + xl, yh * w + xh],
                        ));
                    }
                }
                for ch in 0..c {
                    let plane = &xv[(b * c + ch) * h * w..(b * c + ch + 1) * h * w];
                    let v = if p.max {
                        // onnxruntime's max mode: the largest weighted corner of any sample
                        let mut m: Option<f64> = None;
                        for (ws, os) in &samples {
                            for k in 0..4 {
                                let t = ws[k] * plane[os[k]];
                                m = Some(m.map_or(t, |m: f64| m.max(t)));
                            }
                        }
                        m.unwrap_or(0.0)
                    } else {
                        samples
                            .iter()
                            .map(|(ws, os)| (0..4).map(|k| ws[k] * plane[os[k]]).sum::<f64>())
                            .sum::<f64>()
                            / count
                    };
                    out[((ri * c + ch) * p.oh + ph) * p.ow + pw] = v;
                }
            }
        }
    }
    from_f64(x.dtype(), shape, out)
}

fn non_max_suppression(
    boxes: &Tensor,
    scores: &Tensor,
    inputs: &[Option<&Tensor>],
    center: bool,
) -> Result<Tensor> {
    if boxes.rank() != 3 || boxes.shape()[2] != 4 || scores.rank() != 3 {
        return Err(Error::shape(format!(
            "NonMaxSuppression: boxes {:?} must be [B, N, 4] and scores {:?} [B, C, N]",
            boxes.shape(),
            scores.shape()
        )));
    }
    let (nb, nbox) = (boxes.shape()[0], boxes.shape()[1]);
    let nc = scores.shape()[1];
    if scores.shape()[0] != nb || scores.shape()[2] != nbox {
        return Err(Error::shape(format!(
            "NonMaxSuppression: scores {:?} do not match boxes {:?}",
            scores.shape(),
            boxes.shape()
        )));
    }
    let scalar = |i: usize| {
        opt_input(inputs, i)
            .filter(|t| t.numel() > 0)
            .map(|t| t.to_f64_vec()[0])
    };
    let max_out = scalar(2).unwrap_or(0.0).max(0.0) as usize;
    let iou_th = scalar(3).unwrap_or(0.0);
    let score_th = scalar(4);
    let bv = boxes.to_f64_vec();
    let sv = scores.to_f64_vec();
    // corners (y1, x1, y2, x2), ordered
    let corners = |b: usize, i: usize| -> [f64; 4] {
        let q = &bv[(b * nbox + i) * 4..(b * nbox + i) * 4 + 4];
        if center {
            let (xc, yc, bw, bh) = (q[0], q[1], q[2], q[3]);
            [yc - bh / 2.0, xc - bw / 2.0, yc + bh / 2.0, xc + bw / 2.0]
        } else {
            [
                q[0].min(q[2]),
                q[1].min(q[3]),
                q[0].max(q[2]),
                q[1].max(q[3]),
            ]
        }
    };
    let iou = |a: &[f64; 4], b: &[f64; 4]| -> f64 {
        let area = |q: &[f64; 4]| (q[2] - q[0]) * (q[3] - q[1]);
        let (aa, ab) = (area(a), area(b));
        if aa <= 0.0 || ab <= 0.0 {
            return 0.0;
        }
        let ih = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
        let iw = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
        let inter = ih * iw;
        inter / (aa + ab - inter)
    };
    let mut out: Vec<i64> = Vec::new();
    for b in 0..nb {
        let cs: Vec<[f64; 4]> = (0..nbox).map(|i| corners(b, i)).collect();
        for cl in 0..nc {
            let s = &sv[(b * nc + cl) * nbox..(b * nc + cl + 1) * nbox];
            let mut cand: Vec<usize> = (0..nbox)
                .filter(|&i| score_th.is_none_or(|t| s[i] > t))
                .collect();
            super::util::sort_indices(&mut cand, &|i, j| {
                s[j].partial_cmp(&s[i]).unwrap_or(std::cmp::Ordering::Equal)
            });
            let mut kept: Vec<usize> = Vec::new();
            for i in cand {
                if kept.len() >= max_out {
                    break;
                }
                if kept.iter().all(|&k| iou(&cs[k], &cs[i]) <= iou_th) {
                    kept.push(i);
                }
            }
            for k in kept {
                out.extend([b as i64, cl as i64, k as i64]);
            }
        }
    }
    Tensor::from_i64(vec![out.len() / 3, 3], out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::ops::image::ResizeAttrs;

    fn attrs(mode: Interp, coord: CoordMode) -> ResizeAttrs {
        ResizeAttrs {
            mode,
            coord,
            nearest: NearestMode::RoundPreferFloor,
            cubic_a: -0.75,
            exclude_outside: false,
            extrapolation: 0.0,
            antialias: false,
            axes: None,
            policy: AspectPolicy::Stretch,
            scales_input: 2,
            scales: None,
        }
    }

    /// A direct (non-separable) bilinear reference for half_pixel upsampling.
    #[test]
    fn linear_resize_matches_a_direct_bilinear_reference() {
        let mut rng = crate::testing::Rng::new(11);
        let x = rng.tensor(&[1, 1, 3, 4], -1.0, 1.0);
        let scales = Tensor::from_f32(vec![4], vec![1.0, 1.0, 2.0, 1.5]).unwrap();
        let a = attrs(Interp::Linear, CoordMode::HalfPixel);
        let y = resize(&x, &a, &[Some(&x), None, Some(&scales)]).unwrap();
        assert_eq!(y.shape(), &[1, 1, 6, 6]);
        let xv = x.as_f32().unwrap();
        let at = |i: i64, j: i64| xv[(i.clamp(0, 2) * 4 + j.clamp(0, 3)) as usize] as f64;
        for oy in 0..6 {
            for ox in 0..6 {
                let sy = ((oy as f64 + 0.5) / 2.0 - 0.5).max(0.0);
                let sx = ((ox as f64 + 0.5) / 1.5 - 0.5).max(0.0);
                let (y0, x0) = (sy.floor() as i64, sx.floor() as i64);
                let (ty, tx) = (sy - y0 as f64, sx - x0 as f64);
                let want = (1.0 - ty) * ((1.0 - tx) * at(y0, x0) + tx * at(y0, x0 + 1))
                    + ty * ((1.0 - tx) * at(y0 + 1, x0) + tx * at(y0 + 1, x0 + 1));
                let got = y.as_f32().unwrap()[oy * 6 + ox] as f64;
                assert!((got - want).abs() < 1e-6, "({oy}, {ox}): {got} vs {want}");
            }
        }
    }

    #[test]
    fn nearest_resize_repeats_and_rejects_bad_scales() {
        let x = Tensor::from_f32(vec![1, 1, 2, 2], vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let scales = Tensor::from_f32(vec![4], vec![1.0, 1.0, 2.0, 2.0]).unwrap();
        let a = attrs(Interp::Nearest, CoordMode::Asymmetric);
        let y = resize(&x, &a, &[Some(&x), None, Some(&scales)]).unwrap();
        assert_eq!(
            y.as_f32().unwrap(),
            &[1., 1., 2., 2., 1., 1., 2., 2., 3., 3., 4., 4., 3., 3., 4., 4.]
        );
        let bad = Tensor::from_f32(vec![4], vec![1.0, 1.0, -2.0, 2.0]).unwrap();
        assert!(resize(&x, &a, &[Some(&x), None, Some(&bad)]).is_err());
    }

    #[test]
    fn grid_sample_identity_grid_returns_the_input() {
        let mut rng = crate::testing::Rng::new(5);
        let x = rng.tensor(&[1, 2, 3, 4], -1.0, 1.0);
        let theta = Tensor::from_f32(vec![1, 2, 3], vec![1., 0., 0., 0., 1., 0.]).unwrap();
        let size = Tensor::from_i64(vec![4], vec![1, 2, 3, 4]).unwrap();
        for align in [false, true] {
            let grid = affine_grid(&theta, &size, align).unwrap();
            assert_eq!(grid.shape(), &[1, 3, 4, 2]);
            for mode in [Interp::Nearest, Interp::Linear, Interp::Cubic] {
                let y = grid_sample(&x, &grid, mode, GridPadding::Zeros, align).unwrap();
                for (a, b) in y.as_f32().unwrap().iter().zip(x.as_f32().unwrap()) {
                    assert!((a - b).abs() < 1e-5, "{mode:?} align {align}");
                }
            }
        }
    }

    #[test]
    fn col2im_sums_overlapping_patches() {
        // 1 channel, 2x2 blocks over a 3x3 image, stride 1: 4 blocks; all ones
        let x = Tensor::from_f32(vec![1, 4, 4], vec![1.0; 16]).unwrap();
        let img = Tensor::from_i64(vec![2], vec![3, 3]).unwrap();
        let blk = Tensor::from_i64(vec![2], vec![2, 2]).unwrap();
        let y = col2im(&x, &img, &blk, None, None, None).unwrap();
        assert_eq!(y.as_f32().unwrap(), &[1., 2., 1., 2., 4., 2., 1., 2., 1.]);
    }

    #[test]
    fn nms_keeps_the_best_of_overlapping_boxes() {
        let boxes = Tensor::from_f32(
            vec![1, 3, 4],
            vec![0., 0., 1., 1., 0., 0.1, 1., 1.1, 0., 10., 1., 11.],
        )
        .unwrap();
        let scores = Tensor::from_f32(vec![1, 1, 3], vec![0.9, 0.95, 0.5]).unwrap();
        let m = Tensor::from_i64(vec![1], vec![3]).unwrap();
        let th = Tensor::from_f32(vec![1], vec![0.5]).unwrap();
        let y = non_max_suppression(
            &boxes,
            &scores,
            &[Some(&boxes), Some(&scores), Some(&m), Some(&th)],
            false,
        )
        .unwrap();
        assert_eq!(y.as_i64().unwrap(), &[0, 0, 1, 0, 0, 2]);
    }
}
