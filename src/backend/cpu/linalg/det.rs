//! Det: the determinant of each trailing square matrix, by LU decomposition with partial
//! pivoting in f64.

use crate::error::{Error, Result};
use crate::tensor::Tensor;

pub fn det(x: &Tensor) -> Result<Tensor> {
    let s = x.shape();
    let n = match s {
        [.., r, c] if r == c => *r,
        _ => {
            return Err(Error::shape(format!(
                "Det: X has shape {s:?}; expected [*, M, M] (square trailing matrices)"
            )))
        }
    };
    let batch = s[..s.len() - 2].to_vec();
    if n == 0 {
        // the determinant of a 0 × 0 matrix is 1
        return Tensor::from_f32(batch.clone(), vec![1.0; batch.iter().product()]);
    }
    let v = x.as_f32()?;
    let mut out = Vec::with_capacity(v.len() / (n * n));
    let mut a = vec![0f64; n * n];
    for m in v.chunks_exact(n * n) {
        a.iter_mut().zip(m).for_each(|(d, &x)| *d = x as f64);
        out.push(lu_det(&mut a, n) as f32);
    }
    Tensor::from_f32(batch, out)
}

/// The determinant of the `n × n` row-major matrix `a` (overwritten by its LU factors).
fn lu_det(a: &mut [f64], n: usize) -> f64 {
    let mut d = 1.0;
    for k in 0..n {
        let p = (k..n)
            .max_by(|&i, &j| a[i * n + k].abs().total_cmp(&a[j * n + k].abs()))
            .unwrap_or(k);
        if a[p * n + k] == 0.0 {
            return 0.0;
        }
        if p != k {
            for j in 0..n {
                a.swap(p * n + j, k * n + j);
            }
            d = -d;
        }
        let piv = a[k * n + k];
        d *= piv;
        for i in k + 1..n {
            let f = a[i * n + k] / piv;
            for j in k + 1..n {
                a[i * n + j] -= f * a[k * n + j];
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Laplace expansion along the first row: the scalar reference for small matrices.
    fn laplace(a: &[f64], n: usize) -> f64 {
        if n == 1 {
            return a[0];
        }
        (0..n)
            .map(|j| {
                let minor: Vec<f64> = (1..n)
                    .flat_map(|i| (0..n).filter(move |&c| c != j).map(move |c| (i, c)))
                    .map(|(i, c)| a[i * n + c])
                    .collect();
                let sign = if j % 2 == 0 { 1.0 } else { -1.0 };
                sign * a[j] * laplace(&minor, n - 1)
            })
            .sum()
    }

    #[test]
    fn lu_matches_laplace_expansion() {
        let mut rng = crate::testing::Rng::new(3);
        for n in 1..=5 {
            for _ in 0..4 {
                let m = rng.f32s(n * n, -2.0, 2.0);
                let a: Vec<f64> = m.iter().map(|&x| x as f64).collect();
                let want = laplace(&a, n);
                let got = det(&Tensor::from_f32(vec![n, n], m).unwrap()).unwrap();
                let got = got.as_f32().unwrap()[0] as f64;
                assert!(
                    (got - want).abs() <= 1e-5 * (1.0 + want.abs()),
                    "n={n}: {got} vs {want}"
                );
            }
        }
        // a singular matrix (two equal rows), a batch, and the shape errors
        let s = Tensor::from_f32(vec![2, 2, 2], vec![1.0, 2.0, 1.0, 2.0, 0.0, 1.0, 1.0, 0.0]);
        let d = det(&s.unwrap()).unwrap();
        assert_eq!(d.shape(), &[2]);
        assert_eq!(d.as_f32().unwrap(), &[0.0, -1.0]);
        assert!(det(&Tensor::from_f32(vec![2, 3], vec![0.0; 6]).unwrap()).is_err());
        assert!(det(&Tensor::from_f32(vec![3], vec![0.0; 3]).unwrap()).is_err());
        let empty = det(&Tensor::from_f32(vec![2, 0, 0], vec![]).unwrap()).unwrap();
        assert_eq!(empty.as_f32().unwrap(), &[1.0, 1.0]);
    }
}
