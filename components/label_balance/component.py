"""The label_balance pipeline step: TFX glue over `balance` and `report`."""
import os

import tensorflow as tf
import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.dsl.component.experimental import annotations
from tfx.dsl.component.experimental.decorators import component
from tfx.types import Artifact, artifact_utils, standard_artifacts

from components import artifacts, features
from components.artifacts import LabelBalanceReport, TrainingHints
from components.label_balance.balance import (
    BalanceOptions,
    ImbalanceError,
    LeakageError,
    MissingClassError,
    analyze,
    label_counts,
    missing_class_problem,
)
from components.label_balance.gallery import write_gallery
from components.label_balance.report import anomaly_lines, image_summary, render_data_report

InputArtifact = annotations.InputArtifact
OutputArtifact = annotations.OutputArtifact
Parameter = annotations.Parameter

STATISTICS_FILE = "FeatureStats.pb"  # what StatisticsGen writes in each split folder
ANOMALIES_FILE = "SchemaDiff.pb"  # what ExampleValidator writes in each split folder


def read_split_statistics(statistics: Artifact, split: str):
    return tfdv.load_stats_binary(os.path.join(artifact_utils.get_split_uri([statistics], split), STATISTICS_FILE))


def read_split_anomalies(anomalies: Artifact, split: str) -> anomalies_pb2.Anomalies:
    path = os.path.join(artifact_utils.get_split_uri([anomalies], split), ANOMALIES_FILE)
    with tf.io.gfile.GFile(path, "rb") as f:
        return anomalies_pb2.Anomalies.FromString(f.read())


def _check_label_is_categorical(schema_uri: str) -> None:
    schema = tfdv.load_schema_text(os.path.join(schema_uri, "schema.pbtxt"))
    label = tfdv.get_feature(schema, features.LABEL_KEY)
    if not label.int_domain.is_categorical:
        raise ValueError(
            f"The schema marks '{features.LABEL_KEY}' as numeric: set `int_domain {{ is_categorical: true }}` "
            "in schemas/schema.pbtxt so TFDV counts classes."
        )


@component
def LabelBalance(
    examples: InputArtifact[standard_artifacts.Examples],
    quality: InputArtifact[artifacts.DataQualityReport],
    statistics: InputArtifact[standard_artifacts.ExampleStatistics],
    schema: InputArtifact[standard_artifacts.Schema],
    anomalies: InputArtifact[standard_artifacts.ExampleAnomalies],
    balance: OutputArtifact[LabelBalanceReport],
    training_hints: OutputArtifact[standard_artifacts.HyperParameters],
    imbalance_ratio: Parameter[float],
    severe_ratio: Parameter[float],
    train_eval_distance: Parameter[float],
    imbalance_strategy: Parameter[str],
    fail_on_imbalance: Parameter[bool],
    fail_on_leakage: Parameter[bool],
) -> None:
    """Measures class balance per split from TFDV statistics, reports it, and derives class weights.

    The data report also shows a few train images per class (`gallery.py`, one pass over train)
    and the DataQuality step's findings (`quality`).

    The parameters are `BalanceOptions.parameters()`. Writes label_balance.json and data_report.html
    into `balance`; hands `artifacts.TrainingHints` (class names, class weights, the majority share)
    to the Trainer through `training_hints`, a HyperParameters artifact because that is the
    Trainer's input for values derived upstream (its one JSON file becomes `fn_args.hyperparameters`).
    With `fail_on_imbalance`, imbalanced labels stop the run after the report is written; with
    `fail_on_leakage`, eval images that are also in train do.
    """
    options = BalanceOptions(
        imbalance_ratio, severe_ratio, train_eval_distance, imbalance_strategy, fail_on_imbalance, fail_on_leakage
    )
    _check_label_is_categorical(schema.uri)
    class_names = artifacts.read_class_names(examples.uri)
    splits = artifact_utils.decode_split_names(statistics.split_names)
    split_statistics = {split: read_split_statistics(statistics, split) for split in splits}
    report = analyze(
        class_names,
        {split: label_counts(stats, features.LABEL_KEY, len(class_names)) for split, stats in split_statistics.items()},
        options,
    )
    report["ingestion"] = artifacts.read_json_if_present(examples.uri, artifacts.INGESTION_FILE)
    report["images"] = {split: image_summary(stats) for split, stats in split_statistics.items()}
    report["anomalies"] = {
        split: anomaly_lines(read_split_anomalies(anomalies, split))
        for split in artifact_utils.decode_split_names(anomalies.split_names)
    }
    quality_record = artifacts.read_json(quality.uri, artifacts.DATA_QUALITY_FILE)
    report["gallery"] = write_gallery(
        artifact_utils.get_split_uri([examples], features.TRAIN_SPLIT) + "/*", class_names, balance.uri
    )
    total = sum(s["total"] for s in report["splits"].values())
    report_path = artifacts.write_text(
        balance.uri,
        artifacts.DATA_REPORT_FILE,
        render_data_report(
            report,
            f"{total} images in {len(class_names)} classes, from {examples.uri}",
            lambda name: artifacts.read_bytes_if_present(balance.uri, name),
            quality=quality_record,
            read_quality=lambda name: artifacts.read_bytes_if_present(quality.uri, name),
        ),
    )
    report["report_html"] = report_path
    artifacts.write_json(balance.uri, artifacts.LABEL_BALANCE_FILE, report)
    weights = report["class_weights"]
    baseline_split = report["splits"].get(features.EVAL_SPLIT) or report["splits"][features.TRAIN_SPLIT]
    train_counts = report["splits"].get(features.TRAIN_SPLIT, {}).get("class_counts")
    hints = TrainingHints(
        class_names=class_names,
        class_weights=[weights[n] for n in class_names] if weights else None,
        # Validation accuracy of always answering the largest class: the line the curves must clear.
        majority_fraction=baseline_split["majority_fraction"],
        split_sizes={split: summary["total"] for split, summary in report["splits"].items()},
        imbalance_strategy=options.imbalance_strategy,
        imbalanced=report["imbalanced"],
        train_counts=[train_counts[name] for name in class_names] if train_counts else None,
    )
    artifacts.write_json(training_hints.uri, artifacts.TRAINING_HINTS_FILE, hints.to_json())
    balance.set_string_custom_property("severity", report["severity"])
    missing = missing_class_problem(report)
    if missing:
        raise MissingClassError(f"{missing} Report: {report_path}")
    if options.fail_on_leakage and quality_record["leaked_eval_images"]:
        raise LeakageError(f"{quality_record['findings'][0]} The run stops here (--fail-on-leakage). Report: {report_path}")
    if options.fail_on_imbalance and report["imbalanced"]:
        raise ImbalanceError(f"{report['findings'][0]} The run stops here (--fail-on-imbalance). Report: {report_path}")
