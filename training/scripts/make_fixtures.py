#!/usr/bin/python3
"""Reference values for kiln-training's AUC-ROC tests, computed with scipy.

Run with Debian's python (apt-get install -y python3-scipy):
    /usr/bin/python3 training/scripts/make_fixtures.py training/src/test/resources/kiln/training/fixtures

Writes a small scored data set with many tied scores in three groups (auc-ties.csv: group, label, score)
and scipy's exact AUC-ROC of each group and of all rows (auc-expected.json). The exact AUC is the
Mann-Whitney U of the positives' scores against the negatives', ties counted as one half, divided by
the number of (positive, negative) pairs.
"""
import csv
import json
import os
import sys

import numpy as np
import scipy
from scipy import stats

# few distinct scores, as XGBoost gives on few distinct feature values: ties between classes everywhere
SCORES = [0.1, 0.25, 0.5, 0.75, 0.9]


def auc(labels, scores):
    pos = [s for y, s in zip(labels, scores) if y == 1]
    neg = [s for y, s in zip(labels, scores) if y == 0]
    return float(stats.mannwhitneyu(pos, neg).statistic / (len(pos) * len(neg)))


def main(out):
    rng = np.random.default_rng(20261122)
    rows = []
    # group -> (rows, how strongly the label follows the score)
    for group, n, strength in (("A", 40, 0.8), ("B", 30, 0.3), ("C", 20, 0.0)):
        for _ in range(n):
            score = float(rng.choice(SCORES[1:4])) if group == "C" else float(rng.choice(SCORES))
            chance = 0.5 + strength * (score - 0.5)
            rows.append((group, int(rng.random() < chance), score))
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "auc-ties.csv"), "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["group", "label", "score"])
        writer.writerows(rows)
    expected = {
        "scipy": scipy.__version__,
        "overall": auc([r[1] for r in rows], [r[2] for r in rows]),
        "groups": {g: auc([r[1] for r in rows if r[0] == g], [r[2] for r in rows if r[0] == g])
                   for g in sorted({r[0] for r in rows})},
    }
    with open(os.path.join(out, "auc-expected.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "training/src/test/resources/kiln/training/fixtures")
