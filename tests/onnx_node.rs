//! ONNX 1.17 backend node tests as a conformance suite.
//!
//! `cargo test --release --test onnx_node` fetches the test data into the cache directory
//! (`$HEARTH_CACHE`, default `~/.cache/hearth`) when absent, runs every case, and prints
//! `N passed, M failed, K skipped` as its last line. A case counts as skipped when its model uses
//! an operator Hearth does not implement (a typed `UnsupportedOp` error at load, listed by op), a
//! dtype Hearth does not compute (a typed `UnsupportedDType` error, listed by dtype), or
//! when `tests/onnx_node_skip.txt` lists it with a reason. Anything else that does not match the
//! expected outputs — a wrong value, any other error, a panic — is a failure.
//!
//! Environment: `HEARTH_NODE_FILTER=substr` runs only cases whose name contains `substr`;
//! `HEARTH_TEST_BACKEND=cpu` (the default) or `webgpu` (needs `--features webgpu` and a GPU
//! adapter; lavapipe natively) selects the backend; `HEARTH_NODE_VERBOSE=1` lists every case.
//! On `webgpu`, `tests/onnx_node_skip_webgpu.txt` adds GPU-only skips (each with its reason) and
//! the summary lists which ops ran on the GPU and which on the CPU kernels.

use hearth::conformance::{run_case_with, Outcome, Tolerance};
use hearth::{BackendChoice, SessionOptions};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

fn cache_dir() -> PathBuf {
    if let Ok(d) = std::env::var("HEARTH_CACHE") {
        return PathBuf::from(d);
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
    Path::new(&home).join(".cache/hearth")
}

fn node_dir() -> PathBuf {
    let dest = cache_dir().join("onnx-1.17.0");
    let node = dest.join("node");
    if !node.is_dir() {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/fetch_onnx_testdata.py");
        let status = std::process::Command::new("python3")
            .arg(&script)
            .arg(&dest)
            .status()
            .expect("python3 is needed to fetch the ONNX test data");
        assert!(status.success(), "fetching the ONNX test data failed");
    }
    node
}

/// `name # reason` lines; blank lines and lines starting with `#` are ignored.
fn read_list(file: &str) -> HashMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut out = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, reason) = line.split_once('#').unwrap_or((line, ""));
        let reason = reason.trim();
        assert!(
            !reason.is_empty(),
            "{file}: '{}' has no reason",
            name.trim()
        );
        out.insert(name.trim().to_string(), reason.to_string());
    }
    out
}

fn read_pbs(dir: &Path, prefix: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for k in 0.. {
        match std::fs::read(dir.join(format!("{prefix}_{k}.pb"))) {
            Ok(b) => out.push(b),
            Err(_) => break,
        }
    }
    out
}

fn main() {
    let backend = std::env::var("HEARTH_TEST_BACKEND").unwrap_or_else(|_| "cpu".into());
    let choice = match (backend.as_str(), cfg!(feature = "webgpu")) {
        ("cpu", _) => BackendChoice::Cpu,
        ("webgpu", true) => BackendChoice::WebGpu,
        ("webgpu", false) => {
            eprintln!("HEARTH_TEST_BACKEND=webgpu: build with --features webgpu");
            std::process::exit(2);
        }
        _ => {
            eprintln!("HEARTH_TEST_BACKEND={backend}: expected cpu or webgpu");
            std::process::exit(2);
        }
    };
    if choice == BackendChoice::WebGpu {
        // fail once, clearly, when there is no adapter (rather than once per case)
        if let Err(e) = hearth::Session::with_options(
            MINIMAL_MODEL,
            &[],
            &SessionOptions {
                backend: BackendChoice::WebGpu,
            },
        ) {
            eprintln!("HEARTH_TEST_BACKEND=webgpu: {e}");
            std::process::exit(2);
        }
    }
    let options = SessionOptions { backend: choice };
    let filter = std::env::var("HEARTH_NODE_FILTER").unwrap_or_default();
    let verbose = std::env::var("HEARTH_NODE_VERBOSE").is_ok();
    let mut skip = read_list("onnx_node_skip.txt");
    if choice == BackendChoice::WebGpu {
        skip.extend(read_list("onnx_node_skip_webgpu.txt"));
    }
    let mut on_gpu: BTreeMap<String, usize> = BTreeMap::new();
    let mut on_cpu: BTreeMap<String, usize> = BTreeMap::new();
    let mut cases_with_gpu = 0usize;
    let root = node_dir();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("the node test directory is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("model.onnx").is_file())
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains(&filter))
        .collect();
    cases.sort();

    // silence the default panic message; panics are reported as failures below
    std::panic::set_hook(Box::new(|_| {}));
    let (mut passed, mut failed, mut skipped) = (0usize, 0usize, 0usize);
    let mut unsupported: BTreeMap<String, usize> = BTreeMap::new();
    let mut dtypes: BTreeMap<String, usize> = BTreeMap::new();
    let mut stale_skips = Vec::new();
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let model = std::fs::read(dir.join("model.onnx")).expect("model.onnx is readable");
        let data = dir.join("test_data_set_0");
        let inputs = read_pbs(&data, "input");
        let outputs = read_pbs(&data, "output");
        let outcome = std::panic::catch_unwind(|| {
            let (mut outcome, session) =
                run_case_with(&model, &inputs, &outputs, Tolerance::default(), &options);
            // a GPU failure moves a session to the CPU, which would pass the case unseen
            if let Some(why) = session.as_ref().and_then(|s| s.fallback_reason()) {
                if outcome == Outcome::Pass {
                    outcome = Outcome::Fail(format!("fell back to the CPU: {why}"));
                }
            }
            (outcome, session.and_then(|s| placement(&s)))
        })
        .map(|(outcome, placed)| {
            if let (Outcome::Pass, Some((g, c))) = (&outcome, placed) {
                if !g.is_empty() {
                    cases_with_gpu += 1;
                }
                for (k, v) in g {
                    *on_gpu.entry(k).or_default() += v;
                }
                for (k, v) in c {
                    *on_cpu.entry(k).or_default() += v;
                }
            }
            outcome
        })
        .unwrap_or_else(|p| {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Outcome::Fail(format!("PANIC: {msg}"))
        });
        match (outcome, skip.get(&name)) {
            (Outcome::Pass, Some(_)) => {
                stale_skips.push(name.clone());
                passed += 1;
            }
            (Outcome::Pass, None) => {
                passed += 1;
                if verbose {
                    println!("pass {name}");
                }
            }
            (Outcome::UnsupportedOp(op), _) => {
                skipped += 1;
                *unsupported.entry(op).or_default() += 1;
            }
            (Outcome::UnsupportedDType(d), _) => {
                skipped += 1;
                let d = d.split(' ').next().unwrap_or("").to_string();
                *dtypes.entry(d).or_default() += 1;
                if verbose {
                    println!("skip {name}: unsupported dtype");
                }
            }
            (Outcome::Fail(msg), Some(reason)) => {
                skipped += 1;
                if verbose {
                    println!("skip {name}: {reason} ({msg})");
                }
            }
            (Outcome::Fail(msg), None) => {
                failed += 1;
                println!("FAIL {name}: {msg}");
            }
        }
    }
    if !unsupported.is_empty() {
        let list: Vec<String> = unsupported
            .iter()
            .map(|(op, n)| format!("{op} ({n})"))
            .collect();
        println!(
            "not implemented (typed UnsupportedOp at load): {}",
            list.join(", ")
        );
    }
    if !dtypes.is_empty() {
        let list: Vec<String> = dtypes.iter().map(|(d, n)| format!("{d} ({n})")).collect();
        println!(
            "unsupported dtypes (typed UnsupportedDType): {}",
            list.join(", ")
        );
    }
    for s in &stale_skips {
        println!("note: {s} passes but is in onnx_node_skip.txt: remove it from the list");
    }
    if choice == BackendChoice::WebGpu {
        let list = |m: &BTreeMap<String, usize>| {
            m.iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "passing cases with GPU work: {cases_with_gpu}; node runs on the GPU: {}",
            list(&on_gpu)
        );
        println!(
            "node runs on the CPU kernels (no GPU kernel or layout): {}",
            list(&on_cpu)
        );
    }
    println!("backend: {backend}; skip list: {} entries", skip.len());
    println!("{passed} passed, {failed} failed, {skipped} skipped");
    if failed > 0 {
        std::process::exit(1);
    }
}

/// Where the last run's ops ran: (GPU counts, CPU counts) by op type.
#[cfg(feature = "webgpu")]
fn placement(s: &hearth::Session) -> Option<(BTreeMap<String, usize>, BTreeMap<String, usize>)> {
    s.placement().map(|p| (p.gpu, p.cpu))
}

#[cfg(not(feature = "webgpu"))]
fn placement(_: &hearth::Session) -> Option<(BTreeMap<String, usize>, BTreeMap<String, usize>)> {
    None
}

/// `Y = Relu(X)` (ONNX, opset 13), to check once that the requested backend starts.
const MINIMAL_MODEL: &[u8] = include_bytes!("onnx_node_probe.onnx");
