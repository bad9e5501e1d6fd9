#!/usr/bin/env python3
"""Train Hearth's purchase-propensity demo model on UCI "Online Shoppers Purchasing Intention".

Standardise the 17 features (train-split mean/std), fit a 17-32-16-1 MLP (scikit-learn
MLPClassifier, relu, adam, fixed seed), 80/20 stratified split with a fixed seed, report test AUC
and accuracy, then export by hand with onnx.helper: input "features" float32 [batch, 17] of RAW
feature values (the standardisation is in the graph as Sub/Div), output "purchase_probability"
float32 [batch, 1].

Writes (relative to the repo root):
    models/propensity.onnx
    models/propensity.json                         (features, scaler, metrics, command, attribution)
    tests/models/propensity/model.onnx             (copy)
    tests/models/propensity/test_data_set_0/...    (8 real test-split rows, onnxruntime outputs)

Usage: python3 tools/train_propensity.py [../shared/data/online-shoppers/online_shoppers_intention.csv]
Needs numpy, onnx, onnxruntime, scikit-learn.
"""

import argparse
import csv
import json
import os
import shutil

import numpy as np
import onnx
import onnxruntime as ort
import sklearn
from onnx import TensorProto, helper, numpy_helper
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CSV = "../shared/data/online-shoppers/online_shoppers_intention.csv"
SEED = 42
TARGET = "Revenue"

# exactly as in ../shared/data/README.md (online-shoppers/), bullet and line breaks removed
ATTRIBUTION = (
    "License: CC BY 4.0. Attribution: C. O. Sakar, S. O. Polat, M. Katircioglu, Y. Kastro (2019), \"Real-time "
    "prediction of online shoppers' purchasing intention using multilayer perceptron and LSTM recurrent neural "
    "networks\", Neural Computing and Applications 31:6893-6908. UCI ML Repository dataset 468."
)


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    t = header.index(TARGET)
    features = [h for i, h in enumerate(header) if i != t]
    X, y, dropped = [], [], 0
    for r in body:
        if len(r) != len(header) or any(v.strip() == "" for v in r):
            dropped += 1  # the copy has 14 rows with blank numeric fields
            continue
        X.append([float(v) for i, v in enumerate(r) if i != t])
        y.append(int(float(r[t])))
    return features, np.array(X, dtype=np.float64), np.array(y, dtype=np.int64), dropped


def export(clf, mean, std, n_feat):
    N = helper.make_node
    (w1, w2, w3), (b1, b2, b3) = clf.coefs_, clf.intercepts_
    f32 = lambda a: np.array(a, dtype=np.float32, order="C")
    inits = [
        numpy_helper.from_array(f32(mean.reshape(1, -1)), "scaler.mean"),
        numpy_helper.from_array(f32(std.reshape(1, -1)), "scaler.std"),
        numpy_helper.from_array(f32(w1), "fc1.weight"), numpy_helper.from_array(f32(b1), "fc1.bias"),
        numpy_helper.from_array(f32(w2), "fc2.weight"), numpy_helper.from_array(f32(b2), "fc2.bias"),
        numpy_helper.from_array(f32(w3), "out.weight"), numpy_helper.from_array(f32(b3), "out.bias"),
    ]
    nodes = [
        N("Sub", ["features", "scaler.mean"], ["centred"], name="scaler/Sub"),
        N("Div", ["centred", "scaler.std"], ["scaled"], name="scaler/Div"),
        N("MatMul", ["scaled", "fc1.weight"], ["fc1_mm"], name="fc1/MatMul"),
        N("Add", ["fc1_mm", "fc1.bias"], ["fc1_out"], name="fc1/Add"),
        N("Relu", ["fc1_out"], ["fc1_relu"], name="fc1/Relu"),
        N("MatMul", ["fc1_relu", "fc2.weight"], ["fc2_mm"], name="fc2/MatMul"),
        N("Add", ["fc2_mm", "fc2.bias"], ["fc2_out"], name="fc2/Add"),
        N("Relu", ["fc2_out"], ["fc2_relu"], name="fc2/Relu"),
        N("MatMul", ["fc2_relu", "out.weight"], ["logit_mm"], name="out/MatMul"),
        N("Add", ["logit_mm", "out.bias"], ["logit"], name="out/Add"),
        N("Sigmoid", ["logit"], ["purchase_probability"], name="out/Sigmoid"),
    ]
    graph = helper.make_graph(
        nodes,
        "propensity",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", n_feat])],
        [helper.make_tensor_value_info("purchase_probability", TensorProto.FLOAT, ["batch", 1])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="hearth-train_propensity", producer_version="1")
    model.ir_version = 8
    model.doc_string = ("Purchase propensity for an e-commerce session (UCI Online Shoppers Purchasing "
                        "Intention, CC BY 4.0; Sakar et al. 2019). Input: raw features in the order of "
                        "models/propensity.json.")
    onnx.checker.check_model(model)
    return model


def ort_session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(path, sess_options=so, providers=["CPUExecutionProvider"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", nargs="?", default=DEFAULT_CSV, help="relative to the repo root unless absolute")
    args = ap.parse_args()
    csv_path = args.csv if os.path.isabs(args.csv) else os.path.join(ROOT, args.csv)
    if not os.path.isfile(csv_path) and os.path.isfile(args.csv):
        csv_path = args.csv  # relative to the working directory instead
    if not os.path.isfile(csv_path):
        raise SystemExit(f"no dataset at {csv_path}: pass the CSV path as the first argument")

    features, X, y, dropped = load(csv_path)
    print(f"{len(y)} sessions ({dropped} blank rows dropped), {y.sum()} purchases, {len(features)} features")
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, random_state=SEED, stratify=y)
    mean = X_tr.mean(axis=0)
    std = X_tr.std(axis=0)
    std[std == 0] = 1.0

    clf = MLPClassifier(hidden_layer_sizes=(32, 16), activation="relu", solver="adam", alpha=1e-3,
                        learning_rate_init=1e-3, batch_size=128, max_iter=200, early_stopping=True,
                        validation_fraction=0.1, n_iter_no_change=15, random_state=SEED)
    clf.fit((X_tr - mean) / std, y_tr)
    p_te = clf.predict_proba((X_te - mean) / std)[:, 1]
    auc = roc_auc_score(y_te, p_te)
    acc = accuracy_score(y_te, (p_te >= 0.5).astype(int))
    base = 1.0 - y_te.mean()
    print(f"test AUC {auc:.4f}, accuracy {acc:.4f} at threshold 0.5 "
          f"(majority-class accuracy {base:.4f}), {clf.n_iter_} epochs")

    model = export(clf, mean, std, len(features))
    os.makedirs(os.path.join(ROOT, "models"), exist_ok=True)
    model_path = os.path.join(ROOT, "models", "propensity.onnx")
    onnx.save_model(model, model_path)

    # the exported graph must agree with scikit-learn on the whole test split
    sess = ort_session(model_path)
    p_onnx = sess.run(["purchase_probability"], {"features": X_te.astype(np.float32)})[0][:, 0]
    max_diff = float(np.abs(p_onnx - p_te).max())
    assert max_diff < 1e-4, f"ONNX export disagrees with sklearn: {max_diff}"
    auc_onnx = roc_auc_score(y_te, p_onnx)
    print(f"onnxruntime {ort.__version__} on the test split: max |p_onnx - p_sklearn| = {max_diff:.2e}, "
          f"AUC {auc_onnx:.4f}")

    meta = {
        "model": "propensity.onnx",
        "task": "probability that an e-commerce session ends in a purchase (Revenue)",
        "input": {"name": "features", "dtype": "float32", "shape": ["batch", len(features)],
                  "note": "raw feature values in this order; standardisation (x - mean) / std is inside "
                          "the graph. Categorical columns are the dataset copy's numeric codes."},
        "output": {"name": "purchase_probability", "dtype": "float32", "shape": ["batch", 1]},
        "features": features,
        "scaler": {"mean": [round(float(v), 8) for v in mean], "std": [round(float(v), 8) for v in std]},
        "architecture": "17-32-16-1 MLP, relu, sigmoid output (sklearn MLPClassifier, adam, alpha=1e-3, "
                        "early stopping)",
        "training": {
            "command": "python3 tools/train_propensity.py ../shared/data/online-shoppers/online_shoppers_intention.csv",
            "split": f"80/20 stratified, random_state={SEED}",
            "rows": int(len(y)), "dropped_blank_rows": int(dropped),
            "train_rows": int(len(y_tr)), "test_rows": int(len(y_te)),
            "epochs": int(clf.n_iter_),
            "versions": {"scikit-learn": sklearn.__version__, "numpy": np.__version__,
                         "onnx": onnx.__version__, "onnxruntime": ort.__version__},
        },
        "metrics": {
            "test_auc": round(float(auc), 4),
            "test_accuracy": round(float(acc), 4),
            "threshold": 0.5,
            "test_majority_class_accuracy": round(float(base), 4),
            "test_positive_rate": round(float(y_te.mean()), 4),
        },
        "dataset": {
            "name": "UCI Online Shoppers Purchasing Intention",
            "license": "CC BY 4.0",
            "attribution": ATTRIBUTION,
        },
    }
    with open(os.path.join(ROOT, "models", "propensity.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")

    # reference fixture: 8 real test-split rows (4 purchases, 4 not), onnxruntime's outputs
    fx = os.path.join(ROOT, "tests", "models", "propensity")
    if os.path.isdir(fx):
        shutil.rmtree(fx)
    td = os.path.join(fx, "test_data_set_0")
    os.makedirs(td)
    shutil.copyfile(model_path, os.path.join(fx, "model.onnx"))
    pick = np.concatenate([np.flatnonzero(y_te == 1)[:4], np.flatnonzero(y_te == 0)[:4]])
    pick.sort()
    rows = X_te[pick].astype(np.float32)
    out = sess.run(["purchase_probability"], {"features": rows})[0]
    with open(os.path.join(td, "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(rows, "features").SerializeToString())
    with open(os.path.join(td, "output_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(out, "purchase_probability").SerializeToString())
    print("fixture rows (label, p):", ", ".join(f"{l}:{p:.3f}" for l, p in zip(y_te[pick], out[:, 0])))


if __name__ == "__main__":
    main()
