//! Builders of the signal family.

use super::{NodeCtx, Registry};
use crate::error::Result;
use crate::ir::ops::signal::{SignalOp, Window};
use crate::ir::Op;
use crate::tensor::DType;

fn window(c: &NodeCtx, kind: Window) -> Result<Op> {
    c.expect_inputs(1, 1)?;
    let code = c.int("output_datatype", 1)?;
    let dtype = DType::from_onnx(code as i32)?.compute();
    Ok(Op::Signal(SignalOp::Window {
        kind,
        periodic: c.int("periodic", 1)? != 0,
        dtype,
    }))
}

/// Registers DFT, STFT and the window generators.
pub fn register(r: &mut Registry) {
    r.insert("DFT", |c| {
        c.expect_inputs(1, 3)?;
        let axis = if c.opset < 20 {
            Some(c.int("axis", 1)?)
        } else {
            None
        };
        Ok(Op::Signal(SignalOp::Dft {
            axis,
            inverse: c.int("inverse", 0)? != 0,
            onesided: c.int("onesided", 0)? != 0,
        }))
    });
    r.insert("STFT", |c| {
        c.expect_inputs(2, 4)?;
        Ok(Op::Signal(SignalOp::Stft {
            onesided: c.int("onesided", 1)? != 0,
        }))
    });
    r.insert("HannWindow", |c| window(c, Window::Hann));
    r.insert("HammingWindow", |c| window(c, Window::Hamming));
    r.insert("BlackmanWindow", |c| window(c, Window::Blackman));
}
