"""The report's "Mistakes" section: pictures first (top losses with heatmaps, confused pairs),
then the curves and tables that say how far to trust a prediction."""
from __future__ import annotations

from typing import Callable, Dict, List, Optional

from components.contracts.evaluation import ErrorAnalysisRecord
from components.reporting import html
from components.reporting.images import img

ReadImage = Callable[[str], Optional[bytes]]  # a path relative to the analysis artifact -> JPEG bytes


def _percent(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _top_losses(errors: ErrorAnalysisRecord, read: ReadImage) -> str:
    cards = []
    for rank, item in enumerate(errors.top_losses, 1):
        thumb = img(read(item.thumbnail), f"eval image {item.path}", item.path)
        heat = img(read(item.heatmap), f"where the model looks in {item.path}", "Grad-CAM for the predicted class")
        verdict = "right" if item.actual == item.predicted else "wrong"
        cards.append(
            f'<figure class="top-loss"><div class="pair">{thumb}{heat}</div><figcaption>'
            f"#{rank} <b>{html.escape(item.actual)}</b> \u2192 <b>{html.escape(item.predicted)}</b> "
            f"({_percent(item.confidence)}, {verdict}); loss {item.loss:.2f}<br>{html.escape(item.path)}"
            "</figcaption></figure>"
        )
    if not cards:
        return ""
    return (
        "<h3>Top losses</h3><p>The eval images the model was most wrong about (highest cross-entropy), "
        "each as it is on disk and, beside it, as the model saw it with a Grad-CAM heatmap for the class it "
        "predicted: red is where that answer came from. A heatmap on the background or the border, not the "
        "object, means the model learnt a shortcut; several top losses that look like the predicted class "
        "may be mislabelled.</p>"
        f'<div class="gallery">{"".join(cards)}</div>'
    )


def _most_confused(errors: ErrorAnalysisRecord, read: ReadImage) -> str:
    rows = []
    for pair in errors.most_confused:
        pictures = "".join(
            img(read(example.thumbnail), example.path, f"{example.path} ({_percent(example.confidence)})")
            for example in pair.examples
        )
        rows.append(
            f"<tr><td>{html.escape(pair.actual)}</td><td>{html.escape(pair.predicted)}</td>"
            f'<td>{pair.count}</td><td><div class="pair">{pictures}</div></td></tr>'
        )
    if not rows:
        return "<h3>Most confused pairs</h3><p>No eval image was misclassified.</p>"
    return (
        "<h3>Most confused pairs</h3><p>Which class was taken for which, most often first, with the "
        "highest-loss images of each pair.</p>"
        '<table class="text"><thead><tr><th>actual</th><th>predicted</th><th>images</th><th>examples</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _pr_curves(errors: ErrorAnalysisRecord) -> str:
    precision = errors.average_precision
    order = sorted(precision, key=lambda name: (precision[name] is None, precision[name] or 0.0, name))
    charts = [
        html.line_chart(
            f"{html.short(name, 18)}: AP {'n/a' if precision[name] is None else f'{precision[name]:.2f}'}",
            [[(x, y) for x, y in errors.pr_curves[name]]],
            "recall",
            "precision",
        )
        for name in order
    ]
    mean = errors.mean_average_precision
    return (
        "<h3>Precision-recall per class</h3><p>One class against the rest, by the probability the model gives "
        "that class; worst average precision (AP, the area under the curve as scikit-learn computes it) first. "
        f"Mean AP {'n/a' if mean is None else f'{mean:.3f}'}.</p>"
        f'<div class="charts">{"".join(charts)}</div>'
    )


def _thresholds(errors: ErrorAnalysisRecord, class_names: List[str]) -> str:
    rows = errors.thresholds
    if not rows:
        return ""
    overall = html.table(
        ["confidence at least", "images answered", "accuracy of those"],
        [[f"{r['threshold']:.1f}", _percent(r["answered"]), _percent(r["accuracy_when_answered"])] for r in rows],
    )

    def cell(values: Dict) -> str:
        return f"{_percent(values['precision'])} / {_percent(values['recall'])}"

    per_class = html.table(
        ["class"] + [f"\u2265 {r['threshold']:.1f}" for r in rows],
        [[name] + [cell(r["per_class"][name]) for r in rows] for name in class_names],
    )
    return (
        "<h3>Confidence thresholds</h3><p>If the model answers only when its top probability reaches a "
        "threshold (and leaves the rest to a person), how many images it answers and how often it is right "
        "(TFMA's confusion matrices at thresholds 0.1 to 0.9, as in the Evaluator's result).</p>"
        f"{overall}<details><summary>Precision / recall per class at each threshold</summary>{per_class}</details>"
    )


def _calibration(errors: ErrorAnalysisRecord) -> str:
    bins = [b for b in errors.calibration["bins"] if b["images"]]
    ece = errors.expected_calibration_error
    if not bins or ece is None:
        return ""
    points = [(b["confidence"], b["accuracy"]) for b in bins]
    chart = html.line_chart(
        "Reliability", [points], "confidence", "accuracy", width=240, height=220, colours=("#bf3989",), diagonal=True, markers=True
    )
    confident = sum(b["images"] * (b["confidence"] - b["accuracy"]) for b in bins)
    direction = "over-confident (it is right less often than it says)" if confident > 0 else "under-confident"
    table = html.table(
        ["confidence", "images", "mean confidence", "accuracy"],
        [[f"{b['low']:.1f}\u2013{b['high']:.1f}", b["images"], f"{b['confidence']:.2f}", f"{b['accuracy']:.2f}"] for b in bins],
    )
    return (
        "<h3>Calibration</h3><p>Does a 90% answer come true 90% of the time? Each point is one confidence bin: "
        "on the dashed line the probabilities mean what they say. Expected calibration error (the gap averaged "
        f"over the bins, weighted by their images): <b>{ece:.3f}</b>; on the whole the model is {direction}.</p>"
        f'<div class="charts">{chart}{table}</div>'
    )


def mistakes_section(errors: ErrorAnalysisRecord, read: ReadImage) -> str:
    """`errors` is the ErrorAnalysis step's record (error_analysis.json); `read` gives its JPEGs."""
    wrong, total = errors.mistakes, errors.images
    intro = f"<p>{wrong} of {total} eval images were misclassified ({_percent(wrong / total if total else None)}).</p>"
    return html.section(
        "Mistakes",
        intro,
        _top_losses(errors, read),
        _most_confused(errors, read),
        _pr_curves(errors),
        _thresholds(errors, errors.class_names),
        _calibration(errors),
    )
