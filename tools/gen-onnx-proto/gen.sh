#!/usr/bin/env bash
# Regenerates src/onnx/proto.rs from onnx.proto of the onnx 1.17.0 wheel (PyPI).
# Needs protoc (Debian: protobuf-compiler).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
python3 -m pip download --no-deps --only-binary=:all: -q -d "$tmp" onnx==1.17.0
python3 - "$tmp" <<'PY'
import glob, sys, zipfile
tmp = sys.argv[1]
with zipfile.ZipFile(glob.glob(tmp + "/onnx-*.whl")[0]) as z:
    open(tmp + "/onnx.proto", "wb").write(z.read("onnx/onnx.proto"))
PY
cargo run -q --release --manifest-path "$here/Cargo.toml" -- "$tmp/onnx.proto" "$tmp/out"
cp "$tmp/out/onnx.rs" "$here/../../src/onnx/proto.rs"
rm -rf "$tmp"
echo "wrote src/onnx/proto.rs"
