"""Evidently's side of `bin/kiln-bench drift --vs evidently` (kiln.bench.DriftPeersBenchmark runs it).

    $(bin/kiln-python-env evidently)/bin/python python/evidently/bench_drift.py \
        --reference REF.parquet --current CUR.parquet --out RESULT.json

First Evidently 0.7.23's data drift preset with its defaults (timed: "compute"; above 1,000 rows it
picks the normed Wasserstein distance for numeric columns and the Jensen-Shannon distance for
categorical ones), then, for the agreement with Kiln, the preset again with each other method Kiln
shares (KS and chi-squared p-values, PSI, Hellinger, Jensen-Shannon on numeric columns), timed apart
("extra"). RESULT.json is rewritten after every run, so that a run stopped by the benchmark's bounds
keeps what finished. Every row is used: no sampling.
"""
import argparse
import json
import resource
import sys
import time

import pandas as pd

NUMERIC = ["delay", "distance"]
CATEGORICAL = ["origin", "destination"]
EXTRA = [
    {"num_method": "ks", "cat_method": "chisquare"},
    {"method": "psi"},
    {"method": "hellinger"},
    {"num_method": "jensenshannon", "cat_method": "jensenshannon"},
]


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def write(result, out):
    result["peak_rss_bytes"] = peak_rss_bytes()
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


def run_preset(preset_args, reference, current, result):
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    report = Report([DataDriftPreset(**preset_args)])
    snapshot = report.run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config.get("type", "").endswith("ValueDrift"):
            result["statistics"].setdefault(config["column"], {})[config["method"]] = float(metric["value"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reference", required=True)
    parser.add_argument("--current", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--no-extra", action="store_true", help="only the default preset")
    args = parser.parse_args()
    result = {"tool": "evidently", "seconds": {}, "statistics": {}}
    start = time.perf_counter()
    import evidently

    result["version"] = evidently.__version__ if hasattr(evidently, "__version__") else "0.7.23"
    result["seconds"]["import"] = time.perf_counter() - start

    start = time.perf_counter()
    columns = NUMERIC + CATEGORICAL
    reference = pd.read_parquet(args.reference, columns=columns)
    current = pd.read_parquet(args.current, columns=columns)
    result["seconds"]["load"] = time.perf_counter() - start
    result["rows"] = {"reference": len(reference), "current": len(current)}

    start = time.perf_counter()
    run_preset({}, reference, current, result)
    result["seconds"]["compute"] = time.perf_counter() - start
    write(result, args.out)
    print(json.dumps(result["seconds"]), file=sys.stderr)
    if args.no_extra:
        return
    for preset_args in EXTRA:
        start = time.perf_counter()
        run_preset(preset_args, reference, current, result)
        name = ",".join(f"{k}={v}" for k, v in preset_args.items())
        result["seconds"]["extra " + name] = time.perf_counter() - start
        write(result, args.out)
        print(json.dumps(result["seconds"]), file=sys.stderr)


if __name__ == "__main__":
    main()
