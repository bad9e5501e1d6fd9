//! Control flow in the executor: `If`, `Loop` and `Scan` run their subgraphs' plans on the CPU
//! kernels (the executor with [`NoDevice`]), feeding each the values it captures from the
//! enclosing graph by name. Inputs and outputs may be tensors, sequences or optionals (a
//! `Loop` may carry a sequence); scan inputs and outputs are tensors.

use super::exec::{poll_once, run_values, Feed, NoDevice};
use super::Plan;
use crate::backend::cpu;
use crate::error::{Error, Result};
use crate::ir::ops::control::{LoopOp, ScanOp};
use crate::ir::ops::shape::ShapeOp;
use crate::ir::ops::IfOp;
use crate::ir::{Dim, Graph, Op};
use crate::tensor::{DType, Tensor};
use crate::value::Value;

/// A `Loop` with neither a trip count nor a condition input never ends by itself (ONNX lets
/// the body's condition output be ignored then); past this many iterations it is an error.
const UNBOUNDED_ITERATIONS: i64 = 1 << 24;

/// Runs control-flow node `op` (`If`, `Loop`, `Scan`) with its subgraphs' `plans` on the
/// node's inputs `args` (its own, then its captures).
pub(super) fn run(op: &Op, plans: &[Plan], args: &[Option<Feed<'_>>]) -> Result<Vec<Value>> {
    match (op, plans) {
        (Op::If(op), [then_plan, else_plan]) => run_if(op, then_plan, else_plan, args),
        (Op::Loop(op), [body]) => run_loop(op, body, args),
        (Op::Scan(op), [body]) => run_scan(op, body, args),
        (op, _) => Err(Error::model(format!(
            "{} has {} subgraph plans, which does not match the op",
            op.name(),
            plans.len()
        ))),
    }
}

/// Runs `graph` on the CPU kernels (kept out of line: one copy of the executor for every caller).
#[inline(never)]
fn run_body(graph: &Graph, plan: &Plan, inputs: &[Feed], caps: &[Feed]) -> Result<Vec<Value>> {
    poll_once(run_values(&NoDevice, graph, plan, inputs, caps))
        .unwrap_or_else(|| Err(Error::model("a CPU-only run waited on a device")))
}

/// The values `graph` captures, looked up by name among `names` (the node's capture list),
/// whose values are `args` (the node's inputs after its own).
fn captures<'a>(
    what: &str,
    graph: &Graph,
    names: &[String],
    args: &[Option<Feed<'a>>],
) -> Result<Vec<Feed<'a>>> {
    graph
        .captures
        .iter()
        .map(|(name, _)| {
            let k = names.iter().position(|c| c == name).ok_or_else(|| {
                Error::model(format!(
                    "{what}: the subgraph reads '{name}', which the node does not capture"
                ))
            })?;
            args.get(k)
                .copied()
                .flatten()
                .ok_or_else(|| Error::model(format!("{what}: captured value '{name}' is missing")))
        })
        .collect()
}

fn tensor<'a>(f: Option<Feed<'a>>, what: &str) -> Result<Option<&'a Tensor>> {
    match f {
        None => Ok(None),
        Some(Feed::Tensor(t)) | Some(Feed::Value(Value::Tensor(t))) => Ok(Some(t)),
        Some(Feed::Value(v)) => Err(Error::shape(format!(
            "{what} must be a tensor, got a {}",
            v.kind()
        ))),
    }
}

/// A one-element tensor's value as `f64` (`what` names it in the error).
fn scalar(t: &Tensor, what: &str) -> Result<f64> {
    if t.numel() != 1 {
        return Err(Error::shape(format!(
            "{what} must hold one element, got shape {:?}",
            t.shape()
        )));
    }
    Ok(t.to_f64_vec()[0])
}

fn owned(f: Feed) -> Value {
    match f {
        Feed::Tensor(t) => Value::Tensor(t.clone()),
        Feed::Value(v) => v.clone(),
    }
}

/// `If`: picks the branch from the condition and runs it.
fn run_if(
    op: &IfOp,
    then_plan: &Plan,
    else_plan: &Plan,
    args: &[Option<Feed<'_>>],
) -> Result<Vec<Value>> {
    let cond = tensor(args.first().copied().flatten(), "If: the condition")?
        .ok_or_else(|| Error::shape("If: missing condition"))?;
    let (graph, plan) = if scalar(cond, "If: the condition")? != 0.0 {
        (&op.then_branch, then_plan)
    } else {
        (&op.else_branch, else_plan)
    };
    let caps = captures("If", graph, &op.captures, args.get(1..).unwrap_or(&[]))?;
    run_body(graph, plan, &[], &caps)
}

/// `Loop`: `for i in 0..M while cond { cond, carried…, scans… = body(i, cond, carried…) }`.
/// Without a `cond` input the body's condition output is ignored; without `M` the loop runs
/// until the condition is false.
fn run_loop(op: &LoopOp, plan: &Plan, args: &[Option<Feed<'_>>]) -> Result<Vec<Value>> {
    let n = op.n_inputs;
    if args.len() < n {
        return Err(Error::model(format!(
            "Loop: {} inputs given, the node has {n}",
            args.len()
        )));
    }
    let caps = captures("Loop", &op.body, &op.captures, &args[n..])?;
    let trips = match tensor(args[0], "Loop: the trip count M")? {
        Some(t) => Some(scalar(t, "Loop: the trip count M")? as i64),
        None => None,
    };
    let cond_in = tensor(args[1], "Loop: cond")?;
    let mut cond = match cond_in {
        Some(t) => scalar(t, "Loop: cond")? != 0.0,
        None => true,
    };
    let mut carried: Vec<Value> = Vec::with_capacity(n - 2);
    for (k, a) in args[2..n].iter().enumerate() {
        let a = a.ok_or_else(|| Error::model(format!("Loop: carried value {k} is missing")))?;
        carried.push(owned(a));
    }
    let n_carried = carried.len();
    let n_scans = op.body.outputs.len().saturating_sub(1 + n_carried);
    let mut scans: Vec<Vec<Tensor>> = vec![Vec::new(); n_scans];
    let mut i: i64 = 0;
    while cond && trips.is_none_or(|m| i < m) {
        if trips.is_none() && cond_in.is_none() && i >= UNBOUNDED_ITERATIONS {
            return Err(Error::Limit(format!(
                "Loop: no trip count and no condition input, and the body ran {i} times; give M or cond"
            )));
        }
        let iter_t = Tensor::scalar_i64(i);
        let cond_t = Tensor::from_bool(vec![], vec![cond])?;
        let mut feeds = vec![Feed::Tensor(&iter_t), Feed::Tensor(&cond_t)];
        feeds.extend(carried.iter().map(Feed::Value));
        let mut outs = run_body(&op.body, plan, &feeds, &caps)?.into_iter();
        drop(feeds);
        let c = outs
            .next()
            .ok_or_else(|| Error::model("Loop: the body yields no condition"))?
            .into_tensor("Loop: the body's condition output")?;
        if cond_in.is_some() {
            cond = scalar(&c, "Loop: the body's condition output")? != 0.0;
        }
        carried = outs.by_ref().take(n_carried).collect();
        for (k, v) in outs.enumerate() {
            scans[k].push(v.into_tensor(&format!("Loop: scan output {k}"))?);
        }
        i += 1;
    }
    let mut out = carried;
    for (k, parts) in scans.into_iter().enumerate() {
        let t = if parts.is_empty() {
            empty_like(&op.body, 1 + n_carried + k, 0)?
        } else {
            stack(&parts, 0, &format!("Loop: scan output {k}"))?
        };
        out.push(Value::Tensor(t));
    }
    Ok(out)
}

/// `Scan`: runs the body once per slice of the scan inputs, carrying the states.
fn run_scan(op: &ScanOp, plan: &Plan, args: &[Option<Feed<'_>>]) -> Result<Vec<Value>> {
    let n = op.n_inputs;
    if args.len() < n {
        return Err(Error::model(format!(
            "Scan: {} inputs given, the node has {n}",
            args.len()
        )));
    }
    let caps = captures("Scan", &op.body, &op.captures, &args[n..])?;
    let first = op.batched as usize;
    let m = op.num_scan_inputs;
    let n_state = n - first - m;
    let mut ins: Vec<&Tensor> = Vec::with_capacity(n - first);
    for (k, a) in args[first..n].iter().enumerate() {
        let what = format!("Scan: input {}", k + first);
        ins.push(tensor(*a, &what)?.ok_or_else(|| Error::model(format!("{what} is missing")))?);
    }
    let (states, xs) = ins.split_at(n_state);
    let n_scans = op.body.outputs.len() - n_state;
    if !op.batched {
        let mut axes = Vec::with_capacity(m);
        for (j, (x, &a)) in xs.iter().zip(&op.input_axes).enumerate() {
            axes.push(axis(a, x.rank(), &format!("Scan: scan_input_axes[{j}]"))?);
        }
        let states: Vec<Value> = states.iter().map(|&t| Value::Tensor(t.clone())).collect();
        let (states, parts) = scan_steps(op, plan, &caps, states, xs, &axes, None)?;
        let mut out = states;
        for (k, parts) in parts.into_iter().enumerate() {
            let what = format!("Scan: scan output {k}");
            let mut parts = parts;
            if op.output_directions[k] == 1 {
                parts.reverse();
            }
            let t = if parts.is_empty() {
                empty_like(&op.body, n_state + k, 0)?
            } else {
                let r = parts[0].rank() + 1;
                let a = axis(
                    op.output_axes[k],
                    r,
                    &format!("Scan: scan_output_axes[{k}]"),
                )?;
                stack(&parts, a, &what)?
            };
            out.push(Value::Tensor(t));
        }
        return Ok(out);
    }
    // opset 8: axis 0 of every input and output is a batch axis; scan inputs are [batch, seq, …]
    let batch = match states.first().or(xs.first()) {
        Some(t) if t.rank() > 0 => t.shape()[0],
        _ => return Err(Error::shape("Scan: inputs need a batch axis (axis 0)")),
    };
    for (k, t) in ins.iter().enumerate() {
        let long_enough = if k < n_state { 1 } else { 2 };
        if t.rank() < long_enough || t.shape()[0] != batch {
            return Err(Error::shape(format!(
                "Scan: input {} has shape {:?}; every input needs the batch size {batch} on axis 0{}",
                k + 1,
                t.shape(),
                if k < n_state { "" } else { " and a sequence axis 1" }
            )));
        }
    }
    let seq_len = xs[0].shape()[1];
    if let Some(x) = xs.iter().find(|x| x.shape()[1] != seq_len) {
        return Err(Error::shape(format!(
            "Scan: scan inputs have sequence lengths {seq_len} and {} (axis 1)",
            x.shape()[1]
        )));
    }
    let lens: Vec<usize> = match tensor(args[0], "Scan: sequence_lens")? {
        None => vec![seq_len; batch],
        Some(t) => {
            let v = t.to_i64_vec();
            if v.len() != batch || v.iter().any(|&l| l < 0 || l as usize > seq_len) {
                return Err(Error::shape(format!(
                    "Scan: sequence_lens {v:?} must hold {batch} lengths in 0..={seq_len}"
                )));
            }
            v.into_iter().map(|l| l as usize).collect()
        }
    };
    let mut out_states: Vec<Vec<Tensor>> = vec![Vec::new(); n_state];
    let mut out_scans: Vec<Vec<Tensor>> = vec![Vec::new(); n_scans];
    for (b, &len) in lens.iter().enumerate() {
        let st: Vec<Value> = states
            .iter()
            .map(|t| take(t, 0, b).map(Value::Tensor))
            .collect::<Result<_>>()?;
        let sx: Vec<Tensor> = xs.iter().map(|t| take(t, 0, b)).collect::<Result<_>>()?;
        let sx: Vec<&Tensor> = sx.iter().collect();
        let (st, parts) = scan_steps(op, plan, &caps, st, &sx, &vec![0; m], Some(len))?;
        for (k, v) in st.into_iter().enumerate() {
            out_states[k].push(v.into_tensor(&format!("Scan: state {k}"))?);
        }
        for (k, mut parts) in parts.into_iter().enumerate() {
            let what = format!("Scan: scan output {k}");
            let t = match parts.first() {
                None => empty_like(&op.body, n_state + k, seq_len)?,
                Some(p) => {
                    // steps past this batch entry's length are zeros
                    let pad = Tensor::zeros(p.dtype(), p.shape().to_vec())?;
                    parts.resize(seq_len, pad);
                    stack(&parts, 0, &what)?
                }
            };
            out_scans[k].push(t);
        }
    }
    let mut out = Vec::with_capacity(n_state + n_scans);
    for (k, parts) in out_states.iter().chain(&out_scans).enumerate() {
        out.push(Value::Tensor(stack(
            parts,
            0,
            &format!("Scan: output {k}"),
        )?));
    }
    Ok(out)
}

/// Runs `op`'s body over `steps` slices (all of axis `axes[j]` of `xs[j]` when `None`), each
/// scan input in its direction. Returns the final states and each scan output's slices in
/// iteration order.
fn scan_steps(
    op: &ScanOp,
    plan: &Plan,
    caps: &[Feed],
    mut states: Vec<Value>,
    xs: &[&Tensor],
    axes: &[usize],
    steps: Option<usize>,
) -> Result<(Vec<Value>, Vec<Vec<Tensor>>)> {
    let n_state = states.len();
    let len = xs[0].shape()[axes[0]];
    for (j, (x, &a)) in xs.iter().zip(axes).enumerate() {
        if x.shape()[a] != len {
            return Err(Error::shape(format!(
                "Scan: scan input {j} has {} steps on axis {a}, scan input 0 has {len}",
                x.shape()[a]
            )));
        }
    }
    let steps = steps.unwrap_or(len);
    let mut parts: Vec<Vec<Tensor>> = vec![Vec::new(); op.body.outputs.len() - n_state];
    for t in 0..steps {
        let mut slices = Vec::with_capacity(xs.len());
        for (j, (x, &a)) in xs.iter().zip(axes).enumerate() {
            let at = if op.input_directions[j] == 1 {
                steps - 1 - t
            } else {
                t
            };
            slices.push(take(x, a, at)?);
        }
        let mut feeds: Vec<Feed> = states.iter().map(Feed::Value).collect();
        feeds.extend(slices.iter().map(Feed::Tensor));
        let mut outs = run_body(&op.body, plan, &feeds, caps)?.into_iter();
        drop(feeds);
        states = outs.by_ref().take(n_state).collect();
        for (k, v) in outs.enumerate() {
            parts[k].push(v.into_tensor(&format!("Scan: scan output {k}"))?);
        }
    }
    Ok((states, parts))
}

/// `a` (negative from the end) as an axis of a rank-`rank` tensor.
fn axis(a: i64, rank: usize, what: &str) -> Result<usize> {
    let r = rank as i64;
    let b = if a < 0 { a + r } else { a };
    if !(0..r).contains(&b) {
        return Err(Error::shape(format!(
            "{what} is {a}, out of range for rank {rank}"
        )));
    }
    Ok(b as usize)
}

/// Slice `i` of `x` along `axis`, that axis removed.
fn take(x: &Tensor, axis: usize, i: usize) -> Result<Tensor> {
    let idx = Tensor::scalar_i64(i as i64);
    let gather = ShapeOp::Gather { axis: axis as i64 };
    let mut out = cpu::shape::run(&gather, &[Some(x), Some(&idx)])?;
    Ok(out.remove(0))
}

/// `parts` (of one shape and dtype) stacked along a new axis `axis`.
fn stack(parts: &[Tensor], axis: usize, what: &str) -> Result<Tensor> {
    let shape = parts[0].shape();
    if let Some(p) = parts
        .iter()
        .find(|p| p.shape() != shape || p.dtype() != parts[0].dtype())
    {
        return Err(Error::shape(format!(
            "{what}: iterations yield {} {:?} and {} {:?}; a scan output's slices must agree in shape and dtype",
            parts[0].dtype(),
            shape,
            p.dtype(),
            p.shape()
        )));
    }
    let mut one = shape.to_vec();
    one.insert(axis, 1);
    let parts: Vec<Tensor> = parts
        .iter()
        .map(|p| p.clone().reshaped(one.clone()))
        .collect::<Result<_>>()?;
    let refs: Vec<Option<&Tensor>> = parts.iter().map(Some).collect();
    let concat = ShapeOp::Concat { axis: axis as i64 };
    Ok(cpu::shape::run(&concat, &refs)?.remove(0))
}

/// The scan output of zero iterations for body output `k`: `steps` (0, or the padded length)
/// zero slices of the shape and dtype the body declares (f32 and shape [steps] when unknown).
fn empty_like(body: &Graph, k: usize, steps: usize) -> Result<Tensor> {
    let fact = &body.values[body.outputs[k]].fact;
    let dtype = fact.dtype.map_or(DType::F32, DType::compute);
    let mut shape = vec![steps];
    if let Some(dims) = &fact.shape {
        if let Some(known) = dims
            .iter()
            .map(|d| match d {
                Dim::Known(n) => Some(*n),
                _ => None,
            })
            .collect::<Option<Vec<usize>>>()
        {
            shape.extend(known);
        }
    }
    Tensor::zeros(dtype, shape)
}
