//! CPU kernels of LSTM, GRU and RNN.
//!
//! Per direction, the input projection X·Wᵀ (+ bias) for every step is one GEMM; each step then
//! adds H·Rᵀ (one small GEMM into a preallocated buffer) and applies the gate math in place.
//! Nothing is allocated per step.

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
/// monomorphic and vectorisable.
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

/// An RNN's constant weights packed for the f32 GEMM when the session is built: per
/// direction, Wᵀ (`input_size × gates·hidden`) and Rᵀ (`hidden × gates·hidden`).
#[derive(Debug)]
pub struct Packed {
    w: Vec<PackedB>,
    r: Vec<PackedB>,
}

/// Packs W and R (inputs 1 and 2) when both are constant f32 tensors of rank 3.
pub fn prepack(op: &RnnOp, consts: &[Option<&Tensor>]) -> Option<Packed> {
    let pack = |t: Option<&Tensor>| -> Option<Vec<PackedB>> {
        let (TensorData::F32(v), [dirs, gh, k]) = (t?.data(), t?.shape()) else {
            return None;
        };
        let (gh, k) = (*gh, *k);
        if gh != op.cell.gates() * op.hidden {
            return None;
        }
        Some(
            (0..*dirs)
                .map(|d| PackedB::new(k, gh, &v[d * gh * k..(d + 1) * gh * k], (1, k)))
                .collect(),
        )
    };
    Some(Packed {
        w: pack(consts.get(1).copied().flatten())?,
        r: pack(consts.get(2).copied().flatten())?,
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
    let x_sb: Vec<f32> = if op.batch_first {
        swap01(xv, batch, seq, isz)
    } else {
        xv.to_vec()
    };
    let mut y = vec![0.0f32; numel_checked(&[seq, dirs, batch, hs])?];
    let mut yh = vec![0.0f32; dirs * batch * hs];
    let mut yc = vec![0.0f32; dirs * batch * hs];
    let gh = g * hs;
    let mut xw = vec![0.0f32; numel_checked(&[seq * batch, gh])?];
    let mut hr = vec![0.0f32; batch * gh];
    // the packed weights, when they are this call's W and R
    let packed = packed.filter(|p| {
        p.w.len() == dirs
            && p.r.len() == dirs
            && p.w.iter().all(|b| b.k() == isz && b.n() == gh)
            && p.r.iter().all(|b| b.k() == hs && b.n() == gh)
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
        for row in xw.chunks_mut(gh) {
            for j in 0..gh {
                let mut bias = if wb.is_empty() { 0.0 } else { wb[j] };
                let keep_rb_apart = op.cell == Cell::Gru && j >= 2 * hs;
                if !rb.is_empty() && !keep_rb_apart {
                    bias += rb[j];
                }
                row[j] = bias;
            }
        }
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
        let mut scratch = vec![0.0f32; 4 * hs];
        for step in 0..seq {
            let t = if reverse { seq - 1 - step } else { step };
            // recurrent projection hr = H · Rᵀ
            match packed {
                Some(p) => sgemm_packed(batch, &mut hr, false, &h, (hs, 1), &p.r[d], 1.0),
                None => gemm_strided(
                    batch,
                    gh,
                    hs,
                    &mut hr,
                    false,
                    &h,
                    (hs, 1),
                    &rt,
                    (gh, 1),
                    1.0,
                ),
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
                let clip = |v: f32| match op.clip {
                    Some(cl) => v.clamp(-cl, cl),
                    None => v,
                };
                match op.cell {
                    Cell::Lstm => {
                        // gate math as whole-slice passes (vectorisable), gates i, o, f, c
                        let (f, gg, hh) = (acts[0], acts[1], acts[2]);
                        let pre = &mut scratch[..4 * hs];
                        for ((p, &x), &r) in pre.iter_mut().zip(xg).zip(rg) {
                            *p = x + r;
                        }
                        if let Some(cl) = op.clip {
                            pre.iter_mut().for_each(|p| *p = p.clamp(-cl, cl));
                        }
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
                        let (f, gg) = (acts[0], acts[1]);
                        let rbh = if rb.is_empty() {
                            None
                        } else {
                            Some(&rb[2 * hs..3 * hs])
                        };
                        let (zs, rest) = scratch.split_at_mut(hs);
                        let (cand, rhv) = rest.split_at_mut(hs);
                        // gate math as whole-slice passes (vectorisable), as the LSTM's: the
                        // same operations per element as one element at a time
                        for k in 0..hs {
                            zs[k] = clip(xg[k] + rg[k]);
                            rhv[k] = clip(xg[hs + k] + rg[hs + k]);
                        }
                        act_slice(f, zs);
                        act_slice(f, rhv);
                        if op.linear_before_reset {
                            // rhv holds the reset gate r
                            for k in 0..hs {
                                let rec = rg[2 * hs + k] + rbh.map_or(0.0, |b| b[k]);
                                cand[k] = clip(xg[2 * hs + k] + rhv[k] * rec);
                            }
                            act_slice(gg, cand);
                        } else {
                            // the h gate multiplies the reset gate into H before R_h
                            for k in 0..hs {
                                rhv[k] *= hb[k];
                            }
                            let rdh = &rd[2 * hs * hs..3 * hs * hs];
                            for k in 0..hs {
                                let row = &rdh[k * hs..(k + 1) * hs];
                                let dot: f32 = row.iter().zip(rhv.iter()).map(|(a, b)| a * b).sum();
                                cand[k] =
                                    act(gg, clip(xg[2 * hs + k] + dot + rbh.map_or(0.0, |b| b[k])));
                            }
                        }
                        for k in 0..hs {
                            hb[k] = (1.0 - zs[k]) * cand[k] + zs[k] * hb[k];
                        }
                    }
                    Cell::Rnn => {
                        for k in 0..hs {
                            hb[k] = act(acts[0], clip(xg[k] + rg[k]));
                        }
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
    /// three sequences: W and R packed at load give the same outputs as the per-run path.
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
                    let ins = [Some(&x), Some(&w), Some(&r), Some(&b)];
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
}
