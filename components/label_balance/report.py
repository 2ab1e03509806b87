"""The data report: label balance, image statistics and anomalies as one self-contained HTML page."""
from __future__ import annotations

from typing import Callable, List, Optional

from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2

from components import features
from components.contracts.balance import BalanceReport, ImageSummary, SizeRange
from components.contracts.ingestion import LABEL_ISSUE_REASON, IngestionAccount
from components.contracts.quality import QualityRecord
from components.data_quality.report import quality_section
from components.label_balance.balance import percent
from components.statistics import feature_statistics
from components.label_balance.gallery import gallery_html
from components.reporting import html

ReadImage = Callable[[Optional[str]], Optional[bytes]]  # a path relative to the balance artifact -> JPEG

# The label-balance severity -> the tone of its verdict box.
SEVERITY_TONES = {"none": html.GOOD, "moderate": html.WARNING, "severe": html.BAD}


def image_summary(statistics: statistics_pb2.DatasetFeatureStatisticsList) -> ImageSummary:
    """Image formats (counts) and pixel sizes (min, mean, max) from TFDV's statistics of one split."""
    image_format = feature_statistics(statistics, features.IMAGE_FORMAT_KEY)
    formats = {v.value: int(v.frequency) for v in image_format.string_stats.top_values} if image_format is not None else {}

    def size(key: str) -> Optional[SizeRange]:
        feature = feature_statistics(statistics, key)
        if feature is None or not feature.HasField("num_stats"):
            return None
        stats = feature.num_stats
        return SizeRange(min=stats.min, mean=stats.mean, max=stats.max, median=stats.median)

    return ImageSummary(formats=formats, width=size(features.IMAGE_WIDTH_KEY), height=size(features.IMAGE_HEIGHT_KEY))


def anomaly_lines(anomalies: anomalies_pb2.Anomalies) -> List[str]:
    """One line per anomaly ExampleValidator found: feature, then TFDV's own description."""
    return [
        f"{name}: {info.short_description or info.description}"
        for name, info in sorted(anomalies.anomaly_info.items())
    ] + ([f"dataset: {anomalies.dataset_anomaly_info.description}"] if anomalies.HasField("dataset_anomaly_info") else [])


def _distribution_charts(report: BalanceReport) -> str:
    charts = []
    for split, summary in report.splits.items():
        names = report.class_names
        counts = [summary.class_counts[n] for n in names]
        shown = [f"{c} ({percent(summary.class_fractions[n])})" for n, c in zip(names, counts)]
        charts.append(
            html.bar_chart(f"{split}: {summary.total} images", names, counts, shown, highlight=summary.majority_class)
        )
    return f'<div class="charts">{"".join(charts)}</div>'


def _numbers(report: BalanceReport) -> str:
    splits = report.splits
    weights = report.class_weights or {}
    headers = ["class"] + [f"{s} images" for s in splits] + [f"{s} share" for s in splits]
    if weights:
        headers.append("balanced class weight")
    rows = []
    for name in report.class_names:
        row = [name] + [splits[s].class_counts[name] for s in splits]
        row += [percent(splits[s].class_fractions[name]) for s in splits]
        if weights:
            row.append(f"{weights[name]:.3f}")
        rows.append(row)
    per_split = html.table(
        ["split", "images", "majority class", "majority share", "imbalance ratio", "normalised entropy", "missing classes"],
        [
            [
                split,
                s.total,
                s.majority_class,
                percent(s.majority_fraction),
                "n/a" if s.imbalance_ratio is None else f"{s.imbalance_ratio:.1f}x",
                f"{s.normalized_entropy:.3f}",
                ", ".join(s.missing_classes) or "none",
            ]
            for split, s in splits.items()
        ],
    )
    distance = report.train_eval_distance
    note = (
        f"<p>Train/eval distance (largest difference of a class's share, L-infinity): "
        f"{'n/a' if distance is None else f'{distance:.3f}'}.</p>"
    )
    return per_split + note + html.table(headers, rows)


def _images(report: BalanceReport) -> str:
    rows = []
    for split, summary in report.images.items():
        formats = ", ".join(f"{fmt} {count}" for fmt, count in sorted(summary.formats.items())) or "n/a"
        sizes = ["n/a" if d is None else f"{d.min:g} / {d.mean:.1f} / {d.max:g}" for d in (summary.width, summary.height)]
        rows.append([split, formats, *sizes])
    return html.table(["split", "formats (images)", "width min / mean / max", "height min / mean / max"], rows)


def _anomalies(report: BalanceReport) -> str:
    anomalies = report.anomalies
    if anomalies is None:
        return "<p>ExampleValidator's anomalies were not available to this step.</p>"
    parts = []
    for split, lines in anomalies.items():
        if lines:
            items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
            parts.append(f"<h3>{html.escape(split)}</h3><ul>{items}</ul>")
        else:
            parts.append(f"<h3>{html.escape(split)}</h3><p>No anomalies: the data matches the schema.</p>")
    return "".join(parts)


_MAX_ROWS = 200  # a page stays readable; ingestion.json has every file


def _listing(headers: List[str], rows: List[List[str]], what: str) -> str:
    shown = html.table(headers, rows[:_MAX_ROWS], text=True)
    if len(rows) > _MAX_ROWS:
        shown += f"<p>... and {len(rows) - _MAX_ROWS} more {what}: every one is in ingestion.json.</p>"
    return shown


def ingestion_html(account: IngestionAccount) -> str:
    """Every file ExampleGen saw: counts, then each rejected file with its reason, then conversions."""
    rejected, converted = account.rejected, account.converted
    mislabelled = [d for d in account.dropped if d.reason.startswith(LABEL_ISSUE_REASON)]
    dropped = [d for d in account.dropped if not d.reason.startswith(LABEL_ISSUE_REASON)]
    parts = [
        f"<p>{account.files_seen} files seen: {account.ingested} ingested, {len(rejected)} rejected "
        f"({percent(account.rejected_fraction)}; the run stops above "
        f"{percent(account.max_rejected_fraction)}, --max-rejected-fraction)"
        + (f", {len(dropped)} dropped as exact duplicates" if dropped else "")
        + (f", {len(mislabelled)} dropped as label issues" if mislabelled else "")
        + ".</p>"
    ]
    if rejected:
        parts.append("<h3>Rejected files</h3>")
        parts.append(_listing(["file", "reason"], [[r.path, r.reason] for r in rejected], "rejected files"))
    if dropped:
        parts.append(f"<h3>Dropped as exact duplicates ({len(dropped)}, --drop-duplicates)</h3>")
        parts.append(_listing(["file", "reason"], [[d.path, d.reason] for d in dropped], "dropped files"))
    if mislabelled:
        parts.append(f"<h3>Dropped as label issues ({len(mislabelled)}, --drop-label-issues)</h3>")
        parts.append(_listing(["file", "reason"], [[d.path, d.reason] for d in mislabelled], "dropped files"))
    if converted:
        parts.append("<h3>Ingested with a conversion</h3>")
        parts.append(_listing(["file", "what decoding does"], [[c.path, c.note] for c in converted], "notes"))
    return "".join(parts)


def data_sections(
    report: BalanceReport,
    read: Optional[ReadImage] = None,
    quality: Optional[QualityRecord] = None,
    read_quality: Optional[ReadImage] = None,
    ingestion: Optional[IngestionAccount] = None,
) -> List[str]:
    """The data report's sections, also used in the run report. `read` gives the gallery's
    thumbnails (paths relative to the balance artifact); without it the gallery is left out.
    `quality` is the DataQuality step's record and `read_quality` its thumbnails; `ingestion`
    the account to show when it is not the report's own (with --drop-label-issues, the run
    report shows the account after the drop)."""
    ingestion, gallery = ingestion or report.ingestion, report.gallery
    return [
        html.section("Label balance: verdict", html.verdict_box(SEVERITY_TONES[report.severity], report.findings)),
        *([quality_section(quality, read_quality or (lambda name: None))] if quality else []),
        *([html.section("Ingestion: every file", ingestion_html(ingestion))] if ingestion else []),
        html.section("Class distribution", _distribution_charts(report)),
        *([html.section("Class gallery", gallery_html(gallery, read))] if gallery and read else []),
        html.section("Numbers", _numbers(report)),
        html.section("Images (TFDV statistics)", _images(report)),
        html.section("Anomalies (ExampleValidator against the schema)", _anomalies(report)),
    ]


def render_data_report(report: BalanceReport, subtitle: str, read: Optional[ReadImage] = None, **quality) -> str:
    """The data report as a complete HTML page; `quality` as `data_sections` takes it."""
    return html.page("Data report", subtitle, data_sections(report, read, **quality))
