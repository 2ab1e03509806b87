"""The run report's drift section: what TFDV measured against the served model's training data."""
from __future__ import annotations

from components.contracts.drift import DriftRecord
from components.drift.compare import CLASS_FEATURE, IMAGE_FEATURES
from components.reporting import html


def drift_section(drift: DriftRecord) -> str:
    if not drift.compared:
        return html.section("Drift from the served model's data", html.verdict_box(html.GOOD, [f"Not compared: {drift.reason}."]))
    lines = [f"Compared {drift.reason}."]
    lines += [line[0].upper() + line[1:] + "." for line in drift.findings] or [
        "Nothing moved: class shares and image properties are within their thresholds."
    ]
    rows = [
        [
            "class shares" if m.feature == CLASS_FEATURE else IMAGE_FEATURES.get(m.feature, m.feature),
            m.measure, f"{m.value:.3f}", f"{m.threshold:g}", "moved" if m.drifted else "no", m.detail,
        ]  # fmt: skip
        for m in drift.measures
    ]
    table = html.table(["what", "TFDV measure", "value", "threshold", "moved", "from the served model's data to this run's"], rows)
    return html.section(
        "Drift from the served model's data", html.verdict_box(html.WARNING if drift.findings else html.GOOD, lines), table
    )
