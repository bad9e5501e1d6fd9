//! The ONNX backend node tests as a conformance suite, shared by `tests/onnx_node.rs` (the
//! files the onnx 1.17.0 wheel ships) and `tests/onnx_node_latest.rs` (the cases a recent
//! pinned onnx release builds in memory, written out at test time by
//! `tools/gen_onnx_node_tests.py`). Each suite has its own data directory in the cache
//! (`$HEARTH_CACHE`, default `~/.cache/hearth`) and its own lists in `tests/`.
//!
//! A run fetches or generates the data when absent, runs every case, and prints `N passed, M
//! failed, K skipped` as its last line. Coverage cannot shrink unseen: every case named in the
//! suite's expected-pass list must pass, and a case that passes must be named there. A case
//! counts as skipped when it is not on that list and its model uses an operator Hearth does not
//! implement (a typed `UnsupportedOp` error at load, listed by op), a dtype Hearth does not
//! compute (a typed `UnsupportedDType` error, listed by dtype), or when the suite's skip list
//! names it with a reason. Everything else fails the run: a wrong value, any other error, a
//! panic, an expected case that does not pass (an op newly rejected included), a passing case
//! missing from the expected list, a skip entry whose case passes (stale), and a list entry
//! naming a case the data does not have.
//!
//! Environment: `HEARTH_NODE_FILTER=substr` runs only cases whose name contains `substr` (the
//! lists are then checked for those cases only); `HEARTH_TEST_BACKEND=cpu` (the default) or
//! `webgpu` (needs `--features webgpu` and a GPU adapter; lavapipe natively) selects the
//! backend; `HEARTH_NODE_VERBOSE=1` lists every case; `HEARTH_NODE_UPDATE=1` (cpu, no filter)
//! rewrites the expected-pass list from this run, for a change that adds coverage on purpose.
//! On `webgpu`, the suite's GPU skip list adds GPU-only skips (each with its reason, taken off
//! the expected list there) and the summary lists which ops ran on the GPU and which on the CPU
//! kernels. The wasm runners (`tests/wasm/onnx_node.test.mjs`, `tests/browser/webgpu.test.mjs`)
//! apply the same lists (`tests/conformance.mjs`).

use hearth::conformance::{run_case_with, Outcome, Tolerance};
use hearth::{BackendChoice, SessionOptions};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

fn cache_dir() -> PathBuf {
    if let Ok(d) = std::env::var("HEARTH_CACHE") {
        return PathBuf::from(d);
    }
    let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
    Path::new(&home).join(".cache/hearth")
}

/// One conformance suite: where its data comes from and which lists judge it.
pub struct Suite {
    /// What the summary calls it (`ONNX 1.17`).
    pub title: &'static str,
    /// Makes sure the suite's node tests are in the cache and returns their directory.
    pub data: fn(&Path) -> PathBuf,
    /// The expected-pass list, the skip list and the GPU-only skip list, in `tests/`.
    pub expected: &'static str,
    pub skip: &'static str,
    pub skip_webgpu: &'static str,
}

/// Runs `script` with `python` and `dest`, failing the run when it fails.
pub fn run_python(python: &Path, script: &str, dest: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tools")
        .join(script);
    let status = std::process::Command::new(python)
        .arg(&script)
        .arg(dest)
        .status()
        .unwrap_or_else(|e| panic!("{}: {e}", python.display()));
    assert!(status.success(), "{} failed", script.display());
}

/// `name # reason` lines; blank lines and lines starting with `#` are ignored.
fn read_list(file: &str) -> HashMap<String, String> {
    let text =
        std::fs::read_to_string(list_path(file)).unwrap_or_else(|e| panic!("tests/{file}: {e}"));
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

fn list_path(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(file)
}

/// The expected-pass list: one case name a line; blank lines and `#` comments ignored.
fn read_expected(file: &str) -> BTreeSet<String> {
    let text =
        std::fs::read_to_string(list_path(file)).unwrap_or_else(|e| panic!("tests/{file}: {e}"));
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

fn write_expected(suite: &Suite, passed: &BTreeSet<String>) {
    let mut text = format!(
        "# {} node tests that must pass on every backend and build (native CPU and GPU, wasm\n\
         # in Node, Chromium on WebGPU), one a line. The suite fails when one of them does\n\
         # not pass and when a passing case is missing here. Rewrite with HEARTH_NODE_UPDATE=1\n\
         # (cpu backend, no filter) only when coverage grows on purpose; review the diff.\n",
        suite.title
    );
    for n in passed {
        text.push_str(n);
        text.push('\n');
    }
    std::fs::write(list_path(suite.expected), text).expect("the expected-pass list is writable");
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

/// Runs `suite` and exits with 1 when anything failed.
pub fn main(suite: &Suite) {
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
    let update = std::env::var("HEARTH_NODE_UPDATE").is_ok();
    if update && (choice != BackendChoice::Cpu || !filter.is_empty()) {
        eprintln!("HEARTH_NODE_UPDATE=1 needs the cpu backend and no HEARTH_NODE_FILTER");
        std::process::exit(2);
    }
    let mut skip = read_list(suite.skip);
    let mut expected = read_expected(suite.expected);
    if choice == BackendChoice::WebGpu {
        let gpu_skip = read_list(suite.skip_webgpu);
        expected.retain(|n| !gpu_skip.contains_key(n));
        skip.extend(gpu_skip);
    }
    for n in skip.keys() {
        assert!(
            !expected.contains(n),
            "{n} is both expected to pass and in a skip list: remove it from one"
        );
    }
    let mut on_gpu: BTreeMap<String, usize> = BTreeMap::new();
    let mut on_cpu: BTreeMap<String, usize> = BTreeMap::new();
    let mut cases_with_gpu = 0usize;
    let root = (suite.data)(&cache_dir());
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
    let mut passing = BTreeSet::new();
    let mut list_failures = Vec::new();
    let names: BTreeSet<String> = cases
        .iter()
        .map(|d| d.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    for n in expected.iter().chain(skip.keys()) {
        if n.contains(&filter) && !names.contains(n) {
            list_failures.push(format!(
                "{n} is listed but the test data has no such case (data incomplete, or a stale entry)"
            ));
        }
    }
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
        if outcome == Outcome::Pass {
            passing.insert(name.clone());
        }
        let is_expected = expected.contains(&name);
        match (outcome, skip.get(&name)) {
            (Outcome::Pass, Some(_)) => {
                stale_skips.push(name.clone());
                failed += 1;
                println!("FAIL {name}: passes but a skip list names it: remove the entry");
            }
            (Outcome::Pass, None) if !is_expected && !update => {
                failed += 1;
                println!(
                    "FAIL {name}: passes but is not in tests/{}: add it",
                    suite.expected
                );
            }
            (Outcome::Pass, None) => {
                passed += 1;
                if verbose {
                    println!("pass {name}");
                }
            }
            (other, _) if is_expected => {
                failed += 1;
                println!(
                    "FAIL {name}: expected to pass (tests/{}), got {other:?}",
                    suite.expected
                );
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
            // a listed case may fail, but never by a panic: every case passes or gives a
            // typed error
            (Outcome::Fail(msg), Some(_)) if msg.starts_with("PANIC") => {
                failed += 1;
                println!("FAIL {name}: {msg} (a skip list names it, but a panic is never allowed)");
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
    if !stale_skips.is_empty() {
        println!(
            "stale skip entries (the case passes): {}",
            stale_skips.join(", ")
        );
    }
    for f in &list_failures {
        failed += 1;
        println!("FAIL {f}");
    }
    if update {
        write_expected(suite, &passing);
        println!("wrote tests/{}: {} cases", suite.expected, passing.len());
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
    println!(
        "{}; backend: {backend}; expected to pass: {} cases; skip lists: {} entries",
        suite.title,
        expected.iter().filter(|n| n.contains(&filter)).count(),
        skip.len()
    );
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
const MINIMAL_MODEL: &[u8] = include_bytes!("../onnx_node_probe.onnx");
