//! Elementwise ops: unary functions, broadcasting binary arithmetic/comparison/logic, variadic
//! Min/Max/Sum/Mean, Clip, Cast, Where.

use crate::ir::fact::{broadcast_dims, Fact};
use crate::tensor::DType;

/// One-input elementwise functions (parameters inline).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unary {
    Abs,
    Neg,
    Sign,
    Relu,
    Not,
    Sqrt,
    Reciprocal,
    Exp,
    Log,
    Erf,
    Floor,
    Ceil,
    Round,
    Sigmoid,
    Tanh,
    Softplus,
    Softsign,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Asinh,
    Acosh,
    Atanh,
    HardSwish,
    Mish,
    IsNaN,
    BitwiseNot,
    LeakyRelu {
        alpha: f32,
    },
    Elu {
        alpha: f32,
    },
    Celu {
        alpha: f32,
    },
    Selu {
        alpha: f32,
        gamma: f32,
    },
    ThresholdedRelu {
        alpha: f32,
    },
    HardSigmoid {
        alpha: f32,
        beta: f32,
    },
    Gelu {
        tanh: bool,
    },
    /// `x·sigmoid(alpha·x)` (opset 24).
    Swish {
        alpha: f32,
    },
    Shrink {
        bias: f32,
        lambd: f32,
    },
    IsInf {
        pos: bool,
        neg: bool,
    },
}

/// Two-input broadcasting ops.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    /// `fmod = 0`: integer modulo with the divisor's sign; `fmod = 1`: C `fmod`.
    Mod {
        fmod: bool,
    },
    Equal,
    Greater,
    Less,
    GreaterOrEqual,
    LessOrEqual,
    And,
    Or,
    Xor,
    /// `x < 0 ? slope·x : x` with the slope broadcast to x.
    PRelu,
    BitShiftLeft,
    BitShiftRight,
    BitwiseAnd,
    BitwiseOr,
    BitwiseXor,
}

impl Binary {
    /// Ops whose output is bool.
    pub fn is_predicate(self) -> bool {
        use Binary::*;
        matches!(
            self,
            Equal | Greater | Less | GreaterOrEqual | LessOrEqual | And | Or | Xor
        )
    }
}

/// Many-input broadcasting reductions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Variadic {
    Min,
    Max,
    Sum,
    Mean,
}

#[derive(Clone, Debug)]
pub enum MathOp {
    Unary(Unary),
    Binary(Binary),
    Variadic(Variadic),
    /// Bounds from attributes (opset < 11) or, when `None`, from inputs 1 and 2.
    Clip {
        min: Option<f32>,
        max: Option<f32>,
    },
    /// `to` is the target dtype; `F16` rounds values to half precision (computed in f32).
    Cast {
        to: DType,
    },
    /// Casts input 0 to the dtype of input 1.
    CastLike,
    /// Reinterprets the bits of input 0 (declared `from`, computed in `from.compute()`) as `to`,
    /// of the same width.
    BitCast {
        from: DType,
        to: DType,
    },
    Where,
}

impl MathOp {
    pub fn name(&self) -> &'static str {
        use Unary as U;
        match self {
            MathOp::Unary(u) => match u {
                U::Abs => "Abs",
                U::Neg => "Neg",
                U::Sign => "Sign",
                U::Relu => "Relu",
                U::Not => "Not",
                U::Sqrt => "Sqrt",
                U::Reciprocal => "Reciprocal",
                U::Exp => "Exp",
                U::Log => "Log",
                U::Erf => "Erf",
                U::Floor => "Floor",
                U::Ceil => "Ceil",
                U::Round => "Round",
                U::Sigmoid => "Sigmoid",
                U::Tanh => "Tanh",
                U::Softplus => "Softplus",
                U::Softsign => "Softsign",
                U::Sin => "Sin",
                U::Cos => "Cos",
                U::Tan => "Tan",
                U::Asin => "Asin",
                U::Acos => "Acos",
                U::Atan => "Atan",
                U::Sinh => "Sinh",
                U::Cosh => "Cosh",
                U::Asinh => "Asinh",
                U::Acosh => "Acosh",
                U::Atanh => "Atanh",
                U::HardSwish => "HardSwish",
                U::Mish => "Mish",
                U::IsNaN => "IsNaN",
                U::BitwiseNot => "BitwiseNot",
                U::LeakyRelu { .. } => "LeakyRelu",
                U::Elu { .. } => "Elu",
                U::Celu { .. } => "Celu",
                U::Selu { .. } => "Selu",
                U::ThresholdedRelu { .. } => "ThresholdedRelu",
                U::HardSigmoid { .. } => "HardSigmoid",
                U::Gelu { .. } => "Gelu",
                U::Swish { .. } => "Swish",
                U::Shrink { .. } => "Shrink",
                U::IsInf { .. } => "IsInf",
            },
            MathOp::Binary(b) => match b {
                Binary::Add => "Add",
                Binary::Sub => "Sub",
                Binary::Mul => "Mul",
                Binary::Div => "Div",
                Binary::Pow => "Pow",
                Binary::Mod { .. } => "Mod",
                Binary::Equal => "Equal",
                Binary::Greater => "Greater",
                Binary::Less => "Less",
                Binary::GreaterOrEqual => "GreaterOrEqual",
                Binary::LessOrEqual => "LessOrEqual",
                Binary::And => "And",
                Binary::Or => "Or",
                Binary::Xor => "Xor",
                Binary::PRelu => "PRelu",
                Binary::BitShiftLeft | Binary::BitShiftRight => "BitShift",
                Binary::BitwiseAnd => "BitwiseAnd",
                Binary::BitwiseOr => "BitwiseOr",
                Binary::BitwiseXor => "BitwiseXor",
            },
            MathOp::Variadic(v) => match v {
                Variadic::Min => "Min",
                Variadic::Max => "Max",
                Variadic::Sum => "Sum",
                Variadic::Mean => "Mean",
            },
            MathOp::Clip { .. } => "Clip",
            MathOp::Cast { .. } => "Cast",
            MathOp::CastLike => "CastLike",
            MathOp::BitCast { .. } => "BitCast",
            MathOp::Where => "Where",
        }
    }

    pub fn infer(&self, inputs: &[Fact]) -> Vec<Fact> {
        let shape_of = |fs: &[Fact]| -> Option<Vec<crate::ir::Dim>> {
            let mut out: Vec<crate::ir::Dim> = vec![];
            for f in fs {
                out = broadcast_dims(&out, f.shape.as_ref()?)?;
            }
            Some(out)
        };
        let first = inputs.first().cloned().unwrap_or_default();
        match self {
            MathOp::Unary(u) => {
                let dtype = match u {
                    Unary::IsNaN | Unary::IsInf { .. } => Some(DType::Bool),
                    _ => first.dtype,
                };
                vec![Fact::new(dtype, first.shape)]
            }
            MathOp::Binary(b) => {
                let dtype = if b.is_predicate() {
                    Some(DType::Bool)
                } else {
                    first.dtype
                };
                vec![Fact::new(dtype, shape_of(&inputs[..inputs.len().min(2)]))]
            }
            MathOp::Variadic(_) => vec![Fact::new(first.dtype, shape_of(inputs))],
            MathOp::Clip { .. } => vec![Fact::new(first.dtype, first.shape)],
            MathOp::Cast { to } | MathOp::BitCast { to, .. } => {
                vec![Fact::new(Some(*to), first.shape)]
            }
            MathOp::CastLike => {
                vec![Fact::new(inputs.get(1).and_then(|f| f.dtype), first.shape)]
            }
            MathOp::Where => {
                let dtype = inputs.get(1).and_then(|f| f.dtype);
                vec![Fact::new(dtype, shape_of(&inputs[..inputs.len().min(3)]))]
            }
        }
    }
}
