//! ONNX `ModelProto` → [`Graph`]: values, topological order, op builders, constant folding as
//! nodes are built (`ir::fold`, with the evaluator the caller gives), and dead-node removal.

use super::attr::{Attr, NodeCtx};
use super::ops::Registry;
use super::proto::{
    attribute_proto::AttributeType, type_proto, GraphProto, ModelProto, NodeProto, TypeProto,
    ValueInfoProto,
};
use super::tensor::{tensor_from_proto, ExternalData};
use crate::error::{Error, Result};
use crate::ir::fold::{fold, Evaluator};
use crate::ir::ops::IfOp;
use crate::ir::{Dim, Fact, Graph, Node, Op, ValueId, ValueKind};
use crate::tensor::{DType, Tensor};
use prost::Message;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The newest default-domain opset Hearth reads: the newest that onnx 1.23 defines. Builders
/// read `NodeCtx::opset` for the semantics that changed (e.g. Mod and BitShift in 28).
pub const MAX_OPSET: i64 = 28;

/// Subgraphs may nest this deep (If inside If …).
const MAX_GRAPH_DEPTH: usize = 32;

/// A parsed model: its main graph and what the file says about itself.
#[derive(Debug)]
pub struct Model {
    pub graph: Graph,
    /// Opset version of the default (`ai.onnx`) domain.
    pub opset: i64,
    pub ir_version: i64,
    pub producer: String,
    /// Declared dtypes of the graph outputs (what `run` returns), in output order.
    pub output_dtypes: Vec<DType>,
}

/// Parses ONNX model bytes (with optional external-data buffers) into a folded, pruned graph;
/// `eval` computes the nodes whose inputs are all constants (the session passes the CPU
/// backend's kernels).
pub fn parse_model(bytes: &[u8], ext: &ExternalData<'_>, eval: Evaluator) -> Result<Model> {
    let m = ModelProto::decode(bytes)
        .map_err(|e| Error::model(format!("not an ONNX model (protobuf decoding failed: {e})")))?;
    let mut opsets = HashMap::new();
    for o in &m.opset_import {
        let d = o.domain.as_deref().unwrap_or("");
        let d = if d == "ai.onnx" { "" } else { d };
        opsets.insert(d.to_string(), o.version.unwrap_or(1));
    }
    // A model of only non-default domains (e.g. training ops) imports no default opset: its
    // nodes are reported as unsupported when built; a default-domain node then is invalid.
    let opset = opsets.get("").copied().unwrap_or(0);
    if opset > MAX_OPSET {
        return Err(Error::unsupported(format!(
            "opset {opset}: Hearth reads ONNX opsets up to {MAX_OPSET} (tested from 7; older ones as their ops allow)"
        )));
    }
    let g = m
        .graph
        .as_ref()
        .ok_or_else(|| Error::model("the model has no graph"))?;
    let registry = Registry::with_all_ops();
    let cx = Cx {
        registry: &registry,
        ext: *ext,
        opsets: &opsets,
        eval,
    };
    let graph = cx.graph(g, &Scope::new(), 0)?;
    let output_dtypes = graph
        .outputs
        .iter()
        .map(|&o| {
            graph.values[o].fact.dtype.ok_or_else(|| {
                Error::model(format!(
                    "graph output '{}' has no declared element type",
                    graph.values[o].name
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Model {
        graph,
        opset,
        ir_version: m.ir_version.unwrap_or(0),
        producer: m.producer_name.clone().unwrap_or_default(),
        output_dtypes,
    })
}

struct Cx<'a> {
    registry: &'a Registry,
    ext: ExternalData<'a>,
    opsets: &'a HashMap<String, i64>,
    eval: Evaluator<'a>,
}

/// The fact a `ValueInfoProto` declares: tensors, maps, sequences of tensors or maps, optionals.
fn declared_fact(v: &ValueInfoProto) -> Result<Fact> {
    let name = v.name.as_deref().unwrap_or("");
    type_fact(v.r#type.as_ref(), name)
}

/// The fact of a `TypeProto` (of value `name`).
fn type_fact(t: Option<&TypeProto>, name: &str) -> Result<Fact> {
    match t.and_then(|t: &TypeProto| t.value.as_ref()) {
        None => Ok(Fact::unknown()),
        Some(type_proto::Value::SequenceType(s)) => {
            let elem = type_fact(s.elem_type.as_deref(), name)?;
            match (elem.kind, elem.key) {
                (ValueKind::Tensor, _) => Ok(Fact::of_kind(ValueKind::Sequence, elem.dtype)),
                (ValueKind::Map, Some(k)) => Ok(Fact::of_map(ValueKind::MapSequence, k, elem.dtype)),
                (k, _) => Err(Error::UnsupportedDType(format!(
                    "sequence of {k:?} (value '{name}'): Hearth handles sequences of tensors and of maps"
                ))),
            }
        }
        Some(type_proto::Value::MapType(m)) => {
            let key = match m.key_type.map(DType::from_onnx) {
                Some(Ok(k @ (DType::I64 | DType::Str))) => k,
                k => {
                    return Err(Error::UnsupportedDType(format!(
                        "map key type {} (value '{name}'): Hearth handles int64 and string keys",
                        match k {
                            Some(Ok(d)) => d.to_string(),
                            _ => format!("{:?}", m.key_type),
                        }
                    )))
                }
            };
            let value = type_fact(m.value_type.as_deref(), name)?;
            if value.kind != ValueKind::Tensor {
                return Err(Error::UnsupportedDType(format!(
                    "map of {key} to {:?} (value '{name}'): Hearth handles maps to tensor elements",
                    value.kind
                )));
            }
            Ok(Fact::of_map(ValueKind::Map, key, value.dtype))
        }
        Some(type_proto::Value::OptionalType(o)) => {
            let elem = type_fact(o.elem_type.as_deref(), name)?;
            let kind = match elem.kind {
                ValueKind::Tensor => ValueKind::Optional,
                ValueKind::Sequence => ValueKind::OptionalSequence,
                ValueKind::Map | ValueKind::MapSequence => {
                    return Err(Error::UnsupportedDType(format!(
                        "optional map (value '{name}'): Hearth handles optionals of tensors and sequences"
                    )))
                }
                _ => {
                    return Err(Error::model(format!(
                        "value '{name}': an optional of an optional"
                    )))
                }
            };
            Ok(Fact::of_kind(kind, elem.dtype))
        }
        Some(type_proto::Value::TensorType(t)) => {
            let dtype = match t.elem_type {
                None | Some(0) => None,
                Some(c) => Some(DType::from_onnx(c).map_err(|e| match e {
                    Error::UnsupportedDType(d) => {
                        Error::UnsupportedDType(format!("{d} (value '{name}')"))
                    }
                    e => e,
                })?),
            };
            let shape = t.shape.as_ref().map(|s| {
                s.dim
                    .iter()
                    .map(|d| {
                        use super::proto::tensor_shape_proto::dimension::Value as D;
                        match &d.value {
                            Some(D::DimValue(n)) if *n >= 0 => Dim::Known(*n as usize),
                            Some(D::DimParam(p)) if is_dim_name(p) => Dim::Sym(p.clone()),
                            _ => Dim::Any,
                        }
                    })
                    .collect()
            });
            Ok(Fact::new(dtype, shape))
        }
        Some(_) => Err(Error::UnsupportedDType(format!(
            "sparse tensor (value '{name}'): Hearth handles tensors, maps, and sequences and optionals of them"
        ))),
    }
}

/// Whether a `dim_param` names a size that binds across values. ONNX: an empty name is an
/// unknown dim, unrelated to any other; exporters also write unknown dims as `?` (PaddlePaddle:
/// `[-1, 3, "?", "?"]`) or as a negative number in the name, which are unknown and unrelated too.
fn is_dim_name(p: &str) -> bool {
    let p = p.trim();
    !p.is_empty() && p != "?" && !p.parse::<i64>().is_ok_and(|n| n < 0)
}

/// Merges what the model declares with what inference found: declared parts win, inferred
/// parts fill the gaps.
fn merge_fact(declared: Option<&Fact>, inferred: Fact) -> Fact {
    let Some(d) = declared else { return inferred };
    let shape = match (&d.shape, inferred.shape) {
        (Some(ds), Some(is)) if ds.len() == is.len() => Some(
            ds.iter()
                .zip(is)
                .map(|(a, b)| if matches!(a, Dim::Any) { b } else { a.clone() })
                .collect(),
        ),
        (Some(ds), _) => Some(ds.clone()),
        (None, is) => is,
    };
    Fact {
        kind: if d.kind != ValueKind::Tensor {
            d.kind
        } else {
            inferred.kind
        },
        dtype: d.dtype.or(inferred.dtype),
        shape,
        key: d.key.or(inferred.key),
        value: inferred.value,
    }
}

impl Cx<'_> {
    fn graph(&self, g: &GraphProto, outer: &Scope, depth: usize) -> Result<Graph> {
        if depth > MAX_GRAPH_DEPTH {
            return Err(Error::Limit(format!(
                "subgraphs nested deeper than {MAX_GRAPH_DEPTH}"
            )));
        }
        if !g.sparse_initializer.is_empty() {
            return Err(Error::unsupported("sparse initializers"));
        }
        let mut graph = Graph::default();
        let mut names: HashMap<String, ValueId> = HashMap::new();

        for (i, t) in g.initializer.iter().enumerate() {
            let name = t.name.clone().unwrap_or_else(|| format!("initializer#{i}"));
            let tensor = tensor_from_proto(t, &self.ext, &format!("initializer '{name}'"))?;
            let dtype = tensor.dtype();
            let tensor = Arc::new(tensor.into_compute());
            let mut fact = Fact::constant(tensor.clone());
            fact.dtype = Some(dtype);
            let id = graph.add_value(name.clone(), fact);
            graph.constants.insert(id, tensor);
            names.insert(name, id);
        }
        for v in &g.input {
            let name = v.name.clone().unwrap_or_default();
            if names.contains_key(&name) {
                continue; // an initializer listed as input (IR < 4): a constant here
            }
            if name.is_empty() {
                return Err(Error::model("a graph input has no name"));
            }
            let id = graph.add_value(name.clone(), declared_fact(v)?);
            graph.inputs.push(id);
            names.insert(name, id);
        }
        let mut declared: HashMap<&str, Fact> = HashMap::new();
        for v in g.value_info.iter().chain(&g.output) {
            if let Some(n) = v.name.as_deref() {
                // value_info of non-tensor types is not needed to run; skip what we cannot read
                if let Ok(f) = declared_fact(v) {
                    declared.insert(n, f);
                }
            }
        }

        for ni in self.topo_order(g, &names, outer)? {
            let np = &g.node[ni];
            self.add_node(&mut graph, &mut names, outer, np, ni, &declared, depth)?;
        }

        for v in &g.output {
            let name = v.name.as_deref().unwrap_or("");
            let id = match names.get(name) {
                Some(&id) => id,
                None if outer.contains_key(name) => capture(&mut graph, &mut names, outer, name),
                None => {
                    return Err(Error::model(format!(
                        "graph output '{name}' is not produced by any node, input or initializer"
                    )))
                }
            };
            // a ZipMap's output is declared as a sequence of maps: the session turns its
            // tensor of probabilities into that (Session::run_values)
            let zipmap = graph.nodes.iter().any(|n| {
                n.outputs.contains(&id)
                    && matches!(&n.op, Op::Ml(crate::ir::ops::ml::MlOp::ZipMap { .. }))
            });
            let d = if zipmap {
                Fact::unknown()
            } else {
                declared_fact(v)?
            };
            let f = std::mem::take(&mut graph.values[id].fact);
            graph.values[id].fact = merge_fact(Some(&d), f);
            graph.outputs.push(id);
        }
        graph.prune();
        Ok(graph)
    }

    /// Node indices in dependency order (ONNX requires sorted graphs; exporters mostly comply,
    /// and we do not rely on it). Reports undefined inputs and cycles.
    fn topo_order(
        &self,
        g: &GraphProto,
        known: &HashMap<String, ValueId>,
        outer: &Scope,
    ) -> Result<Vec<usize>> {
        let mut producer: HashMap<&str, usize> = HashMap::new();
        for (i, n) in g.node.iter().enumerate() {
            for o in n.output.iter().filter(|o| !o.is_empty()) {
                if known.contains_key(o.as_str()) || producer.insert(o, i).is_some() {
                    return Err(Error::model(format!(
                        "value '{o}' is defined more than once"
                    )));
                }
            }
        }
        let mut deps: Vec<Vec<usize>> = vec![vec![]; g.node.len()];
        let mut indegree = vec![0usize; g.node.len()];
        let mut users: Vec<Vec<usize>> = vec![vec![]; g.node.len()];
        for (i, n) in g.node.iter().enumerate() {
            let mut reads: Vec<&str> = n.input.iter().map(String::as_str).collect();
            // names read inside subgraphs from this scope are dependencies too
            for a in &n.attribute {
                for sg in a.g.iter().chain(&a.graphs) {
                    collect_free_names(sg, &mut reads);
                }
            }
            for r in reads.into_iter().filter(|r| !r.is_empty()) {
                if let Some(&p) = producer.get(r) {
                    if p != i && !deps[i].contains(&p) {
                        deps[i].push(p);
                        indegree[i] += 1;
                        users[p].push(i);
                    }
                } else if !known.contains_key(r)
                    && !outer.contains_key(r)
                    && n.input.iter().any(|x| x == r)
                {
                    return Err(Error::model(format!(
                        "node '{}' ({}) reads '{r}', which no node, graph input or initializer defines",
                        n.name.as_deref().unwrap_or(""),
                        n.op_type.as_deref().unwrap_or("")
                    )));
                }
            }
        }
        let mut ready: Vec<usize> = (0..g.node.len())
            .rev()
            .filter(|&i| indegree[i] == 0)
            .collect();
        let mut order = Vec::with_capacity(g.node.len());
        while let Some(i) = ready.pop() {
            order.push(i);
            for &u in users[i].iter().rev() {
                indegree[u] -= 1;
                if indegree[u] == 0 {
                    ready.push(u);
                }
            }
        }
        if order.len() != g.node.len() {
            return Err(Error::model("the graph has a cycle"));
        }
        Ok(order)
    }

    #[allow(clippy::too_many_arguments)]
    fn add_node(
        &self,
        graph: &mut Graph,
        names: &mut HashMap<String, ValueId>,
        outer: &Scope,
        np: &NodeProto,
        index: usize,
        declared: &HashMap<&str, Fact>,
        depth: usize,
    ) -> Result<()> {
        let op_type = np.op_type.as_deref().unwrap_or("");
        let name = match np.name.as_deref() {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => format!("{op_type}#{index}"),
        };
        let domain = np.domain.as_deref().unwrap_or("");
        let domain = if domain == "ai.onnx" { "" } else { domain };

        let mut inputs = Vec::with_capacity(np.input.len());
        for i in &np.input {
            inputs.push(if i.is_empty() {
                None
            } else {
                Some(match names.get(i) {
                    Some(&id) => id,
                    None => capture(graph, names, outer, i),
                })
            });
        }

        let opset = self.opsets.get(domain).copied().unwrap_or(0);
        if domain.is_empty() && opset == 0 {
            return Err(Error::model(format!(
                "node '{name}' ({op_type}) is in the default ONNX domain, which the model does not import (opset_import)"
            )));
        }
        let unsupported = |hint: &str| Error::UnsupportedOp {
            op: op_type.to_string(),
            domain: if domain.is_empty() {
                "ai.onnx".into()
            } else {
                domain.to_string()
            },
            opset,
            node: name.clone(),
            hint: hint.to_string(),
        };
        if !domain.is_empty() && domain != "ai.onnx.ml" {
            return Err(unsupported(
                "Hearth runs operators of the ai.onnx and ai.onnx.ml domains only",
            ));
        }
        if domain == "ai.onnx.ml" && cfg!(not(feature = "ml")) {
            return Err(unsupported(
                &format!("this build of Hearth has no ai.onnx.ml operators ({}; natively, enable the `ml` feature)", super::FULL_BUILD),
            ));
        }
        if domain == "ai.onnx.ml" && opset > 5 {
            return Err(unsupported(
                "Hearth reads ai.onnx.ml opsets up to 5 (ONNX 1.17)",
            ));
        }

        let attrs = self.attributes(np, graph, names, outer, depth)?;
        let mut ctx = NodeCtx {
            name: name.clone(),
            op_type: op_type.to_string(),
            opset,
            num_inputs: np.input.len(),
            num_outputs: np.output.len(),
            input_present: inputs.iter().map(Option::is_some).collect(),
            input_dtypes: inputs
                .iter()
                .map(|i| i.and_then(|id| graph.values[id].fact.dtype))
                .collect(),
            const_inputs: inputs
                .iter()
                .map(|i| i.and_then(|id| graph.constants.get(&id).cloned()))
                .collect(),
            attrs,
        };
        let op = if op_type == "If" {
            self.build_if(&mut ctx, graph, names, outer, &mut inputs)?
        } else if op_type == "Loop" || op_type == "Scan" {
            build_body_op(&mut ctx, graph, names, outer, &mut inputs)?
        } else {
            let builder =
                self.registry.get_in(domain, op_type).ok_or_else(|| {
                    match super::left_out(domain, op_type) {
                        Some(hint) => unsupported(&hint),
                        None => unsupported("this operator is not implemented yet"),
                    }
                })?;
            builder(&ctx).map_err(|e| wrap(&name, op_type, e))?
        };

        let in_facts: Vec<Fact> = inputs
            .iter()
            .map(|i| {
                i.map(|id| graph.values[id].fact.clone())
                    .unwrap_or_default()
            })
            .collect();
        if domain.is_empty() {
            let present: Vec<Option<&Fact>> = inputs
                .iter()
                .zip(&in_facts)
                .map(|(i, f)| i.map(|_| f))
                .collect();
            super::index_inputs::check(op_type, opset, &present)
                .map_err(|e| wrap(&name, op_type, e))?;
        }
        let inferred = op.infer(&in_facts, np.output.len());

        let folded =
            fold(graph, &op, &inputs, &inferred, self.eval).map_err(|e| wrap(&name, op_type, e))?;

        let mut outputs = Vec::with_capacity(np.output.len());
        for (k, o) in np.output.iter().enumerate() {
            let oname = if o.is_empty() {
                format!("{name}:unused{k}")
            } else {
                o.clone()
            };
            // ZipMap's maps are made by the session from the tensor the graph computes
            let fact = match &op {
                Op::Ml(crate::ir::ops::ml::MlOp::ZipMap { .. }) => inferred[k].clone(),
                _ => merge_fact(declared.get(o.as_str()), inferred[k].clone()),
            };
            let id = graph.add_value(oname.clone(), fact);
            if !o.is_empty() {
                names.insert(oname, id);
            }
            outputs.push(id);
        }
        match folded {
            Some(outs) => {
                for (k, &id) in outputs.iter().enumerate() {
                    if let Some(t) = outs.get(k) {
                        let t = Arc::new(t.clone());
                        let dtype = graph.values[id].fact.dtype;
                        graph.values[id].fact = Fact::constant(t.clone());
                        // keep the declared (logical) dtype: f16/f64 values are computed in f32
                        if let Some(d) = dtype.filter(|d| d.compute() == t.dtype()) {
                            graph.values[id].fact.dtype = Some(d);
                        }
                        graph.constants.insert(id, t);
                    }
                }
            }
            None => graph.nodes.push(Node {
                name,
                op,
                inputs,
                outputs,
            }),
        }
        Ok(())
    }

    fn build_if(
        &self,
        ctx: &mut NodeCtx,
        graph: &mut Graph,
        names: &mut HashMap<String, ValueId>,
        outer: &Scope,
        inputs: &mut Vec<Option<ValueId>>,
    ) -> Result<Op> {
        let then_branch = ctx
            .take_graph("then_branch")?
            .ok_or_else(|| ctx.invalid("missing attribute then_branch"))?;
        let else_branch = ctx
            .take_graph("else_branch")?
            .ok_or_else(|| ctx.invalid("missing attribute else_branch"))?;
        if inputs.len() != 1 || inputs[0].is_none() {
            return Err(ctx.invalid("If takes exactly one input, the condition"));
        }
        for g in [&then_branch, &else_branch] {
            if g.outputs.len() != ctx.num_outputs {
                return Err(ctx.invalid(format!(
                    "a branch has {} outputs but the node has {}",
                    g.outputs.len(),
                    ctx.num_outputs
                )));
            }
        }
        let captures = capture_inputs(graph, names, outer, inputs, &[&then_branch, &else_branch]);
        Ok(Op::If(Box::new(IfOp {
            then_branch,
            else_branch,
            captures,
        })))
    }

    fn attributes(
        &self,
        np: &NodeProto,
        graph: &Graph,
        names: &HashMap<String, ValueId>,
        outer: &Scope,
        depth: usize,
    ) -> Result<Vec<(String, Attr)>> {
        let node = np.name.as_deref().unwrap_or("");
        let mut out = Vec::with_capacity(np.attribute.len());
        for a in &np.attribute {
            let name = a.name.clone().unwrap_or_default();
            if a.ref_attr_name.is_some() {
                return Err(Error::unsupported(format!(
                    "node '{node}': attribute '{name}' refers to a function attribute"
                )));
            }
            let what = format!("attribute '{name}' of node '{node}'");
            let string = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            let ty = a.r#type.and_then(|t| AttributeType::try_from(t).ok());
            let v = match ty {
                Some(AttributeType::Float) => Attr::Float(a.f.unwrap_or(0.0)),
                Some(AttributeType::Int) => Attr::Int(a.i.unwrap_or(0)),
                Some(AttributeType::String) => Attr::String(string(a.s.as_deref().unwrap_or(&[]))),
                Some(AttributeType::Tensor) => {
                    let t =
                        a.t.as_ref()
                            .ok_or_else(|| Error::model(format!("{what}: no tensor")))?;
                    Attr::Tensor(Arc::new(tensor_from_proto(t, &self.ext, &what)?))
                }
                Some(AttributeType::Graph) => {
                    let g =
                        a.g.as_ref()
                            .ok_or_else(|| Error::model(format!("{what}: no graph")))?;
                    let mut scope = outer.clone();
                    scope.extend(names.iter().map(|(n, &id)| {
                        let known = Known {
                            fact: graph.values[id].fact.clone(),
                            constant: graph.constants.get(&id).cloned(),
                        };
                        (n.clone(), known)
                    }));
                    Attr::Graph(Arc::new(self.graph(g, &scope, depth + 1)?))
                }
                Some(AttributeType::Floats) => Attr::Floats(a.floats.clone()),
                Some(AttributeType::Ints) => Attr::Ints(a.ints.clone()),
                Some(AttributeType::Strings) => {
                    Attr::Strings(a.strings.iter().map(|s| string(s)).collect())
                }
                Some(AttributeType::Tensors) => Attr::Tensors(
                    a.tensors
                        .iter()
                        .map(|t| tensor_from_proto(t, &self.ext, &what).map(Arc::new))
                        .collect::<Result<_>>()?,
                ),
                Some(AttributeType::Graphs) => {
                    return Err(Error::unsupported(format!("{what}: lists of graphs")))
                }
                Some(AttributeType::SparseTensor) | Some(AttributeType::SparseTensors) => {
                    Attr::Other("sparse tensor")
                }
                Some(AttributeType::TypeProto) | Some(AttributeType::TypeProtos) => {
                    Attr::Other("type proto")
                }
                Some(AttributeType::Undefined) | None => infer_attr_kind(a, &what)?,
            };
            out.push((name, v));
        }
        Ok(out)
    }
}

/// Attributes written without a `type` (IR < 2): use whichever field is set.
fn infer_attr_kind(a: &super::proto::AttributeProto, what: &str) -> Result<Attr> {
    Ok(if let Some(f) = a.f {
        Attr::Float(f)
    } else if let Some(i) = a.i {
        Attr::Int(i)
    } else if let Some(s) = &a.s {
        Attr::String(String::from_utf8_lossy(s).into_owned())
    } else if !a.floats.is_empty() {
        Attr::Floats(a.floats.clone())
    } else if !a.ints.is_empty() {
        Attr::Ints(a.ints.clone())
    } else {
        return Err(Error::model(format!("{what}: no type and no value")));
    })
}

fn wrap(node: &str, op: &str, e: Error) -> Error {
    match e {
        e @ (Error::Node { .. } | Error::UnsupportedOp { .. }) => e,
        e => Error::Node {
            node: node.to_string(),
            op: op.to_string(),
            source: Box::new(e),
        },
    }
}

/// Appends to a control-flow node's `inputs` the outer-scope values its subgraphs read, and
/// returns their names in that order.
fn capture_inputs(
    graph: &mut Graph,
    names: &mut HashMap<String, ValueId>,
    outer: &Scope,
    inputs: &mut Vec<Option<ValueId>>,
    subgraphs: &[&Graph],
) -> Vec<String> {
    let mut captures: Vec<String> = vec![];
    for g in subgraphs {
        for (n, _) in &g.captures {
            if !captures.contains(n) {
                captures.push(n.clone());
            }
        }
    }
    for c in &captures {
        let id = match names.get(c) {
            Some(&id) => id,
            None => capture(graph, names, outer, c),
        };
        inputs.push(Some(id));
    }
    captures
}

/// `Loop` and `Scan`: the body, its arity checked against the node's, and its captures.
fn build_body_op(
    ctx: &mut NodeCtx,
    graph: &mut Graph,
    names: &mut HashMap<String, ValueId>,
    outer: &Scope,
    inputs: &mut Vec<Option<ValueId>>,
) -> Result<Op> {
    use crate::ir::ops::control::{LoopOp, ScanOp};
    let body = ctx
        .take_graph("body")?
        .ok_or_else(|| ctx.invalid("missing attribute body"))?;
    let n_inputs = inputs.len();
    let (n_body_in, n_body_out) = (body.inputs.len(), body.outputs.len());
    let op = if ctx.op_type == "Loop" {
        // inputs M, cond, carried…; body (iteration, cond, carried…) → (cond, carried…, scans…)
        if n_inputs < 2 {
            return Err(ctx.invalid(format!(
                "Loop takes at least 2 inputs (M and cond, either may be empty), got {n_inputs}"
            )));
        }
        let carried = n_inputs - 2;
        if let Some(k) = (2..n_inputs).find(|&k| inputs[k].is_none()) {
            return Err(ctx.invalid(format!("loop-carried input {k} is empty")));
        }
        if n_body_in != carried + 2 {
            return Err(ctx.invalid(format!(
                "the body takes {n_body_in} inputs; a Loop with {carried} carried values needs {} (iteration, cond, carried values)",
                carried + 2
            )));
        }
        if n_body_out < carried + 1 || ctx.num_outputs != n_body_out - 1 {
            return Err(ctx.invalid(format!(
                "the body yields {n_body_out} outputs and the node has {}; expected cond, {carried} carried values and one node output per carried value and scan output",
                ctx.num_outputs
            )));
        }
        let captures = capture_inputs(graph, names, outer, inputs, &[&body]);
        Op::Loop(Box::new(LoopOp {
            body,
            n_inputs,
            captures,
        }))
    } else {
        let batched = ctx.opset < 9;
        let m = ctx
            .int_opt("num_scan_inputs")?
            .ok_or_else(|| ctx.invalid("missing attribute num_scan_inputs"))?;
        let own = n_inputs.saturating_sub(batched as usize); // states and scan inputs
        if m < 1 || m as usize > own {
            return Err(ctx.invalid(format!(
                "num_scan_inputs is {m} but the node has {own} state and scan inputs"
            )));
        }
        let m = m as usize;
        let n_state = own - m;
        if let Some(k) = (batched as usize..n_inputs).find(|&k| inputs[k].is_none()) {
            return Err(ctx.invalid(format!("input {k} is empty")));
        }
        if n_body_in != own {
            return Err(ctx.invalid(format!(
                "the body takes {n_body_in} inputs; the node gives it {own} ({n_state} states, {m} scan slices)"
            )));
        }
        if n_body_out < n_state || ctx.num_outputs != n_body_out {
            return Err(ctx.invalid(format!(
                "the body yields {n_body_out} outputs and the node has {}; both must be the {n_state} states and then the scan outputs",
                ctx.num_outputs
            )));
        }
        let k = n_body_out - n_state;
        let list = |name: &str, len: usize| -> Result<Vec<i64>> {
            let v = ctx.ints_opt(name)?.unwrap_or_else(|| vec![0; len]);
            if v.len() != len {
                return Err(ctx.invalid(format!(
                    "attribute {name} has {} entries, expected {len}",
                    v.len()
                )));
            }
            Ok(v)
        };
        let (input_axes, input_directions, output_axes, output_directions) = if batched {
            (vec![0; m], list("directions", m)?, vec![0; k], vec![0; k])
        } else {
            (
                list("scan_input_axes", m)?,
                list("scan_input_directions", m)?,
                list("scan_output_axes", k)?,
                list("scan_output_directions", k)?,
            )
        };
        if let Some(d) = input_directions
            .iter()
            .chain(&output_directions)
            .find(|&&d| d != 0 && d != 1)
        {
            return Err(ctx.invalid(format!(
                "a scan direction is {d}; expected 0 (forward) or 1 (reverse)"
            )));
        }
        let captures = capture_inputs(graph, names, outer, inputs, &[&body]);
        Op::Scan(Box::new(ScanOp {
            body,
            num_scan_inputs: m,
            input_axes,
            input_directions,
            output_axes,
            output_directions,
            batched,
            n_inputs,
            captures,
        }))
    };
    Ok(op)
}

/// What a subgraph knows of the values of its enclosing graphs, by name: their facts, and the
/// value of those that are constants there.
type Scope = HashMap<String, Known>;

/// A value of an enclosing graph as a subgraph sees it.
#[derive(Clone)]
struct Known {
    fact: Fact,
    constant: Option<Arc<Tensor>>,
}

/// A value of an enclosing graph read by this (sub)graph. One that is a constant there (an
/// initializer, a `Constant`, a folded value) is a constant here too, so that the nodes over it
/// fold and its readers' weights are packed at load (exporters put a branch's weights in the
/// enclosing graph); any other is captured at run time, with what the enclosing graph knows of
/// its dtype and shape.
fn capture(
    graph: &mut Graph,
    names: &mut HashMap<String, ValueId>,
    outer: &Scope,
    name: &str,
) -> ValueId {
    let known = outer.get(name);
    let fact = known.map_or_else(Fact::unknown, |k| k.fact.clone());
    let id = graph.add_value(name.to_string(), fact);
    match known.and_then(|k| k.constant.clone()) {
        Some(t) => {
            graph.constants.insert(id, t);
        }
        None => graph.captures.push((name.to_string(), id)),
    }
    names.insert(name.to_string(), id);
    id
}

/// Names a subgraph reads that it does not define itself (to order the parent's nodes).
fn collect_free_names<'a>(g: &'a GraphProto, out: &mut Vec<&'a str>) {
    let mut defined: HashSet<&str> = HashSet::new();
    defined.extend(g.initializer.iter().filter_map(|t| t.name.as_deref()));
    defined.extend(g.input.iter().filter_map(|v| v.name.as_deref()));
    for n in &g.node {
        defined.extend(n.output.iter().map(String::as_str));
    }
    for n in &g.node {
        for i in &n.input {
            if !i.is_empty() && !defined.contains(i.as_str()) {
                out.push(i);
            }
        }
        for a in &n.attribute {
            for sg in a.g.iter().chain(&a.graphs) {
                collect_free_names(sg, out);
            }
        }
    }
    for o in &g.output {
        if let Some(n) = o.name.as_deref() {
            if !defined.contains(n) {
                out.push(n);
            }
        }
    }
}
