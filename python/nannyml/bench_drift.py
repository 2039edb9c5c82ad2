"""NannyML's side of `bin/kiln-bench drift --vs nannyml` (kiln.bench.DriftPeersBenchmark runs it).

    $(bin/kiln-python-env nannyml)/bin/python python/nannyml/bench_drift.py \
        --reference REF.parquet --current CUR.parquet --out RESULT.json

Univariate drift (every continuous and categorical method NannyML 0.13.1 has that Kiln also
computes) and CBPE (ROC AUC, accuracy, precision, recall, F1) of the whole current side against the whole reference:
chunk_number=1, as Kiln's unchunked run compares the sides whole. Writes seconds (load, univariate,
cbpe), the peak resident memory of this process and every statistic to RESULT.json.
"""
import argparse
import json
import resource
import sys
import time

import pandas as pd

FEATURES = ["delay", "distance", "origin", "destination"]
CATEGORICAL = ["origin", "destination"]


def peak_rss_bytes():
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True)
    parser.add_argument("--current", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    result = {"tool": "nannyml", "seconds": {}, "statistics": {}, "cbpe": {}}
    start = time.perf_counter()
    import nannyml as nml

    result["version"] = nml.__version__
    result["seconds"]["import"] = time.perf_counter() - start

    start = time.perf_counter()
    reference = pd.read_parquet(args.reference)
    current = pd.read_parquet(args.current).drop(columns=["label"])
    result["seconds"]["load"] = time.perf_counter() - start
    result["rows"] = {"reference": len(reference), "current": len(current)}

    start = time.perf_counter()
    univariate = nml.UnivariateDriftCalculator(
        column_names=FEATURES,
        treat_as_categorical=CATEGORICAL,
        continuous_methods=["kolmogorov_smirnov", "jensen_shannon", "wasserstein", "hellinger"],
        categorical_methods=["chi2", "jensen_shannon", "hellinger"],
        chunk_number=1,
    )
    univariate.fit(reference)
    drift = univariate.calculate(current).filter(period="analysis").to_df()
    result["seconds"]["univariate"] = time.perf_counter() - start
    for (column, method, field) in drift.columns:
        if column in FEATURES and field == "value":
            result["statistics"].setdefault(column, {})[method] = float(drift[(column, method, field)].iloc[0])

    start = time.perf_counter()
    cbpe = nml.CBPE(
        y_pred_proba="score",
        y_pred="y_pred",
        y_true="label",
        metrics=["roc_auc", "accuracy", "precision", "recall", "f1"],
        chunk_number=1,
        problem_type="classification_binary",
    )
    cbpe.fit(reference)
    estimated = cbpe.estimate(current).filter(period="analysis").to_df()
    result["seconds"]["cbpe"] = time.perf_counter() - start
    for metric in ["roc_auc", "accuracy", "precision", "recall", "f1"]:
        result["cbpe"][metric] = float(estimated[(metric, "value")].iloc[0])
    result["seconds"]["compute"] = result["seconds"]["univariate"] + result["seconds"]["cbpe"]
    result["peak_rss_bytes"] = peak_rss_bytes()
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(json.dumps(result["seconds"]), file=sys.stderr)


if __name__ == "__main__":
    main()
