//! Whole-model tests: the fixtures in `tests/models/<name>/` (made by `tools/gen_models.py`,
//! expected outputs from onnxruntime) must match within the suite's tolerance
//! (`|got − expected| ≤ 1e-5 + 1e-3·|expected|`) unless the fixture's `tolerance.txt` states a
//! looser one with its reason (`atol=… rtol=…`).
//!
//! `HEARTH_TEST_BACKEND=webgpu` (with `--features webgpu`) runs them on the GPU backend.

use hearth::conformance::{compare, Tolerance};
use hearth::onnx::tensor::tensor_from_pb;
use hearth::{BackendChoice, Session, SessionOptions, Tensor};
use std::path::{Path, PathBuf};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/models");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.retain(|p| p.join("model.onnx").is_file());
    v.sort();
    v
}

fn tolerance(dir: &Path) -> Tolerance {
    let mut tol = Tolerance::default();
    if let Ok(text) = std::fs::read_to_string(dir.join("tolerance.txt")) {
        for word in text.split_whitespace() {
            if let Some(v) = word.strip_prefix("atol=") {
                tol.atol = v
                    .trim_end_matches([',', ';'])
                    .parse()
                    .expect("atol=<number>");
            }
            if let Some(v) = word.strip_prefix("rtol=") {
                tol.rtol = v
                    .trim_end_matches([',', ';'])
                    .parse()
                    .expect("rtol=<number>");
            }
        }
    }
    tol
}

fn pbs(dir: &Path, prefix: &str) -> Vec<(String, Tensor)> {
    (0..)
        .map_while(|k| std::fs::read(dir.join(format!("{prefix}_{k}.pb"))).ok())
        .map(|b| tensor_from_pb(&b).expect("fixture tensors decode"))
        .collect()
}

fn run_fixture(dir: &Path) -> Result<(), String> {
    let model = std::fs::read(dir.join("model.onnx")).unwrap();
    // every other file beside model.onnx (not text) is external data, by file name
    let mut ext: Vec<(String, Vec<u8>)> = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if p.is_file() && name != "model.onnx" && !name.ends_with(".txt") && !name.ends_with(".md")
        {
            ext.push((name, std::fs::read(&p).unwrap()));
        }
    }
    let refs: Vec<(&str, &[u8])> = ext.iter().map(|(n, b)| (n.as_str(), &b[..])).collect();
    let backend = match std::env::var("HEARTH_TEST_BACKEND").as_deref() {
        Ok("webgpu") => BackendChoice::WebGpu,
        _ => BackendChoice::Cpu,
    };
    let session = Session::with_options(&model, &refs, &SessionOptions { backend })
        .map_err(|e| format!("load: {e}"))?;
    let tol = tolerance(dir);
    for set in (0..)
        .map(|k| dir.join(format!("test_data_set_{k}")))
        .take_while(|d| d.is_dir())
    {
        let inputs = pbs(&set, "input");
        let expected = pbs(&set, "output");
        let feeds: Vec<(&str, &Tensor)> = inputs.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let got = session
            .run(&feeds)
            .map_err(|e| format!("{}: run: {e}", set.display()))?;
        if let Some(why) = session.fallback_reason() {
            return Err(format!("fell back to the CPU: {why}"));
        }
        for (k, (name, want)) in expected.iter().enumerate() {
            compare(&got[k], want, tol)
                .map_err(|m| format!("{}: output {k} ({name}): {m}", set.display()))?;
        }
    }
    Ok(())
}

#[test]
fn model_fixtures_match_onnxruntime() {
    let all = fixtures();
    assert!(
        !all.is_empty(),
        "no fixtures under tests/models: run tools/gen_models.py"
    );
    let mut failures = Vec::new();
    for dir in &all {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        match run_fixture(dir) {
            Ok(()) => println!("pass {name}"),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "model fixtures failed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn metadata_reports_symbolic_batch() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/models/mlp");
    let model = std::fs::read(dir.join("model.onnx")).unwrap();
    let s = Session::from_bytes(&model).unwrap();
    let shape = s.inputs()[0].shape.clone().expect("declared shape");
    assert_eq!(shape.len(), 2);
    assert!(
        matches!(shape[0], hearth::Dim::Sym(_)),
        "batch dim is symbolic: {shape:?}"
    );
    assert_eq!(shape[1], hearth::Dim::Known(17));
}
