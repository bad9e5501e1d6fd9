"""Reference IRT fits for src/education/irt.rs -> tests/fixtures/education/irt_reference.json.

Two independent references on the same data:

* girth 0.8.0 (`rasch_mml`, `twopl_mml`, default options: N(0,1) ability prior, 41 Gauss-Legendre
  points on [-4.5, 4.5]). Note: girth's Rasch "MML" sets each difficulty so that the item's
  marginal P(correct) under the N(0,1) prior equals its observed proportion correct (a moment
  match, `_mml_abstract`), and its 2PL (`grm_mml`) does the same for difficulties with a bounded
  line search on each discrimination; neither maximises the marginal likelihood exactly, so the
  Rust test compares against girth with a loose tolerance.
* `direct`: a direct numerical maximisation (scipy L-BFGS-B with the analytic gradient) of
  exactly the penalised marginal log-likelihood that irt.rs maximises by EM: the same 61-point
  grid on [-5, 5] with normalised N(0,1) weights, the same priors (difficulty ~ N(0, 3^2),
  ln discrimination ~ N(0, 0.5^2)). The Rust fit must agree with it closely.

Data sets: two simulated ones (seeded; Rasch-generated and 2PL-generated, 400 learners x 25
items, about 15% of the responses missing) stored in the JSON as one string per learner
('1', '0', '.' = not answered), and MathE (../shared/data/mathe/mathe.csv, optional: skipped
when the file is not there) whose fitted parameters are stored by question id.

Run (girth needs numpy and scipy):
    python -m venv /root/.cache/hearth-edu/venv && /root/.cache/hearth-edu/venv/bin/pip install girth==0.8.0
    /root/.cache/hearth-edu/venv/bin/python tools/gen_irt_reference.py > tests/fixtures/education/irt_reference.json
"""
import csv
import json
import os
import sys

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit, logsumexp

import girth

GRID = np.linspace(-5.0, 5.0, 61)
LOG_W = -0.5 * GRID**2 - logsumexp(-0.5 * GRID**2)
B_SD = 3.0
LOGA_SD = 0.5


def simulate(rng, n_learners, n_items, two_pl):
    b = rng.uniform(-2.0, 2.0, n_items)
    a = np.exp(rng.normal(0.0, 0.3, n_items)) if two_pl else np.ones(n_items)
    theta = rng.standard_normal(n_learners)
    p = expit(a[None, :] * (theta[:, None] - b[None, :]))
    x = (rng.uniform(size=p.shape) < p).astype(int)
    mask = (rng.uniform(size=p.shape) >= 0.15).astype(int)
    x *= mask
    return a, b, x, mask


def neg_penalised(params, x, mask, two_pl):
    """-(marginal log-likelihood + log priors) and its gradient, on the shared grid."""
    n_items = x.shape[1]
    if two_pl:
        alpha, b = params[:n_items], params[n_items:]
    else:
        alpha, b = np.zeros(n_items), params
    a = np.exp(alpha)
    z = a[None, :] * (GRID[:, None] - b[None, :])  # Q x I
    logp, logq = -np.logaddexp(0, -z), -np.logaddexp(0, z)
    # x holds the number of correct answers and mask the number of answers per (learner, item):
    # every row of a log is an independent Bernoulli observation, repeats included.
    xm = x * 1.0
    ym = mask - x
    ll = xm @ logp.T + ym @ logq.T + LOG_W[None, :]  # J x Q
    lse = logsumexp(ll, axis=1)
    post = np.exp(ll - lse[:, None])
    # Fisher identity: d/d(param) log L_j = E_post[d/d(param) log p(x_j | theta)]
    p = expit(z)
    r = post.T @ xm  # Q x I expected correct
    n = post.T @ mask  # Q x I expected answered
    resid = r - n * p  # Q x I
    g_b = -(a * resid.sum(axis=0)) - b / B_SD**2
    f = -(lse.sum() - 0.5 * np.sum(b**2) / B_SD**2)
    if two_pl:
        g_alpha = a * np.sum(resid * (GRID[:, None] - b[None, :]), axis=0) - alpha / LOGA_SD**2
        f += 0.5 * np.sum(alpha**2) / LOGA_SD**2
        return f, -np.concatenate([g_alpha, g_b])
    return f, -g_b


def direct_fit(x, mask, two_pl):
    n_items = x.shape[1]
    x0 = np.zeros(2 * n_items if two_pl else n_items)
    res = minimize(neg_penalised, x0, args=(x, mask, two_pl), jac=True, method="L-BFGS-B",
                   options={"maxiter": 5000, "gtol": 1e-9, "ftol": 1e-14})
    if two_pl:
        return np.exp(res.x[:n_items]), res.x[n_items:], -res.fun
    return np.ones(n_items), res.x, -res.fun


def girth_fit(x, mask, two_pl):
    """girth on one answer per pair (the simulated sets have no repeats)."""
    data = np.where(mask > 0, (x > 0).astype(int), girth.INVALID_RESPONSE).T.copy()  # items x participants
    if two_pl:
        out = girth.twopl_mml(data, {"max_iteration": 200})
        return np.asarray(out["Discrimination"]).ravel(), np.asarray(out["Difficulty"]).ravel()
    out = girth.rasch_mml(data)
    return np.ones(x.shape[1]), np.asarray(out["Difficulty"]).ravel()


def rows(x, mask):
    return ["".join("." if not m else str(v) for v, m in zip(xr, mr)) for xr, mr in zip(x, mask)]


def main():
    rng = np.random.default_rng(20261201)
    out = {"generator": "tools/gen_irt_reference.py", "girth": "0.8.0", "grid": [-5.0, 5.0, 61],
           "difficulty_prior_sd": B_SD, "log_discrimination_prior_sd": LOGA_SD, "simulated": []}
    for name, two_pl in (("rasch", False), ("twopl", True)):
        a, b, x, mask = simulate(rng, 400, 25, two_pl)
        entry = {"name": name, "true_a": a.tolist(), "true_b": b.tolist(), "responses": rows(x, mask)}
        for model in ("rasch", "twopl"):
            da, db, ll = direct_fit(x, mask, model == "twopl")
            ga, gb = girth_fit(x, mask, model == "twopl")
            entry[model] = {"direct_a": da.tolist(), "direct_b": db.tolist(), "direct_penalised_ll": ll,
                            "girth_a": ga.tolist(), "girth_b": gb.tolist()}
        out["simulated"].append(entry)

    path = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mathe", "mathe.csv")
    path = os.environ.get("MATHE_CSV", path)
    if os.path.exists(path):
        with open(path, encoding="cp1252", newline="") as f:
            recs = list(csv.DictReader(f, delimiter=";"))
        students = sorted({r["Student ID"] for r in recs}, key=int)
        questions = sorted({r["Question ID"] for r in recs}, key=int)
        si = {s: i for i, s in enumerate(students)}
        qi = {q: i for i, q in enumerate(questions)}
        # Counts per (student, question): MathE repeats some pairs, and irt.rs treats every row
        # as an independent answer, so the reference does too.
        x = np.zeros((len(students), len(questions)), dtype=int)
        mask = np.zeros_like(x)
        for r in recs:
            j, i = si[r["Student ID"]], qi[r["Question ID"]]
            x[j, i] += int(r["Type of Answer"])
            mask[j, i] += 1
        m = {"question_ids": questions, "repeated_pairs": int((mask > 1).sum())}
        for model in ("rasch", "twopl"):
            da, db, ll = direct_fit(x, mask, model == "twopl")
            m[model] = {"direct_a": da.tolist(), "direct_b": db.tolist(), "direct_penalised_ll": ll}
        out["mathe"] = m
    else:
        print(f"MathE not found at {path}; skipped", file=sys.stderr)

    def rounded(v):
        if isinstance(v, float):
            return float(f"{v:.7g}")
        if isinstance(v, list):
            return [rounded(e) for e in v]
        if isinstance(v, dict):
            return {k: rounded(e) for k, e in v.items()}
        return v

    json.dump(rounded(out), sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
