#!/usr/bin/env bash
# Builds the two wasm builds (SIMD128, release, wasm-opt -Oz) and their JS glue into pkg/wasm/,
# and prints raw / gzip / brotli sizes:
#   hearth-cpu  CPU only (default features): small, loaded first
#   hearth      CPU + WebGPU (feature `webgpu`): loaded when navigator.gpu gives an adapter
# HEARTH_WASM_BUILDS="hearth-cpu" builds only the first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
out="$ROOT/pkg/wasm"
mkdir -p "$out"

build() { # name, cargo features, target dir
  local name=$1 features=$2 target=$3
  CARGO_TARGET_DIR="$target" cargo build --release --lib \
    --target wasm32-unknown-unknown --manifest-path "$ROOT/Cargo.toml" ${features:+--features "$features"}
  raw="$target/wasm32-unknown-unknown/release/hearth.wasm"
  wasm-bindgen --target web --out-dir "$out" --out-name "$name" "$raw"
  # -ocimfs 1000: binaryen otherwise inlines every single-caller function whatever its size, which
  # built one 215 KB function that V8 compiles lazily on the first run (28-40 ms measured in Node;
  # 2-4 ms with this limit, and the file is smaller).
  wasm-opt -Oz -ocimfs 1000 --enable-simd --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int --enable-mutable-globals --enable-multivalue --enable-reference-types "$out/${name}_bg.wasm" -o "$out/${name}_bg.wasm.opt"
  mv "$out/${name}_bg.wasm.opt" "$out/${name}_bg.wasm"

  f="$out/${name}_bg.wasm"
  raw_b=$(stat -c %s "$f")
  gz_b=$(gzip -9 -c "$f" | wc -c)
  br_b=$(brotli -q 11 -c "$f" | wc -c)
  simd=$(wasm-objdump -d "$f" 2>/dev/null | grep -c -E 'f32x4|i32x4|v128' || true)
  echo "wasm $name: raw $raw_b B, gzip $gz_b B, brotli $br_b B${simd:+ (SIMD128 instructions: $simd)}"
}

for b in ${HEARTH_WASM_BUILDS:-hearth-cpu hearth}; do
  case $b in
    hearth-cpu) build hearth-cpu "" "$HEARTH_WASM_TARGET_DIR" ;;
    # its own target dir, so switching between the two builds stays incremental
    hearth) build hearth webgpu "$HEARTH_WASM_TARGET_DIR-webgpu" ;;
    *) echo "unknown wasm build '$b'" >&2; exit 2 ;;
  esac
done
