"""The data report's "Data quality" section: the verdict, counts, and each group side by side."""
from __future__ import annotations

from typing import Callable, Optional, Union

from components.contracts.quality import GroupImage, Outlier, QualityCounts, QualityRecord
from components.data_quality.find import SHOWN
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
)


def _caption(image: Union[GroupImage, Outlier]) -> str:
    return f"{image.split}, {image.class_name}: {image.path}"


def _tone(counts: QualityCounts) -> str:
    if counts.leaked_eval_images or counts.conflicting_labels:
        return html.BAD
    if any(getattr(counts, k) for k in ("exact_duplicates", "near_duplicates", "near_constant", "aspect_ratio", "blurry")):
        return html.WARNING
    return html.GOOD


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
    for kind, title, measure in _OUTLIERS:
        found = [o for o in quality.outliers if o.kind == kind]
        if not found:
            continue
        cards = [f"<figure>{picture(o.path, _caption(o) + ' (%.3g)' % o.value)}</figure>" for o in found[:SHOWN]]
        parts.append(f'<h3>{html.escape(title)} ({len(found)})</h3><p>Value: {measure}.</p><div class="gallery">{"".join(cards)}</div>')
    return html.section("Data quality", *parts)
