//! CPU kernels of LSTM, GRU and RNN.
//!
//! Per direction, the input projection X·Wᵀ (+ bias) for every step is one GEMM; each step then
//! adds H·Rᵀ (one small GEMM into a preallocated buffer) and applies the gate math in place. A
//! GRU with `linear_before_reset = 0` takes two products per step: H·[R_z; R_r]ᵀ, then
//! (r ⊙ h)·R_hᵀ for every sequence at once. Nothing is allocated per step.

use super::fastmath;
use super::linalg::gemm_strided;
use super::linalg::sgemm::PackedB;

/// The f32 GEMM on B packed ahead (the SIMD128 kernel).
#[allow(clippy::too_many_arguments)]
fn sgemm_packed(
    m: usize,
    dst: &mut [f32],
    read: bool,
    lhs: &[f32],
    ls: (usize, usize),
    b: &PackedB,
    scale: f32,
) {
    super::linalg::sgemm::sgemm_packed(
        m,
        dst,
        read,
        lhs,
        ls,
        b,
        scale,
        super::linalg::sgemm::Kernel::Simd,
    );
}
use super::util::{input, opt_input};
use crate::error::{Error, Result};
use crate::ir::ops::rnn::{Act, Cell, Direction, RnnOp};
use crate::tensor::{numel_checked, Tensor, TensorData};

#[inline]
fn act(a: Act, x: f32) -> f32 {
    match a {
        Act::Sigmoid => fastmath::sigmoid(x),
        Act::Tanh => fastmath::tanh(x),
        Act::Relu => {
            if x < 0.0 {
                0.0
            } else {
                x
            }
        }
        Act::Affine { alpha, beta } => alpha * x + beta,
        Act::LeakyRelu { alpha } => {
            if x < 0.0 {
                alpha * x
            } else {
                x
            }
        }
        Act::ThresholdedRelu { alpha } => {
            if x > alpha {
                x
            } else {
                0.0
            }
        }
        Act::ScaledTanh { alpha, beta } => alpha * (beta * x).tanh(),
        Act::HardSigmoid { alpha, beta } => (alpha * x + beta).clamp(0.0, 1.0),
        Act::Elu { alpha } => {
            if x < 0.0 {
                alpha * (x.exp() - 1.0)
            } else {
                x
            }
        }
        Act::Softsign => x / (1.0 + x.abs()),
        Act::Softplus => {
            if x > 20.0 {
                x
            } else {
                x.exp().ln_1p()
            }
        }
    }
}

/// Applies an activation to a whole slice: the match is outside the loop, so each loop is
/// monomorphic and vectorisable (for SIMD128 LLVM vectorises σ and tanh itself: a hand-written
/// SIMD128 σ/tanh here measured no faster on the GRU bench and cost 0.35 KB brotli).
fn act_slice(a: Act, v: &mut [f32]) {
    match a {
        Act::Sigmoid => v.iter_mut().for_each(|x| *x = fastmath::sigmoid(*x)),
        Act::Tanh => v.iter_mut().for_each(|x| *x = fastmath::tanh(*x)),
        Act::Relu => v.iter_mut().for_each(|x| {
            if *x < 0.0 {
                *x = 0.0
            }
        }),
        other => v.iter_mut().for_each(|x| *x = act(other, *x)),
    }
}

/// `dst = a + b` per element.
fn add_into(dst: &mut [f32], a: &[f32], b: &[f32]) {
    for ((d, &x), &y) in dst.iter_mut().zip(a).zip(b) {
        *d = x + y;
    }
}

/// ONNX's `clip`: `x` clamped to `[-c, c]` when a clip is set (not `f32::clamp`, which panics on
/// a NaN or negative bound).
#[inline(always)]
fn clip1(clip: Option<f32>, x: f32) -> f32 {
    match clip {
        Some(c) if x < -c => -c,
        Some(c) if x > c => c,
        _ => x,
    }
}

/// [`clip1`] over a slice.
fn clip_slice(clip: Option<f32>, v: &mut [f32]) {
    if clip.is_some() {
        v.iter_mut().for_each(|x| *x = clip1(clip, *x));
    }
}

/// One step of the common LSTM's gates (f, g, h = σ, tanh, tanh; no clip, peepholes or
/// coupled input and forget gates), fused into one pass: from the pre-activations `xg + rg`
/// (gates i, o, f, c, `hs` each) to the new cell state `c` and output `h`. The same operations
/// per element as the general path (the same fast σ and tanh, the same order), so the two agree
/// bit for bit; on wasm with SIMD128 four lanes at a time ([`simd_gates::lstm`]), elsewhere
/// [`lstm_gates_scalar`].
fn lstm_gates(xg: &[f32], rg: &[f32], c: &mut [f32], h: &mut [f32]) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    simd_gates::lstm(xg, rg, c, h);
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    lstm_gates_scalar(xg, rg, c, h);
}

/// The scalar twin of [`lstm_gates`].
#[cfg(any(test, not(all(target_arch = "wasm32", target_feature = "simd128"))))]
fn lstm_gates_scalar(xg: &[f32], rg: &[f32], c: &mut [f32], h: &mut [f32]) {
    let hs = c.len();
    let (xg, rg) = (&xg[..4 * hs], &rg[..4 * hs]);
    for k in 0..hs {
        let i = fastmath::sigmoid(xg[k] + rg[k]);
        let o = fastmath::sigmoid(xg[hs + k] + rg[hs + k]);
        let f = fastmath::sigmoid(xg[2 * hs + k] + rg[2 * hs + k]);
        let g = fastmath::tanh(xg[3 * hs + k] + rg[3 * hs + k]);
        let cn = f * c[k] + i * g;
        c[k] = cn;
        h[k] = fastmath::tanh(cn) * o;
    }
}

/// The fused LSTM gates in SIMD128: [`fastmath`]'s σ and tanh, operation for operation, on four
/// lanes (so bit for bit its results).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd_gates {
    use core::arch::wasm32::*;

    /// The range reduction's and polynomials' constants, one vector each.
    struct K {
        lo: v128,
        hi: v128,
        log2e: v128,
        magic: v128,
        ln2_hi: v128,
        ln2_lo: v128,
        one: v128,
        c2: v128,
        c3: v128,
        c4: v128,
        c5: v128,
        c6: v128,
        two: v128,
        third: v128,
        two_15: v128,
        small: v128,
        m2: v128,
        bias: v128,
        sign: v128,
    }

    impl K {
        /// The constants, read through `black_box` so that each stays in a local for the whole
        /// loop (as `v128.const` operands V8 rebuilt every one at each use).
        fn new() -> K {
            let v: [f32; 17] = core::hint::black_box([
                -86.6,
                88.7,
                std::f32::consts::LOG2_E,
                12_582_912.0,
                0.693_359_4,
                -2.121_944_4e-4,
                1.0,
                0.5,
                1.0 / 6.0,
                1.0 / 24.0,
                1.0 / 120.0,
                1.0 / 720.0,
                2.0,
                1.0 / 3.0,
                2.0 / 15.0,
                0.02,
                -2.0,
            ]);
            let (bias, sign) = core::hint::black_box((126i32, 0x8000_0000u32));
            let s = f32x4_splat;
            K {
                lo: s(v[0]),
                hi: s(v[1]),
                log2e: s(v[2]),
                magic: s(v[3]),
                ln2_hi: s(v[4]),
                ln2_lo: s(v[5]),
                one: s(v[6]),
                c2: s(v[7]),
                c3: s(v[8]),
                c4: s(v[9]),
                c5: s(v[10]),
                c6: s(v[11]),
                two: s(v[12]),
                third: s(v[13]),
                two_15: s(v[14]),
                small: s(v[15]),
                m2: s(v[16]),
                bias: i32x4_splat(bias),
                sign: u32x4_splat(sign),
            }
        }
    }

    /// `fastmath::exp`.
    #[inline(always)]
    fn exp(k: &K, x: v128) -> v128 {
        let x = f32x4_pmin(f32x4_pmax(x, k.lo), k.hi);
        let t = f32x4_add(f32x4_mul(x, k.log2e), k.magic);
        let n = f32x4_sub(t, k.magic);
        let r = f32x4_sub(f32x4_sub(x, f32x4_mul(n, k.ln2_hi)), f32x4_mul(n, k.ln2_lo));
        let mut p = f32x4_add(k.c5, f32x4_mul(r, k.c6));
        p = f32x4_add(k.c4, f32x4_mul(r, p));
        p = f32x4_add(k.c3, f32x4_mul(r, p));
        p = f32x4_add(k.c2, f32x4_mul(r, p));
        p = f32x4_add(k.one, f32x4_mul(r, p));
        p = f32x4_add(k.one, f32x4_mul(r, p));
        let bits = i32x4_shl(i32x4_add(i32x4_trunc_sat_f32x4(n), k.bias), 23);
        f32x4_mul(f32x4_mul(p, bits), k.two)
    }

    /// `fastmath::sigmoid`.
    #[inline(always)]
    fn sigmoid(k: &K, x: v128) -> v128 {
        f32x4_div(k.one, f32x4_add(k.one, exp(k, f32x4_neg(x))))
    }

    /// `fastmath::tanh`.
    #[inline(always)]
    fn tanh(k: &K, x: v128) -> v128 {
        let a = f32x4_abs(x);
        let xx = f32x4_mul(x, x);
        let small = f32x4_mul(
            x,
            f32x4_sub(
                k.one,
                f32x4_mul(xx, f32x4_sub(k.third, f32x4_mul(xx, k.two_15))),
            ),
        );
        let e = exp(k, f32x4_mul(k.m2, a));
        let q = f32x4_div(f32x4_sub(k.one, e), f32x4_add(k.one, e));
        // copysign: the magnitude of q, the sign of x
        let big = v128_bitselect(x, q, k.sign);
        v128_bitselect(small, big, f32x4_lt(a, k.small))
    }

    /// [`super::lstm_gates`], four lanes at a time; the last `hs % 4` lanes through the same
    /// code from zero-padded copies (lanes are independent: the padding changes nothing).
    pub(super) fn lstm(xg: &[f32], rg: &[f32], c: &mut [f32], h: &mut [f32]) {
        let hs = c.len();
        assert!(xg.len() >= 4 * hs && rg.len() >= 4 * hs && h.len() >= hs);
        let k = K::new();
        let (tail, mut pad) = (hs % 4, [0.0f32; 40]);
        let full = hs - tail;
        // pad: the four gates of X·Wᵀ at 0, of H·Rᵀ at 16, c at 32, h at 36
        for g in 0..4 {
            pad[4 * g..4 * g + tail].copy_from_slice(&xg[g * hs + full..(g + 1) * hs]);
            pad[16 + 4 * g..16 + 4 * g + tail].copy_from_slice(&rg[g * hs + full..(g + 1) * hs]);
        }
        pad[32..32 + tail].copy_from_slice(&c[full..]);
        for j in (0..hs).step_by(4) {
            // SAFETY: lanes j..j+4 of each of the four gates lie inside xg and rg (4·hs each,
            // checked above), of c and h inside hs (j + 4 ≤ full), or else inside the pad
            unsafe {
                let (xp, rp, cv, hv, gs) = if j < full {
                    (
                        xg.as_ptr().add(j),
                        rg.as_ptr().add(j),
                        c.as_mut_ptr().add(j),
                        h.as_mut_ptr().add(j),
                        hs,
                    )
                } else {
                    let p = pad.as_mut_ptr();
                    (
                        p as *const f32,
                        p.add(16) as *const f32,
                        p.add(32),
                        p.add(36),
                        4,
                    )
                };
                let pre = |g: usize| {
                    f32x4_add(
                        v128_load(xp.add(g * gs) as *const v128),
                        v128_load(rp.add(g * gs) as *const v128),
                    )
                };
                let i = sigmoid(&k, pre(0));
                let o = sigmoid(&k, pre(1));
                let f = sigmoid(&k, pre(2));
                let g = tanh(&k, pre(3));
                let (cv, hv) = (cv as *mut v128, hv as *mut v128);
                let cn = f32x4_add(f32x4_mul(f, v128_load(cv)), f32x4_mul(i, g));
                v128_store(cv, cn);
                v128_store(hv, f32x4_mul(tanh(&k, cn), o));
            }
        }
        c[full..].copy_from_slice(&pad[32..32 + tail]);
        h[full..hs].copy_from_slice(&pad[36..36 + tail]);
    }
}

/// Runs [`lstm_gates`] (the SIMD128 kernel inside wasm) against the general gate path over
/// widths around its 4-lane steps (the padded tail included) and pre-activations across σ's
/// and tanh's ranges (the small-argument tanh branch, the exp clamp, infinities); returns how
/// many outputs are not bit-identical (0 expected). Inside wasm this is the test hook
/// `lstmGatesCheckForTest`.
#[cfg(any(test, feature = "test-api"))]
pub fn check_gates_against_general() -> usize {
    let mut rng = crate::testing::Rng::new(64);
    let mut bad = 0;
    for hs in (1..=13).chain([64, 67]) {
        for scale in [0.01f32, 1.0, 8.0, 200.0] {
            let op = RnnOp {
                cell: Cell::Lstm,
                hidden: hs,
                direction: Direction::Forward,
                acts: vec![vec![Act::Sigmoid, Act::Tanh, Act::Tanh]],
                clip: None,
                input_forget: false,
                linear_before_reset: false,
                batch_first: false,
            };
            let mut x = rng.f32s(4 * hs, -scale, scale);
            if hs > 2 {
                x[1] = f32::INFINITY;
                x[hs + 2] = f32::NEG_INFINITY;
            }
            let t = |shape: Vec<usize>, v: Vec<f32>| Tensor::from_f32(shape, v).unwrap();
            let w = t(vec![1, 4 * hs, 1], vec![1.0; 4 * hs]);
            let r = t(vec![1, 4 * hs, hs], rng.f32s(4 * hs * hs, -0.5, 0.5));
            let c0 = t(vec![1, 1, hs], rng.f32s(hs, -2.0, 2.0));
            let xt = t(vec![2, 1, 1], vec![0.3, -0.7]);
            // x's values go in as the bias (W·x with x = 1 … ); two steps so c and h carry
            let xs = t(vec![1, 8 * hs], [x.clone(), vec![0.0; 4 * hs]].concat());
            let ins = [
                Some(&xt),
                Some(&w),
                Some(&r),
                Some(&xs),
                None,
                None,
                Some(&c0),
            ];
            let fast = run(&op, &ins).unwrap();
            let general = run(
                &RnnOp {
                    clip: Some(f32::INFINITY),
                    ..op.clone()
                },
                &ins,
            )
            .unwrap();
            for (a, b) in fast.iter().zip(&general) {
                bad += crate::testing::bit_mismatches(a.as_f32().unwrap(), b.as_f32().unwrap());
            }
        }
    }
    bad
}

/// An RNN's constant weights packed for the f32 GEMM when the session is built: per
/// direction, Wᵀ (`input_size × gates·hidden`) and Rᵀ (`hidden × gates·hidden`). A GRU with
/// `linear_before_reset = 0` multiplies its reset gate into H before R_h, so its Rᵀ is packed as
/// two: the z and r columns (`hidden × 2·hidden`) in `r`, R_hᵀ (`hidden × hidden`) in `rh`.
#[derive(Debug)]
pub struct Packed {
    w: Vec<PackedB>,
    r: Vec<PackedB>,
    rh: Vec<PackedB>,
}

/// A recurrent product `dst (batch × n) = lhs (batch × hs, row stride ls) · Rᵀ`: over R packed
/// at load (`p`), else over columns of the transposed R `rt` (row stride `gh`). One call site
/// for both of a step's products (kept out of line: the GEMM's entry is inlined once).
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn recurrent_gemm(
    batch: usize,
    n: usize,
    hs: usize,
    dst: &mut [f32],
    lhs: &[f32],
    ls: usize,
    p: Option<&PackedB>,
    rt: &[f32],
    gh: usize,
) {
    match p {
        Some(p) => sgemm_packed(batch, dst, false, lhs, (ls, 1), p, 1.0),
        None => gemm_strided(batch, n, hs, dst, false, lhs, (ls, 1), rt, (gh, 1), 1.0),
    }
}

/// Whether the op's R is used as two products per step ([`Packed`]).
fn splits_r(op: &RnnOp) -> bool {
    op.cell == Cell::Gru && !op.linear_before_reset
}

/// Packs W and R (inputs 1 and 2) when both are constant f32 tensors of rank 3.
pub fn prepack(op: &RnnOp, consts: &[Option<&Tensor>]) -> Option<Packed> {
    let gh = op.cell.gates() * op.hidden;
    // the transposes of gate rows `rows` of each direction's `[gh, k]` matrix
    let pack = |t: Option<&Tensor>, rows: std::ops::Range<usize>| -> Option<Vec<PackedB>> {
        let (TensorData::F32(v), [dirs, g, k]) = (t?.data(), t?.shape()) else {
            return None;
        };
        let k = *k;
        if *g != gh {
            return None;
        }
        Some(
            (0..*dirs)
                .map(|d| {
                    let m = &v[d * gh * k..(d + 1) * gh * k];
                    PackedB::new(k, rows.len(), &m[rows.start * k..rows.end * k], (1, k))
                })
                .collect(),
        )
    };
    let (w, r) = (
        consts.get(1).copied().flatten(),
        consts.get(2).copied().flatten(),
    );
    let hs2 = 2 * op.hidden;
    Some(if splits_r(op) {
        Packed {
            w: pack(w, 0..gh)?,
            r: pack(r, 0..hs2)?,
            rh: pack(r, hs2..gh)?,
        }
    } else {
        Packed {
            w: pack(w, 0..gh)?,
            r: pack(r, 0..gh)?,
            rh: Vec::new(),
        }
    })
}

pub fn run(op: &RnnOp, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    run_packed(op, inputs, None)
}

/// [`run`] with W and R packed ahead ([`prepack`]).
pub fn run_packed(
    op: &RnnOp,
    inputs: &[Option<&Tensor>],
    packed: Option<&Packed>,
) -> Result<Vec<Tensor>> {
    let name = op.name();
    let x = input(inputs, 0, "X")?;
    let w = input(inputs, 1, "W")?;
    let r = input(inputs, 2, "R")?;
    let (hs, g) = (op.hidden, op.cell.gates());
    let dirs = if op.direction == Direction::Bidirectional {
        2
    } else {
        1
    };
    if x.rank() != 3 {
        return Err(Error::shape(format!(
            "{name}: X must be rank 3, got {:?}",
            x.shape()
        )));
    }
    let (seq, batch, isz) = if op.batch_first {
        (x.shape()[1], x.shape()[0], x.shape()[2])
    } else {
        (x.shape()[0], x.shape()[1], x.shape()[2])
    };
    let expect = |t: &Tensor, shape: &[usize], what: &str| -> Result<()> {
        if t.shape() != shape {
            return Err(Error::shape(format!(
                "{name}: {what} has shape {:?}, expected {shape:?}",
                t.shape()
            )));
        }
        Ok(())
    };
    expect(w, &[dirs, g * hs, isz], "W")?;
    expect(r, &[dirs, g * hs, hs], "R")?;
    let (xv, wv, rv) = (x.as_f32()?, w.as_f32()?, r.as_f32()?);
    let b = opt_input(inputs, 3);
    if let Some(b) = b {
        expect(b, &[dirs, 2 * g * hs], "B")?;
    }
    let bv = b.map(|b| b.as_f32()).transpose()?;
    let lens: Vec<usize> = match opt_input(inputs, 4) {
        Some(t) => {
            let v = t.to_i64_vec();
            if v.len() != batch || v.iter().any(|&l| l < 0 || l as usize > seq) {
                return Err(Error::shape(format!(
                    "{name}: sequence_lens {v:?} must give {batch} lengths within 0..={seq}"
                )));
            }
            v.into_iter().map(|l| l as usize).collect()
        }
        None => vec![seq; batch],
    };
    // initial states arrive as [dirs, batch, hs] (layout 0) or [batch, dirs, hs] (layout 1)
    let state_in = |i: usize, what: &str| -> Result<Option<Vec<f32>>> {
        let Some(t) = opt_input(inputs, i) else {
            return Ok(None);
        };
        let shape = if op.batch_first {
            [batch, dirs, hs]
        } else {
            [dirs, batch, hs]
        };
        expect(t, &shape, what)?;
        let v = t.as_f32()?;
        Ok(Some(if op.batch_first {
            swap01(v, batch, dirs, hs)
        } else {
            v.to_vec()
        }))
    };
    let h0 = state_in(5, "initial_h")?;
    let c0 = if op.cell == Cell::Lstm {
        state_in(6, "initial_c")?
    } else {
        None
    };
    let p = if op.cell == Cell::Lstm {
        opt_input(inputs, 7)
    } else {
        None
    };
    if let Some(p) = p {
        expect(p, &[dirs, 3 * hs], "P")?;
    }
    let pv = p.map(|p| p.as_f32()).transpose()?;

    // X as [seq, batch, isz] rows
    let x_sb: std::borrow::Cow<[f32]> = if op.batch_first {
        swap01(xv, batch, seq, isz).into()
    } else {
        xv.into()
    };
    let mut y = vec![0.0f32; numel_checked(&[seq, dirs, batch, hs])?];
    let mut yh = vec![0.0f32; dirs * batch * hs];
    let mut yc = vec![0.0f32; dirs * batch * hs];
    let gh = g * hs;
    let mut xw = vec![0.0f32; numel_checked(&[seq * batch, gh])?];
    let mut hr = vec![0.0f32; batch * gh];
    // a GRU with lbr = 0: H·Rᵀ for z and r only (`rn` columns), then (r ⊙ h)·R_hᵀ; per
    // sequence z, r ⊙ h and that product
    let split = splits_r(op);
    let rn = if split { 2 * hs } else { gh };
    // a GRU's z and r gates per sequence (`[batch][2·hs]`; with lbr = 0, r then holds r ⊙ h)
    // and its candidate's pre-activation (`[batch][hs]`)
    let gru = op.cell == Cell::Gru;
    let (mut zr_all, mut cand_all) = (
        vec![0.0f32; if gru { 2 * batch * hs } else { 0 }],
        vec![0.0f32; if gru { batch * hs } else { 0 }],
    );
    // the packed weights, when they are this call's W and R
    let packed = packed.filter(|p| {
        p.w.len() == dirs
            && p.r.len() == dirs
            && p.rh.len() == if split { dirs } else { 0 }
            && p.w.iter().all(|b| b.k() == isz && b.n() == gh)
            && p.r.iter().all(|b| b.k() == hs && b.n() == rn)
            && p.rh.iter().all(|b| b.k() == hs && b.n() == hs)
    });
    let mut rt = vec![0.0f32; if packed.is_some() { 0 } else { gh * hs }];
    for d in 0..dirs {
        let reverse = op.direction == Direction::Reverse || d == 1;
        let wd = &wv[d * gh * isz..(d + 1) * gh * isz];
        let rd = &rv[d * gh * hs..(d + 1) * gh * hs];
        // Rᵀ as [hs, gh] rows, so each step's H·Rᵀ is hs contiguous row updates (no horizontal
        // sums); one transpose per run instead of one strided read per step
        if packed.is_none() {
            for p in 0..hs {
                for j in 0..gh {
                    rt[p * gh + j] = rd[j * hs + p];
                }
            }
        }
        let (wb, rb) = match bv {
            Some(b) => (
                &b[d * 2 * gh..d * 2 * gh + gh],
                &b[d * 2 * gh + gh..(d + 1) * 2 * gh],
            ),
            None => (&[][..], &[][..]),
        };
        // input projection for all steps: xw = X · Wᵀ + Wb (+ Rb except GRU's h gate with lbr)
        let mut bias = vec![0.0f32; gh];
        if !wb.is_empty() {
            bias.copy_from_slice(wb);
        }
        if !rb.is_empty() {
            let keep = if op.cell == Cell::Gru { 2 * hs } else { gh };
            bias[..keep].iter_mut().zip(rb).for_each(|(b, &r)| *b += r);
        }
        if gh > 0 {
            for row in xw.chunks_exact_mut(gh) {
                row.copy_from_slice(&bias);
            }
        }
        // GRU: R's bias of the h gate, kept apart from the input projection (zeros when B is
        // omitted, so the step adds it either way)
        let rbh: Vec<f32> = if op.cell == Cell::Gru && !rb.is_empty() {
            rb[2 * hs..3 * hs].to_vec()
        } else {
            vec![0.0; if op.cell == Cell::Gru { hs } else { 0 }]
        };
        match packed {
            Some(p) => sgemm_packed(seq * batch, &mut xw, true, &x_sb, (isz, 1), &p.w[d], 1.0),
            None => gemm_strided(
                seq * batch,
                gh,
                isz,
                &mut xw,
                true,
                &x_sb,
                (isz, 1),
                wd,
                (1, isz),
                1.0,
            ),
        }
        let acts = &op.acts[d];
        let mut h: Vec<f32> = h0.as_ref().map_or(vec![0.0; batch * hs], |v| {
            v[d * batch * hs..(d + 1) * batch * hs].to_vec()
        });
        let mut c: Vec<f32> = c0.as_ref().map_or(vec![0.0; batch * hs], |v| {
            v[d * batch * hs..(d + 1) * batch * hs].to_vec()
        });
        let peep = pv.map(|p| &p[d * 3 * hs..(d + 1) * 3 * hs]);
        // the common LSTM (σ, tanh, tanh; no clip, peepholes or coupled gates): one fused pass
        // (in SIMD128 four lanes at a time)
        let default_lstm = op.cell == Cell::Lstm
            && acts[..] == [Act::Sigmoid, Act::Tanh, Act::Tanh]
            && op.clip.is_none()
            && peep.is_none()
            && !op.input_forget;
        let mut scratch = vec![0.0f32; 4 * hs];
        for step in 0..seq {
            let t = if reverse { seq - 1 - step } else { step };
            // recurrent projection hr = H · Rᵀ (`rn` columns per sequence)
            let pd = |v: fn(&Packed) -> &Vec<PackedB>| packed.map(|p| &v(p)[d]);
            recurrent_gemm(batch, rn, hs, &mut hr, &h, hs, pd(|p| &p.r), &rt, gh);
            if gru {
                // z and r for every sequence (rows of finished ones are left stale, unused);
                // with lbr = 0 then r ⊙ h and (r ⊙ h) · R_hᵀ for all in one product
                for bi in 0..batch {
                    if t >= lens[bi] {
                        continue;
                    }
                    let xg = &xw[(t * batch + bi) * gh..(t * batch + bi) * gh + 2 * hs];
                    let zr = &mut zr_all[bi * 2 * hs..(bi + 1) * 2 * hs];
                    add_into(zr, xg, &hr[bi * rn..bi * rn + 2 * hs]);
                    clip_slice(op.clip, zr);
                    act_slice(acts[0], zr);
                    if split {
                        zr[hs..]
                            .iter_mut()
                            .zip(&h[bi * hs..(bi + 1) * hs])
                            .for_each(|(r, &h)| *r *= h);
                    }
                }
                if split {
                    let (rth, rs) = (rt.get(2 * hs..).unwrap_or_default(), 2 * hs);
                    let lhs = zr_all.get(hs..).unwrap_or_default();
                    recurrent_gemm(
                        batch,
                        hs,
                        hs,
                        &mut cand_all,
                        lhs,
                        rs,
                        pd(|p| &p.rh),
                        rth,
                        gh,
                    );
                }
            }
            for bi in 0..batch {
                // steps past a sequence's length are skipped (a reversed one starts at L-1)
                if t >= lens[bi] {
                    continue;
                }
                let xg = &xw[(t * batch + bi) * gh..(t * batch + bi + 1) * gh];
                let rg = &hr[bi * gh..(bi + 1) * gh];
                let hb = &mut h[bi * hs..(bi + 1) * hs];
                let cb = &mut c[bi * hs..(bi + 1) * hs];
                match op.cell {
                    Cell::Lstm if default_lstm => lstm_gates(xg, rg, cb, hb),
                    Cell::Lstm => {
                        // gate math as whole-slice passes (vectorisable), gates i, o, f, c
                        let (f, gg, hh) = (acts[0], acts[1], acts[2]);
                        let pre = &mut scratch[..4 * hs];
                        for ((p, &x), &r) in pre.iter_mut().zip(xg).zip(rg) {
                            *p = x + r;
                        }
                        clip_slice(op.clip, pre);
                        let (gi, rest) = pre.split_at_mut(hs);
                        let (go, rest) = rest.split_at_mut(hs);
                        let (gf, gc) = rest.split_at_mut(hs);
                        if let Some(p) = peep {
                            for k in 0..hs {
                                gi[k] += p[k] * cb[k];
                                gf[k] += p[2 * hs + k] * cb[k];
                            }
                        }
                        act_slice(f, gi);
                        if op.input_forget {
                            gf.iter_mut()
                                .zip(gi.iter())
                                .for_each(|(f, &i)| *f = 1.0 - i);
                        } else {
                            act_slice(f, gf);
                        }
                        act_slice(gg, gc);
                        for k in 0..hs {
                            cb[k] = gf[k] * cb[k] + gi[k] * gc[k];
                        }
                        if let Some(p) = peep {
                            for k in 0..hs {
                                go[k] += p[hs + k] * cb[k];
                            }
                        }
                        act_slice(f, go);
                        hb.copy_from_slice(cb);
                        act_slice(hh, hb);
                        hb.iter_mut().zip(go.iter()).for_each(|(h, &o)| *h *= o);
                    }
                    Cell::Gru => {
                        let zr = &zr_all[bi * 2 * hs..(bi + 1) * 2 * hs];
                        let cand = &mut cand_all[bi * hs..(bi + 1) * hs];
                        let xh = &xg[2 * hs..3 * hs];
                        if split {
                            // (r ⊙ h) · R_hᵀ computed above
                            for ((c, &x), &b) in cand.iter_mut().zip(xh).zip(&rbh) {
                                *c = x + *c + b;
                            }
                        } else {
                            // lbr = 1: the reset gate multiplies H · R_hᵀ (and its bias)
                            let rec = rg[2 * hs..3 * hs].iter().zip(&rbh);
                            for (((c, &x), &r), (&rec, &b)) in
                                cand.iter_mut().zip(xh).zip(&zr[hs..]).zip(rec)
                            {
                                *c = x + r * (rec + b);
                            }
                        }
                        clip_slice(op.clip, cand);
                        act_slice(acts[1], cand);
                        for ((h, &z), &c) in hb.iter_mut().zip(&zr[..hs]).zip(cand.iter()) {
                            *h = (1.0 - z) * c + z * *h;
                        }
                    }
                    Cell::Rnn => {
                        add_into(hb, &xg[..hs], &rg[..hs]);
                        clip_slice(op.clip, hb);
                        act_slice(acts[0], hb);
                    }
                }
                let yo = ((t * dirs + d) * batch + bi) * hs;
                y[yo..yo + hs].copy_from_slice(hb);
            }
        }
        yh[d * batch * hs..(d + 1) * batch * hs].copy_from_slice(&h);
        yc[d * batch * hs..(d + 1) * batch * hs].copy_from_slice(&c);
    }
    let (y, yh, yc) = if op.batch_first {
        // Y [batch, seq, dirs, hs]; states [batch, dirs, hs]
        let mut yb = vec![0.0f32; y.len()];
        for t in 0..seq {
            for d in 0..dirs {
                for bi in 0..batch {
                    let src = ((t * dirs + d) * batch + bi) * hs;
                    let dst = ((bi * seq + t) * dirs + d) * hs;
                    yb[dst..dst + hs].copy_from_slice(&y[src..src + hs]);
                }
            }
        }
        (
            Tensor::from_f32(vec![batch, seq, dirs, hs], yb)?,
            Tensor::from_f32(vec![batch, dirs, hs], swap01(&yh, dirs, batch, hs))?,
            Tensor::from_f32(vec![batch, dirs, hs], swap01(&yc, dirs, batch, hs))?,
        )
    } else {
        (
            Tensor::from_f32(vec![seq, dirs, batch, hs], y)?,
            Tensor::from_f32(vec![dirs, batch, hs], yh)?,
            Tensor::from_f32(vec![dirs, batch, hs], yc)?,
        )
    };
    Ok(if op.cell == Cell::Lstm {
        vec![y, yh, yc]
    } else {
        vec![y, yh]
    })
}

/// [a, b, n] → [b, a, n].
fn swap01(v: &[f32], a: usize, b: usize, n: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; v.len()];
    for i in 0..a {
        for j in 0..b {
            out[(j * a + i) * n..(j * a + i + 1) * n]
                .copy_from_slice(&v[(i * b + j) * n..(i * b + j + 1) * n]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::util::test_values as rand;

    /// LSTM and GRU (both `linear_before_reset` settings), one and two directions, one and
    /// three sequences (with `sequence_lens` and `initial_h`): W and R packed at load give the
    /// same outputs as the per-run path.
    #[test]
    fn prepacked_weights_match_per_run_path() {
        for (cell, lbr, acts) in [
            (Cell::Lstm, false, vec![Act::Sigmoid, Act::Tanh, Act::Tanh]),
            (Cell::Gru, false, vec![Act::Sigmoid, Act::Tanh]),
            (Cell::Gru, true, vec![Act::Sigmoid, Act::Tanh]),
        ] {
            for (direction, dirs) in [(Direction::Forward, 1), (Direction::Bidirectional, 2)] {
                for batch in [1, 3] {
                    let (seq, isz, hs) = (5, 7, 10);
                    let gh = cell.gates() * hs;
                    let op = RnnOp {
                        cell,
                        hidden: hs,
                        direction,
                        acts: vec![acts.clone(); dirs],
                        clip: None,
                        input_forget: false,
                        linear_before_reset: lbr,
                        batch_first: false,
                    };
                    let t = |shape: Vec<usize>, seed| {
                        let n = shape.iter().product();
                        Tensor::from_f32(shape, rand(n, seed)).unwrap()
                    };
                    let x = t(vec![seq, batch, isz], 1);
                    let w = t(vec![dirs, gh, isz], 2);
                    let r = t(vec![dirs, gh, hs], 3);
                    let b = t(vec![dirs, 2 * gh], 4);
                    // three sequences of lengths 5, 2, 0, from an initial H
                    let lens = Tensor::from_i64(vec![batch], [5, 2, 0][..batch].to_vec()).unwrap();
                    let h0 = t(vec![dirs, batch, hs], 5);
                    let ins = [
                        Some(&x),
                        Some(&w),
                        Some(&r),
                        Some(&b),
                        Some(&lens),
                        Some(&h0),
                    ];
                    let p = prepack(&op, &[None, Some(&w), Some(&r), Some(&b)]).unwrap();
                    let got = run_packed(&op, &ins, Some(&p)).unwrap();
                    let want = run(&op, &ins).unwrap();
                    for (g, w) in got.iter().zip(&want) {
                        assert_eq!(g.shape(), w.shape());
                        for (x, y) in g.as_f32().unwrap().iter().zip(w.as_f32().unwrap()) {
                            assert!(
                                (x - y).abs() <= 1e-5,
                                "{cell:?} {direction:?} {batch}: {x} vs {y}"
                            );
                        }
                    }
                }
            }
        }
        // weights that are not constants are not packed
        let op = RnnOp {
            cell: Cell::Rnn,
            hidden: 2,
            direction: Direction::Forward,
            acts: vec![vec![Act::Tanh]],
            clip: None,
            input_forget: false,
            linear_before_reset: false,
            batch_first: false,
        };
        assert!(prepack(&op, &[None, None, None]).is_none());
    }

    /// The fused gates of the common LSTM (the scalar twin here; the SIMD128 kernel inside
    /// wasm through `lstmGatesCheckForTest`) match the general gate path bit for bit.
    #[test]
    fn fused_lstm_gates_match_general_path() {
        assert_eq!(check_gates_against_general(), 0);
    }
}
