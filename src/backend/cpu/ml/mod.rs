//! Kernels of the `ai.onnx.ml` domain: tree ensembles (`tree`), linear models and SVMs
//! (`linear`), post transforms (`post`), the ops that read maps (`maps`), and the encoders and
//! feature ops here.

pub mod linear;
pub mod maps;
pub mod post;
pub mod tree;

use crate::error::{Error, Result};
use crate::ir::ops::ml::{Column, MlOp, Norm};
use crate::tensor::{numel_checked, DType, Tensor, TensorData};

pub(crate) fn input<'a>(inputs: &[Option<&'a Tensor>], i: usize, name: &str) -> Result<&'a Tensor> {
    inputs
        .get(i)
        .copied()
        .flatten()
        .ok_or_else(|| Error::shape(format!("missing input {name}")))
}

/// Rows and columns of a model input: `[C]` is one row, `[N, C, …]` is N rows.
pub(crate) fn rows_cols(x: &Tensor) -> Result<(usize, usize)> {
    if x.dtype() == DType::Str || x.dtype() == DType::Bool {
        return Err(Error::dtype(format!(
            "X must be numeric, got {}",
            x.dtype()
        )));
    }
    Ok(match x.rank() {
        0 => (1, 1),
        1 => (1, x.numel()),
        _ => {
            let n = x.shape()[0];
            (n, if n == 0 { 0 } else { x.numel() / n })
        }
    })
}

/// Numeric input as f32 (ints and doubles converted).
fn f32s(x: &Tensor) -> Result<std::borrow::Cow<'_, [f32]>> {
    match x.data() {
        TensorData::F32(v) => Ok(std::borrow::Cow::Borrowed(v)),
        TensorData::Str(_) => Err(Error::dtype("expected a numeric input, got string")),
        _ => Ok(std::borrow::Cow::Owned(
            x.to_f64_vec().into_iter().map(|v| v as f32).collect(),
        )),
    }
}

pub fn run(op: &MlOp, inputs: &[Option<&Tensor>]) -> Result<Vec<Tensor>> {
    match op {
        MlOp::Trees(e) => tree::run(e, inputs),
        MlOp::Linear(l) => linear::linear(l, input(inputs, 0, "X")?),
        MlOp::Svm(s) => linear::svm(s, input(inputs, 0, "X")?),
        MlOp::Scaler { offset, scale } => {
            let x = input(inputs, 0, "X")?;
            let (_, cols) = rows_cols(x)?;
            for (name, v) in [("offset", offset), ("scale", scale)] {
                if v.len() != 1 && v.len() != cols {
                    return Err(Error::shape(format!(
                        "Scaler: {name} has {} values for {cols} columns",
                        v.len()
                    )));
                }
            }
            let at = |v: &[f32], j: usize| if v.len() == 1 { v[0] } else { v[j] };
            let y = f32s(x)?
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    let j = if cols == 0 { 0 } else { i % cols };
                    (v - at(offset, j)) * at(scale, j)
                })
                .collect();
            Ok(vec![Tensor::from_f32(x.shape().to_vec(), y)?])
        }
        MlOp::Normalizer { norm } => {
            let x = input(inputs, 0, "X")?;
            let (rows, cols) = rows_cols(x)?;
            let mut y = f32s(x)?.into_owned();
            for r in 0..rows {
                let row = &mut y[r * cols..(r + 1) * cols];
                let d = match norm {
                    Norm::Max => row.iter().copied().fold(f32::MIN, f32::max),
                    Norm::L1 => row.iter().map(|v| v.abs()).sum(),
                    Norm::L2 => row.iter().map(|v| v * v).sum::<f32>().sqrt(),
                };
                if d != 0.0 {
                    row.iter_mut().for_each(|v| *v /= d);
                }
            }
            Ok(vec![Tensor::from_f32(x.shape().to_vec(), y)?])
        }
        MlOp::Binarizer { threshold } => {
            let x = input(inputs, 0, "X")?;
            let t = *threshold;
            let data = match x.data() {
                TensorData::F32(v) => {
                    TensorData::F32(v.iter().map(|&a| if a > t { 1.0 } else { 0.0 }).collect())
                }
                TensorData::I64(v) => {
                    TensorData::I64(v.iter().map(|&a| i64::from(a as f32 > t)).collect())
                }
                TensorData::I32(v) => {
                    TensorData::I32(v.iter().map(|&a| i32::from(a as f32 > t)).collect())
                }
                d => {
                    return Err(Error::dtype(format!(
                        "Binarizer takes numeric input, got {}",
                        d.dtype()
                    )))
                }
            };
            Ok(vec![Tensor::new(x.shape().to_vec(), data)?])
        }
        MlOp::Imputer { imputed, replaced } => {
            imputer(input(inputs, 0, "X")?, imputed, replaced).map(|t| vec![t])
        }
        MlOp::OneHotEncoder { categories, zeros } => {
            one_hot(input(inputs, 0, "X")?, categories, *zeros).map(|t| vec![t])
        }
        MlOp::LabelEncoder {
            keys,
            values,
            default,
        } => label_encode(input(inputs, 0, "X")?, keys, values, default).map(|t| vec![t]),
        MlOp::CategoryMapper {
            strings,
            ints,
            default_string,
            default_int,
        } => {
            let x = input(inputs, 0, "X")?;
            let data = match x.data() {
                TensorData::Str(v) => {
                    let map: std::collections::HashMap<&str, i64> = strings
                        .iter()
                        .map(String::as_str)
                        .zip(ints.iter().copied())
                        .collect();
                    TensorData::I64(
                        v.iter()
                            .map(|s| map.get(s.as_str()).copied().unwrap_or(*default_int))
                            .collect(),
                    )
                }
                TensorData::I64(_) | TensorData::I32(_) => {
                    let map: std::collections::HashMap<i64, &String> =
                        ints.iter().copied().zip(strings.iter()).collect();
                    TensorData::Str(
                        x.to_i64_vec()
                            .iter()
                            .map(|k| map.get(k).map_or(default_string.clone(), |s| (*s).clone()))
                            .collect(),
                    )
                }
                d => {
                    return Err(Error::dtype(format!(
                        "takes string or int64 input, got {}",
                        d.dtype()
                    )))
                }
            };
            Ok(vec![Tensor::new(x.shape().to_vec(), data)?])
        }
        MlOp::ArrayFeatureExtractor => {
            let x = input(inputs, 0, "X")?;
            let idx = input(inputs, 1, "Y")?.to_i64_vec();
            let last = *x.shape().last().unwrap_or(&1);
            let ids = idx
                .iter()
                .map(|&i| {
                    usize::try_from(i)
                        .ok()
                        .filter(|&i| i < last)
                        .ok_or_else(|| {
                            Error::shape(format!(
                                "ArrayFeatureExtractor: index {i} is outside the last axis of size {last}"
                            ))
                        })
                })
                .collect::<Result<Vec<usize>>>()?;
            let outer = if last == 0 { 0 } else { x.numel() / last };
            let mut shape = match x.rank() {
                0 | 1 => vec![1],
                _ => x.shape()[..x.rank() - 1].to_vec(),
            };
            shape.push(ids.len());
            numel_checked(&shape)?;
            let data = crate::map_moved!(x.data(), v => {
                let mut out = Vec::with_capacity(outer * ids.len());
                for o in 0..outer {
                    out.extend(ids.iter().map(|&i| v[o * last + i].clone()));
                }
                out
            });
            Ok(vec![Tensor::new(shape, data)?])
        }
        MlOp::FeatureVectorizer { dims } => {
            let ts: Vec<&Tensor> = (0..dims.len())
                .map(|i| input(inputs, i, "X"))
                .collect::<Result<_>>()?;
            let rows = ts.first().map_or(Ok(1), |t| rows_cols(t).map(|r| r.0))?;
            let total: usize = dims.iter().sum();
            let mut out = vec![0f32; numel_checked(&[rows, total])?];
            let mut at = 0;
            for (t, &d) in ts.iter().zip(dims) {
                let (r, c) = rows_cols(t)?;
                if r != rows {
                    return Err(Error::shape(format!(
                        "FeatureVectorizer: inputs have {rows} and {r} rows"
                    )));
                }
                let v = f32s(t)?;
                for i in 0..rows {
                    for j in 0..d.min(c) {
                        out[i * total + at + j] = v[i * c + j];
                    }
                }
                at += d;
            }
            Ok(vec![Tensor::from_f32(vec![rows, total], out)?])
        }
        MlOp::ZipMap { .. } => Ok(vec![input(inputs, 0, "X")?.clone()]),
        MlOp::DictVectorizer { .. } | MlOp::CastMap { .. } => Err(Error::dtype(format!(
            "{} reads a map, got a tensor (feed the model's map input as a map)",
            op.name()
        ))),
    }
}

/// Float keys compare by value, with every NaN equal to every NaN.
fn float_key(v: f32) -> u32 {
    if v.is_nan() {
        f32::NAN.to_bits()
    } else if v == 0.0 {
        0
    } else {
        v.to_bits()
    }
}

fn imputer(x: &Tensor, imputed: &Column, replaced: &Column) -> Result<Tensor> {
    let (_, cols) = rows_cols(x)?;
    if imputed.len() != 1 && imputed.len() != cols {
        return Err(Error::shape(format!(
            "Imputer: {} imputed values for {cols} columns",
            imputed.len()
        )));
    }
    let col = |i: usize| {
        if imputed.len() == 1 || cols == 0 {
            0
        } else {
            i % cols
        }
    };
    let data = match (x.data(), imputed, replaced) {
        (TensorData::F32(v), Column::F32(im), Column::F32(rep)) => {
            let r = rep[0];
            TensorData::F32(
                v.iter()
                    .enumerate()
                    .map(|(i, &a)| {
                        if a == r || (r.is_nan() && a.is_nan()) {
                            im[col(i)]
                        } else {
                            a
                        }
                    })
                    .collect(),
            )
        }
        (TensorData::I64(v), Column::I64(im), Column::I64(rep)) => TensorData::I64(
            v.iter()
                .enumerate()
                .map(|(i, &a)| if a == rep[0] { im[col(i)] } else { a })
                .collect(),
        ),
        (d, im, _) => {
            return Err(Error::dtype(format!(
                "Imputer with {} values takes {} input, got {}",
                im.dtype(),
                im.dtype(),
                d.dtype()
            )))
        }
    };
    Tensor::new(x.shape().to_vec(), data)
}

fn one_hot(x: &Tensor, cats: &Column, zeros: bool) -> Result<Tensor> {
    let k = cats.len();
    let mut shape = x.shape().to_vec();
    shape.push(k);
    let mut out = vec![0f32; numel_checked(&shape)?];
    let missing = |what: String| Error::Input {
        name: "X".into(),
        msg: format!("OneHotEncoder: {what} is not one of the categories (zeros=0)"),
    };
    match (x.data(), cats) {
        (TensorData::Str(v), Column::Str(c)) => {
            let at: std::collections::HashMap<&str, usize> =
                c.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
            for (i, s) in v.iter().enumerate() {
                match at.get(s.as_str()) {
                    Some(&j) => out[i * k + j] = 1.0,
                    None if zeros => {}
                    None => return Err(missing(format!("'{s}'"))),
                }
            }
        }
        (TensorData::Str(_), _) | (_, Column::Str(_)) => {
            return Err(Error::dtype(format!(
                "OneHotEncoder: {} categories for {} input",
                cats.dtype(),
                x.dtype()
            )))
        }
        (_, Column::I64(c)) => {
            let at: std::collections::HashMap<i64, usize> =
                c.iter().enumerate().map(|(i, &s)| (s, i)).collect();
            for (i, v) in x.to_i64_vec().into_iter().enumerate() {
                match at.get(&v) {
                    Some(&j) => out[i * k + j] = 1.0,
                    None if zeros => {}
                    None => return Err(missing(v.to_string())),
                }
            }
        }
        _ => {
            return Err(Error::dtype(
                "OneHotEncoder: categories must be int64 or strings",
            ))
        }
    }
    Tensor::from_f32(shape, out)
}

fn label_encode(x: &Tensor, keys: &Column, values: &Column, default: &Column) -> Result<Tensor> {
    use std::collections::HashMap;
    // the position of each input element's key, or None
    let pos: Vec<Option<usize>> = match (x.data(), keys) {
        (TensorData::Str(v), Column::Str(k)) => {
            let m: HashMap<&str, usize> =
                k.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
            v.iter().map(|s| m.get(s.as_str()).copied()).collect()
        }
        (TensorData::F32(v), Column::F32(k)) => {
            let m: HashMap<u32, usize> = k
                .iter()
                .enumerate()
                .map(|(i, &s)| (float_key(s), i))
                .collect();
            v.iter().map(|&s| m.get(&float_key(s)).copied()).collect()
        }
        (
            TensorData::I64(_) | TensorData::I32(_) | TensorData::I8(_) | TensorData::U8(_),
            Column::I64(k),
        ) => {
            let m: HashMap<i64, usize> = k.iter().enumerate().map(|(i, &s)| (s, i)).collect();
            x.to_i64_vec().iter().map(|s| m.get(s).copied()).collect()
        }
        (d, k) => {
            return Err(Error::dtype(format!(
                "LabelEncoder: {} keys for {} input",
                k.dtype(),
                d.dtype()
            )))
        }
    };
    let data = match (values, default) {
        (Column::Str(v), Column::Str(d)) => TensorData::Str(
            pos.iter()
                .map(|p| p.map_or(d[0].clone(), |i| v[i].clone()))
                .collect(),
        ),
        (Column::I64(v), Column::I64(d)) => {
            TensorData::I64(pos.iter().map(|p| p.map_or(d[0], |i| v[i])).collect())
        }
        (Column::F32(v), Column::F32(d)) => {
            TensorData::F32(pos.iter().map(|p| p.map_or(d[0], |i| v[i])).collect())
        }
        _ => {
            return Err(Error::dtype(
                "LabelEncoder: the default has another type than the values",
            ))
        }
    };
    Tensor::new(x.shape().to_vec(), data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn one_hot_of_strings_and_ints() {
        let x = Tensor::from_strings(vec![3], strs(&["b", "z", "a"])).unwrap();
        let y = one_hot(&x, &Column::Str(strs(&["a", "b"])), true).unwrap();
        assert_eq!(y.shape(), &[3, 2]);
        assert_eq!(y.as_f32().unwrap(), &[0.0, 1.0, 0.0, 0.0, 1.0, 0.0]);
        assert!(one_hot(&x, &Column::Str(strs(&["a", "b"])), false).is_err());
        let x = Tensor::from_f32(vec![2], vec![3.0, 1.0]).unwrap();
        let y = one_hot(&x, &Column::I64(vec![1, 3]), true).unwrap();
        assert_eq!(y.as_f32().unwrap(), &[0.0, 1.0, 1.0, 0.0]);
    }

    #[test]
    fn label_encoder_maps_with_default_and_nan_keys() {
        let x = Tensor::from_strings(vec![3], strs(&["x", "y", "q"])).unwrap();
        let y = label_encode(
            &x,
            &Column::Str(strs(&["x", "y"])),
            &Column::I64(vec![7, 8]),
            &Column::I64(vec![-1]),
        )
        .unwrap();
        assert_eq!(y.as_i64().unwrap(), &[7, 8, -1]);
        let x = Tensor::from_f32(vec![2], vec![f32::NAN, 2.0]).unwrap();
        let y = label_encode(
            &x,
            &Column::F32(vec![f32::NAN, 1.0]),
            &Column::Str(strs(&["missing", "one"])),
            &Column::Str(strs(&["?"])),
        )
        .unwrap();
        assert_eq!(y.as_str().unwrap(), &strs(&["missing", "?"])[..]);
    }

    #[test]
    fn imputer_scaler_normalizer() {
        let x = Tensor::from_f32(vec![2, 2], vec![f32::NAN, 1.0, 2.0, f32::NAN]).unwrap();
        let y = imputer(
            &x,
            &Column::F32(vec![10.0, 20.0]),
            &Column::F32(vec![f32::NAN]),
        )
        .unwrap();
        assert_eq!(y.as_f32().unwrap(), &[10.0, 1.0, 2.0, 20.0]);
        let op = MlOp::Scaler {
            offset: vec![1.0, 2.0],
            scale: vec![2.0],
        };
        let x = Tensor::from_f32(vec![1, 2], vec![3.0, 3.0]).unwrap();
        assert_eq!(
            run(&op, &[Some(&x)]).unwrap()[0].as_f32().unwrap(),
            &[4.0, 2.0]
        );
        let op = MlOp::Normalizer { norm: Norm::L1 };
        let x = Tensor::from_f32(vec![1, 2], vec![1.0, -3.0]).unwrap();
        assert_eq!(
            run(&op, &[Some(&x)]).unwrap()[0].as_f32().unwrap(),
            &[0.25, -0.75]
        );
    }

    #[test]
    fn array_feature_extractor_and_vectorizer() {
        let x = Tensor::from_f32(vec![2, 3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let i = Tensor::from_i64(vec![2], vec![2, 0]).unwrap();
        let y = run(&MlOp::ArrayFeatureExtractor, &[Some(&x), Some(&i)]).unwrap();
        assert_eq!(y[0].shape(), &[2, 2]);
        assert_eq!(y[0].as_f32().unwrap(), &[3.0, 1.0, 6.0, 4.0]);
        let bad = Tensor::from_i64(vec![1], vec![3]).unwrap();
        assert!(run(&MlOp::ArrayFeatureExtractor, &[Some(&x), Some(&bad)]).is_err());
        let a = Tensor::from_i64(vec![2, 1], vec![7, 8]).unwrap();
        let op = MlOp::FeatureVectorizer { dims: vec![1, 4] };
        let y = run(&op, &[Some(&a), Some(&x)]).unwrap();
        assert_eq!(
            y[0].as_f32().unwrap(),
            &[7.0, 1.0, 2.0, 3.0, 0.0, 8.0, 4.0, 5.0, 6.0, 0.0]
        );
    }
}
