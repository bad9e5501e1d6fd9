//! Transpose (`shaders/transpose.wgsl`).

use super::binary::MAX_RANK;
use super::{Claim, GpuOp, OpEntry};
use crate::backend::webgpu::dispatch::{grid, no_consts, GpuTensor, Shader};
use crate::backend::webgpu::graph::GpuGraph;
use crate::backend::webgpu::{GpuDevice, Recorder};
use crate::error::{Error, Result};
use crate::ir::ops::shape::ShapeOp;
use crate::ir::Op;
use crate::plan::exec::{Ctx, Launch};

pub(crate) static SHADER: Shader = Shader {
    name: "transpose",
    src: include_str!("../../../../shaders/transpose.wgsl"),
    consts: no_consts,
};

pub(crate) const ENTRY: OpEntry = OpEntry {
    shader: Some(&SHADER),
    claim,
};

/// `perm`, or `None` to reverse the axes.
#[derive(Clone, Debug)]
struct TransposeOp(Option<Vec<usize>>);

fn claim(c: &Claim) -> Option<Box<dyn GpuOp>> {
    match &c.node().op {
        Op::Shape(ShapeOp::Transpose { perm }) => Some(Box::new(TransposeOp(perm.clone()))),
        _ => None,
    }
}

impl GpuOp for TransposeOp {
    fn launch(&self, ctx: &mut Ctx<'_, '_, GpuGraph>, i: usize) -> Result<Launch<GpuTensor>> {
        let node = &ctx.graph.nodes[i];
        let x = match ctx.first_f32(i) {
            Ok(x) => x,
            Err(no) => return Ok(no),
        };
        let shape = ctx.shape(x).unwrap_or_default().to_vec();
        let r = shape.len();
        let perm: Vec<usize> = self.0.clone().unwrap_or_else(|| (0..r).rev().collect());
        let mut seen = vec![false; r];
        let is_perm = perm.len() == r
            && perm
                .iter()
                .all(|&a| a < r && !std::mem::replace(&mut seen[a], true));
        if !is_perm || r > MAX_RANK {
            // the CPU kernel reports a bad perm
            return Ok(Launch::Declined(format!("perm {perm:?} of rank {r}")));
        }
        let n: usize = shape.iter().product();
        if let Some(no) = ctx.unfit(n, n.div_ceil(256)) {
            return Ok(no);
        }
        let xt = ctx.device(x)?;
        let dev = ctx.gpu().clone();
        let y = record(&dev, ctx.rec(), &xt, &perm)?;
        Ok(Launch::ran(node.outputs[0], y))
    }
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Params {
    n: u32,
    rank: u32,
    _pad: [u32; 2],
    shape: [u32; 8],
    st: [u32; 8],
}

/// Records `out = transpose(x, perm)`: output axis `d` is input axis `perm[d]` (rank ≤ 8; the
/// caller checks that `perm` is a permutation).
pub fn record(
    dev: &GpuDevice,
    rec: &mut Recorder,
    x: &GpuTensor,
    perm: &[usize],
) -> Result<GpuTensor> {
    let r = x.shape.len();
    if perm.len() != r || r > MAX_RANK {
        return Err(Error::Limit(format!(
            "transpose of rank {r} with perm {perm:?} on the GPU"
        )));
    }
    let shape: Vec<usize> = perm.iter().map(|&a| x.shape[a]).collect();
    let out = dev.alloc(&shape)?;
    let n = x.numel();
    if n == 0 {
        return Ok(out);
    }
    let mut in_st = vec![1usize; r];
    for d in (0..r.saturating_sub(1)).rev() {
        in_st[d] = in_st[d + 1] * x.shape[d + 1];
    }
    let mut p = Params {
        n: n as u32,
        rank: r as u32,
        _pad: [0; 2],
        shape: [1; 8],
        st: [0; 8],
    };
    for (d, &a) in perm.iter().enumerate() {
        p.shape[d] = shape[d] as u32;
        p.st[d] = in_st[a] as u32;
    }
    let (gx, gy) = grid(n.div_ceil(256))?;
    let u = dev.uniform(&p);
    dev.dispatch(rec, &SHADER, &[&x.buf, &out.buf, &u], (gx, gy, 1))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::webgpu::ops::tests::{assert_close, cpu1, dev, rand, up};

    /// Transpose moves values without arithmetic: exact.
    #[test]
    fn transpose_matches_cpu_on_every_rank() {
        use crate::ir::ops::shape::ShapeOp;
        let d = dev();
        for (i, (shape, perm)) in [
            (vec![5usize, 7], vec![1usize, 0]),
            (vec![2, 3, 4, 5], vec![0, 2, 1, 3]),
            (vec![2, 3, 4, 5], vec![3, 1, 0, 2]),
            (vec![1, 2, 1, 3, 2, 1, 2, 2], vec![7, 6, 5, 4, 3, 2, 1, 0]),
            (vec![6], vec![0]),
        ]
        .into_iter()
        .enumerate()
        {
            let x = rand(&shape, 900 + i as u64, -5.0, 5.0);
            let want = cpu1(
                crate::ir::Op::Shape(ShapeOp::Transpose {
                    perm: Some(perm.clone()),
                }),
                &[&x],
            );
            let gx = up(&d, &x);
            let mut enc = d.encoder();
            let out = record(&d, &mut enc, &gx, &perm).unwrap();
            let got = d.download(enc, &out).unwrap();
            assert_close(
                &format!("transpose {shape:?} {perm:?}"),
                &got,
                &want,
                0.0,
                0.0,
            );
        }
    }
}
