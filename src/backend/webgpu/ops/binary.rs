//! Broadcasting two-input ops (`shaders/binary.wgsl`): Add, Sub, Mul, Div, Pow, PRelu, and
//! two-input Sum/Max/Min.

use super::{Claim, GpuOp, OpEntry};
use crate::backend::webgpu::dispatch::{grid, GpuTensor, Shader};
use crate::backend::webgpu::graph::GpuGraph;
use crate::backend::webgpu::{GpuDevice, Recorder};
use crate::error::{Error, Result};
use crate::ir::ops::math::{Binary, MathOp, Variadic};
use crate::ir::Op;
use crate::plan::exec::{Ctx, Launch};

crate::wgsl_enum! {
    /// The ops `binary.wgsl` computes (its `B_*` constants).
    pub enum BinaryFn {
        Add => B_ADD,
        Sub => B_SUB,
        Mul => B_MUL,
        Div => B_DIV,
        Pow => B_POW,
        Max => B_MAX,
        Min => B_MIN,
        /// `b` is the slope: `x < 0 ? b·x : x`.
        PRelu => B_PRELU,
    }
}

impl BinaryFn {
    /// The shader op of ONNX binary `b`, if it has one.
    pub fn of(b: &Binary) -> Option<BinaryFn> {
        Some(match b {
            Binary::Add => BinaryFn::Add,
            Binary::Sub => BinaryFn::Sub,
            Binary::Mul => BinaryFn::Mul,
            Binary::Div => BinaryFn::Div,
            Binary::Pow => BinaryFn::Pow,
            Binary::PRelu => BinaryFn::PRelu,
            _ => return None,
        })
    }
}

/// Largest rank `binary.wgsl` (and `transpose.wgsl`) index: their uniforms hold 8 dims.
pub const MAX_RANK: usize = 8;

pub(crate) static SHADER: Shader = Shader {
    name: "binary",
    src: include_str!("../../../../shaders/binary.wgsl"),
    consts: BinaryFn::wgsl_consts,
};

pub(crate) const ENTRY: OpEntry = OpEntry {
    shader: Some(&SHADER),
    claim,
};

fn claim(c: &Claim) -> Option<Box<dyn GpuOp>> {
    let node = c.node();
    let f = match &node.op {
        Op::Math(MathOp::Binary(b)) => BinaryFn::of(b)?,
        Op::Math(MathOp::Variadic(v)) if node.inputs.len() == 2 => match v {
            Variadic::Sum => BinaryFn::Add,
            Variadic::Max => BinaryFn::Max,
            Variadic::Min => BinaryFn::Min,
            Variadic::Mean => return None,
        },
        _ => return None,
    };
    Some(Box::new(f))
}

impl GpuOp for BinaryFn {
    fn launch(&self, ctx: &mut Ctx<'_, '_, GpuGraph>, i: usize) -> Result<Launch<GpuTensor>> {
        let node = &ctx.graph.nodes[i];
        let ins: Vec<_> = node.inputs.iter().flatten().copied().collect();
        if ins.len() != 2 || node.inputs.len() != 2 {
            return Ok(Launch::Declined("not two inputs".into()));
        }
        if !ins.iter().all(|&v| ctx.is_f32(v)) {
            return Ok(Launch::Declined("an input is not f32".into()));
        }
        let sa = ctx.shape(ins[0]).unwrap_or_default().to_vec();
        let sb = ctx.shape(ins[1]).unwrap_or_default().to_vec();
        let Some(shape) = broadcast(&sa, &sb) else {
            // the CPU kernel reports shapes that do not broadcast
            return Ok(Launch::Declined(format!(
                "{sa:?} and {sb:?} do not broadcast"
            )));
        };
        if shape.len() > MAX_RANK {
            return Ok(Launch::Declined(format!(
                "rank {} > {MAX_RANK}",
                shape.len()
            )));
        }
        if *self == BinaryFn::PRelu && sb.len() > sa.len() {
            // PRelu broadcasts the slope to x only: the CPU kernel reports it
            return Ok(Launch::Declined("PRelu slope of higher rank".into()));
        }
        let n: usize = shape.iter().product();
        if let Some(no) = ctx.unfit(n, n.div_ceil(256)) {
            return Ok(no);
        }
        let (a, b) = (ctx.device(ins[0])?, ctx.device(ins[1])?);
        let dev = ctx.gpu().clone();
        let y = record(&dev, ctx.rec(), &a, &b, *self)?;
        Ok(Launch::ran(node.outputs[0], y))
    }
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Params {
    n: u32,
    rank: u32,
    op: u32,
    _pad: u32,
    shape: [u32; 8],
    sa: [u32; 8],
    sb: [u32; 8],
}

/// Broadcast shape of two shapes (numpy rules, as the CPU kernels apply them), or `None`.
pub fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    crate::backend::cpu::util::broadcast_shape(a, b).ok()
}

/// Element strides of `shape` read at the positions of `out` (0 on broadcast axes).
fn bstrides(shape: &[usize], out: &[usize]) -> [u32; 8] {
    let mut st = [0u32; 8];
    let off = out.len() - shape.len();
    let mut acc = 1usize;
    for d in (0..shape.len()).rev() {
        st[d + off] = if shape[d] == 1 { 0 } else { acc as u32 };
        acc *= shape[d];
    }
    st
}

/// Records `out = f(a, b)` with broadcasting (rank ≤ [`MAX_RANK`]).
pub fn record(
    dev: &GpuDevice,
    rec: &mut Recorder,
    a: &GpuTensor,
    b: &GpuTensor,
    op: BinaryFn,
) -> Result<GpuTensor> {
    let shape = broadcast(&a.shape, &b.shape).ok_or_else(|| {
        Error::shape(format!(
            "shapes {:?} and {:?} do not broadcast",
            a.shape, b.shape
        ))
    })?;
    if shape.len() > MAX_RANK {
        return Err(Error::Limit(format!(
            "rank {} is above the GPU binary kernel's {MAX_RANK}",
            shape.len()
        )));
    }
    let out = dev.alloc(&shape)?;
    let n: usize = shape.iter().product();
    if n == 0 {
        return Ok(out);
    }
    let mut p = Params {
        n: n as u32,
        rank: shape.len() as u32,
        op: op as u32,
        _pad: 0,
        shape: [1; 8],
        sa: bstrides(&a.shape, &shape),
        sb: bstrides(&b.shape, &shape),
    };
    for (d, &s) in shape.iter().enumerate() {
        p.shape[d] = s as u32;
    }
    let (gx, gy) = grid(n.div_ceil(256))?;
    let u = dev.uniform(&p);
    dev.dispatch(rec, &SHADER, &[&a.buf, &b.buf, &out.buf, &u], (gx, gy, 1))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::webgpu::ops::tests::{assert_close, cpu1, dev, rand, up};
    use crate::ir::ops::math::MathOp;

    /// Add/Sub/Mul/Max/Min/PRelu are exact in f32; Div and Pow within 1 ulp-ish: 1e-6 + 1e-6·|cpu|.
    #[test]
    fn binary_ops_broadcast_like_cpu() {
        let d = dev();
        let shapes = [
            (vec![4usize, 5], vec![4usize, 5]),
            (vec![2, 3, 4], vec![4]),
            (vec![2, 1, 4], vec![3, 1]),
            (vec![], vec![3, 2]),
            (vec![1, 2, 1, 3, 1, 2, 1, 2], vec![2, 1, 2, 1, 2, 1, 2, 1]),
        ];
        for (i, (sa, sb)) in shapes.iter().enumerate() {
            let a = rand(sa, 300 + i as u64, -3.0, 3.0);
            let b = rand(sb, 400 + i as u64, 0.5, 3.0);
            let (ga, gb) = (up(&d, &a), up(&d, &b));
            for (op, code) in [
                (Binary::Add, BinaryFn::Add),
                (Binary::Sub, BinaryFn::Sub),
                (Binary::Mul, BinaryFn::Mul),
                (Binary::Div, BinaryFn::Div),
                (Binary::Pow, BinaryFn::Pow),
                (Binary::PRelu, BinaryFn::PRelu),
            ] {
                if op == Binary::PRelu && b.rank() > a.rank() {
                    continue; // PRelu broadcasts the slope to x only
                }
                let want = cpu1(crate::ir::Op::Math(MathOp::Binary(op)), &[&a, &b]);
                let mut enc = d.encoder();
                let out = record(&d, &mut enc, &ga, &gb, code).unwrap();
                let got = d.download(enc, &out).unwrap();
                assert_close(&format!("{op:?} {sa:?} {sb:?}"), &got, &want, 1e-6, 1e-5);
            }
        }
    }
}
