//! LayerNormalization over contiguous rows, with its Mean and InvStdDev outputs
//! (`shaders/layer_norm.wgsl`).

use super::binary::broadcast;
use super::{Claim, GpuOp, OpEntry};
use crate::backend::cpu::util::norm_axis;
use crate::backend::webgpu::dispatch::{grid, no_consts, GpuTensor, Shader};
use crate::backend::webgpu::graph::GpuGraph;
use crate::backend::webgpu::{GpuDevice, Recorder};
use crate::error::Result;
use crate::ir::ops::linalg::LinalgOp;
use crate::ir::{Op, ValueId};
use crate::plan::exec::{Ctx, Launch};

pub(crate) static SHADER: Shader = Shader {
    name: "layer_norm",
    src: include_str!("../../../../shaders/layer_norm.wgsl"),
    consts: no_consts,
};

pub(crate) const ENTRY: OpEntry = OpEntry {
    shader: Some(&SHADER),
    claim,
};

#[derive(Clone, Copy, Debug)]
struct LayerNormOp {
    axis: i64,
    eps: f32,
}

fn claim(c: &Claim) -> Option<Box<dyn GpuOp>> {
    match c.node().op {
        Op::Linalg(LinalgOp::LayerNorm { axis, epsilon }) => {
            Some(Box::new(LayerNormOp { axis, eps: epsilon }))
        }
        _ => None,
    }
}

impl GpuOp for LayerNormOp {
    fn launch(&self, ctx: &mut Ctx<'_, '_, GpuGraph>, i: usize) -> Result<Launch<GpuTensor>> {
        let node = &ctx.graph.nodes[i];
        let Some(x) = node.inputs.first().copied().flatten() else {
            return Ok(Launch::Declined("no input".into()));
        };
        if !node.inputs.iter().flatten().all(|&v| ctx.is_f32(v)) {
            return Ok(Launch::Declined("an input is not f32".into()));
        }
        let shape = ctx.shape(x).unwrap_or_default().to_vec();
        let Ok(a) = norm_axis(self.axis, shape.len()) else {
            return Ok(Launch::Declined("axis out of range".into())); // the CPU reports it
        };
        let inner = &shape[a..];
        let len: usize = inner.iter().product();
        // scale and bias must cover one row exactly (the CPU handles other broadcasts)
        let fits = |v: Option<ValueId>| {
            v.is_none_or(|v| {
                let s = ctx.shape(v).unwrap_or_default();
                s.iter().product::<usize>() == len && broadcast(s, inner).as_deref() == Some(inner)
            })
        };
        let scale = node.inputs.get(1).copied().flatten();
        let bias = node.inputs.get(2).copied().flatten();
        if scale.is_none() || !fits(scale) || !fits(bias) {
            return Ok(Launch::Declined(
                "scale or bias does not cover one row".into(),
            ));
        }
        let n: usize = shape.iter().product();
        let rows = n.checked_div(len).unwrap_or(0);
        if let Some(no) = ctx.unfit(n.max(2 * rows), rows) {
            return Ok(no);
        }
        let xt = ctx.device(x)?;
        let st = ctx.device(scale.unwrap())?;
        let bt = bias.map(|b| ctx.device(b)).transpose()?;
        let dev = ctx.gpu().clone();
        let rec = ctx.rec();
        let (y, stats) = record(&dev, rec, &xt, len, &st, bt.as_ref(), self.eps)?;
        let mut outputs = vec![(node.outputs[0], y)];
        let mut stat_shape = shape[..a].to_vec();
        stat_shape.extend(std::iter::repeat_n(1, shape.len() - a));
        // Mean and InvStdDev: the two halves of `stats`, copied out when asked for
        for (k, &v) in node.outputs.iter().enumerate().skip(1).take(2) {
            let t = dev.alloc(&stat_shape)?;
            if rows > 0 {
                let off = ((k - 1) * rows * 4) as u64;
                rec.enc.copy_buffer_to_buffer(
                    stats.buf.raw(),
                    off,
                    t.buf.raw(),
                    0,
                    (rows * 4) as u64,
                );
                rec.keep.push(stats.buf.clone());
                rec.keep.push(t.buf.clone());
            }
            outputs.push((v, t));
        }
        Ok(Launch::Ran {
            outputs,
            fused: Vec::new(),
        })
    }
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Params {
    rows: u32,
    len: u32,
    has_bias: u32,
    eps: f32,
}

/// Records LayerNormalization of each contiguous row of `len` values with `len`-long scale and
/// bias. Returns the output and the row statistics (`[mean; rows]` then `[inv_std; rows]`).
pub fn record(
    dev: &GpuDevice,
    rec: &mut Recorder,
    x: &GpuTensor,
    len: usize,
    scale: &GpuTensor,
    bias: Option<&GpuTensor>,
    eps: f32,
) -> Result<(GpuTensor, GpuTensor)> {
    let out = dev.alloc(&x.shape)?;
    let n = x.numel();
    let rows = n.checked_div(len).unwrap_or(0);
    let stats = dev.alloc(&[2 * rows])?;
    if n == 0 {
        return Ok((out, stats));
    }
    let (gx, gy) = grid(rows)?;
    let u = dev.uniform(&Params {
        rows: rows as u32,
        len: len as u32,
        has_bias: bias.is_some() as u32,
        eps,
    });
    let bias_buf = bias.map_or(&scale.buf, |b| &b.buf);
    dev.dispatch(
        rec,
        &SHADER,
        &[&x.buf, &scale.buf, bias_buf, &out.buf, &stats.buf, &u],
        (gx, gy, 1),
    )?;
    Ok((out, stats))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu;
    use crate::backend::webgpu::ops::tests::{assert_close, dev, rand, up};
    use crate::tensor::Tensor;

    /// LayerNorm: 1e-5 absolute + 1e-4 relative (normalised values are O(1); sums differ in order).
    #[test]
    fn layer_norm_matches_cpu_with_stats() {
        let d = dev();
        for (i, (shape, axis)) in [
            (vec![2usize, 3, 64], -1i64),
            (vec![5, 300], 1),
            (vec![2, 4, 6], 1),
        ]
        .into_iter()
        .enumerate()
        {
            let a = if axis < 0 {
                shape.len() as i64 + axis
            } else {
                axis
            } as usize;
            let inner = shape[a..].to_vec();
            let len: usize = inner.iter().product();
            let x = rand(&shape, 600 + i as u64, -4.0, 4.0);
            let s = rand(&inner, 700 + i as u64, 0.5, 1.5);
            let b = rand(&inner, 800 + i as u64, -1.0, 1.0);
            let op = crate::ir::Op::Linalg(LinalgOp::LayerNorm {
                axis,
                epsilon: 1e-5,
            });
            let want = cpu::run(&op, &[Some(&x), Some(&s), Some(&b)]).unwrap();
            let (gx, gs, gb) = (up(&d, &x), up(&d, &s), up(&d, &b));
            let mut enc = d.encoder();
            let (out, stats) = record(&d, &mut enc, &gx, len, &gs, Some(&gb), 1e-5).unwrap();
            let got = d.download(enc, &out).unwrap();
            assert_close(&format!("layer_norm {shape:?}"), &got, &want[0], 1e-5, 1e-4);
            let st = d.download(d.encoder(), &stats).unwrap();
            let rows = x.numel() / len;
            let mean = Tensor::from_f32(
                want[1].shape().to_vec(),
                st.as_f32().unwrap()[..rows].to_vec(),
            )
            .unwrap();
            let inv = Tensor::from_f32(
                want[2].shape().to_vec(),
                st.as_f32().unwrap()[rows..].to_vec(),
            )
            .unwrap();
            assert_close("mean", &mean, &want[1], 1e-5, 1e-4);
            assert_close("inv_std", &inv, &want[2], 1e-5, 1e-4);
        }
    }
}
