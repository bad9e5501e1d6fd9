//! Retrieval graphs `MatMul(A, B const) → TopK` and near-misses of the fusion's conditions, built
//! from fuzz bytes: B's shape (around the 2^20-value and 2048-column thresholds), dtype and
//! values (scales from subnormal to 1e30, exact ties, zero and duplicated columns, NaN, ±inf,
//! −0, f32::MAX), A's shape (0–9 rows, a wrong inner dimension, declared or unknown dims) and
//! values, k (attribute or input, 0, n, n + 1, negative), the axis, `largest`, `sorted`, the
//! opset, and a second reader of the product. Each model is loaded as it is (fused where the
//! fusion applies) and with the product also exposed as a graph output (which keeps the pair
//! unfused: the reference). Both must agree: the same typed error, or outputs with the same
//! shapes and indices, and values bit for bit (1–4 rows: both sum in the few-rows product's
//! order) or within a stated tolerance (5+ rows: the unfused product is the GEMM, another
//! summation order; then indices may differ only between scores that close). Never a panic.
#![no_main]

use hearth::onnx::proto::{
    self, attribute_proto::AttributeType, tensor_shape_proto::dimension, type_proto,
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
};
use hearth::tensor::TensorData;
use hearth::{Session, Tensor};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use prost::Message;

/// A cheap generator seeded from the fuzz bytes (values for a million-entry B cannot come from
/// the bytes themselves).
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

const SPECIALS: &[f32] = &[
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    -0.0,
    0.0,
    f32::MAX,
    -f32::MAX,
    1e-45,
    1e-38,
    1e30,
];

/// `n` values of one of several kinds, with a few special values at chosen positions.
fn values(u: &mut Unstructured, g: &mut Gen, n: usize, rows: usize) -> Result<Vec<f32>> {
    let scale = *u.choose(&[1.0f32, 0.1, 1e-3, 1e-20, 1e-39, 1e15, 1e30, 3e38])?;
    let kind = u.int_in_range(0..=4)?;
    let mut v: Vec<f32> = match kind {
        // small integers: exact ties everywhere
        0 => (0..n).map(|_| (g.next() % 3) as f32 - 1.0).collect(),
        // every value equal
        1 => vec![g.unit() * scale; n],
        _ => (0..n).map(|_| g.unit() * scale).collect(),
    };
    // for B (`rows` > 1, items as columns): some columns zero, some duplicated
    if kind == 4 && rows > 1 && n % rows == 0 {
        let cols = n / rows;
        let every = u.int_in_range(2..=7)?;
        for p in 0..rows {
            for j in (1..cols).step_by(every) {
                v[p * cols + j] = if j % 3 == 0 { 0.0 } else { v[p * cols + j - 1] };
            }
        }
    }
    for _ in 0..u.int_in_range(0..=3)? {
        if n > 0 {
            let at = u.int_in_range(0..=n - 1)?;
            v[at] = *u.choose(SPECIALS)?;
        }
    }
    Ok(v)
}

fn value_info(name: &str, elem: i32, dims: Option<&[Option<usize>]>) -> ValueInfoProto {
    let shape = dims.map(|dims| TensorShapeProto {
        dim: dims
            .iter()
            .map(|d| proto::tensor_shape_proto::Dimension {
                value: Some(match d {
                    Some(d) => dimension::Value::DimValue(*d as i64),
                    None => dimension::Value::DimParam("n".into()),
                }),
                ..Default::default()
            })
            .collect(),
    });
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(elem),
                shape,
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn int_attr(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Int as i32),
        i: Some(v),
        ..Default::default()
    }
}

/// An initializer of dtype `elem` (1 f32, 10 f16, 11 f64) from f32 values.
fn initializer(name: &str, elem: i32, dims: &[usize], v: &[f32]) -> TensorProto {
    let raw: Vec<u8> = match elem {
        10 => v
            .iter()
            .flat_map(|x| half::f16::from_f32(*x).to_bits().to_le_bytes())
            .collect(),
        11 => v.iter().flat_map(|x| (*x as f64).to_le_bytes()).collect(),
        _ => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    };
    TensorProto {
        name: Some(name.into()),
        dims: dims.iter().map(|d| *d as i64).collect(),
        data_type: Some(elem),
        raw_data: Some(raw),
        ..Default::default()
    }
}

fn feed(elem: i32, dims: Vec<usize>, v: Vec<f32>) -> Option<Tensor> {
    match elem {
        10 => Tensor::new(
            dims,
            TensorData::F16(v.iter().map(|x| half::f16::from_f32(*x)).collect()),
        )
        .ok(),
        11 => Tensor::new(dims, TensorData::F64(v.iter().map(|x| *x as f64).collect())).ok(),
        _ => Tensor::from_f32(dims, v).ok(),
    }
}

fn case(u: &mut Unstructured) -> Result<()> {
    let mut g = Gen(u.arbitrary()?);
    // B [kd, n]: mostly past both fusion thresholds (kd·n > 2^20, n ≥ 2048), sometimes just
    // below one of them
    let kd = *u.choose(&[1usize, 3, 16, 17, 32, 64, 65, 100, 128, 512])?;
    let min_n = (1usize << 20) / kd + 1;
    let n = match u.int_in_range(0..=5)? {
        0 => min_n - 1,
        1 => 2047,
        2 => 2048.max(min_n),
        _ => min_n.max(2048) + u.int_in_range(0..=300)?,
    };
    let b_elem = *u.choose(&[1, 1, 1, 1, 1, 1, 10, 11])?;
    let a_elem = if u.ratio(1, 16)? { *u.choose(&[10, 11])? } else { b_elem };
    let b = values(u, &mut g, kd * n, kd)?;

    // A [rows…, kd] (or a wrong inner dimension, or a vector)
    let rank = u.int_in_range(1..=4)?;
    let mut a_dims: Vec<usize> = (0..rank - 1)
        .map(|_| u.int_in_range(0..=3))
        .collect::<Result<_>>()?;
    let inner = if u.ratio(1, 20)? { kd + 1 } else { kd };
    a_dims.push(inner);
    let rows: usize = a_dims[..rank - 1].iter().product();
    if rows > 9 {
        return Ok(());
    }
    let a = values(u, &mut g, rows * inner, 1)?;
    let declared: Option<Vec<Option<usize>>> = match u.int_in_range(0..=3)? {
        0 => None,
        1 => Some(a_dims.iter().map(|_| None).collect()),
        2 => Some(
            a_dims
                .iter()
                .enumerate()
                .map(|(i, d)| (i + 1 == rank).then_some(*d))
                .collect(),
        ),
        _ => Some(a_dims.iter().map(|d| Some(*d)).collect()),
    };

    // TopK: k as an attribute (opset 1) or an input, the axis, largest, sorted
    let opset = *u.choose(&[1i64, 10, 11, 13, 21])?;
    let k: i64 = match u.int_in_range(0..=7)? {
        0 => 0,
        1 => n as i64,
        2 => n as i64 + 1,
        3 => -1,
        4 => 1,
        _ => u.int_in_range(1..=120)?,
    };
    let out_rank = rank as i64; // A of rank 1 gives a product of rank 1
    let axis = match u.int_in_range(0..=5)? {
        0 => None,
        1 => Some(out_rank - 1),
        2 => Some(0),
        3 => Some(-2),
        4 => Some(out_rank),
        _ => Some(-1),
    };
    let mut attrs = Vec::new();
    if let Some(ax) = axis {
        attrs.push(int_attr("axis", ax));
    }
    let mut inits = vec![initializer("b", b_elem, &[kd, n], &b)];
    let mut tk_inputs = vec!["scores".to_string()];
    if opset < 10 {
        attrs.push(int_attr("k", k));
    } else {
        let k_scalar = u.ratio(1, 4)?;
        inits.push(TensorProto {
            name: Some("k".into()),
            dims: if k_scalar { vec![] } else { vec![1] },
            data_type: Some(7),
            int64_data: vec![k],
            ..Default::default()
        });
        tk_inputs.push("k".into());
    }
    if opset >= 11 {
        if u.arbitrary()? {
            attrs.push(int_attr("largest", u.int_in_range(0..=1)?));
        }
        if u.arbitrary()? {
            attrs.push(int_attr("sorted", u.int_in_range(0..=1)?));
        }
    }
    // near-miss: a second reader of the product
    let second_reader = u.ratio(1, 12)?;

    let model = |expose: bool| {
        let mut nodes = vec![
            NodeProto {
                op_type: Some("MatMul".into()),
                input: vec!["a".into(), "b".into()],
                output: vec!["scores".into()],
                ..Default::default()
            },
            NodeProto {
                op_type: Some("TopK".into()),
                input: tk_inputs.clone(),
                output: vec!["values".into(), "indices".into()],
                attribute: attrs.clone(),
                ..Default::default()
            },
        ];
        let mut outputs = vec![
            value_info("values", a_elem, None),
            value_info("indices", 7, None),
        ];
        if second_reader {
            nodes.push(NodeProto {
                op_type: Some("Neg".into()),
                input: vec!["scores".into()],
                output: vec!["neg".into()],
                ..Default::default()
            });
            outputs.push(value_info("neg", a_elem, None));
        }
        if expose {
            outputs.push(value_info("scores", a_elem, None));
        }
        ModelProto {
            ir_version: Some(8),
            opset_import: vec![OperatorSetIdProto {
                domain: Some(String::new()),
                version: Some(opset),
            }],
            graph: Some(GraphProto {
                node: nodes,
                initializer: inits.clone(),
                input: vec![value_info("a", a_elem, declared.as_deref())],
                output: outputs,
                name: Some("retrieval".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
        .encode_to_vec()
    };
    let (fused_bytes, plain_bytes) = (model(false), model(true));
    // to turn a failure into a regression model: HEARTH_FUZZ_DUMP=file cargo fuzz run retrieval <crash>
    if let Some(path) = std::env::var_os("HEARTH_FUZZ_DUMP") {
        let _ = std::fs::write(path, &fused_bytes);
    }
    let (fused, plain) = (
        Session::from_bytes(&fused_bytes),
        Session::from_bytes(&plain_bytes),
    );
    let (fused, plain) = match (fused, plain) {
        (Ok(f), Ok(p)) => (f, p),
        (Err(f), Err(p)) => {
            assert_eq!(f.to_string(), p.to_string(), "load errors differ");
            return Ok(());
        }
        (f, p) => panic!(
            "one model loads, the other does not: fused {:?}, unfused {:?}",
            f.err(),
            p.err()
        ),
    };
    let plain_ops: Vec<&str> = plain.graph().nodes.iter().map(|n| n.op.name()).collect();
    assert!(!plain_ops.contains(&"MatMulTopK"), "exposed product fused");
    let Some(x) = feed(a_elem, a_dims.clone(), a) else {
        return Ok(());
    };
    let (got, want) = (fused.run(&[("a", &x)]), plain.run(&[("a", &x)]));
    let (got, want) = match (got, want) {
        (Ok(g), Ok(w)) => (g, w),
        (Err(g), Err(w)) => {
            // the same cause; the fused node's name holds the name of the unfused node that
            // failed (it is "MatMul's name+TopK's name")
            match (&g, &w) {
                (
                    hearth::Error::Node { node: gn, op: go, source: gs },
                    hearth::Error::Node { node: wn, source: ws, .. },
                ) if go == "MatMulTopK" => {
                    assert_eq!(gs.to_string(), ws.to_string(), "run errors differ");
                    assert!(gn.split('+').any(|p| p == wn), "error names {gn}, not {wn}");
                }
                _ => assert_eq!(g.to_string(), w.to_string(), "run errors differ"),
            }
            return Ok(());
        }
        (g, w) => panic!(
            "one model runs, the other does not: fused {:?}, unfused {:?}",
            g.err(),
            w.err()
        ),
    };
    assert_eq!(got.len() + 1, want.len(), "output count");
    for (t, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g.shape(), w.shape(), "output {t} shape");
        assert_eq!(g.dtype(), w.dtype(), "output {t} dtype");
    }
    if second_reader {
        assert_eq!(got[2].to_f64_vec().len(), want[2].to_f64_vec().len());
    }
    let (gv, wv) = (got[0].to_f64_vec(), want[0].to_f64_vec());
    let (gi, wi) = (got[1].to_i64_vec(), want[1].to_i64_vec());
    let fused_node = fused
        .graph()
        .nodes
        .iter()
        .any(|n| n.op.name() == "MatMulTopK");
    if rows <= 4 || !fused_node {
        // the same kernels, or the fused kernel in the few-rows product's summation order
        let gb: Vec<u64> = gv.iter().map(|v| v.to_bits()).collect();
        let wb: Vec<u64> = wv.iter().map(|v| v.to_bits()).collect();
        assert_eq!(gb, wb, "values (fused node: {fused_node}, {rows} rows)");
        assert_eq!(gi, wi, "indices (fused node: {fused_node}, {rows} rows)");
        return Ok(());
    }
    // 5–9 rows through a fused node: the unfused product is the GEMM. Both sums are within
    // d·2^-23·Σ|a_j b_j| of the exact dot, so of each other within twice that.
    let scores = want[2].to_f64_vec();
    let (kk, cols) = (*got[0].shape().last().unwrap_or(&0), n);
    let av = x.to_f64_vec();
    let bv: Vec<f64> = b.iter().map(|v| *v as f64).collect();
    let tol = |row: usize, j: usize| {
        let s: f64 = (0..kd)
            .map(|p| (av[row * kd + p] * bv[p * cols + j]).abs())
            .sum();
        2.0 * kd as f64 * 2f64.powi(-23) * s + 1e-44
    };
    for t in 0..gv.len() {
        let row = t / kk.max(1);
        let (a, b) = (gi[t] as usize, wi[t] as usize);
        let (g, w) = (gv[t], wv[t]);
        let e = tol(row, a).max(tol(row, b));
        if !(e < 1e36) {
            // partial sums may overflow in one summation order and not in the other
            continue;
        }
        if g.is_nan() || w.is_nan() || g.is_infinite() || w.is_infinite() {
            assert_eq!(g.to_bits(), w.to_bits(), "value {t}: {g} vs {w}");
            continue;
        }
        assert!((g - w).abs() <= e, "value {t}: {g} vs {w} (tolerance {e})");
        assert!(
            a == b || (scores[row * cols + a] - scores[row * cols + b]).abs() <= 2.0 * e,
            "index {t}: {a} vs {b}"
        );
    }
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    let _ = case(&mut Unstructured::new(data));
});
