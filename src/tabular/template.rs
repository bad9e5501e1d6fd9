//! A feature-spec template from a model file (`hearth spec MODEL.onnx`), and writing a spec
//! into a model's `metadata_props` (`--embed`).
//!
//! The template has one feature per `[N, 1]` (or `[N]`) input, named as the input: strings are
//! categories, bools booleans, numbers numbers. Where an input feeds a `OneHotEncoder`,
//! `LabelEncoder` or `CategoryMapper` (directly or through `Identity`/`Reshape`/`Cast`/
//! `Squeeze`/`Unsqueeze`), the category's vocabulary is that node's categories, and its unknown
//! policy is `ignore` for a `OneHotEncoder` with `zeros=1` (which writes zeros for an unknown
//! value) and `error` otherwise. A single float `[N, K]` input gives the matrix layout with
//! features `<input>_0 … <input>_{K-1}`, to be renamed.

use super::spec::{Category, Feature, FeatureSpec, Kind, Layout, Unknown, FORMAT, METADATA_KEY};
use crate::error::{Error, Result};
use crate::onnx::proto::{
    tensor_shape_proto::dimension::Value as D, type_proto, GraphProto, ModelProto, NodeProto,
    StringStringEntryProto,
};
use crate::tensor::DType;
use prost::Message;

fn decode(model: &[u8]) -> Result<ModelProto> {
    ModelProto::decode(model).map_err(|e| Error::model(format!("not an ONNX model ({e})")))
}

/// A spec template for `model` (see the module documentation).
pub fn template(model: &[u8]) -> Result<FeatureSpec> {
    let m = decode(model)?;
    let g = m.graph.unwrap_or_default();
    let inits: std::collections::HashSet<&str> = g
        .initializer
        .iter()
        .filter_map(|t| t.name.as_deref())
        .collect();
    let inputs: Vec<_> = g
        .input
        .iter()
        .filter(|v| !inits.contains(v.name.as_deref().unwrap_or("")))
        .collect();
    let mut cols = Vec::new();
    for v in &inputs {
        let name = v.name.clone().unwrap_or_default();
        let Some(type_proto::Value::TensorType(t)) =
            v.r#type.as_ref().and_then(|t| t.value.as_ref())
        else {
            return Err(Error::Spec(format!(
                "input '{name}' is not a tensor: a feature spec feeds tensor inputs"
            )));
        };
        let dtype = DType::from_onnx(t.elem_type.unwrap_or(0))
            .map_err(|_| Error::Spec(format!("input '{name}' has a dtype no feature can feed")))?;
        let dims: Option<Vec<Option<i64>>> = t.shape.as_ref().map(|s| {
            s.dim
                .iter()
                .map(|d| match d.value {
                    Some(D::DimValue(n)) => Some(n),
                    _ => None,
                })
                .collect()
        });
        cols.push((name, dtype, dims));
    }
    if let [(name, dtype @ (DType::F32 | DType::F64), Some(dims))] = &cols[..] {
        if let [_, k] = dims[..] {
            if k != Some(1) {
                let k = k.ok_or_else(|| {
                    Error::Spec(format!(
                        "input '{name}' is a matrix of undeclared width: write the spec's features by hand"
                    ))
                })?;
                let _ = dtype;
                let features = (0..k as usize)
                    .map(|i| Feature::new(format!("{name}_{i}"), Kind::Number))
                    .collect();
                return Ok(FeatureSpec {
                    format: FORMAT.into(),
                    version: 1,
                    layout: Layout::Matrix,
                    input: Some(name.clone()),
                    features,
                    classes: None,
                });
            }
        }
    }
    let mut features = Vec::new();
    for (name, dtype, dims) in cols {
        match dims.as_deref() {
            Some([_]) | Some([_, Some(1)]) | None => {}
            Some(d) => {
                return Err(Error::Spec(format!(
                    "input '{name}' has shape {d:?}: a spec feeds [N, 1] inputs, or one float [N, K] matrix"
                )))
            }
        }
        let vocab = vocabulary(&g, &name, dtype);
        let mut f = Feature::new(
            name,
            match dtype {
                DType::Str => Kind::Category,
                DType::Bool => Kind::Boolean,
                _ if vocab.is_some() => Kind::Category,
                _ => Kind::Number,
            },
        );
        if f.kind == Kind::Category {
            match vocab {
                Some((v, ignore)) => {
                    f.vocabulary = Some(v);
                    f.unknown = if ignore {
                        Unknown::Ignore
                    } else {
                        Unknown::Error
                    };
                }
                None => f.unknown = Unknown::Ignore,
            }
        }
        features.push(f);
    }
    Ok(FeatureSpec {
        format: FORMAT.into(),
        version: 1,
        layout: Layout::Columns,
        input: None,
        features,
        classes: None,
    })
}

/// The categories of the encoder `input` feeds, and whether unknown values pass (`zeros=1`).
fn vocabulary(g: &GraphProto, input: &str, dtype: DType) -> Option<(Vec<Category>, bool)> {
    let mut value = input.to_string();
    for _ in 0..4 {
        let consumers: Vec<&NodeProto> = g
            .node
            .iter()
            .filter(|n| n.input.first() == Some(&value))
            .collect();
        let [n] = consumers[..] else { return None };
        let attr = |k: &str| n.attribute.iter().find(|a| a.name.as_deref() == Some(k));
        let strings = |k: &str| {
            attr(k).filter(|a| !a.strings.is_empty()).map(|a| {
                a.strings
                    .iter()
                    .map(|s| Category::Str(String::from_utf8_lossy(s).into_owned()))
                    .collect::<Vec<_>>()
            })
        };
        let ints = |k: &str| {
            attr(k)
                .filter(|a| !a.ints.is_empty())
                .map(|a| a.ints.iter().map(|&i| Category::Int(i)).collect::<Vec<_>>())
        };
        let pick = |s: &str, i: &str| match dtype {
            DType::Str => strings(s),
            _ => ints(i),
        };
        match n.op_type.as_deref() {
            Some("OneHotEncoder") => {
                let zeros = attr("zeros").and_then(|a| a.i).unwrap_or(1) == 1;
                return pick("cats_strings", "cats_int64s").map(|v| (v, zeros));
            }
            Some("LabelEncoder") => return pick("keys_strings", "keys_int64s").map(|v| (v, false)),
            Some("CategoryMapper") => {
                return pick("cats_strings", "cats_int64s").map(|v| (v, false))
            }
            Some("Identity" | "Reshape" | "Cast" | "Squeeze" | "Unsqueeze") => {
                value = n.output.first()?.clone();
            }
            _ => return None,
        }
    }
    None
}

/// `model` with `spec` in its `metadata_props` under [`METADATA_KEY`] (replacing one there).
pub fn embed(model: &[u8], spec: &FeatureSpec) -> Result<Vec<u8>> {
    let mut m = decode(model)?;
    m.metadata_props
        .retain(|p| p.key.as_deref() != Some(METADATA_KEY));
    m.metadata_props.push(StringStringEntryProto {
        key: Some(METADATA_KEY.into()),
        value: Some(serde_json::to_string(spec).unwrap_or_default()),
    });
    Ok(m.encode_to_vec())
}
