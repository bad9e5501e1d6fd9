//! Bad input never panics and never allocates without bound: malformed and truncated bytes,
//! unknown ops, wrong feeds and absurd sizes give typed errors that say what was expected.

mod common;

use common::{floats, ints, model, node, value_info};
use hearth::onnx::proto::TensorProto;
use hearth::{Error, Session, Tensor};

/// y = x + w with x: float32 [batch, 3].
fn add_model() -> Vec<u8> {
    let w = TensorProto {
        name: Some("w".into()),
        dims: vec![3],
        data_type: Some(1),
        float_data: vec![1.0, 2.0, 3.0],
        ..Default::default()
    };
    model(
        vec![node("Add", &["x", "w"], &["y"])],
        vec![w],
        vec![value_info("x", 1, &[Err("batch"), Ok(3)])],
        vec![value_info("y", 1, &[Err("batch"), Ok(3)])],
    )
}

#[test]
fn valid_model_runs() {
    let s = Session::from_bytes(&add_model()).unwrap();
    let x = Tensor::from_f32(vec![2, 3], vec![0.0; 6]).unwrap();
    let out = s.run(&[("x", &x)]).unwrap();
    assert_eq!(out[0].as_f32().unwrap(), &[1.0, 2.0, 3.0, 1.0, 2.0, 3.0]);
}

#[test]
fn garbage_bytes_are_invalid_model() {
    for bytes in [&b""[..], b"\x00", b"not an onnx model at all", &[0xff; 64]] {
        match Session::from_bytes(bytes) {
            Err(Error::InvalidModel(_)) => {}
            other => panic!("{bytes:?}: expected InvalidModel, got {other:?}"),
        }
    }
}

#[test]
fn every_truncation_is_a_typed_error() {
    let full = add_model();
    for n in 0..full.len() {
        let r = std::panic::catch_unwind(|| Session::from_bytes(&full[..n]).map(|_| ()));
        let r = r.unwrap_or_else(|_| panic!("panic when truncated to {n} bytes"));
        if let Err(e) = r {
            assert!(!e.to_string().is_empty());
        }
    }
}

#[test]
fn flipped_bytes_never_panic() {
    let full = add_model();
    let mut seed = 0x9e3779b97f4a7c15u64;
    for _ in 0..3000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut m = full.clone();
        let i = (seed as usize) % m.len();
        m[i] ^= (seed >> 32) as u8 | 1;
        let r = std::panic::catch_unwind(|| {
            if let Ok(s) = Session::from_bytes(&m) {
                let x = Tensor::from_f32(vec![1, 3], vec![0.5; 3]).unwrap();
                let _ = s.run(&[("x", &x)]);
            }
        });
        assert!(r.is_ok(), "panic with byte {i} flipped");
    }
}

#[test]
fn unknown_op_names_the_op() {
    let m = model(
        vec![node("FancyNewOp", &["x"], &["y"])],
        vec![],
        vec![value_info("x", 1, &[Ok(1)])],
        vec![value_info("y", 1, &[Ok(1)])],
    );
    match Session::from_bytes(&m) {
        Err(Error::UnsupportedOp { op, node, .. }) => {
            assert_eq!(op, "FancyNewOp");
            assert_eq!(node, "FancyNewOp_node");
        }
        other => panic!("expected UnsupportedOp, got {other:?}"),
    }
}

#[test]
fn undefined_value_is_reported() {
    let m = model(
        vec![node("Add", &["x", "nowhere"], &["y"])],
        vec![],
        vec![value_info("x", 1, &[Ok(1)])],
        vec![value_info("y", 1, &[Ok(1)])],
    );
    let e = Session::from_bytes(&m).unwrap_err();
    assert!(e.to_string().contains("'nowhere'"), "{e}");
}

#[test]
fn wrong_feeds_say_what_was_expected() {
    let s = Session::from_bytes(&add_model()).unwrap();
    let good = Tensor::from_f32(vec![2, 3], vec![0.0; 6]).unwrap();
    let e = s.run(&[("y", &good)]).unwrap_err();
    assert!(
        matches!(e, Error::Input { .. }) && e.to_string().contains("[\"x\"]"),
        "{e}"
    );
    let e = s.run(&[]).unwrap_err();
    assert!(
        e.to_string().contains("missing") && e.to_string().contains("float32 of shape [batch, 3]"),
        "{e}"
    );
    let ints = Tensor::from_i64(vec![2, 3], vec![0; 6]).unwrap();
    let e = s.run(&[("x", &ints)]).unwrap_err();
    assert!(
        e.to_string().contains("expected float32") && e.to_string().contains("got int64"),
        "{e}"
    );
    let wide = Tensor::from_f32(vec![2, 4], vec![0.0; 8]).unwrap();
    let e = s.run(&[("x", &wide)]).unwrap_err();
    assert!(e.to_string().contains("dim 1 is 4, expected 3"), "{e}");
    let rank1 = Tensor::from_f32(vec![3], vec![0.0; 3]).unwrap();
    let e = s.run(&[("x", &rank1)]).unwrap_err();
    assert!(e.to_string().contains("rank 2"), "{e}");
    assert_eq!(e.code(), "INPUT");
}

#[test]
fn absurd_initializer_sizes_are_refused() {
    let huge = TensorProto {
        name: Some("w".into()),
        dims: vec![1 << 40, 1 << 20],
        data_type: Some(1),
        ..Default::default()
    };
    let m = model(
        vec![node("Add", &["x", "w"], &["y"])],
        vec![huge],
        vec![value_info("x", 1, &[Ok(1)])],
        vec![value_info("y", 1, &[Ok(1)])],
    );
    let e = Session::from_bytes(&m).unwrap_err();
    assert!(matches!(e, Error::Limit(_)), "{e:?}");
    let negative = TensorProto {
        dims: vec![-3],
        data_type: Some(1),
        ..Default::default()
    };
    let m = model(
        vec![],
        vec![TensorProto {
            name: Some("w".into()),
            ..negative
        }],
        vec![],
        vec![value_info("w", 1, &[Ok(3)])],
    );
    assert!(matches!(
        Session::from_bytes(&m).unwrap_err(),
        Error::InvalidModel(_)
    ));
}

#[test]
fn absurd_runtime_shapes_are_refused() {
    // ConstantOfShape fed a huge shape at run time must not allocate it
    let m = model(
        vec![node("ConstantOfShape", &["shape"], &["y"])],
        vec![],
        vec![value_info("shape", 7, &[Ok(2)])],
        vec![value_info("y", 1, &[Err("a"), Err("b")])],
    );
    let s = Session::from_bytes(&m).unwrap();
    let shape = Tensor::from_i64(vec![2], vec![1 << 31, 1 << 31]).unwrap();
    let e = s.run(&[("shape", &shape)]).unwrap_err();
    assert!(matches!(e.root(), Error::Limit(_)), "{e:?}");
}

#[test]
fn cycles_are_reported() {
    let m = model(
        vec![
            node("Add", &["x", "b"], &["a"]),
            node("Add", &["x", "a"], &["b"]),
        ],
        vec![],
        vec![value_info("x", 1, &[Ok(1)])],
        vec![value_info("a", 1, &[Ok(1)])],
    );
    let e = Session::from_bytes(&m).unwrap_err();
    assert!(e.to_string().contains("cycle"), "{e}");
}

/// Inputs the fuzzer (fuzz/fuzz_targets/parse_model.rs) found crashing, run the same way.
#[test]
fn fuzz_regressions_do_not_panic() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let bytes = std::fs::read(entry.path()).unwrap();
        let r = std::panic::catch_unwind(|| {
            let Ok(s) = Session::from_bytes(&bytes) else {
                return;
            };
            let feeds: Vec<(String, Tensor)> = s
                .inputs()
                .iter()
                .filter_map(|i| {
                    let dims = i
                        .shape
                        .as_ref()?
                        .iter()
                        .map(|d| d.known().unwrap_or(1).min(64))
                        .collect();
                    Some((i.name.clone(), Tensor::zeros(i.dtype?, dims).ok()?))
                })
                .collect();
            let refs: Vec<(&str, &Tensor)> = feeds.iter().map(|(n, t)| (n.as_str(), t)).collect();
            let _ = s.run(&refs);
        });
        assert!(r.is_ok(), "{} panics", entry.path().display());
    }
}

/// ONNX dims: `?` (PaddlePaddle writes `[-1, 3, "?", "?"]`), an empty name and -1 are unknown
/// and unrelated to each other; a named dim binds every value that uses the name.
#[test]
fn unknown_dims_are_unrelated_and_named_dims_bind() {
    let m = model(
        vec![
            node("Relu", &["x"], &["x_out"]),
            node("Identity", &["a"], &["a_out"]),
            node("Identity", &["b"], &["b_out"]),
        ],
        vec![],
        vec![
            value_info("x", 1, &[Ok(-1), Ok(3), Err("?"), Err("?")]),
            value_info("a", 1, &[Err("n"), Err(""), Err("-1")]),
            value_info("b", 1, &[Err("n"), Err("?")]),
        ],
        vec![
            value_info("x_out", 1, &[Ok(-1), Ok(3), Err("?"), Err("?")]),
            value_info("a_out", 1, &[Err("n"), Err(""), Err("-1")]),
            value_info("b_out", 1, &[Err("n"), Err("?")]),
        ],
    );
    let s = Session::from_bytes(&m).unwrap();
    let x = Tensor::from_f32(vec![1, 3, 48, 192], vec![-1.0; 3 * 48 * 192]).unwrap();
    let a = Tensor::from_f32(vec![2, 5, 7], vec![0.5; 70]).unwrap();
    let b = Tensor::from_f32(vec![2, 9], vec![0.25; 18]).unwrap();
    let out = s.run(&[("x", &x), ("a", &a), ("b", &b)]).unwrap();
    assert_eq!(out[0].shape(), &[1, 3, 48, 192]);
    assert!(out[0].as_f32().unwrap().iter().all(|&v| v == 0.0));
    assert_eq!(out[1].shape(), &[2, 5, 7]);
    assert_eq!(out[2].shape(), &[2, 9]);
    // the named dim `n` binds a and b
    let b3 = Tensor::from_f32(vec![3, 9], vec![0.25; 27]).unwrap();
    let e = s.run(&[("x", &x), ("a", &a), ("b", &b3)]).unwrap_err();
    assert!(
        matches!(e, Error::Input { .. }) && e.to_string().contains("'n'"),
        "{e}"
    );
    // a fixed dim is still checked
    let x4 = Tensor::from_f32(vec![1, 4, 2, 2], vec![0.0; 16]).unwrap();
    let e = s.run(&[("x", &x4), ("a", &a), ("b", &b)]).unwrap_err();
    assert!(e.to_string().contains("dim 1 is 4, expected 3"), "{e}");
}

/// Sequences through the session: `run_values` takes and returns them, `run` refuses a
/// sequence output with a typed error naming `run_values`, and a wrong kind of feed is an
/// `Error::Input`.
#[test]
fn sequences_go_through_run_values() {
    use hearth::onnx::proto::{type_proto, TypeProto, ValueInfoProto};
    use hearth::Value;
    let seq_of_f32 = |name: &str| ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::SequenceType(Box::new(
                type_proto::Sequence {
                    elem_type: Some(Box::new(value_info("e", 1, &[Err("n")]).r#type.unwrap())),
                },
            ))),
            ..Default::default()
        }),
        ..Default::default()
    };
    let m = model(
        vec![
            node("SequenceLength", &["s"], &["len"]),
            node("SplitToSequence", &["x"], &["parts"]),
        ],
        vec![],
        vec![seq_of_f32("s"), value_info("x", 1, &[Ok(3)])],
        vec![value_info("len", 7, &[]), seq_of_f32("parts")],
    );
    let s = Session::from_bytes(&m).unwrap();
    let a = Tensor::from_f32(vec![2], vec![1.0, 2.0]).unwrap();
    let seq = Value::Sequence(vec![a.clone().into(), a.clone().into()]);
    let x = Value::Tensor(Tensor::from_f32(vec![3], vec![1.0, 2.0, 3.0]).unwrap());
    let out = s.run_values(&[("s", &seq), ("x", &x)]).unwrap();
    assert_eq!(out[0].as_tensor().unwrap().as_i64().unwrap(), &[2]);
    let Value::Sequence(parts) = &out[1] else {
        panic!("expected a sequence, got {:?}", out[1])
    };
    assert_eq!(parts.len(), 3);
    assert_eq!(parts[2].as_tensor().unwrap().as_f32().unwrap(), &[3.0]);
    // a tensor where the model wants a sequence
    let e = s.run_values(&[("s", &x), ("x", &x)]).unwrap_err();
    assert!(
        matches!(e, Error::Input { .. }) && e.to_string().contains("sequence"),
        "{e}"
    );
    // the tensor-only API cannot feed the sequence input
    let e = s.run(&[("x", &a)]).unwrap_err();
    assert!(matches!(e, Error::Input { .. }), "{e}");
}

/// An input the spec types as int64 (a shape, repeats, axes) that holds floats is refused at
/// load, naming the node, the input and the dtype asked for, instead of truncating the floats.
#[test]
fn float_shape_inputs_are_typed_errors_naming_the_node() {
    let x = || value_info("x", 1, &[Ok(2), Ok(3)]);
    let y = || value_info("y", 1, &[Err("a"), Err("b")]);
    // as an initializer and as a graph input
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "Reshape",
            model(
                vec![node("Reshape", &["x", "s"], &["y"])],
                vec![floats("s", &[2], &[3.0, 2.0])],
                vec![x()],
                vec![y()],
            ),
            "input 1 'shape' must be a tensor of int64",
        ),
        (
            "Expand",
            model(
                vec![node("Expand", &["x", "s"], &["y"])],
                vec![],
                vec![x(), value_info("s", 1, &[Ok(2)])],
                vec![y()],
            ),
            "input 1 'shape' must be a tensor of int64",
        ),
        (
            "Tile",
            model(
                vec![node("Tile", &["x", "r"], &["y"])],
                vec![floats("r", &[2], &[1.9, 1.0])],
                vec![x()],
                vec![y()],
            ),
            "input 1 'repeats' must be a tensor of int64",
        ),
        (
            "ConstantOfShape",
            model(
                vec![node("ConstantOfShape", &["x"], &["y"])],
                vec![],
                vec![value_info("x", 11, &[Ok(2)])],
                vec![y()],
            ),
            "input 0 'input' must be a tensor of int64",
        ),
        (
            "Slice",
            model(
                vec![node("Slice", &["x", "st", "en"], &["y"])],
                vec![ints("st", &[1], &[0]), floats("en", &[1], &[1.5])],
                vec![x()],
                vec![y()],
            ),
            "input 2 'ends' must be a tensor of int32 or int64",
        ),
    ];
    for (op, bytes, want) in cases {
        let e = Session::from_bytes(&bytes)
            .err()
            .unwrap_or_else(|| panic!("{op}: loaded"));
        let msg = e.to_string();
        assert_eq!(e.code(), "DTYPE", "{op}: {msg}");
        assert!(
            msg.contains(&format!("node '{op}_node' ({op})")),
            "{op}: {msg}"
        );
        assert!(msg.contains(want), "{op}: {msg}");
    }
    // the same graphs with int64 inputs load and run
    let ok = model(
        vec![node("Reshape", &["x", "s"], &["y"])],
        vec![ints("s", &[2], &[3, 2])],
        vec![x()],
        vec![y()],
    );
    let s = Session::from_bytes(&ok).unwrap();
    let t = Tensor::from_f32(vec![2, 3], (0..6).map(|v| v as f32).collect()).unwrap();
    assert_eq!(s.run(&[("x", &t)]).unwrap()[0].shape(), &[3, 2]);
    // an int32 shape converts exactly and is accepted
    let i32s = TensorProto {
        name: Some("s".into()),
        dims: vec![2],
        data_type: Some(6),
        int32_data: vec![3, 2],
        ..Default::default()
    };
    let ok = model(
        vec![node("Reshape", &["x", "s"], &["y"])],
        vec![i32s],
        vec![x()],
        vec![y()],
    );
    assert_eq!(
        Session::from_bytes(&ok).unwrap().run(&[("x", &t)]).unwrap()[0].shape(),
        &[3, 2]
    );
}

/// A MatMul with a third input is not ONNX (the fused bias is the load-time rewrite's alone): a
/// typed error naming the node and the arity, not a bias applied in silence.
#[test]
fn matmul_with_three_inputs_is_refused() {
    let bytes = model(
        vec![node("MatMul", &["x", "w", "c"], &["y"])],
        vec![
            floats("w", &[3, 2], &[1.0; 6]),
            floats("c", &[2], &[10.0, 20.0]),
        ],
        vec![value_info("x", 1, &[Ok(2), Ok(3)])],
        vec![value_info("y", 1, &[Ok(2), Ok(2)])],
    );
    let e = Session::from_bytes(&bytes).map(|_| ()).unwrap_err();
    let Error::Node { node, source, .. } = &e else {
        panic!("{e:?}")
    };
    assert!(
        node == "MatMul_node" && matches!(**source, Error::InvalidModel(_)),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("MatMul_node") && msg.contains("expected 2..=2 inputs, got 3"),
        "{msg}"
    );
}
