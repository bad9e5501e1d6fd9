//! `predict` from named features (`hearth::tabular`) on the real exporters' models of
//! `tests/tabular.rs` (`tools/tabular_models.py`: UCI Online Shoppers, CC BY 4.0, Sakar et al.
//! 2019, UCI ML Repository dataset 468): rows of plain values, encoded by a feature spec, must
//! give onnxruntime's labels exactly and its probabilities within 1e-5 (regression values within
//! 1e-5 relative); every error names the row and the field.

mod common;

use hearth::error::FeatureReason;
use hearth::onnx::tensor::tensor_from_pb;
use hearth::tabular::{
    template, Category, FeatureSpec, FieldValue, Prediction, Predictor, SpecSource,
};
use hearth::{Error, Session, Tensor};
use std::path::{Path, PathBuf};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "June", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
/// The 17 columns of the float-matrix models, in order, named as a web page would.
const MATRIX: [&str; 17] = [
    "administrative",
    "administrativeDuration",
    "informational",
    "informationalDuration",
    "productRelated",
    "productRelatedDuration",
    "bounceRates",
    "exitRates",
    "pageValues",
    "specialDay",
    "month",
    "operatingSystems",
    "browser",
    "region",
    "trafficType",
    "returningVisitor",
    "weekend",
];

fn models_dir() -> PathBuf {
    common::generated_dir("tabular-models-v2", "tabular_models.py", "manifest.json")
}

fn pbs(dir: &Path, prefix: &str) -> Vec<(String, Tensor)> {
    (0..)
        .map(|i| dir.join(format!("{prefix}_{i}.pb")))
        .take_while(|p| p.is_file())
        .map(|p| tensor_from_pb(&std::fs::read(&p).unwrap()).unwrap())
        .collect()
}

struct Case {
    session: Session,
    bytes: Vec<u8>,
    inputs: Vec<(String, Tensor)>,
    outputs: Vec<(String, Tensor)>,
    zipmap: Option<Vec<String>>,
}

fn case(name: &str) -> Case {
    let d = models_dir().join(name);
    let bytes = std::fs::read(d.join("model.onnx")).unwrap();
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("meta.json")).unwrap()).unwrap();
    let zipmap = meta["zipmap"]["1"].as_array().map(|a| {
        a.iter()
            .map(|l| l.as_str().map_or_else(|| l.to_string(), str::to_string))
            .collect()
    });
    Case {
        session: Session::from_bytes(&bytes).unwrap(),
        bytes,
        inputs: pbs(&d, "input"),
        outputs: pbs(&d, "output"),
        zipmap,
    }
}

fn camel(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

/// The column-transformer spec a web page would write: camelCase names, months and visitor
/// types as the UCI strings, blank numbers missing (→ NaN, which the pipeline's imputer fills).
fn column_spec() -> FeatureSpec {
    let mut features = vec![];
    for c in [
        "Administrative",
        "Administrative_Duration",
        "Informational",
        "Informational_Duration",
        "ProductRelated",
        "ProductRelated_Duration",
        "BounceRates",
        "ExitRates",
        "PageValues",
        "SpecialDay",
    ] {
        features.push(serde_json::json!({
            "name": camel(&c.replace('_', "")), "kind": "number", "input": c, "default": "NaN" }));
    }
    features.push(
        serde_json::json!({ "name": "month", "kind": "category", "input": "Month",
        "vocabulary": MONTHS, "unknown": "error" }),
    );
    features.push(
        serde_json::json!({ "name": "visitorType", "kind": "category", "input": "VisitorType",
        "vocabulary": ["New_Visitor", "Returning_Visitor", "Other"], "unknown": "error" }),
    );
    let spec = serde_json::json!({ "format": "hearth.features", "version": 1, "layout": "columns", "features": features });
    FeatureSpec::from_json(&spec.to_string()).unwrap()
}

/// The reference inputs of the column transformer as rows of named values.
fn column_rows(c: &Case, spec: &FeatureSpec) -> Vec<Vec<(String, FieldValue)>> {
    let n = c.inputs[0].1.shape()[0];
    (0..n)
        .map(|r| {
            spec.features
                .iter()
                .filter_map(|f| {
                    let (_, t) = c
                        .inputs
                        .iter()
                        .find(|(n, _)| Some(n.as_str()) == f.input.as_deref())
                        .unwrap();
                    let v = match t.as_str() {
                        Ok(s) => FieldValue::Str(s[r].clone()),
                        Err(_) => {
                            let x = t.as_f32().unwrap()[r];
                            if x.is_nan() {
                                return None; // left out: the spec's default (NaN) stands in
                            }
                            FieldValue::Number(x as f64)
                        }
                    };
                    Some((f.name.clone(), v))
                })
                .collect()
        })
        .collect()
}

fn matrix_spec() -> FeatureSpec {
    let features: Vec<serde_json::Value> = MATRIX
        .iter()
        .map(|&n| match n {
            "month" => serde_json::json!({ "name": n, "kind": "category", "vocabulary": MONTHS,
                "codes": (1..=12).collect::<Vec<_>>() }),
            "returningVisitor" | "weekend" => serde_json::json!({ "name": n, "kind": "boolean" }),
            _ => serde_json::json!({ "name": n, "kind": "number" }),
        })
        .collect();
    let spec = serde_json::json!({ "layout": "matrix", "input": "X", "features": features });
    FeatureSpec::from_json(&spec.to_string()).unwrap()
}

/// The reference matrix as JSON objects (months as names, 0/1 columns as booleans).
fn matrix_rows(c: &Case) -> Vec<serde_json::Value> {
    let x = c.inputs[0].1.as_f32().unwrap();
    x.chunks(17)
        .map(|row| {
            let mut o = serde_json::Map::new();
            for (k, &v) in row.iter().enumerate() {
                let j = match MATRIX[k] {
                    "month" => serde_json::json!(MONTHS[v as usize - 1]),
                    "returningVisitor" | "weekend" => serde_json::json!(v == 1.0),
                    _ => serde_json::json!(v as f64),
                };
                o.insert(MATRIX[k].to_string(), j);
            }
            serde_json::Value::Object(o)
        })
        .collect()
}

/// Labels exactly, probabilities within 1e-5 of onnxruntime's; returns the largest difference.
fn check_classifier(name: &str, c: &Case, got: &[Prediction]) -> f64 {
    let labels = &c.outputs[0].1;
    let probs = c.outputs[1].1.to_f64_vec();
    let classes = probs.len() / got.len();
    assert_eq!(got.len(), labels.shape()[0], "{name}: rows");
    let want_labels: Vec<Category> = match labels.as_i64() {
        Ok(v) => v.iter().map(|&x| Category::Int(x)).collect(),
        Err(_) => labels
            .as_str()
            .unwrap()
            .iter()
            .cloned()
            .map(Category::Str)
            .collect(),
    };
    let mut worst = 0f64;
    for (r, p) in got.iter().enumerate() {
        assert_eq!(
            p.label.as_ref(),
            Some(&want_labels[r]),
            "{name}[{r}]: label"
        );
        let pr = p.probabilities.as_ref().expect("probabilities");
        assert_eq!(pr.0.len(), classes, "{name}[{r}]: classes");
        for (j, (label, v)) in pr.0.iter().enumerate() {
            // a ZipMap's reference is in meta.json's label order; a tensor's in column order
            let col = c.zipmap.as_ref().map_or(j, |z| {
                z.iter()
                    .position(|l| l == label)
                    .expect("label in reference")
            });
            let w = probs[r * classes + col];
            let d = (v - w).abs();
            assert!(d <= 1e-5, "{name}[{r}][{label}]: {v} vs onnxruntime {w}");
            worst = worst.max(d);
        }
    }
    worst
}

#[test]
fn column_transformer_predicts_from_named_features() {
    let c = case("column_transformer");
    let spec = column_spec();
    let rows = column_rows(&c, &spec);
    let p = Predictor::new(&c.session, spec, SpecSource::Given).unwrap();
    let got = p.predict(&c.session, &rows[..]).unwrap();
    let worst = check_classifier("column_transformer", &c, &got);
    println!(
        "column_transformer: {} rows, largest difference {worst:.2e}",
        got.len()
    );
    assert_eq!(
        got[0]
            .probabilities
            .as_ref()
            .unwrap()
            .0
            .iter()
            .map(|(l, _)| l.as_str())
            .collect::<Vec<_>>(),
        ["0", "1"]
    );
    // one row at a time gives the same as the batch
    let one = p.predict(&c.session, &rows[3..4]).unwrap();
    assert_eq!(one[0], got[3]);
    // a number left out takes the spec's default, NaN: the pipeline's SimpleImputer fills it,
    // exactly as when NaN is fed to the model directly
    let pv = c.inputs.iter().find(|(n, _)| n == "PageValues").unwrap();
    let r =
        pv.1.as_f32()
            .unwrap()
            .iter()
            .position(|&x| x > 5.0)
            .expect("a row with page values");
    let mut blank = rows[r].clone();
    blank.retain(|(n, _)| n != "pageValues");
    let imputed = p.predict(&c.session, &[blank][..]).unwrap();
    let mut feeds: Vec<(String, Tensor)> = c
        .inputs
        .iter()
        .map(|(n, t)| {
            let row = if t.as_str().is_ok() {
                Tensor::from_strings(vec![1, 1], vec![t.as_str().unwrap()[r].clone()]).unwrap()
            } else {
                Tensor::from_f32(vec![1, 1], vec![t.as_f32().unwrap()[r]]).unwrap()
            };
            (n.clone(), row)
        })
        .collect();
    feeds.iter_mut().find(|(n, _)| n == "PageValues").unwrap().1 =
        Tensor::from_f32(vec![1, 1], vec![f32::NAN]).unwrap();
    let refs: Vec<(&str, &Tensor)> = feeds.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let direct = c.session.run(&refs).unwrap();
    assert_eq!(
        imputed[0].probabilities.as_ref().unwrap().0[1].1,
        direct[1].to_f64_vec()[1]
    );
    assert_ne!(
        imputed[0], got[r],
        "the imputed value differs from the row's own"
    );
}

#[test]
fn float_matrix_models_predict_from_named_features() {
    for name in ["xgboost_binary", "lightgbm_binary", "xgboost_multi"] {
        let c = case(name);
        let p = Predictor::new(&c.session, matrix_spec(), SpecSource::Given).unwrap();
        let got = p.predict(&c.session, &matrix_rows(&c)[..]).unwrap();
        let worst = check_classifier(name, &c, &got);
        println!("{name}: {} rows, largest difference {worst:.2e}", got.len());
    }
    for name in ["xgboost_regressor", "lightgbm_regressor"] {
        let c = case(name);
        let p = Predictor::new(&c.session, matrix_spec(), SpecSource::Given).unwrap();
        let got = p.predict(&c.session, &matrix_rows(&c)[..]).unwrap();
        let want = c.outputs[0].1.to_f64_vec();
        assert_eq!(got.len(), want.len());
        for (r, (g, w)) in got.iter().zip(&want).enumerate() {
            let v = g.value.expect("a regressor predicts a value");
            assert!(g.label.is_none() && g.probabilities.is_none());
            assert!(
                (v - w).abs() <= 1e-5 * w.abs().max(1.0),
                "{name}[{r}]: {v} vs {w}"
            );
        }
    }
}

fn feature_err(e: Error) -> (usize, String, FeatureReason, String) {
    match e {
        Error::Feature {
            row,
            field,
            reason,
            msg,
        } => (row, field, reason, msg),
        other => panic!("expected a feature error, got {other}"),
    }
}

#[test]
fn bad_rows_are_typed_errors_naming_the_field() {
    let c = case("xgboost_binary");
    let p = Predictor::new(&c.session, matrix_spec(), SpecSource::Given).unwrap();
    let good = matrix_rows(&c)[0].clone();
    let with = |k: &str, v: serde_json::Value| {
        let mut r = good.clone();
        r[k] = v;
        vec![good.clone(), r]
    };
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("pageValues");
    let cases: Vec<(Vec<serde_json::Value>, &str, FeatureReason, &str)> = vec![
        (
            vec![good.clone(), missing],
            "pageValues",
            FeatureReason::Missing,
            "missing",
        ),
        (
            with("bounceRates", serde_json::json!("0.2")),
            "bounceRates",
            FeatureReason::Type,
            "expected a number, got the string '0.2'",
        ),
        (
            with("weekend", serde_json::json!(1)),
            "weekend",
            FeatureReason::Type,
            "expected a boolean",
        ),
        (
            with("month", serde_json::json!("Movember")),
            "month",
            FeatureReason::UnknownCategory,
            "'Movember' is not in the vocabulary",
        ),
        (
            with("month", serde_json::json!(11)),
            "month",
            FeatureReason::Type,
            "expected a string",
        ),
        (
            vec![good.clone(), serde_json::json!([1, 2])],
            "",
            FeatureReason::NotAnObject,
            "got an array",
        ),
    ];
    for (rows, field, reason, text) in cases {
        let (row, f, r, msg) = feature_err(p.predict(&c.session, &rows[..]).unwrap_err());
        assert_eq!((row, f.as_str(), r), (1, field, reason), "{msg}");
        assert!(msg.contains(text), "{field}: {msg}");
    }
    // non-finite numbers (natively through FieldValue rows: JSON has no NaN)
    let spec = matrix_spec();
    let row = |x: f64| -> Vec<(String, FieldValue)> {
        MATRIX
            .iter()
            .map(|&n| {
                let v = match n {
                    "month" => FieldValue::Str("Nov".into()),
                    "returningVisitor" | "weekend" => FieldValue::Bool(false),
                    "exitRates" => FieldValue::Number(x),
                    _ => FieldValue::Number(0.0),
                };
                (n.to_string(), v)
            })
            .collect()
    };
    for x in [f64::NAN, f64::INFINITY] {
        let (_, f, r, msg) = feature_err(p.predict(&c.session, &[row(x)][..]).unwrap_err());
        assert_eq!(
            (f.as_str(), r),
            ("exitRates", FeatureReason::NonFinite),
            "{msg}"
        );
    }
    // … unless the spec allows them: NaN then takes the trees' missing-value track
    let mut allow = spec.clone();
    allow.features[7].allow_non_finite = true;
    let pa = Predictor::new(&c.session, allow, SpecSource::Given).unwrap();
    let nan = pa.predict(&c.session, &[row(f64::NAN)][..]).unwrap();
    let mut x = vec![0f32; 17];
    x[7] = f32::NAN;
    x[10] = 11.0;
    let direct = c
        .session
        .run(&[("X", &Tensor::from_f32(vec![1, 17], x).unwrap())])
        .unwrap();
    assert_eq!(
        nan[0].probabilities.as_ref().unwrap().0[1].1,
        direct[1].to_f64_vec()[1],
        "NaN reaches the model as the model's own missing value"
    );
}

#[test]
fn unknown_category_policies() {
    let c = case("column_transformer");
    let base = column_spec();
    let rows = column_rows(&c, &base);
    let mut odd = rows[0].clone();
    odd.iter_mut().find(|(n, _)| n == "month").unwrap().1 = FieldValue::Str("Smarch".into());
    // error (the default policy)
    let p = Predictor::new(&c.session, base.clone(), SpecSource::Given).unwrap();
    let (_, f, r, _) = feature_err(p.predict(&c.session, &[odd.clone()][..]).unwrap_err());
    assert_eq!((f.as_str(), r), ("month", FeatureReason::UnknownCategory));
    // ignore: the model gets the string (its OneHotEncoder, zeros=1, writes zeros for it)
    let mut ignore = base.clone();
    ignore.features[10].unknown = hearth::tabular::Unknown::Ignore;
    let p = Predictor::new(&c.session, ignore, SpecSource::Given).unwrap();
    let got = p.predict(&c.session, &[odd.clone()][..]).unwrap();
    let mut feeds = p.encode(&[odd.clone()][..]).unwrap();
    let month = feeds.iter().position(|(n, _)| n == "Month").unwrap();
    assert_eq!(feeds[month].1.as_str().unwrap(), ["Smarch"]);
    feeds[month].1 = Tensor::from_strings(vec![1, 1], vec!["Smarch".into()]).unwrap();
    let refs: Vec<(&str, &Tensor)> = feeds.iter().map(|(n, t)| (n.as_str(), t)).collect();
    let direct = c.session.run(&refs).unwrap();
    assert_eq!(
        got[0].probabilities.as_ref().unwrap().0[1].1,
        direct[1].to_f64_vec()[1]
    );
    // default: as if the row said the default category
    let mut default = base.clone();
    default.features[10].unknown = hearth::tabular::Unknown::Default;
    default.features[10].default = Some(hearth::tabular::DefaultValue::Str("Nov".into()));
    let p = Predictor::new(&c.session, default, SpecSource::Given).unwrap();
    let mut nov = odd.clone();
    nov.iter_mut().find(|(n, _)| n == "month").unwrap().1 = FieldValue::Str("Nov".into());
    assert_eq!(
        p.predict(&c.session, &[odd][..]).unwrap(),
        p.predict(&c.session, &[nov][..]).unwrap()
    );
}

#[test]
fn spec_template_metadata_and_derivation() {
    let c = case("column_transformer");
    // the template reads the OneHotEncoders' categories
    let t = template::template(&c.bytes).unwrap();
    assert_eq!(t.features.len(), 12);
    let month = t.features.iter().find(|f| f.name == "Month").unwrap();
    let vocab = month.vocabulary.as_ref().unwrap();
    assert_eq!(vocab.len(), 10, "the data has ten months: {vocab:?}");
    assert!(vocab.contains(&Category::Str("Nov".into())));
    assert_eq!(month.unknown, hearth::tabular::Unknown::Ignore, "zeros=1");
    assert_eq!(t.features[0].kind, hearth::tabular::Kind::Number);
    // embedded in metadata_props, it is found there
    let embedded = template::embed(&c.bytes, &t).unwrap();
    let s = Session::from_bytes(&embedded).unwrap();
    let p = Predictor::for_model(&s, Some(&embedded), None).unwrap();
    assert_eq!(p.source(), SpecSource::Metadata);
    assert_eq!(p.spec(), &t);
    // without a spec, the column inputs give a derived one
    let d = Predictor::for_model(&c.session, Some(&c.bytes), None).unwrap();
    assert_eq!(d.source(), SpecSource::Derived);
    let rows: Vec<serde_json::Value> = vec![serde_json::json!({
        "Administrative": 1, "Administrative_Duration": 10, "Informational": 0, "Informational_Duration": 0,
        "ProductRelated": 20, "ProductRelated_Duration": 600, "BounceRates": 0.01, "ExitRates": 0.02,
        "PageValues": 12.3, "SpecialDay": 0, "Month": "Nov", "VisitorType": "Returning_Visitor" })];
    let a = d.predict(&c.session, &rows[..]).unwrap();
    let b = p.predict(&s, &rows[..]).unwrap();
    assert_eq!(a, b);
    let pr = a[0].probabilities.as_ref().unwrap();
    assert!((pr.0[0].1 + pr.0[1].1 - 1.0).abs() < 1e-6);
    // a float-matrix model without a spec: a typed error pointing at `hearth spec`
    let x = case("xgboost_binary");
    let e = Predictor::for_model(&x.session, Some(&x.bytes), None).unwrap_err();
    assert!(
        matches!(e, Error::Spec(_)) && e.to_string().contains("hearth spec"),
        "{e}"
    );
    assert_eq!(e.code(), "SPEC_INVALID");
    // its template is the matrix layout over X's 17 columns
    let t = template::template(&x.bytes).unwrap();
    assert_eq!(
        (t.layout, t.features.len()),
        (hearth::tabular::Layout::Matrix, 17)
    );
}

#[test]
fn specs_that_do_not_fit_the_model_are_refused_by_field() {
    let c = case("xgboost_binary");
    let mut s = matrix_spec();
    s.features.pop();
    let e = Predictor::new(&c.session, s, SpecSource::Given).unwrap_err();
    assert!(e.to_string().contains("column 16"), "{e}");
    let e =
        FeatureSpec::from_json(r#"{"layout":"columns","features":[{"name":"a","kind":"date"}]}"#)
            .unwrap_err();
    assert!(e.to_string().contains("date"), "{e}");
    let c = case("column_transformer");
    let mut s = column_spec();
    s.features[10].input = Some("Monthh".into());
    let e = Predictor::new(&c.session, s, SpecSource::Given).unwrap_err();
    assert!(e.to_string().contains("Monthh"), "{e}");
    let mut s = column_spec();
    s.features[11].default = Some(hearth::tabular::DefaultValue::Str("Alien".into()));
    let e = Predictor::new(&c.session, s, SpecSource::Given).unwrap_err();
    assert!(
        e.to_string().contains("visitorType") && e.to_string().contains("default"),
        "{e}"
    );
}
