//! Load-time rewrites (`ir::rewrite`) on the patterns exporters write: constant affine maps
//! folded into the Conv before them, the decomposed HardSwish recognised as one op, the affine
//! after a fused HardSwish joined to the Conv's epilogue. Every rewritten graph is run against the
//! graph as parsed (tolerance 1e-5 + 1e-4·|x| where weights are refolded: they round
//! differently; bit for bit where only the epilogue changed), and every near miss — a wrong
//! constant, a second reader, a graph output, another dtype, a broadcast that changes the shape —
//! must leave the graph as it is.

mod common;

use common::{floats, int_attr, model, node, value_info};
use hearth::ir::Graph;
use hearth::onnx::proto::{attribute_proto::AttributeType, AttributeProto, NodeProto, TensorProto};
use hearth::onnx::{parse::parse_model, tensor::ExternalData};
use hearth::plan::{run_graph, Plan};
use hearth::{Session, Tensor};

fn vals(n: usize, seed: u32) -> Vec<f32> {
    (0..n)
        .map(|i| (((i as u32).wrapping_mul(2654435761) ^ seed) % 1000) as f32 / 250.0 - 2.0)
        .collect()
}

fn conv(inputs: &[&str], out: &str, k: i64, group: i64) -> NodeProto {
    let mut n = node("Conv", inputs, &[out]);
    n.attribute.push(AttributeProto {
        name: Some("pads".into()),
        r#type: Some(AttributeType::Ints as i32),
        ints: vec![k / 2; 4],
        ..Default::default()
    });
    n.attribute.push(int_attr("group", group));
    n
}

fn float_attr(name: &str, f: f32) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Float as i32),
        f: Some(f),
        ..Default::default()
    }
}

/// A one-value f32 initializer of shape `[1]` (as Paddle's exporter writes them).
fn one(name: &str, v: f32) -> TensorProto {
    floats(name, &[1], &[v])
}

fn parsed(bytes: &[u8]) -> Graph {
    parse_model(
        bytes,
        &ExternalData { files: &[] },
        &hearth::backend::cpu::run,
    )
    .unwrap()
    .graph
}

fn ops(g: &Graph) -> Vec<&'static str> {
    g.nodes.iter().map(|n| n.op.name()).collect()
}

/// Fuses the parsed graph of `bytes`, runs both on `x` and checks they agree (`exact`: bit for
/// bit); returns how many nodes the rewrite removed and the fused graph's ops.
fn fuse_and_compare(bytes: &[u8], x: &Tensor, exact: bool) -> (usize, Vec<&'static str>) {
    let plain = parsed(bytes);
    let mut fused = parsed(bytes);
    let removed = hearth::ir::rewrite::fuse(&mut fused);
    assert_eq!(fused.nodes.len() + removed, plain.nodes.len());
    let want = run_graph(&plain, &Plan::new(&plain), &[x], &[]).unwrap();
    let got = run_graph(&fused, &Plan::new(&fused), &[x], &[]).unwrap();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.shape(), w.shape());
        for (a, b) in g.as_f32().unwrap().iter().zip(w.as_f32().unwrap()) {
            if exact {
                assert_eq!(a.to_bits(), b.to_bits(), "{a} vs {b}");
            } else {
                assert!((a - b).abs() <= 1e-5 + 1e-4 * b.abs(), "{a} vs {b}");
            }
        }
    }
    (removed, ops(&fused))
}

/// Three PP-LCNet-style blocks (Conv → affine → decomposed HardSwish → affine), each written
/// another way, fuse into three Convs; the session runs the fused graph.
#[test]
fn lcnet_blocks_fuse_into_their_convs() {
    let inits = vec![
        floats("w1", &[8, 4, 3, 3], &vals(8 * 4 * 9, 1)),
        floats("b1", &[8], &vals(8, 2)),
        floats("w2", &[8, 1, 3, 3], &vals(8 * 9, 3)),
        floats("w3", &[6, 8, 1, 1], &vals(6 * 8, 4)),
        floats("b3", &[6], &vals(6, 5)),
        floats("chan", &[1, 8, 1, 1], &vals(8, 6)),
        one("ka", 1.384),
        one("kb", 0.586),
        one("kc", 0.1675),
        one("kd", 3.47e-5),
        one("kb2", -0.25),
        one("ke", 0.125),
        one("kf", 2.0),
        one("three", 3.0),
        floats("zero", &[], &[0.0]),
        floats("six", &[], &[6.0]),
        one("six1", 6.0),
        one("sixth", 1.0 / 6.0),
    ];
    let mut hsig = node("HardSigmoid", &["d3"], &["hs3"]);
    hsig.attribute.push(float_attr("alpha", 0.1666667));
    hsig.attribute.push(float_attr("beta", 0.5));
    let nodes = vec![
        // Paddle's order: constant first in the Muls, `(x·Clip(x + 3)) / 6`
        conv(&["x", "w1", "b1"], "c1", 3, 1),
        node("Mul", &["ka", "c1"], &["m1"]),
        node("Add", &["m1", "kb"], &["a1"]),
        node("Add", &["a1", "three"], &["t1"]),
        node("Clip", &["t1", "zero", "six"], &["cl1"]),
        node("Mul", &["a1", "cl1"], &["h1m"]),
        node("Div", &["h1m", "six1"], &["h1"]),
        node("Mul", &["kc", "h1"], &["p1"]),
        node("Add", &["p1", "kd"], &["q1"]),
        // depthwise without bias, a per-channel scale, `Sub`, `(Clip(3 + x) · 1/6) · x`
        conv(&["q1", "w2"], "c2", 3, 8),
        node("Mul", &["c2", "chan"], &["m2"]),
        node("Sub", &["m2", "kb2"], &["a2"]),
        node("Add", &["three", "a2"], &["t2"]),
        node("Clip", &["t2", "zero", "six"], &["cl2"]),
        node("Mul", &["cl2", "sixth"], &["g2"]),
        node("Mul", &["g2", "a2"], &["h2"]),
        node("Sub", &["h2", "ke"], &["p2"]),
        // 1 × 1, `Div` by a constant, `x · HardSigmoid(x)`, the graph's output
        conv(&["p2", "w3", "b3"], "c3", 1, 1),
        node("Div", &["c3", "kf"], &["d3"]),
        hsig,
        node("Mul", &["d3", "hs3"], &["y"]),
    ];
    let bytes = model(
        nodes,
        inits,
        vec![value_info("x", 1, &[Ok(1), Ok(4), Ok(6), Ok(10)])],
        vec![value_info("y", 1, &[Ok(1), Ok(6), Ok(6), Ok(10)])],
    );
    let x = Tensor::from_f32(vec![1, 4, 6, 10], vals(240, 99)).unwrap();
    let (removed, ops) = fuse_and_compare(&bytes, &x, false);
    assert_eq!(ops, ["Conv", "Conv", "Conv"]);
    assert_eq!(removed, 18);
    // the session loads the fused graph and gives the parsed graph's outputs
    let plain = parsed(&bytes);
    let want = run_graph(&plain, &Plan::new(&plain), &[&x], &[]).unwrap();
    let s = Session::from_bytes(&bytes).unwrap();
    assert_eq!(s.graph().nodes.len(), 3);
    let out = s.run(&[("x", &x)]).unwrap();
    for (a, b) in out[0]
        .as_f32()
        .unwrap()
        .iter()
        .zip(want[0].as_f32().unwrap())
    {
        assert!((a - b).abs() <= 1e-5 + 1e-4 * b.abs(), "{a} vs {b}");
    }
}

/// A Mul and a Sub after a fused HardSwish run in the epilogue, bit for bit as the separate
/// kernels compute them (the Conv's weights are untouched); a second Add after that stays.
#[test]
fn affine_after_hard_swish_joins_the_epilogue_exactly() {
    let bytes = model(
        vec![
            conv(&["x", "w", "b"], "c", 3, 1),
            node("HardSwish", &["c"], &["h"]),
            node("Mul", &["h", "k"], &["m"]),
            node("Sub", &["m", "d"], &["s"]),
            node("Add", &["s", "d"], &["y"]),
        ],
        vec![
            floats("w", &[5, 3, 3, 3], &vals(135, 7)),
            floats("b", &[5], &vals(5, 8)),
            floats("k", &[], &[0.731]),
            one("d", 0.0857),
        ],
        vec![value_info("x", 1, &[Ok(1), Ok(3), Ok(5), Ok(7)])],
        vec![value_info("y", 1, &[Ok(1), Ok(5), Ok(5), Ok(7)])],
    );
    let x = Tensor::from_f32(vec![1, 3, 5, 7], vals(105, 11)).unwrap();
    let (removed, ops) = fuse_and_compare(&bytes, &x, true);
    assert_eq!((removed, ops), (3, vec!["Conv", "Add"]));
}

/// x · Clip(x + 3, 0, 6) / 6 on a graph input, with one thing changed (see `cases`).
fn hard_swish_graph(change: &str) -> Vec<u8> {
    let mut inits = vec![
        one("three", if change == "add 2.5" { 2.5 } else { 3.0 }),
        floats("zero", &[], &[0.0]),
        floats("six", &[], &[if change == "clip to 5" { 5.0 } else { 6.0 }]),
        match change {
            "div by 6.5" => one("den", 6.5),
            "rank 5 divisor" => floats("den", &[1, 1, 1, 1, 1], &[6.0]),
            _ => one("den", 6.0),
        },
    ];
    let mut outputs = vec![value_info("y", 1, &[Ok(1), Ok(2), Ok(3), Ok(4)])];
    if change == "rank 5 divisor" {
        outputs[0] = value_info("y", 1, &[Ok(1), Ok(1), Ok(2), Ok(3), Ok(4)]);
    }
    let mut nodes = vec![
        node("Add", &["x", "three"], &["t"]),
        node("Clip", &["t", "zero", "six"], &["c"]),
        node(
            "Mul",
            &[if change == "other x" { "x2" } else { "x" }, "c"],
            &["m"],
        ),
    ];
    if change == "mul by 0.17" {
        inits.push(one("k", 0.17));
        nodes.push(node("Mul", &["m", "k"], &["y"]));
    } else {
        nodes.push(node("Div", &["m", "den"], &["y"]));
    }
    match change {
        "clip is an output" => outputs.push(value_info("c", 1, &[Ok(1), Ok(2), Ok(3), Ok(4)])),
        "t has a second reader" => {
            nodes.push(node("Relu", &["t"], &["z"]));
            outputs.push(value_info("z", 1, &[Ok(1), Ok(2), Ok(3), Ok(4)]));
        }
        _ => {}
    }
    let mut inputs = vec![value_info("x", 1, &[Ok(1), Ok(2), Ok(3), Ok(4)])];
    if change == "other x" {
        inputs.push(value_info("x2", 1, &[Ok(1), Ok(2), Ok(3), Ok(4)]));
    }
    model(nodes, inits, inputs, outputs)
}

#[test]
fn decomposed_hard_swish_becomes_one_op_and_near_misses_stay() {
    let x = Tensor::from_f32(
        vec![1, 2, 3, 4],
        vals(24, 5).iter().map(|v| 2.5 * v).collect(),
    )
    .unwrap();
    let (removed, ops) = fuse_and_compare(&hard_swish_graph(""), &x, false);
    assert_eq!((removed, ops), (3, vec!["HardSwish"]));
    for change in [
        "clip to 5",
        "add 2.5",
        "div by 6.5",
        "mul by 0.17",
        "rank 5 divisor",
        "clip is an output",
        "t has a second reader",
    ] {
        let (removed, _) = fuse_and_compare(&hard_swish_graph(change), &x, true);
        assert_eq!(removed, 0, "{change}");
    }
    // the Mul's x is another input
    let mut f = parsed(&hard_swish_graph("other x"));
    assert_eq!(hearth::ir::rewrite::fuse(&mut f), 0);
}

/// The same pattern in float64 is left alone (the rewrites are f32 only); so is a HardSigmoid
/// whose alpha is not 1/6.
#[test]
fn hard_swish_in_other_dtypes_or_slopes_is_left_alone() {
    let d = |name: &str, v: f64| TensorProto {
        name: Some(name.into()),
        dims: vec![],
        data_type: Some(11),
        double_data: vec![v],
        ..Default::default()
    };
    let bytes = model(
        vec![
            node("Add", &["x", "three"], &["t"]),
            node("Clip", &["t", "zero", "six"], &["c"]),
            node("Mul", &["x", "c"], &["m"]),
            node("Div", &["m", "six"], &["y"]),
        ],
        vec![d("three", 3.0), d("zero", 0.0), d("six", 6.0)],
        vec![value_info("x", 11, &[Ok(2), Ok(3)])],
        vec![value_info("y", 11, &[Ok(2), Ok(3)])],
    );
    let mut g = parsed(&bytes);
    assert_eq!(hearth::ir::rewrite::fuse(&mut g), 0);
    let mut hsig = node("HardSigmoid", &["x"], &["h"]);
    hsig.attribute.push(float_attr("alpha", 0.2));
    hsig.attribute.push(float_attr("beta", 0.5));
    let bytes = model(
        vec![hsig, node("Mul", &["x", "h"], &["y"])],
        vec![],
        vec![value_info("x", 1, &[Ok(2), Ok(3)])],
        vec![value_info("y", 1, &[Ok(2), Ok(3)])],
    );
    let x = Tensor::from_f32(vec![2, 3], vals(6, 1)).unwrap();
    assert_eq!(fuse_and_compare(&bytes, &x, true).0, 0);
}

/// Conv → Mul by constants that do not fold: one per row (not per channel), rank 5 (the
/// output's rank would grow), a graph input, the Conv on the right of a Div; a Conv whose output
/// is a graph output; a Relu-fused Conv (no affine after Relu).
#[test]
fn conv_affine_near_misses_stay() {
    let case = |reader: NodeProto, extra: Vec<TensorProto>, out_dims: &[i64], conv_out: bool| {
        let mut inits = vec![
            floats("w", &[4, 2, 3, 3], &vals(72, 3)),
            floats("b", &[4], &vals(4, 4)),
        ];
        inits.extend(extra);
        let dims: Vec<Result<i64, &str>> = out_dims.iter().map(|&d| Ok(d)).collect();
        let mut outputs = vec![value_info("y", 1, &dims)];
        if conv_out {
            outputs.push(value_info("c", 1, &[Ok(1), Ok(4), Ok(5), Ok(6)]));
        }
        model(
            vec![conv(&["x", "w", "b"], "c", 3, 1), reader],
            inits,
            vec![
                value_info("x", 1, &[Ok(1), Ok(2), Ok(5), Ok(6)]),
                value_info("k", 1, &[Ok(1)]),
            ],
            outputs,
        )
    };
    let x = Tensor::from_f32(vec![1, 2, 5, 6], vals(60, 9)).unwrap();
    let k = Tensor::from_f32(vec![1], vec![1.5]).unwrap();
    let run_both = |bytes: &[u8]| {
        let plain = parsed(bytes);
        let mut fused = parsed(bytes);
        let removed = hearth::ir::rewrite::fuse(&mut fused);
        let want = run_graph(&plain, &Plan::new(&plain), &[&x, &k], &[]).unwrap();
        let got = run_graph(&fused, &Plan::new(&fused), &[&x, &k], &[]).unwrap();
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.shape(), w.shape());
            assert_eq!(g.as_f32().unwrap(), w.as_f32().unwrap());
        }
        removed
    };
    let std = [1, 4, 5, 6];
    let rows = floats("r", &[1, 1, 5, 1], &vals(5, 1));
    assert_eq!(
        run_both(&case(
            node("Mul", &["c", "r"], &["y"]),
            vec![rows],
            &std,
            false
        )),
        0
    );
    let r5 = floats("r", &[1, 1, 4, 1, 1], &vals(4, 1));
    let big = [1, 1, 4, 5, 6];
    assert_eq!(
        run_both(&case(
            node("Mul", &["c", "r"], &["y"]),
            vec![r5],
            &big,
            false
        )),
        0
    );
    assert_eq!(
        run_both(&case(node("Mul", &["c", "k"], &["y"]), vec![], &std, false)),
        0
    );
    let two = one("two", 2.0);
    assert_eq!(
        run_both(&case(
            node("Div", &["two", "c"], &["y"]),
            vec![two],
            &std,
            false
        )),
        0
    );
    let two = one("two", 2.0);
    assert_eq!(
        run_both(&case(
            node("Mul", &["c", "two"], &["y"]),
            vec![two],
            &std,
            true
        )),
        0
    );
    let two = one("two", 2.0);
    assert_eq!(
        run_both(&case(
            node("Div", &["c", "two"], &["y"]),
            vec![two],
            &std,
            false
        )),
        1
    );
}

/// After a fused Relu a Mul stays a Mul (only HardSwish has the affine epilogue).
#[test]
fn affine_after_other_activations_stays() {
    let bytes = model(
        vec![
            conv(&["x", "w"], "c", 1, 1),
            node("Relu", &["c"], &["r"]),
            node("Mul", &["r", "k"], &["y"]),
        ],
        vec![floats("w", &[3, 2, 1, 1], &vals(6, 3)), one("k", 0.5)],
        vec![value_info("x", 1, &[Ok(1), Ok(2), Ok(3), Ok(3)])],
        vec![value_info("y", 1, &[Ok(1), Ok(3), Ok(3), Ok(3)])],
    );
    let x = Tensor::from_f32(vec![1, 2, 3, 3], vals(18, 2)).unwrap();
    assert_eq!(fuse_and_compare(&bytes, &x, true), (1, vec!["Conv", "Mul"]));
}

fn ints_attr(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: Some(name.into()),
        r#type: Some(AttributeType::Ints as i32),
        ints: v.to_vec(),
        ..Default::default()
    }
}

/// `x − mean(x)` over `axes` (and the variance over `var_axes`), `/ √(var + ε)`, with one thing
/// changed (see the test).
fn layer_norm_graph(axes: &[i64], var_axes: &[i64], change: &str) -> Vec<u8> {
    let mean = |x: &str, y: &str, a: &[i64]| {
        let mut n = node("ReduceMean", &[x], &[y]);
        n.attribute.push(ints_attr("axes", a));
        n
    };
    let mut nodes = vec![
        mean("x", "mu", axes),
        node("Sub", &["x", "mu"], &["d"]),
        if change == "d·d" {
            node("Mul", &["d", "d"], &["p"])
        } else {
            node("Pow", &["d", "two"], &["p"])
        },
        mean("p", "var", var_axes),
        node("Add", &["eps", "var"], &["v"]),
        node("Sqrt", &["v"], &["s"]),
    ];
    let dims = [Ok(2), Ok(5), Ok(12)];
    let mut outputs = vec![value_info("y", 1, &dims)];
    let inits = vec![
        floats("two", &[], &[if change == "cube" { 3.0 } else { 2.0 }]),
        floats("eps", &[], &[1e-5]),
        floats("gamma", &[12], &vals(12, 3)),
        floats("beta", &[12], &vals(12, 4)),
        floats("gamma2", &[5, 12], &vals(60, 5)),
    ];
    match change {
        "d·d" => nodes.push(node("Div", &["d", "s"], &["y"])),
        "row scale" => {
            nodes.push(node("Div", &["d", "s"], &["n"]));
            nodes.push(node("Mul", &["gamma2", "n"], &["y"]));
        }
        _ => {
            nodes.push(node("Div", &["d", "s"], &["n"]));
            nodes.push(node("Mul", &["n", "gamma"], &["m"]));
            nodes.push(node("Add", &["beta", "m"], &["y"]));
        }
    }
    if change == "d is an output" {
        outputs.push(value_info("d", 1, &dims));
    }
    model(nodes, inits, vec![value_info("x", 1, &dims)], outputs)
}

/// The decomposed LayerNormalization (Paddle's and PyTorch's export of `nn.LayerNorm`) becomes
/// one op with its affine, over one or two trailing axes; non-trailing or mismatched axes, a
/// third power, a second reader of `x − mean` leave it; a scale that would broadcast beyond the
/// normalised dims stays a Mul.
#[test]
#[cfg_attr(
    not(feature = "extra-ops"),
    ignore = "the LayerNormalization rewrite is an extra-ops one"
)]
fn decomposed_layer_norm_becomes_one_op() {
    let x = Tensor::from_f32(vec![2, 5, 12], vals(120, 17)).unwrap();
    let (removed, ops) = fuse_and_compare(&layer_norm_graph(&[-1], &[-1], ""), &x, false);
    assert_eq!((removed, ops), (8, vec!["LayerNormalization"]));
    let (removed, ops) = fuse_and_compare(&layer_norm_graph(&[1, 2], &[-2, -1], "d·d"), &x, false);
    assert_eq!((removed, ops), (6, vec!["LayerNormalization"]));
    let (removed, ops) = fuse_and_compare(&layer_norm_graph(&[2], &[2], "row scale"), &x, false);
    assert_eq!((removed, ops), (6, vec!["LayerNormalization", "Mul"]));
    for (axes, var_axes, change) in [
        (&[1][..], &[1][..], ""),
        (&[-1], &[1, 2], ""),
        (&[-1], &[-1], "cube"),
        (&[-1], &[-1], "d is an output"),
    ] {
        let (removed, _) = fuse_and_compare(&layer_norm_graph(axes, var_axes, change), &x, true);
        assert_eq!(removed, 0, "{axes:?} {var_axes:?} {change}");
    }
}
