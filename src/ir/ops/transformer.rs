//! The ops transformer exports use (opsets 23+): Attention, RotaryEmbedding, RMSNormalization,
//! SwiGLU, TensorScatter; and LpNormalization, a one-axis normalization like RMSNormalization.

use crate::ir::fact::Fact;

/// Attention's attributes (opsets 23–25; one semantics, as the ONNX reference has it).
#[derive(Clone, Debug, PartialEq)]
pub struct AttentionAttrs {
    pub is_causal: bool,
    /// Heads of Q and of K/V, for 3-D inputs.
    pub q_num_heads: Option<usize>,
    pub kv_num_heads: Option<usize>,
    /// Scale of Q·Kᵀ; `None` is `1/sqrt(head_size)`.
    pub scale: Option<f32>,
    /// `softcap·tanh(x/softcap)` on the scores when positive.
    pub softcap: f32,
    /// What output 3 holds: 0 raw (soft-capped) scores, 1 after softcap, 2 with the bias, 3
    /// the softmax.
    pub qk_mode: u8,
    /// Sliding window bounds (opset 25); negative is unbounded.
    pub left_window: i64,
    pub right_window: i64,
}

#[derive(Clone, Debug)]
pub enum TransformerOp {
    Attention(Box<AttentionAttrs>),
    RotaryEmbedding {
        interleaved: bool,
        num_heads: Option<usize>,
        rotary_dim: usize,
    },
    RmsNorm {
        axis: i64,
        epsilon: f32,
    },
    LpNorm {
        axis: i64,
        p: u8,
    },
    SwiGlu {
        alpha: f32,
    },
    /// `circular`: write positions wrap around the cache's sequence axis.
    TensorScatter {
        axis: i64,
        circular: bool,
    },
}

impl TransformerOp {
    pub fn name(&self) -> &'static str {
        match self {
            TransformerOp::Attention(_) => "Attention",
            TransformerOp::RotaryEmbedding { .. } => "RotaryEmbedding",
            TransformerOp::RmsNorm { .. } => "RMSNormalization",
            TransformerOp::LpNorm { .. } => "LpNormalization",
            TransformerOp::SwiGlu { .. } => "SwiGLU",
            TransformerOp::TensorScatter { .. } => "TensorScatter",
        }
    }

    pub fn infer(&self, inputs: &[Fact]) -> Vec<Fact> {
        let x = inputs.first().cloned().unwrap_or_default();
        match self {
            TransformerOp::Attention(_) => vec![Fact::new(x.dtype, None); 4],
            _ => vec![Fact::new(x.dtype, x.shape)],
        }
    }
}
