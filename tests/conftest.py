"""Shared fixtures: tiny image folders, the built-in sample, and one pipeline run on it."""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

from helpers import make_class_folders, run_pipeline  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: runs the whole pipeline (about a minute each); run by `make test`")
    # Deprecation notices from Google client libraries and TensorFlow say nothing about this project.
    for category in ("FutureWarning", "DeprecationWarning", "PendingDeprecationWarning"):
        config.addinivalue_line("filterwarnings", f"ignore::{category}")


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


@pytest.fixture(scope="session")
def first_run(sample_dir, tmp_path_factory):
    """One default run of the pipeline on the sample: (sample dir, output dir, summary, stdout)."""
    output_dir = tmp_path_factory.mktemp("e2e") / "out"
    summary, stdout = run_pipeline(sample_dir, output_dir)
    return sample_dir, output_dir, summary, stdout
