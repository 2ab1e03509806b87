"""Every record one step writes and another reads: written by its step's own code, read back
equal through `contracts.record`, so a renamed or missing key fails here in a second, not two
minutes into a pipeline run."""
import dataclasses
import io
import json

import numpy as np
import pytest
from PIL import Image

from components.contracts import record
from components.contracts.balance import BalanceReport, GalleryImage, ImageSummary, SizeRange, TrainingHints
from components.contracts.edge import EdgeRecord, Scores, TFLiteModel
from components.contracts.evaluation import DecisionRecord, ErrorAnalysisRecord, LeakFree
from components.contracts.ingestion import IngestionAccount
from components.contracts.prediction import BatchSummary
from components.contracts.quality import QualityRecord
from components.contracts.training import Trial, TrainingRecord

CLASSES = ["cat", "dog", "owl"]


def read_back(written, directory):
    """`written` through its file and back: the record a reader gets."""
    path = record.write(written, str(directory))
    with open(path) as f:
        json.load(f)  # plain JSON, for any program
    return record.read(type(written), str(directory))


def test_the_ingestion_account_reads_back_equal(tmp_path):
    from components.image_example_gen.ingestion import build

    rejects = [{"path": "cat/bad.png", "reason": "empty file (0 bytes)"}]
    converted = [{"path": "dog/cmyk.jpg", "note": "CMYK: converted to RGB"}]
    dropped = [{"path": "owl/copy.png", "reason": "exact duplicate of owl/a.png"}]
    account = build([("notes.txt", ".txt: not an image type")], 10, rejects, converted, 0.05, dropped)
    assert (account.files_seen, account.ingested, account.rejected_fraction) == (11, 8, round(2 / 11, 4))
    assert read_back(account, tmp_path) == account


def a_balance_report():
    from components.image_example_gen.ingestion import build
    from components.label_balance.balance import analyze

    report = analyze(CLASSES, {"train": [60, 20, 6], "eval": [15, 5, 2]})
    return dataclasses.replace(
        report,
        ingestion=build([], 108, [], [], 0.05),
        images={"train": ImageSummary({"png": 86}, SizeRange(28, 28.0, 28), None)},
        anomalies={"train": [], "eval": ["image_format: Unexpected string values"]},
        gallery={"cat": [GalleryImage("cat/1.png", "gallery/0_0.jpg"), GalleryImage("cat/2.png", None)]},
        report_html="/out/data_report.html",
    )


def test_the_balance_report_and_the_training_hints_read_back_equal(tmp_path):
    from components.label_balance.component import training_hints_of

    report = a_balance_report()
    back = read_back(report, tmp_path)
    assert back == report and back.splits["train"].majority_class == "cat" and back.ingestion.ingested == 108
    hints = training_hints_of(report)
    assert read_back(hints, tmp_path) == hints and hints.train_counts == [60, 20, 6]


def test_the_data_quality_record_reads_back_equal(tmp_path):
    from components.contracts.quality import LabelCheck, LabelIssue, Outlier
    from components.data_quality import find
    from components.data_quality.embedded import EmbeddingFindings
    from components.data_quality.options import QualityOptions

    image = {"split": "train", "label": 0, "pixel_hash": "aa", "contrast": 0.2, "sharpness": 50.0, "width": 8, "height": 8}
    (tmp_path / f"{find.GROUPS}-0.jsonl").write_text(
        json.dumps([{**image, "path": "train/cat/1.png"}, {**image, "path": "eval/cat/1.png", "split": "eval"}]) + "\n"
    )
    near = {"images": [["train/dog/2.png", "train", 1], ["train/dog/3.png", "train", 1]], "similarity": 0.93, "difference": 0.05}
    odd = {**image, "path": "train/owl/blank.png", "label": 2, "kind": "near_constant", "value": 0.001}
    (tmp_path / f"{find.OUTLIERS}-0.jsonl").write_text(json.dumps(odd) + "\n")
    check = LabelCheck(True, "5-fold logistic regression", 40, 5, 0.9, 0.88, 2)
    embedded = EmbeddingFindings(
        near_pairs=[near],
        far=[Outlier("train/cat/odd.png", "train", "cat", "far_from_class", 0.31)],
        label_issues=[LabelIssue("train/dog/9.png", "train", "dog", "cat", 0.02)],
        label_check=check,
        seconds={"neighbours": 0.1},
    )
    quality = find.quality_record(str(tmp_path), CLASSES, QualityOptions(), embedded)
    assert quality.leaked_eval_images == ["eval/cat/1.png"] and quality.counts.near_duplicates == 1
    assert quality.near_duplicates[0].similarity == 0.93 and quality.counts.far_from_class == 1
    assert quality.counts.label_issues == 1 and quality.label_check == check
    assert [o.class_name for o in quality.outliers] == ["cat", "owl"] and quality.findings
    assert read_back(quality, tmp_path) == quality


def test_the_embeddings_index_and_a_shard_read_back_equal(tmp_path):
    from components.contracts import embeddings

    shard = embeddings.Shard(
        paths=["train/cat/1.png", "eval/dög/2.png"],
        splits=["train", "eval"],
        labels=np.array([0, 1], np.int32),
        vectors=np.array([[0.5, -1.25], [3.0, 0.0]], np.float16),
        thumbnails=[bytes(range(16)), bytes(4)],
    )
    name = embeddings.write_shard(str(tmp_path), shard)
    back = embeddings.read_shard(str(tmp_path), name)
    assert back.paths == shard.paths and back.splits == shard.splits and back.thumbnails == shard.thumbnails
    assert (back.vectors == shard.vectors).all() and back.vectors.dtype == np.float16 and list(back.labels) == [0, 1]
    assert embeddings.shard_names(str(tmp_path)) == [name] and embeddings.split_counts(str(tmp_path), [name]) == {"eval": 1, "train": 1}
    index = embeddings.EmbeddingIndex("lite0", 96, 2, "float16", {"eval": 1, "train": 1}, [name], 1.5)
    assert read_back(index, tmp_path) == index


def png(colour):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_error_analysis_and_the_decision_read_back_equal(tmp_path):
    from components.error_analysis.analysis import Mistakes
    from components.error_analysis.analyze import Predictions, summarize
    from components.error_analysis.options import AnalysisOptions
    from components.promotion_gate.gate import decision_record, metrics_from_confusion

    labels = np.array([0, 1, 2, 0, 1, 2])
    probabilities = np.eye(3, dtype=np.float32)[[0, 1, 1, 0, 2, 2]] * 0.8 + 0.2 / 3
    mistakes = Mistakes(4, 2)
    mistakes.add(labels, probabilities, [f"eval/{i}.png" for i in range(6)], [png((40 * i, 0, 0)) for i in range(6)])
    leaked = np.array([True, False, False, False, False, False])
    # The candidate answers [0, 1, 1, 0, 2, 2]; the last blessed model [0, 0, 2, 1, 1, 2].
    baseline = np.array([0, 0, 2, 1, 1, 2])
    predictions = Predictions(labels, probabilities, mistakes, leaked, ["eval/0.png"], baseline, "/models/3")
    errors = summarize(predictions, lambda images: [(None, None)] * len(images), CLASSES, str(tmp_path), AnalysisOptions())
    assert errors.leak_free.excluded == ["eval/0.png"] and errors.most_confused
    # Per class [both right, only the candidate, only the baseline, both wrong].
    assert errors.paired.per_class == [[1, 1, 0, 0], [0, 1, 1, 0], [1, 0, 1, 0]]
    assert read_back(errors, tmp_path) == errors

    confusion = {(0, 0): 2.0, (1, 1): 1.0, (1, 2): 1.0, (2, 1): 1.0, (2, 2): 1.0}
    baseline_metrics = metrics_from_confusion({(0, 0): 1.0, (0, 1): 1.0, (1, 1): 0.0, (1, 0): 2.0, (2, 2): 2.0}, CLASSES)
    decision = decision_record(
        confusion, baseline_metrics, CLASSES, "cat", 2 / 6, leak_free=errors.leak_free, paired=errors.paired
    )  # fmt: skip
    assert read_back(decision, tmp_path) == decision and decision.leak_free.excluded == ["eval/0.png"]
    assert [rule.metric for rule in decision.paired] == ["accuracy", "balanced_accuracy"]


def test_the_training_record_and_the_trials_read_back_equal(tmp_path):
    from components.contracts.training import TuningRecord
    from components.trainer.inputs import plan_input
    from components.trainer.run import explain_training
    from components.trainer.train import TrainingResult

    history = {
        "accuracy": [0.5, 0.7, 0.8], "val_accuracy": [0.5, 0.6, 0.7], "loss": [1.0, 0.8, 0.6],
        "val_loss": [1.0, 0.9, 0.8], "val_balanced_accuracy": [0.4, 0.5, 0.6], "learning_rate": [1e-3] * 3,
    }  # fmt: skip
    result = TrainingResult(model=None, history=history, best_epoch=3, stopped_early=False, checkpoint_metric="accuracy")
    training = explain_training(
        result,
        str(tmp_path),
        majority_fraction=0.6,
        shares={"cat": 0.5, "dog": 0.3, "owl": 0.2},
        input_plan=plan_input(80, 20, (32, 32, 3), 10**9),
        checkpoint_reason="--checkpoint-metric accuracy",
        imbalance_strategy="class_weights",
        imbalance_reason="Class weights are on (balanced).",
        class_weights={"cat": 0.5, "dog": 1.2, "owl": 3.0},
        hyperparameters={"epochs": 3},
        tuning=TuningRecord(None, None, "no tuning result in this output dir (--tune runs the Tuner)"),
    )
    assert record.read(TrainingRecord, str(tmp_path)) == training
    assert training.best_val_balanced_accuracy == 0.6 and training.input.mode == "memory"

    trials = [
        Trial("00", "COMPLETED", {"learning_rate": 0.001}, 0.8, 3.5, True, epochs_run=2, best_epoch=2),
        Trial("01", "FAILED", {"learning_rate": 0.01}, None, None, False),
    ]
    record.write_list(Trial, trials, str(tmp_path))
    assert record.read_list_if_present(Trial, str(tmp_path)) == trials


def test_the_edge_record_reads_back_equal_from_the_published_folder(tmp_path):
    from components.edge_export.component import publish

    paths = {}
    for name in ("model_float.tflite", "model_int8.tflite"):
        paths[name] = tmp_path / "artifact" / name
        paths[name].parent.mkdir(exist_ok=True)
        paths[name].write_bytes(b"tflite")

    def model(name, published):
        reason = None if published else "the int8 model agrees on 90.0% of eval images"
        return TFLiteModel(str(paths[name]), 6, 0.9 if not published else 1.0, 0.8, 0.7, published, reason)

    exported = EdgeRecord(
        exported=True, reason=None, min_int8_agreement=0.98, parity_images=40, representative_images=20,
        saved_model=Scores(0.8, 0.7), input_spec={"dtype": "uint8", "shape": [None, 8, 8, 3]},
        tflite_float=model("model_float.tflite", True), tflite_int8=model("model_int8.tflite", False),
    )  # fmt: skip
    published = publish(exported, str(tmp_path / "edge"), "7", CLASSES)
    assert record.read(EdgeRecord, published.folder) == published
    assert published.tflite_float.path.startswith(published.folder) and published.tflite_int8 == exported.tflite_int8
    skipped = EdgeRecord(exported=False, reason="turned off (--no-edge-export)", min_int8_agreement=0.98)
    assert read_back(skipped, tmp_path) == skipped


def test_the_batch_summary_reads_back_equal(tmp_path):
    from components.batch_prediction.predictions import batch_summary
    from components.image_example_gen.ingestion import build

    account = build([("notes.txt", ".txt: not an image type")], 6, [], [], 0.05)
    summary = batch_summary({"cat": 5, "dog": 1}, CLASSES, {"cat": 10, "dog": 10, "owl": 10}, account, "17", 0.1)
    assert summary.drift and summary.lines[1].startswith("warning: the predictions' class mix differs")
    assert read_back(summary, tmp_path) == summary


def test_a_renamed_or_missing_key_is_named_and_retired_keys_still_read():
    values = json.loads(json.dumps(a_balance_report().to_json()))
    with pytest.raises(record.RecordError, match=r"BalanceReport: unknown keys severity_level"):
        BalanceReport.from_json({**{k: v for k, v in values.items() if k != "severity"}, "severity_level": "none"})
    with pytest.raises(record.RecordError, match=r"BalanceReport: missing keys severity"):
        BalanceReport.from_json({k: v for k, v in values.items() if k != "severity"})
    nested = json.loads(json.dumps(values))
    nested["splits"]["train"]["majority"] = nested["splits"]["train"].pop("majority_class")
    with pytest.raises(record.RecordError, match=r"BalanceReport.splits\['train'\]: unknown keys majority"):
        BalanceReport.from_json(nested)
    # label_balance.json from before the Trainer chose the imbalance strategy still reads.
    old = BalanceReport.from_json({**values, "class_weighting": "balanced", "imbalance_strategy": "class_weights"})
    assert old == BalanceReport.from_json(values)
    hints = TrainingHints.from_json({"class_names": CLASSES, "class_weights": [1.0, 1.0, 1.0], "majority_fraction": 0.4})
    assert hints.train_counts is None  # hints of an older run: the Trainer turns the strategy off, and says so
    # data_quality.json from before near copies were found: no near keys, exact groups without "match".
    counts = {"exact_duplicates": 1, "duplicate_images": 1, "conflicting_labels": 0, "train_eval_leaks": 0,
              "leaked_eval_images": 0, "near_constant": 0, "aspect_ratio": 0, "blurry": 0}  # fmt: skip
    group = {"pixel_hash": "aa", "images": [{"path": "a.png", "split": "train", "class": "cat"}] * 2}
    old_quality = QualityRecord.from_json(
        {"exact_duplicates": [group], "conflicting_labels": [], "train_eval_leaks": [], "leaked_eval_images": [],
         "outliers": [], "options": {}, "counts": counts, "findings": ["1 image is an exact copy of another (1 groups)."]}
    )  # fmt: skip
    assert old_quality.near_duplicates == [] and old_quality.counts.near_duplicates == 0
    assert old_quality.exact_duplicates[0].match == "exact"


@pytest.mark.parametrize(
    "cls", [IngestionAccount, BalanceReport, TrainingHints, QualityRecord, TrainingRecord, ErrorAnalysisRecord,
            DecisionRecord, EdgeRecord, BatchSummary, Trial, LeakFree],
)  # fmt: skip
def test_every_record_is_a_frozen_dataclass_with_its_file(cls):
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
    assert cls is LeakFree or cls.FILE and cls.FILE.endswith(".json")
