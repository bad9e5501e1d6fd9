//! Launchers for the shaders in `shaders/`: each checks nothing about the model (the executor
//! does) and records one compute pass into the caller's encoder, writing a fresh pooled output
//! buffer. Shapes and op codes travel in a uniform buffer, as the shaders' `Params` structs
//! declare them (the `#[repr(C)]` structs here mirror those field by field).

use super::device::{GpuDevice, Recorder};
use super::pool::GpuBuffer;
use crate::error::{Error, Result};
use crate::ir::ops::math::{Binary, Unary};
use std::sync::Arc;

/// A dense row-major f32 tensor in a GPU buffer. Clones share the buffer (reshapes are views).
#[derive(Clone, Debug)]
pub struct GpuTensor {
    pub(crate) buf: Arc<GpuBuffer>,
    pub shape: Vec<usize>,
}

impl GpuTensor {
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// The same buffer under another shape of the same element count.
    pub fn view(&self, shape: Vec<usize>) -> GpuTensor {
        debug_assert_eq!(shape.iter().product::<usize>(), self.numel());
        GpuTensor {
            buf: self.buf.clone(),
            shape,
        }
    }
}

/// Usage of every tensor buffer: kernels read and write them, uploads and readbacks copy.
pub(crate) const TENSOR_USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// WebGPU's minimum `maxComputeWorkgroupsPerDimension` (spec §3.6.2 limits); larger 1-D
/// dispatches are folded into a second dimension.
pub const MAX_GROUPS_PER_DIM: u32 = 65535;

/// Activation fused into the Gemm epilogue (codes as `gemm.wgsl`'s `activate`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    None = 0,
    Relu = 1,
    Sigmoid = 2,
    Tanh = 3,
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

/// The `unary.wgsl` op code and parameters of a unary op, or `None` when the shader lacks it.
pub fn unary_code(u: &Unary) -> Option<(u32, f32, f32)> {
    use Unary as U;
    Some(match *u {
        U::Abs => (0, 0.0, 0.0),
        U::Neg => (1, 0.0, 0.0),
        U::Relu => (2, 0.0, 0.0),
        U::Sqrt => (3, 0.0, 0.0),
        U::Reciprocal => (4, 0.0, 0.0),
        U::Exp => (5, 0.0, 0.0),
        U::Log => (6, 0.0, 0.0),
        U::Floor => (7, 0.0, 0.0),
        U::Ceil => (8, 0.0, 0.0),
        U::Sigmoid => (9, 0.0, 0.0),
        U::Tanh => (10, 0.0, 0.0),
        U::Sin => (11, 0.0, 0.0),
        U::Cos => (12, 0.0, 0.0),
        U::Softplus => (13, 0.0, 0.0),
        U::Softsign => (14, 0.0, 0.0),
        U::LeakyRelu { alpha } => (15, alpha, 0.0),
        U::Elu { alpha } => (16, alpha, 0.0),
        U::Selu { alpha, gamma } => (17, alpha, gamma),
        U::HardSigmoid { alpha, beta } => (18, alpha, beta),
        U::HardSwish => (19, 0.0, 0.0),
        U::Gelu { tanh: false } => (20, 0.0, 0.0),
        U::Gelu { tanh: true } => (21, 0.0, 0.0),
        U::Erf => (22, 0.0, 0.0),
        U::Mish => (24, 0.0, 0.0),
        U::Round => (25, 0.0, 0.0),
        U::Sign => (26, 0.0, 0.0),
        U::ThresholdedRelu { alpha } => (27, alpha, 0.0),
        U::Celu { alpha } => (28, alpha, 0.0),
        _ => return None,
    })
}

/// `unary.wgsl`'s Clip code (bounds as the two parameters).
pub const CLIP_CODE: u32 = 23;

/// Binary op codes of `binary.wgsl`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryCode {
    Add = 0,
    Sub = 1,
    Mul = 2,
    Div = 3,
    Pow = 4,
    Max = 5,
    Min = 6,
    PRelu = 7,
}

impl BinaryCode {
    pub fn of(b: &Binary) -> Option<BinaryCode> {
        Some(match b {
            Binary::Add => BinaryCode::Add,
            Binary::Sub => BinaryCode::Sub,
            Binary::Mul => BinaryCode::Mul,
            Binary::Div => BinaryCode::Div,
            Binary::Pow => BinaryCode::Pow,
            Binary::PRelu => BinaryCode::PRelu,
            _ => return None,
        })
    }
}

/// Largest rank `binary.wgsl` indexes (its uniform holds 8 dims).
pub const BINARY_MAX_RANK: usize = 8;

fn words<T: Copy>(p: &T) -> &[u8] {
    // SAFETY: the params structs are #[repr(C)] plain u32/f32 fields without padding.
    unsafe { std::slice::from_raw_parts((p as *const T).cast::<u8>(), std::mem::size_of::<T>()) }
}

/// Grid for `groups` workgroups in 1-D, folded into 2-D above 65535 (the shaders recompute the
/// flat index from `num_workgroups`).
fn grid(groups: usize) -> Result<(u32, u32)> {
    let g = groups as u64;
    let max = MAX_GROUPS_PER_DIM as u64;
    if g <= max {
        return Ok((g as u32, 1));
    }
    let y = g.div_ceil(max);
    if y > max {
        return Err(Error::Limit(format!(
            "{groups} workgroups exceed one GPU dispatch"
        )));
    }
    Ok((max as u32, y as u32))
}

impl GpuDevice {
    /// A new tensor buffer for `shape`, or an error when it exceeds one storage binding.
    pub(crate) fn alloc(&self, shape: &[usize]) -> Result<GpuTensor> {
        let n: usize = shape.iter().product();
        let bytes = (n as u64 * 4).max(4);
        if bytes.max(256).next_power_of_two() > self.max_binding() {
            return Err(Error::Limit(format!(
                "a tensor of {n} f32 values exceeds the GPU's largest storage binding ({} B)",
                self.max_binding()
            )));
        }
        Ok(GpuTensor {
            buf: Arc::new(self.pool.get(bytes, TENSOR_USAGE)),
            shape: shape.to_vec(),
        })
    }

    /// Copies host values into a new tensor buffer (queued before the next submit).
    pub(crate) fn upload(&self, shape: &[usize], v: &[f32]) -> Result<GpuTensor> {
        let t = self.alloc(shape)?;
        if !v.is_empty() {
            self.queue
                .write_buffer(t.buf.raw(), 0, bytemuck::cast_slice(v));
        }
        Ok(t)
    }

    fn uniform<T: Copy>(&self, p: &T) -> Arc<GpuBuffer> {
        let bytes = words(p);
        let b = self.pool.get(
            bytes.len() as u64,
            wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        );
        self.queue.write_buffer(b.raw(), 0, bytes);
        Arc::new(b)
    }

    fn dispatch(
        &self,
        rec: &mut Recorder,
        shader: &'static str,
        buffers: &[&Arc<GpuBuffer>],
        groups: (u32, u32, u32),
    ) -> Result<()> {
        let pipeline = self.pipeline(shader)?;
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: b.raw().as_entire_binding(),
            })
            .collect();
        let bind = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(shader),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        rec.keep.extend(buffers.iter().map(|b| Arc::clone(b)));
        let mut pass = rec.enc.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some(shader),
            timestamp_writes: None,
        });
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups(groups.0, groups.1, groups.2);
        Ok(())
    }
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
struct GemmParams {
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

/// A bias operand of [`gemm`]: the tensor and its (row, col) strides over the output matrix.
pub struct Bias<'a> {
    pub t: &'a GpuTensor,
    pub rs: usize,
    pub cs: usize,
    pub beta: f32,
}

/// `act(alpha·A·B + beta·bias)` per batch; output `[batch·m, n]` values under `out_shape`.
#[allow(clippy::too_many_arguments)]
pub fn gemm(
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
    let gx = g.n.div_ceil(16);
    let gy = g.m.div_ceil(16);
    let max = MAX_GROUPS_PER_DIM as usize;
    if gx > max || gy > max || g.batch > max {
        return Err(Error::Limit(format!(
            "a {}×{}×{} product in {} batches exceeds one GPU dispatch",
            g.m, g.k, g.n, g.batch
        )));
    }
    if g.m == 0 || g.n == 0 || g.batch == 0 {
        return Ok(out);
    }
    let p = GemmParams {
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
        "gemm",
        &[&a.buf, &b.buf, bias_buf, &out.buf, &u],
        (gx as u32, gy as u32, g.batch as u32),
    )?;
    Ok(out)
}

#[repr(C)]
#[derive(Clone, Copy)]
struct UnaryParams {
    n: u32,
    op: u32,
    alpha: f32,
    beta: f32,
}

/// `out[i] = f(x[i])` with `unary.wgsl` op `code` and parameters.
pub fn unary(
    dev: &GpuDevice,
    rec: &mut Recorder,
    x: &GpuTensor,
    code: u32,
    alpha: f32,
    beta: f32,
) -> Result<GpuTensor> {
    let out = dev.alloc(&x.shape)?;
    let n = x.numel();
    if n == 0 {
        return Ok(out);
    }
    let (gx, gy) = grid(n.div_ceil(256))?;
    let u = dev.uniform(&UnaryParams {
        n: n as u32,
        op: code,
        alpha,
        beta,
    });
    dev.dispatch(rec, "unary", &[&x.buf, &out.buf, &u], (gx, gy, 1))?;
    Ok(out)
}

#[repr(C)]
#[derive(Clone, Copy)]
struct BinaryParams {
    n: u32,
    rank: u32,
    op: u32,
    _pad: u32,
    shape: [u32; 8],
    sa: [u32; 8],
    sb: [u32; 8],
}

/// Broadcast shape of two shapes (numpy rules), or `None`.
pub fn broadcast(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let r = a.len().max(b.len());
    let mut out = vec![0; r];
    for i in 0..r {
        let x = if i + a.len() >= r {
            a[i + a.len() - r]
        } else {
            1
        };
        let y = if i + b.len() >= r {
            b[i + b.len() - r]
        } else {
            1
        };
        out[i] = if x == y || y == 1 {
            x
        } else if x == 1 {
            y
        } else {
            return None;
        };
    }
    Some(out)
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

/// `out = f(a, b)` with broadcasting (rank ≤ 8).
pub fn binary(
    dev: &GpuDevice,
    rec: &mut Recorder,
    a: &GpuTensor,
    b: &GpuTensor,
    op: BinaryCode,
) -> Result<GpuTensor> {
    let shape = broadcast(&a.shape, &b.shape).ok_or_else(|| {
        Error::shape(format!(
            "shapes {:?} and {:?} do not broadcast",
            a.shape, b.shape
        ))
    })?;
    if shape.len() > BINARY_MAX_RANK {
        return Err(Error::Limit(format!(
            "rank {} is above the GPU binary kernel's {BINARY_MAX_RANK}",
            shape.len()
        )));
    }
    let out = dev.alloc(&shape)?;
    let n: usize = shape.iter().product();
    if n == 0 {
        return Ok(out);
    }
    let mut p = BinaryParams {
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
    dev.dispatch(rec, "binary", &[&a.buf, &b.buf, &out.buf, &u], (gx, gy, 1))?;
    Ok(out)
}

#[repr(C)]
#[derive(Clone, Copy)]
struct RowParams {
    rows: u32,
    len: u32,
    flag: u32,
    eps: f32,
}

/// Softmax (or LogSoftmax) of each contiguous row of `len` values.
pub fn softmax(
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
    let u = dev.uniform(&RowParams {
        rows: rows as u32,
        len: len as u32,
        flag: log as u32,
        eps: 0.0,
    });
    dev.dispatch(rec, "softmax", &[&x.buf, &out.buf, &u], (gx, gy, 1))?;
    Ok(out)
}

/// LayerNormalization of each contiguous row of `len` values with `len`-long scale and bias.
/// Returns the output and the row statistics (`[mean; rows]` then `[inv_std; rows]`).
pub fn layer_norm(
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
    let rows = if len == 0 { 0 } else { n / len };
    let stats = dev.alloc(&[2 * rows])?;
    if n == 0 {
        return Ok((out, stats));
    }
    let (gx, gy) = grid(rows)?;
    let u = dev.uniform(&RowParams {
        rows: rows as u32,
        len: len as u32,
        flag: bias.is_some() as u32,
        eps,
    });
    let bias_buf = bias.map_or(&scale.buf, |b| &b.buf);
    dev.dispatch(
        rec,
        "layer_norm",
        &[&x.buf, &scale.buf, bias_buf, &out.buf, &stats.buf, &u],
        (gx, gy, 1),
    )?;
    Ok((out, stats))
}

#[repr(C)]
#[derive(Clone, Copy)]
struct TransposeParams {
    n: u32,
    rank: u32,
    _pad: [u32; 2],
    shape: [u32; 8],
    st: [u32; 8],
}

/// `out = transpose(x, perm)`: output axis `d` is input axis `perm[d]` (rank ≤ 8; the caller
/// checks that `perm` is a permutation).
pub fn transpose(
    dev: &GpuDevice,
    rec: &mut Recorder,
    x: &GpuTensor,
    perm: &[usize],
) -> Result<GpuTensor> {
    let r = x.shape.len();
    if perm.len() != r || r > BINARY_MAX_RANK {
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
    let mut p = TransposeParams {
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
    dev.dispatch(rec, "transpose", &[&x.buf, &out.buf, &u], (gx, gy, 1))?;
    Ok(out)
}

#[derive(Clone, Copy)]
#[repr(C)]
struct RecParams {
    n: u32,
    d: u32,
    flag_a: u32,
    flag_b: u32,
}

/// Recommendation scores (`shaders/rec_scores.wgsl`): `table` `[n, d]` · `q` `[d]` (+ `bias`
/// `[n]`), `f32::MIN` where the candidate `mask` (u32 words, bit i = item i) is clear.
pub fn rec_scores(
    dev: &GpuDevice,
    rec: &mut Recorder,
    table: &GpuTensor,
    q: &GpuTensor,
    bias: Option<&GpuTensor>,
    mask: Option<&GpuTensor>,
) -> Result<GpuTensor> {
    let (n, d) = (table.shape[0], table.shape[1]);
    let out = dev.alloc(&[n])?;
    let dummy = dev.alloc(&[1])?;
    let (gx, gy) = grid(n.div_ceil(64))?;
    let u = dev.uniform(&RecParams {
        n: n as u32,
        d: d as u32,
        flag_a: bias.is_some() as u32,
        flag_b: mask.is_some() as u32,
    });
    let b = bias.map_or(&dummy.buf, |b| &b.buf);
    let m = mask.map_or(&dummy.buf, |m| &m.buf);
    dev.dispatch(
        rec,
        "rec_scores",
        &[&table.buf, &q.buf, b, m, &out.buf, &u],
        (gx, gy, 1),
    )?;
    Ok(out)
}

/// Candidates one `rec_topk` workgroup reduces to its best `k`.
pub const REC_TOPK_CHUNK: usize = 256 * 8;

/// One top-k round (`shaders/rec_topk.wgsl`): the best `k` (≤ 64) of every chunk of
/// [`REC_TOPK_CHUNK`] candidates, as (scores, item indices as u32 bits). `idx` is `None` on the
/// first round (positions are item indices).
pub fn rec_topk(
    dev: &GpuDevice,
    rec: &mut Recorder,
    vals: &GpuTensor,
    idx: Option<&GpuTensor>,
    n: usize,
    k: usize,
) -> Result<(GpuTensor, GpuTensor)> {
    if k == 0 || k > 64 {
        return Err(Error::Argument(format!(
            "GPU top-k needs 1 <= k <= 64, got {k}"
        )));
    }
    let groups = n.div_ceil(REC_TOPK_CHUNK).max(1);
    let (out_v, out_i) = (dev.alloc(&[groups * k])?, dev.alloc(&[groups * k])?);
    let dummy = dev.alloc(&[1])?;
    let (gx, gy) = grid(groups)?;
    let u = dev.uniform(&RecParams {
        n: n as u32,
        d: k as u32,
        flag_a: idx.is_some() as u32,
        flag_b: 0,
    });
    let i = idx.map_or(&dummy.buf, |i| &i.buf);
    dev.dispatch(
        rec,
        "rec_topk",
        &[&vals.buf, i, &out_v.buf, &out_i.buf, &u],
        (gx, gy, 1),
    )?;
    Ok((out_v, out_i))
}
