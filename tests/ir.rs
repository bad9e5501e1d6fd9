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

/// Load-time fusion (`ir::rewrite`): BatchNormalization folds into the Conv before it and
/// Clip / HardSwish / Relu run in the Conv's epilogue; the fused graph computes what the parsed
/// graph's separate kernels compute (tolerance 1e-5 + 1e-4·|x|: the folded weights round
/// differently). A Conv whose output has a second reader is left alone.
#[test]
fn conv_batchnorm_activation_fusion_matches_the_unfused_graph() {
    use hearth::onnx::{parse::parse_model, tensor::ExternalData};
    use hearth::plan::{run_graph, Plan};
    let vals = |n: usize, seed: u32| -> Vec<f32> {
        (0..n)
            .map(|i| (((i as u32).wrapping_mul(2654435761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    };
    let pos =
        |n: usize, seed: u32| -> Vec<f32> { vals(n, seed).iter().map(|v| 1.0 + 0.5 * v).collect() };
    let conv = |inputs: &[&str], out: &str, k: i64, group: i64| {
        let mut n = node("Conv", inputs, &[out]);
        n.attribute.push(hearth::onnx::proto::AttributeProto {
            name: Some("pads".into()),
            r#type: Some(hearth::onnx::proto::attribute_proto::AttributeType::Ints as i32),
            ints: vec![k / 2; 4],
            ..Default::default()
        });
        n.attribute.push(int_attr("group", group));
        n
    };
    let bn = |p: &str, x: &str, y: &str| {
        node(
            "BatchNormalization",
            &[
                x,
                &format!("{p}s"),
                &format!("{p}b"),
                &format!("{p}m"),
                &format!("{p}v"),
            ],
            &[y],
        )
    };
    let bn_params = |p: &str, c: usize, seed: u32| {
        vec![
            floats(&format!("{p}s"), &[c as i64], &pos(c, seed)),
            floats(&format!("{p}b"), &[c as i64], &vals(c, seed + 1)),
            floats(&format!("{p}m"), &[c as i64], &vals(c, seed + 2)),
            floats(&format!("{p}v"), &[c as i64], &pos(c, seed + 3)),
        ]
    };
    let mut inits = vec![
        floats("w1", &[8, 4, 3, 3], &vals(8 * 4 * 9, 1)),
        floats("b1", &[8], &vals(8, 2)),
        floats("w2", &[8, 1, 3, 3], &vals(8 * 9, 3)),
        floats("w3", &[6, 8, 1, 1], &vals(6 * 8, 4)),
        floats("lo", &[], &[0.0]),
        floats("hi", &[], &[0.5]),
    ];
    inits.extend(bn_params("n1", 8, 10));
    inits.extend(bn_params("n2", 8, 20));
    let nodes = vec![
        conv(&["x", "w1", "b1"], "c1", 3, 1),
        bn("n1", "c1", "d1"),
        node("Clip", &["d1", "lo", "hi"], &["a1"]),
        conv(&["a1", "w2"], "c2", 3, 8),
        bn("n2", "c2", "d2"),
        node("HardSwish", &["d2"], &["a2"]),
        conv(&["a2", "w3"], "c3", 1, 1),
        // c3 has two readers: no fusion
        node("Relu", &["c3"], &["y"]),
        node("Sigmoid", &["c3"], &["z"]),
    ];
    let bytes = model(
        nodes,
        inits,
        vec![value_info("x", 1, &[Ok(1), Ok(4), Ok(7), Ok(9)])],
        vec![
            value_info("y", 1, &[Ok(1), Ok(6), Ok(7), Ok(9)]),
            value_info("z", 1, &[Ok(1), Ok(6), Ok(7), Ok(9)]),
        ],
    );
    let eval = &hearth::backend::cpu::run;
    let parse = || {
        parse_model(&bytes, &ExternalData { files: &[] }, eval)
            .unwrap()
            .graph
    };
    let (plain, mut fused) = (parse(), parse());
    assert_eq!(
        hearth::ir::rewrite::fuse(&mut fused),
        4,
        "BN ×2, Clip, HardSwish fused"
    );
    assert_eq!(fused.nodes.len(), plain.nodes.len() - 4);
    let x = Tensor::from_f32(vec![1, 4, 7, 9], vals(4 * 63, 99)).unwrap();
    let want = run_graph(&plain, &Plan::new(&plain), &[&x], &[]).unwrap();
    let got = run_graph(&fused, &Plan::new(&fused), &[&x], &[]).unwrap();
    assert_eq!(want.len(), 2);
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.shape(), w.shape());
        for (a, b) in g.as_f32().unwrap().iter().zip(w.as_f32().unwrap()) {
            assert!((a - b).abs() <= 1e-5 + 1e-4 * b.abs(), "{a} vs {b}");
        }
    }
    // the session runs the fused graph and gives the same outputs
    let s = Session::from_bytes(&bytes).unwrap();
    let out = s.run(&[("x", &x)]).unwrap();
    for (g, w) in out.iter().zip(&want) {
        for (a, b) in g.as_f32().unwrap().iter().zip(w.as_f32().unwrap()) {
            assert!((a - b).abs() <= 1e-5 + 1e-4 * b.abs(), "{a} vs {b}");
        }
    }
}
