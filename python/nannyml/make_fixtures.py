"""Writes the NannyML fixture that Kiln's drift tests compare with (NannyMlAgreementTest).

Re-run (needs PyPI; the venv is ~2 GB, which is why CI uses the committed output instead):
    python/nannyml/make_fixtures.py  ->  $(bin/kiln-python-env nannyml)/bin/python python/nannyml/make_fixtures.py
It writes drift/src/test/resources/nannyml/data.csv.gz (the data, both periods) and
drift/src/test/resources/nannyml/expected.json (NannyML 0.13.1's results on it).

The data: four numeric features, x2 correlated with x1, 5% of x3 missing; a binary classifier's
over-confident score (the true probability pushed away from 0.5, so calibration is needed) and its
label drawn from the true probability. The analysis period's first three chunks look like the
reference; the last three break the x1-x2 correlation (x2's own distribution unchanged: only a
multivariate method sees it) and move x1, which changes the classifier's performance.
"""
import gzip
import json
import os
import sys

import numpy as np
import pandas as pd
import nannyml as nml
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "drift", "src", "test", "resources", "nannyml")
CHUNK = 500
ROWS = 3000


def period(rng, n, broken_from):
    x1 = rng.normal(0, 1, n)
    x2 = 0.8 * x1 + 0.6 * rng.normal(0, 1, n)
    x3 = rng.normal(5, 2, n)
    x4 = rng.exponential(1.0, n)
    i = np.arange(n)
    broken = i >= broken_from
    # after the break: x2 independent of x1 (same N(0, 1) marginal), x1 shifted
    x2 = np.where(broken, rng.normal(0, 1, n), x2)
    x1 = np.where(broken, x1 + 0.7, x1)
    logit = -0.3 + 1.2 * x1 - 0.5 * (x3 - 5) + 0.4 * x4 - 0.4 * x2
    p = 1 / (1 + np.exp(-logit))
    label = rng.binomial(1, p)
    score = 1 / (1 + np.exp(-2.2 * logit))
    x3 = np.where(rng.uniform(size=n) < 0.05, np.nan, x3)
    frame = pd.DataFrame(
        {"x1": x1, "x2": x2, "x3": x3, "x4": x4, "score": score, "label": label}
    ).round(6)
    frame["y_pred"] = (frame["score"] >= 0.5).astype(int)
    return frame


def main():
    rng = np.random.default_rng(18)
    reference = period(rng, ROWS, ROWS)
    analysis = period(rng, ROWS, ROWS // 2)
    os.makedirs(OUT, exist_ok=True)
    both = pd.concat(
        [reference.assign(period="reference"), analysis.assign(period="analysis")],
        ignore_index=True,
    )
    with gzip.open(os.path.join(OUT, "data.csv.gz"), "wt", newline="") as f:
        both.to_csv(f, index=False, na_rep="")
    # NannyML reads the data back as Kiln will: from the CSV (rounded values)
    data = pd.read_csv(os.path.join(OUT, "data.csv.gz"))
    reference = data[data.period == "reference"].drop(columns="period").reset_index(drop=True)
    analysis = data[data.period == "analysis"].drop(columns="period").reset_index(drop=True)

    features = ["x1", "x2", "x3", "x4"]
    dr = nml.DataReconstructionDriftCalculator(column_names=features, chunk_size=CHUNK)
    dr.fit(reference)
    dr_result = dr.calculate(analysis).to_df()

    def dr_rows(period_name):
        rows = dr_result[dr_result[("chunk", "period")] == period_name]
        return [
            {
                "chunk": int(k),
                "rows": int(s),
                "value": float(v),
                "alert": bool(a),
            }
            for k, s, v, a in zip(
                rows[("chunk", "chunk_index")],
                rows[("chunk", "end_index")] - rows[("chunk", "start_index")] + 1,
                rows[("reconstruction_error", "value")],
                rows[("reconstruction_error", "alert")],
            )
        ]

    cbpe = nml.CBPE(
        y_pred_proba="score",
        y_pred="y_pred",
        y_true="label",
        metrics=["roc_auc", "accuracy", "precision", "recall", "f1"],
        chunk_size=CHUNK,
        problem_type="classification_binary",
    )
    cbpe.fit(reference)
    estimated = cbpe.estimate(analysis).to_df()
    metrics = {}
    for metric in ["roc_auc", "accuracy", "precision", "recall", "f1"]:
        rows = estimated[estimated[("chunk", "period")] == "analysis"]
        chunks = []
        for index in range(len(rows)):
            chunk = analysis.iloc[index * CHUNK : (index + 1) * CHUNK]
            realized = {
                "roc_auc": lambda: roc_auc_score(chunk.label, chunk.score),
                "accuracy": lambda: float((chunk.label == chunk.y_pred).mean()),
                "precision": lambda: precision_score(chunk.label, chunk.y_pred),
                "recall": lambda: recall_score(chunk.label, chunk.y_pred),
                "f1": lambda: f1_score(chunk.label, chunk.y_pred),
            }[metric]()
            chunks.append(
                {
                    "chunk": index,
                    "estimated": float(rows[(metric, "value")].iloc[index]),
                    "sampling_error": float(rows[(metric, "sampling_error")].iloc[index]),
                    "lower_confidence": float(rows[(metric, "lower_confidence_boundary")].iloc[index]),
                    "upper_confidence": float(rows[(metric, "upper_confidence_boundary")].iloc[index]),
                    "realized": float(realized),
                    "alert": bool(rows[(metric, "alert")].iloc[index]),
                }
            )
        metrics[metric] = {
            "lower": float(rows[(metric, "lower_threshold")].iloc[0]),
            "upper": float(rows[(metric, "upper_threshold")].iloc[0]),
            "analysis": chunks,
        }
    expected = {
        "nannyml": nml.__version__,
        "chunk_size": CHUNK,
        "reconstruction": {
            "components": int(dr._pca.n_components_),
            "lower": float(dr.lower_threshold_value),
            "upper": float(dr.upper_threshold_value),
            "reference": dr_rows("reference"),
            "analysis": dr_rows("analysis"),
        },
        "cbpe": {
            "needs_calibration": bool(cbpe.needs_calibration),
            **metrics,
        },
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2)
        f.write("\n")
    print(json.dumps(expected["reconstruction"]["analysis"]), file=sys.stderr)
    print(json.dumps(metrics, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
