//! The node tests of a recent onnx release (pinned: [`ONNX`]), which builds them in memory: the
//! first run makes a Python venv in the cache with that onnx (the system's onnx==1.17.0 stays
//! as it is) and writes the cases out with `tools/gen_onnx_node_tests.py`. Judged by
//! `tests/onnx_node_latest_expected_pass.txt` and `tests/onnx_node_latest_skip*.txt`, under the
//! rules of `tests/node_suite/mod.rs`.

mod node_suite;

use std::path::{Path, PathBuf};

/// The onnx release whose node tests this suite runs (opsets up to 28).
const ONNX: &str = "1.23.2";
/// numpy as `scripts/setup.sh` pins it.
const NUMPY: &str = "2.4.6";

fn data(cache: &Path) -> PathBuf {
    let dest = cache.join(format!("onnx-{ONNX}"));
    let node = dest.join("node");
    let done = std::fs::read_to_string(node.join(".complete")).unwrap_or_default();
    if done.trim() == ONNX {
        return node;
    }
    let venv = cache.join("py").join(format!("onnx-{ONNX}"));
    let python = venv.join("bin").join("python");
    if !python.is_file() {
        let ok = std::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 is needed to generate the latest node tests");
        assert!(ok.success(), "python3 -m venv {} failed", venv.display());
    }
    let ok = std::process::Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .arg(format!("onnx=={ONNX}"))
        .arg(format!("numpy=={NUMPY}"))
        .status()
        .expect("the venv's python runs");
    assert!(
        ok.success(),
        "pip install onnx=={ONNX} into {} failed",
        venv.display()
    );
    node_suite::run_python(&python, "gen_onnx_node_tests.py", &dest);
    node
}

fn main() {
    node_suite::main(&node_suite::Suite {
        title: "ONNX 1.23.2",
        data,
        expected: "onnx_node_latest_expected_pass.txt",
        skip: "onnx_node_latest_skip.txt",
        skip_webgpu: "onnx_node_latest_skip_webgpu.txt",
    });
}
