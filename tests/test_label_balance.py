"""Class counts read from real TFDV statistics computed with the curated schema."""
import pandas as pd
import pytest
import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import schema_pb2

from components import features
from components.imbalance import balanced_class_weights
from components.label_balance.balance import LabelStatisticsError, analyze, label_counts, missing_class_problem, split_summary
from components.label_balance.options import BalanceOptions
from pipeline.config import SCHEMA_FILE


def statistics_for(labels, schema):
    frame = pd.DataFrame({features.LABEL_KEY: labels, features.CLASS_NAME_KEY: [str(v) for v in labels]})
    return tfdv.generate_statistics_from_dataframe(frame, stats_options=tfdv.StatsOptions(schema=schema))


def test_counts_every_class_including_absent_ones():
    schema = tfdv.load_schema_text(str(SCHEMA_FILE))
    labels = [0] * 30 + [1] * 5 + [3] * 2  # class 2 has no examples
    assert label_counts(statistics_for(labels, schema), features.LABEL_KEY, num_classes=4) == [30, 5, 0, 2]


def test_more_classes_than_tfdv_shows_as_top_values_are_still_counted():
    # TFDV keeps 20 top values by default; the rank histogram keeps them all.
    schema = tfdv.load_schema_text(str(SCHEMA_FILE))
    labels = [c for c in range(25) for _ in range(c + 1)]
    assert label_counts(statistics_for(labels, schema), features.LABEL_KEY, num_classes=25) == list(range(1, 26))


def test_a_non_categorical_label_is_explained():
    schema = schema_pb2.Schema()
    schema.feature.add(name=features.LABEL_KEY, type=schema_pb2.INT)
    with pytest.raises(LabelStatisticsError, match="is_categorical: true"):
        label_counts(statistics_for([0, 1, 1], schema), features.LABEL_KEY, num_classes=2)


def test_summary_names_the_majority_class_and_its_share():
    summary = split_summary(["cat", "dog", "owl"], [6, 2, 1])
    assert summary.majority_class == "cat"
    assert summary.majority_fraction == pytest.approx(6 / 9)
    assert (summary.minority_class, summary.minority_count) == ("owl", 1)
    assert summary.imbalance_ratio == 6.0
    assert summary.class_fractions == pytest.approx({"cat": 6 / 9, "dog": 2 / 9, "owl": 1 / 9})


CLASSES = ["eight", "five", "four", "nine", "one", "seven", "six", "three", "two", "zero"]
# The built-in sample's split (what the pipeline's StatisticsGen counts on it).
SAMPLE_TRAIN = [7, 9, 6, 9, 9, 9, 9, 9, 6, 150]
SAMPLE_EVAL = [3, 1, 4, 1, 1, 1, 1, 1, 4, 28]


def test_balanced_labels_are_not_flagged():
    report = analyze(["cat", "dog", "owl"], {"train": [100, 90, 80], "eval": [25, 22, 20]})
    assert report.imbalanced is False and report.severity == "none"
    assert report.splits["train"].normalized_entropy > 0.99
    assert report.findings[0].startswith("Labels are balanced enough")
    assert report.recommended_strategy == "none" and not any(f.startswith("Recommended") for f in report.findings)


def test_the_sample_is_flagged_with_its_numbers():
    report = analyze(CLASSES, {"train": SAMPLE_TRAIN, "eval": SAMPLE_EVAL})
    assert report.imbalanced is True and report.severity == "severe"
    train, evaluation = report.splits["train"], report.splits["eval"]
    assert train.majority_class == "zero" and train.majority_fraction == pytest.approx(150 / 223)
    assert train.imbalance_ratio == pytest.approx(25.0)
    assert evaluation.majority_fraction == pytest.approx(28 / 45)
    assert report.findings[:2] == [
        "Labels are severely imbalanced: 'zero' is 67.3% of train images, 25.0x the smallest class ('four', 6 images).",
        "A model that always answers 'zero' scores 62.2% on eval; any accuracy near that means the model learned nothing.",
    ]
    # L-infinity: the largest per-class difference of shares (here 'four': 2.7% train vs 8.9% eval).
    assert report.train_eval_distance == pytest.approx(max(abs(t / 223 - e / 45) for t, e in zip(SAMPLE_TRAIN, SAMPLE_EVAL)))


def test_a_class_missing_from_eval_is_reported_and_stops_the_run():
    report = analyze(CLASSES, {"train": SAMPLE_TRAIN, "eval": [3, 0, 4, 1, 1, 1, 1, 1, 4, 28]})
    assert report.splits["eval"].missing_classes == ["five"]
    assert "No eval images for: five. Accuracy on those classes cannot be measured." in report.findings
    assert missing_class_problem(report).startswith(
        "No eval images for 'five': nobody can measure the model on it. Add images for each class to every split"
    )
    assert missing_class_problem(analyze(CLASSES, {"train": SAMPLE_TRAIN, "eval": SAMPLE_EVAL})) is None


def test_a_class_missing_from_train_makes_the_imbalance_severe():
    report = analyze(["cat", "dog", "owl"], {"train": [50, 50, 0], "eval": [5, 5, 5]})
    assert report.severity == "severe"
    assert "No training images for: owl. The model cannot learn them." in report.findings
    assert missing_class_problem(report).startswith("No train images for 'owl': the model cannot learn it.")


def test_thresholds_decide_the_severity():
    counts = {"train": [30, 10]}
    assert analyze(["a", "b"], counts).severity == "moderate"
    assert analyze(["a", "b"], counts, BalanceOptions(imbalance_ratio=4, severe_ratio=10)).severity == "none"
    assert analyze(["a", "b"], counts, BalanceOptions(imbalance_ratio=2, severe_ratio=3)).severity == "severe"


def test_balanced_class_weights_are_as_documented():
    weights = balanced_class_weights(SAMPLE_TRAIN)
    # n_images / (n_classes * n_class_images)
    assert weights == pytest.approx([223 / (10 * n) for n in SAMPLE_TRAIN])
    # every class carries the same total weight, and the weights average 1 over training images
    assert {round(w * n, 6) for w, n in zip(weights, SAMPLE_TRAIN)} == {22.3}
    assert sum(w * n for w, n in zip(weights, SAMPLE_TRAIN)) / 223 == pytest.approx(1.0)


def test_the_report_recommends_class_weights_for_imbalanced_labels_and_the_hints_carry_it():
    from components.label_balance.component import training_hints_of

    report = analyze(CLASSES, {"train": SAMPLE_TRAIN, "eval": SAMPLE_EVAL})
    assert report.recommended_strategy == "class_weights"
    assert report.class_weights == pytest.approx(dict(zip(CLASSES, balanced_class_weights(SAMPLE_TRAIN))))
    assert report.findings[-1] == (
        "Recommended for training: balanced class weights (--imbalance-strategy class_weights): a 'zero' image "
        "would count 0.15 in the loss, a 'four' image 3.72. The Trainer says what it did."
    )
    hints = training_hints_of(report)
    assert hints.train_counts == SAMPLE_TRAIN and hints.recommended_strategy == "class_weights"
    assert hints.majority_fraction == pytest.approx(28 / 45) and hints.split_sizes == {"train": 223, "eval": 45}
