//! CPU kernels of the loss family. Sums are accumulated in f64.

use super::util::{input, opt_input};
use crate::error::{Error, Result};
use crate::ir::ops::loss::{LossOp, Reduction};
use crate::tensor::{DType, Tensor};

pub fn run(op: &LossOp, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    let x = input(inputs, 0, "input")?;
    let target = input(inputs, 1, "target")?;
    let weight = opt_input(inputs, 2);
    match op {
        LossOp::NegativeLogLikelihood {
            reduction,
            ignore_index,
        } => {
            let logp = x.as_f32()?;
            Ok(vec![nll(
                logp,
                x.shape(),
                target,
                weight,
                *reduction,
                *ignore_index,
            )?])
        }
        LossOp::SoftmaxCrossEntropy {
            reduction,
            ignore_index,
        } => {
            let logp = log_softmax_axis1(x.as_f32()?, x.shape())?;
            let loss = nll(&logp, x.shape(), target, weight, *reduction, *ignore_index)?;
            Ok(vec![loss, Tensor::from_f32(x.shape().to_vec(), logp)?])
        }
    }
}

/// Log-softmax over axis 1 of an `[N, C, d…]` tensor.
fn log_softmax_axis1(x: &[f32], shape: &[usize]) -> Result<Vec<f32>> {
    if shape.len() < 2 {
        return Err(Error::shape(format!(
            "scores must have shape [N, C, d1…], got {shape:?}"
        )));
    }
    let (n, c) = (shape[0], shape[1]);
    let d: usize = shape[2..].iter().product();
    let mut out = vec![0.0f32; x.len()];
    for i in 0..n {
        for k in 0..d {
            let at = |j: usize| (i * c + j) * d + k;
            let m = (0..c).map(|j| x[at(j)]).fold(f32::NEG_INFINITY, f32::max);
            let s: f64 = (0..c).map(|j| ((x[at(j)] - m) as f64).exp()).sum();
            let ls = s.ln() as f32;
            for j in 0..c {
                out[at(j)] = x[at(j)] - m - ls;
            }
        }
    }
    Ok(out)
}

/// `loss[n, d] = -w[t]·logp[n, t, d]` with `t = target[n, d]`; ignored targets weigh 0.
fn nll(
    logp: &[f32],
    shape: &[usize],
    target: &Tensor,
    weight: Option<&Tensor>,
    reduction: Reduction,
    ignore_index: Option<i64>,
) -> Result<Tensor> {
    if shape.len() < 2 {
        return Err(Error::shape(format!(
            "input must have shape [N, C, d1…], got {shape:?}"
        )));
    }
    let (n, c) = (shape[0], shape[1]);
    let mut want = vec![n];
    want.extend_from_slice(&shape[2..]);
    if target.shape() != want.as_slice() {
        return Err(Error::shape(format!(
            "target has shape {:?}; for input {shape:?} it must be {want:?}",
            target.shape()
        )));
    }
    if target.dtype().is_float() || target.dtype() == DType::Bool {
        return Err(Error::dtype(format!(
            "target must be int32 or int64, got {}",
            target.dtype()
        )));
    }
    let w = match weight {
        Some(w) => {
            if w.shape() != [c] {
                return Err(Error::shape(format!(
                    "weight has shape {:?}, expected [{c}]",
                    w.shape()
                )));
            }
            Some(w.as_f32()?)
        }
        None => None,
    };
    let d: usize = shape[2..].iter().product();
    let t = target.to_i64_vec();
    let mut loss = vec![0.0f32; n * d];
    let (mut total, mut wsum) = (0.0f64, 0.0f64);
    for i in 0..n {
        for k in 0..d {
            let ti = t[i * d + k];
            if Some(ti) == ignore_index {
                continue;
            }
            if ti < 0 || ti as usize >= c {
                return Err(Error::shape(format!(
                    "target value {ti} is out of range [0, {c}) (and is not ignore_index)"
                )));
            }
            let wt = w.map_or(1.0, |w| w[ti as usize]);
            let l = -wt * logp[(i * c + ti as usize) * d + k];
            loss[i * d + k] = l;
            total += l as f64;
            wsum += wt as f64;
        }
    }
    Ok(match reduction {
        Reduction::None => Tensor::from_f32(want, loss)?,
        Reduction::Sum => Tensor::scalar_f32(total as f32),
        Reduction::Mean => Tensor::scalar_f32((total / wsum) as f32),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scalar reference of the formulas in the ONNX operator documents.
    fn reference(x: &[f64], n: usize, c: usize, t: &[i64], w: &[f64], ii: i64, mean: bool) -> f64 {
        let (mut s, mut ws) = (0.0, 0.0);
        for i in 0..n {
            if t[i] == ii {
                continue;
            }
            let j = t[i] as usize;
            s -= w[j] * x[i * c + j];
            ws += w[j];
        }
        if mean {
            s / ws
        } else {
            s
        }
    }

    #[test]
    fn nll_and_cross_entropy_match_a_scalar_reference() {
        let (n, c) = (5, 4);
        let mut rng = crate::testing::Rng::new(7);
        let x: Vec<f32> = (0..n * c).map(|_| rng.normal() as f32).collect();
        let t: Vec<i64> = vec![0, 3, 1, 3, 2];
        let w = [0.5f32, 1.0, 2.0, 0.25];
        let xt = Tensor::from_f32(vec![n, c], x.clone()).unwrap();
        let tt = Tensor::from_i64(vec![n], t.clone()).unwrap();
        let wt = Tensor::from_f32(vec![c], w.to_vec()).unwrap();
        let w64: Vec<f64> = w.iter().map(|&v| v as f64).collect();
        for (reduction, mean) in [(Reduction::Mean, true), (Reduction::Sum, false)] {
            let op = LossOp::NegativeLogLikelihood {
                reduction,
                ignore_index: Some(3),
            };
            let got = run(&op, &[Some(&xt), Some(&tt), Some(&wt)]).unwrap();
            let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
            let want = reference(&x64, n, c, &t, &w64, 3, mean);
            assert!((got[0].as_f32().unwrap()[0] as f64 - want).abs() < 1e-5);
            // cross entropy = NLL of the log-softmax
            let op = LossOp::SoftmaxCrossEntropy {
                reduction,
                ignore_index: Some(3),
            };
            let got = run(&op, &[Some(&xt), Some(&tt), Some(&wt)]).unwrap();
            let mut lsm = vec![0.0f64; n * c];
            for i in 0..n {
                let row = &x64[i * c..(i + 1) * c];
                let lse = row.iter().map(|v| v.exp()).sum::<f64>().ln();
                for j in 0..c {
                    lsm[i * c + j] = row[j] - lse;
                }
            }
            let want = reference(&lsm, n, c, &t, &w64, 3, mean);
            assert!((got[0].as_f32().unwrap()[0] as f64 - want).abs() < 1e-5);
            for (g, e) in got[1].as_f32().unwrap().iter().zip(&lsm) {
                assert!((*g as f64 - e).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn out_of_range_target_is_an_error() {
        let x = Tensor::from_f32(vec![1, 2], vec![0.0, 0.0]).unwrap();
        let t = Tensor::from_i64(vec![1], vec![5]).unwrap();
        let op = LossOp::NegativeLogLikelihood {
            reduction: Reduction::None,
            ignore_index: None,
        };
        let e = run(&op, &[Some(&x), Some(&t)]).unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
    }
}
