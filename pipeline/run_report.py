"""The run report: one self-contained HTML page per run, with what the run found and did."""
from __future__ import annotations

from components.label_balance.report import data_sections
from components.promotion_gate.report import evaluation_section
from components.reporting import html
from components.trainer.report import training_section
from components.tuner.report import tuning_section
from pipeline.run_record import RunArtifacts
from pipeline.summary import describe


def render_run_report(summary: dict, artifacts: RunArtifacts, summary_path: str) -> str:
    outcome = html.GOOD if summary["pushed_model"] else html.BAD
    sections = [html.section("Outcome", html.verdict_box(outcome, describe(summary, summary_path)))]
    if artifacts.balance:
        sections += data_sections(artifacts.balance)
    if artifacts.trials:
        sections.append(tuning_section(artifacts.trials))
    if artifacts.training:
        sections.append(training_section(artifacts.training))
    if artifacts.decision and artifacts.balance:
        sections.append(evaluation_section(artifacts.decision, artifacts.balance["class_names"]))
    return html.page("Run report", f"Run {summary['run_id']}", sections)
