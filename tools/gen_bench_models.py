#!/usr/bin/env python3
"""Write the benchmark models (deterministic, seeded) into a cache directory, not into git.

Usage: python3 tools/gen_bench_models.py [OUT]   (default: $HEARTH_CACHE/bench-models,
                                                  HEARTH_CACHE defaulting to ~/.cache/hearth)

Models (onnx.helper only, no torch):
  mlp.onnx        Gemm 64-256-256-10 with Relu, symbolic batch; weights also in mlp.json
                  (row-major [in, out] matrices) so TensorFlow.js rebuilds the same network.
  cnn.onnx        LeNet-style CNN on [batch, 1, 28, 28] (Conv 6@5x5 pad 2, Relu, MaxPool 2,
                  Conv 16@5x5, Relu, MaxPool 2, Flatten, Gemm 400-120-84-10 with Relu);
                  weights also in cnn.json (ONNX layouts) for TensorFlow.js.
  lstm.onnx       knowledge tracing over 200 steps: int64 ids [1, 200] -> Gather (100 x 32)
                  -> LSTM hidden 64 -> MatMul 64x100 + Sigmoid per step; weights also in
                  lstm.json (ONNX layouts and gate order i, o, f, c) for TensorFlow.js.
  gru.onnx        next item: ids [1, 20] -> Gather (1000 x 64) -> GRU hidden 64 -> last step
                  -> scores over 1000 items -> TopK 10 (PyTorch's linear_before_reset=1).
  gru_reset.onnx  the same with linear_before_reset=0 (the ONNX default; Keras / tf2onnx).
  dwsep.onnx      MobileNet-style depthwise-separable CNN on [1, 3, 128, 128]: a 3x3 stride-2
                  stem, six blocks of depthwise 3x3 (group = channels) + BatchNormalization + Clip
                  0..6 then pointwise 1x1 + BatchNormalization + Clip, global average pool, Gemm
                  to 10 classes. BatchNormalization stays a separate node, as exporters write it.
  crnn.onnx       CRNN-style text-line recogniser on [1, 3, 48, 320]: a 3x3 stride-2 stem with
                  HardSwish, four depthwise-separable blocks (HardSwish, strides (2,2) then (2,1)
                  down to height 3), MaxPool (3, 2) to height 1, Squeeze/Transpose to [40, 1, 128],
                  a bidirectional LSTM 64, MatMul + Add to 97 classes, Softmax over the classes.
  gemm_N.onnx     A [N, N] (input) x B [N, N] (constant) MatMul, N = 64, 256, 512, 1024, for the
                  GEMM micro-benchmark (benches/gemm.mjs); gemm_int8_N.onnx the same as
                  MatMulInteger (A uint8 input, B int8 constant, int32 out), N = 256, 512.
  rec.onnx        recommendation scoring: user [1, 64] x items [64, 100000] -> TopK 10; the item
                  table is also written raw to rec_items.f32 ([100000, 64] row-major) for the
                  plain-JS baseline.
  gbdt300.onnx    scikit-learn GradientBoostingClassifier, 300 trees of depth 6, trained on UCI
                  Online Shoppers (../shared/data/online-shoppers, CC BY 4.0: Sakar et al. 2019,
                  UCI dataset 468), exported by skl2onnx without ZipMap (onnxruntime-web cannot
                  return a sequence of maps): X [N, 17] -> label, probabilities.
  onehot.onnx     a skl2onnx ColumnTransformer (OneHotEncoder on Month and VisitorType strings,
                  StandardScaler on 10 numeric columns) + LogisticRegression, same data.
                  These two need scikit-learn and skl2onnx (scripts/setup.sh pins them).
Each model is checked to load and run in onnxruntime.
"""

import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F32 = TensorProto.FLOAT


def init(name, arr):
    return numpy_helper.from_array(np.array(arr, order="C", copy=True), name)


def save(out, name, graph, opset=17):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="hearth-gen_bench_models")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, name))


def dense(rng, n_in, n_out):
    return ((rng.standard_normal((n_in, n_out)) * math.sqrt(2.0 / n_in)).astype(np.float32),
            (rng.standard_normal(n_out) * 0.05).astype(np.float32))


def mlp(out):
    rng = np.random.default_rng(64)
    sizes = [64, 256, 256, 10]
    nodes, inits, weights = [], [], {}
    prev = "x"
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        w, bias = dense(rng, a, b)
        weights[f"w{i}"], weights[f"b{i}"] = w.tolist(), bias.tolist()
        inits += [init(f"w{i}", w), init(f"b{i}", bias)]
        y = "y" if i == len(sizes) - 2 else f"h{i}"
        g = y if i == len(sizes) - 2 else f"g{i}"
        nodes.append(helper.make_node("Gemm", [prev, f"w{i}", f"b{i}"], [g]))
        if i != len(sizes) - 2:
            nodes.append(helper.make_node("Relu", [g], [y]))
        prev = y
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", F32, ["batch", 64])],
                              [helper.make_tensor_value_info("y", F32, ["batch", 10])], inits)
    save(out, "mlp.onnx", graph)
    with open(os.path.join(out, "mlp.json"), "w") as f:
        json.dump({"layers": [[weights[f"w{i}"], weights[f"b{i}"]] for i in range(3)]}, f)


def cnn(out):
    rng = np.random.default_rng(28)
    def conv_w(m, c, k):
        return (rng.standard_normal((m, c, k, k)) * math.sqrt(2.0 / (c * k * k))).astype(np.float32)
    inits = [init("c1w", conv_w(6, 1, 5)), init("c1b", np.zeros(6, np.float32) + 0.01),
             init("c2w", conv_w(16, 6, 5)), init("c2b", np.zeros(16, np.float32) + 0.01)]
    nodes = [
        helper.make_node("Conv", ["x", "c1w", "c1b"], ["a1"], kernel_shape=[5, 5], pads=[2, 2, 2, 2]),
        helper.make_node("Relu", ["a1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "c2w", "c2b"], ["a2"], kernel_shape=[5, 5]),
        helper.make_node("Relu", ["a2"], ["r2"]),
        helper.make_node("MaxPool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p2"], ["f"], axis=1),
    ]
    prev = "f"
    for i, (a, b) in enumerate([(400, 120), (120, 84), (84, 10)]):
        w, bias = dense(rng, a, b)
        inits += [init(f"fw{i}", w), init(f"fb{i}", bias)]
        last = i == 2
        nodes.append(helper.make_node("Gemm", [prev, f"fw{i}", f"fb{i}"], ["y" if last else f"d{i}"]))
        if not last:
            nodes.append(helper.make_node("Relu", [f"d{i}"], [f"e{i}"]))
            prev = f"e{i}"
    with open(os.path.join(out, "cnn.json"), "w") as f:
        json.dump({i.name: {"dims": list(i.dims), "data": numpy_helper.to_array(i).ravel().tolist()} for i in inits}, f)
    graph = helper.make_graph(nodes, "cnn", [helper.make_tensor_value_info("x", F32, ["batch", 1, 28, 28])],
                              [helper.make_tensor_value_info("y", F32, ["batch", 10])], inits)
    save(out, "cnn.onnx", graph)


def lstm(out, steps=200, skills=100, emb=32, hidden=64):
    rng = np.random.default_rng(200)
    s = 1.0 / math.sqrt(hidden)
    inits = [
        init("emb", rng.standard_normal((skills, emb)).astype(np.float32) * 0.5),
        init("W", rng.uniform(-s, s, (1, 4 * hidden, emb)).astype(np.float32)),
        init("R", rng.uniform(-s, s, (1, 4 * hidden, hidden)).astype(np.float32)),
        init("B", rng.uniform(-s, s, (1, 8 * hidden)).astype(np.float32)),
        init("perm_axes", np.array([1], np.int64)),
        init("out_w", (rng.standard_normal((hidden, skills)) * s).astype(np.float32)),
        init("out_b", np.zeros(skills, np.float32)),
    ]
    nodes = [
        helper.make_node("Gather", ["emb", "ids"], ["e"]),              # [1, T, emb]
        helper.make_node("Transpose", ["e"], ["et"], perm=[1, 0, 2]),   # [T, 1, emb]
        helper.make_node("LSTM", ["et", "W", "R", "B"], ["Y"], hidden_size=hidden),
        helper.make_node("Squeeze", ["Y", "perm_axes"], ["ys"]),        # [T, 1, hidden]
        helper.make_node("MatMul", ["ys", "out_w"], ["logits0"]),
        helper.make_node("Add", ["logits0", "out_b"], ["logits"]),
        helper.make_node("Sigmoid", ["logits"], ["p"]),                 # [T, 1, skills]
    ]
    with open(os.path.join(out, "lstm.json"), "w") as f:
        json.dump({i.name: {"dims": list(i.dims), "data": numpy_helper.to_array(i).ravel().tolist()} for i in inits}, f)
    graph = helper.make_graph(nodes, "lstm_kt", [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, steps])],
                              [helper.make_tensor_value_info("p", F32, [steps, 1, skills])], inits)
    save(out, "lstm.onnx", graph)


def gru(out, steps=20, items=1000, dim=64, lbr=1, name="gru.onnx"):
    rng = np.random.default_rng(2020)
    s = 1.0 / math.sqrt(dim)
    inits = [
        init("emb", rng.standard_normal((items, dim)).astype(np.float32) * 0.3),
        init("W", rng.uniform(-s, s, (1, 3 * dim, dim)).astype(np.float32)),
        init("R", rng.uniform(-s, s, (1, 3 * dim, dim)).astype(np.float32)),
        init("B", rng.uniform(-s, s, (1, 6 * dim)).astype(np.float32)),
        init("item_t", rng.standard_normal((dim, items)).astype(np.float32)),
        init("k", np.array([10], np.int64)),
        init("zero", np.array([0], np.int64)),
    ]
    nodes = [
        helper.make_node("Gather", ["emb", "ids"], ["e"]),
        helper.make_node("Transpose", ["e"], ["et"], perm=[1, 0, 2]),
        helper.make_node("GRU", ["et", "W", "R", "B"], ["Y", "Yh"], hidden_size=dim, linear_before_reset=lbr),
        helper.make_node("Squeeze", ["Yh", "zero"], ["h"]),            # [1, dim]
        helper.make_node("MatMul", ["h", "item_t"], ["scores"]),
        helper.make_node("TopK", ["scores", "k"], ["top_scores", "top_items"]),
    ]
    graph = helper.make_graph(nodes, "gru_next_item", [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, steps])],
                              [helper.make_tensor_value_info("top_scores", F32, [1, 10]),
                               helper.make_tensor_value_info("top_items", TensorProto.INT64, [1, 10])], inits)
    save(out, name, graph)


def gru_reset(out):
    """gru.onnx with linear_before_reset=0 (the ONNX default, as Keras / tf2onnx export it)."""
    gru(out, lbr=0, name="gru_reset.onnx")


def _bn(rng, name, c, inits):
    inits += [init(f"{name}_s", rng.uniform(0.5, 1.5, c).astype(np.float32)),
              init(f"{name}_b", (rng.standard_normal(c) * 0.1).astype(np.float32)),
              init(f"{name}_m", (rng.standard_normal(c) * 0.1).astype(np.float32)),
              init(f"{name}_v", rng.uniform(0.5, 1.5, c).astype(np.float32))]
    return [f"{name}_s", f"{name}_b", f"{name}_m", f"{name}_v"]


def _conv_w(rng, m, c, k):
    return (rng.standard_normal((m, c, k, k)) * math.sqrt(2.0 / (c * k * k))).astype(np.float32)


def _act(nodes, kind, x, y):
    if kind == "relu6":
        nodes.append(helper.make_node("Clip", [x, "zero_f", "six_f"], [y]))
    else:
        nodes.append(helper.make_node("HardSwish", [x], [y]))


def _dwsep_block(rng, nodes, inits, x, name, c, m, stride, act, bias=False):
    """Depthwise 3x3 (stride `stride`) + BN + act, pointwise 1x1 to `m` + BN + act."""
    inits.append(init(f"{name}_dw", _conv_w(rng, c, 1, 3)))
    inits.append(init(f"{name}_pw", _conv_w(rng, m, c, 1)))
    nodes.append(helper.make_node("Conv", [x, f"{name}_dw"], [f"{name}_a"], kernel_shape=[3, 3],
                                  pads=[1, 1, 1, 1], strides=list(stride), group=c))
    nodes.append(helper.make_node("BatchNormalization", [f"{name}_a"] + _bn(rng, f"{name}_bn1", c, inits), [f"{name}_b"]))
    _act(nodes, act, f"{name}_b", f"{name}_c")
    nodes.append(helper.make_node("Conv", [f"{name}_c", f"{name}_pw"], [f"{name}_d"], kernel_shape=[1, 1]))
    nodes.append(helper.make_node("BatchNormalization", [f"{name}_d"] + _bn(rng, f"{name}_bn2", m, inits), [f"{name}_e"]))
    _act(nodes, act, f"{name}_e", f"{name}_y")
    return f"{name}_y"


def dwsep(out):
    rng = np.random.default_rng(96)
    inits = [init("zero_f", np.array(0, np.float32)), init("six_f", np.array(6, np.float32)),
             init("stem_w", _conv_w(rng, 16, 3, 3))]
    nodes = [helper.make_node("Conv", ["x", "stem_w"], ["stem_a"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2])]
    nodes.append(helper.make_node("BatchNormalization", ["stem_a"] + _bn(rng, "stem_bn", 16, inits), ["stem_b"]))
    _act(nodes, "relu6", "stem_b", "stem_y")
    x, c = "stem_y", 16
    for i, (m, s) in enumerate([(32, 1), (64, 2), (64, 1), (128, 2), (128, 1), (256, 2)]):
        x = _dwsep_block(rng, nodes, inits, x, f"b{i}", c, m, (s, s), "relu6")
        c = m
    w, b = dense(rng, c, 10)
    inits += [init("fc_w", w), init("fc_b", b)]
    nodes += [helper.make_node("GlobalAveragePool", [x], ["gap"]),
              helper.make_node("Flatten", ["gap"], ["flat"], axis=1),
              helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["y"])]
    graph = helper.make_graph(nodes, "dwsep", [helper.make_tensor_value_info("x", F32, [1, 3, 128, 128])],
                              [helper.make_tensor_value_info("y", F32, [1, 10])], inits)
    save(out, "dwsep.onnx", graph)


def crnn(out, hidden=64, classes=97):
    rng = np.random.default_rng(4832)
    inits = [init("stem_w", _conv_w(rng, 16, 3, 3)), init("stem_bias", (rng.standard_normal(16) * 0.1).astype(np.float32))]
    nodes = [helper.make_node("Conv", ["x", "stem_w", "stem_bias"], ["stem_a"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]),
             helper.make_node("HardSwish", ["stem_a"], ["stem_y"])]                      # [1, 16, 24, 160]
    x, c = "stem_y", 16
    for i, (m, s) in enumerate([(32, (1, 1)), (64, (2, 2)), (96, (2, 1)), (128, (2, 1))]):
        x = _dwsep_block(rng, nodes, inits, x, f"b{i}", c, m, s, "hardswish")
        c = m                                                                            # -> [1, 128, 3, 80]
    s = 1.0 / math.sqrt(hidden)
    inits += [init("W", rng.uniform(-s, s, (2, 4 * hidden, c)).astype(np.float32)),
              init("R", rng.uniform(-s, s, (2, 4 * hidden, hidden)).astype(np.float32)),
              init("B", rng.uniform(-s, s, (2, 8 * hidden)).astype(np.float32)),
              init("axis2", np.array([2], np.int64)),
              init("seq_shape", np.array([0, 1, 2 * hidden], np.int64)),
              init("cls_w", (rng.standard_normal((2 * hidden, classes)) * s).astype(np.float32)),
              init("cls_b", (rng.standard_normal(classes) * 0.1).astype(np.float32))]
    nodes += [
        helper.make_node("MaxPool", [x], ["pool"], kernel_shape=[3, 2], strides=[3, 2]),   # [1, 128, 1, 40]
        helper.make_node("Squeeze", ["pool", "axis2"], ["seq0"]),                           # [1, 128, 40]
        helper.make_node("Transpose", ["seq0"], ["seq"], perm=[2, 0, 1]),                   # [40, 1, 128]
        helper.make_node("LSTM", ["seq", "W", "R", "B"], ["Y"], hidden_size=hidden, direction="bidirectional"),
        helper.make_node("Transpose", ["Y"], ["Yt"], perm=[0, 2, 1, 3]),                     # [40, 1, 2, 64]
        helper.make_node("Reshape", ["Yt", "seq_shape"], ["feat"]),                          # [40, 1, 128]
        helper.make_node("MatMul", ["feat", "cls_w"], ["logits0"]),
        helper.make_node("Add", ["logits0", "cls_b"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=-1),                         # [40, 1, 97]
    ]
    graph = helper.make_graph(nodes, "crnn", [helper.make_tensor_value_info("x", F32, [1, 3, 48, 320])],
                              [helper.make_tensor_value_info("probs", F32, [40, 1, classes])], inits)
    save(out, "crnn.onnx", graph)


def gemm(out):
    rng = np.random.default_rng(1024)
    for n in (64, 256, 512, 1024):
        inits = [init("b", rng.standard_normal((n, n)).astype(np.float32))]
        graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])], f"gemm{n}",
                                  [helper.make_tensor_value_info("a", F32, [n, n])],
                                  [helper.make_tensor_value_info("c", F32, [n, n])], inits)
        save(out, f"gemm_{n}.onnx", graph)
    for n in (256, 512):
        inits = [init("b", rng.integers(-128, 128, (n, n), dtype=np.int8))]
        graph = helper.make_graph([helper.make_node("MatMulInteger", ["a", "b"], ["c"])], f"gemm_int8_{n}",
                                  [helper.make_tensor_value_info("a", TensorProto.UINT8, [n, n])],
                                  [helper.make_tensor_value_info("c", TensorProto.INT32, [n, n])], inits)
        save(out, f"gemm_int8_{n}.onnx", graph)


def rec(out, items=100_000, dim=64):
    rng = np.random.default_rng(100)
    table = (rng.standard_normal((items, dim)) * 0.1).astype(np.float32)
    table.tofile(os.path.join(out, "rec_items.f32"))
    inits = [init("items_t", np.ascontiguousarray(table.T)), init("k", np.array([10], np.int64))]
    nodes = [helper.make_node("MatMul", ["user", "items_t"], ["scores"]),
             helper.make_node("TopK", ["scores", "k"], ["top_scores", "top_items"])]
    graph = helper.make_graph(nodes, "rec_top10", [helper.make_tensor_value_info("user", F32, [1, dim])],
                              [helper.make_tensor_value_info("top_scores", F32, [1, 10]),
                               helper.make_tensor_value_info("top_items", TensorProto.INT64, [1, 10])], inits)
    save(out, "rec.onnx", graph)


def tabular(out):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import tabular_models as tm
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    import pandas as pd
    X, raw, y = tm.load(tm.DEFAULT_CSV)
    X = np.nan_to_num(X, nan=0.0)
    opset = {"": 17, "ai.onnx.ml": 3}
    gb = GradientBoostingClassifier(n_estimators=300, max_depth=6, random_state=0).fit(X, y)
    onx = convert_sklearn(gb, initial_types=[("X", FloatTensorType([None, X.shape[1]]))],
                          options={id(gb): {"zipmap": False}}, target_opset=opset)
    onnx.save(onx, os.path.join(out, "gbdt300.onnx"))
    frame = pd.DataFrame(np.nan_to_num(np.array([r["numeric"] for r in raw], np.float32)), columns=tm.NUMERIC)
    frame["Month"] = [r["month"] for r in raw]
    frame["VisitorType"] = [r["visitor"] for r in raw]
    pipe = Pipeline([("pre", ColumnTransformer([("num", StandardScaler(), tm.NUMERIC),
                                                ("cat", OneHotEncoder(handle_unknown="ignore"), ["Month", "VisitorType"])])),
                     ("clf", LogisticRegression(max_iter=1000))]).fit(frame, y)
    types = [(c, FloatTensorType([None, 1])) for c in tm.NUMERIC] + [
        ("Month", StringTensorType([None, 1])), ("VisitorType", StringTensorType([None, 1]))]
    onx = convert_sklearn(pipe, initial_types=types, options={id(pipe): {"zipmap": False}}, target_opset=opset)
    onnx.save(onx, os.path.join(out, "onehot.onnx"))


def main():
    cache = os.environ.get("HEARTH_CACHE", os.path.expanduser("~/.cache/hearth"))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(cache, "bench-models")
    os.makedirs(out, exist_ok=True)
    for build in (mlp, cnn, lstm, gru, gru_reset, dwsep, crnn, gemm, rec, tabular):
        build(out)
    import onnxruntime as ort  # check every model runs in the reference runtime
    feeds = {"mlp.onnx": {"x": np.ones((2, 64), np.float32)},
             "cnn.onnx": {"x": np.ones((1, 1, 28, 28), np.float32)},
             "lstm.onnx": {"ids": np.arange(200, dtype=np.int64).reshape(1, 200) % 100},
             "gru.onnx": {"ids": np.arange(20, dtype=np.int64).reshape(1, 20)},
             "gru_reset.onnx": {"ids": np.arange(20, dtype=np.int64).reshape(1, 20)},
             "dwsep.onnx": {"x": np.ones((1, 3, 128, 128), np.float32)},
             "crnn.onnx": {"x": np.ones((1, 3, 48, 320), np.float32)},
             "gemm_64.onnx": {"a": np.ones((64, 64), np.float32)},
             "gemm_int8_256.onnx": {"a": np.ones((256, 256), np.uint8)},
             "rec.onnx": {"user": np.ones((1, 64), np.float32)},
             "gbdt300.onnx": {"X": np.ones((4, 17), np.float32)}}
    for name, feed in feeds.items():
        ort.InferenceSession(os.path.join(out, name), providers=["CPUExecutionProvider"]).run(None, feed)
    print(f"bench models in {out}")


if __name__ == "__main__":
    main()
