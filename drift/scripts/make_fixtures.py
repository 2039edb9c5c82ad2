#!/usr/bin/python3
"""Reference values for kiln-drift's correctness tests, computed with scipy and numpy.

Run with Debian's python (apt-get install -y python3-scipy):
    /usr/bin/python3 drift/scripts/make_fixtures.py drift/src/test/resources/kiln/drift/fixtures

Writes small CSV data sets and, per case, a JSON file of expected statistics. Kiln's definitions that
scipy does not fix (PSI, its bins and epsilon; Hellinger; the chi-squared table) are implemented here
independently from the documentation in Distances, NumericComparison and CategoricalComparison.
"""
import csv
import json
import math
import os
import sys

import numpy as np
import scipy
from scipy import stats
from scipy.spatial.distance import jensenshannon

PSI_EPSILON = 1e-4


def quantile_bin_shares(ref, cur, bins):
    """Edges: the smallest reference value whose cumulative count reaches k/bins of the total."""
    ref = np.sort(np.asarray(ref, dtype=float))
    values, counts = np.unique(ref, return_counts=True)
    cum = np.cumsum(counts)
    n = len(ref)
    edges = []
    for k in range(1, bins):
        idx = next(i for i in range(len(values)) if cum[i] * bins >= k * n)
        e = values[idx]
        if not edges or edges[-1] < e:
            edges.append(e)
    def shares(data):
        data = np.asarray(data, dtype=float)
        out, prev = [], 0
        for e in edges + [math.inf]:
            at = int(np.sum(data <= e))
            out.append((at - prev) / len(data))
            prev = at
        return np.array(out)
    return shares(ref), shares(cur)


def psi(r, c):
    r = np.maximum(r, PSI_EPSILON)
    c = np.maximum(c, PSI_EPSILON)
    return float(np.sum((c - r) * np.log(c / r)))


def hellinger(p, q):
    return float(np.sqrt(0.5 * np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)))


def numeric_expected(ref, cur, bins=10):
    ks = stats.ks_2samp(ref, cur)  # method='auto': exact when both samples have at most 10,000 values
    r, c = quantile_bin_shares(ref, cur, bins)
    lo, hi = min(ref), max(ref)
    cur_a = np.asarray(cur, dtype=float)
    return {
        "n_reference": len(ref), "n_current": len(cur),
        "ks_statistic": float(ks.statistic), "ks_p_value": float(ks.pvalue),
        "wasserstein": float(stats.wasserstein_distance(ref, cur)),
        "wasserstein_normalised": float(stats.wasserstein_distance(ref, cur) / np.std(ref)),
        "psi": psi(r, c),
        "jensen_shannon": float(jensenshannon(r, c, base=2)),
        "hellinger": hellinger(r, c),
        "out_of_range_rate": float(np.mean((cur_a < lo) | (cur_a > hi))),
        "scipy": scipy.__version__,
    }


def categorical_expected(ref, cur, top):
    values, counts = np.unique(ref, return_counts=True)
    order = sorted(range(len(values)), key=lambda i: (-counts[i], values[i]))
    kept = [values[i] for i in order[:top]]
    rc = [sum(1 for v in ref if v == k) for k in kept] + [sum(1 for v in ref if v not in kept)]
    cc = [sum(1 for v in cur if v == k) for k in kept] + [sum(1 for v in cur if v not in kept)]
    table = np.array([rc, cc], dtype=float)
    table = table[:, table.sum(axis=0) > 0]
    chi2, p, dof, _ = stats.chi2_contingency(table, correction=False)
    rs = np.array(rc, dtype=float) / len(ref)
    cs = np.array(cc, dtype=float) / len(cur)
    return {
        "top": top,
        "chi_squared": float(chi2), "chi_squared_p_value": float(p), "chi_squared_dof": int(dof),
        "psi": psi(rs, cs),
        "jensen_shannon": float(jensenshannon(rs, cs, base=2)),
        "hellinger": hellinger(rs, cs),
        "new_categories": sorted(set(cur) - set(ref)),
        "missing_categories": sorted(set(ref) - set(cur)),
    }


def write_csv(path, rows, header):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def formula_data(n, multiplier, modulus, fold, shift):
    """Integer data that Java and Python build identically (see DriftStatisticsTest): ((i m) % p) % f + s."""
    return [float((i * multiplier) % modulus % fold + shift) for i in range(n)]


def main(out):
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20261122)
    expected = {}

    # small samples with ties, unequal sizes: exact p-value (lattice paths)
    ref = np.round(rng.normal(50, 10, 300), 1)
    cur = np.round(rng.normal(53, 12, 250), 1)
    write_csv(os.path.join(out, "numeric-unequal.csv"),
              [("reference", repr(float(v))) for v in ref] + [("current", repr(float(v))) for v in cur], ["side", "x"])
    expected["numeric-unequal"] = numeric_expected(list(ref), list(cur))

    # equal sizes (scipy's other exact formula) and integer values with many ties
    ref = rng.integers(0, 40, 200).astype(float)
    cur = rng.integers(3, 45, 200).astype(float)
    write_csv(os.path.join(out, "numeric-equal.csv"),
              [("reference", repr(float(v))) for v in ref] + [("current", repr(float(v))) for v in cur], ["side", "x"])
    expected["numeric-equal"] = numeric_expected(list(ref), list(cur))

    # larger than the exact limit (asymptotic p-value), few distinct values (exact counts)
    generator = {"reference": [15000, 7919, 1009, 41, 0], "current": [12000, 7907, 1013, 43, 0]}
    e = numeric_expected(formula_data(*generator["reference"]), formula_data(*generator["current"]))
    e["generator"] = generator
    expected["numeric-large"] = e
    generator = {"reference": [15000, 7919, 1009, 41, 0], "current": [12000, 7933, 1021, 41, 0]}
    e = numeric_expected(formula_data(*generator["reference"]), formula_data(*generator["current"]))
    e["generator"] = generator
    expected["numeric-large-similar"] = e

    # many distinct values: Kiln sketches them (KLL); generated by formula, not stored
    generator = {"reference": [50000, 7919, 100003, 100003, 0], "current": [40000, 104729, 100019, 100019, 2000]}
    e = numeric_expected(formula_data(*generator["reference"]), formula_data(*generator["current"]))
    e["generator"] = generator
    expected["numeric-sketched"] = e

    # categories: new and missing ones, and more categories than kept
    letters = [chr(ord("a") + i) for i in range(12)]
    ref = list(rng.choice(letters[:10], 400, p=np.linspace(3, 1, 10) / np.linspace(3, 1, 10).sum()))
    cur = list(rng.choice(letters[1:12], 350))
    write_csv(os.path.join(out, "categorical.csv"),
              [("reference", v) for v in ref] + [("current", v) for v in cur], ["side", "c"])
    expected["categorical-all"] = categorical_expected(ref, cur, 50)
    expected["categorical-top5"] = categorical_expected(ref, cur, 5)

    # categorical, sketched: 400 categories, more than the test's exactDistinctLimit (100), so Kiln moves
    # to the frequent-items sketch; far fewer than the 6,144 (0.75 x map size 8,192) that the sketch holds
    # before its first purge, so its counts are exact and so are the statistics on the top 50 + "(other)"
    names = ["k%03d" % i for i in range(420)]
    weights = 1.0 / np.arange(1, 401) ** 0.8
    ref = list(rng.choice(names[:400], 6000, p=weights / weights.sum()))
    # the current data: mostly the same distribution, a little mass on new categories (a p-value that
    # is not 0, so that comparing it means something)
    mixed = np.concatenate([0.985 * weights / weights.sum(), np.full(20, 0.015 / 20)])
    cur = list(rng.choice(names, 5000, p=mixed))
    write_csv(os.path.join(out, "categorical-sketched.csv"),
              [("reference", v) for v in ref] + [("current", v) for v in cur], ["side", "c"])
    e = categorical_expected(ref, cur, 50)
    e["exact_distinct_limit"] = 100
    e["distinct_reference"] = len(set(ref))
    e["distinct_current"] = len(set(cur))
    expected["categorical-sketched"] = e

    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "drift/src/test/resources/kiln/drift/fixtures")
