//! Builds a small random ONNX graph (1-4 nodes of any op Hearth registers: every family in
//! `src/onnx/ops/`), with random attributes, input shapes (rank <= 3, dims <= 4) and dtypes and
//! some int64 initializers (shapes, axes, indices), loads it and runs it on random inputs. Every
//! outcome must be `Ok` or a typed error: any panic is a bug.
#![no_main]

use hearth::onnx::ops::Registry;
use hearth::onnx::proto::{
    self, attribute_proto::AttributeType, tensor_shape_proto::dimension, type_proto, AttributeProto,
    GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto,
    ValueInfoProto,
};
use hearth::{DType, Session, Tensor};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use prost::Message;
use std::sync::OnceLock;

fn ops() -> &'static [&'static str] {
    static OPS: OnceLock<Vec<&'static str>> = OnceLock::new();
    OPS.get_or_init(|| Registry::with_all_ops().op_types())
}

/// Attribute names the op builders read, with the kinds of value they take.
const INT_ATTRS: &[&str] = &[
    "axis", "keepdims", "group", "transA", "transB", "ceil_mode", "count_include_pad", "to",
    "select_last_index", "exclusive", "reverse", "storage_order", "p", "noop_with_empty_axes",
    "hidden_size", "layout", "batch_dims", "upper", "largest", "sorted", "k", "blocksize",
    "allowzero", "start", "end", "axis_w", "output_dtype", "detect_negative", "detect_positive",
    "center_point_box", "linear_before_reset", "input_forget", "stash_type", "num_outputs",
];
const INTS_ATTRS: &[&str] = &[
    "axes", "perm", "kernel_shape", "pads", "strides", "dilations", "output_padding",
    "output_shape", "shape", "starts", "ends", "split", "value_ints", "sizes", "repeats",
];
const FLOAT_ATTRS: &[&str] = &[
    "alpha", "beta", "epsilon", "gamma", "bias", "lambd", "min", "max", "value_float",
    "momentum", "ratio", "spatial_scale", "clip", "extrapolation_value", "cubic_coeff_a",
];
const STRING_ATTRS: &[(&str, &[&str])] = &[
    ("auto_pad", &["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "X"]),
    ("mode", &["constant", "reflect", "edge", "wrap", "nearest", "linear", "cubic", "DCR", "CRD", "x"]),
    ("direction", &["forward", "reverse", "bidirectional"]),
    ("coordinate_transformation_mode", &["half_pixel", "align_corners", "asymmetric"]),
    ("nearest_mode", &["round_prefer_floor", "floor", "ceil"]),
    ("approximate", &["none", "tanh"]),
    ("equation", &["ij,jk->ik", "i,i->", "bij->bji", "ii->i", "...i->i", ","]),
    ("reduction", &["none", "add", "mul", "max", "min"]),
];

const DTYPES: &[(i32, DType)] = &[
    (1, DType::F32), (1, DType::F32), (1, DType::F32), (7, DType::I64), (6, DType::I32),
    (9, DType::Bool), (2, DType::U8), (3, DType::I8), (11, DType::F64), (10, DType::F16),
];

fn small(u: &mut Unstructured, lo: i64, hi: i64) -> Result<i64> {
    u.int_in_range(lo..=hi)
}

fn attribute(u: &mut Unstructured) -> Result<AttributeProto> {
    let mut a = AttributeProto::default();
    match u.int_in_range(0..=3)? {
        0 => {
            a.name = Some(u.choose(INT_ATTRS)?.to_string());
            a.r#type = Some(AttributeType::Int as i32);
            a.i = Some(small(u, -3, 8)?);
        }
        1 => {
            a.name = Some(u.choose(INTS_ATTRS)?.to_string());
            a.r#type = Some(AttributeType::Ints as i32);
            let n = u.int_in_range(0..=6)?;
            a.ints = (0..n).map(|_| small(u, -3, 6)).collect::<Result<_>>()?;
        }
        2 => {
            a.name = Some(u.choose(FLOAT_ATTRS)?.to_string());
            a.r#type = Some(AttributeType::Float as i32);
            a.f = Some(*u.choose(&[0.0, 0.5, 1.0, -1.0, 2.0, 1e-5, 10.0, f32::NAN, f32::INFINITY])?);
        }
        _ => {
            let (name, values) = u.choose(STRING_ATTRS)?;
            a.name = Some(name.to_string());
            a.r#type = Some(AttributeType::String as i32);
            a.s = Some(u.choose(values)?.as_bytes().to_vec());
        }
    }
    Ok(a)
}

fn value_info(name: &str, elem: i32, dims: &[usize]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|&d| proto::tensor_shape_proto::Dimension {
            value: Some(dimension::Value::DimValue(d as i64)),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(elem),
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn tensor(u: &mut Unstructured, dtype: DType, dims: Vec<usize>) -> Result<Option<Tensor>> {
    let n: usize = dims.iter().product();
    let t = match dtype {
        DType::F32 => Tensor::from_f32(
            dims,
            (0..n).map(|_| Ok(*u.choose(&[0.0, 1.0, -1.0, 0.5, 3.0, -2.5, 100.0, f32::NAN])?)).collect::<Result<_>>()?,
        ),
        DType::I64 => Tensor::from_i64(dims, (0..n).map(|_| small(u, -3, 5)).collect::<Result<_>>()?),
        DType::Bool => Tensor::from_bool(dims, (0..n).map(|_| u.arbitrary()).collect::<Result<_>>()?),
        other => Tensor::zeros(other, dims),
    };
    Ok(t.ok())
}

fn case(u: &mut Unstructured) -> Result<()> {
    let mut inits = Vec::new();
    let mut graph_inputs = Vec::new();
    let mut feeds: Vec<(String, Tensor)> = Vec::new();
    let mut values: Vec<String> = Vec::new();
    for i in 0..u.int_in_range(1..=3)? {
        let name = format!("x{i}");
        let (elem, dtype) = *u.choose(DTYPES)?;
        // at most 4^3 elements: ops that multiply ranks (Gather of Gather) then stay far below
        // the engine's element limit, so a case is small work, not a gigabyte allocation
        let rank = u.int_in_range(0..=3)?;
        let dims: Vec<usize> = (0..rank).map(|_| u.int_in_range(0..=4)).collect::<Result<_>>()?;
        let Some(t) = tensor(u, dtype, dims.clone())? else { return Ok(()) };
        graph_inputs.push(value_info(&name, elem, &dims));
        feeds.push((name.clone(), t));
        values.push(name);
    }
    // int64 constants: shapes, axes, indices, pads, repeats …
    for i in 0..u.int_in_range(0..=2)? {
        let name = format!("c{i}");
        let n = u.int_in_range(0..=4)?;
        let v: Vec<i64> = (0..n).map(|_| small(u, -2, 6)).collect::<Result<_>>()?;
        let scalar = n == 1 && u.arbitrary()?;
        inits.push(TensorProto {
            name: Some(name.clone()),
            dims: if scalar { vec![] } else { vec![n as i64] },
            data_type: Some(7),
            int64_data: if scalar { v[..1].to_vec() } else { v },
            ..Default::default()
        });
        values.push(name);
    }
    let mut nodes = Vec::new();
    let mut outputs = Vec::new();
    for k in 0..u.int_in_range(1..=4)? {
        let op = *u.choose(ops())?;
        let n_in = u.int_in_range(1..=4)?;
        let mut input: Vec<String> = (0..n_in).map(|_| u.choose(&values).cloned()).collect::<Result<_>>()?;
        if n_in > 1 && u.ratio(1, 8)? {
            input[n_in - 1] = String::new(); // an omitted optional input
        }
        let n_out = u.int_in_range(1..=2)?;
        let output: Vec<String> = (0..n_out).map(|j| format!("n{k}_{j}")).collect();
        let attribute = (0..u.int_in_range(0..=4)?).map(|_| attribute(u)).collect::<Result<_>>()?;
        values.extend(output.iter().cloned());
        outputs.extend(output.iter().cloned());
        nodes.push(NodeProto {
            op_type: Some(op.to_string()),
            input,
            output,
            attribute,
            name: Some(format!("{op}_{k}")),
            ..Default::default()
        });
    }
    let model = ModelProto {
        ir_version: Some(8),
        opset_import: vec![OperatorSetIdProto { domain: Some(String::new()), version: Some(*u.choose(&[13, 17, 18, 21])?) }],
        graph: Some(GraphProto {
            node: nodes,
            initializer: inits,
            input: graph_inputs,
            output: outputs.iter().map(|o| ValueInfoProto { name: Some(o.clone()), ..Default::default() }).collect(),
            name: Some("fuzz".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let bytes = model.encode_to_vec();
    // to turn a crash into a regression model: HEARTH_FUZZ_DUMP=file cargo fuzz run run_graph <crash>
    if let Some(path) = std::env::var_os("HEARTH_FUZZ_DUMP") {
        let _ = std::fs::write(path, &bytes);
    }
    let Ok(session) = Session::from_bytes(&bytes) else { return Ok(()) };
    let refs: Vec<(&str, &Tensor)> = feeds.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let _ = session.run(&refs);
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = case(&mut Unstructured::new(data));
});
