"""The data report's "Data quality" section: the verdict, counts, and each group side by side."""
from __future__ import annotations

from typing import Callable, Optional, Union

from components.contracts.quality import GroupImage, Outlier, QualityCounts, QualityRecord
from components.data_quality.checks import ODD_KINDS
from components.data_quality.find import SHOWN, SHOWN_LABEL_ISSUES
from components.reporting import html
from components.reporting.images import img

ReadImage = Callable[[Optional[str]], Optional[bytes]]  # a path relative to the quality artifact -> JPEG

_GROUPS = (
    ("train_eval_leaks", "In both train and eval", "Eval accuracy counts these as unseen images (the same picture or a near copy)."),
    ("conflicting_labels", "The same picture under different classes", "At most one of the labels is right (the same picture or a near copy)."),
    ("exact_duplicates", "Exact duplicates", "The same decoded pixels, whatever the file name or format."),
    ("near_duplicates", "Near duplicates", "Re-encoded, resized or slightly cropped copies, confirmed pixel by pixel."),
)
_OUTLIERS = (
    ("near_constant", "Near-constant images", "blank, black or white: luminance standard deviation"),
    ("aspect_ratio", "Extreme aspect ratios", "longer side / shorter side"),
    ("blurry", "Blurriest for their class", "sharpness (variance of the Laplacian)"),
    ("far_from_class", "Far from every image of their class", "mean cosine similarity of the embedding to its 5 closest images of its class"),
)


def _caption(image: Union[GroupImage, Outlier]) -> str:
    return f"{image.split}, {image.class_name}: {image.path}"


def _tone(counts: QualityCounts) -> str:
    if counts.leaked_eval_images or counts.conflicting_labels:
        return html.BAD
    if any(getattr(counts, k) for k in ("exact_duplicates", "near_duplicates", "label_issues", *ODD_KINDS)):
        return html.WARNING
    return html.GOOD


def _label_issues(quality: QualityRecord, picture) -> list:
    """The label check's verdict, and the "Possibly mislabelled" gallery, worst first."""
    check = quality.label_check
    if check is None:
        return []
    parts = [f"<h3>Labels</h3><p>{html.escape(check.reason[0].upper() + check.reason[1:])}.</p>"]
    issues = quality.label_issues
    if not issues:
        return parts
    estimate = check.estimated_label_errors
    parts.append(
        f"<h3>Possibly mislabelled ({len(issues)})</h3><p>Worst first. The score is the out-of-sample probability "
        "of the class the image is filed under: lower is worse. Confident learning estimates "
        f"{estimate} wrong labels; it also counts hard images that are rightly labelled, so look before you drop "
        "(--drop-label-issues).</p>"
    )
    cards = [
        f"<figure>{picture(i.path, f'{i.split}, filed as {i.class_name}, looks like {i.suggested} (score {i.score:.3f}): {i.path}')}</figure>"
        for i in issues[:SHOWN_LABEL_ISSUES]
    ]
    more = f"<p>... and {len(issues) - SHOWN_LABEL_ISSUES} more in data_quality.json.</p>" if len(issues) > SHOWN_LABEL_ISSUES else ""
    parts.append(f'<div class="gallery">{"".join(cards)}</div>{more}')
    return parts


def quality_section(quality: QualityRecord, read: ReadImage) -> str:
    """`quality` is the DataQuality step's record (data_quality.json)."""
    thumbnails = quality.thumbnails

    def picture(path: str, caption: str) -> str:
        return img(read(thumbnails.get(path)), path, path) + f"<figcaption>{html.escape(caption)}</figcaption>"

    lines = quality.findings or ["No exact or near duplicates, conflicting labels, train/eval leaks or odd images."]
    parts = [html.verdict_box(_tone(quality.counts), lines)]
    parts.append(html.table(["check", "found"], [[k.replace("_", " "), v] for k, v in quality.counts.to_json().items()]))
    for kind, title, meaning in _GROUPS:
        groups = getattr(quality, kind)
        if not groups:
            continue
        cards = []
        for group in groups[:SHOWN]:
            images = group.images
            near_copy = group.match == "near" and kind != "near_duplicates"
            cards.append(
                '<figure class="group">'
                + ("<figcaption>near copy</figcaption>" if near_copy else "")
                + "".join(f"<div>{picture(i.path, _caption(i))}</div>" for i in images[:4])
                + (f"<figcaption>and {len(images) - 4} more</figcaption>" if len(images) > 4 else "")
                + "</figure>"
            )
        more = f"<p>... and {len(groups) - SHOWN} more in data_quality.json.</p>" if len(groups) > SHOWN else ""
        parts.append(f'<h3>{html.escape(title)} ({len(groups)})</h3><p>{meaning}</p><div class="gallery">{"".join(cards)}</div>{more}')
    parts += _label_issues(quality, picture)
    for kind, title, measure in _OUTLIERS:
        found = [o for o in quality.outliers if o.kind == kind]
        if not found:
            continue
        cards = [f"<figure>{picture(o.path, _caption(o) + ' (%.3g)' % o.value)}</figure>" for o in found[:SHOWN]]
        parts.append(f'<h3>{html.escape(title)} ({len(found)})</h3><p>Value: {measure}.</p><div class="gallery">{"".join(cards)}</div>')
    return html.section("Data quality", *parts)
