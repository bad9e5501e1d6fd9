//! Load-time rewrites (`ir::rewrite`) on the patterns exporters write: constant affine maps
//! folded into the Conv before them, the decomposed HardSwish recognised as one op, the affine
//! after a fused HardSwish joined to the Conv's epilogue. Every rewritten graph is run against the
//! graph as parsed (tolerance 1e-5 + 1e-4·|x| where weights are refolded: they round
//! differently; bit for bit where only the epilogue changed), and every near miss — a wrong
//! constant, a second reader, a graph output, another dtype, a broadcast that changes the shape —
//! must leave the graph as it is.

mod common;

use common::{floats, int_attr, ints, model, node, value_info};
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

/// An f32 value of unknown rank.
fn unranked(name: &str) -> hearth::onnx::proto::ValueInfoProto {
    let mut v = value_info(name, 1, &[]);
    if let Some(hearth::onnx::proto::type_proto::Value::TensorType(t)) =
        v.r#type.as_mut().and_then(|t| t.value.as_mut())
    {
        t.shape = None;
    }
    v
}

/// `x − mean(x)` over `axes` (and the variance over `var_axes`), `/ √(var + ε)`, `· γ`, `+ β`,
/// with one thing changed (see the tests).
fn layer_norm_graph(axes: &[i64], var_axes: &[i64], change: &str) -> Vec<u8> {
    let axes_input = change == "axes as input";
    let mean = |x: &str, y: &str, a: &[i64], name: &str| {
        let mut n = node("ReduceMean", &[x], &[y]);
        if axes_input {
            n.input.push(name.into());
        } else {
            n.attribute.push(ints_attr("axes", a));
        }
        n
    };
    let two_subs = change.starts_with("two subs");
    let mut nodes = vec![
        mean("x", "mu", axes, "ax"),
        node("Sub", &["x", "mu"], &["d"]),
    ];
    if two_subs {
        let mu = if change == "two subs, other mean" {
            nodes.push(mean("x", "mu2", axes, "ax"));
            "mu2"
        } else {
            "mu"
        };
        nodes.push(node("Sub", &["x", mu], &["d1"]));
    }
    let d1 = if two_subs { "d1" } else { "d" };
    nodes.push(match change {
        "d·d" => node("Mul", &[d1, d1], &["p"]),
        "pow f64" => node("Pow", &[d1, "two64"], &["p"]),
        "pow i64" => node("Pow", &[d1, "two_i"], &["p"]),
        _ => node("Pow", &[d1, "two"], &["p"]),
    });
    nodes.push(mean("p", "var", var_axes, "vax"));
    let eps = match change {
        "eps per feature" => "eps12",
        "eps of rank 4" => "eps4",
        _ => "eps",
    };
    nodes.push(node("Add", &[eps, "var"], &["v"]));
    nodes.push(node("Sqrt", &["v"], &["s"]));
    let x_dims: &[Result<i64, &str>] = match change {
        "symbolic dims" | "scalar affine" => &[Err("b"), Ok(5), Err("n")],
        _ => &[Ok(2), Ok(5), Ok(12)],
    };
    let mut outputs = vec![value_info("y", 1, x_dims)];
    let mut inits = vec![
        floats("two", &[], &[if change == "cube" { 3.0 } else { 2.0 }]),
        floats("eps", &[], &[1e-5]),
        floats("eps12", &[12], &[1e-5; 12]),
        floats("eps4", &[1, 1, 1, 1], &[1e-5]),
        floats("gamma", &[12], &vals(12, 3)),
        floats("beta", &[12], &vals(12, 4)),
        floats("gamma1", &[1], &[1.25]),
        floats("beta1", &[], &[-0.5]),
        floats("gamma2", &[5, 12], &vals(60, 5)),
        ints("two_i", &[1], &[2]),
        ints("ax", &[axes.len() as i64], axes),
        ints("vax", &[var_axes.len() as i64], var_axes),
    ];
    inits.push(TensorProto {
        name: Some("two64".into()),
        dims: vec![1],
        data_type: Some(11),
        double_data: vec![2.0],
        ..Default::default()
    });
    let (gamma, beta) = if change == "scalar affine" {
        ("gamma1", "beta1")
    } else {
        ("gamma", "beta")
    };
    match change {
        "d·d" => nodes.push(node("Div", &["d", "s"], &["y"])),
        "row scale" => {
            nodes.push(node("Div", &["d", "s"], &["n"]));
            nodes.push(node("Mul", &["gamma2", "n"], &["y"]));
        }
        _ => {
            match change {
                "reciprocal" | "reciprocal, d second" => {
                    nodes.push(node("Reciprocal", &["s"], &["r"]));
                    let ab = if change == "reciprocal" {
                        ["d", "r"]
                    } else {
                        ["r", "d"]
                    };
                    nodes.push(node("Mul", &ab, &["n"]));
                }
                _ => nodes.push(node("Div", &["d", "s"], &["n"])),
            }
            nodes.push(node("Mul", &["n", gamma], &["m"]));
            nodes.push(node("Add", &[beta, "m"], &["y"]));
        }
    }
    if let Some(v) = change.strip_suffix(" is an output") {
        outputs.push(unranked(v.rsplit(' ').next().unwrap()));
    }
    let mut x = value_info("x", 1, x_dims);
    if change == "no shape" {
        x = unranked("x");
        outputs[0] = unranked("y");
    }
    let bytes = model(nodes, inits, vec![x], outputs);
    if !axes_input {
        return bytes;
    }
    // opset 18: ReduceMean's axes are an input
    use prost::Message;
    let mut m = hearth::onnx::proto::ModelProto::decode(bytes.as_slice()).unwrap();
    m.opset_import[0].version = Some(18);
    m.encode_to_vec()
}

/// The decomposed LayerNormalization becomes one op with its affine, in the forms exporters
/// write (Paddle2ONNX's and PyTorch's `nn.LayerNorm` below opset 17: `Pow(d, 2)` with the
/// exponent of any dtype, or `d·d`; `/ σ` or `· Reciprocal(σ)` either way round; `x − mean`
/// written twice; axes as an attribute or, from opset 18, an input; one or two trailing axes,
/// positive or negative), numerically equal to the graph as parsed (1e-5 + 1e-4·|y|: the
/// kernel multiplies by 1/σ and sums in another order).
#[test]
#[cfg_attr(
    not(feature = "extra-ops"),
    ignore = "the LayerNormalization rewrite is an extra-ops one"
)]
fn decomposed_layer_norm_becomes_one_op() {
    let x = Tensor::from_f32(vec![2, 5, 12], vals(120, 17)).unwrap();
    let ln = vec!["LayerNormalization"];
    for (axes, var_axes, change, removed) in [
        (&[-1][..], &[-1][..], "", 8),
        (&[1, 2], &[-2, -1], "d·d", 6),
        (&[-1], &[2], "reciprocal", 9),
        (&[-1], &[-1], "reciprocal, d second", 9),
        (&[-1], &[-1], "two subs", 9),
        (&[-1], &[-1], "pow f64", 8),
        (&[-1], &[-1], "pow i64", 8),
        (&[2], &[-1], "axes as input", 8),
    ] {
        let got = fuse_and_compare(&layer_norm_graph(axes, var_axes, change), &x, false);
        assert_eq!(got, (removed, ln.clone()), "{axes:?} {var_axes:?} {change}");
    }
    let (removed, ops) = fuse_and_compare(&layer_norm_graph(&[2], &[2], "row scale"), &x, false);
    assert_eq!((removed, ops), (6, vec!["LayerNormalization", "Mul"]));
}

/// With the normalised dims unknown (PP-OCRv4's recogniser: its LayerNorms follow a Reshape to
/// a computed shape) the normalisation fuses over negative axes, and `· γ`, `+ β` join it only
/// when they are one value (a `[12]` γ would broadcast a last dim of 1 to 12, which the fused
/// op cannot); positive axes of a tensor of unknown rank are left alone.
#[test]
#[cfg_attr(
    not(feature = "extra-ops"),
    ignore = "the LayerNormalization rewrite is an extra-ops one"
)]
fn layer_norm_of_unknown_dims_fuses_what_it_can() {
    let x = Tensor::from_f32(vec![2, 5, 12], vals(120, 17)).unwrap();
    for (change, removed, ops) in [
        ("symbolic dims", 6, vec!["LayerNormalization", "Mul", "Add"]),
        ("no shape", 6, vec!["LayerNormalization", "Mul", "Add"]),
        ("scalar affine", 8, vec!["LayerNormalization"]),
    ] {
        let got = fuse_and_compare(&layer_norm_graph(&[-1], &[-1], change), &x, false);
        assert_eq!(got, (removed, ops), "{change}");
    }
    let (removed, _) = fuse_and_compare(&layer_norm_graph(&[2], &[2], "no shape"), &x, true);
    assert_eq!(removed, 0);
}

/// Near misses stay as they are: non-trailing or mismatched axes, a third power, ε per
/// feature or of a rank that would grow the output, a second mean of its own, and every
/// intermediate value read elsewhere (a graph output).
#[test]
#[cfg_attr(
    not(feature = "extra-ops"),
    ignore = "the LayerNormalization rewrite is an extra-ops one"
)]
fn layer_norm_near_misses_stay() {
    let x = Tensor::from_f32(vec![2, 5, 12], vals(120, 17)).unwrap();
    for (axes, var_axes, change) in [
        (&[1][..], &[1][..], ""),
        (&[-1], &[1, 2], ""),
        (&[-1], &[-2], ""),
        (&[-1], &[-1], "cube"),
        (&[-1], &[-1], "eps per feature"),
        (&[-1], &[-1], "eps of rank 4"),
        (&[-1], &[-1], "two subs, other mean"),
        (&[-1], &[-1], "mu is an output"),
        (&[-1], &[-1], "d is an output"),
        (&[-1], &[-1], "p is an output"),
        (&[-1], &[-1], "var is an output"),
        (&[-1], &[-1], "v is an output"),
        (&[-1], &[-1], "s is an output"),
        (&[-1], &[-1], "two subs, d1 is an output"),
    ] {
        let bytes = layer_norm_graph(axes, var_axes, change);
        let (removed, _) = fuse_and_compare(&bytes, &x, true);
        assert_eq!(removed, 0, "{axes:?} {var_axes:?} {change}");
    }
}

/// A decomposed Gelu of `x` (`[2, 5, 12]`) in the form `form`, with one constant changed when
/// `bad` names it.
fn gelu_graph(form: &str, bad: &str) -> Vec<u8> {
    let c = |name: &str, v: f32| floats(name, &[], &[if bad == name { v * 1.01 } else { v }]);
    let inits = vec![
        c("half", 0.5),
        c("one", 1.0),
        c("sqrt2", std::f32::consts::SQRT_2),
        c("inv_sqrt2", 0.70710677),
        c("k", 0.797885),
        c("a", 0.044715),
        c("three", 3.0),
    ];
    let mut nodes = match form {
        // PyTorch's F.gelu below opset 20: ((x · (1 + erf(x / √2))) · 0.5
        "erf" => vec![
            node("Div", &["x", "sqrt2"], &["u"]),
            node("Erf", &["u"], &["e"]),
            node("Add", &["e", "one"], &["g"]),
            node("Mul", &["x", "g"], &["xg"]),
            node("Mul", &["xg", "half"], &["y"]),
        ],
        // (0.5 · x) · (1 + erf(x · (1/√2)))
        "erf, half first" => vec![
            node("Mul", &["x", "inv_sqrt2"], &["u"]),
            node("Erf", &["u"], &["e"]),
            node("Add", &["one", "e"], &["g"]),
            node("Mul", &["half", "x"], &["h"]),
            node("Mul", &["h", "g"], &["y"]),
        ],
        // x · (0.5 · (1 + erf(x / √2)))
        "erf, gate halved" => vec![
            node("Div", &["x", "sqrt2"], &["u"]),
            node("Erf", &["u"], &["e"]),
            node("Add", &["e", "one"], &["g"]),
            node("Mul", &["half", "g"], &["hg"]),
            node("Mul", &["x", "hg"], &["y"]),
        ],
        // 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
        _ => {
            let mut n = if form == "tanh, x·x·x" {
                vec![
                    node("Mul", &["x", "x"], &["x2"]),
                    node("Mul", &["x2", "x"], &["x3"]),
                ]
            } else {
                vec![node("Pow", &["x", "three"], &["x3"])]
            };
            n.extend([
                node("Mul", &["a", "x3"], &["t"]),
                node("Add", &["x", "t"], &["z"]),
                node("Mul", &["z", "k"], &["w"]),
                node("Tanh", &["w"], &["e"]),
                node("Add", &["e", "one"], &["g"]),
                node("Mul", &["x", "half"], &["h"]),
                node("Mul", &["h", "g"], &["y"]),
            ]);
            n
        }
    };
    let dims = [Ok(2), Ok(5), Ok(12)];
    let mut outputs = vec![value_info("y", 1, &dims)];
    if bad == "e is an output" {
        outputs.push(value_info("e", 1, &dims));
    }
    if bad == "erf of another value" {
        nodes.insert(0, node("Neg", &["x"], &["nx"]));
        nodes[1].input[0] = "nx".into();
    }
    model(nodes, inits, vec![value_info("x", 1, &dims)], outputs)
}

/// The decomposed Gelu (erf form, as PyTorch and tf2onnx write it, the factors in any order;
/// tanh form with `Pow(x, 3)` or `x·x·x`) becomes one op, equal to the graph as parsed within
/// 1e-5 + 1e-4·|y| (the tanh form's kernel uses another tanh); a constant 1% off, an `Erf` of
/// another value or an intermediate read elsewhere leaves it.
#[test]
#[cfg_attr(
    not(feature = "extra-ops"),
    ignore = "the Gelu rewrite is an extra-ops one"
)]
fn decomposed_gelu_becomes_one_op_and_near_misses_stay() {
    let x = Tensor::from_f32(vec![2, 5, 12], vals(120, 23)).unwrap();
    for (form, removed) in [
        ("erf", 4),
        ("erf, half first", 4),
        ("erf, gate halved", 4),
        ("tanh", 7),
        ("tanh, x·x·x", 8),
    ] {
        let got = fuse_and_compare(&gelu_graph(form, ""), &x, false);
        assert_eq!(got, (removed, vec!["Gelu"]), "{form}");
    }
    for (form, bad) in [
        ("erf", "half"),
        ("erf", "sqrt2"),
        ("erf", "one"),
        ("erf, half first", "inv_sqrt2"),
        ("erf", "e is an output"),
        ("erf", "erf of another value"),
        ("tanh", "k"),
        ("tanh", "a"),
        ("tanh", "three"),
        ("tanh, x·x·x", "e is an output"),
    ] {
        let (removed, _) = fuse_and_compare(&gelu_graph(form, bad), &x, true);
        assert_eq!(removed, 0, "{form} {bad}");
    }
}

/// `x · W (+ extra nodes) + c` over an input `x` of `dims` (W: 8 × 5), `c` written by `bias`
/// (shape, values), `swap` putting the bias on the Add's left; `mm_out` also makes the product
/// a graph output.
fn matmul_add(dims: &[i64], bias: (&[i64], usize), swap: bool, mm_out: bool) -> Vec<u8> {
    let add = if swap { ["c", "p"] } else { ["p", "c"] };
    let out: Vec<i64> = dims[..dims.len() - 1].iter().copied().chain([5]).collect();
    let vi = |name, d: &[i64]| value_info(name, 1, &d.iter().map(|&d| Ok(d)).collect::<Vec<_>>());
    let mut outputs = vec![vi("y", &out)];
    if mm_out {
        outputs.push(vi("p", &out));
    }
    model(
        vec![
            node("MatMul", &["x", "w"], &["p"]),
            node("Add", &add, &["y"]),
        ],
        vec![
            floats("w", &[8, 5], &vals(40, 5)),
            floats("c", bias.0, &vals(bias.1, 6)),
        ],
        vec![vi("x", dims)],
        outputs,
    )
}

/// `MatMul → Add` of N bias values along the last axis (in any rank that keeps the product's
/// shape, on either side of the Add) becomes one MatMul with the bias as its third input, whose
/// output agrees with the separate ops within rounding; a bias per row, a bias that would grow
/// the rank, one value for every column, a product that is a graph output, a product read twice
/// and a bias that is a graph input stay.
#[test]
fn matmul_bias_add_fuses_into_the_matmul() {
    let x2 = Tensor::from_f32(vec![3, 8], vals(24, 9)).unwrap();
    let x3 = Tensor::from_f32(vec![2, 3, 8], vals(48, 10)).unwrap();
    for (dims, bias, swap, x) in [
        (&[3i64, 8][..], (&[5i64][..], 5), false, &x2),
        (&[3, 8], (&[5], 5), true, &x2),
        (&[3, 8], (&[1, 5], 5), false, &x2),
        (&[2, 3, 8], (&[1, 1, 5], 5), false, &x3),
        (&[2, 3, 8], (&[5], 5), true, &x3),
    ] {
        let bytes = matmul_add(dims, bias, swap, false);
        let (removed, ops) = fuse_and_compare(&bytes, x, false);
        assert_eq!((removed, ops), (1, vec!["MatMul"]), "{dims:?} + {bias:?}");
        // the session runs the fused graph too
        let s = Session::from_bytes(&bytes).unwrap();
        assert_eq!(crate::ops(s.graph()), vec!["MatMul"]);
    }
    // near misses: one value per row, N per row, rank 3 over a 2-D product, one value, the
    // product a graph output
    for (dims, bias, mm_out) in [
        (&[3i64, 8][..], (&[3i64, 1][..], 3), false),
        (&[3, 8], (&[3, 5], 15), false),
        (&[3, 8], (&[1, 1, 5], 5), false),
        (&[3, 8], (&[1], 1), false),
        (&[3, 8], (&[5], 5), true),
    ] {
        let mut g = parsed(&matmul_add(dims, bias, false, mm_out));
        assert_eq!(hearth::ir::rewrite::fuse(&mut g), 0, "{dims:?} + {bias:?}");
        assert_eq!(ops(&g), vec!["MatMul", "Add"]);
    }
    // the product read twice; a bias that is a graph input
    let twice = model(
        vec![
            node("MatMul", &["x", "w"], &["p"]),
            node("Add", &["p", "c"], &["q"]),
            node("Mul", &["p", "q"], &["y"]),
        ],
        vec![
            floats("w", &[8, 5], &vals(40, 5)),
            floats("c", &[5], &vals(5, 6)),
        ],
        vec![value_info("x", 1, &[Ok(3), Ok(8)])],
        vec![value_info("y", 1, &[Ok(3), Ok(5)])],
    );
    let fed = model(
        vec![
            node("MatMul", &["x", "w"], &["p"]),
            node("Add", &["p", "c"], &["y"]),
        ],
        vec![floats("w", &[8, 5], &vals(40, 5))],
        vec![
            value_info("x", 1, &[Ok(3), Ok(8)]),
            value_info("c", 1, &[Ok(5)]),
        ],
        vec![value_info("y", 1, &[Ok(3), Ok(5)])],
    );
    for bytes in [twice, fed] {
        let mut g = parsed(&bytes);
        assert_eq!(hearth::ir::rewrite::fuse(&mut g), 0);
    }
}
