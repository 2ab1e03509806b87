"""Pure promotion logic: metrics from a confusion matrix, and a decision with its reasons in words.

A candidate is blessed only if all hold:

(a) accuracy beats the eval split's majority-class share (the accuracy of always answering the
    largest class) by `majority_margin`;
(b) balanced accuracy (recall averaged over the classes eval has) beats chance, 1 / number of
    classes, by `chance_margin`;
(c) against the last blessed model, on the same eval data, neither accuracy nor balanced accuracy
    drops by more than `max_regression` (skipped when no model has been blessed yet).
"""
from __future__ import annotations

from typing import List, Mapping, Optional, Sequence, Tuple

from components.contracts.evaluation import DecisionRecord, GateMetrics, JudgedMetrics, LeakFree, MajorityBaseline
from components.metrics import recall_by_class
from components.promotion_gate.options import GateThresholds


def metrics_from_confusion(matrix: Mapping[Tuple[int, int], float], class_names: Sequence[str]) -> GateMetrics:
    """Accuracy, balanced accuracy and per-class recall and precision from (actual, predicted) counts.

    Classes without eval examples have no recall and do not count in the balanced accuracy.
    """
    total = sum(matrix.values())
    correct = sum(n for (actual, predicted), n in matrix.items() if actual == predicted)
    recall = {class_names[index]: value for index, value in sorted(recall_by_class(matrix).items())}
    precision = {}
    for index, name in enumerate(class_names):
        predicted = sum(n for (_, p), n in matrix.items() if p == index)
        if predicted:
            precision[name] = matrix.get((index, index), 0.0) / predicted
    return GateMetrics(
        accuracy=correct / total if total else 0.0,
        balanced_accuracy=sum(recall.values()) / len(recall) if recall else 0.0,
        per_class_recall=recall,
        per_class_precision=precision,
        example_count=total,
    )


def decide(
    candidate: GateMetrics,
    baseline: Optional[GateMetrics],
    majority_fraction: float,
    num_classes: int,
    thresholds: GateThresholds = GateThresholds(),
    judged: Optional[GateMetrics] = None,
) -> Tuple[bool, List[str]]:
    """(blessed, reasons): one sentence per rule, saying whether and by how much it holds.

    `judged` (default: `candidate`) are the metrics rules (a) and (b) judge, with
    `majority_fraction` measured on the same images: the eval split without its images that are
    also in train. Rule (c) compares `candidate` and `baseline`, both on the whole eval split.
    """
    reasons, passed = [], []
    judged = judged or candidate
    accuracy, balanced = judged.accuracy, judged.balanced_accuracy
    bar = majority_fraction + thresholds.majority_margin
    ok = accuracy > bar
    passed.append(ok)
    reasons.append(
        f"accuracy {accuracy:.3f} {'beats' if ok else 'does not beat'} the majority-class baseline "
        f"{majority_fraction:.3f} + {thresholds.majority_margin:g}"
    )
    chance = 1.0 / num_classes
    ok = balanced > chance + thresholds.chance_margin
    passed.append(ok)
    reasons.append(
        f"balanced accuracy {balanced:.3f} {'beats' if ok else 'does not beat'} chance "
        f"{chance:.3f} + {thresholds.chance_margin:g}"
    )
    if baseline is None:
        reasons.append("no model has been blessed before: nothing to compare with")
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
) -> DecisionRecord:
    """The decision on a candidate, as decision.json holds it: whether it is blessed and why, the
    candidate's metrics (from its eval confusion matrix), the baseline model's, and the matrix.

    `leak_free` (the ErrorAnalysis step's count of the eval split without the images whose
    pixels are also in train) makes rules (a) and (b) judge those images only.
    """
    candidate = metrics_from_confusion(confusion, class_names)
    judged, reasons = None, []
    if leak_free:
        metrics = metrics_from_confusion({(a, p): float(n) for a, p, n in leak_free.confusion}, class_names)
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
    blessed, rule_reasons = decide(candidate, baseline, majority_fraction, len(class_names), thresholds, judged)
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
    )
