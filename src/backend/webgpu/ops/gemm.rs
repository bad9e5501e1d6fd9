//! Gemm and (batched) MatMul with a fused bias and activation (`shaders/gemm.wgsl`).
//!
//! Fusion, decided when the session is built: a MatMul whose only reader is an `Add` of a bias,
//! and/or a Gemm or MatMul whose only reader is Relu/Sigmoid/Tanh, run as one dispatch and the
//! fused nodes are skipped. When the actual shapes do not allow it (a bias that is not along the
//! last axis), the head runs alone and the fused nodes run one by one.

use super::{Claim, GpuOp, OpEntry};
use crate::backend::webgpu::dispatch::{GpuTensor, Shader, MAX_GROUPS_PER_DIM};
use crate::backend::webgpu::graph::GpuGraph;
use crate::backend::webgpu::{GpuDevice, Recorder};
use crate::error::{Error, Result};
use crate::ir::ops::linalg::LinalgOp;
use crate::ir::ops::math::{Binary, MathOp, Unary};
use crate::ir::{Op, ValueId};
use crate::plan::exec::{Ctx, Launch};

crate::wgsl_enum! {
    /// Activation of the Gemm epilogue (`gemm.wgsl`'s `ACT_*` constants).
    pub enum Act {
        None => ACT_NONE,
        Relu => ACT_RELU,
        Sigmoid => ACT_SIGMOID,
        Tanh => ACT_TANH,
    }
}

impl Act {
    /// The activation of a unary op, if the Gemm epilogue has it.
    pub fn of(u: &Unary) -> Option<Act> {
        match u {
            Unary::Relu => Some(Act::Relu),
            Unary::Sigmoid => Some(Act::Sigmoid),
            Unary::Tanh => Some(Act::Tanh),
            _ => None,
        }
    }
}

pub(crate) static SHADER: Shader = Shader {
    name: "gemm",
    src: include_str!("../../../../shaders/gemm.wgsl"),
    consts: Act::wgsl_consts,
};

pub(crate) const ENTRY: OpEntry = OpEntry {
    shader: Some(&SHADER),
    claim,
};

#[derive(Clone, Copy, Debug)]
enum Kind {
    Gemm {
        alpha: f32,
        beta: f32,
        ta: bool,
        tb: bool,
    },
    MatMul,
}

/// The nodes after a Gemm/MatMul that its dispatch computes too.
#[derive(Clone, Debug, Default)]
struct Fusion {
    /// The bias operand of a fused `Add` (MatMul only).
    bias: Option<ValueId>,
    act: Option<Act>,
    /// The value the fused chain produces (the last fused node's output).
    out: ValueId,
    /// Indices of the fused nodes.
    nodes: Vec<usize>,
}

#[derive(Clone, Debug)]
struct GemmOp {
    kind: Kind,
    fusion: Option<Fusion>,
}

fn claim(c: &Claim) -> Option<Box<dyn GpuOp>> {
    let node = c.node();
    let kind = match node.op {
        Op::Linalg(LinalgOp::Gemm {
            alpha,
            beta,
            trans_a,
            trans_b,
        }) => Kind::Gemm {
            alpha,
            beta,
            ta: trans_a,
            tb: trans_b,
        },
        Op::Linalg(LinalgOp::MatMul) => Kind::MatMul,
        _ => return None,
    };
    let mut f = Fusion {
        out: *node.outputs.first()?,
        ..Fusion::default()
    };
    if matches!(kind, Kind::MatMul) {
        // a bias the load-time rewrite fused in (`MatMul + Add`, CPU twin `linalg::matmul`)
        f.bias = node.inputs.get(2).copied().flatten();
    }
    if matches!(kind, Kind::MatMul) && f.bias.is_none() {
        if let Some(j) = c.only_reader(f.out) {
            let add = &c.graph.nodes[j];
            if matches!(add.op, Op::Math(MathOp::Binary(Binary::Add))) && add.inputs.len() == 2 {
                if let Some(b) = add.inputs.iter().flatten().copied().find(|&v| v != f.out) {
                    f.bias = Some(b);
                    f.out = add.outputs[0];
                    f.nodes.push(j);
                }
            }
        }
    }
    if let Some(j) = c.only_reader(f.out) {
        if let Op::Math(MathOp::Unary(u)) = &c.graph.nodes[j].op {
            if let Some(a) = Act::of(u) {
                f.act = Some(a);
                f.out = c.graph.nodes[j].outputs[0];
                f.nodes.push(j);
            }
        }
    }
    Some(Box::new(GemmOp {
        kind,
        fusion: (!f.nodes.is_empty() || f.bias.is_some()).then_some(f),
    }))
}

impl GpuOp for GemmOp {
    fn fuses(&self) -> &[usize] {
        self.fusion.as_ref().map_or(&[], |f| &f.nodes)
    }

    fn launch(&self, ctx: &mut Ctx<'_, '_, GpuGraph>, i: usize) -> Result<Launch<GpuTensor>> {
        let node = &ctx.graph.nodes[i];
        if !node.inputs.iter().flatten().all(|&v| ctx.is_f32(v)) {
            return Ok(Launch::Declined("an input is not f32".into()));
        }
        let (Some(av), Some(bv)) = (
            node.inputs.first().copied().flatten(),
            node.inputs.get(1).copied().flatten(),
        ) else {
            return Ok(Launch::Declined("missing operand".into()));
        };
        let ash = ctx.shape(av).unwrap_or_default().to_vec();
        let bsh = ctx.shape(bv).unwrap_or_default().to_vec();
        let (geom, out_shape, alpha, mut bias) = match self.kind {
            Kind::Gemm {
                alpha,
                beta,
                ta,
                tb,
            } => {
                let Some(g) = GemmGeom::gemm(&ash, &bsh, ta, tb) else {
                    return Ok(Launch::Declined(
                        "operands are not matrices with one k".into(),
                    ));
                };
                let c = node
                    .inputs
                    .get(2)
                    .copied()
                    .flatten()
                    .filter(|_| beta != 0.0);
                let bias = match c {
                    Some(c) => {
                        let cs = ctx.shape(c).unwrap_or_default();
                        let Some((rs, cs)) = bias_strides(cs, g.m, g.n) else {
                            return Ok(Launch::Declined("C does not broadcast to [m, n]".into()));
                        };
                        Some((c, rs, cs, beta))
                    }
                    None => None,
                };
                (g, vec![g.m, g.n], alpha, bias)
            }
            Kind::MatMul => {
                let Some((g, shape)) = GemmGeom::matmul(&ash, &bsh) else {
                    return Ok(Launch::Declined(
                        "a batch broadcast the kernel lacks".into(),
                    ));
                };
                (g, shape, 1.0, None)
            }
        };
        if let Some(why) = dispatch_limit(&geom).or_else(|| {
            ctx.gpu()
                .too_big(out_shape.iter().product())
                .or_else(|| ctx.gpu().too_big(ash.iter().product()))
                .or_else(|| ctx.gpu().too_big(bsh.iter().product()))
        }) {
            return Ok(Launch::Declined(why));
        }
        // a fused bias must run along the last axis: shape [.., n] with every other dim 1
        let fused = self.fusion.as_ref().filter(|f| {
            let Some(b) = f.bias else { return true };
            let bs = ctx.shape(b).unwrap_or_default();
            ctx.is_f32(b)
                && bs.len() <= out_shape.len()
                && bs.last() == out_shape.last()
                && bs.iter().product::<usize>() == geom.n
                && geom.n == *out_shape.last().unwrap_or(&0)
        });
        if let Some(b) = fused.and_then(|f| f.bias) {
            bias = Some((b, 0, 1, 1.0));
        } else if matches!(self.kind, Kind::MatMul)
            && node.inputs.get(2).copied().flatten().is_some()
        {
            // the node's own bias has no Add to fall back on
            return Ok(Launch::Declined(
                "the fused bias does not run along the output's last axis".into(),
            ));
        }
        let (a, b) = (ctx.device(av)?, ctx.device(bv)?);
        let bias_t = bias.map(|(v, ..)| ctx.device(v)).transpose()?;
        let bias_arg = bias
            .zip(bias_t.as_ref())
            .map(|((_, rs, cs, beta), t)| Bias { t, rs, cs, beta });
        let act = fused.and_then(|f| f.act).unwrap_or(Act::None);
        let dev = ctx.gpu().clone();
        let y = record(
            &dev,
            ctx.rec(),
            &a,
            &b,
            geom,
            bias_arg,
            alpha,
            act,
            out_shape,
        )?;
        Ok(match fused {
            Some(f) => Launch::Ran {
                outputs: vec![(f.out, y)],
                fused: f.nodes.clone(),
            },
            None => Launch::ran(node.outputs[0], y),
        })
    }
}

/// Why a product does not fit one dispatch, if it does not.
fn dispatch_limit(g: &GemmGeom) -> Option<String> {
    let max = MAX_GROUPS_PER_DIM as usize;
    (g.n.div_ceil(16) > max || g.m.div_ceil(16) > max || g.batch > max).then(|| {
        format!(
            "a {}×{}×{} product in {} batches exceeds one GPU dispatch",
            g.m, g.k, g.n, g.batch
        )
    })
}

/// Geometry of one (batched) product `C[b] = A[b]·B[b]` in element strides.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GemmGeom {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub batch: usize,
    /// A's (row, col, batch) element strides.
    pub a: (usize, usize, usize),
    pub b: (usize, usize, usize),
}

impl GemmGeom {
    /// MatMul with numpy semantics when each operand's batch is either absent/all ones or the
    /// whole output batch (the layouts models use); `None` for other broadcasts (the CPU runs
    /// those). Returns the geometry and the output shape.
    pub fn matmul(ash: &[usize], bsh: &[usize]) -> Option<(GemmGeom, Vec<usize>)> {
        if ash.is_empty() || bsh.is_empty() {
            return None;
        }
        let a2: Vec<usize> = if ash.len() == 1 {
            vec![1, ash[0]]
        } else {
            ash.to_vec()
        };
        let b2: Vec<usize> = if bsh.len() == 1 {
            vec![bsh[0], 1]
        } else {
            bsh.to_vec()
        };
        let (m, k) = (a2[a2.len() - 2], a2[a2.len() - 1]);
        let (k2, n) = (b2[b2.len() - 2], b2[b2.len() - 1]);
        if k != k2 {
            return None;
        }
        let (ab, bb) = (&a2[..a2.len() - 2], &b2[..b2.len() - 2]);
        let rank = ab.len().max(bb.len());
        let pad = |s: &[usize]| -> Vec<usize> {
            let mut v = vec![1; rank - s.len()];
            v.extend_from_slice(s);
            v
        };
        let (pa, pb) = (pad(ab), pad(bb));
        let mut batch_shape = Vec::with_capacity(rank);
        for (&x, &y) in pa.iter().zip(&pb) {
            if x != y && x != 1 && y != 1 {
                return None;
            }
            batch_shape.push(x.max(y));
        }
        let batch: usize = batch_shape.iter().product();
        let whole = |p: &[usize]| p == batch_shape.as_slice();
        let ones = |p: &[usize]| p.iter().all(|&d| d == 1);
        let a_bs = if whole(&pa) {
            m * k
        } else if ones(&pa) {
            0
        } else {
            return None;
        };
        let b_bs = if whole(&pb) {
            k * n
        } else if ones(&pb) {
            0
        } else {
            return None;
        };
        let mut out = batch_shape;
        if ash.len() > 1 {
            out.push(m);
        }
        if bsh.len() > 1 {
            out.push(n);
        }
        Some((
            GemmGeom {
                m,
                n,
                k,
                batch,
                a: (k, 1, a_bs),
                b: (n, 1, b_bs),
            },
            out,
        ))
    }

    /// ONNX Gemm of two matrices, optionally transposed (`None` when the inner dims differ).
    pub fn gemm(ash: &[usize], bsh: &[usize], ta: bool, tb: bool) -> Option<GemmGeom> {
        if ash.len() != 2 || bsh.len() != 2 {
            return None;
        }
        let (m, k) = if ta {
            (ash[1], ash[0])
        } else {
            (ash[0], ash[1])
        };
        let (k2, n) = if tb {
            (bsh[1], bsh[0])
        } else {
            (bsh[0], bsh[1])
        };
        if k != k2 {
            return None;
        }
        Some(GemmGeom {
            m,
            n,
            k,
            batch: 1,
            a: if ta { (1, m, 0) } else { (k, 1, 0) },
            b: if tb { (1, k, 0) } else { (n, 1, 0) },
        })
    }
}

/// (row, col) strides reading a bias of shape `c` broadcast to `[m, n]`, or `None` when it does
/// not broadcast (rank > 2, or a dim that is neither 1 nor the target).
pub fn bias_strides(c: &[usize], m: usize, n: usize) -> Option<(usize, usize)> {
    if c.len() > 2 {
        return None;
    }
    let (cr, cc) = match c.len() {
        0 => (1, 1),
        1 => (1, c[0]),
        _ => (c[0], c[1]),
    };
    if (cr != 1 && cr != m) || (cc != 1 && cc != n) {
        return None;
    }
    Some((if cr == 1 { 0 } else { cc }, if cc == 1 { 0 } else { 1 }))
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Params {
    m: u32,
    n: u32,
    k: u32,
    has_bias: u32,
    a_rs: u32,
    a_cs: u32,
    a_bs: u32,
    act: u32,
    b_rs: u32,
    b_cs: u32,
    b_bs: u32,
    _pad0: u32,
    c_rs: u32,
    c_cs: u32,
    alpha: f32,
    beta: f32,
}

/// A bias operand of [`record`]: the tensor and its (row, col) strides over the output matrix.
pub struct Bias<'a> {
    pub t: &'a GpuTensor,
    pub rs: usize,
    pub cs: usize,
    pub beta: f32,
}

/// Records `act(alpha·A·B + beta·bias)` per batch; output `[batch·m, n]` values under
/// `out_shape`.
#[allow(clippy::too_many_arguments)]
pub fn record(
    dev: &GpuDevice,
    rec: &mut Recorder,
    a: &GpuTensor,
    b: &GpuTensor,
    g: GemmGeom,
    bias: Option<Bias>,
    alpha: f32,
    act: Act,
    out_shape: Vec<usize>,
) -> Result<GpuTensor> {
    let out = dev.alloc(&out_shape)?;
    if let Some(why) = dispatch_limit(&g) {
        return Err(Error::Limit(why));
    }
    if g.m == 0 || g.n == 0 || g.batch == 0 {
        return Ok(out);
    }
    let p = Params {
        m: g.m as u32,
        n: g.n as u32,
        k: g.k as u32,
        has_bias: bias.is_some() as u32,
        a_rs: g.a.0 as u32,
        a_cs: g.a.1 as u32,
        a_bs: g.a.2 as u32,
        act: act as u32,
        b_rs: g.b.0 as u32,
        b_cs: g.b.1 as u32,
        b_bs: g.b.2 as u32,
        _pad0: 0,
        c_rs: bias.as_ref().map_or(0, |c| c.rs as u32),
        c_cs: bias.as_ref().map_or(0, |c| c.cs as u32),
        alpha,
        beta: bias.as_ref().map_or(0.0, |c| c.beta),
    };
    let u = dev.uniform(&p);
    let bias_buf = bias.as_ref().map_or(&a.buf, |c| &c.t.buf);
    dev.dispatch(
        rec,
        &SHADER,
        &[&a.buf, &b.buf, bias_buf, &out.buf, &u],
        (
            g.n.div_ceil(16) as u32,
            g.m.div_ceil(16) as u32,
            g.batch as u32,
        ),
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::webgpu::ops::tests::{assert_close, cpu1, dev, rand, up};
    use crate::ir::ops::linalg::LinalgOp;
    use crate::ir::ops::math::MathOp;
    use crate::tensor::Tensor;

    /// Gemm sums in a different order than the CPU's blocked GEMM: 1e-4 relative plus 1e-4·√k absolute.
    #[test]
    fn gemm_matches_cpu_with_transposes_bias_and_activations() {
        let d = dev();
        for (case, &(m, k, n, ta, tb, c_shape, act)) in [
            (1, 17, 8, false, false, &[8usize][..], Act::Relu),
            (5, 33, 19, true, false, &[5, 1][..], Act::Sigmoid),
            (64, 64, 64, false, true, &[64, 64][..], Act::Tanh),
            (3, 100, 40, true, true, &[][..], Act::None),
        ]
        .iter()
        .enumerate()
        {
            let ash = if ta { [k, m] } else { [m, k] };
            let bsh = if tb { [n, k] } else { [k, n] };
            let a = rand(&ash, 1 + case as u64, -1.0, 1.0);
            let b = rand(&bsh, 11 + case as u64, -1.0, 1.0);
            let c = rand(c_shape, 21 + case as u64, -1.0, 1.0);
            let (alpha, beta) = (0.5, 2.0);
            let op = crate::ir::Op::Linalg(LinalgOp::Gemm {
                alpha,
                beta,
                trans_a: ta,
                trans_b: tb,
            });
            let mut want = cpu1(op, &[&a, &b, &c]);
            let u = match act {
                Act::Relu => Some(Unary::Relu),
                Act::Sigmoid => Some(Unary::Sigmoid),
                Act::Tanh => Some(Unary::Tanh),
                Act::None => None,
            };
            if let Some(u) = u {
                want = cpu1(crate::ir::Op::Math(MathOp::Unary(u)), &[&want]);
            }
            let g = GemmGeom::gemm(a.shape(), b.shape(), ta, tb).unwrap();
            let (rs, cs) = bias_strides(c.shape(), m, n).unwrap();
            let (ga, gb, gc) = (up(&d, &a), up(&d, &b), up(&d, &c));
            let mut enc = d.encoder();
            let bias = Bias {
                t: &gc,
                rs,
                cs,
                beta,
            };
            let out = record(
                &d,
                &mut enc,
                &ga,
                &gb,
                g,
                Some(bias),
                alpha,
                act,
                vec![m, n],
            )
            .unwrap();
            let got = d.download(enc, &out).unwrap();
            assert_close(
                &format!("gemm case {case}"),
                &got,
                &want,
                1e-4 * (k as f32).sqrt(),
                1e-4,
            );
        }
    }

    #[test]
    fn matmul_matches_cpu_on_batched_and_vector_shapes() {
        let d = dev();
        for (case, (ash, bsh)) in [
            (vec![7usize], vec![7usize, 5]),
            (vec![4, 6], vec![6]),
            (vec![3, 4, 9], vec![9, 2]),
            (vec![2, 3, 4, 5], vec![2, 3, 5, 6]),
            (vec![4, 5], vec![3, 5, 6]),
            (vec![1, 20, 33], vec![1, 33, 17]),
        ]
        .into_iter()
        .enumerate()
        {
            let a = rand(&ash, 100 + case as u64, -2.0, 2.0);
            let b = rand(&bsh, 200 + case as u64, -2.0, 2.0);
            let want = cpu1(crate::ir::Op::Linalg(LinalgOp::MatMul), &[&a, &b]);
            let (g, shape) = GemmGeom::matmul(&ash, &bsh).unwrap();
            let (ga, gb) = (up(&d, &a), up(&d, &b));
            let mut enc = d.encoder();
            let out = record(&d, &mut enc, &ga, &gb, g, None, 1.0, Act::None, shape).unwrap();
            let got = d.download(enc, &out).unwrap();
            assert_close(
                &format!("matmul {ash:?}·{bsh:?}"),
                &got,
                &want,
                1e-4 * (g.k as f32).sqrt(),
                1e-4,
            );
        }
        // a broadcast the kernel does not cover is refused (the CPU runs it), not computed wrongly
        assert!(GemmGeom::matmul(&[2, 1, 3, 4], &[1, 5, 4, 2]).is_none());
    }

    /// The fused Relu epilogue keeps NaN as the CPU's MatMul + Relu do.
    #[test]
    fn fused_relu_keeps_nan() {
        let d = dev();
        let a = Tensor::from_f32(vec![2, 2], vec![f32::NAN, 1.0, -3.0, 1.0]).unwrap();
        let b = Tensor::from_f32(vec![2, 1], vec![1.0, 1.0]).unwrap();
        let mm = cpu1(crate::ir::Op::Linalg(LinalgOp::MatMul), &[&a, &b]);
        let want = cpu1(crate::ir::Op::Math(MathOp::Unary(Unary::Relu)), &[&mm]);
        let (g, shape) = GemmGeom::matmul(a.shape(), b.shape()).unwrap();
        let mut enc = d.encoder();
        let out = record(
            &d,
            &mut enc,
            &up(&d, &a),
            &up(&d, &b),
            g,
            None,
            1.0,
            Act::Relu,
            shape,
        )
        .unwrap();
        let got = d.download(enc, &out).unwrap();
        assert!(got.as_f32().unwrap()[0].is_nan(), "{got:?}");
        assert_close("fused relu NaN", &got, &want, 0.0, 0.0);
    }
}
