#!/usr/bin/env python3
"""DKT knowledge-tracing models as PyTorch exports them, built with onnx.helper, for
tests/tracer_dkt.rs, tests/wasm/tracer_dkt.test.mjs and benches/tracer.mjs.

    python3 tools/dkt_models.py OUT_DIR

torch is not used (a CPU wheel from PyPI pulls the CUDA packages, gigabytes): the graphs are the
ones `torch.onnx.export` writes for an `nn.Embedding → nn.LSTM(batch_first=True) → nn.Linear →
sigmoid` module: the batch-first input is transposed to the ONNX LSTM's layout 0 ([seq, batch,
input]), the LSTM's Y [seq, dirs, batch, hidden] is squeezed on axis 1 and transposed back to
batch first, the weights are in ONNX's gate order (torch's i,f,g,o rows reordered to i,o,f,c, as
the exporter does), B = [W_b; R_b], and h0/c0 are graph inputs [1, batch, hidden] when forward
takes them (absent otherwise).

Weights: the embedding and the recurrent weights are random (a fixed reservoir, seed 17); the
Linear head is trained (logistic regression, Adam, numpy) to predict the next answer on sequences
simulated from BKT with known per-skill parameters (110 skills). So the probabilities are a real
DKT's shape and scale, but the model is not trained end to end; every number from it comes from
simulated sequences. Takes a few seconds.

Writes, for S = 110 skills, embedding 32, hidden 64:
  dkt_index.onnx   ids int64 [batch, seq], id = 1 + skill + S·correct (offset 1, padding id 0),
                   inputs h0, c0; outputs p [batch, seq, S], hn, cn (forward returns the state)
  dkt_onehot.onnx  x float [batch, seq, 2S] one-hot of skill + S·correct (offset 0); no h0/c0
  dkt_gru.onnx     the index encoding through nn.GRU (gate order z,r,h), no h0; output p
  dkt_bidir.onnx   a bidirectional LSTM (cannot stream: the loader must refuse it)
  dkt_stacked.onnx nn.LSTM(num_layers=2) with h0/c0 [2, batch, 64]: one LSTM node per layer
                   reading its Slice of h0/c0, hn/cn their Concat (as the exporter writes it)
  dkt_reference.json  learners' simulated (skill, correct) sequences (200 answers) and
                   onnxruntime's p over each whole sequence, per model
"""
import json
import os
import shutil
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

S, E, H = 110, 32, 64
OPSET = 17


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def simulate_bkt(rng, learners, steps):
    """(skill, correct) sequences from BKT with per-skill p_init, p_learn, p_guess, p_slip."""
    p_init = rng.uniform(0.05, 0.5, S)
    p_learn = rng.uniform(0.05, 0.3, S)
    p_guess = rng.uniform(0.1, 0.3, S)
    p_slip = rng.uniform(0.05, 0.2, S)
    seqs = []
    for _ in range(learners):
        known = rng.random(S) < p_init
        # a learner practises a few skills at a time, as a course does
        order = rng.permutation(S)
        seq = []
        for t in range(steps):
            window = order[(t // 8) % S: (t // 8) % S + 4]
            s = int(rng.choice(window))
            p = (1 - p_slip[s]) if known[s] else p_guess[s]
            c = int(rng.random() < p)
            seq.append((s, c))
            if not known[s] and rng.random() < p_learn[s]:
                known[s] = True
        seqs.append(seq)
    return seqs


def lstm_np(x, w, r, b, h0=None, c0=None):
    """ONNX LSTM forward (gates i,o,f,c), x [seq, batch, in] → Y [seq, batch, H]."""
    seq, batch, _ = x.shape
    h = np.zeros((batch, H), np.float32) if h0 is None else h0
    c = np.zeros((batch, H), np.float32) if c0 is None else c0
    bias = b[: 4 * H] + b[4 * H:]
    ys = []
    for t in range(seq):
        g = x[t] @ w.T + h @ r.T + bias
        i, o, f, cc = (g[:, k * H:(k + 1) * H] for k in range(4))
        i, o, f, cc = sigmoid(i), sigmoid(o), sigmoid(f), np.tanh(cc)
        c = f * c + i * cc
        h = o * np.tanh(c)
        ys.append(h)
    return np.stack(ys)


def train_head(rng, emb, w, r, b):
    """Logistic regression of the next answer on the LSTM state (the head's weights)."""
    seqs = simulate_bkt(rng, 400, 100)
    ids = np.array([[1 + s + S * c for s, c in q] for q in seqs])  # [L, T]
    x = emb[ids].transpose(1, 0, 2)  # [T, L, E]
    y = lstm_np(x, w, r, b)  # [T, L, H]
    skills = np.array([[s for s, _ in q] for q in seqs]).T
    correct = np.array([[c for _, c in q] for q in seqs]).T.astype(np.float32)
    feats = y[:-1].reshape(-1, H)  # the state after answer t predicts answer t+1
    nxt = skills[1:].reshape(-1)
    lab = correct[1:].reshape(-1)
    n_train = int(0.8 * 99) * 400
    wh = np.zeros((H, S), np.float32)
    bh = np.zeros(S, np.float32)
    m = [np.zeros_like(wh), np.zeros_like(bh)]
    v = [np.zeros_like(wh), np.zeros_like(bh)]
    ft, st, lt = feats[:n_train], nxt[:n_train], lab[:n_train]
    for it in range(1, 301):
        z = np.einsum("nh,hn->n", ft, wh[:, st]) + bh[st]
        g = (sigmoid(z) - lt) / len(lt)
        gw = np.zeros_like(wh)
        np.add.at(gw.T, st, g[:, None] * ft)
        gw += 1e-4 * wh
        gb = np.zeros_like(bh)
        np.add.at(gb, st, g)
        for k, (p, gr) in enumerate(((wh, gw), (bh, gb))):
            m[k] = 0.9 * m[k] + 0.1 * gr
            v[k] = 0.999 * v[k] + 0.001 * gr * gr
            p -= 0.01 * (m[k] / (1 - 0.9**it)) / (np.sqrt(v[k] / (1 - 0.999**it)) + 1e-8)
    fv, sv, lv = feats[n_train:], nxt[n_train:], lab[n_train:]
    pv = sigmoid(np.einsum("nh,hn->n", fv, wh[:, sv]) + bh[sv])
    ll = -np.mean(lv * np.log(pv) + (1 - lv) * np.log(1 - pv))
    base = lv.mean()
    ll0 = -(base * np.log(base) + (1 - base) * np.log(1 - base))
    print(f"dkt head: held-out log loss {ll:.4f} (constant rate {ll0:.4f}), {len(lv)} answers")
    return wh, bh


def weights(rng, cell, dirs, in_size):
    g = {"lstm": 4, "gru": 3}[cell]
    scale = 1.0 / np.sqrt(H)
    w = rng.uniform(-scale, scale, (dirs, g * H, in_size)).astype(np.float32) * 2.0
    r = rng.uniform(-scale, scale, (dirs, g * H, H)).astype(np.float32)
    b = rng.uniform(-scale, scale, (dirs, 2 * g * H)).astype(np.float32)
    return w, r, b


def build(name, encoding, cell, dirs, state_io, emb, w, r, b, wh, bh):
    init = [
        numpy_helper.from_array(w, "rnn.weight_ih"),
        numpy_helper.from_array(r, "rnn.weight_hh"),
        numpy_helper.from_array(b, "rnn.bias"),
        numpy_helper.from_array(wh, "fc.weight_t"),
        numpy_helper.from_array(bh, "fc.bias"),
        numpy_helper.from_array(np.array([1], np.int64), "axes1"),
    ]
    nodes = []
    if encoding == "index":
        inp = helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", "seq"])
        init.append(numpy_helper.from_array(emb, "emb.weight"))
        nodes.append(helper.make_node("Gather", ["emb.weight", "ids"], ["emb_out"], name="/emb/Gather"))
    else:
        inp = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", 2 * S])
        nodes.append(helper.make_node("Identity", ["x"], ["emb_out"], name="/Identity"))
    nodes.append(helper.make_node("Transpose", ["emb_out"], ["x_t"], perm=[1, 0, 2], name="/rnn/Transpose"))
    inputs = [inp]
    rnn_in = ["x_t", "rnn.weight_ih", "rnn.weight_hh", "rnn.bias", ""]
    if state_io:
        inputs.append(helper.make_tensor_value_info("h0", TensorProto.FLOAT, [dirs, "batch", H]))
        rnn_in.append("h0")
        if cell == "lstm":
            inputs.append(helper.make_tensor_value_info("c0", TensorProto.FLOAT, [dirs, "batch", H]))
            rnn_in.append("c0")
    while rnn_in and rnn_in[-1] == "":
        rnn_in.pop()
    # the state outputs are named only when forward returns them (else the exporter lists Y)
    outs = ["Y"]
    if state_io:
        outs += ["hn", "cn"] if cell == "lstm" else ["hn"]
    nodes.append(
        helper.make_node(
            cell.upper(), rnn_in, outs, hidden_size=H, name=f"/rnn/{cell.upper()}",
            direction="bidirectional" if dirs == 2 else "forward",
            **({"linear_before_reset": 1} if cell == "gru" else {}),
        )
    )
    if dirs == 2:
        # [seq, 2, batch, H] → [seq, batch, 2H]; the head reads the forward half's width twice
        nodes.append(helper.make_node("Transpose", ["Y"], ["Yt"], perm=[0, 2, 1, 3]))
        nodes.append(helper.make_node("Reshape", ["Yt", "shape2"], ["Y2"]))
        init.append(numpy_helper.from_array(np.array([0, 0, 2 * H], np.int64), "shape2"))
        nodes.append(helper.make_node("Slice", ["Y2", "st", "en", "ax"], ["Ys"]))
        init += [numpy_helper.from_array(np.array([v], np.int64), n) for n, v in (("st", 0), ("en", H), ("ax", 2))]
        nodes.append(helper.make_node("Transpose", ["Ys"], ["y_bf"], perm=[1, 0, 2]))
    else:
        nodes.append(helper.make_node("Squeeze", ["Y", "axes1"], ["Ysq"], name="/rnn/Squeeze"))
        nodes.append(helper.make_node("Transpose", ["Ysq"], ["y_bf"], perm=[1, 0, 2], name="/rnn/Transpose_1"))
    nodes.append(helper.make_node("MatMul", ["y_bf", "fc.weight_t"], ["logits0"], name="/fc/MatMul"))
    nodes.append(helper.make_node("Add", ["logits0", "fc.bias"], ["logits"], name="/fc/Add"))
    nodes.append(helper.make_node("Sigmoid", ["logits"], ["p"], name="/Sigmoid"))
    outputs = [helper.make_tensor_value_info("p", TensorProto.FLOAT, ["batch", "seq", S])]
    if state_io:
        outputs.append(helper.make_tensor_value_info("hn", TensorProto.FLOAT, [dirs, "batch", H]))
        if cell == "lstm":
            outputs.append(helper.make_tensor_value_info("cn", TensorProto.FLOAT, [dirs, "batch", H]))
    graph = helper.make_graph(nodes, "dkt", inputs, outputs, init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="pytorch", producer_version="2.5.0")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def build_stacked(emb, layers, wh, bh):
    """nn.LSTM(num_layers=2, batch_first=True) with (h0, c0) [2, batch, H]: as the exporter
    writes it, one LSTM node per layer, each reading its layer's Slice of h0/c0, and hn/cn the
    Concat of the layers' Y_h/Y_c."""
    init = [numpy_helper.from_array(emb, "emb.weight"),
            numpy_helper.from_array(wh, "fc.weight_t"), numpy_helper.from_array(bh, "fc.bias"),
            numpy_helper.from_array(np.array([1], np.int64), "axes1"),
            numpy_helper.from_array(np.array([0], np.int64), "axes0")]
    nodes = [helper.make_node("Gather", ["emb.weight", "ids"], ["emb_out"], name="/emb/Gather"),
             helper.make_node("Transpose", ["emb_out"], ["x0"], perm=[1, 0, 2], name="/rnn/Transpose")]
    for k, (w, r, b) in enumerate(layers):
        init += [numpy_helper.from_array(w, f"w{k}"), numpy_helper.from_array(r, f"r{k}"),
                 numpy_helper.from_array(b, f"b{k}"),
                 numpy_helper.from_array(np.array([k], np.int64), f"s{k}"),
                 numpy_helper.from_array(np.array([k + 1], np.int64), f"e{k}")]
        for st in ("h", "c"):
            nodes.append(helper.make_node("Slice", [f"{st}0", f"s{k}", f"e{k}", "axes0"], [f"{st}0_{k}"]))
        nodes.append(helper.make_node("LSTM", [f"x{k}", f"w{k}", f"r{k}", f"b{k}", "", f"h0_{k}", f"c0_{k}"],
                                      [f"Y{k}", f"hn{k}", f"cn{k}"], hidden_size=H, name=f"/rnn/LSTM_{k}"))
        nodes.append(helper.make_node("Squeeze", [f"Y{k}", "axes1"], [f"x{k + 1}"]))
    n = len(layers)
    nodes += [helper.make_node("Concat", [f"hn{k}" for k in range(n)], ["hn"], axis=0),
              helper.make_node("Concat", [f"cn{k}" for k in range(n)], ["cn"], axis=0),
              helper.make_node("Transpose", [f"x{n}"], ["y_bf"], perm=[1, 0, 2]),
              helper.make_node("MatMul", ["y_bf", "fc.weight_t"], ["logits0"]),
              helper.make_node("Add", ["logits0", "fc.bias"], ["logits"]),
              helper.make_node("Sigmoid", ["logits"], ["p"])]
    inputs = [helper.make_tensor_value_info("ids", TensorProto.INT64, ["batch", "seq"]),
              helper.make_tensor_value_info("h0", TensorProto.FLOAT, [n, "batch", H]),
              helper.make_tensor_value_info("c0", TensorProto.FLOAT, [n, "batch", H])]
    outputs = [helper.make_tensor_value_info("p", TensorProto.FLOAT, ["batch", "seq", S]),
               helper.make_tensor_value_info("hn", TensorProto.FLOAT, [n, "batch", H]),
               helper.make_tensor_value_info("cn", TensorProto.FLOAT, [n, "batch", H])]
    model = helper.make_model(helper.make_graph(nodes, "dkt", inputs, outputs, init),
                              opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="pytorch", producer_version="2.5.0")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def run_ort(model, encoding, seqs, state_io, cell, layers=1):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    out = []
    for q in seqs:
        if encoding == "index":
            feed = {"ids": np.array([[1 + s + S * c for s, c in q]], np.int64)}
        else:
            x = np.zeros((1, len(q), 2 * S), np.float32)
            for t, (s, c) in enumerate(q):
                x[0, t, s + S * c] = 1.0
            feed = {"x": x}
        if state_io:
            feed["h0"] = np.zeros((layers, 1, H), np.float32)
            if cell == "lstm":
                feed["c0"] = np.zeros((layers, 1, H), np.float32)
        out.append(sess.run(["p"], feed)[0][0].tolist())
    return out


def main():
    final = sys.argv[1].rstrip("/")
    # written aside and renamed, so that a concurrent reader sees all files or none
    out = f"{final}.tmp{os.getpid()}"
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(17)
    emb = rng.normal(0, 1, (2 * S + 1, E)).astype(np.float32)
    emb[0] = 0.0  # padding_idx = 0
    w, r, b = weights(rng, "lstm", 1, E)
    wh, bh = train_head(np.random.default_rng(18), emb, w[0], r[0], b[0])
    # the one-hot model: its input weights are the embedding folded in (x·emb = emb[id])
    w_onehot = (w[0] @ emb[1:].T)[None].astype(np.float32)
    gw, gr, gb = weights(np.random.default_rng(19), "gru", 1, E)
    bw, br, bb = weights(np.random.default_rng(20), "lstm", 2, E)
    wh_t, bh_t = wh.astype(np.float32), bh.astype(np.float32)
    models = {
        "dkt_index": ("index", "lstm", 1, True, emb, w, r, b),
        "dkt_onehot": ("onehot", "lstm", 1, False, emb, w_onehot, r, b),
        "dkt_gru": ("index", "gru", 1, False, emb, gw, gr, gb),
        "dkt_bidir": ("index", "lstm", 2, False, emb, bw, br, bb),
    }
    seqs = simulate_bkt(np.random.default_rng(21), 3, 200)
    ref = {"skills": S, "hidden": H, "sequences": seqs, "p": {}}
    for name, (enc, cell, dirs, state_io, e, w_, r_, b_) in models.items():
        model = build(name, enc, cell, dirs, state_io, e, w_, r_, b_, wh_t, bh_t)
        onnx.save(model, os.path.join(out, f"{name}.onnx"))
        if dirs == 1:
            ref["p"][name] = run_ort(model, enc, seqs, state_io, cell)
    # two layers: the first is the single-layer model's, the second reads its hidden state
    w2, r2, b2 = weights(np.random.default_rng(22), "lstm", 1, H)
    stacked = build_stacked(emb, [(w, r, b), (w2, r2, b2)], wh_t, bh_t)
    onnx.save(stacked, os.path.join(out, "dkt_stacked.onnx"))
    ref["p"]["dkt_stacked"] = run_ort(stacked, "index", seqs, True, "lstm", layers=2)
    with open(os.path.join(out, "dkt_reference.json"), "w") as f:
        json.dump(ref, f)
    try:
        os.rename(out, final)
    except OSError:  # another run finished first: its files are the same
        shutil.rmtree(out)
    print(f"wrote {final}")


if __name__ == "__main__":
    main()
