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

import dataclasses
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from components.options import require


@dataclasses.dataclass(frozen=True)
class GateThresholds:
    """The margins of rules (a) to (c). They are the PromotionGate's Parameters, one per field, and
    runtime parameters on Kubeflow / Vertex, so they are checked again when the gate runs."""

    majority_margin: float = 0.02
    chance_margin: float = 0.05
    max_regression: float = 0.01

    def __post_init__(self):
        for name, value in dataclasses.asdict(self).items():
            require(0.0 <= value <= 1.0, "{%s} {value} must be between 0 and 1." % name, value=value)

    def parameters(self) -> Dict[str, float]:
        """The PromotionGate component's Parameters."""
        return dataclasses.asdict(self)


def recall_by_class(matrix: Mapping[Tuple[int, int], float]) -> Dict[int, float]:
    """Recall of each actual class that has examples, from (actual, predicted) counts."""
    totals: Dict[int, float] = {}
    for (actual, _), n in matrix.items():
        totals[actual] = totals.get(actual, 0.0) + n
    return {actual: matrix.get((actual, actual), 0.0) / n for actual, n in totals.items() if n}


def metrics_from_confusion(matrix: Mapping[Tuple[int, int], float], class_names: Sequence[str]) -> Dict:
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
    return {
        "accuracy": correct / total if total else 0.0,
        "balanced_accuracy": sum(recall.values()) / len(recall) if recall else 0.0,
        "per_class_recall": recall,
        "per_class_precision": precision,
        "example_count": total,
    }


def decide(
    candidate: Mapping[str, float],
    baseline: Optional[Mapping[str, float]],
    majority_fraction: float,
    num_classes: int,
    thresholds: GateThresholds = GateThresholds(),
    judged: Optional[Mapping[str, float]] = None,
) -> Tuple[bool, List[str]]:
    """(blessed, reasons): one sentence per rule, saying whether and by how much it holds.

    `judged` (default: `candidate`) are the metrics rules (a) and (b) judge, with
    `majority_fraction` measured on the same images: the eval split without its images that are
    also in train. Rule (c) compares `candidate` and `baseline`, both on the whole eval split.
    """
    reasons, passed = [], []
    judged = judged or candidate
    accuracy, balanced = judged["accuracy"], judged["balanced_accuracy"]
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
            drop = baseline[key] - candidate[key]
            ok = drop <= thresholds.max_regression
            passed.append(ok)
            reasons.append(
                f"{label} {candidate[key]:.3f} against the last blessed model's {baseline[key]:.3f}: "
                + (f"within the {thresholds.max_regression:g} tolerance" if ok else f"drops by {drop:.3f}, more than the {thresholds.max_regression:g} tolerance")
            )
    return all(passed), reasons


def decision_record(
    confusion: Mapping[Tuple[int, int], float],
    baseline: Optional[Mapping],
    class_names: Sequence[str],
    majority_class: str,
    majority_fraction: float,
    thresholds: GateThresholds = GateThresholds(),
    leak_free: Optional[Mapping] = None,
) -> Dict:
    """The decision on a candidate, as decision.json holds it: whether it is blessed and why, the
    candidate's metrics (from its eval confusion matrix), the baseline model's, and the matrix.

    `leak_free` ({confusion, majority_class, majority_fraction, excluded}: the eval split without
    the images whose pixels are also in train) makes rules (a) and (b) judge those images only.
    """
    candidate = metrics_from_confusion(confusion, class_names)
    judged, leak_record, reasons = None, None, []
    if leak_free:
        judged = metrics_from_confusion(leak_free["confusion"], class_names)
        majority_class, majority_fraction = leak_free["majority_class"], leak_free["majority_fraction"]
        leak_record = {**judged, "excluded": leak_free["excluded"], "majority_class": majority_class,
                       "majority_fraction": majority_fraction}  # fmt: skip
        reasons.append(
            f"judged on the {judged['example_count']:g} eval images not also in train: the "
            f"{len(leak_free['excluded'])} that {'is' if len(leak_free['excluded']) == 1 else 'are'} would overstate accuracy"
        )
    blessed, rule_reasons = decide(candidate, baseline, majority_fraction, len(class_names), thresholds, judged)
    return {
        "blessed": blessed,
        "reasons": reasons + rule_reasons,
        "leak_free": leak_record,
        "candidate": candidate,
        "baseline_model": baseline,
        "majority_baseline": {"class": majority_class, "accuracy": majority_fraction},
        "chance": 1.0 / len(class_names),
        # rows: actual class, columns: predicted class, in class-index order
        "confusion_matrix": [
            [confusion.get((actual, predicted), 0.0) for predicted in range(len(class_names))]
            for actual in range(len(class_names))
        ],
        "thresholds": dataclasses.asdict(thresholds),
    }
