//! Builders of LSTM, GRU and RNN.

use super::{NodeCtx, Registry};
use crate::error::Result;
use crate::ir::ops::rnn::{Act, Cell, Direction, RnnOp};
use crate::ir::Op;

pub fn register(r: &mut Registry) {
    r.insert("LSTM", |c| build(c, Cell::Lstm));
    r.insert("GRU", |c| build(c, Cell::Gru));
    r.insert("RNN", |c| build(c, Cell::Rnn));
}

fn build(c: &NodeCtx, cell: Cell) -> Result<Op> {
    let hidden = c
        .int_opt("hidden_size")?
        .ok_or_else(|| c.invalid("missing attribute 'hidden_size'"))?;
    if hidden <= 0 {
        return Err(c.invalid("hidden_size must be positive"));
    }
    let direction = match c.string("direction", "forward")?.as_str() {
        "forward" => Direction::Forward,
        "reverse" => Direction::Reverse,
        "bidirectional" => Direction::Bidirectional,
        d => return Err(c.invalid(format!("unknown direction '{d}'"))),
    };
    let dirs = if direction == Direction::Bidirectional {
        2
    } else {
        1
    };
    let per_dir = match cell {
        Cell::Lstm => vec!["Sigmoid", "Tanh", "Tanh"],
        Cell::Gru => vec!["Sigmoid", "Tanh"],
        Cell::Rnn => vec!["Tanh"],
    };
    let names: Vec<String> = match c.strings_opt("activations")? {
        Some(v) => v,
        None => per_dir
            .iter()
            .cycle()
            .take(per_dir.len() * dirs)
            .map(|s| s.to_string())
            .collect(),
    };
    if names.len() != per_dir.len() * dirs {
        return Err(c.invalid(format!(
            "expected {} activations, got {:?}",
            per_dir.len() * dirs,
            names
        )));
    }
    let alphas = c.floats_opt("activation_alpha")?.unwrap_or_default();
    let betas = c.floats_opt("activation_beta")?.unwrap_or_default();
    let (mut ai, mut bi) = (0, 0);
    let next = |v: &Vec<f32>, i: &mut usize, default: f32| {
        let x = v.get(*i).copied().unwrap_or(default);
        *i += 1;
        x
    };
    let mut acts = Vec::with_capacity(names.len());
    for n in &names {
        acts.push(match n.to_ascii_lowercase().as_str() {
            "sigmoid" => Act::Sigmoid,
            "tanh" => Act::Tanh,
            "relu" => Act::Relu,
            "affine" => Act::Affine {
                alpha: next(&alphas, &mut ai, 1.0),
                beta: next(&betas, &mut bi, 0.0),
            },
            "leakyrelu" => Act::LeakyRelu {
                alpha: next(&alphas, &mut ai, 0.01),
            },
            "thresholdedrelu" => Act::ThresholdedRelu {
                alpha: next(&alphas, &mut ai, 1.0),
            },
            "scaledtanh" => Act::ScaledTanh {
                alpha: next(&alphas, &mut ai, 1.0),
                beta: next(&betas, &mut bi, 1.0),
            },
            "hardsigmoid" => Act::HardSigmoid {
                alpha: next(&alphas, &mut ai, 0.2),
                beta: next(&betas, &mut bi, 0.5),
            },
            "elu" => Act::Elu {
                alpha: next(&alphas, &mut ai, 1.0),
            },
            "softsign" => Act::Softsign,
            "softplus" => Act::Softplus,
            other => return Err(c.unsupported(format!("activation '{other}'"))),
        });
    }
    let acts = acts.chunks(per_dir.len()).map(|ch| ch.to_vec()).collect();
    Ok(Op::Rnn(RnnOp {
        cell,
        hidden: hidden as usize,
        direction,
        acts,
        clip: c.float_opt("clip")?,
        input_forget: c.int("input_forget", 0)? != 0,
        linear_before_reset: c.int("linear_before_reset", 0)? != 0,
        batch_first: c.int("layout", 0)? != 0,
    }))
}
