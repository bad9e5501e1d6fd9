#!/usr/bin/env bash
# Builds the CPU wasm (SIMD128, release, wasm-opt -Oz) and its JS glue into pkg/wasm/, and
# prints raw / gzip / brotli sizes.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
out="$ROOT/pkg/wasm"
mkdir -p "$out"

CARGO_TARGET_DIR="$HEARTH_WASM_TARGET_DIR" cargo build --release --lib \
  --target wasm32-unknown-unknown --manifest-path "$ROOT/Cargo.toml"
raw="$HEARTH_WASM_TARGET_DIR/wasm32-unknown-unknown/release/hearth.wasm"
wasm-bindgen --target web --out-dir "$out" --out-name hearth-cpu "$raw"
# -ocimfs 1000: binaryen otherwise inlines every single-caller function whatever its size, which
# built one 215 KB function that V8 compiles lazily on the first run (28-40 ms measured in Node;
# 2-4 ms with this limit, and the file is smaller).
wasm-opt -Oz -ocimfs 1000 --enable-simd --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int --enable-mutable-globals --enable-multivalue --enable-reference-types "$out/hearth-cpu_bg.wasm" -o "$out/hearth-cpu_bg.wasm.opt"
mv "$out/hearth-cpu_bg.wasm.opt" "$out/hearth-cpu_bg.wasm"

f="$out/hearth-cpu_bg.wasm"
raw_b=$(stat -c %s "$f")
gz_b=$(gzip -9 -c "$f" | wc -c)
br_b=$(brotli -q 11 -c "$f" | wc -c)
simd=$(wasm-objdump -d "$f" 2>/dev/null | grep -c -E 'f32x4|i32x4|v128' || true)
echo "wasm hearth-cpu: raw $raw_b B, gzip $gz_b B, brotli $br_b B${simd:+ (SIMD128 instructions: $simd)}"
