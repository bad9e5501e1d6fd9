//! The hybrid interpreter (feature `webgpu`): runs a planned graph with each node on the GPU when
//! a shader covers it (f32 inputs, a layout the shader handles) and on the CPU kernels otherwise.
//! Values stay where they were computed; a GPU node uploads a host input (constants once per
//! session), a CPU node downloads a GPU input (once per value), and graph outputs are read back
//! at the end. One command encoder collects the GPU work between two readbacks.
//!
//! Placement is decided per node when the session is built ([`GpuKernel`]) and confirmed per run
//! from the actual inputs; [`Placement`] counts where each op ran in the last run.
//!
//! Fusion: a MatMul whose only reader is an `Add` of a bias along the last axis, and/or a Gemm or
//! MatMul whose only reader is Relu/Sigmoid/Tanh, run as one `gemm.wgsl` dispatch; the fused
//! nodes are skipped. When the head cannot run fused (bias layout, CPU fallback), nothing is
//! skipped and the nodes run one by one.

use super::Plan;
use crate::backend::cpu;
use crate::backend::webgpu::kernels::{self, Act, Bias, BinaryCode, GemmGeom};
use crate::backend::webgpu::{GpuDevice, GpuTensor, Recorder};
use crate::error::{Error, Result};
use crate::ir::ops::linalg::LinalgOp;
use crate::ir::ops::math::{MathOp, Variadic};
use crate::ir::ops::shape::ShapeOp;
use crate::ir::{Graph, Op, ValueId};
use crate::tensor::{DType, Tensor};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// The GPU kernel a node can run as.
#[derive(Clone, Debug)]
enum GpuKernel {
    Gemm {
        alpha: f32,
        beta: f32,
        ta: bool,
        tb: bool,
    },
    MatMul,
    Unary {
        code: u32,
        alpha: f32,
        beta: f32,
    },
    Binary(BinaryCode),
    Softmax {
        axis: i64,
        log: bool,
        legacy: bool,
    },
    LayerNorm {
        axis: i64,
        eps: f32,
    },
    /// Shape-only ops: the output is the input's buffer under a new shape.
    View,
    /// `None`: reverse the axes.
    Transpose(Option<Vec<usize>>),
}

/// A Gemm/MatMul with the nodes fused into it.
#[derive(Clone, Debug)]
struct Fusion {
    /// The bias operand of a fused `Add` (MatMul only).
    bias: Option<ValueId>,
    act: Act,
    /// The value the fused chain produces (the last fused node's output).
    out: ValueId,
    /// Indices of the fused nodes after the head.
    skip: Vec<usize>,
}

/// Where each op ran in one run, by ONNX op type.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Placement {
    pub gpu: BTreeMap<String, usize>,
    pub cpu: BTreeMap<String, usize>,
    /// Nodes folded into a Gemm/MatMul dispatch (also counted under `gpu`).
    pub fused: usize,
    /// Host→GPU copies (constants count once per session) and GPU→host copies.
    pub uploads: usize,
    pub downloads: usize,
}

impl Placement {
    /// One line for reports: `Op×count` on the GPU and on the CPU, fused nodes, copies.
    pub fn summary(&self) -> String {
        let list = |m: &BTreeMap<String, usize>| {
            m.iter()
                .map(|(k, v)| format!("{k}×{v}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        format!(
            "gpu: [{}] cpu: [{}] fused {} uploads {} downloads {}",
            list(&self.gpu),
            list(&self.cpu),
            self.fused,
            self.uploads,
            self.downloads
        )
    }
}

/// A graph prepared for the hybrid interpreter on one device.
pub struct GpuGraph {
    dev: Arc<GpuDevice>,
    kernels: Vec<Option<GpuKernel>>,
    fusions: Vec<Option<Fusion>>,
    /// Constants already uploaded (weights go to the GPU once per session).
    consts: Mutex<HashMap<ValueId, GpuTensor>>,
    last: Mutex<Placement>,
}

impl std::fmt::Debug for GpuGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuGraph")
            .field("device", &self.dev)
            .finish_non_exhaustive()
    }
}

fn kernel_of(graph: &Graph, op: &Op, inputs: &[Option<ValueId>]) -> Option<GpuKernel> {
    let konst = |k: usize| -> Option<Option<f32>> {
        match inputs.get(k).copied().flatten() {
            None => Some(None),
            Some(v) => graph
                .constants
                .get(&v)
                .filter(|t| t.numel() == 1 && t.dtype() == DType::F32)
                .map(|t| Some(t.as_f32().ok()?[0]))
                .unwrap_or(None)
                .map(Some),
        }
    };
    Some(match op {
        Op::Linalg(LinalgOp::Gemm {
            alpha,
            beta,
            trans_a,
            trans_b,
        }) => GpuKernel::Gemm {
            alpha: *alpha,
            beta: *beta,
            ta: *trans_a,
            tb: *trans_b,
        },
        Op::Linalg(LinalgOp::MatMul) => GpuKernel::MatMul,
        Op::Linalg(LinalgOp::Softmax { axis, log, legacy }) => GpuKernel::Softmax {
            axis: *axis,
            log: *log,
            legacy: *legacy,
        },
        Op::Linalg(LinalgOp::LayerNorm { axis, epsilon }) => GpuKernel::LayerNorm {
            axis: *axis,
            eps: *epsilon,
        },
        Op::Math(MathOp::Unary(u)) => {
            let (code, alpha, beta) = kernels::unary_code(u)?;
            GpuKernel::Unary { code, alpha, beta }
        }
        Op::Math(MathOp::Clip { min, max }) => {
            // bounds from attributes, or from scalar constant inputs
            let lo = match min {
                Some(v) => Some(*v),
                None => konst(1)?,
            };
            let hi = match max {
                Some(v) => Some(*v),
                None => konst(2)?,
            };
            GpuKernel::Unary {
                code: kernels::CLIP_CODE,
                alpha: lo.unwrap_or(f32::MIN),
                beta: hi.unwrap_or(f32::MAX),
            }
        }
        Op::Math(MathOp::Binary(b)) => GpuKernel::Binary(BinaryCode::of(b)?),
        Op::Math(MathOp::Variadic(v)) if inputs.len() == 2 => GpuKernel::Binary(match v {
            Variadic::Sum => BinaryCode::Add,
            Variadic::Max => BinaryCode::Max,
            Variadic::Min => BinaryCode::Min,
            Variadic::Mean => return None,
        }),
        Op::Shape(
            ShapeOp::Identity
            | ShapeOp::Reshape { .. }
            | ShapeOp::Flatten { .. }
            | ShapeOp::Squeeze { .. }
            | ShapeOp::Unsqueeze { .. },
        ) => GpuKernel::View,
        Op::Shape(ShapeOp::Transpose { perm }) => GpuKernel::Transpose(perm.clone()),
        _ => return None,
    })
}

fn fusions(graph: &Graph, kernels: &[Option<GpuKernel>]) -> Vec<Option<Fusion>> {
    let mut readers: HashMap<ValueId, Vec<usize>> = HashMap::new();
    for (i, n) in graph.nodes.iter().enumerate() {
        for &v in n.inputs.iter().flatten() {
            readers.entry(v).or_default().push(i);
        }
    }
    // the single reader of `v`, when `v` is an intermediate read exactly once
    let only_reader = |v: ValueId| -> Option<usize> {
        if graph.outputs.contains(&v) {
            return None;
        }
        match readers.get(&v).map(Vec::as_slice) {
            Some([r]) => Some(*r),
            _ => None,
        }
    };
    let act_of = |i: usize| match &graph.nodes[i].op {
        Op::Math(MathOp::Unary(u)) => Act::of(u),
        _ => None,
    };
    graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let is_matmul = matches!(kernels[i], Some(GpuKernel::MatMul));
            if !is_matmul && !matches!(kernels[i], Some(GpuKernel::Gemm { .. })) {
                return None;
            }
            let mut f = Fusion {
                bias: None,
                act: Act::None,
                out: *node.outputs.first()?,
                skip: vec![],
            };
            if is_matmul {
                if let Some(j) = only_reader(f.out) {
                    let add = &graph.nodes[j];
                    if matches!(
                        add.op,
                        Op::Math(MathOp::Binary(crate::ir::ops::math::Binary::Add))
                    ) && add.inputs.len() == 2
                    {
                        let other = add.inputs.iter().flatten().copied().find(|&v| v != f.out);
                        if let Some(b) = other {
                            f.bias = Some(b);
                            f.out = add.outputs[0];
                            f.skip.push(j);
                        }
                    }
                }
            }
            if let Some(j) = only_reader(f.out) {
                if let Some(a) = act_of(j) {
                    f.act = a;
                    f.out = graph.nodes[j].outputs[0];
                    f.skip.push(j);
                }
            }
            (!f.skip.is_empty()).then_some(f)
        })
        .collect()
}

/// A value during a run: on the host, on the GPU, or both (after a copy).
#[derive(Default)]
struct Slot<'a> {
    host: Option<Cow<'a, Tensor>>,
    gpu: Option<GpuTensor>,
}

struct Run<'a, 'g> {
    g: &'g GpuGraph,
    graph: &'a Graph,
    slots: Vec<Slot<'a>>,
    rec: Option<Recorder>,
    stats: Placement,
    /// Nodes already computed by a fused dispatch.
    skip: Vec<usize>,
}

impl<'a> Run<'a, '_> {
    fn rec(&mut self) -> &mut Recorder {
        if self.rec.is_none() {
            self.rec = Some(self.g.dev.encoder());
        }
        self.rec.as_mut().unwrap()
    }

    fn is_f32(&self, v: ValueId) -> bool {
        let s = &self.slots[v];
        s.gpu.is_some() || s.host.as_ref().is_some_and(|t| t.dtype() == DType::F32)
    }

    fn shape(&self, v: ValueId) -> Option<Vec<usize>> {
        let s = &self.slots[v];
        s.gpu
            .as_ref()
            .map(|t| t.shape.clone())
            .or_else(|| s.host.as_ref().map(|t| t.shape().to_vec()))
    }

    /// The value on the GPU (uploading it once if it is on the host).
    fn gpu(&mut self, v: ValueId) -> Result<GpuTensor> {
        if let Some(t) = &self.slots[v].gpu {
            return Ok(t.clone());
        }
        let is_const = self.graph.constants.contains_key(&v);
        if is_const {
            if let Some(t) = self.g.consts.lock().unwrap().get(&v) {
                return Ok(t.clone());
            }
        }
        let host = self.slots[v].host.as_ref().ok_or_else(|| {
            Error::model(format!(
                "'{}' read before it is computed",
                self.graph.values[v].name
            ))
        })?;
        let t = self.g.dev.upload_tensor(host)?;
        self.stats.uploads += 1;
        if is_const {
            self.g.consts.lock().unwrap().insert(v, t.clone());
        }
        self.slots[v].gpu = Some(t.clone());
        Ok(t)
    }

    /// The value on the host if it is there (no download).
    fn host_now(&self, v: ValueId) -> Option<&Tensor> {
        self.slots[v].host.as_deref()
    }

    /// The value on the host (downloading it once if it is on the GPU).
    async fn host(&mut self, v: ValueId) -> Result<&Tensor> {
        if self.slots[v].host.is_none() {
            let t = self.slots[v].gpu.clone().ok_or_else(|| {
                Error::model(format!(
                    "'{}' read before it is computed",
                    self.graph.values[v].name
                ))
            })?;
            let rec = self.rec.take().unwrap_or_else(|| self.g.dev.encoder());
            let h = self.g.dev.download_async(rec, &t).await?;
            self.stats.downloads += 1;
            self.slots[v].host = Some(Cow::Owned(h));
        }
        Ok(self.slots[v].host.as_deref().unwrap())
    }

    /// Tries node `i` on the GPU; `Ok(None)` when its inputs do not fit the kernel (the CPU runs it).
    fn try_gpu(&mut self, i: usize, k: &GpuKernel) -> Result<Option<Vec<(ValueId, GpuTensor)>>> {
        let node = &self.graph.nodes[i];
        let ins: Vec<ValueId> = node.inputs.iter().flatten().copied().collect();
        let x = match node.inputs.first().copied().flatten() {
            Some(x) => x,
            None => return Ok(None),
        };
        let dev = self.g.dev.clone();
        match k {
            GpuKernel::View => {
                // only worth it for a value already on the GPU
                if self.slots[x].gpu.is_none() || self.slots[x].host.is_some() {
                    return Ok(None);
                }
                let t = self.slots[x].gpu.clone().unwrap();
                if let Some(v) = node.inputs.get(1).copied().flatten() {
                    if self.host_now(v).is_none() {
                        return Ok(None);
                    }
                }
                let Op::Shape(op) = &node.op else {
                    return Ok(None);
                };
                // shapes and axes are integer tensors: always on the host
                let second = |run: &mut Self| -> Result<Option<Vec<i64>>> {
                    match node.inputs.get(1).copied().flatten() {
                        Some(v) => Ok(run.host_now(v).map(|t| t.to_i64_vec())),
                        None => Ok(None),
                    }
                };
                let shape = match op {
                    ShapeOp::Identity => t.shape.clone(),
                    ShapeOp::Flatten { axis } => {
                        let r = t.shape.len() as i64;
                        let a = if *axis < 0 { axis + r } else { *axis };
                        if a < 0 || a > r {
                            return Ok(None);
                        }
                        let outer: usize = t.shape[..a as usize].iter().product();
                        vec![outer, t.numel() / outer.max(1)]
                    }
                    ShapeOp::Reshape { shape, allowzero } => {
                        let spec = match shape {
                            Some(s) => s.clone(),
                            None => match second(self)? {
                                Some(s) => s,
                                None => return Ok(None),
                            },
                        };
                        cpu::shape::reshape_dims(&t.shape, &spec, *allowzero)?
                    }
                    ShapeOp::Squeeze { axes } => {
                        let axes = match axes {
                            Some(a) => Some(a.clone()),
                            None => second(self)?,
                        };
                        cpu::shape::squeeze_dims(&t.shape, axes)?
                    }
                    ShapeOp::Unsqueeze { axes } => {
                        let axes = match axes {
                            Some(a) => a.clone(),
                            None => match second(self)? {
                                Some(a) => a,
                                None => return Ok(None),
                            },
                        };
                        cpu::shape::unsqueeze_dims(&t.shape, &axes)?
                    }
                    _ => return Ok(None),
                };
                return Ok(Some(vec![(node.outputs[0], t.view(shape))]));
            }
            _ => {
                // every input the kernel reads must be f32
                if !ins.iter().all(|&v| self.is_f32(v)) {
                    return Ok(None);
                }
            }
        }
        let out = node.outputs[0];
        Ok(Some(match k {
            GpuKernel::Unary { code, alpha, beta } => {
                let xt = self.gpu(x)?;
                vec![(
                    out,
                    kernels::unary(&dev, self.rec(), &xt, *code, *alpha, *beta)?,
                )]
            }
            GpuKernel::Binary(code) => {
                if ins.len() != 2 {
                    return Ok(None);
                }
                let (sa, sb) = (
                    self.shape(ins[0]).unwrap_or_default(),
                    self.shape(ins[1]).unwrap_or_default(),
                );
                match kernels::broadcast(&sa, &sb) {
                    Some(s) if s.len() <= kernels::BINARY_MAX_RANK => {}
                    _ => return Ok(None),
                }
                if *code == BinaryCode::PRelu && sb.len() > sa.len() {
                    return Ok(None); // PRelu broadcasts the slope to x only: the CPU reports it
                }
                let (a, b) = (self.gpu(ins[0])?, self.gpu(ins[1])?);
                vec![(out, kernels::binary(&dev, self.rec(), &a, &b, *code)?)]
            }
            GpuKernel::Softmax { axis, log, legacy } => {
                let shape = self.shape(x).unwrap_or_default();
                let Ok(a) = cpu::util::norm_axis(*axis, shape.len()) else {
                    return Ok(None);
                };
                if !*legacy && shape[a + 1..].iter().product::<usize>() != 1 {
                    return Ok(None); // not a contiguous row: the CPU's column path
                }
                let len = shape[a..].iter().product();
                let xt = self.gpu(x)?;
                vec![(out, kernels::softmax(&dev, self.rec(), &xt, len, *log)?)]
            }
            GpuKernel::LayerNorm { axis, eps } => {
                let shape = self.shape(x).unwrap_or_default();
                let Ok(a) = cpu::util::norm_axis(*axis, shape.len()) else {
                    return Ok(None);
                };
                let inner = &shape[a..];
                let len: usize = inner.iter().product();
                let fits = |v: Option<ValueId>, run: &Self| {
                    v.is_none_or(|v| {
                        let s = run.shape(v).unwrap_or_default();
                        s.iter().product::<usize>() == len
                            && kernels::broadcast(&s, inner).as_deref() == Some(inner)
                    })
                };
                let scale = node.inputs.get(1).copied().flatten();
                let bias = node.inputs.get(2).copied().flatten();
                if scale.is_none() || !fits(scale, self) || !fits(bias, self) {
                    return Ok(None);
                }
                let xt = self.gpu(x)?;
                let st = self.gpu(scale.unwrap())?;
                let bt = match bias {
                    Some(b) => Some(self.gpu(b)?),
                    None => None,
                };
                let (y, stats) =
                    kernels::layer_norm(&dev, self.rec(), &xt, len, &st, bt.as_ref(), *eps)?;
                let mut outs = vec![(out, y)];
                let mut stat_shape = shape[..a].to_vec();
                stat_shape.extend(std::iter::repeat_n(1, shape.len() - a));
                let rows: usize = shape[..a].iter().product();
                // Mean and InvStdDev: the two halves of `stats`, copied out when asked for
                for (k, &v) in node.outputs.iter().enumerate().skip(1).take(2) {
                    let t = dev.alloc(&stat_shape)?;
                    if rows > 0 {
                        let off = ((k - 1) * rows * 4) as u64;
                        let rec = self.rec();
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
                    outs.push((v, t));
                }
                outs
            }
            GpuKernel::Transpose(perm) => {
                let r = self.shape(x).unwrap_or_default().len();
                let perm: Vec<usize> = perm.clone().unwrap_or_else(|| (0..r).rev().collect());
                let mut seen = vec![false; r];
                let is_perm = perm.len() == r
                    && perm
                        .iter()
                        .all(|&a| a < r && !std::mem::replace(&mut seen[a], true));
                if !is_perm || r > kernels::BINARY_MAX_RANK {
                    return Ok(None); // the CPU kernel reports a bad perm
                }
                let xt = self.gpu(x)?;
                vec![(out, kernels::transpose(&dev, self.rec(), &xt, &perm)?)]
            }
            GpuKernel::Gemm { .. } | GpuKernel::MatMul => return self.gemm(i, k),
            GpuKernel::View => unreachable!("handled above"),
        }))
    }

    fn gemm(&mut self, i: usize, k: &GpuKernel) -> Result<Option<Vec<(ValueId, GpuTensor)>>> {
        let node = &self.graph.nodes[i];
        let (Some(av), Some(bv)) = (
            node.inputs.first().copied().flatten(),
            node.inputs.get(1).copied().flatten(),
        ) else {
            return Ok(None);
        };
        let (ash, bsh) = (
            self.shape(av).unwrap_or_default(),
            self.shape(bv).unwrap_or_default(),
        );
        let fusion = self.g.fusions[i].clone();
        let (geom, out_shape, alpha, mut bias) = match k {
            GpuKernel::Gemm {
                alpha,
                beta,
                ta,
                tb,
            } => {
                let Some(g) = GemmGeom::gemm(&ash, &bsh, *ta, *tb) else {
                    return Ok(None);
                };
                let c = node
                    .inputs
                    .get(2)
                    .copied()
                    .flatten()
                    .filter(|_| *beta != 0.0);
                let bias = match c {
                    Some(c) => {
                        let Some((rs, cs)) =
                            kernels::bias_strides(&self.shape(c).unwrap_or_default(), g.m, g.n)
                        else {
                            return Ok(None);
                        };
                        Some((c, rs, cs, *beta))
                    }
                    None => None,
                };
                (g, vec![g.m, g.n], *alpha, bias)
            }
            _ => {
                let Some((g, shape)) = GemmGeom::matmul(&ash, &bsh) else {
                    return Ok(None);
                };
                (g, shape, 1.0, None)
            }
        };
        // a fused bias must run along the last axis: shape [.., n] with every other dim 1
        let fused = fusion.filter(|f| {
            let Some(b) = f.bias else { return true };
            let bs = self.shape(b).unwrap_or_default();
            self.is_f32(b)
                && bs.len() <= out_shape.len()
                && bs.last() == out_shape.last()
                && bs.iter().product::<usize>() == geom.n
                && geom.n == *out_shape.last().unwrap_or(&0)
        });
        if let Some(f) = &fused {
            if let Some(b) = f.bias {
                bias = Some((b, 0, 1, 1.0));
            }
        }
        let (a, b) = (self.gpu(av)?, self.gpu(bv)?);
        let bias_t = match bias {
            Some((v, ..)) => Some(self.gpu(v)?),
            None => None,
        };
        let dev = self.g.dev.clone();
        let act = fused.as_ref().map_or(Act::None, |f| f.act);
        let bias_arg = bias
            .zip(bias_t.as_ref())
            .map(|((_, rs, cs, beta), t)| Bias { t, rs, cs, beta });
        let y = match kernels::gemm(
            &dev,
            self.rec(),
            &a,
            &b,
            geom,
            bias_arg,
            alpha,
            act,
            out_shape,
        ) {
            Ok(y) => y,
            Err(Error::Limit(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(Some(match fused {
            Some(f) => {
                self.stats.fused += f.skip.len();
                for &j in &f.skip {
                    *self
                        .stats
                        .gpu
                        .entry(self.graph.nodes[j].op.name().to_string())
                        .or_default() += 1;
                }
                self.skip.extend(f.skip.iter().copied());
                vec![(f.out, y)]
            }
            None => vec![(node.outputs[0], y)],
        }))
    }
}

impl GpuGraph {
    /// Prepares `graph` for `dev`: the kernel of each node and the fusions. The pipelines are
    /// compiled here (once per device), not in the first run.
    pub fn new(dev: Arc<GpuDevice>, graph: &Graph) -> GpuGraph {
        let kernels: Vec<Option<GpuKernel>> = graph
            .nodes
            .iter()
            .map(|n| kernel_of(graph, &n.op, &n.inputs))
            .collect();
        let fusions = fusions(graph, &kernels);
        // a failure here resurfaces as a typed error at the first run that needs the shader
        let _ = dev.compile_all();
        GpuGraph {
            dev,
            kernels,
            fusions,
            consts: Mutex::new(HashMap::new()),
            last: Mutex::new(Placement::default()),
        }
    }

    pub fn device(&self) -> &Arc<GpuDevice> {
        &self.dev
    }

    /// Where each op ran in the last run.
    pub fn placement(&self) -> Placement {
        self.last.lock().unwrap().clone()
    }

    /// [`run_async`](Self::run_async), blocking (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn run(&self, graph: &Graph, plan: &Plan, inputs: &[&Tensor]) -> Result<Vec<Tensor>> {
        crate::backend::webgpu::block_on(self.run_async(graph, plan, inputs))
    }

    /// Runs `graph` (the graph this was built from) following `plan`, as
    /// [`run_graph`](super::run_graph) does on the CPU. Awaits only GPU readbacks.
    pub async fn run_async(
        &self,
        graph: &Graph,
        plan: &Plan,
        inputs: &[&Tensor],
    ) -> Result<Vec<Tensor>> {
        if let Some(why) = self.dev.lost() {
            return Err(Error::Gpu(format!("the GPU device was lost ({why})")));
        }
        let mut slots: Vec<Slot> = (0..graph.values.len()).map(|_| Slot::default()).collect();
        for (id, t) in &graph.constants {
            slots[*id].host = Some(Cow::Borrowed(t.as_ref()));
        }
        for (&id, &t) in graph.inputs.iter().zip(inputs) {
            slots[id].host = Some(Cow::Borrowed(t));
        }
        let mut run = Run {
            g: self,
            graph,
            slots,
            rec: None,
            stats: Placement::default(),
            skip: Vec::new(),
        };
        for (i, node) in graph.nodes.iter().enumerate() {
            if run.skip.contains(&i) {
                for &v in &plan.frees[i] {
                    run.slots[v] = Slot::default();
                }
                continue;
            }
            let wrap = |e: Error| match e {
                e @ Error::Node { .. } => e,
                e => Error::Node {
                    node: node.name.clone(),
                    op: node.op.name().to_string(),
                    source: Box::new(e),
                },
            };
            let on_gpu = match &self.kernels[i] {
                // a tensor or dispatch beyond the device's limits runs on the CPU instead
                Some(k) => match run.try_gpu(i, k) {
                    Ok(outs) => outs,
                    Err(Error::Limit(_)) => None,
                    Err(e) => return Err(wrap(e)),
                },
                None => None,
            };
            match on_gpu {
                Some(outs) => {
                    *run.stats.gpu.entry(node.op.name().to_string()).or_default() += 1;
                    for (v, t) in outs {
                        run.slots[v] = Slot {
                            host: None,
                            gpu: Some(t),
                        };
                    }
                }
                None => {
                    *run.stats.cpu.entry(node.op.name().to_string()).or_default() += 1;
                    for &v in node.inputs.iter().flatten() {
                        run.host(v).await.map_err(wrap)?;
                    }
                    let args: Vec<Option<&Tensor>> = node
                        .inputs
                        .iter()
                        .map(|v| v.map(|v| run.slots[v].host.as_deref().unwrap()))
                        .collect();
                    let outs = match (&node.op, &plan.branches[i]) {
                        (Op::If(op), Some(plans)) => super::exec::run_if(op, plans, &args),
                        (op, _) => cpu::run(op, &args),
                    }
                    .map_err(wrap)?;
                    for (&v, t) in node.outputs.iter().zip(outs) {
                        run.slots[v] = Slot {
                            host: Some(Cow::Owned(t)),
                            gpu: None,
                        };
                    }
                }
            }
            for &v in &plan.frees[i] {
                run.slots[v] = Slot::default();
            }
        }
        let mut out = Vec::with_capacity(graph.outputs.len());
        for &id in &graph.outputs {
            out.push(run.host(id).await?.clone());
        }
        if let Some(rec) = run.rec.take() {
            self.dev.flush(rec);
        }
        if let Some(why) = self.dev.lost() {
            return Err(Error::Gpu(format!("the GPU device was lost ({why})")));
        }
        *self.last.lock().unwrap() = run.stats;
        Ok(out)
    }
}
