"""Building blocks for self-contained HTML pages: no scripts, no fonts, no external requests."""
from __future__ import annotations

import base64
import html
from typing import Iterable, Optional, Sequence

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
    row, label_width, value_width, top = 22, 110, 90, 28
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
            f'<text x="{label_width - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{bar:.1f}" height="{row - 6}" fill="{colour}">'
            f"<title>{escape(label)}: {escape(shown)}</title></rect>"
            f'<text x="{label_width + bar + 4:.1f}" y="{y + 15}">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def heatmap(title: str, labels: Sequence[str], matrix: Sequence[Sequence[float]], row_title: str, column_title: str) -> str:
    """A square grid as inline SVG; each cell is shaded by its share of its row and shows its count."""
    cell, left, top = 34, 110, 60
    size = len(labels)
    width, height = left + cell * size + 10, top + cell * size + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'
        f'<text x="0" y="14" style="font-weight:600">{escape(title)}</text>'
        f'<text x="{left}" y="30">{escape(column_title)} \u2192</text>'
    ]
    for j, label in enumerate(labels):
        x = left + j * cell + cell / 2
        parts.append(f'<text x="{x:.0f}" y="{top - 6}" text-anchor="middle" font-size="10">{escape(label[:6])}</text>')
    for i, (label, row) in enumerate(zip(labels, matrix)):
        y = top + i * cell
        parts.append(f'<text x="{left - 6}" y="{y + cell / 2 + 4:.0f}" text-anchor="end">{escape(label)}</text>')
        total = sum(row) or 1
        for j, value in enumerate(row):
            share = value / total
            colour = HIGHLIGHT_COLOUR if i != j else BAR_COLOUR
            parts.append(
                f'<rect x="{left + j * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{colour}" '
                f'fill-opacity="{0.08 + 0.92 * share if value else 0.03:.2f}"><title>{escape(label)} \u2192 '
                f'{escape(labels[j])}: {value:g}</title></rect>'
            )
            if value:
                parts.append(
                    f'<text x="{left + j * cell + cell / 2 - 1:.0f}" y="{y + cell / 2 + 4:.0f}" text-anchor="middle" '
                    f'font-size="11">{value:g}</text>'
                )
    parts.append(f'<text x="0" y="{height - 8}">rows: {escape(row_title)}</text></svg>')
    return "".join(parts)
