//! Dense linear algebra and normalisation: Gemm, MatMul, Einsum, Softmax/LogSoftmax,
//! LayerNormalization, BatchNormalization (inference), InstanceNormalization.

use crate::ir::fact::{broadcast_dims, Dim, Fact};
use crate::tensor::DType;

#[derive(Clone, Debug)]
pub enum LinalgOp {
    Gemm {
        alpha: f32,
        beta: f32,
        trans_a: bool,
        trans_b: bool,
    },
    /// ONNX's two inputs, and a third the load-time rewrite may add: a bias of N values (B's
    /// columns) the product starts from (`MatMul + Add` fused, [`crate::ir::rewrite`]).
    MatMul,
    /// The equation, parsed and checked at load.
    Einsum(EinsumSpec),
    /// `A·B` of 8-bit integers with zero points, accumulated in int32.
    MatMulInteger,
    /// Determinants of the trailing square matrices.
    Det,
    /// `legacy`: opset < 13 semantics (coerce to 2-D at `axis`, normalise the trailing block).
    Softmax {
        axis: i64,
        log: bool,
        legacy: bool,
    },
    /// Hardmax shares the softmax axis rules.
    Hardmax {
        axis: i64,
        legacy: bool,
    },
    LayerNorm {
        axis: i64,
        epsilon: f32,
    },
    BatchNorm {
        epsilon: f32,
    },
    InstanceNorm {
        epsilon: f32,
    },
    /// Mean and variance over each group of `num_groups` consecutive channels per instance;
    /// scale and bias per channel (opset 21) or per group (opset 18).
    GroupNorm {
        num_groups: usize,
        epsilon: f32,
    },
    /// `(X - mean) / (std + 1e-9)` over `axes` (ONNX's function body).
    MeanVarianceNorm {
        axes: Vec<i64>,
    },
    /// Local response normalisation across `size` neighbouring channels.
    Lrn {
        size: usize,
        alpha: f32,
        beta: f32,
        bias: f32,
    },
}

impl LinalgOp {
    pub fn name(&self) -> &'static str {
        match self {
            LinalgOp::Gemm { .. } => "Gemm",
            LinalgOp::MatMul => "MatMul",
            LinalgOp::Einsum(_) => "Einsum",
            LinalgOp::MatMulInteger => "MatMulInteger",
            LinalgOp::Det => "Det",
            LinalgOp::Softmax { log: false, .. } => "Softmax",
            LinalgOp::Softmax { log: true, .. } => "LogSoftmax",
            LinalgOp::Hardmax { .. } => "Hardmax",
            LinalgOp::LayerNorm { .. } => "LayerNormalization",
            LinalgOp::BatchNorm { .. } => "BatchNormalization",
            LinalgOp::InstanceNorm { .. } => "InstanceNormalization",
            LinalgOp::GroupNorm { .. } => "GroupNormalization",
            LinalgOp::MeanVarianceNorm { .. } => "MeanVarianceNormalization",
            LinalgOp::Lrn { .. } => "LRN",
        }
    }

    pub fn infer(&self, inputs: &[Fact]) -> Vec<Fact> {
        let x = inputs.first().cloned().unwrap_or_default();
        match self {
            LinalgOp::MatMul | LinalgOp::MatMulInteger => {
                let shape = match (&x.shape, inputs.get(1).and_then(|f| f.shape.as_ref())) {
                    (Some(a), Some(b)) if a.len() >= 2 && b.len() >= 2 => {
                        let batch_a = &a[..a.len() - 2];
                        let batch_b = &b[..b.len() - 2];
                        crate::ir::fact::broadcast_dims(batch_a, batch_b).map(|mut s| {
                            s.push(a[a.len() - 2].clone());
                            s.push(b[b.len() - 1].clone());
                            s
                        })
                    }
                    _ => None,
                };
                let dtype = match self {
                    LinalgOp::MatMulInteger => Some(DType::I32),
                    _ => x.dtype,
                };
                vec![Fact::new(dtype, shape)]
            }
            LinalgOp::Gemm {
                trans_a, trans_b, ..
            } => {
                let shape = match (&x.shape, inputs.get(1).and_then(|f| f.shape.as_ref())) {
                    (Some(a), Some(b)) if a.len() == 2 && b.len() == 2 => Some(vec![
                        a[if *trans_a { 1 } else { 0 }].clone(),
                        b[if *trans_b { 0 } else { 1 }].clone(),
                    ]),
                    _ => None,
                };
                vec![Fact::new(x.dtype, shape)]
            }
            LinalgOp::Einsum(spec) => vec![Fact::new(x.dtype, spec.infer_shape(inputs))],
            LinalgOp::Det => {
                let shape = x.shape.as_ref().filter(|s| s.len() >= 2);
                vec![Fact::new(x.dtype, shape.map(|s| s[..s.len() - 2].to_vec()))]
            }
            LinalgOp::LayerNorm { .. } => {
                vec![
                    x.clone(),
                    Fact::new(x.dtype, None),
                    Fact::new(x.dtype, None),
                ]
            }
            _ => vec![Fact::new(x.dtype, x.shape.clone())],
        }
    }
}

/// Subscript standing for `...` in a parsed einsum term.
pub const ELLIPSIS: u8 = b'.';

/// An einsum equation parsed at load: each term as ASCII letters plus at most one [`ELLIPSIS`].
#[derive(Clone, Debug, PartialEq)]
pub struct EinsumSpec {
    /// The equation as written (for messages).
    pub equation: String,
    /// Subscripts of each operand.
    pub inputs: Vec<Vec<u8>>,
    /// Subscripts of the output: as written after `->`, or in implicit mode `...` (when any
    /// operand has one) followed by the letters used exactly once, in ASCII order (numpy's rule).
    pub output: Vec<u8>,
}

impl EinsumSpec {
    /// Parses `equation` (whitespace ignored); the error says what is wrong with it.
    pub fn parse(equation: &str) -> Result<EinsumSpec, String> {
        let eq: String = equation.chars().filter(|c| !c.is_whitespace()).collect();
        let (lhs, rhs) = match eq.split_once("->") {
            Some((l, r)) => (l, Some(r)),
            None => (eq.as_str(), None),
        };
        let inputs = lhs
            .split(',')
            .map(|t| parse_term(t, &eq))
            .collect::<Result<Vec<_>, _>>()?;
        let any_ell = inputs.iter().any(|t| t.contains(&ELLIPSIS));
        let output = match rhs {
            Some(r) => {
                let out = parse_term(r, &eq)?;
                for (i, &c) in out.iter().enumerate() {
                    if c != ELLIPSIS && !inputs.iter().any(|t| t.contains(&c)) {
                        return Err(format!(
                            "einsum '{eq}': output subscript '{}' appears in no operand",
                            c as char
                        ));
                    }
                    if out[..i].contains(&c) {
                        return Err(format!(
                            "einsum '{eq}': output subscript '{}' is repeated",
                            c as char
                        ));
                    }
                }
                out
            }
            None => {
                let mut count = [0usize; 128];
                for &c in inputs.iter().flatten() {
                    if c != ELLIPSIS {
                        count[c as usize] += 1;
                    }
                }
                let mut out: Vec<u8> = if any_ell { vec![ELLIPSIS] } else { vec![] };
                out.extend((0u8..128).filter(|&c| count[c as usize] == 1));
                out
            }
        };
        Ok(EinsumSpec {
            equation: eq,
            inputs,
            output,
        })
    }

    /// Output shape from the operands' shapes, when every operand's rank is known.
    pub fn infer_shape(&self, inputs: &[Fact]) -> Option<Vec<Dim>> {
        if inputs.len() != self.inputs.len() {
            return None;
        }
        let mut size: Vec<Option<Dim>> = vec![None; 128];
        let mut ell: Vec<Dim> = vec![];
        for (term, f) in self.inputs.iter().zip(inputs) {
            let shape = f.shape.as_ref()?;
            let explicit = term.iter().filter(|&&c| c != ELLIPSIS).count();
            let n_ell = shape.len().checked_sub(explicit)?;
            if n_ell > 0 && !term.contains(&ELLIPSIS) {
                return None;
            }
            let mut d = 0;
            for &c in term {
                if c == ELLIPSIS {
                    ell = broadcast_dims(&ell, &shape[d..d + n_ell])?;
                    d += n_ell;
                } else {
                    let slot = &mut size[c as usize];
                    if slot.is_none() || *slot == Some(Dim::Known(1)) {
                        *slot = Some(shape[d].clone());
                    }
                    d += 1;
                }
            }
        }
        let mut out = vec![];
        for &c in &self.output {
            if c == ELLIPSIS {
                out.extend(ell.iter().cloned());
            } else {
                out.push(size[c as usize].clone()?);
            }
        }
        Some(out)
    }
}

/// One term: letters and at most one `...` (stored as [`ELLIPSIS`]).
fn parse_term(t: &str, eq: &str) -> Result<Vec<u8>, String> {
    let b = t.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_alphabetic() {
            out.push(b[i]);
            i += 1;
        } else if b[i..].starts_with(b"...") {
            if out.contains(&ELLIPSIS) {
                return Err(format!("einsum '{eq}': term '{t}' has two ellipses"));
            }
            out.push(ELLIPSIS);
            i += 3;
        } else {
            return Err(format!(
                "einsum '{eq}': term '{t}' has an invalid character (expected letters and '...')"
            ));
        }
    }
    Ok(out)
}
