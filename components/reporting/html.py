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
.verdict.none{border-color:#1a7f37;background:#dafbe1} .verdict.moderate{border-color:#9a6700;background:#fff8c5}
.verdict.severe{border-color:#cf222e;background:#ffebe9}
.verdict ul{margin:.3rem 0;padding-left:1.2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.92rem}
th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:right} th{background:#f6f8fa}
td:first-child,th:first-child{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:2rem}
svg text{font-family:inherit;font-size:12px;fill:#1f2328}
"""

BAR_COLOUR = "#0969da"
HIGHLIGHT_COLOUR = "#cf222e"


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


def verdict_box(severity: str, lines: Sequence[str]) -> str:
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return f'<div class="verdict {escape(severity)}"><ul>{items}</ul></div>'


def table(headers: Sequence[str], rows: Iterable[Sequence]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


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
