//! CPU kernels of linear quantisation (per tensor, per axis, or blocked scales).

use super::util::{input, norm_axis, opt_input};
use crate::error::{Error, Result};
use crate::ir::ops::quant::QuantOp;
use crate::tensor::{DType, Tensor, TensorData};

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
