"""The label_balance pipeline step: TFX glue over `balance`."""

import json
import os

import tensorflow as tf
import tensorflow_data_validation as tfdv
from tfx import v1 as tfx
from tfx.types import Artifact, artifact_utils

from components import features
from components.image_example_gen.executor import read_class_names
from components.label_balance.balance import label_counts, split_summary

InputArtifact = tfx.dsl.components.InputArtifact
OutputArtifact = tfx.dsl.components.OutputArtifact


class LabelBalanceReport(Artifact):
    """Class counts per split (label_balance.json)."""

    TYPE_NAME = "LabelBalanceReport"


STATISTICS_FILE = "FeatureStats.pb"  # what StatisticsGen writes in each split folder


def read_split_statistics(statistics: tfx.types.standard_artifacts.ExampleStatistics, split: str):
    split_uri = artifact_utils.get_split_uri([statistics], split)
    return tfdv.load_stats_binary(os.path.join(split_uri, STATISTICS_FILE))


def _write_json(directory: str, filename: str, payload) -> None:
    with tf.io.gfile.GFile(os.path.join(directory, filename), "w") as f:
        json.dump(payload, f, indent=2)


@tfx.dsl.components.component
def LabelBalance(
    examples: InputArtifact[tfx.types.standard_artifacts.Examples],
    statistics: InputArtifact[tfx.types.standard_artifacts.ExampleStatistics],
    balance: OutputArtifact[LabelBalanceReport],
    training_hints: OutputArtifact[tfx.types.standard_artifacts.HyperParameters],
) -> None:
    """Counts classes per split and hands the class list to the Trainer.

    `training_hints` is a HyperParameters artifact because that is the Trainer's input for values
    derived upstream; its one JSON file arrives as `fn_args.hyperparameters`.
    """
    class_names = read_class_names(examples.uri)
    splits = {
        split: split_summary(
            class_names, label_counts(read_split_statistics(statistics, split), features.LABEL_KEY, len(class_names))
        )
        for split in artifact_utils.decode_split_names(statistics.split_names)
    }
    _write_json(balance.uri, features.LABEL_BALANCE_FILE, {"class_names": class_names, "splits": splits})
    _write_json(training_hints.uri, features.TRAINING_HINTS_FILE, {"class_names": class_names})
