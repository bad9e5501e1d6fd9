//! The executor: one loop that runs a planned graph over values that live on the host or on an
//! accelerator. Every run — CPU only, or GPU with CPU kernels for what the GPU does not cover —
//! goes through [`run`]: value slots, frees, errors wrapped with the node's name, `If` (and
//! `Loop`/`Scan`, in [`control`](super::control)), and moving values between host and device are
//! written once, here.
//!
//! A backend plugs in through [`Device`]. The CPU kernels take every node the device does not
//! run; the CPU-only executor is [`run`] with [`NoDevice`], whose future never waits
//! ([`run_graph`] polls it once). A device node whose actual inputs do not fit its kernel (a
//! shape known only at run time, a tensor beyond the device's limits) is declined with a reason
//! and runs on the CPU kernels; the run's [`Placement`] counts where every op ran and why.

// A build without a device backend (no `webgpu`) uses only the CPU half of this interface.
#![cfg_attr(not(feature = "webgpu"), allow(dead_code))]

use super::{Placement, Plan};
use crate::backend::cpu;
use crate::backend::cpu::seq::Arg;
use crate::error::{Error, Result};
use crate::ir::ops::shape::ShapeOp;
use crate::ir::{Graph, Op, ValueId};
use crate::tensor::{DType, Tensor};
use crate::value::Value;
use std::borrow::Cow;

/// A value on a device: its shape (dense row-major f32).
pub(crate) trait DeviceValue: Clone {
    fn shape(&self) -> &[usize];
}

/// What a device did with a node it claimed.
pub(crate) enum Launch<V> {
    /// Recorded on the device: its outputs, and the nodes after it that it computed as well
    /// (fused), which the executor then skips.
    Ran {
        outputs: Vec<(ValueId, V)>,
        fused: Vec<usize>,
    },
    /// The node's actual inputs do not fit the kernel; the CPU kernels run it.
    Declined(String),
}

impl<V> Launch<V> {
    /// Ran, with one output and nothing fused.
    pub(crate) fn ran(v: ValueId, x: V) -> Launch<V> {
        Launch::Ran {
            outputs: vec![(v, x)],
            fused: Vec::new(),
        }
    }
}

/// An accelerator the executor can place nodes on. Which nodes it claims is decided once, when
/// the session is built ([`claims`](Self::claims)); each run then asks it to [`launch`] them.
///
/// [`launch`]: Self::launch
pub(crate) trait Device {
    type Value: DeviceValue;
    /// Per-run state (the GPU's command encoder).
    type Run;
    /// Whether the run counts where each op ran ([`Placement`], given to [`finish`]); the
    /// CPU-only executor does not (the counts cost an allocation per node).
    ///
    /// [`finish`]: Self::finish
    const REPORTS: bool;

    /// Starts a run (fails when the device is lost).
    fn begin(&self) -> Result<Self::Run>;
    /// Whether node `i` was placed on this device when the session was built.
    fn claims(&self, i: usize) -> bool;
    /// Runs node `i` (claimed) with the inputs `ctx` gives.
    fn launch(&self, ctx: &mut Ctx<'_, '_, Self>, i: usize) -> Result<Launch<Self::Value>>
    where
        Self: Sized;
    /// Copies host tensor `t` (value `v` of the graph) to the device. A `constant` (an
    /// initializer or folded value) may be kept on the device for the session's later runs.
    fn upload(
        &self,
        run: &mut Self::Run,
        v: ValueId,
        t: &Tensor,
        constant: bool,
    ) -> Result<Self::Value>;
    /// Copies a device value to the host (submitting the work recorded so far).
    async fn download(&self, run: &mut Self::Run, x: &Self::Value) -> Result<Tensor>;
    /// Ends a successful run (submits what is left, checks the device) and keeps its report.
    fn finish(&self, run: Self::Run, placement: Placement) -> Result<()>;
}

/// The CPU-only executor's device: claims nothing, holds no values.
pub(crate) struct NoDevice;

/// A value of [`NoDevice`]: there are none.
#[derive(Clone)]
pub(crate) enum NoValue {}

impl DeviceValue for NoValue {
    fn shape(&self) -> &[usize] {
        match *self {}
    }
}

impl Device for NoDevice {
    type Value = NoValue;
    type Run = ();
    const REPORTS: bool = false;
    fn begin(&self) -> Result<()> {
        Ok(())
    }
    fn claims(&self, _: usize) -> bool {
        false
    }
    fn launch(&self, _: &mut Ctx<'_, '_, Self>, _: usize) -> Result<Launch<NoValue>> {
        Ok(Launch::Declined(
            "the CPU-only executor has no device".into(),
        ))
    }
    fn upload(&self, _: &mut (), _: ValueId, _: &Tensor, _: bool) -> Result<NoValue> {
        Err(Error::model("the CPU-only executor has no device"))
    }
    async fn download(&self, _: &mut (), x: &NoValue) -> Result<Tensor> {
        match *x {}
    }
    fn finish(&self, _: (), _: Placement) -> Result<()> {
        Ok(())
    }
}

/// A value during a run: a tensor on the host, on the device, or both (after a copy); or a
/// sequence or optional (`val`, on the host).
pub(crate) struct Slot<'a, V> {
    host: Option<Cow<'a, Tensor>>,
    dev: Option<V>,
    val: Option<Value>,
}

impl<V> Default for Slot<'_, V> {
    fn default() -> Self {
        Slot {
            host: None,
            dev: None,
            val: None,
        }
    }
}

impl<'a, V> Slot<'a, V> {
    fn tensor(t: Tensor) -> Self {
        Slot {
            host: Some(Cow::Owned(t)),
            dev: None,
            val: None,
        }
    }

    /// A kernel's output: tensors in `host`, sequences and optionals in `val`.
    fn value(v: Value) -> Self {
        match v {
            Value::Tensor(t) => Slot::tensor(t),
            v => Slot {
                host: None,
                dev: None,
                val: Some(v),
            },
        }
    }
}

/// A graph input given to the executor: a tensor, or any ONNX value.
#[derive(Clone, Copy)]
pub(crate) enum Feed<'a> {
    Tensor(&'a Tensor),
    Value(&'a Value),
}

/// What a device's [`launch`](Device::launch) sees of the run: the graph, the values, the
/// device's run state.
pub(crate) struct Ctx<'s, 'a, D: Device> {
    dev: &'s D,
    pub(crate) graph: &'a Graph,
    pub(crate) run: &'s mut D::Run,
    slots: &'s mut [Slot<'a, D::Value>],
    uploads: &'s mut usize,
}

impl<D: Device> Ctx<'_, '_, D> {
    /// The device running this.
    pub(crate) fn device_ref(&self) -> &D {
        self.dev
    }

    /// The shape of value `v`, wherever it is (`None` before it is computed).
    pub(crate) fn shape(&self, v: ValueId) -> Option<&[usize]> {
        let s = &self.slots[v];
        match (&s.dev, &s.host) {
            (Some(d), _) => Some(d.shape()),
            (None, Some(h)) => Some(h.shape()),
            _ => None,
        }
    }

    /// Whether value `v` is f32 (a device value always is).
    pub(crate) fn is_f32(&self, v: ValueId) -> bool {
        let s = &self.slots[v];
        s.dev.is_some() || s.host.as_ref().is_some_and(|t| t.dtype() == DType::F32)
    }

    /// Value `v` on the host, if it is there now (no copy).
    pub(crate) fn host(&self, v: ValueId) -> Option<&Tensor> {
        self.slots[v].host.as_deref()
    }

    /// Value `v` on the device if it is there now (no copy).
    pub(crate) fn device_now(&self, v: ValueId) -> Option<&D::Value> {
        self.slots[v].dev.as_ref()
    }

    /// Value `v` on the device, copied there once if it is on the host.
    pub(crate) fn device(&mut self, v: ValueId) -> Result<D::Value> {
        if let Some(x) = &self.slots[v].dev {
            return Ok(x.clone());
        }
        let host = self.slots[v]
            .host
            .as_deref()
            .ok_or_else(|| unready(self.graph, v))?;
        let constant = self.graph.constants.contains_key(&v);
        let x = self.dev.upload(self.run, v, host, constant)?;
        *self.uploads += 1;
        self.slots[v].dev = Some(x.clone());
        Ok(x)
    }
}

fn unready(graph: &Graph, v: ValueId) -> Error {
    Error::model(format!(
        "'{}' is read before it is computed",
        graph.values[v].name
    ))
}

/// The error of node `i`, naming it (once: an inner node error is kept as it is).
fn in_node(graph: &Graph, i: usize, e: Error) -> Error {
    match e {
        e @ Error::Node { .. } => e,
        e => Error::Node {
            node: graph.nodes[i].name.clone(),
            op: graph.nodes[i].op.name().to_string(),
            source: Box::new(e),
        },
    }
}

/// Runs `graph` following `plan` with the nodes `dev` claims on the device and the others on
/// the CPU kernels. `inputs` are in `graph.inputs` order and `captures` in `graph.captures`
/// order, already in compute dtypes. Returns the outputs in `graph.outputs` order, on the host.
/// Awaits only device readbacks.
pub(crate) async fn run<D: Device>(
    dev: &D,
    graph: &Graph,
    plan: &Plan,
    inputs: &[&Tensor],
    captures: &[&Tensor],
) -> Result<Vec<Tensor>> {
    let feeds: Vec<Feed> = inputs.iter().map(|&t| Feed::Tensor(t)).collect();
    let caps: Vec<Feed> = captures.iter().map(|&t| Feed::Tensor(t)).collect();
    let outs = run_values(dev, graph, plan, &feeds, &caps).await?;
    outs.into_iter()
        .zip(&graph.outputs)
        .map(|(v, &id)| {
            v.into_tensor(&format!(
                "output '{}' (run_values returns sequences and optionals)",
                graph.values[id].name
            ))
        })
        .collect()
}

/// [`run`] with inputs and outputs of any kind: tensors, sequences, optionals.
pub(crate) async fn run_values<D: Device>(
    dev: &D,
    graph: &Graph,
    plan: &Plan,
    inputs: &[Feed<'_>],
    captures: &[Feed<'_>],
) -> Result<Vec<Value>> {
    let mut state = dev.begin()?;
    let mut slots: Vec<Slot<D::Value>> = (0..graph.values.len()).map(|_| Slot::default()).collect();
    for (id, t) in &graph.constants {
        slots[*id].host = Some(Cow::Borrowed(t.as_ref()));
    }
    let fed = graph.inputs.iter().zip(inputs);
    for (&id, feed) in fed.chain(graph.captures.iter().map(|(_, id)| id).zip(captures)) {
        match *feed {
            Feed::Tensor(t) | Feed::Value(Value::Tensor(t)) => {
                slots[id].host = Some(Cow::Borrowed(t))
            }
            Feed::Value(v) => slots[id].val = Some(v.clone()),
        }
    }
    let mut report = Placement::default();
    let mut skip = vec![false; graph.nodes.len()];

    for (i, node) in graph.nodes.iter().enumerate() {
        if !skip[i] {
            let mut on_device = false;
            if dev.claims(i) {
                let mut ctx = Ctx {
                    dev,
                    graph,
                    run: &mut state,
                    slots: &mut slots,
                    uploads: &mut report.uploads,
                };
                match dev.launch(&mut ctx, i).map_err(|e| in_node(graph, i, e))? {
                    Launch::Ran { outputs, fused } => {
                        on_device = true;
                        for (v, x) in outputs {
                            slots[v] = Slot {
                                host: None,
                                dev: Some(x),
                                val: None,
                            };
                        }
                        report.fused += fused.len();
                        for j in fused {
                            skip[j] = true;
                            if D::REPORTS {
                                report.count_device(&graph.nodes[j].op);
                            }
                        }
                    }
                    Launch::Declined(why) => report.declined.push((node.name.clone(), why)),
                }
            }
            if on_device {
                if D::REPORTS {
                    report.count_device(&node.op);
                }
            } else {
                if D::REPORTS {
                    report.count_cpu(&node.op);
                }
                for &v in node.inputs.iter().flatten() {
                    if slots[v].host.is_none() && slots[v].val.is_none() {
                        let x = slots[v].dev.clone().ok_or_else(|| unready(graph, v));
                        let x = x.map_err(|e| in_node(graph, i, e))?;
                        let t = dev.download(&mut state, &x).await;
                        slots[v].host = Some(Cow::Owned(t.map_err(|e| in_node(graph, i, e))?));
                        report.downloads += 1;
                    }
                }
                if let Op::Seq(op) = &node.op {
                    let args: Vec<Option<Arg>> = node
                        .inputs
                        .iter()
                        .map(|v| {
                            v.and_then(|v| match (&slots[v].val, &slots[v].host) {
                                (Some(x), _) => Some(Arg::V(x)),
                                (None, Some(t)) => Some(Arg::T(t.as_ref())),
                                _ => None,
                            })
                        })
                        .collect();
                    let outs = cpu::seq::run(op, &args).map_err(|e| in_node(graph, i, e))?;
                    for (&v, x) in node.outputs.iter().zip(outs) {
                        slots[v] = Slot::value(x);
                    }
                } else if matches!(node.op, Op::If(_) | Op::Loop(_) | Op::Scan(_)) {
                    // subgraphs take and yield tensors, sequences and optionals alike
                    let args: Vec<Option<Feed>> = node
                        .inputs
                        .iter()
                        .map(|v| {
                            v.and_then(|v| match (&slots[v].val, &slots[v].host) {
                                (Some(x), _) => Some(Feed::Value(x)),
                                (None, Some(t)) => Some(Feed::Tensor(t.as_ref())),
                                _ => None,
                            })
                        })
                        .collect();
                    let outs = super::control::run(&node.op, &plan.subplans[i], &args)
                        .map_err(|e| in_node(graph, i, e))?;
                    for (&v, x) in node.outputs.iter().zip(outs) {
                        slots[v] = Slot::value(x);
                    }
                } else if let (Op::Shape(ShapeOp::Identity), Some(&Some(v))) =
                    (&node.op, node.inputs.first())
                {
                    // Identity passes a tensor, sequence or optional through
                    let x = match (&slots[v].val, &slots[v].host) {
                        (Some(x), _) => Some(x.clone()),
                        // a tensor that dies here moves through
                        (None, Some(Cow::Owned(_))) if !plan.donors[i].is_empty() => {
                            slots[v].host.take().map(|t| Value::Tensor(t.into_owned()))
                        }
                        (None, t) => t.as_deref().map(|t| Value::Tensor(t.clone())),
                    };
                    let x = x.ok_or_else(|| in_node(graph, i, unready(graph, v)))?;
                    slots[node.outputs[0]] = Slot::value(x);
                } else if let Some(x) = node
                    .inputs
                    .first()
                    .and_then(|v| slots[(*v)?].val.as_ref())
                    .filter(|_| cpu::reads_map(&node.op))
                {
                    // a map (a tensor there goes to the kernel below, which says it wants a map)
                    let outs = cpu::run_map(&node.op, Some(x)).map_err(|e| in_node(graph, i, e))?;
                    for (&v, x) in node.outputs.iter().zip(outs) {
                        slots[v] = Slot::tensor(x);
                    }
                } else {
                    if let Some(&v) = node
                        .inputs
                        .iter()
                        .flatten()
                        .find(|&&v| slots[v].val.is_some())
                    {
                        let kind = slots[v].val.as_ref().map_or("value", Value::kind);
                        let e = Error::shape(format!(
                            "input '{}' is a {kind}; {} takes tensors",
                            graph.values[v].name,
                            node.op.name()
                        ));
                        return Err(in_node(graph, i, e));
                    }
                    // the largest input that dies here and that this run computed: its buffer
                    // may become the output (elementwise ops in place, Reshape moving it)
                    let owned = |v: &Option<ValueId>| match v.map(|v| &slots[v].host) {
                        Some(Some(Cow::Owned(t))) => Some(t.numel()),
                        _ => None,
                    };
                    let donor = plan.donors[i]
                        .iter()
                        .filter_map(|&k| owned(&node.inputs[k]).map(|n| (n, k)))
                        .max();
                    let mut outs = None;
                    if let Some((_, k)) = donor {
                        let v = node.inputs[k].unwrap_or_default();
                        if let Some(Cow::Owned(x)) = slots[v].host.take() {
                            let args: Vec<Option<&Tensor>> = node
                                .inputs
                                .iter()
                                .enumerate()
                                .map(|(j, v)| {
                                    v.filter(|_| j != k).and_then(|v| slots[v].host.as_deref())
                                })
                                .collect();
                            match cpu::run_in_place(&node.op, &args, k, x) {
                                Ok(r) => outs = Some(r),
                                Err(x) => slots[v].host = Some(Cow::Owned(x)),
                            }
                        }
                    }
                    let outs = match outs {
                        Some(r) => r,
                        None => {
                            let args: Vec<Option<&Tensor>> = node
                                .inputs
                                .iter()
                                .map(|v| v.and_then(|v| slots[v].host.as_deref()))
                                .collect();
                            cpu::run_packed(&node.op, &args, plan.packed[i].as_deref())
                        }
                    };
                    let outs = outs.map_err(|e| in_node(graph, i, e))?;
                    // a kernel may leave out trailing optional outputs; reading one is an error
                    for (&v, x) in node.outputs.iter().zip(outs) {
                        // a narrow integer dtype computed in a wider one wraps to its range
                        let x = match graph.values[v].fact.dtype {
                            Some(d) if d.compute() != d => x.wrapped(d),
                            _ => x,
                        };
                        slots[v] = Slot::tensor(x);
                    }
                }
            }
        }
        for &v in &plan.frees[i] {
            slots[v] = Slot::default();
        }
    }

    let mut out = Vec::with_capacity(graph.outputs.len());
    for (k, &id) in graph.outputs.iter().enumerate() {
        let again = graph.outputs[k + 1..].contains(&id);
        if slots[id].val.is_some() {
            let v = if again {
                slots[id].val.clone()
            } else {
                slots[id].val.take()
            };
            out.extend(v);
            continue;
        }
        if slots[id].host.is_none() {
            if let Some(x) = slots[id].dev.clone() {
                slots[id].host = Some(Cow::Owned(dev.download(&mut state, &x).await?));
                report.downloads += 1;
            }
        }
        let t = match (again, slots[id].host.take()) {
            (true, Some(h)) => {
                let t = h.clone().into_owned();
                slots[id].host = Some(h);
                t
            }
            (false, Some(h)) => h.into_owned(),
            (_, None) => {
                return Err(Error::model(format!(
                    "output '{}' was not computed",
                    graph.values[id].name
                )))
            }
        };
        out.push(Value::Tensor(t));
    }
    dev.finish(state, report)?;
    Ok(out)
}

/// [`run_graph`] with inputs and outputs of any kind (sequences, optionals).
pub(crate) fn run_graph_values(
    graph: &Graph,
    plan: &Plan,
    inputs: &[Feed<'_>],
) -> Result<Vec<Value>> {
    poll_once(run_values(&NoDevice, graph, plan, inputs, &[]))
        .unwrap_or_else(|| Err(Error::model("a CPU-only run waited on a device")))
}

/// Runs `graph` on the CPU kernels (the executor with [`NoDevice`], whose future never waits).
pub fn run_graph(
    graph: &Graph,
    plan: &Plan,
    inputs: &[&Tensor],
    captures: &[&Tensor],
) -> Result<Vec<Tensor>> {
    poll_once(run(&NoDevice, graph, plan, inputs, captures))
        .unwrap_or_else(|| Err(Error::model("a CPU-only run waited on a device")))
}

/// Polls a future once: `None` if it waits. For futures that never wait (CPU runs); the one
/// place the crate drives a future without an executor.
pub(crate) fn poll_once<F: std::future::Future>(f: F) -> Option<F::Output> {
    use std::task::{Context, Poll, Waker};
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}
