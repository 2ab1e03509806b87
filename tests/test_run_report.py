"""Training plots, and the run report that carries them: one file, nothing fetched."""
import dataclasses
import re

import numpy as np
from PIL import Image

from components.contracts.training import TrainingRecord
from components.label_balance.balance import analyze
from components.trainer.curves import plot_training
from components.trainer.dynamics import analyze_history
from pipeline.run_record import RunArtifacts
from pipeline.run_report import render_run_report

MAJORITY_RED = np.array([0xCF, 0x22, 0x2E])


def history(epochs=6):
    return {
        "accuracy": [0.5 + 0.07 * i for i in range(epochs)],
        "val_accuracy": [0.66] * epochs,
        "loss": [1.0 - 0.1 * i for i in range(epochs)],
        "val_loss": [0.9] * epochs,
        "learning_rate": [1e-3] * 3 + [5e-4] * (epochs - 3),
    }


def test_plots_show_the_curves_and_the_majority_line(tmp_path):
    paths = plot_training(history(), str(tmp_path), best_epoch=2, majority_fraction=0.66)
    assert [p.split("/")[-1] for p in paths] == ["training_curves.png", "learning_rate.png"]
    curves = np.asarray(Image.open(paths[0]).convert("RGB")).astype(int)
    # The dashed majority-class line is drawn in its own red.
    assert (np.abs(curves - MAJORITY_RED).sum(axis=-1) < 40).sum() > 100


def test_run_report_embeds_everything_it_shows(tmp_path):
    plots = plot_training(history(), str(tmp_path), best_epoch=2, majority_fraction=0.66)
    findings = analyze_history(history(), majority_fraction=0.66)
    training = TrainingRecord(
        epochs_run=6,
        best_epoch=2,
        best_val_accuracy=0.66,
        best_val_balanced_accuracy=None,
        checkpoint_metric=None,  # a Trainer from before it recorded its choices
        stopped_early=False,
        majority_fraction=0.66,
        prediction_shares=None,
        findings=findings,
        plots=plots,
    )
    balance = analyze(["cat", "dog"], {"train": [60, 30], "eval": [15, 8]})
    balance = dataclasses.replace(balance, images={}, anomalies={"train": [], "eval": []})
    summary = {
        "run_id": "r1",
        "data": {"class_names": ["cat", "dog"], "split_sizes": {"train": 90, "eval": 23}},
        "evaluation": {"accuracy": 0.66, "majority_class": "cat", "majority_fraction": 0.652},
        "balance": None,
        "training": None,
        "blessed": False,
        "pushed_model": None,
        "report_html": str(tmp_path / "report.html"),
        "components": {},
    }
    artifacts = RunArtifacts(balance=balance, training=training, metrics={}, decision=None, blessed=False, pushed_model=None)
    page = render_run_report(summary, artifacts, "out/run_summary.json")
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) == 2 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r"<script|<link|href=|url\(|@import", page, re.IGNORECASE)
    assert "Model NOT blessed" in page
    assert "[majority_class_collapse]" in page and "[flat_validation]" in page
    assert page.count("<svg") == 2  # the class-distribution charts
