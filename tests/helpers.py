"""Helpers the tests share: tiny image folders made on the fly, and the pipeline's node ids."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, Sequence

from PIL import Image

from pipeline.config import REPO_ROOT

RUN_LOCAL = str(REPO_ROOT / "pipeline" / "run_local.py")

# The pipeline's node ids, as ML Metadata, the run summary and the compiled specs name them.
PIPELINE_NODES = {
    "ImageExampleGen",
    "ImportSchemaGen",
    "StatisticsGen",
    "ExampleValidator",
    "Embeddings",  # the bundled backbone's features of every image
    "DataQuality",  # duplicates, conflicting labels, train/eval leaks, odd images, label issues
    "LabelBalance",
    "ServedModelStatisticsResolver",  # the served model's training statistics, through ML Metadata's lineage
    "Drift",  # this run's train images against those
    "Transform",
    "LatestTuningResolver",  # the latest earlier tuning, for the Trainer to reuse (or nothing, before any)
    "Trainer",
    "LatestBlessedModelResolver",
    "Evaluator",
    "PromotionGate",
    "ErrorAnalysis",  # top losses with heatmaps, confused pairs, PR curves, thresholds, calibration
    "Pusher",
    "EdgeExport",  # TF Lite float and int8 of a pushed model, checked against it on the eval split
    "ModelCard",  # model_card.json and .html, beside the pushed model
}
# Steps a compiled (Kubeflow / Vertex) pipeline leaves out: their resolver walks ML Metadata's lineage.
LOCAL_ONLY_NODES = {"ServedModelStatisticsResolver", "Drift"}

# For runs that test something else: the EdgeExport step (about 9 s a run) is tested on the first run.
NO_EDGE = "--no-edge-export"

# Distinct colours so a test can tell classes apart after decoding.
COLOURS = {"cat": (200, 30, 30), "dog": (30, 200, 30), "owl": (30, 30, 200)}
PIL_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".bmp": "BMP"}


def write_image(path: Path, colour=(128, 128, 128), size=(12, 10), mode="RGB") -> Path:
    """A small solid-colour image in the format its extension names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, colour)
    if mode != "RGB":
        image = image.convert(mode)
    image.save(path, format=PIL_FORMATS[path.suffix.lower()])
    return path


def make_class_folders(root: Path, files_per_class: Dict[str, Sequence[str]]) -> Path:
    """root/<class>/<file> for each class and file name; colour follows the class."""
    for class_name, names in files_per_class.items():
        for name in names:
            write_image(root / class_name / name, COLOURS.get(class_name, (128, 128, 128)))
    return root


def raw_image_metadata():
    """tf.Transform metadata for raw examples holding image bytes and a label, as the schema has them."""
    import tensorflow as tf
    from tensorflow_transform.tf_metadata import dataset_metadata, schema_utils

    from components import features

    return dataset_metadata.DatasetMetadata(
        schema_utils.schema_from_feature_spec(
            {
                features.IMAGE_KEY: tf.io.FixedLenFeature([1], tf.string),
                features.LABEL_KEY: tf.io.FixedLenFeature([1], tf.int64),
            }
        )
    )


# Headless Chromium as the report tests open pages: no network, no profile left behind, no GPU.
BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
]


def chromium() -> str:
    """The browser's path; skips the test where it is missing (fails on CI, where `make test` installs it)."""
    import pytest

    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing on CI: `make test` should have installed it")
        pytest.skip("chromium is not installed (`make browser` installs it)")
    return found


def eval_examples(output_dir):
    """The serialized tf.Examples of a run's eval split, as ExampleGen wrote them."""
    import glob

    import tensorflow as tf

    pattern = os.path.join(str(output_dir), "pipeline_root", "ImageExampleGen", "examples", "*", "Split-eval", "*")
    records = tf.data.TFRecordDataset(glob.glob(pattern), compression_type="GZIP")
    return [r.numpy() for r in records]


def run_pipeline(data_dir, output_dir, *flags):
    """Runs `run_local.py` as a user does; returns (run_summary.json, stdout). Fails on a non-zero exit."""
    result = subprocess.run(
        [sys.executable, RUN_LOCAL, "--data-dir", str(data_dir), "--output-dir", str(output_dir), *flags],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with open(os.path.join(output_dir, "run_summary.json")) as f:
        return json.load(f), result.stdout


def model_artifact(artifact_id: int):
    """A Model artifact with an ML Metadata id, for the resolvers' strategies."""
    from tfx.types import standard_artifacts

    artifact = standard_artifacts.Model()
    artifact.id = artifact_id
    return artifact


def blessing_artifact(model_id: int, blessed: bool):
    """A ModelBlessing of model `model_id` with the properties the PromotionGate writes."""
    from tfx.types import standard_artifacts

    artifact = standard_artifacts.ModelBlessing()
    artifact.set_int_custom_property("current_model_id", model_id)
    artifact.set_int_custom_property("blessed", int(blessed))
    return artifact
