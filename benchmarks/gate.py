"""How often the PromotionGate errs, on eval splits simulated image by image: the point-estimate
rules it had against the interval and paired rules it has, both through the gate's own code.

(1) A model no better than the bar (true accuracy = the majority share + --majority-margin): how
    often each rule blesses it, at eval splits of 45, 494 and 5,000 images. Target: the interval
    rule blesses it in at most 2.5% (the lower bound of a 95% interval).
(2) A model 0.08 above the bar: how often each blesses it (the price of the interval rule).
(3) A candidate as good as the last blessed model, its mistakes correlated with the baseline's
    as two models of one data set are: how often rule (c) calls it a regression. Target <= 5%.
(4) A candidate 0.05 worse: how often rule (c) catches it.

    .venv/bin/python benchmarks/gate.py            # 1,000 trials a setting, about a minute
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import common  # noqa: F401 - puts the repository on the path
from components.contracts.evaluation import PairedCounts
from components.promotion_gate.gate import decision_record, metrics_from_confusion, paired_rules
from components.promotion_gate.options import GateThresholds

CLASSES = ["common", "rare"]
MAJORITY = 0.646  # the share of the larger class: the two-class image set
SIZES = (45, 494, 5000)


def confusion(rng, n: int, accuracy: float):
    """Two classes, the larger MAJORITY of n, each recalled at `accuracy`: the overall accuracy's."""
    first = round(MAJORITY * n)
    right0, right1 = rng.binomial(first, accuracy), rng.binomial(n - first, accuracy)
    return {(0, 0): right0, (0, 1): first - right0, (1, 1): right1, (1, 0): n - first - right1}


def bless_rates(rng, n: int, accuracy: float, trials: int):
    thresholds = GateThresholds()
    bar = round(MAJORITY * n) / n + thresholds.majority_margin
    point = judged = 0
    for _ in range(trials):
        matrix = confusion(rng, n, accuracy)
        majority = round(MAJORITY * n) / n
        metrics = metrics_from_confusion(matrix, CLASSES)
        point += metrics.accuracy > majority + thresholds.majority_margin and metrics.balanced_accuracy > 0.55
        judged += decision_record(matrix, None, CLASSES, "common", majority, thresholds).blessed
    return {"accuracy": round(accuracy, 3), "bar": round(bar, 3), "point_rule": point / trials, "interval_rule": judged / trials}


def paired(rng, n: int, baseline: float, candidate: float, agreement: float = 0.8):
    """Per-class [both, only candidate, only baseline, neither]: each image's difficulty is shared
    by the two models with probability `agreement`, else drawn afresh for the candidate."""
    labels = (np.arange(n) >= round(MAJORITY * n)).astype(int)
    u = rng.random(n)
    v = np.where(rng.random(n) < agreement, u, rng.random(n))
    base_right, cand_right = u < baseline, v < candidate
    cell = np.where(cand_right, np.where(base_right, 0, 1), np.where(base_right, 2, 3))
    counts = np.zeros((2, 4), dtype=int)
    np.add.at(counts, (labels, cell), 1)
    return counts.tolist()


def regression_rates(rng, n: int, baseline: float, candidate: float, trials: int):
    thresholds = GateThresholds()
    point = judged = 0
    for _ in range(trials):
        per_class = paired(rng, n, baseline, candidate)
        rules = paired_rules(PairedCounts("/baseline", per_class), thresholds)
        point += any(rule.baseline - rule.candidate > thresholds.max_regression for rule in rules)
        judged += any(rule.regression for rule in rules)
    return {"baseline": baseline, "candidate": candidate, "point_rule": point / trials, "paired_rule": judged / trials}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=1000)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    started = time.monotonic()
    margin = GateThresholds().majority_margin

    def bar(n):  # the eval split's own majority share (a whole number of images) plus the margin
        return round(MAJORITY * n) / n + margin

    result = {
        "no_better_than_the_bar": {n: bless_rates(rng, n, bar(n), args.trials) for n in SIZES},
        "better_by_0.08": {n: bless_rates(rng, n, bar(n) + 0.08, args.trials) for n in SIZES},
        "as_good_as_the_last": {n: regression_rates(rng, n, 0.85, 0.85, args.trials) for n in SIZES},
        "worse_by_0.05": {n: regression_rates(rng, n, 0.85, 0.80, args.trials) for n in SIZES},
    }
    worst_bless = max(r["interval_rule"] for r in result["no_better_than_the_bar"].values())
    worst_false_regression = max(r["paired_rule"] for r in result["as_good_as_the_last"].values())
    common.emit(
        {
            "figures": result,
            "targets": {
                "interval_rule_blesses_a_model_at_the_bar_at_most": 0.025, "met_bless": worst_bless <= 0.025 + 0.01,
                "paired_rule_false_regressions_at_most": 0.05, "met_regression": worst_false_regression <= 0.05 + 0.01,
            },  # fmt: skip - plus one point: the Monte Carlo error of 1,000 trials
            "seconds": round(time.monotonic() - started, 1),
        },
        f"{args.trials} simulated eval splits per setting, the gate's own functions",
        sys.argv if argv is None else argv,
    )


if __name__ == "__main__":
    main()
