//! What loading does to a graph: exporter shape chains fold away when shapes are static and
//! stay (and run) when the batch dim is symbolic; dead nodes are pruned; facts are inferred for
//! models that were never shape-inferred.

mod common;

use common::{floats, int_attr, ints, model, node, value_info};
use hearth::onnx::proto::NodeProto;
use hearth::{Dim, Session, Tensor};

/// x → Shape → Gather(0) → Unsqueeze → Concat(-1) → Reshape(x): PyTorch's `x.view(x.size(0), -1)`.
fn flatten_chain(batch: Result<i64, &str>) -> Vec<u8> {
    let mut gather = node("Gather", &["s", "zero"], &["b"]);
    gather.attribute.push(int_attr("axis", 0));
    let mut concat = node("Concat", &["bu", "minus1"], &["shape"]);
    concat.attribute.push(int_attr("axis", 0));
    let nodes: Vec<NodeProto> = vec![
        node("Shape", &["x"], &["s"]),
        gather,
        node("Unsqueeze", &["b", "axes0"], &["bu"]),
        concat,
        node("Reshape", &["x", "shape"], &["y"]),
        // dead: nobody reads "unused"
        node("Relu", &["x"], &["unused"]),
    ];
    model(
        nodes,
        vec![
            ints("zero", &[], &[0]),
            ints("axes0", &[1], &[0]),
            ints("minus1", &[1], &[-1]),
        ],
        vec![value_info("x", 1, &[batch, Ok(3), Ok(4)])],
        vec![value_info("y", 1, &[Err("batch"), Ok(12)])],
    )
}

/// A float32 output with no declared shape.
fn untyped_shape(name: &str) -> hearth::onnx::proto::ValueInfoProto {
    use hearth::onnx::proto::{type_proto, TypeProto, ValueInfoProto};
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(1),
                shape: None,
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn op_names(s: &Session) -> Vec<&'static str> {
    s.graph().nodes.iter().map(|n| n.op.name()).collect()
}

#[test]
fn static_shape_chain_folds_to_one_reshape() {
    let s = Session::from_bytes(&flatten_chain(Ok(2))).unwrap();
    assert_eq!(
        op_names(&s),
        vec!["Reshape"],
        "the Shape→…→Concat chain folds; the dead Relu is pruned"
    );
    let x = Tensor::from_f32(vec![2, 3, 4], (0..24).map(|i| i as f32).collect()).unwrap();
    let y = s.run(&[("x", &x)]).unwrap();
    assert_eq!(y[0].shape(), &[2, 12]);
}

#[test]
fn symbolic_batch_keeps_the_chain_and_runs_any_batch() {
    let s = Session::from_bytes(&flatten_chain(Err("batch"))).unwrap();
    let names = op_names(&s);
    assert!(
        names.contains(&"Shape") && !names.contains(&"Relu"),
        "{names:?}"
    );
    for b in [1, 5] {
        let x = Tensor::from_f32(vec![b, 3, 4], vec![1.0; b * 12]).unwrap();
        let y = s.run(&[("x", &x)]).unwrap();
        assert_eq!(y[0].shape(), &[b, 12]);
    }
    assert_eq!(
        s.inputs()[0].shape.as_ref().unwrap()[0],
        Dim::Sym("batch".into())
    );
}

#[test]
fn facts_are_inferred_without_value_info() {
    // x [batch, 4] · w [4, 3] + b → Relu: no value_info, and the output's shape left undeclared
    let m = model(
        vec![
            node("MatMul", &["x", "w"], &["h"]),
            node("Add", &["h", "b"], &["a"]),
            node("Relu", &["a"], &["y"]),
        ],
        vec![
            floats("w", &[4, 3], &[0.5; 12]),
            floats("b", &[3], &[1.0, -10.0, 0.0]),
        ],
        vec![value_info("x", 1, &[Err("batch"), Ok(4)])],
        vec![untyped_shape("y")],
    );
    let s = Session::from_bytes(&m).unwrap();
    let g = s.graph();
    let h = g.find_value("h").unwrap();
    assert_eq!(
        g.values[h].fact.shape,
        Some(vec![Dim::Sym("batch".into()), Dim::Known(3)])
    );
    assert_eq!(g.values[h].fact.dtype, Some(hearth::DType::F32));
    let out = &s.outputs()[0];
    assert_eq!(
        out.shape,
        Some(vec![Dim::Sym("batch".into()), Dim::Known(3)]),
        "output shape inferred"
    );
    let x = Tensor::from_f32(vec![2, 4], vec![1.0; 8]).unwrap();
    let y = s.run(&[("x", &x)]).unwrap();
    assert_eq!(y[0].as_f32().unwrap(), &[3.0, 0.0, 2.0, 3.0, 0.0, 2.0]);
}

#[test]
fn constant_subgraphs_fold_at_load() {
    // (c1 + c2) * x: the Add of two initializers is computed once at load
    let m = model(
        vec![
            node("Add", &["c1", "c2"], &["c"]),
            node("Mul", &["c", "x"], &["y"]),
        ],
        vec![
            floats("c1", &[2], &[1.0, 2.0]),
            floats("c2", &[2], &[3.0, 4.0]),
        ],
        vec![value_info("x", 1, &[Ok(2)])],
        vec![value_info("y", 1, &[Ok(2)])],
    );
    let s = Session::from_bytes(&m).unwrap();
    assert_eq!(op_names(&s), vec!["Mul"]);
    let y = s
        .run(&[("x", &Tensor::from_f32(vec![2], vec![2.0, 0.5]).unwrap())])
        .unwrap();
    assert_eq!(y[0].as_f32().unwrap(), &[8.0, 3.0]);
}
