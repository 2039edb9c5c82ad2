"""Writes the NannyML fixture for multivariate drift with a categorical feature (MultivariateAgreementTest):
the PCA reconstruction error with a categorical column (NannyML count-encodes it) and the domain
classifier's AUC per chunk.

Re-run (needs PyPI; the venv is ~2 GB, which is why CI uses the committed output instead):
    $(bin/kiln-python-env nannyml)/bin/python python/nannyml/make_multivariate_fixture.py
It writes drift/src/test/resources/nannyml/multivariate.csv.gz (the data, both periods) and
drift/src/test/resources/nannyml/multivariate.json (NannyML 0.13.1's DataReconstructionDriftCalculator
and DomainClassifierCalculator, default settings, on it).

The data: x2 correlated with x1, x3 independent with 5% missing, and a categorical c that follows x1
("lo" below 0, "mid" up to 0.8, "hi" above, with noise; 2% missing). In the analysis period's last
three chunks c no longer follows x1 but keeps its shares: no column's own distribution moves, only
the joint one, which the numeric-only reconstruction error cannot see.
"""
import gzip
import json
import os
import sys

import numpy as np
import pandas as pd
import nannyml as nml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "drift", "src", "test", "resources", "nannyml")
CHUNK = 500
ROWS = 3000
FEATURES = ["x1", "x2", "x3", "c"]


def category(v):
    return np.where(v < 0, "lo", np.where(v < 0.8, "mid", "hi"))


def period(rng, n, broken_from):
    x1 = rng.normal(0, 1, n)
    x2 = 0.8 * x1 + 0.6 * rng.normal(0, 1, n)
    x3 = rng.normal(5, 2, n)
    broken = np.arange(n) >= broken_from
    follows = category(x1 + 0.3 * rng.normal(0, 1, n))
    # after the break: the same shares, drawn independently of x1
    independent = category(rng.normal(0, 1.044, n))
    c = np.where(broken, independent, follows).astype(object)
    c[rng.uniform(size=n) < 0.02] = None
    x3 = np.where(rng.uniform(size=n) < 0.05, np.nan, x3)
    return pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "c": c}).round(6)


def rows(result, column, period_name):
    part = result[result[("chunk", "period")] == period_name]
    return [
        {
            "chunk": int(k),
            "rows": int(e - s + 1),
            "value": float(v),
            "alert": bool(a),
        }
        for k, s, e, v, a in zip(
            part[("chunk", "chunk_index")],
            part[("chunk", "start_index")],
            part[("chunk", "end_index")],
            part[(column, "value")],
            part[(column, "alert")],
        )
    ]


def main():
    rng = np.random.default_rng(18)
    reference = period(rng, ROWS, ROWS)
    analysis = period(rng, ROWS, ROWS // 2)
    os.makedirs(OUT, exist_ok=True)
    both = pd.concat(
        [reference.assign(period="reference"), analysis.assign(period="analysis")],
        ignore_index=True,
    )
    with gzip.open(os.path.join(OUT, "multivariate.csv.gz"), "wt", newline="") as f:
        both.to_csv(f, index=False, na_rep="")
    data = pd.read_csv(os.path.join(OUT, "multivariate.csv.gz"))
    reference = data[data.period == "reference"].drop(columns="period").reset_index(drop=True)
    analysis = data[data.period == "analysis"].drop(columns="period").reset_index(drop=True)

    dr = nml.DataReconstructionDriftCalculator(column_names=FEATURES, chunk_size=CHUNK)
    dr.fit(reference)
    dr_result = dr.calculate(analysis).to_df()
    numeric_only = nml.DataReconstructionDriftCalculator(column_names=FEATURES[:3], chunk_size=CHUNK)
    numeric_only.fit(reference)
    numeric_result = numeric_only.calculate(analysis).to_df()

    dc = nml.DomainClassifierCalculator(feature_column_names=FEATURES, chunk_size=CHUNK)
    dc.fit(reference)
    dc_result = dc.calculate(analysis).to_df()

    expected = {
        "nannyml": nml.__version__,
        "chunk_size": CHUNK,
        "reconstruction": {
            "categorical": dr.categorical_column_names,
            "components": int(dr._pca.n_components_),
            "lower": float(dr.lower_threshold_value),
            "upper": float(dr.upper_threshold_value),
            "reference": rows(dr_result, "reconstruction_error", "reference"),
            "analysis": rows(dr_result, "reconstruction_error", "analysis"),
            "numeric_only_analysis": rows(numeric_result, "reconstruction_error", "analysis"),
        },
        "domain_classifier": {
            "analysis": rows(dc_result, "domain_classifier_auroc", "analysis"),
        },
    }
    with open(os.path.join(OUT, "multivariate.json"), "w") as f:
        json.dump(expected, f, indent=2)
        f.write("\n")
    print(json.dumps(expected, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
