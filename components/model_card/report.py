"""The run report's model card section: a link to the card and the limitations it names."""
from __future__ import annotations

import os

from components.contracts.model_card import ModelCard
from components.reporting import html


def model_card_section(card: ModelCard, card_html_path: str, report_path: str) -> str:
    """`card_html_path` is linked relative to the report when both are local files."""
    href = card_html_path
    if "://" not in card_html_path and "://" not in report_path:
        href = os.path.relpath(card_html_path, os.path.dirname(os.path.abspath(report_path)))
    where = "beside the pushed model" if card.model_details.path else "in the ModelCard artifact (the model was not pushed)"
    link = f'<p><a href="{html.escape(href)}">model_card.html</a> {html.escape(where)}, with model_card.json in Model Card Toolkit\'s field names.</p>'
    limitations = [d.description for d in card.considerations.limitations]
    return html.section("Model card", link, html.verdict_box(html.WARNING, limitations))
