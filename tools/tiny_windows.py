"""Reference outputs for tests/tiny_windows.rs: Conv, ConvTranspose and pooling on inputs shorter
than their (dilated, padded) windows, computed by onnxruntime and written to
tests/fixtures/tiny_windows.json. Run: python3 tools/tiny_windows.py (onnx, onnxruntime, numpy)."""
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

# (name, op, x shape, w shape or None, bias?, attributes)
CASES = [
    ("conv1d_len1_k5_pad2", "Conv", [1, 1, 1], [1, 1, 5], False, {"pads": [2, 2]}),
    ("conv1d_len1_k5_pad2_bias_channels", "Conv", [1, 2, 1], [3, 2, 5], True, {"pads": [2, 2]}),
    ("conv1d_len2_k5_pad2_stride2", "Conv", [1, 1, 2], [1, 1, 5], False, {"pads": [2, 2], "strides": [2]}),
    ("conv1d_len3_k3_dil3_pad3", "Conv", [1, 1, 3], [1, 1, 3], False, {"pads": [3, 3], "dilations": [3]}),
    ("conv1d_len1_k3_pad1_stride3", "Conv", [1, 1, 1], [1, 1, 3], False, {"pads": [1, 1], "strides": [3]}),
    ("conv1d_len2_k4_pad3_0", "Conv", [1, 1, 2], [1, 1, 4], False, {"pads": [3, 0]}),
    ("conv1d_len2_k4_pad0_3", "Conv", [1, 1, 2], [1, 1, 4], False, {"pads": [0, 3]}),
    ("conv1d_len1_k5_same_upper", "Conv", [1, 1, 1], [1, 1, 5], False, {"auto_pad": "SAME_UPPER"}),
    ("conv1d_len2_k5_same_lower_stride2", "Conv", [1, 1, 2], [1, 1, 5], False, {"auto_pad": "SAME_LOWER", "strides": [2]}),
    ("conv1d_len1_k5_group2", "Conv", [1, 2, 1], [2, 1, 5], False, {"pads": [2, 2], "group": 2}),
    ("conv2d_1x1_k5x5_pad2", "Conv", [1, 1, 1, 1], [1, 1, 5, 5], False, {"pads": [2, 2, 2, 2]}),
    ("conv2d_2x3_k3x5_stride2x3", "Conv", [1, 1, 2, 3], [2, 1, 3, 5], True, {"pads": [1, 2, 1, 2], "strides": [2, 3]}),
    ("conv2d_1x2_k3x3_dil2_pad2", "Conv", [1, 1, 1, 2], [1, 1, 3, 3], False, {"pads": [2, 2, 2, 2], "dilations": [2, 2]}),
    ("conv2d_3x1_k1x7_pad3", "Conv", [1, 2, 3, 1], [1, 2, 1, 7], False, {"pads": [0, 3, 0, 3]}),
    ("conv2d_1x1_k3x3_stride2_pad1", "Conv", [2, 1, 1, 1], [1, 1, 3, 3], False, {"pads": [1, 1, 1, 1], "strides": [2, 2]}),
    ("conv3d_1x1x1_k3_pad1", "Conv", [1, 1, 1, 1, 1], [1, 1, 3, 3, 3], False, {"pads": [1, 1, 1, 1, 1, 1]}),
    ("convtranspose1d_len1_k5_pad2", "ConvTranspose", [1, 1, 1], [1, 1, 5], False, {"pads": [2, 2]}),
    ("convtranspose2d_1x1_k3_stride2_pad1", "ConvTranspose", [1, 1, 1, 1], [1, 1, 3, 3], False, {"pads": [1, 1, 1, 1], "strides": [2, 2]}),
    ("convtranspose1d_len2_k5_stride3_dil2_pad4_3", "ConvTranspose", [1, 1, 2], [1, 2, 5], True, {"pads": [4, 3], "strides": [3], "dilations": [2]}),
    ("maxpool1d_len1_k5_pad2", "MaxPool", [1, 1, 1], None, False, {"kernel_shape": [5], "pads": [2, 2]}),
    ("maxpool1d_len2_k3_stride2_pad1_ceil", "MaxPool", [1, 1, 2], None, False, {"kernel_shape": [3], "pads": [1, 1], "strides": [2], "ceil_mode": 1}),
    ("maxpool2d_1x2_k3_dil2_pad2", "MaxPool", [1, 1, 1, 2], None, False, {"kernel_shape": [3, 3], "pads": [2, 2, 2, 2], "dilations": [2, 2]}),
    ("avgpool1d_len1_k5_pad2", "AveragePool", [1, 1, 1], None, False, {"kernel_shape": [5], "pads": [2, 2]}),
    ("avgpool1d_len1_k5_pad2_include", "AveragePool", [1, 1, 1], None, False, {"kernel_shape": [5], "pads": [2, 2], "count_include_pad": 1}),
    ("avgpool2d_2x2_k5_stride3_pad2_ceil", "AveragePool", [1, 1, 2, 2], None, False, {"kernel_shape": [5, 5], "pads": [2, 2, 2, 2], "strides": [3, 3], "ceil_mode": 1}),
    ("avgpool2d_1x1_k3_same_upper", "AveragePool", [1, 2, 1, 1], None, False, {"kernel_shape": [3, 3], "auto_pad": "SAME_UPPER"}),
    ("lppool1d_len1_k3_pad1", "LpPool", [1, 1, 1], None, False, {"kernel_shape": [3], "pads": [1, 1], "p": 2}),
]


def values(n, seed):
    # small exact binary fractions, different per tensor
    return [((i * 7 + seed * 5) % 13 - 6) / 4.0 for i in range(n)]


def main():
    out = []
    for name, op, xs, ws, bias, attrs in CASES:
        x = np.array(values(int(np.prod(xs)), 1), np.float32).reshape(xs)
        feeds = {"x": x}
        inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, xs)]
        names = ["x"]
        inits = []
        w = b = None
        if ws is not None:
            w = np.array(values(int(np.prod(ws)), 2), np.float32).reshape(ws)
            inits.append(helper.make_tensor("w", TensorProto.FLOAT, ws, w.flatten().tolist()))
            names.append("w")
            if bias:
                m = ws[0] if op == "Conv" else ws[1] * attrs.get("group", 1)
                b = np.array(values(m, 3), np.float32)
                inits.append(helper.make_tensor("b", TensorProto.FLOAT, [m], b.tolist()))
                names.append("b")
        node = helper.make_node(op, names, ["y"], **attrs)
        graph = helper.make_graph([node], "g", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        (y,) = sess.run(None, feeds)
        case = {"name": name, "op": op, "attrs": attrs, "x": {"dims": xs, "data": x.flatten().tolist()}}
        if w is not None:
            case["w"] = {"dims": ws, "data": w.flatten().tolist()}
        if b is not None:
            case["b"] = {"dims": [len(b)], "data": b.tolist()}
        case["y"] = {"dims": list(y.shape), "data": [float(v) for v in y.flatten()]}
        out.append(case)
        print(f"{name}: y {list(y.shape)}")
    path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "tiny_windows.json")
    with open(path, "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(c, separators=(",", ":")) for c in out) + "\n]\n")


if __name__ == "__main__":
    main()
