#!/usr/bin/env bash
# Runs every test: native unit tests, the ONNX conformance suite, the model tests, then the
# wasm build's tests in Node (API, models, and the conformance suite again in wasm) and in
# headless Chromium, then the npm package (pkg/) in Node and Chromium with its Vite example, then
# the demo shop (www/) end to end in Chromium.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
bash scripts/setup.sh

# One native feature set for every native step, so the crate is compiled once: the CLI, and the
# GPU backend (its tests run on Mesa's lavapipe, a Vulkan driver on the CPU: parity, not speed).
features=cli,webgpu
export HEARTH_CLI_FEATURES=$features   # www/scripts/build-bundle.mjs builds the CLI with the same set
# Native builds: thin release (quick to build) with unwinding panics, stated here too: with
# panic=abort, `cargo test` builds the lib once per panic strategy (tests unwind, the CLI binary
# aborts) into the same libhearth.rlib (cargo#6313) and the two builds race into link errors.
native() { CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  CARGO_PROFILE_RELEASE_PANIC=unwind "$@"; }

echo "== native tests (GPU tests on lavapipe) =="
native cargo test --release --features "$features"

echo "== GPU backend: conformance suite and model fixtures, every node the GPU covers on the GPU =="
HEARTH_TEST_BACKEND=webgpu native cargo test --release --features "$features" --test onnx_node --test onnx_node_latest --test models

echo "== recommender: Online Retail time-split evaluation (native CLI); its lists feed the wasm test =="
native cargo run --release --features "$features" --bin hearth -- recommender eval \
  --events "$HEARTH_DATA/online-retail/online-retail.csv.gz" --split 2011-10-01 \
  --lists-out "$HEARTH_CACHE/retail/lists.json" --bundle-out "$HEARTH_CACHE/retail/eval.hearth"

echo "== wasm build =="
HEARTH_WASM_BUILDS="hearth-cpu hearth-cpu-full hearth hearth-cpu-test hearth-test" bash scripts/build-wasm.sh

echo "== wasm tests (Node) =="
node --test tests/wasm/

echo "== benchmark smoke: every bench case once, outputs must agree with onnxruntime-web =="
python3 tools/gen_bench_models.py
bash benches/rten/build.sh   # RTen 0.27 for wasm32 (third engine), into $HEARTH_CACHE/rten-wasm; skipped when up to date
npm ci --silent --no-audit --no-fund --prefix benches
node benches/bench.mjs --smoke
node benches/gemm.mjs --smoke     # GEMM micro-benchmark once; Hearth must agree with ORT
node benches/recommend.mjs --smoke
node benches/tracer.mjs --smoke
node benches/browser/run.mjs --smoke   # headless Chromium: Hearth CPU vs ORT wasm + webgpu (SwiftShader)

echo "== wasm tests (headless Chromium) =="
npm ci --silent --no-audit --no-fund --prefix tests/browser
node --test tests/browser/

echo "== npm package hearth-ml (Node, headless Chromium, Vite example; reuses the wasm built above) =="
npm ci --silent --no-audit --no-fund --prefix pkg
npm test --prefix pkg

echo "== demo shop www/ (bundle by the CLI, Vite build, end-to-end in headless Chromium; reuses the wasm and pkg/dist built above) =="
npm ci --silent --no-audit --no-fund --prefix www
npm test --prefix www
