#!/usr/bin/env python3
"""Fetch the ONNX 1.17.0 backend test data into a cache directory.

Usage: fetch_onnx_testdata.py DEST

Downloads the onnx==1.17.0 wheel from PyPI with pip (the last wheels that ship the test data as
files) and extracts onnx/backend/test/data/node/ into DEST/node/ (the node tests) and
onnx/backend/test/data/light/ into DEST/light/ (small real CNNs with reference outputs).
Idempotent: does nothing when both are there.
"""
import glob
import os
import subprocess
import sys
import tempfile
import zipfile

PARTS = ("node", "light")
PREFIX = "onnx/backend/test/data/"


def main() -> int:
    dest = sys.argv[1]
    node = os.path.join(dest, "node")
    light = os.path.join(dest, "light")
    if os.path.isdir(node) and len(os.listdir(node)) > 1000 and os.path.isdir(light):
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "--quiet", "-d", tmp, "onnx==1.17.0"],
            check=True,
        )
        wheels = glob.glob(os.path.join(tmp, "onnx-1.17.0-*.whl"))
        if not wheels:
            print("no onnx 1.17.0 wheel was downloaded", file=sys.stderr)
            return 1
        with zipfile.ZipFile(wheels[0]) as z:
            for part in PARTS:
                final = os.path.join(dest, part)
                if os.path.isdir(final):
                    continue
                staging = final + ".partial"
                prefix = PREFIX + part + "/"
                for info in z.infolist():
                    if info.filename.startswith(prefix) and not info.is_dir():
                        out = os.path.join(staging, info.filename[len(prefix):])
                        os.makedirs(os.path.dirname(out), exist_ok=True)
                        with z.open(info) as src, open(out, "wb") as dst:
                            dst.write(src.read())
                os.replace(staging, final)
    print(f"ONNX 1.17.0 node tests: {len(os.listdir(node))} in {node}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
