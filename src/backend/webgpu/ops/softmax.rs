//! Softmax and LogSoftmax over contiguous rows (`shaders/softmax.wgsl`).

use super::{Claim, GpuOp, OpEntry};
use crate::backend::cpu::util::norm_axis;
use crate::backend::webgpu::dispatch::{grid, no_consts, GpuTensor, Shader};
use crate::backend::webgpu::graph::GpuGraph;
use crate::backend::webgpu::{GpuDevice, Recorder};
use crate::error::Result;
use crate::ir::ops::linalg::LinalgOp;
use crate::ir::Op;
use crate::plan::exec::{Ctx, Launch};

pub(crate) static SHADER: Shader = Shader {
    name: "softmax",
    src: include_str!("../../../../shaders/softmax.wgsl"),
    consts: no_consts,
};

pub(crate) const ENTRY: OpEntry = OpEntry {
    shader: Some(&SHADER),
    claim,
};

/// Softmax along `axis`: opset ≥ 13 over that one axis (the GPU takes it when it is the last
/// non-unit one), `legacy` (opset < 13) over the flattened axes from `axis` on.
#[derive(Clone, Copy, Debug)]
struct SoftmaxOp {
    axis: i64,
    log: bool,
    legacy: bool,
}

fn claim(c: &Claim) -> Option<Box<dyn GpuOp>> {
    match c.node().op {
        Op::Linalg(LinalgOp::Softmax { axis, log, legacy }) => {
            Some(Box::new(SoftmaxOp { axis, log, legacy }))
        }
        _ => None,
    }
}

impl GpuOp for SoftmaxOp {
    fn launch(&self, ctx: &mut Ctx<'_, '_, GpuGraph>, i: usize) -> Result<Launch<GpuTensor>> {
        let node = &ctx.graph.nodes[i];
        let x = match ctx.first_f32(i) {
            Ok(x) => x,
            Err(no) => return Ok(no),
        };
        let shape = ctx.shape(x).unwrap_or_default().to_vec();
        let Ok(a) = norm_axis(self.axis, shape.len()) else {
            return Ok(Launch::Declined("axis out of range".into())); // the CPU reports it
        };
        if !self.legacy && shape[a + 1..].iter().product::<usize>() != 1 {
            return Ok(Launch::Declined(
                "not a contiguous row (the CPU's column path)".into(),
            ));
        }
        let len: usize = shape[a..].iter().product();
        let n: usize = shape.iter().product();
        if let Some(no) = ctx.unfit(n, n.checked_div(len).unwrap_or(0)) {
            return Ok(no);
        }
        let xt = ctx.device(x)?;
        let dev = ctx.gpu().clone();
        let y = record(&dev, ctx.rec(), &xt, len, self.log)?;
        Ok(Launch::ran(node.outputs[0], y))
    }
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Params {
    rows: u32,
    len: u32,
    log: u32,
    _pad: u32,
}

/// Records Softmax (or LogSoftmax) of each contiguous row of `len` values.
pub fn record(
    dev: &GpuDevice,
    rec: &mut Recorder,
    x: &GpuTensor,
    len: usize,
    log: bool,
) -> Result<GpuTensor> {
    let out = dev.alloc(&x.shape)?;
    let n = x.numel();
    if n == 0 || len == 0 {
        return Ok(out);
    }
    let rows = n / len;
    let (gx, gy) = grid(rows)?;
    let u = dev.uniform(&Params {
        rows: rows as u32,
        len: len as u32,
        log: log as u32,
        _pad: 0,
    });
    dev.dispatch(rec, &SHADER, &[&x.buf, &out.buf, &u], (gx, gy, 1))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::webgpu::ops::tests::{assert_close, cpu1, dev, rand, up};

    /// Softmax: 1e-6 absolute + 1e-5 relative (exp and the sum order differ).
    #[test]
    fn softmax_and_log_softmax_match_cpu() {
        let d = dev();
        for (i, shape) in [vec![1usize, 10], vec![3, 4, 257], vec![70000, 3]]
            .into_iter()
            .enumerate()
        {
            let x = rand(&shape, 500 + i as u64, -10.0, 10.0);
            let gx = up(&d, &x);
            for log in [false, true] {
                let op = crate::ir::Op::Linalg(LinalgOp::Softmax {
                    axis: -1,
                    log,
                    legacy: false,
                });
                let want = cpu1(op, &[&x]);
                let mut enc = d.encoder();
                let out = record(&d, &mut enc, &gx, *shape.last().unwrap(), log).unwrap();
                let got = d.download(enc, &out).unwrap();
                assert_close(
                    &format!("softmax log={log} {shape:?}"),
                    &got,
                    &want,
                    1e-6,
                    1e-5,
                );
            }
        }
    }
}
