//! Signal processing: DFT, STFT and the window generators (Hann, Hamming, Blackman).

use crate::ir::fact::Fact;
use crate::tensor::DType;

/// The window functions: `w[n] = a0 - a1·cos(2πn/N) + a2·cos(4πn/N)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    Hann,
    Hamming,
    Blackman,
}

#[derive(Clone, Debug)]
pub enum SignalOp {
    /// `axis: None` reads it from input 2 (opset 20); inputs: signal `[…, 1|2]`, dft_length.
    Dft {
        axis: Option<i64>,
        inverse: bool,
        onesided: bool,
    },
    /// Inputs: signal `[B, L, 1|2]`, frame_step, window, frame_length.
    Stft { onesided: bool },
    Window {
        kind: Window,
        periodic: bool,
        dtype: DType,
    },
}

impl SignalOp {
    pub fn name(&self) -> &'static str {
        match self {
            SignalOp::Dft { .. } => "DFT",
            SignalOp::Stft { .. } => "STFT",
            SignalOp::Window { kind, .. } => match kind {
                Window::Hann => "HannWindow",
                Window::Hamming => "HammingWindow",
                Window::Blackman => "BlackmanWindow",
            },
        }
    }

    pub fn infer(&self, inputs: &[Fact]) -> Vec<Fact> {
        let x = inputs.first().cloned().unwrap_or_default();
        match self {
            SignalOp::Window { dtype, .. } => vec![Fact::new(Some(*dtype), None)],
            _ => vec![Fact::new(x.dtype, None)],
        }
    }
}
