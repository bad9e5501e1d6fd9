//! CPU kernels of the signal family: a direct DFT in f64 (twiddles from one table per length),
//! the STFT over it, and the window generators.

use super::util::{input, opt_input};
use crate::error::{Error, Result};
use crate::ir::ops::signal::{SignalOp, Window};
use crate::tensor::{numel_checked, DType, Tensor, TensorData};
use std::f64::consts::PI;

pub fn run(op: &SignalOp, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    let x = input(inputs, 0, "input")?;
    let scalar = |i: usize, what: &str| -> Result<Option<i64>> {
        match opt_input(inputs, i).filter(|t| t.numel() > 0) {
            None => Ok(None),
            Some(t) if t.numel() == 1 => Ok(Some(t.to_i64_vec()[0])),
            Some(t) => Err(Error::shape(format!(
                "{what} must be a scalar, got shape {:?}",
                t.shape()
            ))),
        }
    };
    Ok(vec![match op {
        SignalOp::Dft {
            axis,
            inverse,
            onesided,
        } => {
            let axis = match axis {
                Some(a) => *a,
                None => scalar(2, "axis")?.unwrap_or(-2),
            };
            dft(x, scalar(1, "dft_length")?, axis, *inverse, *onesided)?
        }
        SignalOp::Stft { onesided } => stft(
            x,
            scalar(1, "frame_step")?.ok_or_else(|| Error::shape("STFT: missing frame_step"))?,
            opt_input(inputs, 2).filter(|t| t.numel() > 0),
            scalar(3, "frame_length")?,
            *onesided,
        )?,
        SignalOp::Window {
            kind,
            periodic,
            dtype,
        } => {
            let n = scalar(0, "size")?.ok_or_else(|| Error::shape("window: missing size"))?;
            window(*kind, n, *periodic, *dtype)?
        }
    }])
}

/// `X[k] = Σ x[n]·e^(∓2πi·kn/N)` of one complex line (`re`, `im` of length `n_in`, zero-padded
/// or cut to `n`), for the first `bins` outputs.
fn dft_line(
    re: &[f64],
    im: &[f64],
    n: usize,
    bins: usize,
    inverse: bool,
    tw: &[(f64, f64)],
) -> Vec<(f64, f64)> {
    let sign = if inverse { 1.0 } else { -1.0 };
    let m = re.len().min(n);
    (0..bins)
        .map(|k| {
            let (mut sr, mut si) = (0.0, 0.0);
            for j in 0..m {
                let (c, s) = tw[(k * j) % n];
                let s = sign * s;
                sr += re[j] * c - im[j] * s;
                si += re[j] * s + im[j] * c;
            }
            if inverse {
                (sr / n as f64, si / n as f64)
            } else {
                (sr, si)
            }
        })
        .collect()
}

fn twiddles(n: usize) -> Vec<(f64, f64)> {
    (0..n)
        .map(|j| {
            let a = 2.0 * PI * j as f64 / n as f64;
            (a.cos(), a.sin())
        })
        .collect()
}

fn dft(x: &Tensor, len: Option<i64>, axis: i64, inverse: bool, onesided: bool) -> Result<Tensor> {
    let r = x.rank();
    let last = *x.shape().last().unwrap_or(&0);
    if r < 2 || !(last == 1 || last == 2) {
        return Err(Error::shape(format!(
            "DFT: input must be [..., 1] (real) or [..., 2] (complex), got {:?}",
            x.shape()
        )));
    }
    let ax = if axis < 0 { axis + r as i64 } else { axis };
    if ax < 0 || ax as usize >= r - 1 {
        return Err(Error::shape(format!(
            "DFT: axis {axis} is out of range for input rank {r} (the last axis holds re/im)"
        )));
    }
    let ax = ax as usize;
    let sh = x.shape();
    let n_in = sh[ax];
    // IRFFT (opset 20 text): a one-sided complex spectrum in, the real signal out
    let irfft = inverse && onesided;
    if irfft && last != 2 {
        return Err(Error::shape(
            "DFT: the inverse one-sided DFT takes complex input",
        ));
    }
    let n = match len {
        Some(l) if l <= 0 => {
            return Err(Error::shape(format!(
                "DFT: dft_length {l} must be positive"
            )))
        }
        Some(l) => l as usize,
        None if irfft => 2 * n_in.saturating_sub(1),
        None => n_in,
    };
    if n == 0 {
        return Err(Error::shape("DFT: the transform length is 0"));
    }
    let (bins, out_last) = match (onesided, irfft) {
        (_, true) => (n, 1),
        (true, false) => (n / 2 + 1, 2),
        (false, false) => (n, 2),
    };
    let outer: usize = sh[..ax].iter().product();
    let inner: usize = sh[ax + 1..r - 1].iter().product();
    let mut out_shape = sh.to_vec();
    out_shape[ax] = bins;
    out_shape[r - 1] = out_last;
    numel_checked(&out_shape)?;
    let v = x.to_f64_vec();
    let tw = twiddles(n);
    let mut out = vec![0.0f64; outer * bins * inner * out_last];
    let line_len = if irfft { n } else { n_in };
    let (mut re, mut im) = (vec![0.0; line_len], vec![0.0; line_len]);
    for o in 0..outer {
        for i in 0..inner {
            let at = |j: usize| ((o * n_in + j) * inner + i) * last;
            if irfft {
                // the full spectrum from its half: X[n-k] = conj(X[k]); as numpy's irfft, the
                // imaginary parts of X[0] and (even n) X[n/2] are not used
                let half = n / 2 + 1;
                for k in 0..half {
                    let (a, b) = if k < n_in {
                        (v[at(k)], v[at(k) + 1])
                    } else {
                        (0.0, 0.0)
                    };
                    let b = if k == 0 || 2 * k == n { 0.0 } else { b };
                    re[k] = a;
                    im[k] = b;
                    if k > 0 && k < n - k {
                        re[n - k] = a;
                        im[n - k] = -b;
                    }
                }
            } else {
                for j in 0..n_in {
                    re[j] = v[at(j)];
                    im[j] = if last == 2 { v[at(j) + 1] } else { 0.0 };
                }
            }
            for (k, (a, b)) in dft_line(&re, &im, n, bins, inverse, &tw)
                .into_iter()
                .enumerate()
            {
                let at = ((o * bins + k) * inner + i) * out_last;
                out[at] = a;
                if out_last == 2 {
                    out[at + 1] = b;
                }
            }
        }
    }
    Tensor::from_f32(out_shape, out.into_iter().map(|v| v as f32).collect())
}

fn stft(
    x: &Tensor,
    step: i64,
    window: Option<&Tensor>,
    frame_length: Option<i64>,
    onesided: bool,
) -> Result<Tensor> {
    let sh = x.shape();
    if sh.len() != 3 || !(sh[2] == 1 || sh[2] == 2) {
        return Err(Error::shape(format!(
            "STFT: signal must be [batch, length, 1|2], got {sh:?}"
        )));
    }
    let (b, len, last) = (sh[0], sh[1], sh[2]);
    let w = window.map(|t| t.to_f64_vec());
    let fl = match (frame_length, &w) {
        (Some(f), Some(w)) if f as usize != w.len() => {
            return Err(Error::shape(format!(
                "STFT: frame_length {f} differs from the window's length {}",
                w.len()
            )))
        }
        (Some(f), _) => f,
        (None, Some(w)) => w.len() as i64,
        (None, None) => return Err(Error::shape("STFT: needs a window or a frame_length")),
    };
    if fl <= 0 || fl as usize > len || step <= 0 {
        return Err(Error::shape(format!(
            "STFT: frame_length {fl} and frame_step {step} for a signal of {len}"
        )));
    }
    let fl = fl as usize;
    let frames = (len - fl) / step as usize + 1;
    let bins = if onesided { fl / 2 + 1 } else { fl };
    let shape = vec![b, frames, bins, 2];
    numel_checked(&shape)?;
    let v = x.to_f64_vec();
    let tw = twiddles(fl);
    let mut out = Vec::with_capacity(b * frames * bins * 2);
    let (mut re, mut im) = (vec![0.0; fl], vec![0.0; fl]);
    for bi in 0..b {
        for f in 0..frames {
            for j in 0..fl {
                let at = (bi * len + f * step as usize + j) * last;
                let wj = w.as_ref().map_or(1.0, |w| w[j]);
                re[j] = v[at] * wj;
                im[j] = if last == 2 { v[at + 1] * wj } else { 0.0 };
            }
            for (a, c) in dft_line(&re, &im, fl, bins, false, &tw) {
                out.push(a as f32);
                out.push(c as f32);
            }
        }
    }
    Tensor::from_f32(shape, out)
}

fn window(kind: Window, size: i64, periodic: bool, dtype: DType) -> Result<Tensor> {
    if size < 0 || size as usize > crate::tensor::MAX_ELEMENTS {
        return Err(Error::shape(format!("window size {size} is out of range")));
    }
    let n = size as usize;
    let denom = if periodic { n as f64 } else { n as f64 - 1.0 };
    let (a0, a1, a2) = match kind {
        Window::Hann => (0.5, 0.5, 0.0),
        Window::Hamming => (25.0 / 46.0, 21.0 / 46.0, 0.0),
        Window::Blackman => (0.42, 0.5, 0.08),
    };
    let v: Vec<f64> = (0..n)
        .map(|i| {
            let t = 2.0 * PI * i as f64 / denom;
            a0 - a1 * t.cos() + a2 * (2.0 * t).cos()
        })
        .collect();
    let data = match dtype {
        DType::F32 => TensorData::F32(v.iter().map(|&x| x as f32).collect()),
        DType::I64 => TensorData::I64(v.iter().map(|&x| x as i64).collect()),
        DType::I32 => TensorData::I32(v.iter().map(|&x| x as i32).collect()),
        DType::I8 => TensorData::I8(v.iter().map(|&x| x as i8).collect()),
        DType::U8 => TensorData::U8(v.iter().map(|&x| x as u8).collect()),
        d => return Err(Error::dtype(format!("window output dtype {d}"))),
    };
    Tensor::new(vec![n], data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dft_of_an_impulse_is_flat_and_inverse_round_trips() {
        let mut x = vec![0.0f32; 8];
        x[0] = 1.0;
        let t = Tensor::from_f32(vec![1, 8, 1], x).unwrap();
        let y = dft(&t, None, 1, false, false).unwrap();
        for k in 0..8 {
            assert!((y.as_f32().unwrap()[2 * k] - 1.0).abs() < 1e-6);
            assert!(y.as_f32().unwrap()[2 * k + 1].abs() < 1e-6);
        }
        let mut rng = crate::testing::Rng::new(9);
        let z = rng.tensor(&[2, 5, 2], -1.0, 1.0);
        let f = dft(&z, None, 1, false, false).unwrap();
        let back = dft(&f, None, 1, true, false).unwrap();
        for (a, b) in back.as_f32().unwrap().iter().zip(z.as_f32().unwrap()) {
            assert!((a - b).abs() < 1e-5);
        }
        // a cosine of frequency 1 over 4 samples: energy in bins 1 and 3
        let c = Tensor::from_f32(vec![1, 4, 1], vec![1.0, 0.0, -1.0, 0.0]).unwrap();
        let f = dft(&c, None, 1, false, true).unwrap();
        assert_eq!(f.shape(), &[1, 3, 2]);
        assert!((f.as_f32().unwrap()[2] - 2.0).abs() < 1e-6);
    }

    #[test]
    fn windows_match_their_formulas() {
        let h = window(Window::Hann, 4, true, DType::F32).unwrap();
        let want = [0.0, 0.5, 1.0, 0.5];
        for (a, b) in h.as_f32().unwrap().iter().zip(want) {
            assert!((a - b).abs() < 1e-6);
        }
        let b = window(Window::Blackman, 3, false, DType::F32).unwrap();
        assert!((b.as_f32().unwrap()[1] - 1.0).abs() < 1e-6);
    }
}
