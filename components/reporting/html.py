"""Building blocks for self-contained HTML pages: no scripts, no fonts, no external requests."""
from __future__ import annotations

import base64
import html
from typing import Iterable, Optional, Sequence, Tuple

import tensorflow as tf

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:70rem;
     padding:0 1rem;color:#1f2328;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
h3{font-size:1.05rem;margin-bottom:.3rem}
.meta{color:#59636e;font-size:.9rem}
.verdict{border-left:.4rem solid;padding:.6rem 1rem;margin:1rem 0;border-radius:.3rem}
.verdict.good{border-color:#1a7f37;background:#dafbe1} .verdict.warning{border-color:#9a6700;background:#fff8c5}
.verdict.bad{border-color:#cf222e;background:#ffebe9}
.verdict ul{margin:.3rem 0;padding-left:1.2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.92rem}
th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:right} th{background:#f6f8fa}
td:first-child,th:first-child{text-align:left} table.text td,table.text th{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:2rem}
svg text{font-family:inherit;font-size:12px;fill:#1f2328}
.gallery{display:flex;flex-wrap:wrap;gap:.8rem} figure{margin:0;font-size:.8rem;max-width:9.5rem}
figure.class-card{max-width:8.4rem}
figure.group{max-width:none;display:flex;gap:.4rem;border:1px solid #d0d7de;border-radius:.3rem;padding:.3rem}
figure.group>div{width:6rem}
.pair{display:flex;gap:2px;flex-wrap:wrap} figcaption{overflow-wrap:anywhere;color:#59636e}
figcaption b{color:#1f2328} img.thumb{display:block;width:64px;height:64px;object-fit:contain;background:#f6f8fa}
.noimg{display:inline-block;background:#f6f8fa;color:#59636e;font-size:.7rem}
details summary{cursor:pointer;margin:.4rem 0}
"""

BAR_COLOUR = "#0969da"
HIGHLIGHT_COLOUR = "#cf222e"

# A verdict box's tone: green, amber or red.
GOOD, WARNING, BAD = "good", "warning", "bad"


def escape(text) -> str:
    return html.escape(str(text), quote=True)


def page(title: str, subtitle: str, sections: Iterable[str]) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1><p class=\"meta\">{escape(subtitle)}</p>"
        + "".join(sections)
        + "</body></html>\n"
    )


def section(title: str, *parts: str) -> str:
    return f"<section><h2>{escape(title)}</h2>{''.join(parts)}</section>"


def png(path: str, alt: str) -> str:
    """A PNG file embedded in the page itself (a data: URI), so the page still needs no other file."""
    with tf.io.gfile.GFile(path, "rb") as f:
        data = base64.b64encode(f.read()).decode("ascii")
    return f'<img alt="{escape(alt)}" style="max-width:100%" src="data:image/png;base64,{data}">'


def verdict_box(tone: str, lines: Sequence[str]) -> str:
    """The lines in a box coloured by `tone` (GOOD, WARNING or BAD)."""
    if tone not in (GOOD, WARNING, BAD):
        raise ValueError(f"tone {tone!r} must be one of {GOOD}, {WARNING}, {BAD}.")
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return f'<div class="verdict {tone}"><ul>{items}</ul></div>'


def table(headers: Sequence[str], rows: Iterable[Sequence], text: bool = False) -> str:
    """Numbers align right; with `text`, every column aligns left (lists of files and reasons)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    css = ' class="text"' if text else ""
    return f"<table{css}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    value_labels: Optional[Sequence[str]] = None,
    highlight: Optional[str] = None,
    width: int = 420,
) -> str:
    """A horizontal bar chart as inline SVG; the `highlight` label's bar is drawn in red."""
    row, label_width, value_width, top = 22, 120, 90, 28
    plot_width = width - label_width - value_width
    largest = max(values, default=0) or 1
    height = top + row * len(labels) + 8
    value_labels = value_labels or [f"{v:g}" for v in values]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title)}"><text x="0" y="16" style="font-weight:600">{escape(title)}</text>'
    ]
    for i, (label, value, shown) in enumerate(zip(labels, values, value_labels)):
        y = top + i * row
        bar = plot_width * value / largest
        colour = HIGHLIGHT_COLOUR if label == highlight else BAR_COLOUR
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end">{escape(short(label))}'
            f"<title>{escape(label)}</title></text>"
            f'<rect x="{label_width}" y="{y + 3}" width="{bar:.1f}" height="{row - 6}" fill="{colour}">'
            f"<title>{escape(label)}: {escape(shown)}</title></rect>"
            f'<text x="{label_width + bar + 4:.1f}" y="{y + 15}">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def short(label: str, limit: int = 16) -> str:
    """`label`, cut to `limit` characters with an ellipsis (the full name goes in a <title>)."""
    return label if len(label) <= limit else label[: limit - 1] + "\u2026"


def heatmap(title: str, labels: Sequence[str], matrix: Sequence[Sequence[float]], row_title: str, column_title: str) -> str:
    """A square grid as inline SVG; each cell is shaded by its share of its row and shows its count.

    Readable from 2 to 50+ classes: cells shrink to keep the grid about 700 px wide (12 to 34 px),
    column labels stand vertical so each takes one cell's width, long labels are cut with an
    ellipsis, and every label and cell carries its full text in a <title> (shown on hover).
    Counts are written in cells wide enough for them; the <title> always has it.
    """
    size = len(labels)
    cell = max(12, min(34, 700 // max(size, 1)))
    font = max(8, min(12, int(cell * 0.65)))
    label_px = font * 0.75  # a wide character's width at this font size (DejaVu Sans: about 0.7)
    longest = max((len(short(label)) for label in labels), default=1)
    left = int(longest * label_px) + 12
    top = int(longest * label_px) + 34
    width, height = left + cell * size + 10, top + cell * size + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="matrix" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title)}"><text x="0" y="14" style="font-weight:600">{escape(title)}</text>'
        f'<text x="{left}" y="30">{escape(column_title)} \u2192</text>'
    ]
    for j, label in enumerate(labels):
        x, y = left + j * cell + cell / 2 + font * 0.35, top - 6
        parts.append(
            f'<text class="column-label" x="{x:.1f}" y="{y}" transform="rotate(-90 {x:.1f} {y})" '
            f'font-size="{font}"><title>{escape(label)}</title>{escape(short(label))}</text>'
        )
    for i, (label, row) in enumerate(zip(labels, matrix)):
        y = top + i * cell
        parts.append(
            f'<text class="row-label" x="{left - 6}" y="{y + cell / 2 + font * 0.35:.1f}" text-anchor="end" '
            f'font-size="{font}"><title>{escape(label)}</title>{escape(short(label))}</text>'
        )
        total = sum(row) or 1
        for j, value in enumerate(row):
            share = value / total
            colour = HIGHLIGHT_COLOUR if i != j else BAR_COLOUR
            parts.append(
                f'<rect x="{left + j * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{colour}" '
                f'fill-opacity="{0.08 + 0.92 * share if value else 0.03:.2f}"><title>{escape(label)} \u2192 '
                f'{escape(labels[j])}: {value:g}</title></rect>'
            )
            if value and cell >= 8 + 7 * len(f"{value:g}"):
                parts.append(
                    f'<text x="{left + j * cell + cell / 2 - 1:.0f}" y="{y + cell / 2 + 4:.0f}" text-anchor="middle" '
                    f'font-size="{min(11, font)}" pointer-events="none">{value:g}</text>'
                )
    parts.append(f'<text x="0" y="{height - 8}">rows: {escape(row_title)}</text></svg>')
    return "".join(parts)


def line_chart(
    title: str,
    series: Sequence[Sequence[Tuple[float, float]]],
    x_label: str,
    y_label: str,
    width: int = 170,
    height: int = 150,
    colours: Sequence[str] = (BAR_COLOUR,),
    diagonal: bool = False,
    markers: bool = False,
) -> str:
    """Lines through (x, y) points in [0, 1] x [0, 1] as inline SVG, with a frame, 0/0.5/1 ticks,
    with `diagonal` the line y = x (perfect calibration), with `markers` a dot on each point."""
    left, bottom, top, right = 38, 30, 20, 8
    plot_w, plot_h = width - left - right, height - top - bottom

    def at(x: float, y: float) -> str:
        return f"{left + x * plot_w:.1f},{top + (1 - y) * plot_h:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'
        f'<text x="0" y="13" font-size="11" style="font-weight:600">{escape(title)}</text>'
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#d0d7de"/>'
    ]
    for tick in (0.0, 0.5, 1.0):
        x, y = at(tick, 0).split(",")[0], at(0, tick).split(",")[1]
        parts.append(f'<text x="{x}" y="{top + plot_h + 12}" font-size="9" text-anchor="middle">{tick:g}</text>')
        parts.append(f'<text x="{left - 3}" y="{float(y) + 3:.1f}" font-size="9" text-anchor="end">{tick:g}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.0f}" y="{height - 3}" font-size="10" text-anchor="middle">{escape(x_label)}</text>')
    parts.append(
        f'<text x="10" y="{top + plot_h / 2:.0f}" font-size="10" text-anchor="middle" '
        f'transform="rotate(-90 10 {top + plot_h / 2:.0f})">{escape(y_label)}</text>'
    )
    if diagonal:
        parts.append(f'<polyline points="{at(0, 0)} {at(1, 1)}" fill="none" stroke="#8c959f" stroke-dasharray="3 3"/>')
    for points, colour in zip(series, list(colours) * len(series)):
        if points:
            path = " ".join(at(x, y) for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.6"/>')
            if markers:
                for x, y in points:
                    cx, cy = at(x, y).split(",")
                    parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" fill="{colour}"><title>{x:.2f}, {y:.2f}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)
