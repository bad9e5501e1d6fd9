//! Recurrent layers: LSTM, GRU and simple RNN, in every direction and layout.

use crate::ir::fact::Fact;

/// Activation functions the recurrent ops accept, with their parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Act {
    Sigmoid,
    Tanh,
    Relu,
    Affine { alpha: f32, beta: f32 },
    LeakyRelu { alpha: f32 },
    ThresholdedRelu { alpha: f32 },
    ScaledTanh { alpha: f32, beta: f32 },
    HardSigmoid { alpha: f32, beta: f32 },
    Elu { alpha: f32 },
    Softsign,
    Softplus,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    Lstm,
    Gru,
    Rnn,
}

impl Cell {
    /// Gates per hidden unit in W/R (LSTM iofc, GRU zrh, RNN one).
    pub fn gates(self) -> usize {
        match self {
            Cell::Lstm => 4,
            Cell::Gru => 3,
            Cell::Rnn => 1,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Forward,
    Reverse,
    Bidirectional,
}

#[derive(Clone, Debug)]
pub struct RnnOp {
    pub cell: Cell,
    pub hidden: usize,
    pub direction: Direction,
    /// `activations` per direction (LSTM f,g,h; GRU f,g; RNN f), already expanded.
    pub acts: Vec<Vec<Act>>,
    pub clip: Option<f32>,
    /// LSTM: couple input and forget gates.
    pub input_forget: bool,
    /// GRU: apply R·h before multiplying by the reset gate.
    pub linear_before_reset: bool,
    /// 1 = batch-first tensors.
    pub batch_first: bool,
}

impl RnnOp {
    pub fn name(&self) -> &'static str {
        match self.cell {
            Cell::Lstm => "LSTM",
            Cell::Gru => "GRU",
            Cell::Rnn => "RNN",
        }
    }

    pub fn infer(&self, inputs: &[Fact]) -> Vec<Fact> {
        let dtype = inputs.first().and_then(|f| f.dtype);
        vec![Fact::new(dtype, None); 3]
    }
}
