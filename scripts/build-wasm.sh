#!/usr/bin/env bash
# Builds the three shipped wasm builds (SIMD128, release, wasm-opt -Oz) and their JS glue into
# pkg/wasm/, and prints raw / gzip / brotli sizes:
#   hearth-cpu       CPU only, `--no-default-features --features retrieval`: the ONNX executor
#                    (with the fused MatMul → TopK retrieval node) and the recommender; small,
#                    loaded first
#   hearth-cpu-full  CPU only with every feature (adds `ml`: the ai.onnx.ml operators, and
#                    `education`: knowledge tracing); loaded only when a model needs ai.onnx.ml
#                    or a tracer is loaded (pkg/src/engine.ts)
#   hearth           CPU + WebGPU (feature `webgpu`, every feature): loaded when navigator.gpu
#                    gives an adapter
# and, for the wasm test runners only, the full CPU and the GPU build with feature `test-api`
# (the conformance judge, a TensorProto decoder, GPU test hooks) into tests/wasm-build/ (ignored,
# never shipped): hearth-cpu-test, hearth-test
# HEARTH_WASM_BUILDS names the builds to make (default: the three shipped ones; scripts/test.sh
# asks for all five).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
ship="$ROOT/pkg/wasm"
test_out="$ROOT/tests/wasm-build"

build() { # name, cargo feature flags, target dir, output dir
  local name=$1 flags=$2 target=$3 out=$4
  mkdir -p "$out"
  # shellcheck disable=SC2086 # $flags is a list of cargo flags
  CARGO_TARGET_DIR="$target" cargo build --release --lib \
    --target wasm32-unknown-unknown --manifest-path "$ROOT/Cargo.toml" $flags
  raw="$target/wasm32-unknown-unknown/release/hearth.wasm"
  wasm-bindgen --target web --out-dir "$out" --out-name "$name" "$raw"
  # A trapped instance is unusable (Rust aborted mid-call; its heap is in an unknown state), and
  # the package's inline engine replaces it. wasm-bindgen's glue instantiates once and keeps the
  # instance in module variables, so this export lets its next init() instantiate afresh. The
  # engine first releases every object of the old instance with __destroy_into_raw(), so no
  # finalizer reaches the new one. (wasm-bindgen's --experimental-reset-state-function does the
  # same with a guard in every exported call.)
  printf '\n/** Forgets the instance: the next init() makes a fresh one (scripts/build-wasm.sh). */\nexport function __hearth_forget_instance() { wasm = undefined; wasmInstance = undefined; __wbg_init_promise = undefined; }\n' >>"$out/$name.js"
  printf '\n/** Forgets the instance: the next init() makes a fresh one (scripts/build-wasm.sh). */\nexport function __hearth_forget_instance(): void;\n' >>"$out/$name.d.ts"
  grep -q '^let wasmModule, wasmInstance, wasm;$' "$out/$name.js" && grep -q '^let __wbg_init_promise;$' "$out/$name.js" \
    || { echo "build-wasm.sh: the glue no longer declares wasm / __wbg_init_promise as expected; update __hearth_forget_instance" >&2; exit 1; }
  # -ocimfs 100: binaryen otherwise inlines every single-caller function whatever its size, which
  # built one 215 KB function that V8 compiles lazily on the first run (28-40 ms measured in Node;
  # 2-4 ms with a limit of 1000). From 1000 to 100 (2026-12-01): V8 optimises a hot function whole,
  # in the background, and runs the baseline code meanwhile; kernels kept apart (#[inline(never)],
  # src/backend/cpu/mod.rs) were merged back into their dispatchers by binaryen. With 100 the
  # largest function V8 optimised for an MLP took 143 ms instead of 448 ms (loaded machine), the
  # MLP's early runs were 0.02 ms instead of 0.05 ms, steady runs 0.0166 ms instead of 0.0181,
  # and hearth-cpu is 4.5 KB smaller (brotli).
  # --low-memory-unused (2026-12-02): folds constant offsets (< 1024) into loads and stores, which
  # is exact when no address below 1024 is used; Rust puts data at 1 MiB and the stack below it,
  # growing down, so only a stack within 1 KiB of overflowing would reach there (and would corrupt
  # memory at 0 without the flag too). hearth-cpu 2.4 KB smaller (brotli).
  wasm-opt -Oz -ocimfs 100 --low-memory-unused --enable-simd --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int --enable-mutable-globals --enable-multivalue --enable-reference-types ${WASM_OPT_EXTRA:-} "$out/${name}_bg.wasm" -o "$out/${name}_bg.wasm.opt"
  mv "$out/${name}_bg.wasm.opt" "$out/${name}_bg.wasm"

  f="$out/${name}_bg.wasm"
  raw_b=$(stat -c %s "$f")
  gz_b=$(gzip -9 -c "$f" | wc -c)
  br_b=$(brotli -q 11 -c "$f" | wc -c)
  simd=$(wasm-objdump -d "$f" 2>/dev/null | grep -c -E 'f32x4|i32x4|v128' || true)
  echo "wasm $name (${out#"$ROOT/"}): raw $raw_b B, gzip $gz_b B, brotli $br_b B${simd:+ (SIMD128 instructions: $simd)}"
}

# A test build shares its shipped twin's target dir: `test-api` changes only this crate, so the
# dependencies are built once; the GPU builds have their own dir so switching stays incremental.
# The two CPU builds differ in this crate's features only, so they share one target dir too.
for b in ${HEARTH_WASM_BUILDS:-hearth-cpu hearth-cpu-full hearth}; do
  case $b in
    hearth-cpu) build hearth-cpu "--no-default-features --features retrieval" "$HEARTH_WASM_TARGET_DIR" "$ship" ;;
    hearth-cpu-full) build hearth-cpu-full "" "$HEARTH_WASM_TARGET_DIR" "$ship" ;;
    hearth) build hearth "--features webgpu" "$HEARTH_WASM_TARGET_DIR-webgpu" "$ship" ;;
    # bench only, not shipped: hearth-cpu with relaxed SIMD (the f32 GEMM's fused multiply-add),
    # into $HEARTH_CACHE/hearth-cpu-relaxed; its own target dir, since RUSTFLAGS differ
    hearth-cpu-relaxed) RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd" WASM_OPT_EXTRA=--enable-relaxed-simd \
      build hearth-cpu "--no-default-features --features retrieval" "$HEARTH_WASM_TARGET_DIR-relaxed" "$HEARTH_CACHE/hearth-cpu-relaxed" ;;
    hearth-cpu-test) build hearth-cpu "--features test-api" "$HEARTH_WASM_TARGET_DIR" "$test_out" ;;
    hearth-test) build hearth "--features webgpu,test-api" "$HEARTH_WASM_TARGET_DIR-webgpu" "$test_out" ;;
    *) echo "unknown wasm build '$b'" >&2; exit 2 ;;
  esac
done
