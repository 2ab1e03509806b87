"""Pure promotion logic: metrics and their intervals from a confusion matrix, and a decision with
its reasons in words.

A candidate is blessed only if all hold, at the `confidence_level` (0.95) of GateThresholds:

(a) the lower bound of accuracy's interval beats the eval split's majority-class share (the
    accuracy of always answering the largest class) plus `majority_margin`;
(b) the lower bound of balanced accuracy's interval (recall averaged over the classes eval has)
    beats chance, 1 / number of classes, plus `chance_margin`;
(c) against the last blessed model, on the same eval images, neither accuracy nor balanced
    accuracy shows a regression: a drop over `max_regression` that chance explains with a p-value
    under 1 - `confidence_level` (a paired test on the images only one model gets right). Skipped
    when no model has been blessed yet.

The intervals and tests are in `intervals.py`.
"""
from __future__ import annotations

from typing import List, Mapping, Optional, Sequence, Tuple

from components.contracts.evaluation import (
    DecisionRecord, GateMetrics, JudgedMetrics, LeakFree, MajorityBaseline, PairedCounts, PairedRule,
)  # fmt: skip
from components.promotion_gate import intervals
from components.promotion_gate.options import GateThresholds

MCNEMAR = "McNemar's exact test"
WEIGHTED_SIGN_TEST = "a sign test weighting each image by 1 / its class's eval count"


def metrics_from_confusion(
    matrix: Mapping[Tuple[int, int], float], class_names: Sequence[str], confidence: float = 0.95
) -> GateMetrics:
    """Accuracy, balanced accuracy and per-class recall and precision from (actual, predicted)
    counts, each with its interval at `confidence`.

    Classes without eval examples have no recall and do not count in the balanced accuracy.
    """
    right, actual, predicted = intervals.rows_and_columns(matrix, len(class_names))
    total, correct = float(actual.sum()), float(right.sum())
    recall = {class_names[c]: right[c] / actual[c] for c in range(len(class_names)) if actual[c]}
    precision = {class_names[c]: right[c] / predicted[c] for c in range(len(class_names)) if predicted[c]}
    return GateMetrics(
        accuracy=correct / total if total else 0.0,
        balanced_accuracy=sum(recall.values()) / len(recall) if recall else 0.0,
        per_class_recall={name: float(value) for name, value in recall.items()},
        per_class_precision={name: float(value) for name, value in precision.items()},
        example_count=total,
        confidence=confidence,
        accuracy_interval=intervals.proportion_interval(correct, total, confidence),
        balanced_accuracy_interval=intervals.balanced_accuracy_interval(right, actual, confidence),
        per_class_recall_interval={
            class_names[c]: intervals.proportion_interval(right[c], actual[c], confidence)
            for c in range(len(class_names)) if actual[c]
        },  # fmt: skip
        per_class_precision_interval={
            class_names[c]: intervals.proportion_interval(right[c], predicted[c], confidence)
            for c in range(len(class_names)) if predicted[c]
        },  # fmt: skip
    )


def interval_words(value: float, interval: Optional[Sequence[float]], confidence: Optional[float]) -> str:
    """'0.682 (95% interval 0.640 to 0.722)', or the value alone without an interval."""
    if not interval:
        return f"{value:.3f}"
    return f"{value:.3f} ({confidence:.0%} interval {interval[0]:.3f} to {interval[1]:.3f})"


def _against(label: str, value: float, interval, confidence, bar: float, bar_words: str) -> Tuple[bool, str]:
    """Rules (a) and (b): the interval's lower bound (the value without one) against `bar`."""
    if not interval:
        ok = value > bar
        return ok, f"{label} {value:.3f} {'beats' if ok else 'does not beat'} {bar_words}"
    ok = interval[0] > bar
    return ok, (
        f"{label} {interval_words(value, interval, confidence)}: the lower bound {interval[0]:.3f} "
        f"{'beats' if ok else 'does not beat'} {bar_words}"
    )


def paired_rules(paired: PairedCounts, thresholds: GateThresholds = GateThresholds()) -> List[PairedRule]:
    """Rule (c) for accuracy and balanced accuracy, from the two models' answers on the same images."""
    rules = []
    for metric, test, result in (
        ("accuracy", MCNEMAR, intervals.paired_accuracy(paired.per_class)),
        ("balanced_accuracy", WEIGHTED_SIGN_TEST, intervals.paired_balanced_accuracy(paired.per_class)),
    ):
        drop = result.baseline - result.candidate
        regression = drop > thresholds.max_regression and result.p_value < 1 - thresholds.confidence_level
        rules.append(
            PairedRule(
                metric=metric, candidate=result.candidate, baseline=result.baseline,
                candidate_only=result.candidate_only, baseline_only=result.baseline_only,
                p_value=result.p_value, test=test, regression=regression,
            )  # fmt: skip
        )
    return rules


def _paired_reason(rule: PairedRule, images: int, thresholds: GateThresholds) -> str:
    label = rule.metric.replace("_", " ")
    drop, tolerance, alpha = rule.baseline - rule.candidate, thresholds.max_regression, 1 - thresholds.confidence_level
    head = (
        f"{label} {rule.candidate:.3f} against the last blessed model's {rule.baseline:.3f} on the same {images} "
        f"images ({rule.candidate_only} right only by the candidate, {rule.baseline_only} only by the last blessed "
        f"model): "
    )
    chance = f"p = {rule.p_value:.3g} ({rule.test})"
    if drop <= tolerance:
        return head + (
            f"within the {tolerance:g} tolerance; p = {rule.p_value:.3g} that chance alone makes it look at least "
            f"this much worse ({rule.test})"
        )
    if not rule.regression:
        return head + (
            f"a drop of {drop:.3f}, over the {tolerance:g} tolerance, but chance alone gives one this large: "
            f"{chance}, not under {alpha:.2g}, so not a regression the eval split shows"
        )
    return head + f"drops by {drop:.3f}, more than the {tolerance:g} tolerance, and chance does not explain it: {chance}, under {alpha:.2g}"


def decide(
    candidate: GateMetrics,
    baseline: Optional[GateMetrics],
    majority_fraction: float,
    num_classes: int,
    thresholds: GateThresholds = GateThresholds(),
    judged: Optional[GateMetrics] = None,
    paired: Optional[Sequence[PairedRule]] = None,
) -> Tuple[bool, List[str]]:
    """(blessed, reasons): one sentence per rule, saying whether and by how much it holds.

    `judged` (default: `candidate`) are the metrics rules (a) and (b) judge, with
    `majority_fraction` measured on the same images: the eval split without its images that are
    also in train. Rule (c) judges `paired` (`paired_rules`: both models image by image on the
    whole eval split) or, without it (an ErrorAnalysis from before paired counts), compares
    `candidate` and `baseline`'s figures.
    """
    reasons, passed = [], []
    judged = judged or candidate
    ok, reason = _against(
        "accuracy", judged.accuracy, judged.accuracy_interval, judged.confidence, majority_fraction + thresholds.majority_margin,
        f"the majority-class baseline {majority_fraction:.3f} + {thresholds.majority_margin:g}",
    )  # fmt: skip
    passed.append(ok)
    reasons.append(reason)
    chance = 1.0 / num_classes
    ok, reason = _against(
        "balanced accuracy", judged.balanced_accuracy, judged.balanced_accuracy_interval, judged.confidence,
        chance + thresholds.chance_margin, f"chance {chance:.3f} + {thresholds.chance_margin:g}",
    )  # fmt: skip
    passed.append(ok)
    reasons.append(reason)
    if baseline is None:
        reasons.append("no model has been blessed before: nothing to compare with")
    elif paired:
        for rule in paired:
            passed.append(not rule.regression)
            reasons.append(_paired_reason(rule, int(candidate.example_count), thresholds))
    else:
        for key, label in (("accuracy", "accuracy"), ("balanced_accuracy", "balanced accuracy")):
            now, before = getattr(candidate, key), getattr(baseline, key)
            drop = before - now
            ok = drop <= thresholds.max_regression
            passed.append(ok)
            reasons.append(
                f"{label} {now:.3f} against the last blessed model's {before:.3f}: "
                + (f"within the {thresholds.max_regression:g} tolerance" if ok else f"drops by {drop:.3f}, more than the {thresholds.max_regression:g} tolerance")
            )
    return all(passed), reasons


def decision_record(
    confusion: Mapping[Tuple[int, int], float],
    baseline: Optional[GateMetrics],
    class_names: Sequence[str],
    majority_class: str,
    majority_fraction: float,
    thresholds: GateThresholds = GateThresholds(),
    leak_free: Optional[LeakFree] = None,
    paired: Optional[PairedCounts] = None,
) -> DecisionRecord:
    """The decision on a candidate, as decision.json holds it: whether it is blessed and why, the
    candidate's metrics (from its eval confusion matrix), the baseline model's, and the matrix.

    `leak_free` (the ErrorAnalysis step's count of the eval split without the images whose
    pixels are also in train) makes rules (a) and (b) judge those images only; `paired` (its
    count of both models' answers on the same images) makes rule (c) a paired test.
    """
    confidence = thresholds.confidence_level
    candidate = metrics_from_confusion(confusion, class_names, confidence)
    judged, reasons = None, []
    if leak_free:
        metrics = metrics_from_confusion({(a, p): float(n) for a, p, n in leak_free.confusion}, class_names, confidence)
        majority_class, majority_fraction = leak_free.majority_class, leak_free.majority_fraction
        judged = JudgedMetrics(
            **metrics.to_json(), excluded=leak_free.excluded, majority_class=majority_class,
            majority_fraction=majority_fraction,
        )  # fmt: skip
        excluded = len(leak_free.excluded)
        reasons.append(
            f"judged on the {judged.example_count:g} eval images not also in train: the "
            f"{excluded} that {'is' if excluded == 1 else 'are'} would overstate accuracy"
        )
    rules = paired_rules(paired, thresholds) if paired is not None and baseline is not None else None
    blessed, rule_reasons = decide(
        candidate, baseline, majority_fraction, len(class_names), thresholds, judged, rules
    )  # fmt: skip
    return DecisionRecord(
        blessed=blessed,
        reasons=reasons + rule_reasons,
        leak_free=judged,
        candidate=candidate,
        baseline_model=baseline,
        majority_baseline=MajorityBaseline(class_name=majority_class, accuracy=majority_fraction),
        chance=1.0 / len(class_names),
        # rows: actual class, columns: predicted class, in class-index order
        confusion_matrix=[
            [confusion.get((actual, predicted), 0.0) for predicted in range(len(class_names))]
            for actual in range(len(class_names))
        ],
        thresholds=thresholds.to_json(),
        paired=rules,
    )
