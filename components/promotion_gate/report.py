"""The evaluation section of the run report: metrics side by side, confusion matrix, the decision."""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

from components.contracts.evaluation import DecisionRecord, GateMetrics
from components.reporting import html


def _number(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _value(metrics: Optional[GateMetrics], key: str) -> str:
    return _number(None if metrics is None else getattr(metrics, key))


def _of_class(values: Mapping[str, float], name: str) -> str:
    return _number(values.get(name))


def evaluation_section(decision: DecisionRecord, class_names: Sequence[str]) -> str:
    """`decision` is the PromotionGate's record (decision.json)."""
    candidate, baseline, majority = decision.candidate, decision.baseline_model, decision.majority_baseline
    verdict = html.verdict_box(
        html.GOOD if decision.blessed else html.BAD,
        [("Blessed: " if decision.blessed else "Not blessed: ") + "every rule below must hold."]
        + [reason[0].upper() + reason[1:] + "." for reason in decision.reasons],
    )
    leak_free = decision.leak_free
    headers = ["metric", "candidate", "last blessed model", f"always '{majority.class_name}'"]
    rows = [
        ["accuracy", _value(candidate, "accuracy"), _value(baseline, "accuracy"), f"{majority.accuracy:.3f}"],
        [
            "balanced accuracy",
            _value(candidate, "balanced_accuracy"),
            _value(baseline, "balanced_accuracy"),
            f"{1 / len(candidate.per_class_recall):.3f}" if candidate.per_class_recall else "n/a",
        ],
    ]
    if leak_free:  # the figures the gate judged: without the eval images that are also in train
        headers.insert(2, f"candidate without {len(leak_free.excluded)} leaked images")
        rows[0].insert(2, _value(leak_free, "accuracy"))
        rows[1].insert(2, _value(leak_free, "balanced_accuracy"))
    side_by_side = html.table(headers, rows)
    per_class = html.table(
        ["class", "recall", "precision"],
        [
            [name, _of_class(candidate.per_class_recall, name), _of_class(candidate.per_class_precision, name)]
            for name in class_names
        ],
    )
    matrix = html.heatmap(
        "Confusion matrix (eval split)", class_names, decision.confusion_matrix, "actual class", "predicted class"
    )
    return html.section("Evaluation and promotion", verdict, side_by_side, f'<div class="charts">{matrix}{per_class}</div>')
