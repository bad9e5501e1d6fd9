//! `LinearClassifier`, `LinearRegressor`, `SVMClassifier` and `SVMRegressor`, with the labels
//! and score columns ONNX Runtime gives (binary models' second column, votes for SVM labels,
//! Platt-scaled pairwise probabilities coupled as libsvm does).

use super::post::{logistic, probit, transform, write_one};
use super::{f32s, rows_cols};
use crate::error::{Error, Result};
use crate::ir::ops::ml::{Kernel, Labels, Linear, PostTransform, Svm};
use crate::tensor::{numel_checked, Tensor, TensorData};

fn check_features(op: &str, cols: usize, want: usize) -> Result<()> {
    if cols != want {
        return Err(Error::shape(format!(
            "{op}: X has {cols} features per row, the model expects {want}"
        )));
    }
    Ok(())
}

fn label_tensor(labels: &Labels, picks: &[Pick]) -> Result<Tensor> {
    let data = match labels {
        Labels::I64(l) => TensorData::I64(
            picks
                .iter()
                .map(|p| match *p {
                    Pick::Class(i) => l[i],
                    Pick::Raw(b) => i64::from(b),
                })
                .collect(),
        ),
        Labels::Str(l) => TensorData::Str(
            picks
                .iter()
                .map(|p| match *p {
                    Pick::Class(i) => l[i].clone(),
                    Pick::Raw(b) => if b { "1" } else { "0" }.to_string(),
                })
                .collect(),
        ),
    };
    Tensor::new(vec![picks.len()], data)
}

/// A predicted label: a class index, or ONNX Runtime's bare 1/0 when a one-score model does
/// not list exactly two labels.
#[derive(Clone, Copy)]
enum Pick {
    Class(usize),
    Raw(bool),
}

pub fn linear(l: &Linear, x: &Tensor) -> Result<Vec<Tensor>> {
    let (rows, cols) = rows_cols(x)?;
    let t = l.targets;
    let feats = l.coefficients.len() / t;
    check_features(
        if l.labels.is_some() {
            "LinearClassifier"
        } else {
            "LinearRegressor"
        },
        cols,
        feats,
    )?;
    let xv = f32s(x)?;
    let mut scores = vec![0f32; numel_checked(&[rows, t])?];
    for r in 0..rows {
        let row = &xv[r * cols..(r + 1) * cols];
        for j in 0..t {
            let w = &l.coefficients[j * feats..(j + 1) * feats];
            let dot: f32 = row.iter().zip(w).map(|(a, b)| a * b).sum();
            scores[r * t + j] = dot + l.intercepts[j];
        }
    }
    let Some(labels) = &l.labels else {
        if t > 1 {
            for r in 0..rows {
                transform(l.post_transform, &mut scores[r * t..(r + 1) * t]);
            }
        } else if l.post_transform == PostTransform::Probit {
            scores.iter_mut().for_each(|s| *s = probit(*s));
        }
        return Ok(vec![Tensor::from_f32(vec![rows, t], scores)?]);
    };
    let two = labels.len() == 2;
    let mut picks = Vec::with_capacity(rows);
    for r in 0..rows {
        let s = &scores[r * t..(r + 1) * t];
        picks.push(if t == 1 {
            match (two, s[0] > 0.0) {
                (true, p) => Pick::Class(usize::from(p)),
                (false, p) => Pick::Raw(p),
            }
        } else {
            let mut best = 0;
            for j in 1..t {
                if s[j] > s[best] {
                    best = j;
                }
            }
            Pick::Class(best)
        });
    }
    let add_second = t == 1 && two;
    let width = if add_second { 2 } else { t };
    let mut z = vec![0f32; rows * width];
    for r in 0..rows {
        let out = &mut z[r * width..(r + 1) * width];
        if t > 1 {
            out.copy_from_slice(&scores[r * t..(r + 1) * t]);
            transform(l.post_transform, out);
        } else if add_second {
            write_one(scores[r] as f64, l.post_transform, 1, out);
        } else {
            out[0] = if l.post_transform == PostTransform::Probit {
                probit(scores[r])
            } else {
                scores[r]
            };
        }
    }
    Ok(vec![
        label_tensor(labels, &picks)?,
        Tensor::from_f32(vec![rows, width], z)?,
    ])
}

/// The kernel of `x` with each of `vectors` (`[n, f]`), plus `c` for LINEAR.
fn kernel_row(k: Kernel, x: &[f32], vectors: &[f32], f: usize, c: f32, out: &mut [f32]) {
    for (o, v) in out.iter_mut().zip(vectors.chunks_exact(f.max(1))) {
        *o = match k {
            Kernel::Rbf { gamma } => {
                let d: f32 = x.iter().zip(v).map(|(a, b)| (a - b) * (a - b)).sum();
                (-gamma * d).exp()
            }
            Kernel::Linear => x.iter().zip(v).map(|(a, b)| a * b).sum::<f32>() + c,
            Kernel::Poly {
                gamma,
                coef0,
                degree,
            } => {
                let d: f32 = gamma * x.iter().zip(v).map(|(a, b)| a * b).sum::<f32>() + coef0;
                if degree == 2.0 {
                    d * d
                } else if degree == 3.0 {
                    d * d * d
                } else {
                    d.powf(degree)
                }
            }
            Kernel::Sigmoid { gamma, coef0 } => {
                (gamma * x.iter().zip(v).map(|(a, b)| a * b).sum::<f32>() + coef0).tanh()
            }
        };
    }
}

/// Pairwise coupling of class probabilities (Wu, Lin and Weng 2004, method 2, as libsvm does
/// it): `r[i*k + j]` is P(class i | i or j); returns the k class probabilities.
fn multiclass_probability(k: usize, r: &[f32], p: &mut [f32]) {
    let mut q = vec![0f32; k * k];
    let mut qp = vec![0f32; k];
    let eps = 0.005 / k as f32;
    for i in 0..k {
        p[i] = 1.0 / k as f32;
        for j in 0..i {
            q[i * k + i] += r[j * k + i] * r[j * k + i];
            q[i * k + j] = q[j * k + i];
        }
        for j in i + 1..k {
            q[i * k + i] += r[j * k + i] * r[j * k + i];
            q[i * k + j] = -r[j * k + i] * r[i * k + j];
        }
    }
    for _ in 0..100 {
        let mut pqp = 0f32;
        for i in 0..k {
            qp[i] = (0..k).map(|j| q[i * k + j] * p[j]).sum();
            pqp += p[i] * qp[i];
        }
        let max_err = qp.iter().map(|&v| (v - pqp).abs()).fold(0f32, f32::max);
        if max_err < eps {
            break;
        }
        for i in 0..k {
            let diff = (-qp[i] + pqp) / q[i * k + i];
            p[i] += diff;
            pqp = (pqp + diff * (diff * q[i * k + i] + 2.0 * qp[i])) / (1.0 + diff) / (1.0 + diff);
            for j in 0..k {
                qp[j] = (qp[j] + diff * q[i * k + j]) / (1.0 + diff);
                p[j] /= 1.0 + diff;
            }
        }
    }
}

pub fn svm(s: &Svm, x: &Tensor) -> Result<Vec<Tensor>> {
    let (rows, cols) = rows_cols(x)?;
    let op = if s.labels.is_some() {
        "SVMClassifier"
    } else {
        "SVMRegressor"
    };
    check_features(op, cols, s.features)?;
    let xv = f32s(x)?;
    let n_vec: usize = s.vectors_per_class.iter().sum();
    let svc = n_vec > 0;
    let Some(labels) = &s.labels else {
        // regressor: one score per row
        let mut out = vec![0f32; rows];
        let mut k = vec![0f32; n_vec.max(1)];
        for r in 0..rows {
            let row = &xv[r * cols..(r + 1) * cols];
            let v = if svc {
                kernel_row(s.kernel, row, &s.support_vectors, cols, 0.0, &mut k);
                k.iter()
                    .zip(&s.coefficients)
                    .map(|(a, b)| a * b)
                    .sum::<f32>()
                    + s.rho[0]
            } else {
                row.iter()
                    .zip(&s.coefficients)
                    .map(|(a, b)| a * b)
                    .sum::<f32>()
                    + s.rho[0]
            };
            out[r] = if s.one_class {
                if v > 0.0 {
                    1.0
                } else {
                    -1.0
                }
            } else if s.post_transform == PostTransform::Probit {
                probit(v)
            } else {
                v
            };
        }
        return Ok(vec![Tensor::from_f32(vec![rows, 1], out)?]);
    };
    let k = labels.len().max(1);
    let pairs = k * (k - 1) / 2;
    let proba = !s.prob_a.is_empty();
    let width = if svc && !proba {
        if k > 2 {
            pairs
        } else {
            2
        }
    } else {
        k
    };
    let all_positive = s.coefficients.iter().all(|&c| c >= 0.0);
    let mut z = vec![0f32; numel_checked(&[rows, width])?];
    let mut picks = Vec::with_capacity(rows);
    let starts: Vec<usize> = s
        .vectors_per_class
        .iter()
        .scan(0, |acc, &n| {
            let st = *acc;
            *acc += n;
            Some(st)
        })
        .collect();
    let mut kern = vec![0f32; n_vec.max(k)];
    let mut pair_scores = vec![0f32; pairs];
    let mut votes = vec![0i64; k];
    let mut r2 = vec![0f32; k * k];
    for r in 0..rows {
        let row = &xv[r * cols..(r + 1) * cols];
        let out = &mut z[r * width..(r + 1) * width];
        let (maxclass, max_weight);
        if svc {
            kernel_row(
                s.kernel,
                row,
                &s.support_vectors,
                cols,
                0.0,
                &mut kern[..n_vec],
            );
            votes.iter_mut().for_each(|v| *v = 0);
            let mut idx = 0;
            for i in 0..k.saturating_sub(1) {
                for j in i + 1..k {
                    let mut sum = 0f64;
                    let ci = &s.coefficients[n_vec * (j - 1)..];
                    for m in starts[i]..starts[i] + s.vectors_per_class[i] {
                        sum += (ci[m] * kern[m]) as f64;
                    }
                    let cj = &s.coefficients[n_vec * i..];
                    for m in starts[j]..starts[j] + s.vectors_per_class[j] {
                        sum += (cj[m] * kern[m]) as f64;
                    }
                    sum += s.rho[idx] as f64;
                    pair_scores[idx] = sum as f32;
                    votes[if sum > 0.0 { i } else { j }] += 1;
                    idx += 1;
                }
            }
            if proba {
                let mut idx = 0;
                for i in 0..k - 1 {
                    for j in i + 1..k {
                        let v = 1.0 - logistic(pair_scores[idx] * s.prob_a[idx] + s.prob_b[idx]);
                        let v = v.clamp(1e-7, 1.0 - 1e-7);
                        r2[i * k + j] = v;
                        r2[j * k + i] = 1.0 - v;
                        idx += 1;
                    }
                }
                multiclass_probability(k, &r2, out);
            } else if k > 2 {
                out.copy_from_slice(&pair_scores);
            } else {
                out[0] = pair_scores[0];
            }
            let mut best = 0;
            for c in 1..k {
                if votes[c] > votes[best] {
                    best = c;
                }
            }
            maxclass = best;
            max_weight = 0.0;
        } else {
            kernel_row(
                Kernel::Linear,
                row,
                &s.coefficients,
                cols,
                s.rho[0],
                &mut kern[..k],
            );
            out[..k].copy_from_slice(&kern[..k]);
            let mut best = 0;
            for c in 1..k {
                if out[c] > out[best] {
                    best = c;
                }
            }
            maxclass = best;
            max_weight = out[best];
        }
        picks.push(if pairs == 1 {
            if labels.len() == 2 {
                if !proba
                    && ((all_positive && max_weight >= 0.5) || (max_weight > 0.0 && !all_positive))
                {
                    Pick::Class(1)
                } else {
                    Pick::Class(maxclass)
                }
            } else {
                Pick::Raw(max_weight > 0.0)
            }
        } else {
            Pick::Class(maxclass)
        });
        // the score columns
        let n_scores = if svc && !proba { pairs } else { k };
        if n_scores > 1 {
            transform(s.post_transform, &mut out[..n_scores]);
        } else if svc && !proba && k <= 2 {
            let add = if s.post_transform == PostTransform::None {
                2
            } else {
                0
            };
            let v = out[0];
            write_one(v as f64, s.post_transform, add, out);
        } else if s.post_transform == PostTransform::Probit {
            out[0] = probit(out[0]);
        }
    }
    Ok(vec![
        label_tensor(labels, &picks)?,
        Tensor::from_f32(vec![rows, width], z)?,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_classifier_scores_and_labels() {
        let l = Linear {
            coefficients: vec![1.0, 0.0, 0.0, 1.0, -1.0, -1.0],
            intercepts: vec![0.0, 0.5, 0.0],
            targets: 3,
            post_transform: PostTransform::Softmax,
            labels: Some(Labels::I64(vec![10, 20, 30])),
        };
        let x = Tensor::from_f32(vec![2, 2], vec![2.0, 1.0, -1.0, -2.0]).unwrap();
        let y = linear(&l, &x).unwrap();
        assert_eq!(y[0].as_i64().unwrap(), &[10, 30]);
        let z = y[1].as_f32().unwrap();
        let raw = [2.0f64, 1.5, -3.0];
        let e: Vec<f64> = raw.iter().map(|v| v.exp()).collect();
        let sum: f64 = e.iter().sum();
        for j in 0..3 {
            assert!((z[j] as f64 - e[j] / sum).abs() < 1e-6);
        }
        assert!(linear(&l, &Tensor::from_f32(vec![1, 3], vec![0.0; 3]).unwrap()).is_err());
    }

    #[test]
    fn coupling_of_consistent_pairs_recovers_the_probabilities() {
        // pairwise probabilities made from p = [0.5, 0.3, 0.2]
        let p = [0.5f32, 0.3, 0.2];
        let mut r = vec![0f32; 9];
        for i in 0..3 {
            for j in 0..3 {
                if i != j {
                    r[i * 3 + j] = p[i] / (p[i] + p[j]);
                }
            }
        }
        let mut out = [0f32; 3];
        multiclass_probability(3, &r, &mut out);
        for i in 0..3 {
            assert!((out[i] - p[i]).abs() < 1e-2, "{out:?}");
        }
    }
}
