//! `TensorProto` → [`Tensor`]: typed fields, `raw_data` (little-endian) and external data.

use super::proto::{tensor_proto::DataLocation, TensorProto};
use crate::error::{Error, Result};
use crate::tensor::{numel_checked, onnx_dtype_name, DType, Tensor, TensorData};
use crate::value::Value;
use half::{bf16, f16};

/// Buffers holding tensors stored outside the model file (ONNX "external data"), by the
/// `location` the model names (as PyTorch's exporter writes, e.g. `model.onnx.data`).
#[derive(Clone, Copy, Debug, Default)]
pub struct ExternalData<'a> {
    pub files: &'a [(&'a str, &'a [u8])],
}

impl<'a> ExternalData<'a> {
    /// The buffer for `location`. When exactly one buffer was supplied it serves every location
    /// (the caller may not know the file name the exporter chose).
    fn file(&self, location: &str) -> Result<&'a [u8]> {
        if let Some((_, b)) = self.files.iter().find(|(n, _)| *n == location) {
            return Ok(b);
        }
        let base = location.rsplit(['/', '\\']).next().unwrap_or(location);
        if let Some((_, b)) = self
            .files
            .iter()
            .find(|(n, _)| n.rsplit(['/', '\\']).next() == Some(base))
        {
            return Ok(b);
        }
        match self.files {
            [(_, b)] => Ok(b),
            [] => Err(Error::model(format!(
                "a tensor is stored in external file '{location}': pass that file's bytes as external data"
            ))),
            _ => Err(Error::model(format!(
                "a tensor is stored in external file '{location}', which is not among the {} external buffers given",
                self.files.len()
            ))),
        }
    }
}

fn dims_of(t: &TensorProto, what: &str) -> Result<Vec<usize>> {
    let mut dims = Vec::with_capacity(t.dims.len());
    for &d in &t.dims {
        if d < 0 {
            return Err(Error::model(format!(
                "{what}: negative dimension {d} in {:?}",
                t.dims
            )));
        }
        dims.push(usize::try_from(d).map_err(|_| Error::Limit(format!("{what}: dimension {d}")))?);
    }
    Ok(dims)
}

/// Converts a tensor proto (from an initializer, a `Constant` or an attribute).
///
/// `what` names the tensor in error messages. Data is validated against the dims exactly.
pub fn tensor_from_proto(t: &TensorProto, ext: &ExternalData<'_>, what: &str) -> Result<Tensor> {
    let code = t.data_type.unwrap_or(0);
    let dtype = DType::from_onnx(code).map_err(|_| {
        Error::UnsupportedDType(format!("{} (tensor {what})", onnx_dtype_name(code)))
    })?;
    if t.segment.is_some() {
        return Err(Error::unsupported(format!("{what}: segmented tensors")));
    }
    let shape = dims_of(t, what)?;
    let n = numel_checked(&shape)?;

    let external;
    let raw: Option<&[u8]> = if t.data_location == Some(DataLocation::External as i32) {
        external = external_bytes(t, ext, what)?;
        Some(external)
    } else {
        t.raw_data.as_deref()
    };

    let data = match raw {
        Some(_) if dtype == DType::Str => {
            return Err(Error::model(format!(
                "{what}: string tensors cannot be stored as raw or external data"
            )))
        }
        Some(raw) => from_raw(raw, dtype, n, what)?,
        None => from_typed(t, dtype, n, what)?,
    };
    Tensor::new(shape, data)
}

fn external_bytes<'a>(t: &TensorProto, ext: &ExternalData<'a>, what: &str) -> Result<&'a [u8]> {
    let mut location = None;
    let mut offset = 0usize;
    let mut length = None;
    for kv in &t.external_data {
        let v = kv.value.as_deref().unwrap_or("");
        let num = || {
            v.parse::<usize>().map_err(|_| {
                Error::model(format!(
                    "{what}: external_data {:?} is not a number: '{v}'",
                    kv.key
                ))
            })
        };
        match kv.key.as_deref() {
            Some("location") => location = Some(v),
            Some("offset") => offset = num()?,
            Some("length") => length = Some(num()?),
            _ => {}
        }
    }
    let location = location
        .ok_or_else(|| Error::model(format!("{what}: external data without a location")))?;
    let file = ext.file(location)?;
    let len = length.unwrap_or_else(|| file.len().saturating_sub(offset));
    let end = offset.checked_add(len).filter(|&e| e <= file.len()).ok_or_else(|| {
        Error::model(format!(
            "{what}: external data '{location}' offset {offset} + length {len} is past the end of the {}-byte buffer",
            file.len()
        ))
    })?;
    Ok(&file[offset..end])
}

fn from_raw(raw: &[u8], dtype: DType, n: usize, what: &str) -> Result<TensorData> {
    let size = match dtype {
        DType::F32 | DType::I32 => 4,
        DType::F64 | DType::I64 => 8,
        DType::F16 | DType::BF16 | DType::I16 | DType::U16 => 2,
        DType::U32 => 4,
        DType::U64 => 8,
        DType::I8 | DType::U8 | DType::Bool => 1,
        DType::Str => 0, // refused before: strings are never raw
    };
    if raw.len() != n * size {
        return Err(Error::model(format!(
            "{what}: {} bytes of {dtype} data for {n} elements (expected {})",
            raw.len(),
            n * size
        )));
    }
    macro_rules! le {
        ($t:ty, $w:expr) => {
            raw.chunks_exact($w)
                .map(|c| <$t>::from_le_bytes(c.try_into().unwrap_or([0; $w])))
                .collect()
        };
    }
    Ok(match dtype {
        DType::F32 => TensorData::F32(le!(f32, 4)),
        DType::F64 => TensorData::F64(le!(f64, 8)),
        DType::I64 => TensorData::I64(le!(i64, 8)),
        DType::I32 => TensorData::I32(le!(i32, 4)),
        DType::F16 => TensorData::F16(
            raw.chunks_exact(2)
                .map(|c| f16::from_bits(u16::from_le_bytes([c[0], c[1]])))
                .collect(),
        ),
        DType::I8 => TensorData::I8(raw.iter().map(|&b| b as i8).collect()),
        DType::U8 => TensorData::U8(raw.to_vec()),
        DType::Bool => TensorData::Bool(raw.iter().map(|&b| b != 0).collect()),
        DType::Str => TensorData::Str(vec![]),
        DType::I16 => TensorData::I16(le!(i16, 2)),
        DType::U16 => TensorData::U16(le!(u16, 2)),
        DType::U32 => TensorData::U32(le!(u32, 4)),
        DType::U64 => TensorData::U64(le!(u64, 8)),
        DType::BF16 => TensorData::BF16(
            raw.chunks_exact(2)
                .map(|c| bf16::from_bits(u16::from_le_bytes([c[0], c[1]])))
                .collect(),
        ),
    })
}

fn from_typed(t: &TensorProto, dtype: DType, n: usize, what: &str) -> Result<TensorData> {
    let field_len = match dtype {
        DType::F32 => t.float_data.len(),
        DType::F64 => t.double_data.len(),
        DType::I64 => t.int64_data.len(),
        DType::Str => t.string_data.len(),
        DType::U32 | DType::U64 => t.uint64_data.len(),
        _ => t.int32_data.len(),
    };
    if field_len != n {
        return Err(Error::model(format!(
            "{what}: {field_len} {dtype} values for {n} elements of shape {:?}",
            t.dims
        )));
    }
    let i32s = &t.int32_data;
    Ok(match dtype {
        DType::F32 => TensorData::F32(t.float_data.clone()),
        DType::F64 => TensorData::F64(t.double_data.clone()),
        DType::I64 => TensorData::I64(t.int64_data.clone()),
        DType::I32 => TensorData::I32(i32s.clone()),
        DType::F16 => TensorData::F16(i32s.iter().map(|&b| f16::from_bits(b as u16)).collect()),
        DType::I8 => TensorData::I8(i32s.iter().map(|&v| v as i8).collect()),
        DType::U8 => TensorData::U8(i32s.iter().map(|&v| v as u8).collect()),
        DType::Bool => TensorData::Bool(i32s.iter().map(|&v| v != 0).collect()),
        DType::I16 => TensorData::I16(i32s.iter().map(|&v| v as i16).collect()),
        DType::U16 => TensorData::U16(i32s.iter().map(|&v| v as u16).collect()),
        DType::BF16 => TensorData::BF16(i32s.iter().map(|&b| bf16::from_bits(b as u16)).collect()),
        DType::U32 => TensorData::U32(t.uint64_data.iter().map(|&v| v as u32).collect()),
        DType::U64 => TensorData::U64(t.uint64_data.clone()),
        DType::Str => TensorData::Str(
            t.string_data
                .iter()
                .map(|b| {
                    String::from_utf8(b.clone()).map_err(|_| {
                        Error::model(format!("{what}: a string element is not valid UTF-8"))
                    })
                })
                .collect::<Result<_>>()?,
        ),
    })
}

/// Serialises a tensor as a `TensorProto` with `raw_data` (for tests and tools).
pub fn tensor_to_proto(t: &Tensor, name: &str) -> TensorProto {
    let raw: Vec<u8> = match t.data() {
        TensorData::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        TensorData::F16(v) => v.iter().flat_map(|x| x.to_bits().to_le_bytes()).collect(),
        TensorData::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        TensorData::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        TensorData::I32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        TensorData::I8(v) => v.iter().map(|&x| x as u8).collect(),
        TensorData::U8(v) => v.clone(),
        TensorData::Bool(v) => v.iter().map(|&x| x as u8).collect(),
        TensorData::I16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        TensorData::U16(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        TensorData::U32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        TensorData::U64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        TensorData::BF16(v) => v.iter().flat_map(|x| x.to_bits().to_le_bytes()).collect(),
        TensorData::Str(v) => {
            return TensorProto {
                dims: t.shape().iter().map(|&d| d as i64).collect(),
                data_type: Some(t.dtype().onnx_code()),
                name: Some(name.to_string()),
                string_data: v.iter().map(|s| s.as_bytes().to_vec()).collect(),
                ..Default::default()
            }
        }
    };
    TensorProto {
        dims: t.shape().iter().map(|&d| d as i64).collect(),
        data_type: Some(t.dtype().onnx_code()),
        name: Some(name.to_string()),
        raw_data: Some(raw),
        ..Default::default()
    }
}

/// Decodes a serialised `TensorProto` (the `.pb` files of ONNX test data sets).
pub fn tensor_from_pb(bytes: &[u8]) -> Result<(String, Tensor)> {
    use prost::Message;
    let t =
        TensorProto::decode(bytes).map_err(|e| Error::model(format!("not a TensorProto: {e}")))?;
    let name = t.name.clone().unwrap_or_default();
    let tensor = tensor_from_proto(&t, &ExternalData::default(), &name)?;
    Ok((name, tensor))
}

/// `onnx-data.proto`'s `SequenceProto`, for the node tests' sequence data (the fields Hearth
/// reads).
#[derive(Clone, PartialEq, prost::Message)]
pub struct SequenceProto {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(int32, optional, tag = "2")]
    pub elem_type: Option<i32>,
    #[prost(message, repeated, tag = "3")]
    pub tensor_values: Vec<TensorProto>,
    #[prost(message, repeated, tag = "5")]
    pub sequence_values: Vec<SequenceProto>,
}

/// `onnx-data.proto`'s `OptionalProto` (the fields Hearth reads).
#[derive(Clone, PartialEq, prost::Message)]
pub struct OptionalProto {
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    #[prost(int32, optional, tag = "2")]
    pub elem_type: Option<i32>,
    #[prost(message, optional, tag = "3")]
    pub tensor_value: Option<TensorProto>,
    #[prost(message, optional, boxed, tag = "5")]
    pub sequence_value: Option<Box<SequenceProto>>,
}

/// `elem_type` values of `SequenceProto`/`OptionalProto`.
const ELEM_TENSOR: i32 = 1;
const ELEM_SEQUENCE: i32 = 3;

fn sequence_value(s: &SequenceProto, what: &str) -> Result<Value> {
    match s.elem_type.unwrap_or(ELEM_TENSOR) {
        ELEM_TENSOR | 0 => s
            .tensor_values
            .iter()
            .map(|t| tensor_from_proto(t, &ExternalData::default(), what).map(Value::Tensor))
            .collect::<Result<Vec<_>>>()
            .map(Value::Sequence),
        other => Err(Error::UnsupportedDType(format!(
            "sequence of element type {other} ({what}): Hearth reads sequences of tensors"
        ))),
    }
}

/// A serialised `SequenceProto` (`optional: false`) or `OptionalProto` as a [`Value`], with its
/// name.
pub fn value_from_pb(bytes: &[u8], optional: bool) -> Result<(String, Value)> {
    use prost::Message;
    if optional {
        let o = OptionalProto::decode(bytes)
            .map_err(|e| Error::model(format!("not an OptionalProto: {e}")))?;
        let name = o.name.clone().unwrap_or_default();
        let inner = match (o.elem_type.unwrap_or(0), &o.tensor_value, &o.sequence_value) {
            (ELEM_TENSOR, Some(t), _) => {
                Some(tensor_from_proto(t, &ExternalData::default(), &name)?.into())
            }
            (ELEM_SEQUENCE, _, Some(s)) => Some(sequence_value(s, &name)?),
            (0, None, None) | (ELEM_TENSOR, None, _) | (ELEM_SEQUENCE, _, None) => None,
            (other, _, _) => {
                return Err(Error::UnsupportedDType(format!(
                    "optional of element type {other} ('{name}')"
                )))
            }
        };
        return Ok((name, Value::Optional(inner.map(Box::new))));
    }
    let s = SequenceProto::decode(bytes)
        .map_err(|e| Error::model(format!("not a SequenceProto: {e}")))?;
    let name = s.name.clone().unwrap_or_default();
    let v = sequence_value(&s, &name)?;
    Ok((name, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_and_typed_agree() {
        let t = Tensor::from_f32(vec![2, 2], vec![1.0, -2.0, 3.5, 0.0]).unwrap();
        let p = tensor_to_proto(&t, "x");
        assert_eq!(
            tensor_from_proto(&p, &ExternalData::default(), "x").unwrap(),
            t
        );
        let typed = TensorProto {
            dims: vec![2, 2],
            data_type: Some(1),
            float_data: vec![1.0, -2.0, 3.5, 0.0],
            ..Default::default()
        };
        assert_eq!(
            tensor_from_proto(&typed, &ExternalData::default(), "x").unwrap(),
            t
        );
    }

    #[test]
    fn wrong_byte_count_is_an_error() {
        let mut p = tensor_to_proto(&Tensor::from_f32(vec![3], vec![1.0; 3]).unwrap(), "x");
        p.raw_data.as_mut().unwrap().pop();
        let e = tensor_from_proto(&p, &ExternalData::default(), "x").unwrap_err();
        assert!(e.to_string().contains("11 bytes"), "{e}");
    }

    #[test]
    fn external_data_ranges_are_checked() {
        let bytes: Vec<u8> = [1.0f32, 2.0, 3.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let kv = |k: &str, v: &str| super::super::proto::StringStringEntryProto {
            key: Some(k.into()),
            value: Some(v.into()),
        };
        let mut p = TensorProto {
            dims: vec![2],
            data_type: Some(1),
            data_location: Some(DataLocation::External as i32),
            external_data: vec![
                kv("location", "w.bin"),
                kv("offset", "4"),
                kv("length", "8"),
            ],
            ..Default::default()
        };
        let files = [("w.bin", &bytes[..])];
        let ext = ExternalData { files: &files };
        let t = tensor_from_proto(&p, &ext, "w").unwrap();
        assert_eq!(t.as_f32().unwrap(), &[2.0, 3.0]);
        p.external_data[1] = kv("offset", "8");
        assert!(tensor_from_proto(&p, &ext, "w").is_err());
        assert!(tensor_from_proto(&p, &ExternalData::default(), "w").is_err());
    }
}
