//! Windows larger than their input: Conv, ConvTranspose and pooling on inputs shorter than the
//! (dilated) kernel, made valid by padding, strides or auto_pad, in 1-D, 2-D and 3-D. Each case
//! is checked against onnxruntime's output (`tests/fixtures/tiny_windows.json`, written by
//! `tools/tiny_windows.py`) and against a scalar f64 reference here; the first case (input
//! length 1, kernel 5, pads 2/2) used to panic with a slice index underflow in the im2col.

mod common;

use common::{model, value_info};
use hearth::onnx::proto::{attribute_proto::AttributeType, AttributeProto, NodeProto, TensorProto};
use hearth::{Session, Tensor};
use serde_json::Value;

struct Case {
    name: String,
    op: String,
    attrs: serde_json::Map<String, Value>,
    x: (Vec<usize>, Vec<f32>),
    w: Option<(Vec<usize>, Vec<f32>)>,
    b: Option<Vec<f32>>,
    y: (Vec<usize>, Vec<f32>),
}

fn tensor(v: &Value) -> (Vec<usize>, Vec<f32>) {
    let dims = v["dims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let data = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_f64().unwrap() as f32)
        .collect();
    (dims, data)
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tiny_windows.json"
    ))
    .unwrap();
    let all: Vec<Value> = serde_json::from_str(&text).unwrap();
    all.iter()
        .map(|c| Case {
            name: c["name"].as_str().unwrap().into(),
            op: c["op"].as_str().unwrap().into(),
            attrs: c["attrs"].as_object().unwrap().clone(),
            x: tensor(&c["x"]),
            w: c.get("w").map(tensor),
            b: c.get("b").map(|b| tensor(b).1),
            y: tensor(&c["y"]),
        })
        .collect()
}

fn attribute(name: &str, v: &Value) -> AttributeProto {
    let mut a = AttributeProto {
        name: Some(name.into()),
        ..Default::default()
    };
    match v {
        Value::Array(xs) => {
            a.r#type = Some(AttributeType::Ints as i32);
            a.ints = xs.iter().map(|x| x.as_i64().unwrap()).collect();
        }
        Value::String(s) => {
            a.r#type = Some(AttributeType::String as i32);
            a.s = Some(s.as_bytes().to_vec());
        }
        Value::Number(n) if n.is_i64() => {
            a.r#type = Some(AttributeType::Int as i32);
            a.i = n.as_i64();
        }
        other => panic!("attribute {name}: {other}"),
    }
    a
}

fn init(name: &str, dims: &[usize], v: &[f32]) -> TensorProto {
    common::floats(name, &dims.iter().map(|&d| d as i64).collect::<Vec<_>>(), v)
}

fn build(c: &Case) -> Vec<u8> {
    let mut inputs = vec!["x".to_string()];
    let mut inits = vec![];
    if let Some((ws, w)) = &c.w {
        inputs.push("w".into());
        inits.push(init("w", ws, w));
    }
    if let Some(b) = &c.b {
        inputs.push("b".into());
        inits.push(init("b", &[b.len()], b));
    }
    let node = NodeProto {
        op_type: Some(c.op.clone()),
        input: inputs,
        output: vec!["y".into()],
        name: Some(c.name.clone()),
        attribute: c.attrs.iter().map(|(k, v)| attribute(k, v)).collect(),
        ..Default::default()
    };
    let dims = |d: &[usize]| d.iter().map(|&n| Ok(n as i64)).collect::<Vec<_>>();
    model(
        vec![node],
        inits,
        vec![value_info("x", 1, &dims(&c.x.0))],
        vec![value_info("y", 1, &dims(&c.y.0))],
    )
}

fn ints(c: &Case, key: &str, n: usize, default: usize) -> Vec<usize> {
    match c.attrs.get(key) {
        Some(Value::Array(v)) => v.iter().map(|x| x.as_u64().unwrap() as usize).collect(),
        _ => vec![default; n],
    }
}

/// Per spatial dim: (pad_begin, output size), from the attributes as the ONNX spec defines them.
fn geometry(c: &Case, kernel: &[usize]) -> Vec<(isize, usize)> {
    let sp = kernel.len();
    let xs = &c.x.0[2..];
    let (s, d, p) = (
        ints(c, "strides", sp, 1),
        ints(c, "dilations", sp, 1),
        ints(c, "pads", 2 * sp, 0),
    );
    let ceil = c.attrs.get("ceil_mode").and_then(Value::as_i64) == Some(1);
    let auto = c
        .attrs
        .get("auto_pad")
        .and_then(Value::as_str)
        .unwrap_or("NOTSET");
    (0..sp)
        .map(|i| {
            let eff = d[i] * (kernel[i] - 1) + 1;
            if auto.starts_with("SAME") {
                let o = xs[i].div_ceil(s[i]);
                let total = ((o - 1) * s[i] + eff).saturating_sub(xs[i]);
                let pb = if auto == "SAME_UPPER" {
                    total / 2
                } else {
                    total - total / 2
                };
                return (pb as isize, o);
            }
            let span = xs[i] + p[i] + p[i + sp] - eff;
            let mut o = if ceil {
                span.div_ceil(s[i]) + 1
            } else {
                span / s[i] + 1
            };
            if ceil && (o - 1) * s[i] >= xs[i] + p[i] {
                o -= 1;
            }
            (p[i] as isize, o)
        })
        .collect()
}

fn unflat(mut f: usize, dims: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; dims.len()];
    for d in (0..dims.len()).rev() {
        idx[d] = f % dims[d];
        f /= dims[d];
    }
    idx
}

fn flat(idx: &[usize], dims: &[usize]) -> usize {
    idx.iter().zip(dims).fold(0, |a, (&i, &d)| a * d + i)
}

/// A scalar f64 evaluation straight from the ONNX definitions (gather form for Conv and pools,
/// scatter form for ConvTranspose).
fn reference(c: &Case) -> (Vec<usize>, Vec<f64>) {
    let (xs, x) = (&c.x.0, &c.x.1);
    let sp = xs.len() - 2;
    let (n, ch) = (xs[0], xs[1]);
    let group = c.attrs.get("group").and_then(Value::as_u64).unwrap_or(1) as usize;
    let (s, d) = (ints(c, "strides", sp, 1), ints(c, "dilations", sp, 1));
    if c.op == "ConvTranspose" {
        let (ws, w) = c.w.as_ref().unwrap();
        let p = ints(c, "pads", 2 * sp, 0);
        let (cg, mg) = (ch / group, ws[1]);
        let m = mg * group;
        let out_sp: Vec<usize> = (0..sp)
            .map(|i| s[i] * (xs[2 + i] - 1) + d[i] * (ws[2 + i] - 1) + 1 - p[i] - p[i + sp])
            .collect();
        let mut yd = vec![n, m];
        yd.extend(&out_sp);
        let mut y = vec![0.0f64; yd.iter().product()];
        for (f, v) in y.iter_mut().enumerate() {
            *v = c.b.as_ref().map_or(0.0, |b| b[unflat(f, &yd)[1]] as f64);
        }
        for xf in 0..x.len() {
            let xi = unflat(xf, xs);
            let gi = xi[1] / cg;
            for wf in 0..w.len() {
                let wi = unflat(wf, ws);
                if wi[0] != xi[1] {
                    continue;
                }
                let mut yi = vec![xi[0], gi * mg + wi[1]];
                let inside = (0..sp).all(|k| {
                    let o = (xi[2 + k] * s[k] + wi[2 + k] * d[k]) as isize - p[k] as isize;
                    yi.push(o.max(0) as usize);
                    o >= 0 && (o as usize) < out_sp[k]
                });
                if inside {
                    y[flat(&yi, &yd)] += x[xf] as f64 * w[wf] as f64;
                }
            }
        }
        return (yd, y);
    }
    let kernel: Vec<usize> = match &c.w {
        Some((ws, _)) => ws[2..].to_vec(),
        None => ints(c, "kernel_shape", sp, 1),
    };
    let geo = geometry(c, &kernel);
    let m = c.w.as_ref().map_or(ch, |(ws, _)| ws[0]);
    let mut yd = vec![n, m];
    yd.extend(geo.iter().map(|g| g.1));
    let taps: usize = kernel.iter().product();
    let include = c.attrs.get("count_include_pad").and_then(Value::as_i64) == Some(1);
    let y = (0..yd.iter().product::<usize>())
        .map(|f| {
            let yi = unflat(f, &yd);
            // the input channels this output reads, and the kernel weights for them
            let chans: Vec<(usize, Option<usize>)> = match &c.w {
                Some((ws, _)) => {
                    let gi = yi[1] / (m / group);
                    (0..ws[1])
                        .map(|k| (gi * ws[1] + k, Some(yi[1] * ws[1] + k)))
                        .collect()
                }
                None => vec![(yi[1], None)],
            };
            let (mut acc, mut max, mut count) = (0.0f64, f64::NEG_INFINITY, 0usize);
            for &(ci, wrow) in &chans {
                for t in 0..taps {
                    let k = unflat(t, &kernel);
                    let mut xi = vec![yi[0], ci];
                    let inside = (0..sp).all(|a| {
                        let i = (yi[2 + a] * s[a] + k[a] * d[a]) as isize - geo[a].0;
                        xi.push(i.max(0) as usize);
                        i >= 0 && (i as usize) < xs[2 + a]
                    });
                    if !inside {
                        continue;
                    }
                    let v = x[flat(&xi, xs)] as f64;
                    count += 1;
                    match (c.op.as_str(), wrow) {
                        ("Conv", Some(r)) => {
                            acc += v * c.w.as_ref().unwrap().1[r * taps + t] as f64
                        }
                        ("MaxPool", _) => max = max.max(v),
                        ("LpPool", _) => acc += v * v,
                        _ => acc += v,
                    }
                }
            }
            match c.op.as_str() {
                "Conv" => acc + c.b.as_ref().map_or(0.0, |b| b[yi[1]] as f64),
                "MaxPool" => max,
                "LpPool" => acc.sqrt(),
                // count_include_pad divides by the taps inside the padded input
                "AveragePool" if include => {
                    let p = ints(c, "pads", 2 * sp, 0);
                    let inside: usize = (0..sp)
                        .map(|a| {
                            (0..kernel[a])
                                .filter(|&k| {
                                    let i = (yi[2 + a] * s[a] + k * d[a]) as isize - geo[a].0;
                                    i < (xs[2 + a] + p[a + sp]) as isize
                                })
                                .count()
                        })
                        .product();
                    acc / inside as f64
                }
                _ => acc / count as f64,
            }
        })
        .collect();
    (yd, y)
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-5 + 1e-4 * want.abs()
}

#[test]
fn tiny_inputs_with_large_windows_match_onnxruntime_and_the_scalar_reference() {
    let all = cases();
    assert!(all.len() >= 20, "fixture has {} cases", all.len());
    let mut failures = vec![];
    for c in &all {
        let result = std::panic::catch_unwind(|| {
            let s = Session::from_bytes(&build(c)).map_err(|e| format!("load: {e}"))?;
            let x = Tensor::from_f32(c.x.0.clone(), c.x.1.clone()).unwrap();
            let out = s.run(&[("x", &x)]).map_err(|e| format!("run: {e}"))?;
            Ok::<_, String>((out[0].shape().to_vec(), out[0].as_f32().unwrap().to_vec()))
        });
        let (shape, got) = match result {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                failures.push(format!("{}: {e}", c.name));
                continue;
            }
            Err(_) => {
                failures.push(format!("{}: panicked", c.name));
                continue;
            }
        };
        let (ref_shape, want) = reference(c);
        assert_eq!(
            ref_shape, c.y.0,
            "{}: the scalar reference disagrees with onnxruntime on the shape",
            c.name
        );
        for (i, (&r, &o)) in want.iter().zip(&c.y.1).enumerate() {
            assert!(
                close(r, o as f64),
                "{}[{i}]: scalar reference {r} vs onnxruntime {o}",
                c.name
            );
        }
        if shape != c.y.0 {
            failures.push(format!(
                "{}: shape {shape:?}, onnxruntime {:?}",
                c.name, c.y.0
            ));
            continue;
        }
        for (i, (&g, &o)) in got.iter().zip(&c.y.1).enumerate() {
            if !close(g as f64, o as f64) {
                failures.push(format!("{}[{i}]: {g} vs onnxruntime {o}", c.name));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn conv1d_length_1_kernel_5_pads_2_gives_the_centre_tap_product() {
    // the reported model: only the centre tap (w[2]) sees the single input value
    let c = cases()
        .into_iter()
        .find(|c| c.name == "conv1d_len1_k5_pad2")
        .unwrap();
    let s = Session::from_bytes(&build(&c)).unwrap();
    let x = Tensor::from_f32(vec![1, 1, 1], vec![1.5]).unwrap();
    let out = s.run(&[("x", &x)]).unwrap();
    assert_eq!(out[0].shape(), &[1, 1, 1]);
    let w = &c.w.as_ref().unwrap().1;
    assert_eq!(out[0].as_f32().unwrap(), &[1.5 * w[2]]);
}
