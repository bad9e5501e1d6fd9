//! Real-weight models from the wild against onnxruntime.
//!
//! `tools/wild_models.py` fetches pinned PyPI wheels and npm tarballs (rapidocr_onnxruntime
//! 1.3.24: PP-OCRv4 detector and recogniser, PP-OCR direction classifier, Apache-2.0;
//! silero-vad 6.2.3: six silero VAD exports, MIT; @ricky0123/vad-web 0.0.31: silero VAD v4 and
//! v5, ISC; ddddocr 1.6.1: a captcha recogniser and detector, MIT), checks every archive's and
//! model's sha256, and writes onnxruntime's outputs on realistic inputs into
//! `$HEARTH_CACHE/wild-models-v1` (never committed). A case runs one or more calls; in a stream
//! (VAD chunks) the recurrent state Hearth returns feeds its next call, as an app would do.
//! Every output of every call must match onnxruntime within the case's stated tolerance
//! (`|got − want| ≤ atol + rtol·|want|`, in the manifest with its reason).
//!
//! `tests/wild_models_expected.txt` names every case that must pass: the run fails when one
//! does not, when a case passes that the list does not name, and when the list names a case the
//! manifest does not have (stale). `HEARTH_TEST_BACKEND=webgpu` runs them on the GPU backend.

mod common;

use hearth::conformance::{compare, Tolerance};
use hearth::onnx::tensor::tensor_from_pb;
use hearth::{BackendChoice, Session, SessionOptions, Tensor};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn models_dir() -> PathBuf {
    common::generated_dir("wild-models-v1", "wild_models.py", "manifest.json")
}

fn pbs(dir: &Path, prefix: &str) -> Vec<(String, Tensor)> {
    (0..)
        .map_while(|k| std::fs::read(dir.join(format!("{prefix}_{k}.pb"))).ok())
        .map(|b| tensor_from_pb(&b).expect("reference tensors decode"))
        .collect()
}

fn expected_list() -> BTreeSet<String> {
    include_str!("wild_models_expected.txt")
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// The largest |got − want| over one output (for the report).
fn worst(got: &Tensor, want: &Tensor) -> f64 {
    got.to_f64_vec()
        .iter()
        .zip(want.to_f64_vec())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
}

/// Runs every call of one case; returns the largest difference seen.
fn run_case(session: &Session, dir: &Path, case: &serde_json::Value) -> Result<f64, String> {
    let steps = case["steps"].as_u64().unwrap() as usize;
    let tol = Tolerance {
        atol: case["tolerance"]["atol"].as_f64().unwrap(),
        rtol: case["tolerance"]["rtol"].as_f64().unwrap(),
    };
    let carry: Vec<(String, String)> = case["carry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().into(), p[1].as_str().unwrap().into()))
        .collect();
    let out_names: Vec<String> = session.outputs().iter().map(|o| o.name.clone()).collect();
    let mut prev: Option<Vec<Tensor>> = None;
    let mut largest = 0f64;
    for k in 0..steps {
        let step = dir.join(format!("step_{k}"));
        let mut inputs = pbs(&step, "input");
        let expected = pbs(&step, "output");
        if let Some(prev) = &prev {
            for (o, i) in &carry {
                let at = out_names
                    .iter()
                    .position(|n| n == o)
                    .ok_or_else(|| format!("no output {o} to carry"))?;
                let slot = inputs
                    .iter_mut()
                    .find(|(n, _)| n == i)
                    .ok_or_else(|| format!("no input {i} to carry into"))?;
                slot.1 = prev[at].clone();
            }
        }
        let feeds: Vec<(&str, &Tensor)> = inputs.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let got = session
            .run(&feeds)
            .map_err(|e| format!("call {k}: run: {e}"))?;
        if got.len() != expected.len() {
            return Err(format!(
                "call {k}: {} outputs, onnxruntime gave {}",
                got.len(),
                expected.len()
            ));
        }
        for (j, (name, want)) in expected.iter().enumerate() {
            compare(&got[j], want, tol).map_err(|m| format!("call {k}: output {name}: {m}"))?;
            largest = largest.max(worst(&got[j], want));
        }
        prev = Some(got);
    }
    Ok(largest)
}

#[test]
fn wild_models_match_onnxruntime() {
    let dir = models_dir();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let backend = match std::env::var("HEARTH_TEST_BACKEND").as_deref() {
        Ok("webgpu") => BackendChoice::WebGpu,
        _ => BackendChoice::Cpu,
    };
    let expected = expected_list();
    let cases = manifest["cases"].as_array().expect("manifest lists cases");
    let names: BTreeSet<String> = cases
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    let mut problems: Vec<String> = expected
        .iter()
        .filter(|e| !names.contains(*e))
        .map(|e| format!("{e}: listed in wild_models_expected.txt but not in the manifest (stale)"))
        .collect();
    let mut sessions: BTreeMap<String, Result<Session, String>> = BTreeMap::new();
    let (mut passed, mut failed) = (0, 0);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let model = case["model"].as_str().unwrap();
        let session = sessions.entry(model.to_string()).or_insert_with(|| {
            let bytes = std::fs::read(dir.join(format!("models/{model}.onnx"))).unwrap();
            Session::with_options(&bytes, &[], &SessionOptions { backend })
                .map_err(|e| format!("load {model}: {e}"))
        });
        let result = match session {
            Ok(s) => run_case(s, &dir.join("cases").join(name), case),
            Err(e) => Err(e.clone()),
        };
        match (result, expected.contains(name)) {
            (Ok(d), true) => {
                passed += 1;
                println!("pass {name} (largest |diff| {d:.2e})");
            }
            (Ok(d), false) => {
                passed += 1;
                problems.push(format!(
                    "{name}: passes (largest |diff| {d:.2e}) but is not in wild_models_expected.txt: add it"
                ));
            }
            (Err(e), true) => {
                failed += 1;
                problems.push(format!("{name}: {e}"));
            }
            (Err(e), false) => {
                failed += 1;
                println!("not expected to pass: {name}: {e}");
            }
        }
    }
    // (not "N passed, N failed": the unlisted cases that do not match are reported, not failures)
    println!("wild models: {passed} cases match onnxruntime, {failed} do not");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
