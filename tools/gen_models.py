#!/usr/bin/env python3
"""Build Hearth's small ONNX model fixtures (no torch: onnx.helper only).

Each fixture is written as

    tests/models/<name>/model.onnx
    tests/models/<name>/test_data_set_0/input_<i>.pb   (onnx TensorProto, named like the graph input)
    tests/models/<name>/test_data_set_0/output_<i>.pb  (onnx TensorProto, named like the graph output)
    tests/models/<name>/tolerance.txt                  (only if looser than 1e-5 + 1e-3*|expected|)

which is the layout of the ONNX backend node tests. Expected outputs are computed by onnxruntime
(CPUExecutionProvider, one thread, graph optimisations off) from the model file as saved: it is the
independent reference. Everything is seeded, so running the script twice gives identical bytes.

Usage: python3 tools/gen_models.py [--out tests/models] [--only name,name]
"""

import argparse
import math
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# IR version that goes with each opset we use (onnx/helper.py VERSION_TABLE).
IR_FOR_OPSET = {13: 7, 17: 8, 21: 10}

F32 = TensorProto.FLOAT


def c_order(arr):
    # not np.ascontiguousarray: it turns a 0-d array (a scalar) into shape [1]
    return np.array(arr, order="C", copy=True)


def init(name, arr):
    return numpy_helper.from_array(c_order(arr), name)


def make_model(graph, opset):
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="hearth-gen_models",
        producer_version="1",
    )
    model.ir_version = IR_FOR_OPSET[opset]
    onnx.checker.check_model(model)
    return model


def dense_weights(rng, n_in, n_out):
    w = (rng.standard_normal((n_in, n_out)) * math.sqrt(2.0 / n_in)).astype(np.float32)
    b = (rng.standard_normal(n_out) * 0.1).astype(np.float32)
    return w, b


# ---------------------------------------------------------------------------------------------
# models: each builder returns (model, [list of input feeds: one dict per test_data_set], notes)
# notes: dict with optional "tolerance" text and "check" callable(outputs) for sanity assertions.
# ---------------------------------------------------------------------------------------------


def build_mlp(seed=1700):
    """Tabular Dense 17-64-32-1, Relu, Relu, Sigmoid as MatMul+Add (Keras/tf2onnx style)."""
    rng = np.random.default_rng(seed)
    w1, b1 = dense_weights(rng, 17, 64)
    w2, b2 = dense_weights(rng, 64, 32)
    w3, b3 = dense_weights(rng, 32, 1)
    nodes = [
        helper.make_node("MatMul", ["input", "dense/kernel"], ["dense/MatMul"], name="dense/MatMul"),
        helper.make_node("Add", ["dense/MatMul", "dense/bias"], ["dense/BiasAdd"], name="dense/BiasAdd"),
        helper.make_node("Relu", ["dense/BiasAdd"], ["dense/Relu"], name="dense/Relu"),
        helper.make_node("MatMul", ["dense/Relu", "dense_1/kernel"], ["dense_1/MatMul"], name="dense_1/MatMul"),
        helper.make_node("Add", ["dense_1/MatMul", "dense_1/bias"], ["dense_1/BiasAdd"], name="dense_1/BiasAdd"),
        helper.make_node("Relu", ["dense_1/BiasAdd"], ["dense_1/Relu"], name="dense_1/Relu"),
        helper.make_node("MatMul", ["dense_1/Relu", "dense_2/kernel"], ["dense_2/MatMul"], name="dense_2/MatMul"),
        helper.make_node("Add", ["dense_2/MatMul", "dense_2/bias"], ["dense_2/BiasAdd"], name="dense_2/BiasAdd"),
        helper.make_node("Sigmoid", ["dense_2/BiasAdd"], ["output"], name="dense_2/Sigmoid"),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("input", F32, ["batch", 17])],
        [helper.make_tensor_value_info("output", F32, ["batch", 1])],
        initializer=[
            init("dense/kernel", w1), init("dense/bias", b1),
            init("dense_1/kernel", w2), init("dense_1/bias", b2),
            init("dense_2/kernel", w3), init("dense_2/bias", b3),
        ],
    )
    model = make_model(graph, 17)
    x = np.random.default_rng(seed + 1).standard_normal((4, 17)).astype(np.float32)
    return model, [{"input": x}], {}


def build_logreg(seed=1300):
    """Gemm(transB=1) + Sigmoid logistic regression, opset 13."""
    rng = np.random.default_rng(seed)
    n_feat = 10
    coef = (rng.standard_normal((1, n_feat)) * 0.5).astype(np.float32)  # [out, in] like sklearn coef_
    intercept = np.array([-0.25], dtype=np.float32)
    nodes = [
        helper.make_node("Gemm", ["X", "coef", "intercept"], ["linear"], name="Gemm", alpha=1.0, beta=1.0, transB=1),
        helper.make_node("Sigmoid", ["linear"], ["probability"], name="Sigmoid"),
    ]
    graph = helper.make_graph(
        nodes,
        "logreg",
        [helper.make_tensor_value_info("X", F32, ["N", n_feat])],
        [helper.make_tensor_value_info("probability", F32, ["N", 1])],
        initializer=[init("coef", coef), init("intercept", intercept)],
    )
    model = make_model(graph, 13)
    x = (np.random.default_rng(seed + 1).standard_normal((5, n_feat)) * 2.0).astype(np.float32)
    return model, [{"X": x}], {}


def build_lenet(seed=1717):
    """LeNet-style CNN on 1x28x28, batch 2."""
    rng = np.random.default_rng(seed)

    def conv_w(cout, cin, k):
        return (rng.standard_normal((cout, cin, k, k)) * math.sqrt(2.0 / (cin * k * k))).astype(np.float32)

    c1w, c1b = conv_w(6, 1, 5), (rng.standard_normal(6) * 0.1).astype(np.float32)
    c2w, c2b = conv_w(16, 6, 5), (rng.standard_normal(16) * 0.1).astype(np.float32)
    # Gemm weights stored [out, in] with transB=1, as PyTorch's Linear exports
    f1w = (rng.standard_normal((84, 400)) * math.sqrt(2.0 / 400)).astype(np.float32)
    f1b = (rng.standard_normal(84) * 0.1).astype(np.float32)
    f2w = (rng.standard_normal((10, 84)) * math.sqrt(2.0 / 84)).astype(np.float32)
    f2b = (rng.standard_normal(10) * 0.1).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["image", "conv1.weight", "conv1.bias"], ["conv1"], name="conv1",
                         kernel_shape=[5, 5], pads=[2, 2, 2, 2], strides=[1, 1], dilations=[1, 1], group=1),
        helper.make_node("Relu", ["conv1"], ["relu1"], name="relu1"),
        helper.make_node("MaxPool", ["relu1"], ["pool1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["pool1", "conv2.weight", "conv2.bias"], ["conv2"], name="conv2",
                         kernel_shape=[5, 5], strides=[1, 1]),
        helper.make_node("Relu", ["conv2"], ["relu2"], name="relu2"),
        helper.make_node("MaxPool", ["relu2"], ["pool2"], name="pool2", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["pool2"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc1.weight", "fc1.bias"], ["fc1"], name="fc1", transB=1),
        helper.make_node("Relu", ["fc1"], ["relu3"], name="relu3"),
        helper.make_node("Gemm", ["relu3", "fc2.weight", "fc2.bias"], ["logits"], name="fc2", transB=1),
        helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "lenet",
        [helper.make_tensor_value_info("image", F32, ["batch", 1, 28, 28])],
        [helper.make_tensor_value_info("probabilities", F32, ["batch", 10])],
        initializer=[
            init("conv1.weight", c1w), init("conv1.bias", c1b),
            init("conv2.weight", c2w), init("conv2.bias", c2b),
            init("fc1.weight", f1w), init("fc1.bias", f1b),
            init("fc2.weight", f2w), init("fc2.bias", f2b),
        ],
    )
    model = make_model(graph, 17)
    x = np.random.default_rng(seed + 1).random((2, 1, 28, 28)).astype(np.float32)
    return model, [{"image": x}], {}


def build_lstm_kt(seed=1718):
    """Deep-knowledge-tracing style: ids [batch, seq] -> Gather -> Transpose -> LSTM(32) -> proj -> Sigmoid."""
    rng = np.random.default_rng(seed)
    n_skills, emb, hidden = 50, 16, 32
    vocab = 2 * n_skills  # id = skill + n_skills * correct, as in DKT
    batch, seq = 2, 50
    table = (rng.standard_normal((vocab, emb)) * 0.5).astype(np.float32)
    s = 1.0 / math.sqrt(hidden)
    # ONNX LSTM gate order: i, o, f, c
    W = rng.uniform(-s, s, (1, 4 * hidden, emb)).astype(np.float32)
    R = rng.uniform(-s, s, (1, 4 * hidden, hidden)).astype(np.float32)
    B = rng.uniform(-s, s, (1, 8 * hidden)).astype(np.float32)
    pw = (rng.standard_normal((hidden, n_skills)) * math.sqrt(1.0 / hidden)).astype(np.float32)
    pb = (rng.standard_normal(n_skills) * 0.1).astype(np.float32)
    nodes = [
        helper.make_node("Gather", ["embedding.weight", "interactions"], ["emb"], name="embedding", axis=0),
        helper.make_node("Transpose", ["emb"], ["emb_t"], name="to_time_major", perm=[1, 0, 2]),
        helper.make_node("LSTM", ["emb_t", "lstm.W", "lstm.R", "lstm.B"], ["lstm_y", "lstm_h", "lstm_c"],
                         name="lstm", hidden_size=hidden, direction="forward"),
        helper.make_node("Squeeze", ["lstm_y", "axis1"], ["lstm_out"], name="squeeze_dir"),
        helper.make_node("MatMul", ["lstm_out", "out.weight"], ["proj"], name="out/MatMul"),
        helper.make_node("Add", ["proj", "out.bias"], ["logits"], name="out/Add"),
        helper.make_node("Transpose", ["logits"], ["logits_bm"], name="to_batch_major", perm=[1, 0, 2]),
        helper.make_node("Sigmoid", ["logits_bm"], ["mastery"], name="sigmoid"),
    ]
    graph = helper.make_graph(
        nodes,
        "lstm_kt",
        [helper.make_tensor_value_info("interactions", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("mastery", F32, ["batch", "seq", n_skills])],
        initializer=[
            init("embedding.weight", table), init("lstm.W", W), init("lstm.R", R), init("lstm.B", B),
            init("axis1", np.array([1], dtype=np.int64)),
            init("out.weight", pw), init("out.bias", pb),
        ],
    )
    model = make_model(graph, 17)
    ids = np.random.default_rng(seed + 1).integers(0, vocab, (batch, seq), dtype=np.int64)
    return model, [{"interactions": ids}], {}


def build_gru_next_item(seed=1727, layout=1):  # seed chosen so the top-6 scores have clear gaps
    """GRU4Rec-style: ids -> Gather -> GRU(layout=1, linear_before_reset=1) -> last step -> scores -> TopK 5.

    onnxruntime's CPU GRU refuses layout=1 ("Batchwise recurrent operations (layout == 1) are not
    supported"), so the expected outputs come from the layout=0 twin of the same graph (Transpose to
    time-major, GRU layout=0, Transpose back), built here with layout=0: same weights, same math.
    """
    rng = np.random.default_rng(seed)
    n_items, emb, hidden = 200, 32, 32
    batch, seq = 2, 10
    items = (rng.standard_normal((n_items, emb)) * 0.5).astype(np.float32)
    s = 1.0 / math.sqrt(hidden)
    # ONNX GRU gate order: z, r, h
    W = rng.uniform(-s, s, (1, 3 * hidden, emb)).astype(np.float32)
    R = rng.uniform(-s, s, (1, 3 * hidden, hidden)).astype(np.float32)
    B = rng.uniform(-s, s, (1, 6 * hidden)).astype(np.float32)
    # output item table, transposed [hidden, n_items]: the scores are a MatMul over item embeddings
    out_items = np.ascontiguousarray(
        (rng.standard_normal((n_items, hidden)) * 1.0).astype(np.float32).T
    )
    N = helper.make_node
    nodes = [N("Gather", ["item_embedding", "session_items"], ["x"], name="embed", axis=0)]
    if layout == 1:
        # Y: [batch, seq, num_directions, hidden]; Y_h not requested (empty name)
        nodes.append(N("GRU", ["x", "gru.W", "gru.R", "gru.B"], ["gru_y", ""], name="gru",
                       hidden_size=hidden, layout=1, linear_before_reset=1))
    else:
        nodes += [
            N("Transpose", ["x"], ["x_tm"], name="ref/to_time_major", perm=[1, 0, 2]),
            N("GRU", ["x_tm", "gru.W", "gru.R", "gru.B"], ["gru_y_tm", ""], name="gru",
              hidden_size=hidden, layout=0, linear_before_reset=1),
            # [seq, dir, batch, hidden] -> [batch, seq, dir, hidden]
            N("Transpose", ["gru_y_tm"], ["gru_y"], name="ref/to_batch_major", perm=[2, 0, 1, 3]),
        ]
    nodes += [
        N("Gather", ["gru_y", "last"], ["last_step"], name="take_last", axis=1),
        N("Squeeze", ["last_step", "axis1"], ["session_state"], name="squeeze_dir"),
        N("MatMul", ["session_state", "item_table_t"], ["scores"], name="score_items"),
        N("TopK", ["scores", "k"], ["top_scores", "top_items"], name="topk", axis=-1, largest=1, sorted=1),
    ]
    graph = helper.make_graph(
        nodes,
        "gru_next_item",
        [helper.make_tensor_value_info("session_items", TensorProto.INT64, ["batch", "seq"])],
        [
            helper.make_tensor_value_info("top_scores", F32, ["batch", 5]),
            helper.make_tensor_value_info("top_items", TensorProto.INT64, ["batch", 5]),
        ],
        initializer=[
            init("item_embedding", items), init("gru.W", W), init("gru.R", R), init("gru.B", B),
            init("last", np.array(-1, dtype=np.int64)),  # scalar index, negative: last time step
            init("axis1", np.array([1], dtype=np.int64)),
            init("item_table_t", out_items),
            init("k", np.array([5], dtype=np.int64)),
        ],
    )
    model = make_model(graph, 17)
    ids = np.random.default_rng(seed + 1).integers(0, n_items, (batch, seq), dtype=np.int64)
    notes = {"check": check_topk_gaps}
    if layout == 1:
        notes["reference_model"] = build_gru_next_item(seed, layout=0)[0]
    return model, [{"session_items": ids}], notes


def build_gru_reset(seed=1731):
    """GRU with linear_before_reset=0 (the ONNX default, as Keras / tf2onnx export it): the reset
    gate multiplies H before R_h. Two nodes on the same X [seq 6, batch 3, 8]:

    - `gru_bi`: bidirectional, hidden 20 (not a multiple of the GEMM's 8-column panels), B,
      sequence_lens and initial_h as graph inputs (so each test set takes other lengths);
    - `gru_rev`: reverse, hidden 6, no B, clip 0.8, activations HardSigmoid(0.25, 0.45) / Softsign.
    """
    rng = np.random.default_rng(seed)
    seq, batch, isz = 6, 3, 8
    h1, h2 = 20, 6

    def weights(dirs, hidden, bias):
        s = 1.0 / math.sqrt(hidden)
        out = [
            rng.uniform(-s, s, (dirs, 3 * hidden, isz)).astype(np.float32),
            rng.uniform(-s, s, (dirs, 3 * hidden, hidden)).astype(np.float32),
        ]
        if bias:
            out.append(rng.uniform(-s, s, (dirs, 6 * hidden)).astype(np.float32))
        return out

    W1, R1, B1 = weights(2, h1, True)
    W2, R2 = weights(1, h2, False)
    N = helper.make_node
    nodes = [
        N("GRU", ["x", "bi.W", "bi.R", "bi.B", "seq_lens", "initial_h"], ["y_bi", "y_bi_h"],
          name="gru_bi", hidden_size=h1, direction="bidirectional"),
        N("GRU", ["x", "rev.W", "rev.R"], ["y_rev", "y_rev_h"], name="gru_rev", hidden_size=h2,
          direction="reverse", clip=0.8, activations=["HardSigmoid", "Softsign"],
          activation_alpha=[0.25], activation_beta=[0.45]),
    ]
    graph = helper.make_graph(
        nodes,
        "gru_reset",
        [
            helper.make_tensor_value_info("x", F32, [seq, batch, isz]),
            helper.make_tensor_value_info("seq_lens", TensorProto.INT32, [batch]),
            helper.make_tensor_value_info("initial_h", F32, [2, batch, h1]),
        ],
        [
            helper.make_tensor_value_info("y_bi", F32, [seq, 2, batch, h1]),
            helper.make_tensor_value_info("y_bi_h", F32, [2, batch, h1]),
            helper.make_tensor_value_info("y_rev", F32, [seq, 1, batch, h2]),
            helper.make_tensor_value_info("y_rev_h", F32, [1, batch, h2]),
        ],
        initializer=[init("bi.W", W1), init("bi.R", R1), init("bi.B", B1), init("rev.W", W2), init("rev.R", R2)],
    )
    model = make_model(graph, 17)
    frng = np.random.default_rng(seed + 1)
    feeds = [
        {
            "x": (frng.standard_normal((seq, batch, isz)) * 1.5).astype(np.float32),
            "seq_lens": np.array(lens, dtype=np.int32),
            "initial_h": (frng.standard_normal((2, batch, h1)) * 0.5).astype(np.float32),
        }
        for lens in ([6, 4, 1], [2, 6, 5])
    ]
    return model, feeds, {}


def check_topk_gaps(model, feeds, outs):
    """The 5th and 6th best scores must be far apart, or a correct engine could pick other indices."""
    sess = ort_session_from_model_without_topk(model)
    scores = sess.run(["scores"], feeds)[0]
    srt = -np.sort(-scores, axis=-1)
    gaps = srt[:, :5] - srt[:, 1:6]
    tol = 1e-5 + 1e-3 * np.abs(srt[:, :6]).max()
    assert (gaps > 10 * tol).all(), f"TopK near-tie, pick another seed: gaps {gaps}"


def ort_session_from_model_without_topk(model):
    m = onnx.ModelProto()
    m.CopyFrom(model)
    del m.graph.output[:]
    m.graph.output.append(helper.make_tensor_value_info("scores", F32, ["batch", None]))
    return ort_session(m.SerializeToString())


def build_attention(seed=1720, opset=17, gelu_op=False, name="attention"):
    """Pre-LN transformer block: LN, MHA (4 heads), residual, LN, MLP with GELU, residual."""
    rng = np.random.default_rng(seed)
    seq, d, heads, ff = 8, 32, 4, 64
    dh = d // heads

    def lin(n_in, n_out):
        w = (rng.standard_normal((n_in, n_out)) / math.sqrt(n_in)).astype(np.float32)
        b = (rng.standard_normal(n_out) * 0.05).astype(np.float32)
        return w, b

    ln1_g = (1.0 + 0.1 * rng.standard_normal(d)).astype(np.float32)
    ln1_b = (0.1 * rng.standard_normal(d)).astype(np.float32)
    wq, bq = lin(d, d)
    wk, bk = lin(d, d)
    wv, bv = lin(d, d)
    wo, bo = lin(d, d)
    ln2_g = (1.0 + 0.1 * rng.standard_normal(d)).astype(np.float32)
    ln2_b = (0.1 * rng.standard_normal(d)).astype(np.float32)
    w1, b1 = lin(d, ff)
    w2, b2 = lin(ff, d)

    N = helper.make_node
    nodes = [
        N("LayerNormalization", ["x", "ln1.weight", "ln1.bias"], ["ln1"], name="ln1", axis=-1, epsilon=1e-5),
    ]
    for p in ("q", "k", "v"):
        nodes += [
            N("MatMul", ["ln1", f"attn.{p}.weight"], [f"{p}_mm"], name=f"attn/{p}/MatMul"),
            N("Add", [f"{p}_mm", f"attn.{p}.bias"], [f"{p}_lin"], name=f"attn/{p}/Add"),
            N("Reshape", [f"{p}_lin", "heads_shape"], [f"{p}_heads"], name=f"attn/{p}/Reshape"),
        ]
    nodes += [
        N("Transpose", ["q_heads"], ["q_t"], name="attn/q/Transpose", perm=[0, 2, 1, 3]),  # [b,h,s,dh]
        N("Transpose", ["k_heads"], ["k_t"], name="attn/k/Transpose", perm=[0, 2, 3, 1]),  # [b,h,dh,s]
        N("Transpose", ["v_heads"], ["v_t"], name="attn/v/Transpose", perm=[0, 2, 1, 3]),  # [b,h,s,dh]
        N("MatMul", ["q_t", "k_t"], ["scores"], name="attn/scores"),
        N("Div", ["scores", "sqrt_dh"], ["scores_scaled"], name="attn/scale"),
        N("Softmax", ["scores_scaled"], ["probs"], name="attn/softmax", axis=-1),
        N("MatMul", ["probs", "v_t"], ["ctx"], name="attn/context"),
        N("Transpose", ["ctx"], ["ctx_t"], name="attn/ctx/Transpose", perm=[0, 2, 1, 3]),  # [b,s,h,dh]
        N("Reshape", ["ctx_t", "model_shape"], ["ctx_m"], name="attn/ctx/Reshape"),
        N("MatMul", ["ctx_m", "attn.o.weight"], ["o_mm"], name="attn/o/MatMul"),
        N("Add", ["o_mm", "attn.o.bias"], ["attn_out"], name="attn/o/Add"),
        N("Add", ["x", "attn_out"], ["res1"], name="residual1"),
        N("LayerNormalization", ["res1", "ln2.weight", "ln2.bias"], ["ln2"], name="ln2", axis=-1, epsilon=1e-5),
        N("MatMul", ["ln2", "mlp.fc1.weight"], ["h_mm"], name="mlp/fc1/MatMul"),
        N("Add", ["h_mm", "mlp.fc1.bias"], ["h"], name="mlp/fc1/Add"),
    ]
    inits_extra = []
    if gelu_op:
        nodes.append(N("Gelu", ["h"], ["g"], name="mlp/gelu", approximate="none"))
    else:
        # PyTorch's exporter: 0.5 * x * (1 + erf(x / sqrt(2)))
        nodes += [
            N("Div", ["h", "sqrt2"], ["g_div"], name="mlp/gelu/Div"),
            N("Erf", ["g_div"], ["g_erf"], name="mlp/gelu/Erf"),
            N("Add", ["g_erf", "one"], ["g_add"], name="mlp/gelu/Add"),
            N("Mul", ["h", "g_add"], ["g_mul"], name="mlp/gelu/Mul"),
            N("Mul", ["g_mul", "half"], ["g"], name="mlp/gelu/Mul_1"),
        ]
        inits_extra = [
            init("sqrt2", np.array(math.sqrt(2.0), dtype=np.float32)),
            init("one", np.array(1.0, dtype=np.float32)),
            init("half", np.array(0.5, dtype=np.float32)),
        ]
    nodes += [
        N("MatMul", ["g", "mlp.fc2.weight"], ["m_mm"], name="mlp/fc2/MatMul"),
        N("Add", ["m_mm", "mlp.fc2.bias"], ["mlp_out"], name="mlp/fc2/Add"),
        N("Add", ["res1", "mlp_out"], ["y"], name="residual2"),
    ]
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info("x", F32, ["batch", seq, d])],
        [helper.make_tensor_value_info("y", F32, ["batch", seq, d])],
        initializer=[
            init("ln1.weight", ln1_g), init("ln1.bias", ln1_b),
            init("attn.q.weight", wq), init("attn.q.bias", bq),
            init("attn.k.weight", wk), init("attn.k.bias", bk),
            init("attn.v.weight", wv), init("attn.v.bias", bv),
            init("heads_shape", np.array([-1, seq, heads, dh], dtype=np.int64)),
            init("sqrt_dh", np.array(math.sqrt(dh), dtype=np.float32)),
            init("model_shape", np.array([0, seq, d], dtype=np.int64)),  # 0 copies the batch dim
            init("attn.o.weight", wo), init("attn.o.bias", bo),
            init("ln2.weight", ln2_g), init("ln2.bias", ln2_b),
            init("mlp.fc1.weight", w1), init("mlp.fc1.bias", b1),
            init("mlp.fc2.weight", w2), init("mlp.fc2.bias", b2),
        ] + inits_extra,
    )
    model = make_model(graph, opset)
    x = np.random.default_rng(seed + 1).standard_normal((2, seq, d)).astype(np.float32)
    return model, [{"x": x}], {}


def build_attention_gelu21():
    return build_attention(seed=2121, opset=21, gelu_op=True, name="attention_gelu21")


def build_dynamic_reshape(seed=1313):
    """Never shape-inferred (no value_info), opset 13: Shape->Gather->Unsqueeze->Concat->Reshape on a
    symbolic batch, a Constant node, and an If whose condition comes from the input's shape."""
    N = helper.make_node
    rest = helper.make_tensor("rest_value", TensorProto.INT64, [1], [12])
    one = helper.make_tensor("one_value", TensorProto.INT64, [], [1])
    nodes = [
        N("Shape", ["x"], ["x_shape"], name="Shape_0"),
        N("Constant", [], ["idx0"], name="Constant_1", value=helper.make_tensor("idx0_value", TensorProto.INT64, [], [0])),
        N("Gather", ["x_shape", "idx0"], ["batch_size"], name="Gather_2", axis=0),
        N("Unsqueeze", ["batch_size", "unsq_axes"], ["batch_size_1d"], name="Unsqueeze_3"),
        N("Constant", [], ["rest"], name="Constant_4", value=rest),
        N("Concat", ["batch_size_1d", "rest"], ["new_shape"], name="Concat_5", axis=0),
        N("Reshape", ["x", "new_shape"], ["flat"], name="Reshape_6"),
        N("Constant", [], ["one"], name="Constant_7", value=one),
        N("Greater", ["batch_size", "one"], ["is_batched"], name="Greater_8"),
    ]
    # then (batch > 1): centre each feature on the batch mean; else: scale by 2. Both read outer 'flat'.
    then_g = helper.make_graph(
        [
            N("ReduceMean", ["flat"], ["mean"], name="then_ReduceMean", axes=[0], keepdims=1),
            N("Sub", ["flat", "mean"], ["then_out"], name="then_Sub"),
        ],
        "then_branch",
        [],
        [helper.make_tensor_value_info("then_out", F32, None)],
    )
    else_g = helper.make_graph(
        [
            N("Constant", [], ["two"], name="else_Constant",
              value=helper.make_tensor("two_value", F32, [], [2.0])),
            N("Mul", ["flat", "two"], ["else_out"], name="else_Mul"),
        ],
        "else_branch",
        [],
        [helper.make_tensor_value_info("else_out", F32, None)],
    )
    nodes += [
        N("If", ["is_batched"], ["branched"], name="If_9", then_branch=then_g, else_branch=else_g),
        N("Relu", ["branched"], ["y"], name="Relu_10"),
    ]
    graph = helper.make_graph(
        nodes,
        "dynamic_reshape",
        [helper.make_tensor_value_info("x", F32, ["batch", 3, 4])],
        [helper.make_tensor_value_info("y", F32, ["batch", "Reshape_dim_1"])],
        initializer=[init("unsq_axes", np.array([0], dtype=np.int64))],
    )
    model = make_model(graph, 13)
    assert len(model.graph.value_info) == 0
    rng = np.random.default_rng(seed)
    x3 = rng.standard_normal((3, 3, 4)).astype(np.float32)  # then branch
    x1 = rng.standard_normal((1, 3, 4)).astype(np.float32)  # else branch
    return model, [{"x": x3}, {"x": x1}], {}


def build_external_data():
    """The mlp, saved the way PyTorch's exporter does with external data (weights.bin beside it)."""
    model, feeds, notes = build_mlp()
    model.graph.name = "external_data"
    notes = dict(notes)
    notes["external_data"] = True
    return model, feeds, notes


def build_f16_io(seed=2100):
    """float16 input/output and float16 weights, opset 21."""
    rng = np.random.default_rng(seed)
    w1 = (rng.standard_normal((8, 16)) / math.sqrt(8)).astype(np.float16)
    b1 = (rng.standard_normal(16) * 0.1).astype(np.float16)
    w2 = (rng.standard_normal((16, 4)) / math.sqrt(16)).astype(np.float16)
    b2 = (rng.standard_normal(4) * 0.1).astype(np.float16)
    F16 = TensorProto.FLOAT16
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h_mm"], name="fc1/MatMul"),
        helper.make_node("Add", ["h_mm", "b1"], ["h"], name="fc1/Add"),
        helper.make_node("Relu", ["h"], ["h_relu"], name="relu"),
        helper.make_node("MatMul", ["h_relu", "w2"], ["o_mm"], name="fc2/MatMul"),
        helper.make_node("Add", ["o_mm", "b2"], ["o"], name="fc2/Add"),
        helper.make_node("Sigmoid", ["o"], ["y"], name="sigmoid"),
    ]
    graph = helper.make_graph(
        nodes,
        "f16_io",
        [helper.make_tensor_value_info("x", F16, ["batch", 8])],
        [helper.make_tensor_value_info("y", F16, ["batch", 4])],
        initializer=[init("w1", w1), init("b1", b1), init("w2", w2), init("b2", b2)],
    )
    model = make_model(graph, 21)
    x = rng.standard_normal((3, 8)).astype(np.float16)
    tol = (
        "atol=1e-2 rtol=1e-2\n"
        "# Why looser: input, weights and output are float16. onnxruntime rounds every intermediate\n"
        "# result (MatMul, Add, Relu, Sigmoid) to float16, Hearth widens to float32, computes, and\n"
        "# rounds once at the end. float16 has an 11-bit significand (relative step ~1e-3), and the\n"
        "# rounding of intermediates of magnitude ~1-4 propagates as absolute error, so both the\n"
        "# relative and the absolute bound are 1e-2.\n"
    )
    return model, [{"x": x}], {"tolerance": tol}


def build_f64_io(seed=2101):
    """float64 input/output and weights, opset 21."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((6, 3)) / math.sqrt(6)
    b = rng.standard_normal(3) * 0.1
    F64 = TensorProto.DOUBLE
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["mm"], name="MatMul"),
        helper.make_node("Add", ["mm", "b"], ["z"], name="Add"),
        helper.make_node("Sigmoid", ["z"], ["y"], name="Sigmoid"),
    ]
    graph = helper.make_graph(
        nodes,
        "f64_io",
        [helper.make_tensor_value_info("x", F64, ["batch", 6])],
        [helper.make_tensor_value_info("y", F64, ["batch", 3])],
        initializer=[init("w", w.astype(np.float64)), init("b", b.astype(np.float64))],
    )
    model = make_model(graph, 21)
    x = rng.standard_normal((4, 6)).astype(np.float64)
    return model, [{"x": x}], {}


BUILDERS = {
    "mlp": build_mlp,
    "logreg": build_logreg,
    "lenet": build_lenet,
    "lstm_kt": build_lstm_kt,
    "gru_next_item": build_gru_next_item,
    "gru_reset": build_gru_reset,
    "attention": build_attention,
    "attention_gelu21": build_attention_gelu21,
    "dynamic_reshape": build_dynamic_reshape,
    "external_data": build_external_data,
    "f16_io": build_f16_io,
    "f64_io": build_f64_io,
}


# ---------------------------------------------------------------------------------------------


def ort_session(model_path_or_bytes):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 3
    return ort.InferenceSession(model_path_or_bytes, sess_options=so, providers=["CPUExecutionProvider"])


def write_pb(path, arr, name):
    t = numpy_helper.from_array(c_order(arr), name)
    with open(path, "wb") as f:
        f.write(t.SerializeToString())


def write_fixture(out_dir, name, model, feed_sets, notes):
    d = os.path.join(out_dir, name)
    if os.path.isdir(d):
        shutil.rmtree(d)  # onnx appends to an existing external-data file: start clean
    os.makedirs(d)
    model_path = os.path.join(d, "model.onnx")
    if notes.get("external_data"):
        m = onnx.ModelProto()
        m.CopyFrom(model)
        onnx.save_model(m, model_path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location="weights.bin", size_threshold=0)
        assert os.path.isfile(os.path.join(d, "weights.bin"))
    else:
        onnx.save_model(model, model_path)
    # the reference runs on the saved file (external data is resolved relative to it)
    onnx.checker.check_model(model_path)
    ref = notes.get("reference_model")
    if ref is None:
        ref_model, sess = model, ort_session(model_path)
    else:
        ref_model, sess = ref, ort_session(ref.SerializeToString())
    in_names = [i.name for i in sess.get_inputs()]
    out_names = [o.name for o in sess.get_outputs()]
    assert in_names == [i.name for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    assert out_names == [o.name for o in model.graph.output]
    summary = []
    for k, feeds in enumerate(feed_sets):
        outs = sess.run(out_names, feeds)
        if "check" in notes:
            notes["check"](ref_model, feeds, outs)
        td = os.path.join(d, f"test_data_set_{k}")
        os.makedirs(td)
        for i, n in enumerate(in_names):
            write_pb(os.path.join(td, f"input_{i}.pb"), feeds[n], n)
        for i, (n, o) in enumerate(zip(out_names, outs)):
            assert np.all(np.isfinite(o)) if o.dtype.kind == "f" else True, f"{name}: non-finite output"
            write_pb(os.path.join(td, f"output_{i}.pb"), o, n)
        summary.append(", ".join(f"{n}{list(o.shape)}:{o.dtype}" for n, o in zip(out_names, outs)))
    if "tolerance" in notes:
        with open(os.path.join(d, "tolerance.txt"), "w") as f:
            f.write(notes["tolerance"])
    size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)
    print(f"{name:18s} opset {model.opset_import[0].version:2d}  {size:8d} B  {' | '.join(summary)}")
    return size


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "models"))
    ap.add_argument("--only", default="", help="comma-separated fixture names")
    args = ap.parse_args()
    names = [n for n in args.only.split(",") if n] or list(BUILDERS)
    for n in names:
        if n not in BUILDERS:
            sys.exit(f"unknown fixture {n}; known: {', '.join(BUILDERS)}")
    print(f"onnx {onnx.__version__}, onnxruntime {ort.__version__}, numpy {np.__version__}")
    total = 0
    for n in names:
        model, feeds, notes = BUILDERS[n]()
        total += write_fixture(args.out, n, model, feeds, notes)
    print(f"total {total} B")


if __name__ == "__main__":
    main()
