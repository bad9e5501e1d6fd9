#!/usr/bin/env python3
"""Fetch the ONNX 1.17.0 backend node tests into a cache directory.

Usage: fetch_onnx_testdata.py DEST

Downloads the onnx==1.17.0 wheel from PyPI with pip (the last wheels that ship the test data as
files) and extracts onnx/backend/test/data/node/ into DEST/node/. Idempotent: does nothing when
DEST/node already holds the tests.
"""
import glob
import os
import subprocess
import sys
import tempfile
import zipfile

PREFIX = "onnx/backend/test/data/node/"


def main() -> int:
    dest = sys.argv[1]
    node = os.path.join(dest, "node")
    if os.path.isdir(node) and len(os.listdir(node)) > 1000:
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
        staging = node + ".partial"
        with zipfile.ZipFile(wheels[0]) as z:
            for info in z.infolist():
                if info.filename.startswith(PREFIX) and not info.is_dir():
                    rel = info.filename[len(PREFIX):]
                    out = os.path.join(staging, rel)
                    os.makedirs(os.path.dirname(out), exist_ok=True)
                    with z.open(info) as src, open(out, "wb") as dst:
                        dst.write(src.read())
        os.replace(staging, node)
    print(f"ONNX 1.17.0 node tests: {len(os.listdir(node))} in {node}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
