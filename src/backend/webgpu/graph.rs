//! [`GpuGraph`]: the GPU as the executor's [`Device`] for one session's graph. When the session
//! is built, each node is offered to the op families ([`ops::OPS`]) and the first that claims it
//! keeps it (with its fusion); shaders are compiled then, and a node whose shader did not compile
//! stays on the CPU with that reason. Values stay where they were computed; constants are
//! uploaded once per session; one command encoder collects the GPU work between two readbacks.

use super::dispatch::GpuTensor;
use super::ops::{self, Claim, GpuOp};
use super::{GpuDevice, Recorder};
use crate::error::{Error, Result};
use crate::ir::{Graph, ValueId};
use crate::plan::exec::{Ctx, Device, Launch};
use crate::plan::{BackendKind, Placement, PlannedNode};
use crate::tensor::Tensor;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A graph placed on one GPU device.
pub struct GpuGraph {
    dev: Arc<GpuDevice>,
    /// The op that took each node, or why none did.
    nodes: Vec<std::result::Result<Box<dyn GpuOp>, String>>,
    planned: Vec<PlannedNode>,
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

/// The per-run state: the encoder collecting work since the last readback.
pub struct GpuRun {
    rec: Option<Recorder>,
}

impl GpuGraph {
    /// Places `graph` on `dev`: the op of each node and its fusion. The pipelines are compiled
    /// here (once per device), not in the first run.
    pub fn new(dev: Arc<GpuDevice>, graph: &Graph) -> GpuGraph {
        let failed: HashMap<&str, Error> = dev.compile_all(&ops::shaders()).into_iter().collect();
        let readers = ops::readers(graph);
        let nodes: Vec<_> = (0..graph.nodes.len())
            .map(|i| {
                let c = Claim::new(graph, i, &readers);
                for e in ops::OPS {
                    let Some(op) = (e.claim)(&c) else { continue };
                    return match e
                        .shader
                        .and_then(|s| failed.get(s.name).map(|err| (s, err)))
                    {
                        Some((s, err)) => {
                            Err(format!("shader '{}' did not compile: {err}", s.name))
                        }
                        None => Ok(op),
                    };
                }
                Err("no GPU kernel".to_string())
            })
            .collect();
        let mut planned: Vec<PlannedNode> = graph
            .nodes
            .iter()
            .zip(&nodes)
            .map(|(n, k)| PlannedNode {
                node: n.name.clone(),
                op: n.op.name().to_string(),
                backend: if k.is_ok() {
                    BackendKind::WebGpu
                } else {
                    BackendKind::Cpu
                },
                fused_into: None,
                reason: k.as_ref().err().cloned(),
            })
            .collect();
        for (i, k) in nodes.iter().enumerate() {
            for &j in k.as_ref().map_or(&[][..], |op| op.fuses()) {
                planned[j].fused_into = Some(graph.nodes[i].name.clone());
            }
        }
        GpuGraph {
            dev,
            nodes,
            planned,
            consts: Mutex::new(HashMap::new()),
            last: Mutex::new(Placement::default()),
        }
    }

    pub fn device(&self) -> &Arc<GpuDevice> {
        &self.dev
    }

    /// Where each node was placed when the session was built.
    pub fn planned(&self) -> &[PlannedNode] {
        &self.planned
    }

    /// Where each op ran in the last run.
    pub fn placement(&self) -> Placement {
        self.last.lock().unwrap().clone()
    }

    fn lost_error(&self) -> Option<Error> {
        self.dev
            .lost()
            .map(|why| Error::Gpu(format!("the GPU device was lost ({why})")))
    }
}

impl Ctx<'_, '_, GpuGraph> {
    /// The session's GPU device.
    pub(crate) fn gpu(&self) -> &Arc<GpuDevice> {
        &self.device_ref().dev
    }

    /// Node `i`'s first input when it is present and f32; otherwise the decline.
    pub(crate) fn first_f32(&self, i: usize) -> std::result::Result<ValueId, Launch<GpuTensor>> {
        match self.graph.nodes[i].inputs.first().copied().flatten() {
            None => Err(Launch::Declined("no input".into())),
            Some(x) if !self.is_f32(x) => Err(Launch::Declined("the input is not f32".into())),
            Some(x) => Ok(x),
        }
    }

    /// A decline when a kernel over `values` f32 values (its largest buffer) in `groups`
    /// workgroups does not fit this device: a storage binding too small, or too many workgroups
    /// for one dispatch.
    pub(crate) fn unfit(&self, values: usize, groups: usize) -> Option<Launch<GpuTensor>> {
        if let Some(why) = self.gpu().too_big(values) {
            return Some(Launch::Declined(why));
        }
        (!super::dispatch::grid_fits(groups))
            .then(|| Launch::Declined(format!("{groups} workgroups exceed one dispatch")))
    }

    /// The encoder of this run (started on first use).
    pub(crate) fn rec(&mut self) -> &mut Recorder {
        let dev = self.device_ref().dev.clone();
        self.run.rec.get_or_insert_with(|| dev.encoder())
    }
}

impl Device for GpuGraph {
    type Value = GpuTensor;
    type Run = GpuRun;
    const REPORTS: bool = true;

    fn begin(&self) -> Result<GpuRun> {
        match self.lost_error() {
            Some(e) => Err(e),
            None => Ok(GpuRun { rec: None }),
        }
    }

    fn claims(&self, i: usize) -> bool {
        self.nodes[i].is_ok()
    }

    fn launch(&self, ctx: &mut Ctx<'_, '_, Self>, i: usize) -> Result<Launch<GpuTensor>> {
        match &self.nodes[i] {
            Ok(op) => op.launch(ctx, i),
            Err(why) => Ok(Launch::Declined(why.clone())),
        }
    }

    fn upload(&self, _: &mut GpuRun, v: ValueId, t: &Tensor, constant: bool) -> Result<GpuTensor> {
        if !constant {
            return self.dev.upload_tensor(t);
        }
        if let Some(x) = self.consts.lock().unwrap().get(&v) {
            return Ok(x.clone());
        }
        let x = self.dev.upload_tensor(t)?;
        self.consts.lock().unwrap().insert(v, x.clone());
        Ok(x)
    }

    async fn download(&self, run: &mut GpuRun, x: &GpuTensor) -> Result<Tensor> {
        let rec = run.rec.take().unwrap_or_else(|| self.dev.encoder());
        self.dev.download_async(rec, x).await
    }

    fn finish(&self, run: GpuRun, placement: Placement) -> Result<()> {
        if let Some(rec) = run.rec {
            self.dev.flush(rec);
        }
        if let Some(e) = self.lost_error() {
            return Err(e);
        }
        *self.last.lock().unwrap() = placement;
        Ok(())
    }
}
