"""The run report: one self-contained HTML page per run, with what the run found and did."""
from __future__ import annotations

from components.artifacts import read_bytes_if_present
from components.drift.report import drift_section
from components.edge_export.report import edge_section
from components.error_analysis.report import mistakes_section
from components.label_balance.report import data_sections
from components.model_card.report import model_card_section
from components.promotion_gate.report import evaluation_section
from components.reporting import html
from components.trainer.report import training_section
from components.tuner.report import tuning_section
from pipeline.run_record import RunArtifacts
from pipeline.console import describe


def render_run_report(summary: dict, artifacts: RunArtifacts, summary_path: str) -> str:
    outcome = html.GOOD if summary["pushed_model"] else html.BAD
    sections = [html.section("Outcome", html.verdict_box(outcome, describe(summary, summary_path)))]
    if artifacts.balance:
        balance_uri, quality_uri = artifacts.balance_uri, artifacts.quality_uri
        sections += data_sections(
            artifacts.balance,
            lambda name: read_bytes_if_present(balance_uri, name),
            quality=artifacts.quality,
            read_quality=lambda name: read_bytes_if_present(quality_uri, name),
            ingestion=artifacts.ingestion,
        )
    if artifacts.drift:
        sections.append(drift_section(artifacts.drift))
    if artifacts.trials:
        sections.append(tuning_section(artifacts.trials))
    if artifacts.training:
        sections.append(training_section(artifacts.training))
    if artifacts.decision and artifacts.balance:
        sections.append(evaluation_section(artifacts.decision, artifacts.balance.class_names))
    if artifacts.edge and artifacts.edge.exported:
        sections.append(edge_section(artifacts.edge))
    if artifacts.errors:
        sections.append(mistakes_section(artifacts.errors, lambda name: read_bytes_if_present(artifacts.errors_uri, name)))
    if artifacts.model_card and summary.get("model_card"):
        sections.append(model_card_section(artifacts.model_card, summary["model_card"]["html"], summary_path))
    return html.page("Run report", f"Run {summary['run_id']}", sections)

