//! Post transforms of the `ai.onnx.ml` scores, computed as ONNX Runtime computes them (in f32,
//! its logistic and its approximate inverse error function for PROBIT), so that probabilities
//! agree to float rounding.

use crate::ir::ops::ml::PostTransform;

pub fn logistic(x: f32) -> f32 {
    let v = 1.0 / (1.0 + (-x.abs()).exp());
    if x < 0.0 {
        1.0 - v
    } else {
        v
    }
}

/// Winitzki's approximation of erf⁻¹ (a = 0.147), which ONNX Runtime uses for PROBIT.
fn erf_inv(x: f32) -> f32 {
    let sgn = if x < 0.0 { -1.0 } else { 1.0 };
    let x = (1.0 - x) * (1.0 + x);
    let ln = x.ln();
    let v = 2.0 / (std::f32::consts::PI * 0.147) + 0.5 * ln;
    let v2 = 1.0 / 0.147 * ln;
    sgn * (-v + (v * v - v2).sqrt()).sqrt()
}

pub fn probit(x: f32) -> f32 {
    std::f32::consts::SQRT_2 * erf_inv(2.0 * x - 1.0)
}

fn softmax(v: &mut [f32]) {
    let m = v.iter().copied().fold(-f32::MAX, f32::max);
    let mut sum = 0.0f32;
    for x in v.iter_mut() {
        *x = (*x - m).exp();
        sum += *x;
    }
    for x in v.iter_mut() {
        *x /= sum;
    }
}

/// Softmax that leaves (near-)zero scores at (near-)zero.
fn softmax_zero(v: &mut [f32]) {
    let m = v.iter().copied().fold(-f32::MAX, f32::max);
    let e = (-m).exp();
    let mut sum = 0.0f32;
    for x in v.iter_mut() {
        if x.abs() > 1e-7 {
            *x = (*x - m).exp();
            sum += *x;
        } else {
            *x *= e;
        }
    }
    for x in v.iter_mut() {
        *x /= sum;
    }
}

/// Applies `post` to a row of two or more scores in place.
pub fn transform(post: PostTransform, v: &mut [f32]) {
    match post {
        PostTransform::None => {}
        PostTransform::Logistic => v.iter_mut().for_each(|x| *x = logistic(*x)),
        PostTransform::Probit => v.iter_mut().for_each(|x| *x = probit(*x)),
        PostTransform::Softmax => softmax(v),
        PostTransform::SoftmaxZero => softmax_zero(v),
    }
}

/// Writes a row of scores to `out` after `post`; a single score of a two-class model becomes
/// two columns by `add_second` ([`write_one`]).
pub fn write_scores(row: &[f64], post: PostTransform, add_second: i32, out: &mut [f32]) {
    if row.len() == 1 {
        return write_one(row[0], post, add_second, out);
    }
    for (o, &v) in out.iter_mut().zip(row) {
        *o = v as f32;
    }
    transform(post, &mut out[..row.len()]);
}

/// One score of a two-class model written as ONNX Runtime writes it: `add_second` 0 or 1
/// (all weights positive) gives `[1 - s, s]`; 2 or 3 (mixed weights) gives `[-s, s]`, or
/// `[σ(-s), σ(s)]` under LOGISTIC; PROBIT (or no second class, -1) writes the one score.
pub fn write_one(s: f64, post: PostTransform, add_second: i32, out: &mut [f32]) {
    let s = s as f32;
    if post == PostTransform::Probit {
        out[0] = probit(s);
        return;
    }
    match add_second {
        0 | 1 => {
            out[0] = 1.0 - s;
            out[1] = s;
        }
        2 | 3 if post == PostTransform::Logistic => {
            out[0] = logistic(-s);
            out[1] = logistic(s);
        }
        2 | 3 => {
            out[0] = -s;
            out[1] = s;
        }
        _ => out[0] = s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transforms_match_their_formulas() {
        for x in [-30.0f32, -2.0, 0.0, 0.3, 5.0] {
            let want = 1.0 / (1.0 + (-(x as f64)).exp());
            assert!((logistic(x) as f64 - want).abs() < 1e-6, "{x}");
        }
        // probit is the inverse of the normal CDF, to the approximation's ~2e-3
        for (p, z) in [(0.5f32, 0.0f32), (0.8413447, 1.0), (0.02275, -2.0)] {
            assert!((probit(p) - z).abs() < 5e-3, "{p}: {}", probit(p));
        }
        let mut v = [1.0f32, 2.0, 3.0];
        transform(PostTransform::Softmax, &mut v);
        let e: Vec<f64> = [1.0f64, 2.0, 3.0].iter().map(|x| x.exp()).collect();
        let s: f64 = e.iter().sum();
        for (a, b) in v.iter().zip(&e) {
            assert!((*a as f64 - b / s).abs() < 1e-6);
        }
        let mut v = [0.0f32, 2.0];
        transform(PostTransform::SoftmaxZero, &mut v);
        assert_eq!(v, [0.0, 1.0]);
        let mut out = [0f32; 2];
        write_one(0.25, PostTransform::None, 0, &mut out);
        assert_eq!(out, [0.75, 0.25]);
        write_one(0.25, PostTransform::Logistic, 2, &mut out);
        assert!((out[0] + out[1] - 1.0).abs() < 1e-6 && out[1] > 0.5);
    }
}
