//! CPU kernels of linear quantisation (per tensor, per axis, or blocked scales).

use super::conv::{for_each_tap, geometry};
use super::linalg::{matmul_integer, qgemm};
use super::util::{input, norm_axis, opt_input};
use crate::error::{Error, Result};
use crate::ir::ops::conv::Window;
use crate::ir::ops::quant::QuantOp;
use crate::tensor::{numel_checked, DType, Tensor, TensorData};
use half::{bf16, f16};

/// The zero point, when given, has the scale's shape (the kernels index both alike).
fn same_shape(scale: &Tensor, zp: Option<&Tensor>, op: &str, s: &str, z: &str) -> Result<()> {
    match zp {
        Some(zp) if zp.shape() != scale.shape() => Err(Error::shape(format!(
            "{op}: {z} has shape {:?} but {s} has shape {:?}; they must match",
            zp.shape(),
            scale.shape()
        ))),
        _ => Ok(()),
    }
}

pub fn run(op: &QuantOp, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    let x = input(inputs, 0, "x")?;
    Ok(match op {
        QuantOp::QLinearMatMul => {
            let b = input(inputs, 3, "b")?;
            let acc =
                matmul_integer(&[Some(x), Some(b), opt_input(inputs, 2), opt_input(inputs, 5)])?;
            let shape = acc.shape().to_vec();
            // rows and columns of the product (a 1-D a or b gives one row or one column)
            let r = shape.len();
            let n = if r >= 1 && b.rank() >= 2 {
                shape[r - 1]
            } else {
                1
            };
            let m = if x.rank() >= 2 {
                shape[r - 1 - (b.rank() >= 2) as usize]
            } else {
                1
            };
            let TensorData::I32(acc) = acc.data() else {
                return Err(Error::dtype(
                    "QLinearMatMul: the integer sums are not int32",
                ));
            };
            let y = requantize(
                "QLinearMatMul",
                acc,
                [
                    Scale::of(inputs, 1, "a_scale", m, n, "row of a")?,
                    Scale::of(inputs, 4, "b_scale", n, 1, "column of b")?,
                    Scale::of(inputs, 6, "y_scale", 1, 1, "")?,
                ],
                opt_input(inputs, 7),
                x.dtype(),
            )?;
            vec![Tensor::new(shape, y)?]
        }
        QuantOp::ConvInteger { window, group } => {
            let w = input(inputs, 1, "w")?;
            let zps = (opt_input(inputs, 2), opt_input(inputs, 3));
            let (shape, acc) = conv_integer("ConvInteger", x, w, zps, None, window, *group)?;
            vec![Tensor::new(shape, TensorData::I32(acc))?]
        }
        QuantOp::QLinearConv { window, group } => {
            let w = input(inputs, 3, "w")?;
            let zps = (opt_input(inputs, 2), opt_input(inputs, 5));
            let bias = opt_input(inputs, 8);
            let (shape, acc) = conv_integer("QLinearConv", x, w, zps, bias, window, *group)?;
            let (m, sp) = (shape[1], shape[2..].iter().product::<usize>());
            let y = requantize(
                "QLinearConv",
                &acc,
                [
                    Scale::of(inputs, 1, "x_scale", 1, 1, "")?,
                    Scale::of(inputs, 4, "w_scale", m, sp, "output channel")?,
                    Scale::of(inputs, 6, "y_scale", 1, 1, "")?,
                ],
                opt_input(inputs, 7),
                x.dtype(),
            )?;
            vec![Tensor::new(shape, y)?]
        }
        QuantOp::Quantize {
            axis,
            block,
            saturate: _,
            output,
        } => {
            let scale = input(inputs, 1, "y_scale")?;
            let zp = opt_input(inputs, 2);
            // `output` is the logical dtype (int16 and uint16 are computed in int32)
            let out = match zp {
                Some(z) if z.dtype() != output.compute() => z.dtype(),
                _ => *output,
            };
            let idx = scale_index(x.shape(), scale.shape(), *axis, *block)?;
            same_shape(scale, zp, "QuantizeLinear", "y_scale", "y_zero_point")?;
            let (s, z) = (scale.to_f64_vec(), zp.map(|z| z.to_f64_vec()));
            let (lo, hi) = match out {
                DType::U8 => (0.0, 255.0),
                DType::I8 => (-128.0, 127.0),
                DType::I32 => (i32::MIN as f64, i32::MAX as f64),
                DType::I16 => (i16::MIN as f64, i16::MAX as f64),
                DType::U16 => (0.0, u16::MAX as f64),
                d => {
                    return Err(Error::UnsupportedDType(format!(
                        "{d} (QuantizeLinear output)"
                    )))
                }
            };
            let xv = x.to_f64_vec();
            let q: Vec<f64> = xv
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let k = idx(i);
                    let zp = z.as_ref().map_or(0.0, |z| z[k]);
                    // divide in f32 as the reference does (f64 can round a .5 case the other way)
                    (((v as f32 / s[k] as f32).round_ties_even()) as f64 + zp).clamp(lo, hi)
                })
                .collect();
            let data = match out {
                DType::U8 => TensorData::U8(q.into_iter().map(|v| v as u8).collect()),
                DType::I8 => TensorData::I8(q.into_iter().map(|v| v as i8).collect()),
                _ => TensorData::I32(q.into_iter().map(|v| v as i32).collect()),
            };
            vec![Tensor::new(x.shape().to_vec(), data)?]
        }
        QuantOp::Dequantize { axis, block } => {
            let scale = input(inputs, 1, "x_scale")?;
            let zp = opt_input(inputs, 2);
            let idx = scale_index(x.shape(), scale.shape(), *axis, *block)?;
            same_shape(scale, zp, "DequantizeLinear", "x_scale", "x_zero_point")?;
            let (s, z) = (scale.to_f64_vec(), zp.map(|z| z.to_f64_vec()));
            let y: Vec<f32> = x
                .to_f64_vec()
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let k = idx(i);
                    ((v - z.as_ref().map_or(0.0, |z| z[k])) * s[k]) as f32
                })
                .collect();
            vec![Tensor::from_f32(x.shape().to_vec(), y)?]
        }
        QuantOp::DynamicQuantize => {
            let v = x.as_f32()?;
            let max = v.iter().copied().fold(0.0f32, f32::max);
            let min = v.iter().copied().fold(0.0f32, f32::min);
            let scale = (max - min) / 255.0;
            let zp = if scale == 0.0 {
                0.0
            } else {
                (-min / scale).round_ties_even().clamp(0.0, 255.0)
            };
            let y: Vec<u8> = v
                .iter()
                .map(|&x| {
                    if scale == 0.0 {
                        0
                    } else {
                        ((x / scale).round_ties_even() + zp).clamp(0.0, 255.0) as u8
                    }
                })
                .collect();
            vec![
                Tensor::new(x.shape().to_vec(), TensorData::U8(y))?,
                Tensor::scalar_f32(scale),
                Tensor::new(vec![], TensorData::U8(vec![zp as u8]))?,
            ]
        }
    })
}

/// Maps a flat index of `x` to the index of its scale/zero point: per tensor, per `axis`, or
/// blocked along `axis` (`block` > 0, scale of the same rank as x).
fn scale_index(
    xs: &[usize],
    ss: &[usize],
    axis: i64,
    block: usize,
) -> Result<Box<dyn Fn(usize) -> usize>> {
    let n: usize = ss.iter().product();
    if n == 1 {
        return Ok(Box::new(|_| 0));
    }
    let a = norm_axis(axis, xs.len())?;
    let inner: usize = xs[a + 1..].iter().product();
    let dim = xs[a];
    if block == 0 {
        if ss.len() != 1 || ss[0] != dim {
            return Err(Error::shape(format!(
                "scale of shape {ss:?} does not match axis {axis} of input {xs:?}"
            )));
        }
        return Ok(Box::new(move |i| (i / inner) % dim));
    }
    if ss.len() != xs.len()
        || ss[a] != dim.div_ceil(block)
        || ss
            .iter()
            .zip(xs)
            .enumerate()
            .any(|(d, (s, x))| d != a && s != x)
    {
        return Err(Error::shape(format!(
            "blocked scale {ss:?} does not fit input {xs:?} with block {block} on axis {axis}"
        )));
    }
    let sdim = ss[a];
    Ok(Box::new(move |i| {
        let outer = i / (dim * inner);
        let c = (i / inner) % dim;
        let r = i % inner;
        (outer * sdim + c / block) * inner + r
    }))
}

/// A scale given per tensor (one value) or per position of one output axis (`n` values, the
/// axis' positions `stride` outputs apart).
struct Scale {
    v: Vec<f64>,
    dtype: DType,
    stride: usize,
}

impl Scale {
    fn of(
        inputs: &[Option<&Tensor>],
        i: usize,
        what: &str,
        n: usize,
        stride: usize,
        per: &str,
    ) -> Result<Scale> {
        let t = input(inputs, i, what)?;
        let v = t.to_f64_vec();
        if v.len() != 1 && (v.len() != n || t.rank() != 1) {
            let per = if n > 1 {
                format!(" or one per {per} ({n})")
            } else {
                String::new()
            };
            return Err(Error::shape(format!(
                "{what} has shape {:?}; expected one value{per}",
                t.shape()
            )));
        }
        Ok(Scale {
            v,
            dtype: t.dtype(),
            stride: stride.max(1),
        })
    }

    fn at(&self, i: usize) -> f64 {
        match self.v.len() {
            1 => self.v[0],
            n => self.v[(i / self.stride) % n],
        }
    }
}

/// `clamp(round_half_even(acc · (s_in · s_w / s_y)) + y_zero_point)` into y's 8-bit type (the
/// zero point's, else the input's). The multiplier is computed in the scales' dtype, as the ONNX
/// reference does (float16 scales round after each step), and applied to the int32 sum in f64.
fn requantize(
    op: &str,
    acc: &[i32],
    [s_in, s_w, s_y]: [Scale; 3],
    y_zp: Option<&Tensor>,
    x_dtype: DType,
) -> Result<TensorData> {
    let dt = s_in.dtype;
    if s_w.dtype != dt || s_y.dtype != dt || !dt.is_float() {
        return Err(Error::dtype(format!(
            "{op}: the scales must share one float type, got {}, {} and {}",
            s_in.dtype, s_w.dtype, s_y.dtype
        )));
    }
    let sy = s_y.v[0];
    let (out, zp) = match y_zp {
        Some(z) if z.numel() != 1 => {
            return Err(Error::shape(format!(
                "{op}: y_zero_point has shape {:?}; expected one value",
                z.shape()
            )))
        }
        Some(z) => (z.dtype(), z.to_f64_vec()[0]),
        None => (x_dtype, 0.0),
    };
    let (lo, hi) = match out {
        DType::U8 => (0.0, 255.0),
        DType::I8 => (-128.0, 127.0),
        d => {
            return Err(Error::dtype(format!(
                "{op}: the output (y_zero_point) must be uint8 or int8, got {d}"
            )))
        }
    };
    let round = |v: f32| -> f32 {
        match dt {
            DType::F16 => f16::from_f32(v).to_f32(),
            DType::BF16 => bf16::from_f32(v).to_f32(),
            _ => v,
        }
    };
    let q: Vec<f64> = acc
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let (a, b) = (s_in.at(i), s_w.at(i));
            let mult = match dt {
                DType::F64 => a * b / sy,
                _ => round(round(a as f32 * b as f32) / sy as f32) as f64,
            };
            (v as f64 * mult + zp).round_ties_even().clamp(lo, hi)
        })
        .collect();
    Ok(match out {
        DType::U8 => TensorData::U8(q.iter().map(|&v| v as u8).collect()),
        _ => TensorData::I8(q.iter().map(|&v| v as i8).collect()),
    })
}

/// An 8-bit operand minus its zero point, widened to i16 (which cannot overflow). The zero point
/// is one value, or `per` values taken in turn by consecutive runs of `run` elements (per row
/// of a matrix: `run` = its width; per column: `run` = 1; per output channel of a weight: `run`
/// = one channel's size).
pub(super) fn widen_minus_zp(
    op: &str,
    what: &str,
    x: &Tensor,
    zp: Option<&Tensor>,
    (per, run, per_what): (usize, usize, &str),
) -> Result<Vec<i16>> {
    let widen = |t: &Tensor, name: &str| -> Result<Vec<i16>> {
        match t.data() {
            TensorData::U8(v) => Ok(v.iter().map(|&x| x as i16).collect()),
            TensorData::I8(v) => Ok(v.iter().map(|&x| x as i16).collect()),
            d => Err(Error::dtype(format!(
                "{op}: {name} must be uint8 or int8, got {}",
                d.dtype()
            ))),
        }
    };
    let mut v = widen(x, what)?;
    let Some(zp) = zp else { return Ok(v) };
    let name = format!("{what}_zero_point");
    if zp.dtype() != x.dtype() {
        return Err(Error::dtype(format!(
            "{op}: {name} is {} but {what} is {}",
            zp.dtype(),
            x.dtype()
        )));
    }
    let z = widen(zp, &name)?;
    if z.len() == 1 {
        v.iter_mut().for_each(|x| *x -= z[0]);
    } else if z.len() == per {
        for (i, x) in v.iter_mut().enumerate() {
            *x -= z[(i / run.max(1)) % per];
        }
    } else {
        return Err(Error::shape(format!(
            "{op}: {name} has {} values; expected 1 or one per {per_what} ({per})",
            z.len()
        )));
    }
    Ok(v)
}

/// `conv(x - x_zero_point, w - w_zero_point) + bias` in int32, exactly: both operands widened
/// to i16 once, the input's columns gathered through the window's tap table (padding reads the
/// zero point, so 0 after the shift), and each (image, group) one [`qgemm`] of the packed
/// weights by the packed columns. Returns the output shape and the sums.
fn conv_integer(
    op: &str,
    x: &Tensor,
    w: &Tensor,
    (x_zp, w_zp): (Option<&Tensor>, Option<&Tensor>),
    bias: Option<&Tensor>,
    win: &Window,
    group: usize,
) -> Result<(Vec<usize>, Vec<i32>)> {
    let (xs, ws) = (x.shape(), w.shape());
    if xs.len() < 3 || ws.len() != xs.len() {
        return Err(Error::shape(format!(
            "{op}: x {xs:?} and w {ws:?} must both have rank >= 3 and equal rank"
        )));
    }
    let (n, c, m, cg) = (xs[0], xs[1], ws[0], ws[1]);
    if group == 0 || c % group != 0 || m % group != 0 || cg * group != c {
        return Err(Error::shape(format!(
            "{op}: x has {c} channels and w {ws:?} expects {cg} per group × {group} groups"
        )));
    }
    if !win.kernel.is_empty() && win.kernel != ws[2..] {
        return Err(Error::shape(format!(
            "{op}: kernel_shape {:?} differs from w {ws:?}",
            win.kernel
        )));
    }
    let g = geometry(win, &xs[2..], &ws[2..], false)?;
    let xv = widen_minus_zp(op, "x", x, x_zp, (1, 1, "tensor"))?;
    let wv = widen_minus_zp(
        op,
        "w",
        w,
        w_zp,
        (m, w.numel() / m.max(1), "output channel"),
    )?;
    let in_sp: usize = xs[2..].iter().product();
    let out_sp: usize = g.iter().map(|d| d.output).product();
    let taps: usize = ws[2..].iter().product();
    let rows = cg * taps;
    let mut shape = vec![n, m];
    shape.extend(g.iter().map(|d| d.output));
    let total = numel_checked(&shape)?;
    numel_checked(&[rows, out_sp, 2])?;
    let mut table = vec![usize::MAX; out_sp * taps];
    for_each_tap(&g, |of, kf, src| {
        table[kf * out_sp + of] = src.unwrap_or(usize::MAX)
    });
    let (mg, k8) = (m / group, qgemm::padded_k(rows));
    let mut out = vec![0i32; total];
    for gi in 0..group {
        let wp = qgemm::pack(mg, rows, |r, p| wv[(gi * mg + r) * rows + p]);
        for bi in 0..n {
            let base = (bi * c + gi * cg) * in_sp;
            let cols = qgemm::pack(out_sp, rows, |j, p| match table[(p % taps) * out_sp + j] {
                usize::MAX => 0,
                s => xv[base + (p / taps) * in_sp + s],
            });
            let at = (bi * m + gi * mg) * out_sp;
            qgemm::qgemm(mg, out_sp, k8, &wp, &cols, &mut out[at..at + mg * out_sp]);
        }
    }
    if let Some(b) = bias {
        let bv = match b.data() {
            TensorData::I32(v) if v.len() == m => v,
            _ => {
                return Err(Error::shape(format!(
                    "{op}: B must be int32 with one value per output channel ({m}), got {} {:?}",
                    b.dtype(),
                    b.shape()
                )))
            }
        };
        for (i, v) in out.iter_mut().enumerate() {
            *v = v.wrapping_add(bv[(i / out_sp.max(1)) % m]);
        }
    }
    Ok((shape, out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::ops::conv::AutoPad;

    fn bytes(n: usize, seed: u64) -> Vec<u8> {
        let mut r = crate::testing::Rng::new(seed);
        r.f32s(n, 0.0, 256.0).into_iter().map(|v| v as u8).collect()
    }

    fn t(shape: &[usize], d: TensorData) -> Tensor {
        Tensor::new(shape.to_vec(), d).unwrap()
    }

    /// Direct 2-D integer convolution in i64: the scalar twin of the im2col + qgemm path.
    #[allow(clippy::too_many_arguments)]
    fn direct(
        x: &[i64],
        [n, c, h, wd]: [usize; 4],
        w: &[i64],
        [m, cg, kh, kw]: [usize; 4],
        stride: usize,
        pad: usize,
        dil: usize,
        group: usize,
    ) -> Vec<i64> {
        let oh = (h + 2 * pad - dil * (kh - 1) - 1) / stride + 1;
        let ow = (wd + 2 * pad - dil * (kw - 1) - 1) / stride + 1;
        let mut out = vec![];
        for b in 0..n {
            for oc in 0..m {
                let g = oc / (m / group);
                for y in 0..oh {
                    for xx in 0..ow {
                        let mut s = 0i64;
                        for ic in 0..cg {
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let iy = (y * stride + ky * dil) as isize - pad as isize;
                                    let ix = (xx * stride + kx * dil) as isize - pad as isize;
                                    if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                                        continue;
                                    }
                                    let xi = ((b * c + g * cg + ic) * h + iy as usize) * wd
                                        + ix as usize;
                                    let wi = ((oc * cg + ic) * kh + ky) * kw + kx;
                                    s += x[xi] * w[wi];
                                }
                            }
                        }
                        out.push(s);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn conv_integer_matches_direct_sums() {
        // (x shape, w shape, stride, pad, dilation, group): plain, strided + padded, dilated,
        // grouped, depthwise, and a kernel larger than the padded-out input row
        let cases = [
            ([1, 3, 7, 6], [4, 3, 3, 3], 1, 0, 1, 1),
            ([2, 4, 9, 8], [6, 2, 3, 2], 2, 1, 1, 2),
            ([1, 2, 10, 10], [3, 2, 3, 3], 1, 2, 2, 1),
            ([1, 5, 6, 6], [5, 1, 3, 3], 1, 1, 1, 5),
            ([1, 2, 1, 3], [2, 2, 3, 5], 1, 2, 1, 1),
        ];
        for (seed, (xs, ws, stride, pad, dil, group)) in cases.into_iter().enumerate() {
            let seed = seed as u64;
            let xn: usize = xs.iter().product();
            let wn: usize = ws.iter().product();
            let xb = bytes(xn, seed);
            let wb: Vec<i8> = bytes(wn, seed + 100).iter().map(|&v| v as i8).collect();
            let wzp: Vec<i8> = (0..ws[0]).map(|i| i as i8 * 3 - 4).collect();
            let bias: Vec<i32> = (0..ws[0] as i32).map(|i| i * 1000 - 1500).collect();
            let xd: Vec<i64> = xb.iter().map(|&v| v as i64 - 131).collect();
            let wsz = wn / ws[0];
            let wd: Vec<i64> = wb
                .iter()
                .enumerate()
                .map(|(i, &v)| v as i64 - wzp[i / wsz] as i64)
                .collect();
            let mut want = direct(&xd, xs, &wd, ws, stride, pad, dil, group);
            let out_sp = want.len() / (xs[0] * ws[0]);
            for (i, v) in want.iter_mut().enumerate() {
                *v += bias[(i / out_sp) % ws[0]] as i64;
            }
            let win = Window {
                kernel: vec![],
                strides: vec![stride; 2],
                dilations: vec![dil; 2],
                pads: vec![pad; 4],
                auto_pad: Some(AutoPad::NotSet),
            };
            let x = t(&xs, TensorData::U8(xb));
            let w = t(&ws, TensorData::I8(wb));
            let xzp = t(&[], TensorData::U8(vec![131]));
            let wzp = t(&[ws[0]], TensorData::I8(wzp));
            let b = t(&[ws[0]], TensorData::I32(bias));
            let (_, got) = conv_integer(
                "ConvInteger",
                &x,
                &w,
                (Some(&xzp), Some(&wzp)),
                Some(&b),
                &win,
                group,
            )
            .unwrap();
            let got: Vec<i64> = got.iter().map(|&v| v as i64).collect();
            assert_eq!(
                got, want,
                "case {xs:?} {ws:?} s{stride} p{pad} d{dil} g{group}"
            );
        }
    }

    #[test]
    fn qlinear_matmul_per_row_and_column_scales() {
        let (m, k, n) = (3, 5, 4);
        let a = bytes(m * k, 7);
        let b: Vec<i8> = bytes(k * n, 8).iter().map(|&v| v as i8).collect();
        let sa = [0.02f32, 0.011, 0.05];
        let sb = [0.01f32, 0.03, 0.007, 0.02];
        let (sy, yzp) = (0.3f32, -3i8);
        let ins = [
            t(&[m, k], TensorData::U8(a.clone())),
            t(&[m], TensorData::F32(sa.to_vec())),
            t(&[], TensorData::U8(vec![120])),
            t(&[k, n], TensorData::I8(b.clone())),
            t(&[n], TensorData::F32(sb.to_vec())),
            t(&[], TensorData::I8(vec![2])),
            t(&[], TensorData::F32(vec![sy])),
            t(&[], TensorData::I8(vec![yzp])),
        ];
        let refs: Vec<Option<&Tensor>> = ins.iter().map(Some).collect();
        let got = run(&QuantOp::QLinearMatMul, &refs).unwrap().remove(0);
        assert_eq!(got.shape(), &[m, n]);
        let TensorData::I8(got) = got.data() else {
            panic!("int8 output expected")
        };
        for i in 0..m {
            for j in 0..n {
                let acc: i64 = (0..k)
                    .map(|p| (a[i * k + p] as i64 - 120) * (b[p * n + j] as i64 - 2))
                    .sum();
                let mult = (sa[i] * sb[j] / sy) as f64;
                let want = (acc as f64 * mult + yzp as f64)
                    .round_ties_even()
                    .clamp(-128.0, 127.0) as i8;
                assert_eq!(got[i * n + j], want, "({i}, {j})");
            }
        }
        // a 1-D a ([K] · [K, N] → [N]) takes the one row's scale
        let mut one = ins.clone();
        one[0] = t(&[k], TensorData::U8(a[..k].to_vec()));
        one[1] = t(&[], TensorData::F32(vec![sa[0]]));
        let one_refs: Vec<Option<&Tensor>> = one.iter().map(Some).collect();
        let y = run(&QuantOp::QLinearMatMul, &one_refs).unwrap().remove(0);
        assert_eq!(y.shape(), &[n]);
        assert_eq!(y.data(), &TensorData::I8(got[..n].to_vec()));
        // a scale of the wrong length names itself
        let bad = t(&[2], TensorData::F32(vec![0.1, 0.2]));
        let mut refs = refs;
        refs[1] = Some(&bad);
        let e = run(&QuantOp::QLinearMatMul, &refs).unwrap_err().to_string();
        assert!(e.contains("a_scale"), "{e}");
    }
}
