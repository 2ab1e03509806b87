"""Shared fixtures: tiny image folders made on the fly, and the built-in sample."""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pathlib import Path  # noqa: E402
from typing import Dict, Sequence  # noqa: E402

import pytest  # noqa: E402
from PIL import Image  # noqa: E402

# The pipeline's node ids, as ML Metadata, the run summary and the compiled specs name them.
PIPELINE_NODES = {
    "ImageExampleGen",
    "ImportSchemaGen",
    "StatisticsGen",
    "ExampleValidator",
    "LabelBalance",
    "Transform",
    "Trainer",
    "LatestBlessedModelResolver",
    "Evaluator",
    "PromotionGate",
    "Pusher",
}

# Distinct colours so a test can tell classes apart after decoding.
COLOURS = {"cat": (200, 30, 30), "dog": (30, 200, 30), "owl": (30, 30, 200)}
PIL_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".bmp": "BMP"}


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: runs the whole pipeline (about a minute each); run by `make test`")
    # Deprecation notices from Google client libraries and TensorFlow say nothing about this project.
    for category in ("FutureWarning", "DeprecationWarning", "PendingDeprecationWarning"):
        config.addinivalue_line("filterwarnings", f"ignore::{category}")


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


@pytest.fixture
def image_dir(tmp_path):
    """Three classes in class folders, every supported format represented."""
    return make_class_folders(
        tmp_path / "images",
        {
            "cat": ["a.png", "b.jpg", "c.gif", "d.bmp", "e.jpeg"],
            "dog": ["a.png", "b.PNG", "c.jpg"],
            "owl": ["a.bmp", "b.gif"],
        },
    )


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory):
    """The built-in sample dataset, written once per test session."""
    from pipeline.sample_data import write_sample_dataset

    out = tmp_path_factory.mktemp("sample") / "digits"
    write_sample_dataset(out)
    return out


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

