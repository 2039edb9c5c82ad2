"""Writes the NannyML direct loss estimation (DLE) fixture that Kiln's drift tests compare with
(DleAgreementTest).

Re-run (needs PyPI; the venv is ~2 GB, which is why CI uses the committed output instead):
    $(bin/kiln-python-env nannyml)/bin/python python/nannyml/make_dle_fixture.py
It writes drift/src/test/resources/nannyml/regression.csv.gz (the data, both periods) and
drift/src/test/resources/nannyml/dle.json (NannyML 0.13.1's DLE results on it, LightGBM's default
loss models).

The data: a regressor's prediction of y from three numeric features (x3 with 5% missing) and one
categorical (c1); the prediction is right on average but its error's size depends on the features
(wider for large |x1| and for c1 = "c"), which is what DLE's loss model learns. The analysis
period's first three chunks look like the reference; in the last three x1 moves up and "c" becomes
common, so the errors grow (MAE and RMSE up) while no label is needed to see it.
"""
import gzip
import json
import os
import sys

import numpy as np
import pandas as pd
import nannyml as nml
from sklearn.metrics import (
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_log_error,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "drift", "src", "test", "resources", "nannyml")
CHUNK = 500
ROWS = 3000
METRICS = ["mae", "mape", "mse", "rmse", "msle", "rmsle"]


def period(rng, n, shifted_from):
    i = np.arange(n)
    shifted = i >= shifted_from
    x1 = rng.normal(0, 1, n) + np.where(shifted, 1.0, 0.0)
    x2 = rng.normal(0, 1, n)
    x3 = rng.uniform(0, 4, n)
    c_share = np.where(shifted, 0.5, 0.15)
    u = rng.uniform(size=n)
    c1 = np.where(u < c_share, "c", np.where(u < c_share + (1 - c_share) / 2, "a", "b"))
    effect = np.select([c1 == "a", c1 == "b"], [0.0, 2.0], default=-1.0)
    mean = 30 + 2 * x1 + x2 + 0.5 * x3 + effect
    scale = 0.5 + 0.8 * np.abs(x1) + np.where(c1 == "c", 1.5, 0.0) + 0.2 * x3
    y = np.maximum(0.0, mean + scale * rng.normal(0, 1, n))
    x3 = np.where(rng.uniform(size=n) < 0.05, np.nan, x3)
    frame = pd.DataFrame(
        {"x1": x1, "x2": x2, "x3": x3, "c1": c1, "y_pred": mean, "y": y}
    )
    return frame.round(6)


def main():
    rng = np.random.default_rng(18)
    reference = period(rng, ROWS, ROWS)
    analysis = period(rng, ROWS, ROWS // 2)
    os.makedirs(OUT, exist_ok=True)
    both = pd.concat(
        [reference.assign(period="reference"), analysis.assign(period="analysis")],
        ignore_index=True,
    )
    with gzip.open(os.path.join(OUT, "regression.csv.gz"), "wt", newline="") as f:
        both.to_csv(f, index=False, na_rep="")
    # NannyML reads the data back as Kiln will: from the CSV (rounded values)
    data = pd.read_csv(os.path.join(OUT, "regression.csv.gz"))
    reference = data[data.period == "reference"].drop(columns="period").reset_index(drop=True)
    analysis = data[data.period == "analysis"].drop(columns="period").reset_index(drop=True)

    dle = nml.DLE(
        feature_column_names=["x1", "x2", "x3", "c1"],
        y_pred="y_pred",
        y_true="y",
        metrics=METRICS,
        chunk_size=CHUNK,
    )
    dle.fit(reference)
    estimated = dle.estimate(analysis).to_df()
    realized_of = {
        "mae": mean_absolute_error,
        "mape": mean_absolute_percentage_error,
        "mse": mean_squared_error,
        "rmse": lambda t, p: float(np.sqrt(mean_squared_error(t, p))),
        "msle": mean_squared_log_error,
        "rmsle": lambda t, p: float(np.sqrt(mean_squared_log_error(t, p))),
    }
    metrics = {}
    for metric in METRICS:
        rows = estimated[estimated[("chunk", "period")] == "analysis"]
        chunks = []
        for index in range(len(rows)):
            chunk = analysis.iloc[index * CHUNK : (index + 1) * CHUNK]
            chunks.append(
                {
                    "chunk": index,
                    "estimated": float(rows[(metric, "value")].iloc[index]),
                    "sampling_error": float(rows[(metric, "sampling_error")].iloc[index]),
                    "lower_confidence": float(rows[(metric, "lower_confidence_boundary")].iloc[index]),
                    "upper_confidence": float(rows[(metric, "upper_confidence_boundary")].iloc[index]),
                    "realized": float(realized_of[metric](chunk.y, chunk.y_pred)),
                    "alert": bool(rows[(metric, "alert")].iloc[index]),
                }
            )
        upper = rows[(metric, "upper_threshold")].iloc[0]
        metrics[metric] = {
            "lower": float(rows[(metric, "lower_threshold")].iloc[0]),
            "upper": None if upper is None or pd.isna(upper) else float(upper),
            "analysis": chunks,
        }
    expected = {"nannyml": nml.__version__, "chunk_size": CHUNK, "dle": metrics}
    with open(os.path.join(OUT, "dle.json"), "w") as f:
        json.dump(expected, f, indent=2)
        f.write("\n")
    print(json.dumps(metrics, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
