//! Dense linear algebra and normalisation: Gemm, MatMul, Einsum, Softmax/LogSoftmax,
//! LayerNormalization, BatchNormalization (inference), InstanceNormalization.

use crate::ir::fact::Fact;

#[derive(Clone, Debug)]
pub enum LinalgOp {
    Gemm {
        alpha: f32,
        beta: f32,
        trans_a: bool,
        trans_b: bool,
    },
    MatMul,
    /// The equation, normalised to explicit form (`ij,jk->ik`; `...` kept).
    Einsum {
        equation: String,
    },
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
}

impl LinalgOp {
    pub fn name(&self) -> &'static str {
        match self {
            LinalgOp::Gemm { .. } => "Gemm",
            LinalgOp::MatMul => "MatMul",
            LinalgOp::Einsum { .. } => "Einsum",
            LinalgOp::Softmax { log: false, .. } => "Softmax",
            LinalgOp::Softmax { log: true, .. } => "LogSoftmax",
            LinalgOp::Hardmax { .. } => "Hardmax",
            LinalgOp::LayerNorm { .. } => "LayerNormalization",
            LinalgOp::BatchNorm { .. } => "BatchNormalization",
            LinalgOp::InstanceNorm { .. } => "InstanceNormalization",
        }
    }

    pub fn infer(&self, inputs: &[Fact]) -> Vec<Fact> {
        let x = inputs.first().cloned().unwrap_or_default();
        match self {
            LinalgOp::MatMul => {
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
                vec![Fact::new(x.dtype, shape)]
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
            LinalgOp::Einsum { .. } => vec![Fact::new(x.dtype, None)],
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
