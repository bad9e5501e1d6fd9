//! [`Session`]: a loaded model, ready to run.

use crate::error::{Error, Result};
use crate::ir::{Dim, Graph};
use crate::onnx::parse::{parse_model, Model};
use crate::onnx::tensor::ExternalData;
use crate::plan::{run_graph, Plan};
use crate::tensor::{DType, Tensor};
use std::borrow::Cow;
use std::collections::HashMap;

/// Name, dtype and shape of a model input or output. Shapes may hold symbolic dims
/// ([`Dim::Sym`], e.g. `batch`) or unknown ones ([`Dim::Any`]); `None` when even the rank is
/// not declared.
#[derive(Clone, Debug, PartialEq)]
pub struct IoInfo {
    pub name: String,
    pub dtype: Option<DType>,
    pub shape: Option<Vec<Dim>>,
}

/// A model loaded for inference: parsed, folded, pruned and planned once; `run` only executes.
///
/// ```
/// # fn demo(model_bytes: &[u8]) -> hearth::Result<()> {
/// use hearth::{Session, Tensor};
/// let session = Session::from_bytes(model_bytes)?;
/// let x = Tensor::from_f32(vec![1, 17], vec![0.0; 17])?;
/// let outputs = session.run(&[(session.inputs()[0].name.as_str(), &x)])?;
/// println!("{:?}", outputs[0].as_f32()?);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Session {
    model: Model,
    plan: Plan,
    inputs: Vec<IoInfo>,
    outputs: Vec<IoInfo>,
}

fn io_info(graph: &Graph, id: usize) -> IoInfo {
    let v = &graph.values[id];
    IoInfo {
        name: v.name.clone(),
        dtype: v.fact.dtype,
        shape: v.fact.shape.clone(),
    }
}

impl Session {
    /// Loads an ONNX model whose weights are all inside `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<Session> {
        Session::from_bytes_with_external_data(bytes, &[])
    }

    /// Loads an ONNX model whose weights are (partly) in external files, given as
    /// `(file name, bytes)` pairs. When a single buffer is given it serves every location.
    pub fn from_bytes_with_external_data(bytes: &[u8], files: &[(&str, &[u8])]) -> Result<Session> {
        let model = parse_model(bytes, &ExternalData { files })?;
        let plan = Plan::new(&model.graph);
        let g = &model.graph;
        let inputs = g.inputs.iter().map(|&i| io_info(g, i)).collect();
        let outputs = g.outputs.iter().map(|&o| io_info(g, o)).collect();
        Ok(Session {
            model,
            plan,
            inputs,
            outputs,
        })
    }

    /// The inputs `run` expects, in model order.
    pub fn inputs(&self) -> &[IoInfo] {
        &self.inputs
    }

    /// The outputs `run` returns, in model order.
    pub fn outputs(&self) -> &[IoInfo] {
        &self.outputs
    }

    /// Opset version of the default ONNX domain the model was written for.
    pub fn opset(&self) -> i64 {
        self.model.opset
    }

    /// The planned graph (for inspection and tools).
    pub fn graph(&self) -> &Graph {
        &self.model.graph
    }

    /// Which backend runs this session (`"cpu"` until the WebGPU backend lands).
    pub fn backend(&self) -> &'static str {
        "cpu"
    }

    /// Runs the model. `feeds` gives every input by name; returns the outputs in
    /// [`outputs`](Self::outputs) order, in the dtypes the model declares.
    ///
    /// Inputs are checked against the model: an unknown or missing name, a wrong dtype, a wrong
    /// rank, a dim that differs from a fixed one, or two sizes for one symbolic dim is an
    /// [`Error::Input`] naming the input and what was expected. `f32` and integer inputs are
    /// borrowed, not copied.
    pub fn run(&self, feeds: &[(&str, &Tensor)]) -> Result<Vec<Tensor>> {
        let mut by_name: HashMap<&str, &Tensor> = HashMap::with_capacity(feeds.len());
        for &(name, t) in feeds {
            if !self.inputs.iter().any(|i| i.name == name) {
                let names: Vec<&str> = self.inputs.iter().map(|i| i.name.as_str()).collect();
                return Err(Error::Input {
                    name: name.to_string(),
                    msg: format!("the model has no such input; its inputs are {names:?}"),
                });
            }
            if by_name.insert(name, t).is_some() {
                return Err(Error::Input {
                    name: name.to_string(),
                    msg: "given twice".into(),
                });
            }
        }
        let mut syms: HashMap<&str, (usize, &str)> = HashMap::new();
        let mut converted: Vec<Cow<Tensor>> = Vec::with_capacity(self.inputs.len());
        for info in &self.inputs {
            let t = by_name
                .get(info.name.as_str())
                .ok_or_else(|| Error::Input {
                    name: info.name.clone(),
                    msg: format!("missing: the model needs it ({})", describe(info)),
                })?;
            check_input(info, t, &mut syms)?;
            converted.push(if t.dtype().compute() == t.dtype() {
                Cow::Borrowed(*t)
            } else {
                Cow::Owned((*t).clone().into_compute())
            });
        }
        let refs: Vec<&Tensor> = converted.iter().map(|c| c.as_ref()).collect();
        let outs = run_graph(&self.model.graph, &self.plan, &refs, &[])?;
        Ok(outs
            .into_iter()
            .zip(&self.model.output_dtypes)
            .map(|(t, &d)| t.into_declared(d))
            .collect())
    }
}

fn describe(info: &IoInfo) -> String {
    let dtype = info
        .dtype
        .map_or("any dtype".to_string(), |d| d.to_string());
    match &info.shape {
        Some(s) => {
            let dims: Vec<String> = s.iter().map(|d| d.to_string()).collect();
            format!("{dtype} of shape [{}]", dims.join(", "))
        }
        None => dtype,
    }
}

fn check_input<'a>(
    info: &'a IoInfo,
    t: &Tensor,
    syms: &mut HashMap<&'a str, (usize, &'a str)>,
) -> Result<()> {
    let err = |msg: String| Error::Input {
        name: info.name.clone(),
        msg,
    };
    if let Some(d) = info.dtype {
        if t.dtype() != d {
            return Err(err(format!(
                "expected {}, got {}",
                describe(info),
                t.dtype()
            )));
        }
    }
    if let Some(shape) = &info.shape {
        if shape.len() != t.rank() {
            return Err(err(format!(
                "expected {} (rank {}), got shape {:?}",
                describe(info),
                shape.len(),
                t.shape()
            )));
        }
        for (k, (d, &n)) in shape.iter().zip(t.shape()).enumerate() {
            match d {
                Dim::Known(m) if *m != n => {
                    return Err(err(format!(
                        "expected {}, got shape {:?} (dim {k} is {n}, expected {m})",
                        describe(info),
                        t.shape()
                    )))
                }
                Dim::Sym(s) => match syms.get(s.as_str()) {
                    Some(&(m, other)) if m != n => {
                        return Err(err(format!(
                            "dim {k} ('{s}') is {n}, but input '{other}' gave '{s}' = {m}"
                        )))
                    }
                    Some(_) => {}
                    None => {
                        syms.insert(s.as_str(), (n, info.name.as_str()));
                    }
                },
                _ => {}
            }
        }
    }
    Ok(())
}
