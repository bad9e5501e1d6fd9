#!/usr/bin/env bash
# Builds the GPU-stack probe (gpu/) for wasm32 with plain wgpu and with burn-wgpu, runs
# wasm-bindgen and wasm-opt -Oz as scripts/build-wasm.sh does, and prints build time and
# raw / gzip / brotli sizes. Slow: a clean burn-wgpu build takes 15+ minutes on 2 cores.
# Usage: run-gpu.sh [wgpu] [burn]   (default: both)
set -euo pipefail
source "$(dirname "$0")/../../scripts/env.sh"
here="$(cd "$(dirname "$0")" && pwd)"
out="$HEARTH_CACHE/backend-choice-gpu"
mkdir -p "$out"
for v in "${@:-wgpu burn}"; do
 for s in $v; do
  target="$HEARTH_CACHE/target-gpu-choice-$s"
  start=$(date +%s)
  CARGO_TARGET_DIR="$target" cargo build -q --release --target wasm32-unknown-unknown \
    --features "$s" --manifest-path "$here/gpu/Cargo.toml"
  secs=$(( $(date +%s) - start ))
  wasm-bindgen --target web --out-dir "$out/$s" --out-name probe \
    "$target/wasm32-unknown-unknown/release/gpu_choice.wasm"
  wasm-opt -Oz --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
    --enable-mutable-globals --enable-multivalue --enable-reference-types \
    "$out/$s/probe_bg.wasm" -o "$out/$s.wasm"
  f="$out/$s.wasm"
  echo "$s: build ${secs} s; raw $(stat -c %s "$f") B, gzip $(gzip -9 -c "$f" | wc -c) B, brotli $(brotli -q 11 -c "$f" | wc -c) B"
 done
done
