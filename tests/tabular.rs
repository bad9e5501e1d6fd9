//! Tabular models from the real exporters against onnxruntime.
//!
//! `tools/tabular_models.py` trains scikit-learn (skl2onnx), XGBoost and LightGBM
//! (onnxmltools) models on UCI Online Shoppers (`../shared/data/online-shoppers`, CC BY 4.0:
//! Sakar et al. 2019, UCI ML Repository dataset 468) into `$HEARTH_CACHE/tabular-models-v1`
//! when that directory has no manifest, and writes onnxruntime's outputs for 200 held-out rows.
//! Every model is run here through `Session::run_values`: labels must match exactly,
//! probabilities (and ZipMap maps) within 1e-5 absolute, regression values within 1e-5
//! relative (they reach the thousands, where f32 steps are larger than 1e-5).

mod common;

use hearth::onnx::tensor::tensor_from_pb;
use hearth::{MapKeys, Session, Tensor, TensorData, Value};
use std::path::{Path, PathBuf};

/// Models that do not run yet, with the reason (reported, not failed).
const PENDING: &[(&str, &str)] = &[];

fn models_dir() -> PathBuf {
    common::generated_dir("tabular-models-v1", "tabular_models.py", "manifest.json")
}

fn read_pb(path: &Path) -> (String, Tensor) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    tensor_from_pb(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn pbs(dir: &Path, prefix: &str) -> Vec<(String, Tensor)> {
    (0..)
        .map(|i| dir.join(format!("{prefix}_{i}.pb")))
        .take_while(|p| p.is_file())
        .map(|p| read_pb(&p))
        .collect()
}

/// Compares one output; returns the largest difference seen.
fn compare(case: &str, name: &str, got: &Value, want: &Tensor, regression: bool) -> f64 {
    let close = |g: &[f32], w: &[f64], what: &str| -> f64 {
        assert_eq!(
            g.len(),
            w.len(),
            "{case}/{name}{what}: {} values, want {}",
            g.len(),
            w.len()
        );
        let mut worst = 0f64;
        for (i, (&a, &b)) in g.iter().zip(w).enumerate() {
            let d = (a as f64 - b).abs();
            let tol = if regression {
                1e-5 * b.abs().max(1.0)
            } else {
                1e-5
            };
            assert!(
                d <= tol,
                "{case}/{name}{what}[{i}]: {a} vs onnxruntime {b} (|diff| {d:e} > {tol:e})"
            );
            worst = worst.max(d);
        }
        worst
    };
    match got {
        Value::Tensor(t) => {
            assert_eq!(t.shape(), want.shape(), "{case}/{name}: shape");
            match (t.data(), want.data()) {
                (TensorData::I64(a), TensorData::I64(b)) => {
                    assert_eq!(a, b, "{case}/{name}: labels");
                    0.0
                }
                (TensorData::Str(a), TensorData::Str(b)) => {
                    assert_eq!(a, b, "{case}/{name}: labels");
                    0.0
                }
                (TensorData::F32(a), _) => close(a, &want.to_f64_vec(), ""),
                (a, b) => panic!(
                    "{case}/{name}: {} output, onnxruntime gave {}",
                    a.dtype(),
                    b.dtype()
                ),
            }
        }
        Value::Sequence(rows) => {
            // ZipMap: the reference is the [rows, classes] matrix in the label order of meta.json
            let w = want.to_f64_vec();
            let c = want.shape()[1];
            assert_eq!(rows.len(), want.shape()[0], "{case}/{name}: rows");
            let mut worst = 0f64;
            for (r, m) in rows.iter().enumerate() {
                let Value::Map(m) = m else {
                    panic!("{case}/{name}: row {r} is not a map")
                };
                worst = worst.max(close(
                    m.values().as_f32().unwrap(),
                    &w[r * c..(r + 1) * c],
                    &format!("[{r}]"),
                ));
            }
            worst
        }
        other => panic!("{case}/{name}: unexpected {}", other.kind()),
    }
}

#[test]
fn exported_models_match_onnxruntime() {
    let dir = models_dir();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let models = manifest["models"]
        .as_array()
        .expect("manifest lists models");
    assert!(
        models.len() >= 20,
        "expected the full model list, got {}",
        models.len()
    );
    let (mut passed, mut pending) = (0, 0);
    for m in models {
        let case = m.as_str().unwrap();
        let d = dir.join(case);
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("meta.json")).unwrap()).unwrap();
        let bytes = std::fs::read(d.join("model.onnx")).unwrap();
        let session = match Session::from_bytes(&bytes) {
            Ok(s) => s,
            Err(e) => match PENDING.iter().find(|p| p.0 == case) {
                Some((_, why)) => {
                    println!("{case}: pending ({why}): {e}");
                    pending += 1;
                    continue;
                }
                None => panic!("{case}: loading failed: {e}"),
            },
        };
        let inputs = pbs(&d, "input");
        let values: Vec<(&str, Value)> = inputs
            .iter()
            .map(|(n, t)| (n.as_str(), Value::Tensor(t.clone())))
            .collect();
        let feeds: Vec<(&str, &Value)> = values.iter().map(|(n, v)| (*n, v)).collect();
        let outs = session
            .run_values(&feeds)
            .unwrap_or_else(|e| panic!("{case}: run failed: {e}"));
        let want = pbs(&d, "output");
        assert_eq!(outs.len(), want.len(), "{case}: output count");
        let regression = meta["kind"] == "regressor";
        let mut worst = 0f64;
        for (k, (got, (name, w))) in outs.iter().zip(&want).enumerate() {
            if let Some(labels) = meta["zipmap"].get(k.to_string()) {
                // the maps' keys are the labels onnxruntime gave, in its order
                let Value::Sequence(rows) = got else {
                    panic!("{case}/{name}: not a sequence")
                };
                let Some(Value::Map(m0)) = rows.first() else {
                    panic!("{case}/{name}: empty")
                };
                let keys: Vec<String> = match m0.keys() {
                    MapKeys::I64(k) => k.iter().map(|v| v.to_string()).collect(),
                    MapKeys::Str(k) => k.clone(),
                };
                let want_keys: Vec<String> = labels
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l.as_str().map_or_else(|| l.to_string(), str::to_string))
                    .collect();
                assert_eq!(keys, want_keys, "{case}/{name}: ZipMap keys");
            }
            worst = worst.max(compare(case, name, got, w, regression && k == 0));
        }
        println!(
            "{case}: ok ({} ops, largest difference {worst:.2e})",
            meta["ops"].as_array().map_or(0, |a| a.len())
        );
        if PENDING.iter().any(|p| p.0 == case) {
            println!("{case}: passes now; remove it from PENDING in tests/tabular.rs");
        }
        passed += 1;
    }
    println!("tabular: {passed} models match onnxruntime, {pending} pending");
    assert!(passed + pending == models.len());
}

#[test]
fn zipmap_feeding_another_node_is_refused_by_name() {
    use hearth::onnx::proto::*;
    let attr_strings = |name: &str, v: &[&str]| AttributeProto {
        name: Some(name.into()),
        r#type: Some(attribute_proto::AttributeType::Strings as i32),
        strings: v.iter().map(|s| s.as_bytes().to_vec()).collect(),
        ..Default::default()
    };
    let vi = |name: &str| ValueInfoProto {
        name: Some(name.into()),
        ..Default::default()
    };
    let node =
        |op: &str, name: &str, domain: &str, i: &str, o: &str, attrs: Vec<AttributeProto>| {
            NodeProto {
                op_type: Some(op.into()),
                name: Some(name.into()),
                domain: Some(domain.into()),
                input: vec![i.into()],
                output: vec![o.into()],
                attribute: attrs,
                ..Default::default()
            }
        };
    let model = ModelProto {
        ir_version: Some(8),
        opset_import: vec![
            OperatorSetIdProto {
                domain: Some("".into()),
                version: Some(17),
            },
            OperatorSetIdProto {
                domain: Some("ai.onnx.ml".into()),
                version: Some(3),
            },
        ],
        graph: Some(GraphProto {
            node: vec![
                node(
                    "ZipMap",
                    "zm",
                    "ai.onnx.ml",
                    "p",
                    "maps",
                    vec![attr_strings("classlabels_strings", &["a", "b"])],
                ),
                node("Identity", "id", "", "maps", "y", vec![]),
            ],
            input: vec![vi("p")],
            output: vec![vi("y")],
            ..Default::default()
        }),
        ..Default::default()
    };
    use prost::Message;
    let e = Session::from_bytes(&model.encode_to_vec()).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("zm") && msg.contains("ZipMap"), "{msg}");
}
