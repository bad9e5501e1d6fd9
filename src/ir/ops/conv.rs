//! Convolutions and pooling over N-d spatial dims (input layout N, C, spatial…).

use crate::ir::fact::{Dim, Fact};
use crate::tensor::DType;

/// How padding is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoPad {
    /// Explicit `pads`.
    NotSet,
    SameUpper,
    SameLower,
    Valid,
}

/// Window geometry shared by Conv, ConvTranspose and the pools. Empty vectors mean "default
/// for the input's spatial rank" (kernel from the weights; strides/dilations 1; pads 0).
#[derive(Clone, Debug, Default)]
pub struct Window {
    pub kernel: Vec<usize>,
    pub strides: Vec<usize>,
    pub dilations: Vec<usize>,
    /// begin… then end…, as ONNX writes them.
    pub pads: Vec<usize>,
    pub auto_pad: Option<AutoPad>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PoolKind {
    Max,
    Average { count_include_pad: bool },
    Lp { p: f32 },
}

/// An elementwise activation applied to a Conv's output as it is written (a load-time fusion,
/// [`crate::ir::rewrite`]); each is computed exactly as its standalone op's CPU kernel computes it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ConvAct {
    Relu,
    /// `Clip` with constant bounds (`lo`/`hi` infinite where a bound is absent).
    Clip {
        lo: f32,
        hi: f32,
    },
    HardSwish,
    Sigmoid,
    LeakyRelu {
        alpha: f32,
    },
    /// HardSwish, then `y·mul + add` with two roundings, exactly as a separate `Mul` and `Add`
    /// by scalar constants compute it (PP-LCNet's learnable affine block after its activation;
    /// `add` is `-0.0`, which leaves every value as it is, when there is no `Add`).
    HardSwishAffine {
        mul: f32,
        add: f32,
    },
}

#[derive(Clone, Debug)]
pub enum ConvOp {
    Conv {
        window: Window,
        group: usize,
        /// A fused activation (`None` as parsed).
        act: Option<ConvAct>,
    },
    ConvTranspose {
        window: Window,
        group: usize,
        output_padding: Vec<usize>,
        output_shape: Vec<usize>,
    },
    Pool {
        kind: PoolKind,
        window: Window,
        ceil_mode: bool,
        column_major_indices: bool,
        /// Whether MaxPool's `Indices` output is asked for (the node lists a second output);
        /// without it the kernel computes only the maxima.
        indices: bool,
    },
    GlobalPool {
        kind: PoolKind,
    },
    /// MaxUnpool: `(in - 1)·stride + kernel - pads` per spatial dim, or input 2's shape.
    Unpool {
        window: Window,
        /// Whether the node gives `output_shape` (input 2).
        output_shape: bool,
    },
}

impl ConvOp {
    pub fn name(&self) -> &'static str {
        match self {
            ConvOp::Conv { .. } => "Conv",
            ConvOp::ConvTranspose { .. } => "ConvTranspose",
            ConvOp::Pool {
                kind: PoolKind::Max,
                ..
            } => "MaxPool",
            ConvOp::Pool {
                kind: PoolKind::Average { .. },
                ..
            } => "AveragePool",
            ConvOp::Pool {
                kind: PoolKind::Lp { .. },
                ..
            } => "LpPool",
            ConvOp::GlobalPool {
                kind: PoolKind::Max,
            } => "GlobalMaxPool",
            ConvOp::GlobalPool {
                kind: PoolKind::Average { .. },
            } => "GlobalAveragePool",
            ConvOp::GlobalPool {
                kind: PoolKind::Lp { .. },
            } => "GlobalLpPool",
            ConvOp::Unpool { .. } => "MaxUnpool",
        }
    }

    /// Output dtype and, where the input and weight shapes allow, the output shape (batch and
    /// channels carried over symbolically, spatial dims computed when known).
    pub fn infer(&self, inputs: &[Fact]) -> Vec<Fact> {
        let x = inputs.first().cloned().unwrap_or_default();
        let w = inputs.get(1).and_then(|f| f.shape.clone());
        let shape = x.shape.as_ref().filter(|s| s.len() >= 3).map(|xs| {
            let sp = xs.len() - 2;
            let spatial_in: Vec<Option<usize>> = xs[2..].iter().map(|d| d.known()).collect();
            let ws = w.as_ref().filter(|w| w.len() == xs.len());
            let w_kernel = |i: usize| ws.and_then(|w| w[2 + i].known());
            let mut out = vec![xs[0].clone()];
            match self {
                ConvOp::Conv { window, .. } => {
                    out.push(ws.map_or(Dim::Any, |w| w[0].clone()));
                    for (d, &input) in spatial_in.iter().enumerate() {
                        let k = window.kernel.get(d).copied().or_else(|| w_kernel(d));
                        out.push(known(
                            input
                                .zip(k)
                                .and_then(|(i, k)| pooled_dim(window, d, sp, i, k, false)),
                        ));
                    }
                }
                ConvOp::ConvTranspose {
                    window,
                    group,
                    output_padding,
                    output_shape,
                } => {
                    let m = ws.and_then(|w| w[1].known()).map(|m| m * group);
                    out.push(known(m));
                    for d in 0..sp {
                        let k = window.kernel.get(d).copied().or_else(|| w_kernel(d));
                        let o = if output_shape.len() >= sp {
                            Some(output_shape[output_shape.len() - sp + d])
                        } else {
                            spatial_in[d].zip(k).and_then(|(i, k)| {
                                transposed_dim(window, output_padding, d, sp, i, k)
                            })
                        };
                        out.push(known(o));
                    }
                }
                ConvOp::Pool {
                    window, ceil_mode, ..
                } => {
                    out.push(xs[1].clone());
                    for (d, &input) in spatial_in.iter().enumerate() {
                        let k = window.kernel.get(d).copied();
                        out.push(known(
                            input
                                .zip(k)
                                .and_then(|(i, k)| pooled_dim(window, d, sp, i, k, *ceil_mode)),
                        ));
                    }
                }
                ConvOp::GlobalPool { .. } => {
                    out.push(xs[1].clone());
                    out.extend(std::iter::repeat_n(Dim::Known(1), sp));
                }
                ConvOp::Unpool {
                    window,
                    output_shape,
                } => {
                    out.push(xs[1].clone());
                    for (d, &input) in spatial_in.iter().enumerate() {
                        let dim = input.zip(window.kernel.get(d)).and_then(|(i, &k)| {
                            unpooled_dim(window, d, sp, i, k).filter(|_| !output_shape)
                        });
                        out.push(known(dim));
                    }
                }
            }
            out
        });
        match self {
            ConvOp::Pool {
                kind: PoolKind::Max,
                ..
            } => vec![
                Fact::new(x.dtype, shape.clone()),
                Fact::new(Some(DType::I64), shape),
            ],
            _ => vec![Fact::new(x.dtype, shape)],
        }
    }
}

/// MaxUnpool's inferred size of spatial dim `d` (`None` when the pads exceed it).
pub fn unpooled_dim(w: &Window, d: usize, sp: usize, input: usize, k: usize) -> Option<usize> {
    let s = attr_at(&w.strides, d, 1);
    let pads = attr_at(&w.pads, d, 0) + attr_at(&w.pads, sp + d, 0);
    (input.max(1) - 1)
        .checked_mul(s)?
        .checked_add(k)?
        .checked_sub(pads)
        .filter(|_| input > 0)
}

fn known(d: Option<usize>) -> Dim {
    d.map_or(Dim::Any, Dim::Known)
}

fn attr_at(v: &[usize], d: usize, default: usize) -> usize {
    if v.is_empty() {
        default
    } else {
        v.get(d).copied().unwrap_or(default)
    }
}

/// Output size of spatial dim `d` of a Conv or pool (`None` where the kernel would reject it).
fn pooled_dim(
    w: &Window,
    d: usize,
    sp: usize,
    input: usize,
    k: usize,
    ceil: bool,
) -> Option<usize> {
    let s = attr_at(&w.strides, d, 1).max(1);
    let eff = attr_at(&w.dilations, d, 1).checked_mul(k.checked_sub(1)?)? + 1;
    match w.auto_pad.unwrap_or(AutoPad::NotSet) {
        AutoPad::SameUpper | AutoPad::SameLower => Some(input.div_ceil(s)),
        auto => {
            let (pb, pe) = if auto == AutoPad::Valid || w.pads.len() != 2 * sp {
                (0, 0)
            } else {
                (w.pads[d], w.pads[d + sp])
            };
            let span = input.checked_add(pb)?.checked_add(pe)?.checked_sub(eff)?;
            let mut o = if ceil { span.div_ceil(s) } else { span / s } + 1;
            if ceil && (o - 1) * s >= input + pb {
                o -= 1;
            }
            Some(o)
        }
    }
}

/// Output size of spatial dim `d` of a ConvTranspose without `output_shape`.
fn transposed_dim(
    w: &Window,
    output_padding: &[usize],
    d: usize,
    sp: usize,
    input: usize,
    k: usize,
) -> Option<usize> {
    let s = attr_at(&w.strides, d, 1);
    if matches!(w.auto_pad, Some(AutoPad::SameUpper | AutoPad::SameLower)) {
        return input.checked_mul(s);
    }
    let eff = attr_at(&w.dilations, d, 1).checked_mul(k.checked_sub(1)?)? + 1;
    let full = s
        .checked_mul(input.checked_sub(1)?)?
        .checked_add(eff)?
        .checked_add(attr_at(output_padding, d, 0))?;
    let (pb, pe) = if w.auto_pad == Some(AutoPad::Valid) || w.pads.len() != 2 * sp {
        (0, 0)
    } else {
        (w.pads[d], w.pads[d + sp])
    };
    full.checked_sub(pb.checked_add(pe)?)
}
