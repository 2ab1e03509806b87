"""Tuning: the search space, when an earlier result is reused, and TFX's Tuner feeding the Trainer."""
import json
import os

import pytest

from components.trainer.options import TrainingOptions
from components.trainer.tuning import (
    DATA_FINGERPRINT,
    SPACE_FINGERPRINT,
    apply,
    data_fingerprint,
    search_space,
    tuned_values,
)
from helpers import NO_EDGE, run_pipeline

BEST = {"space": [], "values": {"architecture": "resnet_small", "learning_rate": 0.003, "imbalance_strategy": "none"}}
NOW = {DATA_FINGERPRINT: "data-1", SPACE_FINGERPRINT: "space-1"}


def test_an_earlier_tuning_is_reused_only_for_the_same_data_and_search_space():
    reused = tuned_values(BEST, found_on=NOW, now=NOW, tuned_in_this_run=False, reuse=True, uri="/t/1")
    assert reused.source == "reused" and reused.values == BEST["values"]
    for changed, what in ((DATA_FINGERPRINT, "the data"), (SPACE_FINGERPRINT, "the search space")):
        stale = tuned_values(BEST, {**NOW, changed: "other"}, NOW, tuned_in_this_run=False, reuse=True, uri="/t/1")
        assert stale.values is None and stale.reason.startswith(f"{what} changed since the latest tuning")
    off = tuned_values(BEST, found_on=NOW, now=NOW, tuned_in_this_run=False, reuse=False, uri="/t/1")
    assert off.values is None and "--no-reuse-tuning" in off.reason
    assert tuned_values(None, {}, NOW, tuned_in_this_run=False, reuse=True).values is None
    tuner = tuned_values(BEST, found_on={}, now=NOW, tuned_in_this_run=True, reuse=False)
    assert tuner.source == "tuner" and tuner.values == BEST["values"]


def test_the_data_fingerprint_follows_the_files_and_the_labels():
    hints = {"class_names": ["a", "b"], "train_counts": [10, 5], "split_sizes": {"train": 15, "eval": 4}}
    assert data_fingerprint("files-1", hints) == data_fingerprint("files-1", dict(hints, class_weights=[1, 2]))
    assert data_fingerprint("files-1", hints) != data_fingerprint("files-2", hints)
    assert data_fingerprint("files-1", hints) != data_fingerprint("files-1", dict(hints, train_counts=[9, 6]))


def test_the_search_space_keeps_a_pretrained_backbone_and_applies_to_the_options(tmp_path):
    space = dict(search_space(TrainingOptions()))
    assert set(space) == {"architecture", "learning_rate", "dropout", "batch_size", "imbalance_strategy", "augment_strength"}
    assert set(space["imbalance_strategy"]) == {"class_weights", "oversample", "none"}
    weights = tmp_path / "w.h5"
    weights.write_bytes(b"")
    backbone = TrainingOptions(architecture="efficientnet_b0", pretrained_weights=str(weights), augment=False)
    assert dict(search_space(backbone))["architecture"] == ["efficientnet_b0"]
    assert "augment_strength" not in dict(search_space(backbone))
    options = apply(TrainingOptions(), BEST["values"])
    assert (options.architecture, options.learning_rate, options.imbalance_strategy) == ("resnet_small", 0.003, "none")


@pytest.mark.e2e
def test_the_tuners_best_values_train_the_model_and_a_later_run_reuses_them(sample_dir, tmp_path):
    output_dir = tmp_path / "out"
    budget = ["--epochs", "2", "--tune-trials", "2", "--tune-epochs", "1", NO_EDGE]
    tuned, stdout = run_pipeline(sample_dir, output_dir, "--tune", *budget)
    trials = tuned["tuning"]["trials"]
    assert len(trials) == 2 and sum(t["best"] for t in trials) == 1
    assert all(t["objective"] is not None and t["seconds"] > 0 for t in trials)
    best_dir = os.path.join(str(output_dir), "pipeline_root", "Tuner", "best_hyperparameters")
    (run_dir,) = os.listdir(best_dir)
    with open(os.path.join(best_dir, run_dir, "best_hyperparameters.txt")) as f:
        best = json.load(f)["values"]
    assert best == next(t for t in trials if t["best"])["values"]
    training = tuned["training"]
    assert training["tuning"]["source"] == "tuner"
    for name, value in best.items():  # the Trainer trained with the winner's values
        assert training["hyperparameters"][name] == value, name
    assert training["imbalance_strategy"] == best["imbalance_strategy"]
    assert "Tuner: 2 trials; the best" in stdout
    with open(tuned["report_html"]) as f:
        assert "<h2>Tuning</h2>" in f.read()

    again, stdout = run_pipeline(sample_dir, output_dir, *budget)  # no --tune: same data, same space
    assert again["components"]["LatestTuningResolver"] == "COMPLETE" and "Tuner" not in again["components"]
    assert again["training"]["tuning"]["source"] == "reused"
    assert "Hyperparameters: reusing the best hyperparameters of the latest tuning" in stdout
    for name, value in best.items():
        assert again["training"]["hyperparameters"][name] == value, name

    flags, _ = run_pipeline(sample_dir, output_dir, "--no-reuse-tuning", *budget)
    assert flags["training"]["tuning"]["source"] is None
    assert flags["training"]["hyperparameters"]["architecture"] == "simple_cnn"  # the flag's default
