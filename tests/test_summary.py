"""Run summaries: what a person reads at the end of a run, and a clear error when there is no run."""
import pytest

from pipeline import console, run_record


def a_summary(**overrides):
    base = {
        "run_id": "2026-01-01T00:00:00",
        "data": {"class_names": ["cat", "dog"], "split_sizes": {"train": 80, "eval": 20}},
        "evaluation": {"accuracy": 0.7, "majority_class": "cat", "majority_fraction": 0.7},
        "blessed": False,
        "pushed_model": None,
        "components": {"Trainer": "COMPLETE", "Transform": "CACHED"},
    }
    base.update(overrides)
    return base


def test_rejected_model_says_nothing_was_pushed():
    lines = console.describe(a_summary(), "out/run_summary.json")
    assert lines[0] == "Run 2026-01-01T00:00:00: 100 images in 2 classes (train 80, eval 20); 2 components, 1 from cache."
    assert lines[1] == "Eval accuracy 0.700 (always answering 'cat' would score 0.700)."
    assert lines[2] == "Model NOT blessed: nothing was pushed; the served model is unchanged."
    assert lines[3] == "Summary: out/run_summary.json"


def test_pushed_model_is_named():
    lines = console.describe(a_summary(blessed=True, pushed_model="out/serving/17"), "s.json")
    assert "Model blessed and pushed to out/serving/17" in lines


def test_dropped_duplicates_and_leaks_are_said_on_the_console():
    account = {
        "files_seen": 12, "ingested": 9, "rejected": [{"path": "x.txt", "reason": "not an image"}],
        "rejected_fraction": 1 / 12, "dropped": [{"path": "a.png", "reason": "r"}, {"path": "b.png", "reason": "r"}],
    }  # fmt: skip
    quality = {"findings": ["1 eval image also appears in train (the same picture, or a near copy): eval accuracy is overstated."],
               "leaked_eval_images": ["eval/cat/a.png"]}  # fmt: skip
    lines = console.describe(a_summary(ingestion=account, data_quality=quality), "s.json")
    assert lines[1] == (
        "Ingested 9 of 12 files; 1 rejected (8.3%), each listed with its reason in the reports. "
        "2 exact duplicates dropped (--drop-duplicates), each listed in the reports."
    )
    assert lines[2] == "Data quality: 1 eval image also appears in train (the same picture, or a near copy): eval accuracy is overstated."
    assert "Eval accuracy 0.700 (always answering 'cat' would score 0.700); overstated: 1 eval image is also in train." in lines


def test_missing_store_is_explained(tmp_path):
    with pytest.raises(run_record.NoRunError, match="No ML Metadata store at .*--output-dir"):
        run_record.open_store(str(tmp_path / "metadata.sqlite"))
