"""The evaluation section of the run report: metrics side by side, confusion matrix, the decision."""
from __future__ import annotations

from typing import Mapping, Optional, Sequence

from components.contracts.evaluation import DecisionRecord, GateMetrics
from components.reporting import html


def _number(value: Optional[float], interval: Optional[Sequence[float]] = None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" + (f" ({interval[0]:.3f} to {interval[1]:.3f})" if interval else "")


def _value(metrics: Optional[GateMetrics], key: str) -> str:
    if metrics is None:
        return "n/a"
    return _number(getattr(metrics, key), getattr(metrics, f"{key}_interval"))


def _of_class(values: Mapping[str, float], intervals: Optional[Mapping[str, Sequence[float]]], name: str) -> str:
    return _number(values.get(name), (intervals or {}).get(name))


def _paired_table(decision: DecisionRecord) -> str:
    """Rule (c), image by image: what each model gets right that the other does not, and the test."""
    if not decision.paired:
        return ""
    rows = [
        [
            rule.metric.replace("_", " "), f"{rule.candidate:.3f}", f"{rule.baseline:.3f}", str(rule.candidate_only),
            str(rule.baseline_only), f"{rule.p_value:.3g}", rule.test, "yes" if rule.regression else "no",
        ]  # fmt: skip
        for rule in decision.paired
    ]
    headers = ["figure", "candidate", "last blessed model", "right only by the candidate", "right only by the last blessed model",
               "p-value of the drop", "test", "regression"]  # fmt: skip
    return "<h3>Against the last blessed model, on the same images</h3>" + html.table(headers, rows)


def evaluation_section(decision: DecisionRecord, class_names: Sequence[str]) -> str:
    """`decision` is the PromotionGate's record (decision.json)."""
    candidate, baseline, majority = decision.candidate, decision.baseline_model, decision.majority_baseline
    verdict = html.verdict_box(
        html.GOOD if decision.blessed else html.BAD,
        [("Blessed: " if decision.blessed else "Not blessed: ") + "every rule below must hold."]
        + [reason[0].upper() + reason[1:] + "." for reason in decision.reasons],
    )
    leak_free = decision.leak_free
    level = f"{candidate.confidence:.0%} " if candidate.confidence else ""
    headers = [f"metric ({level}interval)", "candidate", "last blessed model", f"always '{majority.class_name}'"]
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
        ["class", f"recall ({level}interval)", f"precision ({level}interval)"],
        [
            [
                name,
                _of_class(candidate.per_class_recall, candidate.per_class_recall_interval, name),
                _of_class(candidate.per_class_precision, candidate.per_class_precision_interval, name),
            ]
            for name in class_names
        ],
    )
    matrix = html.heatmap(
        "Confusion matrix (eval split)", class_names, decision.confusion_matrix, "actual class", "predicted class"
    )
    return html.section(
        "Evaluation and promotion", verdict, side_by_side, _paired_table(decision),
        f'<div class="charts">{matrix}{per_class}</div>',
    )  # fmt: skip
