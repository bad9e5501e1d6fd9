//! Builders of the transformer family.

use super::{NodeCtx, Registry};
use crate::error::Result;
use crate::ir::ops::transformer::{AttentionAttrs, TransformerOp};
use crate::ir::Op;

fn op(o: TransformerOp) -> Result<Op> {
    Ok(Op::Transformer(o))
}

fn heads(c: &NodeCtx, name: &str) -> Result<Option<usize>> {
    match c.int_opt(name)? {
        None => Ok(None),
        Some(h) if h > 0 => Ok(Some(h as usize)),
        Some(h) => Err(c.invalid(format!("{name} {h} must be positive"))),
    }
}

/// Registers Attention, RotaryEmbedding, RMSNormalization, LpNormalization, SwiGLU and
/// TensorScatter.
pub fn register(r: &mut Registry) {
    r.insert("Attention", |c| {
        c.expect_inputs(3, 7)?;
        let qk_mode = c.int("qk_matmul_output_mode", 0)?;
        if !(0..=3).contains(&qk_mode) {
            return Err(c.invalid(format!(
                "qk_matmul_output_mode {qk_mode}: expected 0, 1, 2 or 3"
            )));
        }
        let (left, right) = (
            c.int("left_window_size", -1)?,
            c.int("right_window_size", -1)?,
        );
        if left < -1 || right < -1 {
            return Err(c.invalid("window sizes must be -1 or non-negative"));
        }
        op(TransformerOp::Attention(Box::new(AttentionAttrs {
            is_causal: c.int("is_causal", 0)? != 0,
            q_num_heads: heads(c, "q_num_heads")?,
            kv_num_heads: heads(c, "kv_num_heads")?,
            scale: c.float_opt("scale")?,
            softcap: c.float("softcap", 0.0)?,
            qk_mode: qk_mode as u8,
            left_window: left,
            right_window: right,
        })))
    });
    r.insert("RotaryEmbedding", |c| {
        c.expect_inputs(3, 4)?;
        let d = c.int("rotary_embedding_dim", 0)?;
        if d < 0 || d % 2 != 0 {
            return Err(c.invalid(format!(
                "rotary_embedding_dim {d} must be even and non-negative"
            )));
        }
        op(TransformerOp::RotaryEmbedding {
            interleaved: c.int("interleaved", 0)? != 0,
            num_heads: heads(c, "num_heads")?,
            rotary_dim: d as usize,
        })
    });
    r.insert("RMSNormalization", |c| {
        c.expect_inputs(2, 2)?;
        op(TransformerOp::RmsNorm {
            axis: c.int("axis", -1)?,
            epsilon: c.float("epsilon", 1e-5)?,
        })
    });
    r.insert("LpNormalization", |c| {
        c.expect_inputs(1, 1)?;
        let p = c.int("p", 2)?;
        if p != 1 && p != 2 {
            return Err(c.invalid(format!("p {p}: only 1 and 2 are defined")));
        }
        op(TransformerOp::LpNorm {
            axis: c.int("axis", -1)?,
            p: p as u8,
        })
    });
    r.insert("SwiGLU", |c| {
        c.expect_inputs(2, 2)?;
        op(TransformerOp::SwiGlu {
            alpha: c.float("alpha", 1.0)?,
        })
    });
    r.insert("TensorScatter", |c| {
        c.expect_inputs(2, 3)?;
        let circular = match c.string("mode", "linear")?.as_str() {
            "linear" => false,
            "circular" => true,
            m => return Err(c.invalid(format!("mode '{m}': expected linear or circular"))),
        };
        op(TransformerOp::TensorScatter {
            axis: c.int("axis", -2)?,
            circular,
        })
    });
}
