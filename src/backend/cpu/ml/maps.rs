//! The `ai.onnx.ml` ops that read a map: `DictVectorizer` and `CastMap`. Their input is a
//! [`Value::Map`] (keys and a 1-D tensor of values); the executor hands it over as a value.

use crate::error::{Error, Result};
use crate::ir::ops::ml::{Labels, MlOp};
use crate::tensor::{DType, Tensor, TensorData};
use crate::value::{Map, MapKeys, Value};

/// Runs a map-reading op on its first input.
pub fn run(op: &MlOp, x: Option<&Value>) -> Result<Vec<Tensor>> {
    let map = match x {
        Some(Value::Map(m)) => m,
        Some(Value::Tensor(_)) => {
            return Err(Error::dtype(format!(
                "{} reads a map, got a tensor (feed the model's map input as a map)",
                op.name()
            )))
        }
        Some(v) => {
            return Err(Error::dtype(format!(
                "{} reads a map, got a {}",
                op.name(),
                v.kind()
            )))
        }
        None => return Err(Error::shape(format!("{}: missing input X", op.name()))),
    };
    match op {
        MlOp::DictVectorizer { vocabulary } => dict_vectorizer(vocabulary, map).map(|t| vec![t]),
        MlOp::CastMap { to, dense, max_map } => {
            cast_map(map, *to, *dense, *max_map).map(|t| vec![t])
        }
        o => Err(Error::unsupported(format!(
            "{} does not read a map",
            o.name()
        ))),
    }
}

/// `[1, V]`: element `j` is the map's value at `vocabulary[j]`, or the dtype's zero (`""` for
/// strings) when the map has no such key, as onnxruntime writes it.
pub fn dict_vectorizer(vocabulary: &Labels, map: &Map) -> Result<Tensor> {
    use std::collections::HashMap;
    // (map position, output position) for every vocabulary entry the map has
    let (picks, unique): (Vec<(usize, usize)>, bool) = match (vocabulary, map.keys()) {
        (Labels::Str(v), MapKeys::Str(k)) => {
            let at: HashMap<&str, usize> =
                k.iter().enumerate().map(|(i, s)| (s.as_str(), i)).collect();
            let picks = v.iter().enumerate();
            let picks = picks.filter_map(|(j, s)| at.get(s.as_str()).map(|&i| (i, j)));
            (picks.collect(), at.len() == k.len())
        }
        (Labels::I64(v), MapKeys::I64(k)) => {
            let at: HashMap<i64, usize> = k.iter().enumerate().map(|(i, &s)| (s, i)).collect();
            let picks = v.iter().enumerate();
            let picks = picks.filter_map(|(j, s)| at.get(s).map(|&i| (i, j)));
            (picks.collect(), at.len() == k.len())
        }
        (v, k) => {
            return Err(Error::dtype(format!(
                "DictVectorizer: its vocabulary has {} keys, the map {} keys",
                v.dtype(),
                key_dtype(k)
            )))
        }
    };
    if !unique {
        return Err(Error::shape(format!(
            "DictVectorizer: the map gives key '{}' twice",
            repeated(map.keys())
        )));
    }
    let data = scatter(map.values().data(), &picks, vocabulary.len())?;
    Tensor::new(vec![1, vocabulary.len()], data)
}

fn key_dtype(k: &MapKeys) -> DType {
    match k {
        MapKeys::I64(_) => DType::I64,
        MapKeys::Str(_) => DType::Str,
    }
}

/// The first key that occurs twice, for an error message (quadratic: only on that path).
fn repeated(k: &MapKeys) -> String {
    fn first<T: PartialEq + ToString>(v: &[T]) -> String {
        (0..v.len())
            .find(|&i| v[..i].contains(&v[i]))
            .map_or(String::new(), |i| v[i].to_string())
    }
    match k {
        MapKeys::I64(v) => first(v),
        MapKeys::Str(v) => first(v),
    }
}

/// `n` zeros with `out[j] = values[i]` for each `(i, j)` in `picks` (values in a compute dtype:
/// the session converted them).
fn scatter(values: &TensorData, picks: &[(usize, usize)], n: usize) -> Result<TensorData> {
    macro_rules! each {
        ($($v:ident),*) => {
            match values {
                $(TensorData::$v(src) => {
                    let mut out = vec![Default::default(); n];
                    for &(i, j) in picks {
                        out[j] = src[i].clone();
                    }
                    Ok(TensorData::$v(out))
                })*
                d => Err(Error::dtype(format!("DictVectorizer: map values of {}", d.dtype()))),
            }
        };
    }
    each!(F32, I64, I32, I8, U8, Bool, Str)
}

/// CastMap: the map's values (int64 keys) cast to `to`, as a `[1, n]` tensor. `dense`: in
/// ascending key order (n = the map's size). Sparse: element `i` is the value at key `i` for
/// `i < max_map` and a pad where the map has no such key (0; for strings `"0.f"`, the pad
/// onnxruntime writes); keys past `max_map` are left out and a negative key is an error.
/// Casts as onnxruntime makes them: numbers to int64 truncate, numbers to strings are written
/// with six decimals (`1.500000`), a string to int64 is the integer it starts with (`"12.7"`:
/// 12), a string to float must be a number.
pub fn cast_map(map: &Map, to: DType, dense: bool, max_map: usize) -> Result<Tensor> {
    let MapKeys::I64(keys) = map.keys() else {
        return Err(Error::dtype(
            "CastMap: the map must have int64 keys, got string keys",
        ));
    };
    let at: std::collections::HashMap<i64, usize> =
        keys.iter().enumerate().map(|(i, &s)| (s, i)).collect();
    if at.len() != keys.len() {
        return Err(Error::shape(format!(
            "CastMap: the map gives key {} twice",
            repeated(map.keys())
        )));
    }
    // output position → map position
    let slots: Vec<Option<usize>> = if dense {
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        sorted.iter().map(|k| at.get(k).copied()).collect()
    } else {
        if let Some(k) = keys.iter().copied().filter(|&k| k < 0).min() {
            return Err(Error::shape(format!(
                "CastMap: a SPARSE map's keys are output positions and must be >= 0, got {k}"
            )));
        }
        let mut s = vec![None; max_map];
        for (i, &k) in keys.iter().enumerate() {
            if let Some(slot) = s.get_mut(k as usize) {
                *slot = Some(i);
            }
        }
        s
    };
    let values = map.values();
    let data = match to {
        DType::Str => {
            let strs = value_strings(values)?;
            TensorData::Str(
                slots
                    .iter()
                    .map(|s| s.map_or_else(|| "0.f".to_string(), |i| strs[i].clone()))
                    .collect(),
            )
        }
        DType::I64 if values.dtype() == DType::I64 => {
            let v = values.as_i64()?;
            TensorData::I64(slots.iter().map(|s| s.map_or(0, |i| v[i])).collect())
        }
        DType::I64 if values.dtype() == DType::Str => {
            let v = values.as_str()?;
            let ints = v
                .iter()
                .zip(keys)
                .map(|(s, k)| {
                    leading_int(s).ok_or_else(|| {
                        Error::dtype(format!(
                            "CastMap: the value at key {k} ('{s}') is not an integer"
                        ))
                    })
                })
                .collect::<Result<Vec<i64>>>()?;
            TensorData::I64(slots.iter().map(|s| s.map_or(0, |i| ints[i])).collect())
        }
        DType::F32 | DType::I64 => {
            let nums = value_numbers(values, keys)?;
            let at = |s: &Option<usize>| s.map_or(0.0, |i| nums[i]);
            if to == DType::F32 {
                TensorData::F32(slots.iter().map(|s| at(s) as f32).collect())
            } else {
                TensorData::I64(slots.iter().map(|s| at(s) as i64).collect())
            }
        }
        d => return Err(Error::dtype(format!("CastMap: cannot cast to {d}"))),
    };
    Tensor::new(vec![1, slots.len()], data)
}

/// The values as strings: strings as they are, numbers with six decimals as C's `%f` writes
/// them (what onnxruntime's `std::to_string` gives).
fn value_strings(values: &Tensor) -> Result<Vec<String>> {
    Ok(match values.data() {
        TensorData::Str(v) => v.clone(),
        TensorData::I64(v) => v.iter().map(|x| x.to_string()).collect(),
        TensorData::I32(v) => v.iter().map(|x| x.to_string()).collect(),
        _ => values
            .to_f64_vec()
            .into_iter()
            .map(|x| match x {
                x if x.is_nan() => "nan".to_string(),
                x => format!("{x:.6}"),
            })
            .collect(),
    })
}

/// The integer a string starts with (after blanks), as C's `strtoll` reads it: `"12.7"` is 12.
fn leading_int(s: &str) -> Option<i64> {
    let t = s.trim_start();
    let sign = usize::from(t.starts_with(['+', '-']));
    let digits = t[sign..].bytes().take_while(u8::is_ascii_digit).count();
    t[..sign + digits].parse().ok()
}

/// The values as numbers (f64 holds every f32 exactly); a string must parse as one.
fn value_numbers(values: &Tensor, keys: &[i64]) -> Result<Vec<f64>> {
    match values.data() {
        TensorData::Str(v) => v
            .iter()
            .zip(keys)
            .map(|(s, k)| {
                s.trim().parse::<f64>().map_err(|_| {
                    Error::dtype(format!(
                        "CastMap: the value at key {k} ('{s}') is not a number"
                    ))
                })
            })
            .collect(),
        TensorData::Bool(_) => Err(Error::dtype(
            "CastMap: map values must be numbers or strings",
        )),
        _ => Ok(values.to_f64_vec()),
    }
}
