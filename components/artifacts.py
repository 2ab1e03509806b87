"""What crosses component boundaries: artifact file names, artifact types, custom-property keys,
and reading and writing the files in artifacts.

A step finds another step's output only through this module, so no component imports another
component's TFX glue (and its libraries) for a file name, and the run summary needs none of them.
The typed records those files hold are in `contracts/`; feature keys and serving signatures in
`features.py`.
"""
from __future__ import annotations

import dataclasses
import json
import posixpath
from typing import Any, Dict, List, Optional, Sequence

import tensorflow as tf
from tfx.components.evaluator import constants as evaluator_constants
from tfx.types.artifact import Artifact

from components import features

# Files inside artifacts, by the artifact that holds them.
# Examples (ImageExampleGen); CLASS_NAMES_FILE is also in the served model's assets.extra/.
CLASS_NAMES_FILE = "class_names.json"
INGESTION_FILE = "ingestion.json"  # every file seen: ingested, rejected with a reason, converted
# LabelBalanceReport and TrainingHintsArtifact (LabelBalance).
LABEL_BALANCE_FILE = "label_balance.json"
DATA_REPORT_FILE = "data_report.html"
TRAINING_HINTS_FILE = "training_hints.json"
# The SavedModel folder's own files: what tools beside TensorFlow read (class names, input spec, ...).
SERVING_EXTRA_DIR = "assets.extra"
PUSH_RECORD_FILE = "push_record.json"  # in a version's assets.extra/: the model artifact it holds, when it was pushed
# TransformGraph (Transform), besides TFX's own files.
IMAGE_SIZE_FILE = "image_size.json"  # the size the graph resizes to, and why (--image-size auto)
# ModelRun (Trainer).
BEST_MODEL_FILE = "best_model.keras"
HISTORY_FILE = "history.json"
HISTORY_CSV_FILE = "history.csv"
TRAINING_FILE = "training.json"  # the training summary: best epoch, findings, plots
TRIALS_FILE = "trials.json"  # the Tuner's trials: values, objective, time, the best marked
# DataQualityReport (DataQuality): the findings, and thumbnails of what the data report shows.
DATA_QUALITY_FILE = "data_quality.json"
EMBEDDINGS_FILE = "embeddings.json"  # the Embeddings artifact's index: backbone, size, shards, counts
EMBEDDING_SHARDS_DIR = "shards"  # its .npz shards (contracts/embeddings.py)
DROPPED_LABELS_FILE = "dropped_label_issues.json"  # --drop-label-issues: what was left out, and why
# ErrorAnalysis (ErrorAnalysis): the summary, and its JPEGs in images/.
ERROR_ANALYSIS_FILE = "error_analysis.json"
ERROR_IMAGES_DIR = "images"
# EdgeModels (EdgeExport), and the published edge folder.
EDGE_EXPORT_FILE = "edge_export.json"  # the TF Lite models: sizes, agreement with the SavedModel, published or why not
TFLITE_FLOAT_FILE = "model_float.tflite"
TFLITE_INT8_FILE = "model_int8.tflite"
INPUT_SPEC_FILE = "input_spec.json"  # what a TF Lite model takes (also in a SavedModel's assets.extra/)
TRAIN_CLASS_COUNTS_FILE = "train_class_counts.json"  # a SavedModel's assets.extra/: the training classes
PREDICTIONS_FILE = "predictions.jsonl"  # batch prediction: one line per image
REJECTED_FILE = "rejected.jsonl"  # batch prediction: one line per file not predicted, with the reason
BATCH_SUMMARY_FILE = "batch_summary.json"  # batch prediction: counts, class mix, drift
BATCH_OUTPUT_FILES = (PREDICTIONS_FILE, REJECTED_FILE, BATCH_SUMMARY_FILE)  # copied to --output-dir
# ModelBlessing (PromotionGate).
DECISION_FILE = "decision.json"
BLESSED_FILE = evaluator_constants.BLESSED_FILE_NAME
NOT_BLESSED_FILE = evaluator_constants.NOT_BLESSED_FILE_NAME
# DriftReport (Drift).
DRIFT_FILE = "drift.json"  # this run's train images against the served model's: class shares, image properties
# ModelCard, and beside a pushed model in its version folder.
MODEL_CARD_JSON_FILE = "model_card.json"  # Model Card Toolkit's field names: what it is, its data, how well it does
MODEL_CARD_HTML_FILE = "model_card.html"

# What a TFX executor's Do() gets and fills: artifacts by input or output key.
ArtifactDict = Dict[str, List[Artifact]]

# Custom properties of a ModelBlessing, as TFX's Evaluator writes them and its resolver strategies
# read them: whether the model is blessed, and which model artifact it is.
BLESSED_PROPERTY = evaluator_constants.ARTIFACT_PROPERTY_BLESSED_KEY
BLESSED_MODEL_ID_PROPERTY = evaluator_constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY
BLESSED_MODEL_URI_PROPERTY = evaluator_constants.ARTIFACT_PROPERTY_CURRENT_MODEL_URI_KEY
# Custom properties of a PushedModel, as TFX's Pusher executor writes them (private names there).
PUSHED_PROPERTY = "pushed"
PUSHED_DESTINATION_PROPERTY = "pushed_destination"
# The Examples artifact's class list, in label-index order (also CLASS_NAMES_FILE).
CLASS_NAMES_PROPERTY = "class_names"


def blessings_by_model(blessings: List[Artifact]) -> Dict[int, Artifact]:
    """{model id: its blessing} of the blessed models, from the blessings' custom properties
    (BLESSED_PROPERTY and BLESSED_MODEL_ID_PROPERTY, as TFX's Evaluator and our PromotionGate write them)."""
    return {
        blessing.get_int_custom_property(BLESSED_MODEL_ID_PROPERTY): blessing
        for blessing in blessings
        if blessing.get_int_custom_property(BLESSED_PROPERTY) == 1
    }


class LabelBalanceReport(Artifact):
    """label_balance.json (the verdict and numbers) and data_report.html (the same for people)."""

    # <namespace>.<Name>: the form Kubeflow Pipelines v2 and Vertex AI require of custom artifact types.
    TYPE_NAME = "image_pipeline.LabelBalanceReport"


class DataQualityReport(Artifact):
    """data_quality.json (duplicates, conflicting labels, leaks, outliers) and its thumbnails."""

    TYPE_NAME = "image_pipeline.DataQualityReport"


class Embeddings(Artifact):
    """embeddings.json and shards/*.npz: an ImageNet backbone's pooled features of every image,
    float16, with each image's path, split, label and luminance thumbnail (contracts/embeddings.py)."""

    TYPE_NAME = "image_pipeline.Embeddings"


class ErrorAnalysis(Artifact):
    """error_analysis.json (top losses, confused pairs, PR curves, thresholds, calibration) and
    the thumbnails and heatmaps it names, under images/."""

    TYPE_NAME = "image_pipeline.ErrorAnalysis"


class EdgeModels(Artifact):
    """The TF Lite models of a pushed model (float, int8) and edge_export.json: their sizes, and
    how far they agree with the SavedModel on the eval split."""

    TYPE_NAME = "image_pipeline.EdgeModels"


class TrainingHintsArtifact(Artifact):
    """training_hints.json: what LabelBalance derives from the data for the Tuner and Trainer.

    Its own type, not TFX's HyperParameters: a resolver that looks for the Tuner's best
    hyperparameters by type (as KubeflowV2DagRunner compiles it) must not find the hints."""

    TYPE_NAME = "image_pipeline.TrainingHints"


class BatchPredictions(Artifact):
    """predictions.jsonl, rejected.jsonl and batch_summary.json of one batch prediction run."""

    TYPE_NAME = "image_pipeline.BatchPredictions"


_IMAGE_RECORD = {
    features.IMAGE_KEY: tf.io.FixedLenFeature([], tf.string),
    features.LABEL_KEY: tf.io.FixedLenFeature([], tf.int64),
    features.PATH_KEY: tf.io.FixedLenFeature([], tf.string, default_value=""),
}


@dataclasses.dataclass
class ImageBatch:
    """A batch of an image ExampleGen split: the records, and their image bytes, labels and paths."""

    serialized: tf.Tensor
    images: List[bytes]
    labels: Any  # int64 numpy array
    paths: List[str]


def image_example_batches(file_pattern: str, batch_size: int = 256):
    """Streams the gzipped tf.Example files matching `file_pattern` a batch at a time (ImageBatch);
    memory holds one batch, whatever the number of examples."""
    files = tf.io.gfile.glob(file_pattern)
    for serialized in tf.data.TFRecordDataset(files, compression_type="GZIP").batch(batch_size):
        parsed = tf.io.parse_example(serialized, _IMAGE_RECORD)
        yield ImageBatch(
            serialized=serialized,
            images=list(parsed[features.IMAGE_KEY].numpy()),
            labels=parsed[features.LABEL_KEY].numpy(),
            paths=[p.decode("utf-8", "replace") for p in parsed[features.PATH_KEY].numpy()],
        )


def read_json(directory: str, filename: str) -> Any:
    with tf.io.gfile.GFile(posixpath.join(directory, filename)) as f:
        return json.load(f)


def read_json_if_present(directory: str, filename: str) -> Optional[Any]:
    """The file's JSON, or None when the artifact has no such file (an older run, a failed step)."""
    if not tf.io.gfile.exists(posixpath.join(directory, filename)):
        return None
    return read_json(directory, filename)


def read_bytes_if_present(directory: str, filename: Optional[str]) -> Optional[bytes]:
    """A file's bytes (an image an artifact holds), or None without a name or a file."""
    if not filename:
        return None
    path = posixpath.join(directory, filename)
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path, "rb") as f:
        return f.read()


def write_text(directory: str, filename: str, text: str) -> str:
    """Writes `text` to `directory`/`filename` (local or gs://); returns the file's path."""
    path = posixpath.join(directory, filename)
    with tf.io.gfile.GFile(path, "w") as f:
        f.write(text)
    return path


def write_bytes(directory: str, filename: str, data: bytes) -> str:
    """Writes `data` to `directory`/`filename` (local or gs://); returns the file's path."""
    path = posixpath.join(directory, filename)
    with tf.io.gfile.GFile(path, "wb") as f:
        f.write(data)
    return path


def write_json(directory: str, filename: str, value: Any) -> str:
    return write_text(directory, filename, json.dumps(value, indent=2))


def write_class_names(examples: Artifact, class_names: Sequence[str]) -> None:
    """Records the class list in the Examples artifact: CLASS_NAMES_FILE and CLASS_NAMES_PROPERTY."""
    text = json.dumps(list(class_names))
    write_text(examples.uri, CLASS_NAMES_FILE, text)
    examples.set_string_custom_property(CLASS_NAMES_PROPERTY, text)


def read_class_names(examples_uri: str) -> List[str]:
    """The class names an image ExampleGen recorded, in label-index order."""
    return read_json(examples_uri, CLASS_NAMES_FILE)


class DriftReport(Artifact):
    """drift.json: this run's train images against those the last blessed model was trained on."""

    TYPE_NAME = "image_pipeline.DriftReport"


class ModelCardArtifact(Artifact):
    """model_card.json and model_card.html of the candidate (copied beside it when pushed)."""

    TYPE_NAME = "image_pipeline.ModelCard"
