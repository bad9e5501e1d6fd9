#!/usr/bin/env python3
"""Write the ONNX backend node tests of a recent `onnx` release into a cache directory.

Usage: gen_onnx_node_tests.py DEST

From onnx 1.18 on, the wheels no longer ship the node tests as files: the test cases are built
in memory by `onnx.backend.test.case.node`. This script runs with an interpreter that has the
pinned `onnx` (tests/onnx_node_latest.rs makes a venv in the cache for it, leaving the system's
onnx==1.17.0 alone), collects every node case and writes DEST/node/<case>/model.onnx and
test_data_set_<k>/{input,output}_<j>.pb in the layout of the 1.17 data. Idempotent: does
nothing when DEST/node holds a `.complete` marker for this onnx version.
"""
import os
import shutil
import sys

import onnx
from onnx import TensorProto, numpy_helper
from onnx.backend.test.case import node as node_cases


def serialise(value, vi) -> bytes:
    t = vi.type
    if t.HasField("map_type"):
        return numpy_helper.from_dict(value, vi.name).SerializeToString()
    if t.HasField("sequence_type"):
        return numpy_helper.from_list(value, vi.name).SerializeToString()
    if t.HasField("optional_type"):
        return numpy_helper.from_optional(value, vi.name).SerializeToString()
    if isinstance(value, TensorProto):
        return value.SerializeToString()
    return numpy_helper.from_array(value, vi.name).SerializeToString()


def main() -> int:
    dest = os.path.join(sys.argv[1], "node")
    marker = os.path.join(dest, ".complete")
    if os.path.isfile(marker) and open(marker).read().strip() == onnx.__version__:
        return 0
    staging = dest + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    cases = node_cases.collect_testcases()
    for case in cases:
        out = os.path.join(staging, case.name)
        os.makedirs(out)
        with open(os.path.join(out, "model.onnx"), "wb") as f:
            f.write(case.model.SerializeToString())
        for i, (inputs, outputs) in enumerate(case.data_sets):
            d = os.path.join(out, f"test_data_set_{i}")
            os.makedirs(d)
            for j, v in enumerate(inputs):
                with open(os.path.join(d, f"input_{j}.pb"), "wb") as f:
                    f.write(serialise(v, case.model.graph.input[j]))
            for j, v in enumerate(outputs):
                with open(os.path.join(d, f"output_{j}.pb"), "wb") as f:
                    f.write(serialise(v, case.model.graph.output[j]))
    with open(os.path.join(staging, ".complete"), "w") as f:
        f.write(onnx.__version__ + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    os.rename(staging, dest)
    print(f"wrote {len(cases)} node tests of onnx {onnx.__version__} into {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
