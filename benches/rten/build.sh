#!/usr/bin/env bash
# Builds RTen 0.27 (crates.io `rten`, feature `wasm_api`) for wasm32 with SIMD128, runs
# wasm-bindgen (--target web) and wasm-opt -O3, into $HEARTH_CACHE/rten-wasm/{rten.js,rten_bg.wasm}.
# benches/bench.mjs loads it as a third engine when it is there. Skips the build when the output
# is newer than this script and the manifest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/env.sh"
here="$ROOT/benches/rten"
out="$HEARTH_CACHE/rten-wasm"
target="$HEARTH_CACHE/target-rten"
if [ -f "$out/rten_bg.wasm" ] && [ "$out/rten_bg.wasm" -nt "$here/Cargo.toml" ] && [ "$out/rten_bg.wasm" -nt "$here/build.sh" ]; then
  echo "rten-wasm: up to date in $out"; exit 0
fi
mkdir -p "$out"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128" CARGO_TARGET_DIR="$target" \
  cargo build --release --target wasm32-unknown-unknown --manifest-path "$here/Cargo.toml" -p rten
wasm-bindgen --target web --out-dir "$out" --out-name rten "$target/wasm32-unknown-unknown/release/rten.wasm"
wasm-opt -O3 --enable-simd --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-mutable-globals --enable-multivalue --enable-reference-types "$out/rten_bg.wasm" -o "$out/rten_bg.wasm.opt"
mv "$out/rten_bg.wasm.opt" "$out/rten_bg.wasm"
echo "rten-wasm: $(stat -c %s "$out/rten_bg.wasm") B raw, $(brotli -q 11 -c "$out/rten_bg.wasm" | wc -c) B brotli in $out"
