//! Builders of the elementwise family.

use super::{NodeCtx, Registry};
use crate::error::{Error, Result};
use crate::ir::ops::math::{Binary, MathOp, Unary, Variadic};
use crate::ir::Op;
use crate::tensor::{onnx_dtype_name, DType};

fn unary(u: Unary) -> Result<Op> {
    Ok(Op::Math(MathOp::Unary(u)))
}
fn binary(b: Binary) -> Result<Op> {
    Ok(Op::Math(MathOp::Binary(b)))
}
fn variadic(v: Variadic) -> Result<Op> {
    Ok(Op::Math(MathOp::Variadic(v)))
}

/// Registers every elementwise op.
/// The `to` attribute of Cast and BitCast.
fn cast_to(c: &NodeCtx) -> Result<DType> {
    let to = c
        .int_opt("to")?
        .ok_or_else(|| c.invalid("missing attribute 'to'"))?;
    DType::from_onnx(to as i32).map_err(|_| {
        Error::UnsupportedDType(format!(
            "{} ({} target of node '{}')",
            onnx_dtype_name(to as i32),
            c.op_type,
            c.name
        ))
    })
}

pub fn register(r: &mut Registry) {
    macro_rules! simple {
        ($($name:literal => $u:ident),* $(,)?) => {
            $(r.insert($name, |_| unary(Unary::$u));)*
        };
    }
    simple!(
        "Abs" => Abs, "Neg" => Neg, "Sign" => Sign, "Relu" => Relu, "Not" => Not,
        "Sqrt" => Sqrt, "Reciprocal" => Reciprocal, "Exp" => Exp, "Log" => Log, "Erf" => Erf,
        "Floor" => Floor, "Ceil" => Ceil, "Round" => Round, "Sigmoid" => Sigmoid, "Tanh" => Tanh,
        "Softplus" => Softplus, "Softsign" => Softsign, "Sin" => Sin, "Cos" => Cos, "Tan" => Tan,
        "Asin" => Asin, "Acos" => Acos, "Atan" => Atan, "Sinh" => Sinh, "Cosh" => Cosh,
        "Asinh" => Asinh, "Acosh" => Acosh, "Atanh" => Atanh, "HardSwish" => HardSwish,
        "Mish" => Mish, "IsNaN" => IsNaN, "BitwiseNot" => BitwiseNot,
    );
    r.insert("LeakyRelu", |c| {
        unary(Unary::LeakyRelu {
            alpha: c.float("alpha", 0.01)?,
        })
    });
    r.insert("Swish", |c| {
        unary(Unary::Swish {
            alpha: c.float("alpha", 1.0)?,
        })
    });
    r.insert("Elu", |c| {
        unary(Unary::Elu {
            alpha: c.float("alpha", 1.0)?,
        })
    });
    r.insert("Celu", |c| {
        unary(Unary::Celu {
            alpha: c.float("alpha", 1.0)?,
        })
    });
    r.insert("Selu", |c| {
        unary(Unary::Selu {
            alpha: c.float("alpha", 1.673_263_2)?,
            gamma: c.float("gamma", 1.050_701)?,
        })
    });
    r.insert("ThresholdedRelu", |c| {
        unary(Unary::ThresholdedRelu {
            alpha: c.float("alpha", 1.0)?,
        })
    });
    r.insert("HardSigmoid", |c| {
        unary(Unary::HardSigmoid {
            alpha: c.float("alpha", 0.2)?,
            beta: c.float("beta", 0.5)?,
        })
    });
    r.insert("Gelu", |c| {
        match c.string("approximate", "none")?.as_str() {
            "none" => unary(Unary::Gelu { tanh: false }),
            "tanh" => unary(Unary::Gelu { tanh: true }),
            other => Err(c.invalid(format!(
                "approximate must be 'none' or 'tanh', got '{other}'"
            ))),
        }
    });
    r.insert("Shrink", |c| {
        unary(Unary::Shrink {
            bias: c.float("bias", 0.0)?,
            lambd: c.float("lambd", 0.5)?,
        })
    });
    r.insert("IsInf", |c| {
        unary(Unary::IsInf {
            pos: c.int("detect_positive", 1)? != 0,
            neg: c.int("detect_negative", 1)? != 0,
        })
    });

    r.insert("Add", |c| legacy_broadcast(c).and(binary(Binary::Add)));
    r.insert("Sub", |c| legacy_broadcast(c).and(binary(Binary::Sub)));
    r.insert("Mul", |c| legacy_broadcast(c).and(binary(Binary::Mul)));
    r.insert("Div", |c| legacy_broadcast(c).and(binary(Binary::Div)));
    r.insert("Pow", |c| legacy_broadcast(c).and(binary(Binary::Pow)));
    r.insert("Mod", |c| {
        binary(Binary::Mod {
            fmod: c.int("fmod", 0)? != 0,
        })
    });
    r.insert("Equal", |c| legacy_broadcast(c).and(binary(Binary::Equal)));
    r.insert("Greater", |c| {
        legacy_broadcast(c).and(binary(Binary::Greater))
    });
    r.insert("Less", |c| legacy_broadcast(c).and(binary(Binary::Less)));
    r.insert("GreaterOrEqual", |_| binary(Binary::GreaterOrEqual));
    r.insert("LessOrEqual", |_| binary(Binary::LessOrEqual));
    r.insert("And", |c| legacy_broadcast(c).and(binary(Binary::And)));
    r.insert("Or", |c| legacy_broadcast(c).and(binary(Binary::Or)));
    r.insert("Xor", |c| legacy_broadcast(c).and(binary(Binary::Xor)));
    r.insert("PRelu", |_| binary(Binary::PRelu));
    r.insert("BitwiseAnd", |_| binary(Binary::BitwiseAnd));
    r.insert("BitwiseOr", |_| binary(Binary::BitwiseOr));
    r.insert("BitwiseXor", |_| binary(Binary::BitwiseXor));
    r.insert("BitShift", |c| match c.string("direction", "")?.as_str() {
        "LEFT" => binary(Binary::BitShiftLeft),
        "RIGHT" => binary(Binary::BitShiftRight),
        d => Err(c.invalid(format!("direction must be LEFT or RIGHT, got '{d}'"))),
    });

    r.insert("Min", |_| variadic(Variadic::Min));
    r.insert("Max", |_| variadic(Variadic::Max));
    r.insert("Sum", |_| variadic(Variadic::Sum));
    r.insert("Mean", |_| variadic(Variadic::Mean));

    r.insert("Clip", |c| {
        Ok(Op::Math(if c.opset < 11 {
            MathOp::Clip {
                min: Some(c.float("min", f32::NEG_INFINITY)?),
                max: Some(c.float("max", f32::INFINITY)?),
            }
        } else {
            MathOp::Clip {
                min: None,
                max: None,
            }
        }))
    });
    r.insert("Cast", |c| Ok(Op::Math(MathOp::Cast { to: cast_to(c)? })));
    #[cfg(feature = "extra-ops")]
    r.insert("BitCast", |c| {
        let from = c.input_dtypes.first().copied().flatten();
        let from = from.ok_or_else(|| c.invalid("the input's dtype is not known at load"))?;
        Ok(Op::Math(MathOp::BitCast {
            from,
            to: cast_to(c)?,
        }))
    });
    r.insert("CastLike", |_| Ok(Op::Math(MathOp::CastLike)));
    r.insert("Where", |_| Ok(Op::Math(MathOp::Where)));
}

/// Opsets before 7 broadcast only with `broadcast=1` and an `axis`; numpy-style broadcasting
/// covers the trailing-axis case, anything else is refused.
fn legacy_broadcast(c: &NodeCtx) -> Result<()> {
    if c.opset < 7 && c.int("broadcast", 0)? != 0 && c.int_opt("axis")?.is_some() {
        return Err(c.unsupported("opset < 7 broadcasting along an explicit axis"));
    }
    Ok(())
}
