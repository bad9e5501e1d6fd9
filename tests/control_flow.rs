//! `Loop` and `Scan` beyond what the ONNX node tests cover (those are the reference for the
//! default attributes): Scan's axes and directions (opset 9+), opset 8's batch axis and
//! `sequence_lens`, a Loop's while-condition, outer-scope values and zero iterations, each
//! checked against a scalar twin written here; and malformed nodes giving errors that name them.

mod common;

use common::{int_attr, node, value_info};
use hearth::onnx::proto::{
    attribute_proto::AttributeType, AttributeProto, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, TensorProto, ValueInfoProto,
};
use hearth::{Error, Session, Tensor};
use prost::Message;

fn graph(
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
    inputs: Vec<ValueInfoProto>,
    outputs: Vec<ValueInfoProto>,
) -> GraphProto {
    GraphProto {
        node: nodes,
        initializer: inits,
        input: inputs,
        output: outputs,
        name: Some("g".into()),
        ..Default::default()
    }
}

fn model(opset: i64, g: GraphProto) -> Vec<u8> {
    ModelProto {
        ir_version: Some(8),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(opset),
        }],
        graph: Some(g),
        ..Default::default()
    }
    .encode_to_vec()
}

fn graph_attr(name: &str, g: GraphProto) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Graph as i32),
        g: Some(g),
        ..Default::default()
    }
}

fn ints_attr(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Ints as i32),
        ints: v.to_vec(),
        ..Default::default()
    }
}

fn f32_info(name: &str) -> ValueInfoProto {
    value_info(name, 1, &[])
}

/// Deterministic test values.
fn values(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2654435761).wrapping_add(1);
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s % 1000) as f32 / 100.0 - 5.0
        })
        .collect()
}

/// Scan body: `(s, a, b) → (s + a·b, s + a·b, a - b)`: one state, two scan inputs, two scan
/// outputs (the running sum and the difference).
fn scan_body() -> GraphProto {
    graph(
        vec![
            node("Mul", &["a", "b"], &["ab"]),
            node("Add", &["s", "ab"], &["s_out"]),
            node("Identity", &["s_out"], &["run"]),
            node("Sub", &["a", "b"], &["diff"]),
        ],
        vec![],
        vec![f32_info("s"), f32_info("a"), f32_info("b")],
        vec![f32_info("s_out"), f32_info("run"), f32_info("diff")],
    )
}

/// Index of element `idx` (row-major) of a tensor of `shape`.
fn at(shape: &[usize], idx: &[usize]) -> usize {
    idx.iter().zip(shape).fold(0, |acc, (&i, &d)| acc * d + i)
}

#[test]
fn scan_axes_and_directions_match_a_scalar_twin() {
    // a: [4, 3] scanned over axis 1 (3 steps of [4]), reversed; b: [3, 4] over axis 0, forward.
    // Outputs: the state [4]; `run` stacked on axis 1 ([4, 3]) in reverse; `diff` on axis 0.
    let (n, t) = (4usize, 3usize);
    let mut scan = node("Scan", &["s0", "a", "b"], &["s_final", "runs", "diffs"]);
    scan.attribute = vec![
        graph_attr("body", scan_body()),
        int_attr("num_scan_inputs", 2),
        ints_attr("scan_input_axes", &[-1, 0]),
        ints_attr("scan_input_directions", &[1, 0]),
        ints_attr("scan_output_axes", &[1, 0]),
        ints_attr("scan_output_directions", &[1, 0]),
    ];
    let g = graph(
        vec![scan],
        vec![],
        vec![
            value_info("s0", 1, &[Ok(4)]),
            value_info("a", 1, &[Ok(4), Ok(3)]),
            value_info("b", 1, &[Ok(3), Ok(4)]),
        ],
        vec![f32_info("s_final"), f32_info("runs"), f32_info("diffs")],
    );
    let s = Session::from_bytes(&model(16, g)).unwrap();
    let (s0, a, b) = (values(n, 1), values(n * t, 2), values(t * n, 3));
    let out = s
        .run(&[
            ("s0", &Tensor::from_f32(vec![n], s0.clone()).unwrap()),
            ("a", &Tensor::from_f32(vec![n, t], a.clone()).unwrap()),
            ("b", &Tensor::from_f32(vec![t, n], b.clone()).unwrap()),
        ])
        .unwrap();

    // the twin: step k reads a[:, t-1-k] and b[k, :]
    let mut state = s0;
    let mut runs = vec![0f32; n * t];
    let mut diffs = vec![0f32; t * n];
    for k in 0..t {
        for i in 0..n {
            let x = a[at(&[n, t], &[i, t - 1 - k])];
            let y = b[at(&[t, n], &[k, i])];
            state[i] += x * y;
            // run output reversed along axis 1: step k lands at column t-1-k
            runs[at(&[n, t], &[i, t - 1 - k])] = state[i];
            diffs[at(&[t, n], &[k, i])] = x - y;
        }
    }
    assert_eq!(out[0].shape(), &[n]);
    assert_eq!(out[1].shape(), &[n, t]);
    assert_eq!(out[2].shape(), &[t, n]);
    // same operations in the same order: exact
    assert_eq!(out[0].as_f32().unwrap(), &state[..]);
    assert_eq!(out[1].as_f32().unwrap(), &runs[..]);
    assert_eq!(out[2].as_f32().unwrap(), &diffs[..]);
}

#[test]
fn scan8_batches_with_sequence_lens_match_a_scalar_twin() {
    // opset 8: axis 0 is a batch axis; a and b are [batch 2, seq 3, 2]; the second batch entry
    // has length 1; `directions` reverses b. Steps past a length leave zeros in scan outputs.
    let (batch, t, n) = (2usize, 3usize, 2usize);
    let lens = [3usize, 1];
    let mut scan = node(
        "Scan",
        &["lens", "s0", "a", "b"],
        &["s_final", "runs", "diffs"],
    );
    scan.attribute = vec![
        graph_attr("body", scan_body()),
        int_attr("num_scan_inputs", 2),
        ints_attr("directions", &[0, 1]),
    ];
    let g = graph(
        vec![scan],
        vec![common::ints("lens", &[2], &[3, 1])],
        vec![
            value_info("s0", 1, &[Ok(2), Ok(2)]),
            value_info("a", 1, &[Ok(2), Ok(3), Ok(2)]),
            value_info("b", 1, &[Ok(2), Ok(3), Ok(2)]),
        ],
        vec![f32_info("s_final"), f32_info("runs"), f32_info("diffs")],
    );
    let s = Session::from_bytes(&model(8, g)).unwrap();
    let (s0, a, b) = (
        values(batch * n, 4),
        values(batch * t * n, 5),
        values(batch * t * n, 6),
    );
    let out = s
        .run(&[
            ("s0", &Tensor::from_f32(vec![batch, n], s0.clone()).unwrap()),
            (
                "a",
                &Tensor::from_f32(vec![batch, t, n], a.clone()).unwrap(),
            ),
            (
                "b",
                &Tensor::from_f32(vec![batch, t, n], b.clone()).unwrap(),
            ),
        ])
        .unwrap();

    let mut state = s0;
    let mut runs = vec![0f32; batch * t * n];
    let mut diffs = vec![0f32; batch * t * n];
    for (bi, &len) in lens.iter().enumerate() {
        for k in 0..len {
            for i in 0..n {
                let x = a[at(&[batch, t, n], &[bi, k, i])];
                let y = b[at(&[batch, t, n], &[bi, len - 1 - k, i])];
                state[bi * n + i] += x * y;
                runs[at(&[batch, t, n], &[bi, k, i])] = state[bi * n + i];
                diffs[at(&[batch, t, n], &[bi, k, i])] = x - y;
            }
        }
    }
    assert_eq!(out[0].shape(), &[batch, n]);
    assert_eq!(out[1].shape(), &[batch, t, n]);
    assert_eq!(out[0].as_f32().unwrap(), &state[..]);
    assert_eq!(out[1].as_f32().unwrap(), &runs[..]);
    assert_eq!(out[2].as_f32().unwrap(), &diffs[..]);
}

/// `Loop(M, cond, x)` whose body adds the outer-scope `step` to `x` and continues while
/// `x < limit`; scan output: each iteration's `x`.
fn while_loop(m: i64) -> Vec<u8> {
    let body = graph(
        vec![
            node("Add", &["x_in", "step"], &["x_out"]),
            node("Less", &["x_out", "limit"], &["cond_out"]),
            node("Identity", &["x_out"], &["x_scan"]),
        ],
        vec![],
        vec![
            value_info("i", 7, &[]),
            value_info("cond_in", 9, &[]),
            f32_info("x_in"),
        ],
        vec![
            value_info("cond_out", 9, &[]),
            f32_info("x_out"),
            value_info("x_scan", 1, &[Ok(1)]),
        ],
    );
    let mut lp = node("Loop", &["M", "cond", "x0"], &["x_final", "xs"]);
    lp.attribute = vec![graph_attr("body", body)];
    let cond = TensorProto {
        name: Some("cond".into()),
        dims: vec![],
        data_type: Some(9),
        int32_data: vec![1],
        ..Default::default()
    };
    model(
        16,
        graph(
            vec![lp],
            vec![common::ints("M", &[], &[m]), cond],
            vec![
                value_info("x0", 1, &[Ok(1)]),
                value_info("step", 1, &[Ok(1)]),
                value_info("limit", 1, &[Ok(1)]),
            ],
            vec![f32_info("x_final"), f32_info("xs")],
        ),
    )
}

#[test]
fn loop_condition_trip_count_and_outer_values_match_a_scalar_twin() {
    for (m, x0, step, limit) in [
        (10, 0.5f32, 1.25f32, 4.0f32), // the condition ends it after 3 iterations
        (2, 0.5, 1.25, 4.0),           // the trip count ends it first
        (10, 9.0, 1.0, 4.0),           // the first iteration already fails the condition
        (0, 0.5, 1.0, 4.0),            // no iteration: x0 and an empty scan output
    ] {
        let s = Session::from_bytes(&while_loop(m)).unwrap();
        let t = |v: f32| Tensor::from_f32(vec![1], vec![v]).unwrap();
        let out = s
            .run(&[("x0", &t(x0)), ("step", &t(step)), ("limit", &t(limit))])
            .unwrap();
        let (mut x, mut xs, mut cond, mut i) = (x0, vec![], true, 0);
        while i < m && cond {
            x += step;
            cond = x < limit;
            xs.push(x);
            i += 1;
        }
        let what = format!("M={m} x0={x0}");
        assert_eq!(out[0].as_f32().unwrap(), &[x], "{what}");
        assert_eq!(out[1].shape(), &[xs.len(), 1], "{what}");
        assert_eq!(out[1].as_f32().unwrap(), &xs[..], "{what}");
    }
}

fn message(e: &Error) -> String {
    format!("{e}")
}

#[test]
fn malformed_loop_and_scan_name_the_node() {
    // a Loop body that takes one input too few for its carried value
    let body = graph(
        vec![node("Identity", &["c"], &["c_out"])],
        vec![],
        vec![value_info("c", 9, &[])],
        vec![value_info("c_out", 9, &[]), f32_info("c_out")],
    );
    let mut lp = node("Loop", &["", "", "x"], &["y"]);
    lp.attribute = vec![graph_attr("body", body)];
    let g = graph(
        vec![lp],
        vec![],
        vec![value_info("x", 1, &[Ok(1)])],
        vec![f32_info("y")],
    );
    let Err(e) = Session::from_bytes(&model(16, g)) else {
        panic!("a Loop body with too few inputs loaded")
    };
    assert!(message(&e).contains("Loop_node"), "{e}");
    assert!(message(&e).contains("inputs"), "{e}");

    // Scan inputs whose scan axes differ in length: a run-time error naming the node
    let mut scan = node("Scan", &["s0", "a", "b"], &["s_final", "runs", "diffs"]);
    scan.attribute = vec![
        graph_attr("body", scan_body()),
        int_attr("num_scan_inputs", 2),
    ];
    let g = graph(
        vec![scan],
        vec![],
        vec![
            value_info("s0", 1, &[Ok(2)]),
            value_info("a", 1, &[Err("t"), Ok(2)]),
            value_info("b", 1, &[Err("u"), Ok(2)]),
        ],
        vec![f32_info("s_final"), f32_info("runs"), f32_info("diffs")],
    );
    let s = Session::from_bytes(&model(16, g)).unwrap();
    let x = |rows: usize| Tensor::from_f32(vec![rows, 2], values(rows * 2, 7)).unwrap();
    let s0 = Tensor::from_f32(vec![2], vec![0.0; 2]).unwrap();
    let e = s
        .run(&[("s0", &s0), ("a", &x(3)), ("b", &x(2))])
        .unwrap_err();
    assert!(matches!(e, Error::Node { .. }), "{e:?}");
    assert!(message(&e).contains("Scan_node"), "{e}");
    assert!(message(&e).contains("steps"), "{e}");
}

/// Names of the ops left in `g` and all its subgraphs.
fn ops_in(g: &hearth::ir::Graph, out: &mut Vec<String>) {
    for n in &g.nodes {
        out.push(n.op.name().to_string());
        for s in n.op.subgraphs() {
            ops_in(s, out);
        }
    }
}

/// An `If` nested in an `If`, whose branches slice the outer initializer `W` [4, 3] (as
/// exporters put a branch's weights in the enclosing graph): the outer constants are constants
/// in the branches too, so the Slices fold when the model loads (at any depth), and every branch
/// still computes what a scalar twin does.
#[test]
fn branches_fold_what_they_read_of_outer_constants() {
    let w: Vec<f32> = values(12, 7);
    let slice = |from: i64, to: i64, out: &str| {
        let mut n = node("Slice", &["W", "", "", "axes"], &[out]);
        n.input[1] = format!("from{from}");
        n.input[2] = format!("to{to}");
        n
    };
    let rows = |name: &str, from: i64, to: i64| {
        graph(
            vec![slice(from, to, "s"), node("MatMul", &["x", "s"], &[name])],
            vec![],
            vec![],
            vec![value_info(name, 1, &[Ok(1), Ok(3)])],
        )
    };
    let mut inner = node("If", &["c2"], &["y_inner"]);
    inner.attribute = vec![
        graph_attr("then_branch", rows("y_inner_then", 0, 2)),
        graph_attr("else_branch", rows("y_inner_else", 2, 4)),
    ];
    let then_b = graph(
        vec![inner, node("Identity", &["y_inner"], &["y_then"])],
        vec![],
        vec![],
        vec![value_info("y_then", 1, &[Ok(1), Ok(3)])],
    );
    let else_b = graph(
        vec![
            slice(1, 3, "s_else"),
            node("MatMul", &["x", "s_else"], &["y_else"]),
        ],
        vec![],
        vec![],
        vec![value_info("y_else", 1, &[Ok(1), Ok(3)])],
    );
    let mut top = node("If", &["c1"], &["y"]);
    top.attribute = vec![
        graph_attr("then_branch", then_b),
        graph_attr("else_branch", else_b),
    ];
    let mut inits = vec![
        common::floats("W", &[4, 3], &w),
        common::ints("axes", &[1], &[0]),
    ];
    for k in 0..=4 {
        inits.push(common::ints(&format!("from{k}"), &[1], &[k]));
        inits.push(common::ints(&format!("to{k}"), &[1], &[k]));
    }
    let g = graph(
        vec![top],
        inits,
        vec![
            value_info("c1", 9, &[]),
            value_info("c2", 9, &[]),
            value_info("x", 1, &[Ok(1), Ok(2)]),
        ],
        vec![value_info("y", 1, &[Ok(1), Ok(3)])],
    );
    let s = Session::from_bytes(&model(13, g)).unwrap();
    let mut ops = vec![];
    ops_in(s.graph(), &mut ops);
    assert!(!ops.iter().any(|o| o == "Slice"), "ops left: {ops:?}");
    assert_eq!(ops.iter().filter(|o| *o == "MatMul").count(), 3, "{ops:?}");

    let x = [0.75f32, -1.5];
    let xt = Tensor::from_f32(vec![1, 2], x.to_vec()).unwrap();
    for (c1, c2) in [(true, true), (true, false), (false, true), (false, false)] {
        let b = |v: bool| Tensor::from_bool(vec![], vec![v]).unwrap();
        let out = s
            .run(&[("c1", &b(c1)), ("c2", &b(c2)), ("x", &xt)])
            .unwrap();
        let from = match (c1, c2) {
            (true, true) => 0,
            (true, false) => 2,
            (false, _) => 1,
        };
        let want: Vec<f32> = (0..3)
            .map(|j| x[0] * w[from * 3 + j] + x[1] * w[(from + 1) * 3 + j])
            .collect();
        assert_eq!(out[0].as_f32().unwrap(), &want[..], "c1={c1} c2={c2}");
    }
}
