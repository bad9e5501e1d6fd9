//! The ONNX 1.17 backend node tests (the files the onnx 1.17.0 wheel ships), judged by
//! `tests/onnx_node_expected_pass.txt` and the skip lists `tests/onnx_node_skip*.txt`. The
//! rules and the environment switches are in `tests/node_suite/mod.rs`.

mod node_suite;

use std::path::{Path, PathBuf};

/// The node tests, extracted from the onnx 1.17.0 wheel.
fn data(cache: &Path) -> PathBuf {
    let dest = cache.join("onnx-1.17.0");
    let node = dest.join("node");
    if !node.is_dir() {
        node_suite::run_python(Path::new("python3"), "fetch_onnx_testdata.py", &dest);
    }
    node
}

fn main() {
    node_suite::main(&node_suite::Suite {
        title: "ONNX 1.17",
        data,
        expected: "onnx_node_expected_pass.txt",
        skip: "onnx_node_skip.txt",
        skip_webgpu: "onnx_node_skip_webgpu.txt",
    });
}
