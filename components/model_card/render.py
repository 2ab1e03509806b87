"""model_card.html: the card as one self-contained page (no script, no file or network fetch)."""
from __future__ import annotations

from components.contracts.model_card import ModelCard
from components.reporting import html


def _items(lines) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>"


def card_html(card: ModelCard) -> str:
    details, parameters = card.model_details, card.model_parameters
    version = details.version
    overview = html.section(
        "Model details",
        f"<p>{html.escape(details.overview)}</p>",
        html.table(
            ["", "this model"],
            [
                ["version", version.name], ["date", version.date], ["against the previous model", version.diff],
                ["architecture", parameters.model_architecture], ["folder", details.path or "not pushed"],
            ],  # fmt: skip
            text=True,
        ),
        f"<p>{html.escape(details.documentation)}</p>",
        f"<p><b>Input:</b> {html.escape(parameters.input_format)}</p>",
        f"<p><b>Output:</b> {html.escape(parameters.output_format)}</p>",
    )
    classes = sorted({name for dataset in parameters.data for name in dataset.class_counts})
    data = html.section(
        "Data",
        _items(f"{dataset.name}: {dataset.description}" for dataset in parameters.data),
        html.table(
            ["class", *[dataset.name for dataset in parameters.data]],
            [[name, *[str(dataset.class_counts.get(name, 0)) for dataset in parameters.data]] for name in classes],
        ),
    )
    rows = []
    for metric in card.quantitative_analysis.performance_metrics:
        interval = metric.confidence_interval
        shown = f"{interval.lower_bound:.3f} to {interval.upper_bound:.3f}" if interval else ""
        rows.append([metric.type, metric.slice or "eval split", f"{metric.value:.3g}", shown])
    level = card.quantitative_analysis.confidence_level
    quantitative = html.section(
        "Quantitative analysis",
        html.table(["metric", "on", "value", f"{level:.0%} interval" if level else "interval"], rows),
    )
    considerations = card.considerations
    limits = html.section(
        "Considerations",
        "<h3>Use</h3>" + _items(d.description for d in considerations.use_cases),
        "<h3>Limitations</h3>" + html.verdict_box(html.WARNING, [d.description for d in considerations.limitations]),
        "<h3>Trade-offs</h3>" + _items(d.description for d in considerations.tradeoffs),
    )
    return html.page(f"Model card: {details.name}", f"Version {version.name}, {version.date}", [overview, data, quantitative, limits])
