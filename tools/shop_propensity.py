#!/usr/bin/env python3
"""Train the demo shop's purchase-propensity model on UCI "Online Shoppers Purchasing Intention"
and export it with skl2onnx, one input per column (what `Model.predict` reads by name).

Usage: python3 tools/shop_propensity.py OUT.onnx [CSV]

The pipeline: the session counts and durations the shop can measure in the browser (product
pages viewed and seconds on them, informational pages, bounce and exit rates) imputed and
standardised, month and visitor type one-hot encoded (the UCI strings), the weekend flag as a
0/1 float, into gradient-boosted trees (scikit-learn's HistGradientBoostingClassifier). PageValues,
which needs the shop's own transaction history, is left out. Prints the held-out AUC.

Data: CC BY 4.0. C. O. Sakar, S. O. Polat, M. Katircioglu, Y. Kastro (2019), "Real-time prediction
of online shoppers' purchasing intention using multilayer perceptron and LSTM recurrent neural
networks", Neural Computing and Applications 31:6893-6908. UCI ML Repository dataset 468.
"""

import csv
import os
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tabular_models import DEFAULT_CSV, MONTHS  # noqa: E402  (data path, month names)

NUMERIC = ["Administrative", "Informational", "ProductRelated", "ProductRelated_Duration",
           "BounceRates", "ExitRates", "SpecialDay"]
SEED = 7


def main():
    out = sys.argv[1]
    path = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_CSV
    import pandas as pd
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rows = list(csv.DictReader(open(path, newline="")))
    rows = [r for r in rows if r.get("Revenue", "").strip() not in ("", None)]
    num = lambda v: float(v) if v.strip() != "" else float("nan")
    frame = pd.DataFrame({c: [num(r[c]) for r in rows] for c in NUMERIC}).astype(np.float32)
    frame["Month"] = [MONTHS[int(float(r["Month"])) - 1] if r["Month"].strip() else "Unknown" for r in rows]
    frame["VisitorType"] = [{"1": "Returning_Visitor", "0": "New_Visitor"}.get(r["returning_ visitor"].strip(), "Other") for r in rows]
    frame["Weekend"] = np.array([num(r["weekend"] or "0") for r in rows], dtype=np.float32)
    y = np.array([int(float(r["Revenue"])) for r in rows])
    perm = np.random.default_rng(SEED).permutation(len(y))
    test, train = perm[:2000], perm[2000:]
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
        ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["Month", "VisitorType"]),
        ("flag", "passthrough", ["Weekend"]),
    ])
    pipe = Pipeline([("pre", pre), ("clf", HistGradientBoostingClassifier(max_iter=80, max_depth=4, random_state=SEED))])
    pipe.fit(frame.iloc[train], y[train])
    auc = roc_auc_score(y[test], pipe.predict_proba(frame.iloc[test])[:, 1])
    types = [(c, FloatTensorType([None, 1])) for c in NUMERIC] + [
        ("Month", StringTensorType([None, 1])), ("VisitorType", StringTensorType([None, 1])),
        ("Weekend", FloatTensorType([None, 1]))]
    onx = convert_sklearn(pipe, initial_types=types, target_opset={"": 17, "ai.onnx.ml": 3})
    with open(out, "wb") as f:
        f.write(onx.SerializeToString())
    print(f"shop_propensity: {out} ({os.path.getsize(out)} B), {len(train)} training sessions, held-out AUC {auc:.3f}")


if __name__ == "__main__":
    main()
