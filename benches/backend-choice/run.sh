#!/usr/bin/env bash
# Builds the probe for both burn CPU backends (wasm32 + SIMD128, release, wasm-opt -Oz) and
# prints sizes and matmul timings. Slow: two clean burn builds (about 5 and 8 minutes).
set -euo pipefail
source "$(dirname "$0")/../../scripts/env.sh"
here="$(cd "$(dirname "$0")" && pwd)"
out="$HEARTH_CACHE/backend-choice"
mkdir -p "$out"
for b in flex ndarray; do
  CARGO_TARGET_DIR="$HEARTH_CACHE/target-backend-choice-$b" RUSTFLAGS="-C target-feature=+simd128" \
    cargo build -q --release --target wasm32-unknown-unknown --features "$b" --manifest-path "$here/Cargo.toml"
  wasm-opt -Oz --enable-simd --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int \
    --enable-mutable-globals --enable-multivalue --enable-reference-types \
    "$HEARTH_CACHE/target-backend-choice-$b/wasm32-unknown-unknown/release/backend_choice.wasm" -o "$out/$b.wasm"
  f="$out/$b.wasm"
  echo "$b: raw $(stat -c %s "$f") B, gzip $(gzip -9 -c "$f" | wc -c) B, brotli $(brotli -q 11 -c "$f" | wc -c) B"
done
cd "$out" && node "$here/run.mjs" flex.wasm ndarray.wasm
