#!/usr/bin/env python3
"""Train the tabular test models of tests/tabular.rs on UCI "Online Shoppers Purchasing
Intention", export them with the real converters (skl2onnx, onnxmltools) and write
onnxruntime's outputs as references.

For each model, OUT/<name>/ gets:
    model.onnx
    input_<i>.pb      the test rows, one TensorProto per graph input (named as the input)
    output_<k>.pb     onnxruntime's output k; a ZipMap output (a list of dicts) is written as
                      its [rows, classes] float matrix in the order of meta.json's labels
    meta.json         {"zipmap": {k: labels}, "kind": ..., "converter": ...}
A model whose input is a map (scikit-learn's DictVectorizer, ai.onnx.ml CastMap: onnxruntime
runs one map per call) gets, instead of input_<i>.pb, inputs.json {"input": name, "key": "int64" or
"string", "rows": [{key: value}, ...]} and its outputs stacked over the rows (output_<k>.pb as
above, one row per map).
OUT/manifest.json lists the models with the package versions used.

Usage: python3 tools/tabular_models.py OUT [CSV]
Needs numpy, onnx, onnxruntime, scikit-learn, skl2onnx, onnxmltools, xgboost, lightgbm
(pinned in scripts/setup.sh).

Data: the CSV as shipped in ../shared/data/online-shoppers (its categorical columns are numbers;
the mixed-column pipeline turns Month and the visitor type back into the strings of the
original UCI file).
"""

import csv
import json
import os
import sys
import warnings
from importlib.metadata import version

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

warnings.filterwarnings("ignore")

# skl2onnx writes HistGradientBoosting's missing-value tracks as Python bools, which onnx 1.17's
# make_attribute refuses in an ints attribute: give it ints (the values are unchanged).
_make_attribute = onnx.helper.make_attribute


def _make_attribute_bools_as_ints(key, value, *args, **kwargs):
    if isinstance(value, (list, tuple)) and any(isinstance(v, (bool, np.bool_)) for v in value):
        value = [int(v) if isinstance(v, (bool, np.bool_)) else v for v in value]
    return _make_attribute(key, value, *args, **kwargs)


onnx.helper.make_attribute = _make_attribute_bools_as_ints

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
def _data_root():
    """`$HEARTH_DATA` (scripts/env.sh sets it), else ../shared/data beside the checkout, else
    /work/shared/data (where a CI clone elsewhere finds it)."""
    for d in (os.environ.get("HEARTH_DATA"), os.path.join(ROOT, "..", "shared", "data"), "/work/shared/data"):
        if d and os.path.isdir(os.path.join(d, "online-shoppers")):
            return d
    sys.exit("online-shoppers data not found: set HEARTH_DATA to the shared data folder")


DEFAULT_CSV = os.path.join(_data_root(), "online-shoppers", "online_shoppers_intention.csv")
ATTRIBUTION = (
    "License: CC BY 4.0. Attribution: C. O. Sakar, S. O. Polat, M. Katircioglu, Y. Kastro (2019), \"Real-time "
    "prediction of online shoppers' purchasing intention using multilayer perceptron and LSTM recurrent neural "
    "networks\", Neural Computing and Applications 31:6893-6908. UCI ML Repository dataset 468."
)
SEED = 7
N_TEST = 200
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "June", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
NUMERIC = ["Administrative", "Administrative_Duration", "Informational", "Informational_Duration",
           "ProductRelated", "ProductRelated_Duration", "BounceRates", "ExitRates", "PageValues", "SpecialDay"]


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    col = {h: i for i, h in enumerate(header)}
    X, raw, y = [], [], []
    for r in body:
        if len(r) != len(header):
            continue
        num = lambda v: float(v) if v.strip() != "" else float("nan")
        if r[col["Revenue"]].strip() == "":
            continue
        feats = [num(r[i]) for i, h in enumerate(header) if h != "Revenue"]
        X.append(feats)
        m = r[col["Month"]].strip()
        raw.append({
            "numeric": [num(r[col[h]]) for h in NUMERIC],
            "month": MONTHS[int(float(m)) - 1] if m not in ("", "nan") and 1 <= int(float(m)) <= 12 else "Unknown",
            "visitor": {"1": "Returning_Visitor", "0": "New_Visitor"}.get(r[col["returning_ visitor"]].strip(), "Other"),
            "weekend": r[col["weekend"]].strip() or "0",
        })
        y.append(int(float(r[col["Revenue"]])))
    return np.array(X, dtype=np.float32), raw, np.array(y)


def write_case(out, name, onx, feeds, meta):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(onx.SerializeToString())
    sess = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    res = sess.run(None, feeds)
    for i, inp in enumerate(sess.get_inputs()):
        t = numpy_helper.from_array(np.asarray(feeds[inp.name]), inp.name)
        open(os.path.join(d, f"input_{i}.pb"), "wb").write(t.SerializeToString())
    zipmap = {}
    for k, (o, v) in enumerate(zip(sess.get_outputs(), res)):
        if isinstance(v, list):  # ZipMap: a list of {label: probability}
            labels = list(v[0].keys())
            v = np.array([[row[l] for l in labels] for row in v], dtype=np.float32)
            zipmap[str(k)] = [l if isinstance(l, str) else int(l) for l in labels]
        t = numpy_helper.from_array(np.asarray(v), o.name)
        open(os.path.join(d, f"output_{k}.pb"), "wb").write(t.SerializeToString())
    meta = dict(meta, zipmap=zipmap, ops=sorted({f"{n.domain or 'ai.onnx'}:{n.op_type}" for n in onx.graph.node}))
    json.dump(meta, open(os.path.join(d, "meta.json"), "w"), indent=1)
    return meta


def write_map_case(out, name, onx, rows, meta):
    """A model with one map input, run by onnxruntime once per map in `rows`."""
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(onx.SerializeToString())
    sess = ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])
    inp = sess.get_inputs()[0]
    key = "int64" if inp.type.startswith("map(int64") else "string"
    per_row = [sess.run(None, {inp.name: r}) for r in rows]
    zipmap = {}
    for k, o in enumerate(sess.get_outputs()):
        vals = [res[k] for res in per_row]
        if isinstance(vals[0], list):  # ZipMap: one {label: probability} per row
            labels = list(vals[0][0].keys())
            v = np.array([[m[l] for l in labels] for res in vals for m in res], dtype=np.float32)
            zipmap[str(k)] = [l if isinstance(l, str) else int(l) for l in labels]
        else:
            v = np.concatenate([np.asarray(x) for x in vals], axis=0)
        t = numpy_helper.from_array(v, o.name)
        open(os.path.join(d, f"output_{k}.pb"), "wb").write(t.SerializeToString())
    json.dump({"input": inp.name, "key": key, "rows": [{str(a): b for a, b in r.items()} for r in rows]},
              open(os.path.join(d, "inputs.json"), "w"))
    meta = dict(meta, zipmap=zipmap, map_input=inp.name,
                ops=sorted({f"{n.domain or 'ai.onnx'}:{n.op_type}" for n in onx.graph.node}))
    json.dump(meta, open(os.path.join(d, "meta.json"), "w"), indent=1)
    return meta


def dict_models(out, X, raw, y, train, test, cases):
    """scikit-learn DictVectorizer pipelines (string and int64 keys) through skl2onnx."""
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import DictionaryType, FloatTensorType, Int64TensorType, StringTensorType
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def named(i):  # numeric features by name, categories one-hot as DictVectorizer writes them
        r = raw[i]
        d = {h: float(v) for h, v in zip(NUMERIC, r["numeric"]) if v == v and v != 0}
        d["Month=" + r["month"]] = 1.0
        d["VisitorType=" + r["visitor"]] = 1.0
        if r["weekend"] not in ("0", "False", "FALSE"):
            d["Weekend"] = 1.0
        return d

    rows = [named(i) for i in test]
    for r in rows[::7]:
        r["NotAFeature"] = 3.0  # a key the vocabulary lacks: ignored by both
    pipe = make_pipeline(DictVectorizer(sparse=False), StandardScaler(), LogisticRegression(max_iter=1000))
    pipe.fit([named(i) for i in train], y[train])
    onx = convert_sklearn(pipe, initial_types=[("features", DictionaryType(StringTensorType([1]), FloatTensorType([1])))],
                          target_opset={"": 17, "ai.onnx.ml": 3})
    cases.append(write_map_case(out, "dict_vectorizer", onx, rows, {"kind": "classifier", "converter": "skl2onnx"}))

    # int64 keys: column index -> value, PageValues (column 8) as the target
    def indexed(i):
        return {j: float(v) for j, v in enumerate(X[i]) if j != 8 and v == v and v != 0}

    pipe = make_pipeline(DictVectorizer(sparse=False), StandardScaler(), Ridge(alpha=1.0))
    pipe.fit([indexed(i) for i in train], X[train, 8])
    onx = convert_sklearn(pipe, initial_types=[("columns", DictionaryType(Int64TensorType([1]), FloatTensorType([1])))],
                          target_opset={"": 17, "ai.onnx.ml": 3})
    cases.append(write_map_case(out, "dict_vectorizer_int_keys", onx, [indexed(i) for i in test],
                                {"kind": "regressor", "converter": "skl2onnx"}))


def cast_map_models(out, cases):
    """ai.onnx.ml CastMap, every cast_to and both map forms, on maps of int64 to float."""
    from onnx import TensorProto, helper as h

    def model(value_type, nodes, outputs):
        vt = helper_map(value_type)
        g = h.make_graph(nodes, "cast_map", [h.make_value_info("m", vt)], outputs)
        return h.make_model(g, opset_imports=[h.make_opsetid("", 17), h.make_opsetid("ai.onnx.ml", 1)], ir_version=8)

    def helper_map(value_type):
        return h.make_map_type_proto(TensorProto.INT64, h.make_tensor_type_proto(value_type, None))

    def cm(out_name, cast_to, form, max_map=1):
        return h.make_node("CastMap", ["m"], [out_name], domain="ai.onnx.ml", cast_to=cast_to, map_form=form, max_map=max_map)

    outs = lambda spec: [h.make_tensor_value_info(n, t, None) for n, t in spec]
    onx = model(TensorProto.FLOAT, [cm("dense_float", "TO_FLOAT", "DENSE"), cm("sparse_float", "TO_FLOAT", "SPARSE", 6),
                                    cm("dense_int", "TO_INT64", "DENSE"), cm("sparse_string", "TO_STRING", "SPARSE", 4)],
                outs([("dense_float", TensorProto.FLOAT), ("sparse_float", TensorProto.FLOAT),
                      ("dense_int", TensorProto.INT64), ("sparse_string", TensorProto.STRING)]))
    rows = [{3: 1.5, 0: -2.25, 9: 7.0, 1: 0.1}, {5: -0.75, 2: 1e6, 4: 3.0, 7: 2.5}, {0: 0.0, 1: -1.0, 2: 2.0, 3: 123.456}]
    cases.append(write_map_case(out, "cast_map", onx, rows, {"kind": "transform", "converter": "onnx.helper"}))
    # (onnxruntime's Python binding cannot feed a map of int64 to string: tests/tabular.rs checks
    # string values against a hand-computed reference)


def main():
    out = sys.argv[1]
    path = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_CSV
    X, raw, y = load(path)
    rng = np.random.default_rng(SEED)
    perm = rng.permutation(len(y))
    test, train = perm[:N_TEST], perm[N_TEST:]
    Xd = np.nan_to_num(X, nan=0.0)  # the converters' numeric models are trained without NaN
    Xtr, ytr, Xte = Xd[train], y[train], Xd[test]
    # a 3-class target for the multiclass models: no purchase / purchase with low / high PageValues
    y3 = np.where(y == 0, 0, np.where(Xd[:, 8] > 30, 2, 1))
    y3tr = y3[train]
    nf = X.shape[1]

    from skl2onnx import to_onnx, convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import (GradientBoostingClassifier, HistGradientBoostingClassifier,
                                  HistGradientBoostingRegressor, RandomForestClassifier, RandomForestRegressor)
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.svm import SVC

    ftype = [("X", FloatTensorType([None, nf]))]
    cases = []

    def skl(name, model, target, kind, options=None, Xfit=Xtr):
        model.fit(Xfit, target)
        onx = convert_sklearn(model, initial_types=ftype, options=options, target_opset={"": 17, "ai.onnx.ml": 3})
        cases.append(write_case(out, name, onx, {"X": Xte}, {"kind": kind, "converter": "skl2onnx"}))

    scaled = lambda m: make_pipeline(StandardScaler(), m)
    skl("logreg_binary", scaled(LogisticRegression(max_iter=500)), ytr, "classifier")
    skl("logreg_multi", scaled(LogisticRegression(max_iter=500)), y3tr, "classifier")
    skl("linear_regression", LinearRegression(), Xtr[:, 8], "regressor", Xfit=np.delete(Xtr, 8, 1) if False else Xtr)
    skl("ridge", scaled(Ridge(alpha=1.0)), Xtr[:, 6], "regressor")
    skl("random_forest", RandomForestClassifier(n_estimators=50, max_depth=8, random_state=SEED), ytr, "classifier")
    skl("random_forest_multi", RandomForestClassifier(n_estimators=30, max_depth=6, random_state=SEED), y3tr, "classifier")
    skl("random_forest_regressor", RandomForestRegressor(n_estimators=30, max_depth=6, random_state=SEED), Xtr[:, 8], "regressor")
    skl("gradient_boosting", GradientBoostingClassifier(n_estimators=60, max_depth=3, random_state=SEED), ytr, "classifier")
    skl("gradient_boosting_multi", GradientBoostingClassifier(n_estimators=30, max_depth=3, random_state=SEED), y3tr, "classifier")
    skl("hist_gradient_boosting", HistGradientBoostingClassifier(max_iter=60, random_state=SEED), ytr, "classifier")
    skl("hist_gradient_boosting_regressor", HistGradientBoostingRegressor(max_iter=40, random_state=SEED), Xtr[:, 8], "regressor")
    sub = train[:3000]
    Xs, ys = Xd[sub], y[sub]
    svc = scaled(SVC(probability=True, random_state=SEED))
    svc.fit(Xs, ys)
    onx = convert_sklearn(svc, initial_types=ftype, target_opset={"": 17, "ai.onnx.ml": 3})
    cases.append(write_case(out, "svc", onx, {"X": Xte}, {"kind": "classifier", "converter": "skl2onnx"}))
    svc3 = scaled(SVC(probability=True, random_state=SEED))
    svc3.fit(Xs, y3[sub])
    onx = convert_sklearn(svc3, initial_types=ftype, target_opset={"": 17, "ai.onnx.ml": 3})
    cases.append(write_case(out, "svc_multi", onx, {"X": Xte}, {"kind": "classifier", "converter": "skl2onnx"}))
    knn = scaled(KNeighborsClassifier(n_neighbors=5))
    knn.fit(Xs, ys)
    onx = convert_sklearn(knn, initial_types=ftype, target_opset={"": 17, "ai.onnx.ml": 3})
    cases.append(write_case(out, "knn", onx, {"X": Xte}, {"kind": "classifier", "converter": "skl2onnx"}))

    # mixed columns: numeric (with the file's blanks as NaN), month and visitor type as strings
    num = np.array([r["numeric"] for r in raw], dtype=np.float32)
    month = np.array([[r["month"]] for r in raw], dtype=object)
    visitor = np.array([[r["visitor"]] for r in raw], dtype=object)
    import pandas as pd
    frame = pd.DataFrame(num, columns=NUMERIC)
    frame["Month"] = month[:, 0]
    frame["VisitorType"] = visitor[:, 0]
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["Month", "VisitorType"]),
    ])
    pipe = Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=1000))])
    pipe.fit(frame.iloc[train], y[train])
    types = [(c, FloatTensorType([None, 1])) for c in NUMERIC] + [
        ("Month", StringTensorType([None, 1])), ("VisitorType", StringTensorType([None, 1]))]
    onx = convert_sklearn(pipe, initial_types=types, target_opset={"": 17, "ai.onnx.ml": 3})
    feeds = {c: num[test][:, [i]] for i, c in enumerate(NUMERIC)}
    feeds["Month"] = month[test]
    feeds["VisitorType"] = visitor[test]
    cases.append(write_case(out, "column_transformer", onx, feeds,
                            {"kind": "classifier", "converter": "skl2onnx"}))

    # XGBoost and LightGBM through onnxmltools
    import lightgbm as lgb
    import xgboost as xgb
    from onnxmltools import convert_lightgbm, convert_xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType as MFloat

    mtype = [("X", MFloat([None, nf]))]

    def mlt(name, model, target, kind, conv):
        model.fit(Xtr, target)
        onx = conv(model, initial_types=mtype, target_opset=15)
        cases.append(write_case(out, name, onx, {"X": Xte}, {"kind": kind, "converter": "onnxmltools"}))

    mlt("xgboost_binary", xgb.XGBClassifier(n_estimators=60, max_depth=4, random_state=SEED), ytr, "classifier", convert_xgboost)
    mlt("xgboost_multi", xgb.XGBClassifier(n_estimators=30, max_depth=4, random_state=SEED), y3tr, "classifier", convert_xgboost)
    mlt("xgboost_regressor", xgb.XGBRegressor(n_estimators=40, max_depth=4, random_state=SEED), Xtr[:, 8], "regressor", convert_xgboost)
    lgbm = dict(n_estimators=60, num_leaves=15, random_state=SEED, verbose=-1)
    mlt("lightgbm_binary", lgb.LGBMClassifier(**lgbm), ytr, "classifier", convert_lightgbm)
    mlt("lightgbm_multi", lgb.LGBMClassifier(**lgbm), y3tr, "classifier", convert_lightgbm)
    mlt("lightgbm_regressor", lgb.LGBMRegressor(**lgbm), Xtr[:, 8], "regressor", convert_lightgbm)

    dict_models(out, X, raw, y, train, test, cases)
    cast_map_models(out, cases)

    versions = {p: version(p) for p in ["scikit-learn", "skl2onnx", "onnxmltools", "xgboost", "lightgbm", "onnx", "onnxruntime", "numpy"]}
    json.dump({"models": [c for c in sorted(os.listdir(out)) if os.path.isdir(os.path.join(out, c))],
               "versions": versions, "data": ATTRIBUTION, "rows": N_TEST},
              open(os.path.join(out, "manifest.json"), "w"), indent=1)
    print(f"tabular_models: {len(cases)} models in {out}")


if __name__ == "__main__":
    main()
