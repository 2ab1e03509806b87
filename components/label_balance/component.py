"""The label_balance pipeline step: TFX glue over `balance` and `report`."""
import dataclasses
import os

import tensorflow as tf
import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types import Artifact, artifact_utils
from tfx.types.standard_artifacts import ExampleAnomalies, Examples, ExampleStatistics, Schema

from components import artifacts, features
from components.contracts import record
from components.contracts.balance import BalanceReport, TrainingHints
from components.contracts.ingestion import IngestionAccount
from components.contracts.quality import QualityRecord
from components.label_balance.balance import (
    ImbalanceError,
    LeakageError,
    MissingClassError,
    analyze,
    label_counts,
    missing_class_problem,
)
from components.label_balance.gallery import write_gallery
from components.label_balance.options import BalanceOptions
from components.label_balance.report import anomaly_lines, image_summary, render_data_report
from components.statistics import read_schema, read_split_statistics

ANOMALIES_FILE = "SchemaDiff.pb"  # what ExampleValidator writes in each split folder


def read_split_anomalies(anomalies: Artifact, split: str) -> anomalies_pb2.Anomalies:
    path = os.path.join(artifact_utils.get_split_uri([anomalies], split), ANOMALIES_FILE)
    with tf.io.gfile.GFile(path, "rb") as f:
        return anomalies_pb2.Anomalies.FromString(f.read())


def _check_label_is_categorical(schema_uri: str) -> None:
    schema = read_schema(schema_uri)
    label = tfdv.get_feature(schema, features.LABEL_KEY)
    if not label.int_domain.is_categorical:
        raise ValueError(
            f"The schema marks '{features.LABEL_KEY}' as numeric: set `int_domain {{ is_categorical: true }}` "
            "in schemas/schema.pbtxt so TFDV counts classes."
        )


@component
def LabelBalance(
    examples: InputArtifact[Examples], quality: InputArtifact[artifacts.DataQualityReport],
    statistics: InputArtifact[ExampleStatistics], schema: InputArtifact[Schema], anomalies: InputArtifact[ExampleAnomalies],
    balance: OutputArtifact[artifacts.LabelBalanceReport], training_hints: OutputArtifact[artifacts.TrainingHintsArtifact],
    options: Parameter[str],
) -> None:  # fmt: skip - a line for the inputs, then the outputs, then the parameters
    """Measures class balance per split from TFDV statistics, reports it, and recommends how
    training should counter an imbalance.

    The data report also shows a few train images per class (`gallery.py`, one pass over train)
    and the DataQuality step's findings (`quality`).

    `options` is `BalanceOptions.to_parameter()`. Writes label_balance.json
    (`contracts.balance.BalanceReport`) and data_report.html into `balance`, and
    `contracts.balance.TrainingHints` (class names, train counts, the majority share, the verdict
    and the recommendation) into `training_hints` for the Tuner and Trainer. With
    `fail_on_imbalance`, imbalanced labels stop the run after the report is written; with
    `fail_on_leakage`, eval images that are also in train do.
    """
    settings = BalanceOptions.from_parameter(options)
    _check_label_is_categorical(schema.uri)
    class_names = artifacts.read_class_names(examples.uri)
    splits = artifact_utils.decode_split_names(statistics.split_names)
    split_statistics = {split: read_split_statistics(statistics, split) for split in splits}
    report = analyze(
        class_names,
        {split: label_counts(stats, features.LABEL_KEY, len(class_names)) for split, stats in split_statistics.items()},
        settings,
    )
    quality_record = record.read(QualityRecord, quality.uri)
    report = dataclasses.replace(
        report,
        ingestion=record.read_if_present(IngestionAccount, examples.uri),
        images={split: image_summary(stats) for split, stats in split_statistics.items()},
        anomalies={
            split: anomaly_lines(read_split_anomalies(anomalies, split))
            for split in artifact_utils.decode_split_names(anomalies.split_names)
        },
        gallery=write_gallery(
            artifact_utils.get_split_uri([examples], features.TRAIN_SPLIT) + "/*", class_names, balance.uri
        ),
    )
    total = sum(s.total for s in report.splits.values())
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
    report = dataclasses.replace(report, report_html=report_path)
    record.write(report, balance.uri)
    record.write(training_hints_of(report), training_hints.uri)
    balance.set_string_custom_property("severity", report.severity)
    missing = missing_class_problem(report)
    if missing:
        raise MissingClassError(f"{missing} Report: {report_path}")
    if settings.fail_on_leakage and quality_record.leaked_eval_images:
        raise LeakageError(f"{quality_record.findings[0]} The run stops here (--fail-on-leakage). Report: {report_path}")
    if settings.fail_on_imbalance and report.imbalanced:
        raise ImbalanceError(f"{report.findings[0]} The run stops here (--fail-on-imbalance). Report: {report_path}")


def training_hints_of(report: BalanceReport) -> TrainingHints:
    """What the Trainer needs of the report: classes, train counts, the majority-class baseline
    (validation accuracy of always answering the largest class), the verdict, the recommendation."""
    train = report.splits.get(features.TRAIN_SPLIT)
    sizes = report.images.get(features.TRAIN_SPLIT)
    return TrainingHints(
        class_names=report.class_names,
        majority_fraction=report.baseline_split().majority_fraction,
        split_sizes={split: summary.total for split, summary in report.splits.items()},
        imbalanced=report.imbalanced,
        train_counts=[train.class_counts[name] for name in report.class_names] if train else None,
        recommended_strategy=report.recommended_strategy,
        median_width=sizes.width.median if sizes and sizes.width else None,
        median_height=sizes.height.median if sizes and sizes.height else None,
    )
