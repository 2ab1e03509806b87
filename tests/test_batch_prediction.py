"""Batch prediction over a folder of new images: every file predicted or listed with its reason,
the same answers as predict.py, and the same lines on Beam's multi-processing runner."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from bad_files import animated_gif, bomb_png
from components.batch_prediction.predictions import batch_summary
from components.image_example_gen.inventory import take_inventory
from components.image_example_gen.layout import unlabelled_layout
from pipeline.config import REPO_ROOT

BATCH = str(REPO_ROOT / "pipeline" / "run_batch_predict.py")
PREDICT = str(REPO_ROOT / "pipeline" / "predict.py")
MULTI_PROCESSING = ("--beam-arg=--direct_running_mode=multi_processing", "--beam-arg=--direct_num_workers=2")


def new_images(sample_dir, root):
    """A folder as a user drops it: images at the top and in nested folders, and bad files."""
    for k, name in enumerate(["zero", "three", "seven", "two", "one"]):
        for path in sorted((sample_dir / name).glob("*.png"))[:3]:  # every class has 6 or more
            target = root / ("nested/deeper" if k % 2 else "") / f"{name}_{path.name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    (root / "notes.txt").write_text("not an image")
    (root / "nested" / "broken.png").write_bytes(b"\x89PNG not really")
    (root / "nested" / "bomb.png").write_bytes(bomb_png())
    (root / "animated.gif").write_bytes(animated_gif())  # ingested: its first frame
    (root / ".DS_Store").write_bytes(b"\0")
    return root


def batch_predict(images, out, *flags):
    result = subprocess.run(
        [sys.executable, BATCH, "--images", str(images), "--output-dir", str(out), "--max-rejected-fraction", "0.5", *flags],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = {}
    with open(out / "predictions.jsonl") as f:
        for line in f:
            record = json.loads(line)
            lines[record["path"]] = record
    with open(out / "rejected.jsonl") as f:
        rejected = {r["path"]: r["reason"] for r in map(json.loads, f)}
    with open(out / "batch_summary.json") as f:
        return lines, rejected, json.load(f), result.stdout


@pytest.fixture(scope="module")
def batch_run(first_run, tmp_path_factory):
    sample_dir, output_dir, summary, _ = first_run
    root = tmp_path_factory.mktemp("batch")
    images = new_images(sample_dir, root / "new")
    serving = ("--serving-dir", os.path.join(output_dir, "serving"))
    return images, summary, batch_predict(images, root / "out", *serving), root, serving


@pytest.mark.e2e
def test_every_file_is_predicted_or_rejected_and_predict_agrees(batch_run):
    images, summary, (lines, rejected, counts, stdout), _, _ = batch_run
    on_disk = {os.path.join(d, n) for d, _, names in os.walk(images) for n in names}
    assert set(lines) | set(rejected) == on_disk and not set(lines) & set(rejected)
    assert set(rejected) == {str(images / p) for p in ("notes.txt", "nested/broken.png", "nested/bomb.png", ".DS_Store")}
    assert "pixels" in rejected[str(images / "nested" / "bomb.png")]
    version = os.path.basename(summary["pushed_model"])
    assert {r["model_version"] for r in lines.values()} == {version}
    for record in lines.values():
        assert abs(sum(record["probabilities"].values()) - 1.0) < 1e-3
        assert record["confidence"] == max(record["probabilities"].values())
        assert record["probabilities"][record["class"]] == record["confidence"]
    # predict.py, one process over the same files, answers class for class.
    paths = sorted(lines)
    result = subprocess.run([sys.executable, PREDICT, "--model", summary["pushed_model"], "--json", *paths], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert {a["image"]: a["class"] for a in map(json.loads, result.stdout.splitlines())} == {p: lines[p]["class"] for p in paths}
    # The summary: counts, the mix, and drift (a folder of five digits against training's ten).
    assert counts["predicted"] == len(lines) == 16 and counts["rejected"] == 4 and counts["files_seen"] == 20
    assert sum(counts["class_counts"].values()) == 16
    assert counts["drift"] and "warning: the predictions' class mix differs from training" in stdout
    assert f"Predicted 16 of 20 files with model {version}; 4 rejected" in stdout


@pytest.mark.e2e
def test_the_multi_processing_runner_writes_the_same_lines(batch_run):
    images, _, (lines, rejected, counts, _), root, serving = batch_run
    again, rejected_again, counts_again, _ = batch_predict(images, root / "multi", *serving, *MULTI_PROCESSING)
    assert rejected_again == rejected and set(again) == set(lines)
    for path, line in lines.items():
        # The same answer; the last digit of a probability may differ, as the runners batch the
        # images differently and float sums depend on their order.
        assert {k: again[path][k] for k in ("path", "class", "model_version")} == {k: line[k] for k in ("path", "class", "model_version")}
        assert again[path]["probabilities"] == pytest.approx(line["probabilities"], abs=1e-5), path
    assert counts_again["class_counts"] == counts["class_counts"]


def test_an_unlabelled_folder_is_walked_flat_and_nested(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for path in ("top.png", "a/mid.jpg", "a/b/low.gif", "a/readme.md"):
        (tmp_path / path).write_bytes(b"x")
    found = take_inventory(unlabelled_layout(str(tmp_path)))
    assert found.candidates == {"": [("a/b/low.gif", ""), ("a/mid.jpg", ""), ("top.png", "")]}
    assert [path for path, _ in found.rejected] == ["a/readme.md"]


def test_the_drift_warning_compares_the_predicted_mix_with_training():
    from components.image_example_gen.ingestion import build

    account = build([("x.txt", "r"), ("y.txt", "r")], 10, [], [], 0.5)
    train = {"cat": 50, "dog": 50}
    alike = batch_summary({"cat": 5, "dog": 5}, ["cat", "dog"], train, account, "7", 0.1)
    assert not alike.drift and alike.drift_distance == 0.0
    assert alike.lines[0] == "Predicted 10 of 12 files with model 7; 2 rejected, each listed with its reason. Predicted classes: cat 50.0%, dog 50.0%."
    shifted = batch_summary({"cat": 9, "dog": 1}, ["cat", "dog"], train, account, "7", 0.1)
    assert shifted.drift and round(shifted.drift_distance, 6) == 0.4
    assert "'cat': 90.0% of predictions, 50.0% of training images; threshold 10%" in shifted.lines[1]
    unknown = batch_summary({"cat": 9, "dog": 1}, ["cat", "dog"], None, account, "7", 0.1)
    assert unknown.drift_distance is None and unknown.lines[1].startswith("No drift check")


@pytest.mark.parametrize(
    "flags, said",
    [
        (["--max-rejected-fraction", "5"], "error: --max-rejected-fraction 5.0 must be between 0 and 1 (for example 0.05)."),
        (["--drift-threshold", "-1"], "error: --drift-threshold -1.0 must be between 0 and 1 (for example 0.1)."),
    ],
)
def test_a_bad_setting_is_one_line_that_names_the_flag(tmp_path, capsys, flags, said):
    from pipeline import run_batch_predict

    assert run_batch_predict.main(["--images", str(tmp_path), "--output-dir", str(tmp_path / "out"), *flags]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [said]
