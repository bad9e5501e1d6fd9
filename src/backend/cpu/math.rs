//! CPU kernels of the elementwise family.
//!
//! Broadcasting has contiguous fast paths (same shape, scalar operand, a trailing-block operand
//! such as a bias row) and a general strided walk otherwise. The loops are plain slice maps that
//! LLVM vectorises for SIMD128.

use super::fastmath;
use super::util::{
    broadcast_shape, broadcast_shapes, broadcast_strides, for_each_broadcast, input, opt_input,
};
use crate::error::{Error, Result};
use crate::ir::ops::math::{Binary, MathOp, Unary, Variadic};
use crate::tensor::{DType, Tensor, TensorData};
use half::f16;

pub fn run(op: &MathOp, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    Ok(vec![match op {
        MathOp::Unary(u) => unary(*u, input(inputs, 0, "X")?)?,
        MathOp::Binary(b) => binary(*b, input(inputs, 0, "A")?, input(inputs, 1, "B")?)?,
        MathOp::Variadic(v) => variadic(*v, inputs)?,
        MathOp::Clip { min, max } => clip(inputs, *min, *max)?,
        MathOp::Cast { to } => cast(input(inputs, 0, "input")?, *to)?,
        MathOp::CastLike => {
            let target = input(inputs, 1, "target_type")?.dtype();
            cast(input(inputs, 0, "input")?, target)?
        }
        #[cfg(feature = "extra-ops")]
        MathOp::BitCast { from, to } => bit_cast(input(inputs, 0, "input")?, *from, *to)?,
        #[cfg(not(feature = "extra-ops"))]
        MathOp::BitCast { .. } => return Err(crate::onnx::not_in_this_build("BitCast")),
        MathOp::Where => where_(
            input(inputs, 0, "condition")?,
            input(inputs, 1, "X")?,
            input(inputs, 2, "Y")?,
        )?,
    }])
}

/// How a broadcast binary op walks its inputs: runs of `len` output elements, each reading `a`
/// from `a0` and `b` from `b0` with steps `sa`, `sb` (0 or 1). Worked out once per call by code
/// that is not generic over the dtypes, so each `broadcast_map` instance is only its three
/// inner loops.
struct Runs {
    out: Vec<usize>,
    len: usize,
    sa: usize,
    sb: usize,
    /// the (a, b) start offsets of each run
    starts: Vec<(usize, usize)>,
}

fn broadcast_runs(ash: &[usize], bsh: &[usize]) -> Result<Runs> {
    let out = broadcast_shape(ash, bsh)?;
    let n: usize = out.iter().product();
    let (sa, sb) = (broadcast_strides(ash, &out), broadcast_strides(bsh, &out));
    // merge adjacent axes where both inputs continue contiguously (or stay broadcast), from the
    // innermost: [N,C,H,W] + [1,C,1,1] walks as [N,C,H·W]
    let mut dims: Vec<(usize, usize, usize)> = Vec::new(); // (extent, a stride, b stride), innermost first
    for d in (0..out.len()).rev() {
        if out[d] == 1 {
            continue;
        }
        if let Some(last) = dims.last_mut() {
            if sa[d] == last.1 * last.0 && sb[d] == last.2 * last.0 {
                last.0 *= out[d];
                continue;
            }
        }
        dims.push((out[d], sa[d], sb[d]));
    }
    let (len, ia, ib) = dims.first().copied().unwrap_or((1, 0, 0));
    let (ia, ib) = (ia.min(1), ib.min(1));
    let mut starts = Vec::with_capacity(n / len.max(1));
    if n > 0 {
        let outer = &dims[dims.len().min(1)..];
        let mut idx = vec![0usize; outer.len()];
        let (mut oa, mut ob) = (0usize, 0usize);
        loop {
            starts.push((oa, ob));
            let mut k = 0;
            loop {
                if k == outer.len() {
                    return Ok(Runs {
                        out,
                        len,
                        sa: ia,
                        sb: ib,
                        starts,
                    });
                }
                idx[k] += 1;
                oa += outer[k].1;
                ob += outer[k].2;
                if idx[k] < outer[k].0 {
                    break;
                }
                oa -= outer[k].1 * outer[k].0;
                ob -= outer[k].2 * outer[k].0;
                idx[k] = 0;
                k += 1;
            }
        }
    }
    Ok(Runs {
        out,
        len,
        sa: ia,
        sb: ib,
        starts,
    })
}

/// Applies `f` to every pair of broadcast elements; returns the output shape and values.
pub fn broadcast_map<A: Copy, B: Copy, O>(
    a: &[A],
    ash: &[usize],
    b: &[B],
    bsh: &[usize],
    mut f: impl FnMut(A, B) -> O,
) -> Result<(Vec<usize>, Vec<O>)> {
    let r = broadcast_runs(ash, bsh)?;
    let mut v: Vec<O> = Vec::with_capacity(r.starts.len() * r.len);
    // one loop whatever the steps, so `f` is inlined once per instance (four specialised loops
    // cost ~3.5 KB of wasm per instance, and `f` is an indirect call for most callers anyway)
    let (sa, sb) = (r.sa, r.sb);
    for &(oa, ob) in &r.starts {
        v.extend((0..r.len).map(|t| f(a[oa + t * sa], b[ob + t * sb])));
    }
    Ok((r.out, v))
}

/// f32 Add, Sub, Mul and Div with broadcasting: the op is matched once per call, not per
/// element, and each run is a loop the compiler vectorizes (residual adds, bias adds, scaling).
fn f32_arith(
    op: Binary,
    a: &[f32],
    ash: &[usize],
    b: &[f32],
    bsh: &[usize],
) -> Result<(Vec<usize>, Vec<f32>)> {
    let out = broadcast_shape(ash, bsh)?;
    // the output starts as the operand of its shape (A broadcast to it when neither is) and
    // takes the other in place: one set of loops for this and for a dying input's buffer
    let (mut v, d_is_a) = if out == ash {
        (a.to_vec(), true)
    } else if out == bsh {
        (b.to_vec(), false)
    } else {
        let first: fn(f32, f32) -> f32 = |p, _| p;
        (broadcast_map(a, ash, b, bsh, first)?.1, true)
    };
    let (o, osh) = if d_is_a { (b, bsh) } else { (a, ash) };
    f32_arith_in_place(op, &mut v, &out, o, osh, d_is_a)?;
    Ok((out, v))
}

/// The ops of [`run`] with input `k` handed over (`x`, dying at this node) computed in its
/// buffer: unary ops (the integer and boolean ones too) and Clip, the f32 arithmetic ops
/// ([`is_float_op`]) whose output has `x`'s shape, Sum, Mean, Min and Max folded into their
/// first input, and Cast to `x`'s own dtype. Gives `x` back otherwise.
#[inline(never)]
pub fn run_in_place(
    op: &MathOp,
    inputs: &[Option<&Tensor>],
    k: usize,
    mut x: Tensor,
) -> std::result::Result<Result<Tensor>, Tensor> {
    let xd = x.dtype();
    match (op, k, x.data_mut()) {
        (MathOp::Unary(u), 0, TensorData::F32(v))
            if !matches!(u, Unary::IsNaN | Unary::IsInf { .. }) =>
        {
            if !map_float_in_place(*u, v) {
                return Err(x);
            }
        }
        (MathOp::Unary(u), 0, d) if !matches!(d, TensorData::F32(_)) => {
            if !int_unary_in_place(*u, d) {
                return Err(x);
            }
        }
        (MathOp::Clip { min, max }, 0, TensorData::F32(v)) => match clip_bounds(inputs, *min, *max)
        {
            Ok((lo, hi)) => clip_f32(v, lo, hi),
            Err(e) => return Ok(Err(e)),
        },
        (MathOp::Cast { to }, 0, _) if *to == xd => {}
        (MathOp::CastLike, 0, _) if opt_input(inputs, 1).is_some_and(|t| t.dtype() == xd) => {}
        (MathOp::Variadic(v), 0, _) => {
            let rest: Vec<&Tensor> = inputs[1..].iter().flatten().copied().collect();
            if let Err(e) = fold_variadic(*v, &mut x, &rest) {
                return Ok(Err(e));
            }
        }
        (MathOp::Binary(b), 0 | 1, TensorData::F32(_)) if is_float_op(*b) => {
            let o = match opt_input(inputs, 1 - k).map(|t| (t.data(), t.shape())) {
                Some((TensorData::F32(o), osh)) => (o, osh),
                _ => return Err(x),
            };
            let xsh = x.shape();
            if broadcast_shape(xsh, o.1).ok().as_deref() != Some(xsh) {
                return Err(x);
            }
            let xsh = xsh.to_vec();
            let TensorData::F32(v) = x.data_mut() else {
                return Err(x);
            };
            if let Err(e) = f32_arith_in_place(*b, v, &xsh, o.0, o.1, k == 0) {
                return Ok(Err(e));
            }
        }
        _ => return Err(x),
    }
    Ok(Ok(x))
}

/// [`f32_arith`] written into `d` (of the output's shape `dsh`): `d` is A when `d_is_a`, else B.
/// `op` is one of [`is_float_op`]'s, or Min and Max written as `Less` and `Greater` (as in
/// [`select`]).
fn f32_arith_in_place(
    op: Binary,
    d: &mut [f32],
    dsh: &[usize],
    o: &[f32],
    osh: &[usize],
    d_is_a: bool,
) -> Result<()> {
    let r = if d_is_a {
        broadcast_runs(dsh, osh)?
    } else {
        broadcast_runs(osh, dsh)?
    };
    let (len, so) = (r.len, if d_is_a { r.sb } else { r.sa });
    // the hot ops: one loop per step and side, each vectorised
    macro_rules! runs {
        ($f:expr) => {{
            let f = $f;
            for &(oa, ob) in &r.starts {
                let (od, oo) = if d_is_a { (oa, ob) } else { (ob, oa) };
                let (xd, yo) = (&mut d[od..od + len], &o[oo..]);
                match (so, d_is_a) {
                    (1, true) => xd.iter_mut().zip(yo).for_each(|(p, &q)| *p = f(*p, q)),
                    (1, false) => xd.iter_mut().zip(yo).for_each(|(q, &p)| *q = f(p, *q)),
                    (_, true) => xd.iter_mut().for_each(|p| *p = f(*p, yo[0])),
                    _ => xd.iter_mut().for_each(|q| *q = f(yo[0], *q)),
                }
            }
        }};
    }
    // the others (Pow, Min, Max, Mod, PRelu): one loop each, the step and side read per element
    macro_rules! runs_any {
        ($f:expr) => {{
            let f = $f;
            for &(oa, ob) in &r.starts {
                let (od, oo) = if d_is_a { (oa, ob) } else { (ob, oa) };
                for (t, p) in d[od..od + len].iter_mut().enumerate() {
                    let q = o[oo + t * so];
                    *p = if d_is_a { f(*p, q) } else { f(q, *p) };
                }
            }
        }};
    }
    match op {
        Binary::Add => runs!(|p: f32, q: f32| p + q),
        Binary::Sub => runs!(|p: f32, q: f32| p - q),
        Binary::Mul => runs!(|p: f32, q: f32| p * q),
        Binary::Div => runs!(|p: f32, q: f32| p / q),
        // x², the exported form of variance in LayerNorm and RMSNorm
        Binary::Pow if d_is_a && o == [2.0] => d.iter_mut().for_each(|x| *x *= *x),
        Binary::Pow => runs_any!(pow),
        Binary::Less | Binary::Greater => {
            let less = op == Binary::Less;
            runs_any!(move |p, q| min_max(less, p, q))
        }
        _ => runs_any!(float_op(op)),
    }
    Ok(())
}

/// Min (`less`) or Max of two floats; NaN propagates.
fn min_max(less: bool, p: f32, q: f32) -> f32 {
    if p.is_nan() || q.is_nan() {
        f32::NAN
    } else if less {
        p.min(q)
    } else {
        p.max(q)
    }
}

/// Whether `op` has an f32 form in [`f32_arith`] (every arithmetic op but the bitwise ones),
/// and so an in-place form for either input ([`super::takes_over`]).
pub(super) fn is_float_op(op: Binary) -> bool {
    matches!(
        op,
        Binary::Add
            | Binary::Sub
            | Binary::Mul
            | Binary::Div
            | Binary::Pow
            | Binary::Mod { .. }
            | Binary::PRelu
    )
}

#[inline(never)]
fn unary(u: Unary, x: &Tensor) -> Result<Tensor> {
    // the float ops (the hot ones) apart from the integer and boolean loops
    match x.data() {
        TensorData::F32(v) if !matches!(u, Unary::IsNaN | Unary::IsInf { .. }) => {
            let y = map_float(u, v)
                .ok_or_else(|| Error::dtype(format!("{u:?} does not take float32 input")))?;
            Tensor::new(x.shape().to_vec(), TensorData::F32(y))
        }
        _ => unary_other(u, x),
    }
}

#[inline(never)]
fn unary_other(u: Unary, x: &Tensor) -> Result<Tensor> {
    use Unary as U;
    let shape = x.shape().to_vec();
    let data = match (u, x.data()) {
        (U::IsNaN, TensorData::F32(v)) => TensorData::Bool(v.iter().map(|x| x.is_nan()).collect()),
        (U::IsInf { pos, neg }, TensorData::F32(v)) => TensorData::Bool(
            v.iter()
                .map(|x| x.is_infinite() && ((pos && *x > 0.0) || (neg && *x < 0.0)))
                .collect(),
        ),
        // the integer and boolean ops run on a copy (the float32 ones are `unary`'s)
        (_, d) => {
            let mut d = d.clone();
            if !int_unary_in_place(u, &mut d) {
                return Err(Error::dtype(format!(
                    "{u:?} does not take {} input",
                    d.dtype()
                )));
            }
            d
        }
    };
    Tensor::new(shape, data)
}

/// The integer and boolean unary ops (Not, BitwiseNot, Abs, Neg, Sign, Relu) over `d` in
/// place; `false`, `d` untouched, for another op or a dtype the op does not take.
fn int_unary_in_place(u: Unary, d: &mut TensorData) -> bool {
    use Unary as U;
    macro_rules! each {
        ($v:expr, $f:expr) => {{
            let f = $f;
            $v.iter_mut().for_each(|x| *x = f(*x));
            true
        }};
    }
    match (u, d) {
        (U::Not, TensorData::Bool(v)) => each!(v, |b: bool| !b),
        (U::BitwiseNot, TensorData::I64(v)) => each!(v, |x: i64| !x),
        (U::BitwiseNot, TensorData::I32(v)) => each!(v, |x: i32| !x),
        (U::BitwiseNot, TensorData::I8(v)) => each!(v, |x: i8| !x),
        (U::BitwiseNot, TensorData::U8(v)) => each!(v, |x: u8| !x),
        (U::Abs | U::Neg | U::Sign | U::Relu, TensorData::I64(v)) => {
            each!(v, |x: i64| int_unary(u, x))
        }
        (U::Abs | U::Neg | U::Sign | U::Relu, TensorData::I32(v)) => {
            each!(v, |x: i32| int_unary(u, x as i64) as i32)
        }
        (U::Abs | U::Neg | U::Sign | U::Relu, TensorData::I8(v)) => {
            each!(v, |x: i8| int_unary(u, x as i64) as i8)
        }
        (U::Abs | U::Sign | U::Relu, TensorData::U8(v)) => {
            each!(v, |x: u8| int_unary(u, x as i64) as u8)
        }
        _ => false,
    }
}

fn int_unary(u: Unary, x: i64) -> i64 {
    match u {
        Unary::Abs => x.wrapping_abs(),
        Unary::Neg => x.wrapping_neg(),
        Unary::Sign => x.signum(),
        _ => x.max(0), // Relu
    }
}

/// Applies a float unary op to every element (`None` for ops without a float form). Each arm
/// is its own monomorphic loop, so LLVM can vectorise it.
pub fn map_float(u: Unary, v: &[f32]) -> Option<Vec<f32>> {
    let mut y = v.to_vec();
    map_float_in_place(u, &mut y).then_some(y)
}

/// [`map_float`] over `v` in place; `false` (and `v` untouched) for ops without a float form.
#[inline(never)]
pub fn map_float_in_place(u: Unary, v: &mut [f32]) -> bool {
    // one small function per op, not one big one (see `cpu`'s module comment)
    #[inline(never)]
    fn m(v: &mut [f32], f: impl Fn(f32) -> f32) {
        v.iter_mut().for_each(|x| *x = f(*x))
    }
    use Unary as U;
    match u {
        U::Abs => m(v, f32::abs),
        U::Neg => m(v, |x: f32| -x),
        U::Sign => m(v, |x: f32| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                x
            }
        }),
        // NaN stays NaN (as onnxruntime and IEEE `max` propagation have it; `f32::max` would give 0)
        U::Swish { alpha } => m(v, move |x: f32| x / (1.0 + (-alpha * x).exp())),
        U::Relu => m(v, |x: f32| if x < 0.0 { 0.0 } else { x }),
        U::Sqrt => m(v, f32::sqrt),
        U::Reciprocal => m(v, f32::recip),
        U::Exp => m(v, fastmath::exp),
        U::Log => m(v, f32::ln),
        U::Erf => m(v, erf),
        U::Floor => m(v, f32::floor),
        U::Ceil => m(v, f32::ceil),
        U::Round => m(v, f32::round_ties_even),
        U::Sigmoid => m(v, fastmath::sigmoid),
        U::Tanh => m(v, fastmath::tanh),
        U::Softplus => m(v, softplus),
        U::Softsign => m(v, |x: f32| x / (1.0 + x.abs())),
        U::Sin => m(v, f32::sin),
        U::Cos => m(v, f32::cos),
        U::Tan => m(v, f32::tan),
        U::Asin => m(v, f32::asin),
        U::Acos => m(v, f32::acos),
        U::Atan => m(v, f32::atan),
        U::Sinh => m(v, f32::sinh),
        U::Cosh => m(v, f32::cosh),
        U::Asinh => m(v, f32::asinh),
        U::Acosh => m(v, f32::acosh),
        U::Atanh => m(v, f32::atanh),
        // the spec's x·max(0, min(1, αx + β)) with α = 1/6: a multiply (a divide by 6 rounds
        // differently and is slower)
        U::HardSwish => m(v, |x: f32| x * (x * (1.0 / 6.0) + 0.5).clamp(0.0, 1.0)),
        U::Mish => m(v, |x: f32| x * softplus(x).tanh()),
        U::LeakyRelu { alpha } => m(v, move |x: f32| if x < 0.0 { alpha * x } else { x }),
        U::Elu { alpha } => m(
            v,
            move |x: f32| if x < 0.0 { alpha * (x.exp() - 1.0) } else { x },
        ),
        U::Celu { alpha } => m(v, move |x: f32| {
            x.max(0.0) + (alpha * ((x / alpha).exp() - 1.0)).min(0.0)
        }),
        U::Selu { alpha, gamma } => m(v, move |x: f32| {
            if x > 0.0 {
                gamma * x
            } else {
                gamma * (alpha * x.exp() - alpha)
            }
        }),
        U::ThresholdedRelu { alpha } => m(v, move |x: f32| if x > alpha { x } else { 0.0 }),
        U::HardSigmoid { alpha, beta } => m(v, move |x: f32| (alpha * x + beta).clamp(0.0, 1.0)),
        U::Gelu { tanh: false } => m(v, |x: f32| {
            0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
        }),
        U::Gelu { tanh: true } => m(v, |x: f32| {
            let c = (2.0f32 / std::f32::consts::PI).sqrt();
            0.5 * x * (1.0 + (c * (x + 0.044715 * x * x * x)).tanh())
        }),
        U::Shrink { bias, lambd } => m(v, move |x: f32| {
            if x < -lambd {
                x + bias
            } else if x > lambd {
                x - bias
            } else {
                0.0
            }
        }),
        U::Not | U::IsNaN | U::IsInf { .. } | U::BitwiseNot => return false,
    }
    true
}

fn softplus(x: f32) -> f32 {
    if x > 20.0 {
        x
    } else {
        x.exp().ln_1p()
    }
}

/// Error function, evaluated in f64: a Taylor series for |x| < 0.5 and the Chebyshev-fitted
/// erfc approximation of Numerical Recipes (fractional error < 1.2e-7) beyond.
pub fn erf(x: f32) -> f32 {
    let x = x as f64;
    let ax = x.abs();
    let r = if ax < 0.5 {
        // Taylor series: erf(x) = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
        let x2 = x * x;
        let mut term = x;
        let mut sum = x;
        for n in 1..12 {
            term *= -x2 / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * std::f64::consts::FRAC_2_SQRT_PI
    } else {
        // Numerical Recipes' erfc Chebyshev approximation (fractional error < 1.2e-7)
        let t = 1.0 / (1.0 + 0.5 * ax);
        // coefficients of the exponent's polynomial in t, highest degree first (Horner)
        const C: [f64; 10] = [
            0.170_872_77,
            -0.822_152_23,
            1.488_515_87,
            -1.135_203_98,
            0.278_868_07,
            -0.186_288_06,
            0.096_784_18,
            0.374_091_96,
            1.000_023_68,
            -1.265_512_23,
        ];
        let poly = C.iter().fold(0.0f64, |acc, &c| acc * t + c);
        let y = t * (-ax * ax + poly).exp();
        let e = 1.0 - y;
        if x < 0.0 {
            -e
        } else {
            e
        }
    };
    r as f32
}

/// Integer element types for arithmetic.
trait Int: Copy + PartialOrd + Into<i64> {
    /// Width in bits (shifts by this much or more leave only the sign fill).
    const BITS: i64;
    fn from_i64(v: i64) -> Self;
}
macro_rules! int_impl {
    ($($t:ty),*) => {$(impl Int for $t {
        const BITS: i64 = <$t>::BITS as i64;
        fn from_i64(v: i64) -> Self { v as $t }
    })*};
}
int_impl!(i64, i32, i8, u8);

fn int_arith<T: Int>(op: Binary, a: T, b: T) -> Result<T, &'static str> {
    let (x, y): (i64, i64) = (a.into(), b.into());
    Ok(T::from_i64(match op {
        Binary::Add => x.wrapping_add(y),
        Binary::Sub => x.wrapping_sub(y),
        Binary::Mul => x.wrapping_mul(y),
        Binary::Div => {
            if y == 0 {
                return Err("integer division by zero");
            }
            x.wrapping_div(y)
        }
        Binary::Mod { fmod } => {
            if y == 0 {
                return Err("integer modulo by zero");
            }
            let r = x.wrapping_rem(y);
            if !fmod && r != 0 && ((r < 0) != (y < 0)) {
                r + y
            } else {
                r
            }
        }
        Binary::Pow => (x as f64).powf(y as f64) as i64,
        // unsigned values are non-negative in i64, so one arithmetic shift serves both kinds:
        // signed types (BitShift 28) sign-extend; bits shifted past T's width are dropped by
        // the conversion back to T; a shift by T's width or more (or negative) leaves the fill
        Binary::BitShiftLeft => {
            if (0..T::BITS).contains(&y) {
                x.wrapping_shl(y as u32)
            } else {
                0
            }
        }
        Binary::BitShiftRight => {
            if (0..T::BITS).contains(&y) {
                x >> y
            } else if x < 0 {
                -1
            } else {
                0
            }
        }
        Binary::BitwiseAnd => x & y,
        Binary::BitwiseOr => x | y,
        Binary::BitwiseXor => x ^ y,
        _ => unreachable!("not an arithmetic op"),
    }))
}

/// The float form of Mod (both `fmod`s) and PRelu, read per element through a pointer; the hot
/// ops have their own loops in [`f32_arith_in_place`].
fn float_op(op: Binary) -> fn(f32, f32) -> f32 {
    match op {
        Binary::Mod { fmod: false } => float_mod,
        Binary::Mod { fmod: true } => |a, b| a % b,
        Binary::PRelu => |x, s| if x < 0.0 { s * x } else { x },
        _ => |a, _| a,
    }
}

/// Mod with `fmod = 0` on floats (defined from opset 28, and as numpy's `mod` before):
/// `a - floor(a / b)·b`, with the sign of `b`; a zero result takes `b`'s sign.
fn float_mod(a: f32, b: f32) -> f32 {
    let r = a % b;
    if r == 0.0 {
        0.0f32.copysign(b)
    } else if (r < 0.0) != (b < 0.0) {
        r + b
    } else {
        r
    }
}

fn pow(a: f32, b: f32) -> f32 {
    if b == 2.0 {
        a * a
    } else if b == 0.5 {
        a.sqrt()
    } else {
        a.powf(b)
    }
}

fn cmp<T: PartialOrd>(op: Binary, a: T, b: T) -> bool {
    match op {
        Binary::Equal => a == b,
        Binary::Greater => a > b,
        Binary::Less => a < b,
        Binary::GreaterOrEqual => a >= b,
        _ => a <= b,
    }
}

#[inline(never)]
fn binary(op: Binary, a: &Tensor, b: &Tensor) -> Result<Tensor> {
    use TensorData as D;
    let (ash, bsh) = (a.shape(), b.shape());
    macro_rules! go {
        ($x:expr, $y:expr, $f:expr, $wrap:path) => {{
            let (shape, v) = broadcast_map($x, ash, $y, bsh, $f)?;
            Tensor::new(shape, $wrap(v))
        }};
    }
    macro_rules! int_go {
        ($x:expr, $y:expr, $wrap:path) => {{
            let mut err = None;
            let (shape, v) = broadcast_map($x, ash, $y, bsh, |p, q| {
                int_arith(op, p, q).unwrap_or_else(|e| {
                    err = Some(e);
                    p
                })
            })?;
            if let Some(e) = err {
                return Err(Error::Shape(e.to_string()));
            }
            Tensor::new(shape, $wrap(v))
        }};
    }
    let mismatch = || {
        Error::dtype(format!(
            "{op:?}: inputs must have the same type, got {} and {}",
            a.dtype(),
            b.dtype()
        ))
    };
    if op.is_predicate() {
        return match (a.data(), b.data()) {
            (D::Bool(x), D::Bool(y)) => match op {
                Binary::And => go!(x, y, |p, q| p & q, D::Bool),
                Binary::Or => go!(x, y, |p, q| p | q, D::Bool),
                Binary::Xor => go!(x, y, |p, q| p ^ q, D::Bool),
                _ => go!(x, y, |p, q| cmp(op, p, q), D::Bool),
            },
            _ if matches!(op, Binary::And | Binary::Or | Binary::Xor) => Err(Error::dtype(
                format!("{op:?} takes bool inputs, got {}", a.dtype()),
            )),
            (D::F32(x), D::F32(y)) => go!(x, y, |p, q| cmp(op, p, q), D::Bool),
            (D::I64(x), D::I64(y)) => go!(x, y, |p, q| cmp(op, p, q), D::Bool),
            (D::I32(x), D::I32(y)) => go!(x, y, |p, q| cmp(op, p, q), D::Bool),
            (D::I8(x), D::I8(y)) => go!(x, y, |p, q| cmp(op, p, q), D::Bool),
            (D::U8(x), D::U8(y)) => go!(x, y, |p, q| cmp(op, p, q), D::Bool),
            (D::Str(x), D::Str(y)) => {
                // broadcast over element indices: strings are not Copy
                let (ix, iy): (Vec<usize>, Vec<usize>) =
                    ((0..x.len()).collect(), (0..y.len()).collect());
                go!(&ix, &iy, |p, q| cmp(op, &x[p], &y[q]), D::Bool)
            }
            _ => Err(mismatch()),
        };
    }
    if op == Binary::Pow {
        // the exponent may have another type than the base; the output has the base's type
        return match (a.data(), b.data()) {
            (D::F32(x), D::F32(y)) => {
                let (shape, v) = f32_arith(op, x, ash, y, bsh)?;
                Tensor::from_f32(shape, v)
            }
            (D::F32(x), _) => {
                let y: Vec<f32> = b.to_f64_vec().into_iter().map(|v| v as f32).collect();
                let (shape, v) = f32_arith(op, x, ash, &y, bsh)?;
                Tensor::from_f32(shape, v)
            }
            (D::I64(x), _) => {
                let y = b.to_f64_vec();
                go!(x, &y, |p, q| (p as f64).powf(q) as i64, D::I64)
            }
            (D::I32(x), _) => {
                let y = b.to_f64_vec();
                go!(x, &y, |p, q| (p as f64).powf(q) as i32, D::I32)
            }
            _ => Err(Error::dtype(format!(
                "Pow: unsupported base type {}",
                a.dtype()
            ))),
        };
    }
    let bitwise = matches!(
        op,
        Binary::BitwiseAnd
            | Binary::BitwiseOr
            | Binary::BitwiseXor
            | Binary::BitShiftLeft
            | Binary::BitShiftRight
    );
    if bitwise && (a.dtype().is_float() || a.dtype() == DType::Bool) {
        return Err(Error::dtype(format!(
            "{op:?} takes integer inputs, got {}",
            a.dtype()
        )));
    }
    match (a.data(), b.data()) {
        (D::F32(x), D::F32(y)) if is_float_op(op) => {
            let (shape, v) = f32_arith(op, x, ash, y, bsh)?;
            Tensor::from_f32(shape, v)
        }
        _ if op == Binary::PRelu => Err(Error::dtype("PRelu takes float inputs".to_string())),
        (D::I64(x), D::I64(y)) => int_go!(x, y, D::I64),
        (D::I32(x), D::I32(y)) => int_go!(x, y, D::I32),
        (D::I8(x), D::I8(y)) => int_go!(x, y, D::I8),
        (D::U8(x), D::U8(y)) => int_go!(x, y, D::U8),
        _ => Err(mismatch()),
    }
}

#[inline(never)]
fn variadic(v: Variadic, inputs: &[Option<&Tensor>]) -> Result<Tensor> {
    let ts: Vec<&Tensor> = inputs.iter().flatten().copied().collect();
    let first = *ts
        .first()
        .ok_or_else(|| Error::shape(format!("{v:?} needs at least one input")))?;
    let mut acc = first.clone();
    fold_variadic(v, &mut acc, &ts[1..])?;
    Ok(acc)
}

/// Folds `rest` into `acc` (the first input, or its buffer when it dies here) in input order,
/// then divides for Mean: in place where a step's output has `acc`'s shape and both are f32, a
/// fresh tensor otherwise.
fn fold_variadic(v: Variadic, acc: &mut Tensor, rest: &[&Tensor]) -> Result<()> {
    let op = match v {
        Variadic::Sum | Variadic::Mean => Binary::Add,
        Variadic::Min => Binary::Less,
        Variadic::Max => Binary::Greater,
    };
    for t in rest {
        let fits = matches!(t.data(), TensorData::F32(_))
            && broadcast_shape(acc.shape(), t.shape()).ok().as_deref() == Some(acc.shape());
        let ash = acc.shape().to_vec();
        match (fits, acc.data_mut(), t.data()) {
            (true, TensorData::F32(d), TensorData::F32(o)) => {
                f32_arith_in_place(op, d, &ash, o, t.shape(), true)?
            }
            _ if op == Binary::Add => *acc = binary(op, acc, t)?,
            _ => *acc = select(acc, t, op)?,
        }
    }
    if v == Variadic::Mean {
        let n = (rest.len() + 1) as f32;
        let TensorData::F32(d) = acc.data_mut() else {
            return Err(Error::dtype("Mean takes float inputs"));
        };
        d.iter_mut().for_each(|x| *x /= n);
    }
    Ok(())
}

/// Elementwise min (`Less`) or max (`Greater`) with broadcasting; NaN propagates.
fn select(a: &Tensor, b: &Tensor, op: Binary) -> Result<Tensor> {
    use TensorData as D;
    let (ash, bsh) = (a.shape(), b.shape());
    let less = op == Binary::Less;
    macro_rules! go {
        ($x:expr, $y:expr, $wrap:path) => {{
            let (shape, v) = broadcast_map($x, ash, $y, bsh, |p, q| {
                if (less && q < p) || (!less && q > p) {
                    q
                } else {
                    p
                }
            })?;
            Tensor::new(shape, $wrap(v))
        }};
    }
    match (a.data(), b.data()) {
        (D::F32(x), D::F32(y)) => {
            let (shape, v) = f32_arith(op, x, ash, y, bsh)?;
            Tensor::from_f32(shape, v)
        }
        (D::I64(x), D::I64(y)) => go!(x, y, D::I64),
        (D::I32(x), D::I32(y)) => go!(x, y, D::I32),
        (D::I8(x), D::I8(y)) => go!(x, y, D::I8),
        (D::U8(x), D::U8(y)) => go!(x, y, D::U8),
        _ => Err(Error::dtype(format!(
            "Min/Max: inputs must have the same type, got {} and {}",
            a.dtype(),
            b.dtype()
        ))),
    }
}

/// Clip's bounds: the attributes (opset < 11) or the optional scalar inputs 1 and 2.
fn clip_bounds(
    inputs: &[Option<&Tensor>],
    amin: Option<f32>,
    amax: Option<f32>,
) -> Result<(Option<f64>, Option<f64>)> {
    let bound = |i: usize, attr: Option<f32>| -> Result<Option<f64>> {
        if let Some(v) = attr {
            return Ok(Some(v as f64));
        }
        match opt_input(inputs, i) {
            None => Ok(None),
            Some(t) if t.numel() == 1 => Ok(Some(t.to_f64_vec()[0])),
            Some(t) => Err(Error::shape(format!(
                "Clip bounds must be scalars, got shape {:?}",
                t.shape()
            ))),
        }
    };
    Ok((bound(1, amin)?, bound(2, amax)?))
}

/// Clips `v` to the float bounds in place.
fn clip_f32(v: &mut [f32], lo: Option<f64>, hi: Option<f64>) {
    let lo = lo.map_or(f32::NEG_INFINITY, |l| l as f32);
    let hi = hi.map_or(f32::INFINITY, |h| h as f32);
    for x in v {
        // Min(max, Max(x, min)): with min > max every value becomes max
        let y = if *x < lo { lo } else { *x };
        *x = if y > hi { hi } else { y };
    }
}

#[inline(never)]
fn clip(inputs: &[Option<&Tensor>], amin: Option<f32>, amax: Option<f32>) -> Result<Tensor> {
    let x = input(inputs, 0, "input")?;
    let (lo, hi) = clip_bounds(inputs, amin, amax)?;
    let shape = x.shape().to_vec();
    macro_rules! int_clip {
        ($v:expr, $t:ty, $wrap:path) => {{
            let lo = lo.map_or(<$t>::MIN, |l| l as $t);
            let hi = hi.map_or(<$t>::MAX, |h| h as $t);
            $wrap(
                $v.iter()
                    .map(|&x| {
                        // Min(max, Max(x, min)): with min > max every value becomes max
                        let y = if x < lo { lo } else { x };
                        if y > hi {
                            hi
                        } else {
                            y
                        }
                    })
                    .collect(),
            )
        }};
    }
    let data = match x.data() {
        TensorData::F32(v) => {
            let mut v = v.clone();
            clip_f32(&mut v, lo, hi);
            TensorData::F32(v)
        }
        TensorData::I64(v) => int_clip!(v, i64, TensorData::I64),
        TensorData::I32(v) => int_clip!(v, i32, TensorData::I32),
        TensorData::I8(v) => int_clip!(v, i8, TensorData::I8),
        TensorData::U8(v) => int_clip!(v, u8, TensorData::U8),
        d => return Err(Error::dtype(format!("Clip does not take {}", d.dtype()))),
    };
    Tensor::new(shape, data)
}

/// Casts to `to`. Float targets produce f32 data (f16 values rounded to half precision); float
/// to integer truncates toward zero and saturates (NaN → 0).
#[inline(never)]
pub fn cast(x: &Tensor, to: DType) -> Result<Tensor> {
    let shape = x.shape().to_vec();
    let data = match (to, x.data()) {
        (DType::Str, TensorData::Str(v)) => TensorData::Str(v.clone()),
        (DType::Str, d) => TensorData::Str(to_strings(d)),
        // integers parse exactly (not through f64)
        (DType::I64, TensorData::Str(v)) => TensorData::I64(
            v.iter()
                .map(|s| {
                    s.trim().parse::<i64>().or_else(|_| {
                        let f = crate::tensor::parse_f64(s);
                        if f.is_finite() {
                            Ok(f as i64)
                        } else {
                            Err(Error::dtype(format!("Cast: '{s}' is not an integer")))
                        }
                    })
                })
                .collect::<Result<_>>()?,
        ),
        _ => cast_numeric(x, to)?,
    };
    Tensor::new(shape, data)
}

/// Elements as strings the way numpy's `astype(str)` writes them (ONNX's `Cast` to string
/// follows it): floats as the shortest repr that reads back the same, scientific below 1e-4
/// or from 1e16, `nan`, `inf`, `-inf`; integers in decimal; bools as `True`/`False`.
fn to_strings(d: &TensorData) -> Vec<String> {
    fn float<F: std::fmt::Display + std::fmt::LowerExp + Copy + Into<f64>>(x: F) -> String {
        let v: f64 = x.into();
        if v.is_nan() {
            "nan".into()
        } else if v.is_infinite() {
            if v > 0.0 { "inf" } else { "-inf" }.into()
        } else if v != 0.0 && (v.abs() < 1e-4 || v.abs() >= 1e16) {
            // Rust writes `1e-5`, numpy `1e-05`: a signed exponent of at least two digits
            let e = format!("{x:e}");
            match e.split_once('e') {
                Some((m, exp)) => {
                    let (sign, digits) = match exp.strip_prefix('-') {
                        Some(d) => ('-', d),
                        None => ('+', exp),
                    };
                    format!("{m}e{sign}{digits:0>2}")
                }
                None => e,
            }
        } else {
            let s = format!("{x}");
            if s.contains('.') {
                s
            } else {
                format!("{s}.0")
            }
        }
    }
    match d {
        TensorData::F32(v) => v.iter().map(|&x| float(x)).collect(),
        TensorData::F16(v) => v.iter().map(|&x| float(x.to_f32())).collect(),
        TensorData::F64(v) => v.iter().map(|&x| float(x)).collect(),
        TensorData::I64(v) => v.iter().map(|x| x.to_string()).collect(),
        TensorData::I32(v) => v.iter().map(|x| x.to_string()).collect(),
        TensorData::I8(v) => v.iter().map(|x| x.to_string()).collect(),
        TensorData::U8(v) => v.iter().map(|x| x.to_string()).collect(),
        TensorData::Bool(v) => v
            .iter()
            .map(|&x| if x { "True" } else { "False" }.into())
            .collect(),
        TensorData::Str(v) => v.clone(),
        TensorData::I16(v) => v.iter().map(|x| x.to_string()).collect(),
        TensorData::U16(v) => v.iter().map(|x| x.to_string()).collect(),
        TensorData::U32(v) => v.iter().map(|x| x.to_string()).collect(),
        TensorData::U64(v) => v.iter().map(|x| x.to_string()).collect(),
        TensorData::BF16(v) => v.iter().map(|&x| float(x.to_f32())).collect(),
    }
}

/// `Cast` to an integer dtype kernels compute in a wider one (`int16`/`uint16` in int32,
/// `uint32`/`uint64` in int64): each value converted as numpy's `astype` does (floats truncate,
/// integers wrap to the target's range), kept in the compute dtype.
fn cast_wide(x: &Tensor, to: DType) -> TensorData {
    let v: Vec<i64> = match x.data() {
        // integers (and bools) exactly; floats truncate toward zero, NaN → 0
        TensorData::F32(_) | TensorData::F16(_) | TensorData::F64(_) | TensorData::Str(_) => x
            .to_f64_vec()
            .into_iter()
            .map(|f| {
                if f >= 9.2e18 {
                    f as u64 as i64
                } else {
                    f as i64
                }
            })
            .collect(),
        _ => x.to_i64_vec(),
    };
    match to {
        DType::I16 => TensorData::I32(v.iter().map(|&y| y as i16 as i32).collect()),
        DType::U16 => TensorData::I32(v.iter().map(|&y| y as u16 as i32).collect()),
        DType::U32 => TensorData::I64(v.iter().map(|&y| y as u32 as i64).collect()),
        _ => TensorData::I64(v), // uint64: its two's-complement bits
    }
}

fn cast_numeric(x: &Tensor, to: DType) -> Result<TensorData> {
    Ok(match to {
        DType::F32 | DType::F64 => TensorData::F32(match x.data() {
            TensorData::F32(v) => v.clone(),
            _ => x.to_f64_vec().into_iter().map(|v| v as f32).collect(),
        }),
        DType::F16 => TensorData::F32(
            x.to_f64_vec()
                .into_iter()
                .map(|v| f16::from_f64(v).to_f32())
                .collect(),
        ),
        DType::Bool => TensorData::Bool(x.to_f64_vec().into_iter().map(|v| v != 0.0).collect()),
        DType::I64 => TensorData::I64(match x.data() {
            TensorData::I64(v) => v.clone(),
            _ => x.to_f64_vec().into_iter().map(|v| v as i64).collect(),
        }),
        DType::I32 => TensorData::I32(
            x.to_f64_vec()
                .into_iter()
                .map(|v| v as i64 as i32)
                .collect(),
        ),
        DType::I8 => TensorData::I8(x.to_f64_vec().into_iter().map(|v| v as i64 as i8).collect()),
        DType::U8 => TensorData::U8(x.to_f64_vec().into_iter().map(|v| v as i64 as u8).collect()),
        DType::Str => TensorData::Str(to_strings(x.data())),
        DType::BF16 => TensorData::F32(
            x.to_f64_vec()
                .into_iter()
                .map(|v| half::bf16::from_f64(v).to_f32())
                .collect(),
        ),
        DType::I16 | DType::U16 | DType::U32 | DType::U64 => cast_wide(x, to),
    })
}

#[inline(never)]
fn where_(c: &Tensor, x: &Tensor, y: &Tensor) -> Result<Tensor> {
    let cond = c
        .as_bool()
        .map_err(|_| Error::dtype(format!("Where: condition must be bool, got {}", c.dtype())))?;
    if x.dtype() != y.dtype() {
        return Err(Error::dtype(format!(
            "Where: X and Y must have the same type, got {} and {}",
            x.dtype(),
            y.dtype()
        )));
    }
    let out = broadcast_shapes(&[c.shape(), x.shape(), y.shape()])?;
    let shapes = [c.shape(), x.shape(), y.shape()];
    macro_rules! go {
        ($a:expr, $b:expr) => {{
            let mut v = Vec::with_capacity(out.iter().product());
            for_each_broadcast(&out, &shapes, |_, o| {
                v.push(if cond[o[0]] {
                    $a[o[1]].clone()
                } else {
                    $b[o[2]].clone()
                })
            });
            v
        }};
    }
    use TensorData as D;
    let data = match (x.data(), y.data()) {
        (D::F32(a), D::F32(b)) => D::F32(go!(a, b)),
        (D::F16(a), D::F16(b)) => D::F16(go!(a, b)),
        (D::F64(a), D::F64(b)) => D::F64(go!(a, b)),
        (D::I64(a), D::I64(b)) => D::I64(go!(a, b)),
        (D::I32(a), D::I32(b)) => D::I32(go!(a, b)),
        (D::I8(a), D::I8(b)) => D::I8(go!(a, b)),
        (D::U8(a), D::U8(b)) => D::U8(go!(a, b)),
        (D::Bool(a), D::Bool(b)) => D::Bool(go!(a, b)),
        (D::Str(a), D::Str(b)) => D::Str(go!(a, b)),
        _ => unreachable!("dtypes checked equal"),
    };
    Tensor::new(out, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(shape: &[usize], v: &[f32]) -> Tensor {
        Tensor::from_f32(shape.to_vec(), v.to_vec()).unwrap()
    }

    /// `broadcast_map`'s run plan against a direct multi-index walk (numpy broadcasting), over
    /// shapes with leading, inner and trailing broadcast axes, scalars, size-1 and empty axes.
    #[test]
    fn broadcast_map_matches_index_walk() {
        let cases: &[(&[usize], &[usize])] = &[
            (&[2, 3, 4], &[2, 3, 4]),
            (&[2, 3, 4], &[]),
            (&[], &[2, 3, 4]),
            (&[2, 3, 4], &[4]),
            (&[4], &[2, 3, 4]),
            (&[2, 3, 4], &[3, 1]),
            (&[2, 1, 4], &[1, 3, 1]),
            (&[2, 3, 4, 5], &[1, 3, 1, 1]),
            (&[1, 3, 1, 5], &[2, 1, 4, 1]),
            (&[2, 1], &[1, 1]),
            (&[1], &[1]),
            (&[0, 3], &[3]),
            (&[2, 0, 3], &[1, 1, 3]),
            (&[3, 1, 2], &[3, 4, 2]),
            (&[5, 1, 1, 2], &[5, 2, 3, 1]),
        ];
        for &(ash, bsh) in cases {
            let na: usize = ash.iter().product();
            let nb: usize = bsh.iter().product();
            let a: Vec<i64> = (0..na as i64).collect();
            let b: Vec<i64> = (0..nb as i64).map(|x| x * 1000).collect();
            let (out, got) = broadcast_map(&a, ash, &b, bsh, |x, y| x + y).unwrap();
            let want_out = broadcast_shape(ash, bsh).unwrap();
            assert_eq!(out, want_out, "{ash:?} {bsh:?}");
            let n: usize = out.iter().product();
            let mut want = Vec::with_capacity(n);
            let offset = |sh: &[usize], idx: &[usize]| {
                let lead = idx.len() - sh.len();
                sh.iter().enumerate().fold(0, |o, (d, &e)| {
                    o * e + if e == 1 { 0 } else { idx[lead + d] }
                })
            };
            for flat in 0..n {
                let mut idx = vec![0; out.len()];
                let mut r = flat;
                for d in (0..out.len()).rev() {
                    idx[d] = r % out[d];
                    r /= out[d];
                }
                want.push(a[offset(ash, &idx)] + b[offset(bsh, &idx)]);
            }
            assert_eq!(got, want, "{ash:?} {bsh:?}");
            // the f32 arithmetic path walks the same runs with its own loops
            let (af, bf): (Vec<f32>, Vec<f32>) = (
                a.iter().map(|&x| x as f32).collect(),
                b.iter().map(|&x| x as f32).collect(),
            );
            for (op, g) in [
                (Binary::Add, (|x, y| x + y) as fn(f32, f32) -> f32),
                (Binary::Sub, |x, y| x - y),
                (Binary::Mul, |x, y| x * y),
                (Binary::Div, |x, y| x / y),
                (Binary::Pow, pow),
                (Binary::Mod { fmod: false }, float_mod),
                (Binary::Mod { fmod: true }, |x, y| x % y),
                (Binary::PRelu, |x, s| if x < 0.0 { s * x } else { x }),
                (Binary::Less, |x, y| min_max(true, x, y)),
                (Binary::Greater, |x, y| min_max(false, x, y)),
            ] {
                let (o, fv) = f32_arith(op, &af, ash, &bf, bsh).unwrap();
                let (_, wv) = broadcast_map(&af, ash, &bf, bsh, g).unwrap();
                assert_eq!(o, want_out);
                assert_eq!(
                    fv.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                    wv.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                    "{op:?} {ash:?} {bsh:?}"
                );
            }
        }
    }

    /// The in-place forms of the arithmetic ops and of Sum, Mean, Min and Max give `run`'s
    /// outputs bit for bit, for either input handed over, or hand the buffer back (an output of
    /// another shape than the handed-over input's), over broadcast shapes, NaN, ±0 and ±inf.
    #[test]
    fn in_place_matches_the_allocating_kernels() {
        let shapes: &[(&[usize], &[usize])] = &[
            (&[2, 3, 4], &[2, 3, 4]),
            (&[2, 3, 4], &[]),
            (&[2, 3, 4], &[1]),
            (&[2, 3, 4], &[4]),
            (&[2, 3, 4], &[3, 1]),
            (&[4], &[2, 3, 4]),
            (&[2, 1, 4], &[1, 3, 1]),
        ];
        let special = [f32::NAN, 0.0, -0.0, f32::INFINITY, -1.5, 2.0, 0.5, -3.0];
        let vals = |n: usize, seed: usize| -> Vec<f32> {
            (0..n)
                .map(|i| {
                    let h = ((i + seed) as u32).wrapping_mul(2654435761) >> 20;
                    if h % 7 == 0 {
                        special[(h as usize / 7) % special.len()]
                    } else {
                        h as f32 / 512.0 - 3.0
                    }
                })
                .collect()
        };
        let bits =
            |t: &Tensor| -> Vec<u32> { t.as_f32().unwrap().iter().map(|x| x.to_bits()).collect() };
        let mut ops: Vec<MathOp> = [
            Binary::Add,
            Binary::Sub,
            Binary::Mul,
            Binary::Div,
            Binary::Pow,
            Binary::Mod { fmod: false },
            Binary::Mod { fmod: true },
            Binary::PRelu,
        ]
        .into_iter()
        .map(MathOp::Binary)
        .collect();
        ops.extend(
            [Variadic::Sum, Variadic::Mean, Variadic::Min, Variadic::Max].map(MathOp::Variadic),
        );
        let mut in_place = 0;
        for op in &ops {
            for &(ash, bsh) in shapes {
                let a = t(ash, &vals(ash.iter().product(), 1));
                let mut b = t(bsh, &vals(bsh.iter().product(), 5));
                if matches!(op, MathOp::Binary(Binary::Pow)) && b.numel() == 1 {
                    b = t(bsh, &[2.0]); // the squaring path
                }
                // variadic ops take a third input of A's shape
                let c = t(ash, &vals(ash.iter().product(), 9));
                let mut xs = vec![Some(&a), Some(&b)];
                if matches!(op, MathOp::Variadic(_)) {
                    xs.push(Some(&c));
                }
                let want = run(op, &xs).unwrap().remove(0);
                for k in 0..2 {
                    let mut args = xs.clone();
                    let x = args[k].take().unwrap().clone();
                    match run_in_place(op, &args, k, x) {
                        Ok(got) => {
                            let got = got.unwrap();
                            assert_eq!(got.shape(), want.shape(), "{op:?} {ash:?} {bsh:?} k={k}");
                            assert_eq!(bits(&got), bits(&want), "{op:?} {ash:?} {bsh:?} k={k}");
                            in_place += 1;
                        }
                        // the buffer comes back unchanged when it cannot hold the output
                        Err(back) => {
                            assert_eq!(bits(&back), bits(xs[k].unwrap()), "{op:?} k={k}");
                            let fits = back.shape() == want.shape();
                            assert!(
                                !fits || (matches!(op, MathOp::Variadic(_)) && k == 1),
                                "{op:?} {ash:?} {bsh:?} k={k}: not computed in place"
                            );
                        }
                    }
                }
            }
        }
        // 8 binary ops × (5 shape pairs whose output is A's + 2 whose output is B's), and the
        // 4 variadic ops folded into A for all 7
        assert_eq!(in_place, 8 * 7 + 4 * 7, "in-place runs");
    }

    /// The integer and boolean unary ops in place equal the allocating kernel on every dtype
    /// they take (extremes included: Abs and Neg wrap at the minimum), and hand the buffer back,
    /// unchanged, where the kernel refuses the dtype.
    #[test]
    fn int_unary_in_place_matches_the_allocating_kernel() {
        let xs = [
            Tensor::from_i64(vec![5], vec![i64::MIN, -7, 0, 3, i64::MAX]).unwrap(),
            Tensor::new(vec![4], TensorData::I32(vec![i32::MIN, -2, 0, 9])).unwrap(),
            Tensor::new(vec![4], TensorData::I8(vec![i8::MIN, -1, 0, 127])).unwrap(),
            Tensor::new(vec![3], TensorData::U8(vec![0, 1, 255])).unwrap(),
            Tensor::new(vec![2], TensorData::Bool(vec![true, false])).unwrap(),
            Tensor::new(vec![2], TensorData::F64(vec![-1.0, 2.0])).unwrap(),
        ];
        let mut in_place = 0;
        for u in [
            Unary::Not,
            Unary::BitwiseNot,
            Unary::Abs,
            Unary::Neg,
            Unary::Sign,
            Unary::Relu,
        ] {
            let op = MathOp::Unary(u);
            for x in &xs {
                let want = run(&op, &[Some(x)]).map(|mut v| v.remove(0));
                match (run_in_place(&op, &[None], 0, x.clone()), want) {
                    (Ok(got), Ok(want)) => {
                        assert_eq!(got.unwrap().data(), want.data(), "{u:?} {}", x.dtype());
                        in_place += 1;
                    }
                    (Err(back), Err(_)) => assert_eq!(back.data(), x.data(), "{u:?}"),
                    (got, want) => panic!("{u:?} {}: {got:?} against {want:?}", x.dtype()),
                }
            }
        }
        // Not on bool; BitwiseNot on 4 integer dtypes; Abs, Sign, Relu on 4; Neg on 3 (not u8)
        assert_eq!(in_place, 1 + 4 + 4 * 3 + 3);
        // and the values themselves, written out for int8 (Abs and Neg wrap at the minimum)
        for (u, want) in [
            (Unary::Abs, [i8::MIN, 1, 0, 127]),
            (Unary::Neg, [i8::MIN, 1, 0, -127]),
            (Unary::Sign, [-1, -1, 0, 1]),
            (Unary::Relu, [0, 0, 0, 127]),
            (Unary::BitwiseNot, [127, 0, -1, -128]),
        ] {
            let got = run_in_place(&MathOp::Unary(u), &[None], 0, xs[2].clone());
            let got = got.ok().and_then(|r| r.ok()).map(|t| t.into_parts().1);
            assert_eq!(got, Some(TensorData::I8(want.to_vec())), "{u:?}");
        }
    }

    /// Relu keeps NaN (onnxruntime does; `f32::max(NaN, 0)` is 0) and maps -0 and negatives to 0.
    #[test]
    fn relu_keeps_nan() {
        let x = t(&[4], &[f32::NAN, -1.0, 0.0, 2.5]);
        let y = unary(Unary::Relu, &x).unwrap();
        let y = y.as_f32().unwrap();
        assert!(y[0].is_nan(), "{y:?}");
        assert_eq!(&y[1..], &[0.0, 0.0, 2.5]);
    }

    #[test]
    fn broadcast_fast_paths_match_the_general_walk() {
        // [2,3] + [3] (trailing block), [2,3] + [2,1] (general), scalar
        let a = t(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
        let row = t(&[3], &[10., 20., 30.]);
        let col = t(&[2, 1], &[100., 200.]);
        let s = t(&[], &[0.5]);
        let r = binary(Binary::Add, &a, &row).unwrap();
        assert_eq!(r.as_f32().unwrap(), &[11., 22., 33., 14., 25., 36.]);
        let r = binary(Binary::Add, &a, &col).unwrap();
        assert_eq!(r.as_f32().unwrap(), &[101., 102., 103., 204., 205., 206.]);
        let r = binary(Binary::Sub, &s, &a).unwrap();
        assert_eq!(r.as_f32().unwrap(), &[-0.5, -1.5, -2.5, -3.5, -4.5, -5.5]);
        let r = binary(Binary::Div, &row, &a).unwrap();
        assert_eq!(r.shape(), &[2, 3]);
        assert_eq!(r.as_f32().unwrap()[5], 5.0);
    }

    #[test]
    fn erf_is_accurate() {
        // reference values of erf (Abramowitz & Stegun tables / libm)
        for (x, want) in [
            (0.0f32, 0.0f64),
            (0.1, 0.112_462_916_018_284_9),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (2.0, 0.995_322_265_018_952_7),
            (-1.5, -0.966_105_146_475_310_7),
            (4.0, 0.999_999_984_582_742_1),
        ] {
            let got = erf(x) as f64;
            assert!(
                (got - want).abs() <= 2e-7 * want.abs().max(1e-3),
                "erf({x}) = {got}, want {want}"
            );
        }
    }

    /// Mod (fmod = 0) on floats against numpy's `mod` semantics written out (opset 28).
    #[test]
    fn float_mod_takes_the_divisor_sign() {
        let a = Tensor::from_f32(vec![6], vec![7.5, -7.5, 7.5, -7.5, 0.0, 3.0]).unwrap();
        let b = Tensor::from_f32(vec![6], vec![2.0, 2.0, -2.0, -2.0, -1.0, f32::INFINITY]).unwrap();
        let m = binary(Binary::Mod { fmod: false }, &a, &b).unwrap();
        let m = m.as_f32().unwrap();
        assert_eq!(&m[..4], &[1.5, 0.5, -0.5, -1.5]);
        assert!(m[4] == 0.0 && m[4].is_sign_negative());
        assert_eq!(m[5], 3.0);
        let neg_inf = Tensor::from_f32(vec![1], vec![f32::NEG_INFINITY]).unwrap();
        let three = Tensor::from_f32(vec![1], vec![3.0]).unwrap();
        let r = binary(Binary::Mod { fmod: false }, &three, &neg_inf).unwrap();
        assert_eq!(r.as_f32().unwrap()[0], f32::NEG_INFINITY);
    }

    /// BitShift on signed types (opset 28): arithmetic right shift, out-of-width shifts fill.
    #[test]
    fn signed_shifts_extend_the_sign() {
        let x = Tensor::new(vec![4], TensorData::I8(vec![-8, -8, 64, 5])).unwrap();
        let y = Tensor::new(vec![4], TensorData::I8(vec![1, 9, 1, -1])).unwrap();
        let r = binary(Binary::BitShiftRight, &x, &y).unwrap();
        assert_eq!(r.data(), &TensorData::I8(vec![-4, -1, 32, 0]));
        let l = binary(Binary::BitShiftLeft, &x, &y).unwrap();
        assert_eq!(l.data(), &TensorData::I8(vec![-16, 0, -128, 0]));
    }

    #[test]
    fn integer_division_and_modulo() {
        let a = Tensor::from_i64(vec![4], vec![7, -7, 7, -7]).unwrap();
        let b = Tensor::from_i64(vec![4], vec![2, 2, -2, -2]).unwrap();
        assert_eq!(
            binary(Binary::Div, &a, &b).unwrap().as_i64().unwrap(),
            &[3, -3, -3, 3]
        );
        let m = binary(Binary::Mod { fmod: false }, &a, &b).unwrap();
        assert_eq!(m.as_i64().unwrap(), &[1, 1, -1, -1]);
        let z = Tensor::from_i64(vec![4], vec![0; 4]).unwrap();
        assert!(binary(Binary::Div, &a, &z).is_err());
    }

    #[test]
    fn cast_truncates_and_rounds_to_half() {
        let x = t(&[3], &[1.7, -2.9, 0.1]);
        assert_eq!(cast(&x, DType::I64).unwrap().as_i64().unwrap(), &[1, -2, 0]);
        let h = cast(&x, DType::F16).unwrap();
        assert_eq!(h.as_f32().unwrap()[2], f16::from_f32(0.1).to_f32());
    }

    #[test]
    fn where_broadcasts() {
        let c = Tensor::from_bool(vec![2, 1], vec![true, false]).unwrap();
        let x = t(&[3], &[1., 2., 3.]);
        let y = t(&[], &[0.]);
        let r = where_(&c, &x, &y).unwrap();
        assert_eq!(r.as_f32().unwrap(), &[1., 2., 3., 0., 0., 0.]);
    }
}

#[cfg(feature = "extra-ops")]
/// BitCast: the bits of `x` as its declared dtype `from` (a float64 computed in float32 has
/// float32's bits of precision), read as `to`, which must have the same width (no strings).
#[inline(never)]
fn bit_cast(x: &Tensor, from: DType, to: DType) -> Result<Tensor> {
    let x = x.clone().into_declared(from);
    let (w, tw) = (bit_width(from), bit_width(to));
    let bits: Option<Vec<u64>> = match x.data() {
        TensorData::F32(v) => Some(v.iter().map(|x| x.to_bits() as u64).collect()),
        TensorData::F64(v) => Some(v.iter().map(|x| x.to_bits()).collect()),
        TensorData::F16(v) => Some(v.iter().map(|x| x.to_bits() as u64).collect()),
        TensorData::BF16(v) => Some(v.iter().map(|x| x.to_bits() as u64).collect()),
        TensorData::Str(_) => None,
        _ => Some(x.to_i64_vec().iter().map(|&x| x as u64 & mask(w)).collect()),
    };
    let (Some(bits), true) = (bits, w == tw && w > 0) else {
        return Err(Error::dtype(format!(
            "BitCast: {from} ({w} bits) cannot be read as {to} ({tw} bits); the widths must be \
             equal and neither a string"
        )));
    };
    let sign = |b: u64| ((b << (64 - w)) as i64) >> (64 - w);
    let shape = x.shape().to_vec();
    let data = match to {
        DType::F32 => TensorData::F32(bits.iter().map(|&b| f32::from_bits(b as u32)).collect()),
        DType::F64 => TensorData::F64(bits.iter().map(|&b| f64::from_bits(b)).collect()),
        DType::F16 => TensorData::F16(bits.iter().map(|&b| f16::from_bits(b as u16)).collect()),
        DType::BF16 => TensorData::BF16(
            bits.iter()
                .map(|&b| half::bf16::from_bits(b as u16))
                .collect(),
        ),
        // integers and bools: the value in i64 (sign-extended for the signed types), then an
        // exact Cast into the computed form
        _ => {
            let signed = matches!(to, DType::I64 | DType::I32 | DType::I16 | DType::I8);
            let v = bits
                .iter()
                .map(|&b| if signed { sign(b) } else { b as i64 });
            return cast(&Tensor::from_i64(shape, v.collect())?, to);
        }
    };
    Ok(Tensor::new(shape, data)?.into_compute())
}

/// Bits per element (0 for strings).
#[cfg(feature = "extra-ops")]
fn bit_width(d: DType) -> u32 {
    match d {
        DType::F64 | DType::I64 | DType::U64 => 64,
        DType::F32 | DType::I32 | DType::U32 => 32,
        DType::F16 | DType::BF16 | DType::I16 | DType::U16 => 16,
        DType::I8 | DType::U8 | DType::Bool => 8,
        DType::Str => 0,
    }
}

#[cfg(feature = "extra-ops")]
fn mask(w: u32) -> u64 {
    if w >= 64 {
        u64::MAX
    } else {
        (1u64 << w) - 1
    }
}
