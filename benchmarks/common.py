"""Shared by the benchmarks: Fashion-MNIST as image folders, timing, peak memory, JSON output."""
from __future__ import annotations

import gzip
import json
import os
import platform
import re
import resource
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian's dataset-fashion-mnist
FASHION_CLASSES = (
    "tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot",
)  # fmt: skip


def _idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    _, _, dims = struct.unpack(">HBB", data[:4])
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_fashion_mnist(split: str = "train") -> Tuple[np.ndarray, np.ndarray]:
    """(images uint8 [n, 28, 28], labels uint8 [n]) from the Debian package's IDX files."""
    prefix = "train" if split == "train" else "t10k"
    images, labels = FASHION_DIR / f"{prefix}-images-idx3-ubyte.gz", FASHION_DIR / f"{prefix}-labels-idx1-ubyte.gz"
    if not images.exists():
        sys.exit(f"error: {images} is missing: install Debian's dataset-fashion-mnist (make benchmark-data).")
    return _idx(images), _idx(labels)


def fashion_images(n: int) -> Tuple[np.ndarray, np.ndarray]:
    """n Fashion-MNIST images: the 60,000 training then the 10,000 test images, then the same
    rotated by 90, 180 and 270 degrees (up to 280,000), so that larger sizes are real images too."""
    train, test = load_fashion_mnist("train"), load_fashion_mnist("test")
    images, labels = np.concatenate([train[0], test[0]]), np.concatenate([train[1], test[1]])
    if n > 4 * len(labels):
        sys.exit(f"error: at most {4 * len(labels)} Fashion-MNIST images with rotations, not {n}.")
    turns = [np.rot90(images, k, axes=(1, 2)) for k in range((n - 1) // len(labels) + 1)]
    return np.concatenate(turns)[:n], np.tile(labels, len(turns))[:n]


def write_image_folders(
    root: Path,
    images: np.ndarray,
    labels: np.ndarray,
    majority_share: Optional[float] = None,
    seed: int = 0,
    size: Optional[int] = None,
) -> Dict[str, int]:
    """PNG files in root/<class>/ (made once; reused when the folder is complete). With
    `majority_share`, class 0 is that share of the images (the imbalanced variant); with `size`,
    images are upscaled (bicubic) to size x size pixels, as photos are larger than 28 px."""
    from PIL import Image

    indices = np.arange(len(labels))
    if majority_share is not None:
        rng = np.random.RandomState(seed)
        majority = indices[labels == 0]
        others = indices[labels != 0]
        n_others = int(len(majority) * (1 - majority_share) / majority_share)
        indices = np.concatenate([majority, rng.choice(others, size=min(n_others, len(others)), replace=False)])
    done = root / ".complete"
    counts = {name: int((labels[indices] == i).sum()) for i, name in enumerate(FASHION_CLASSES)}
    if done.exists():
        return counts
    for index in indices:
        path = root / FASHION_CLASSES[labels[index]] / f"{index:06d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        image = Image.fromarray(images[index])
        if size:
            image = image.resize((size, size), Image.BICUBIC)
        image.save(path)
    done.write_text(json.dumps(counts))
    return counts


CACHE = Path(tempfile.gettempdir()) / "image-pipeline-benchmarks"  # image folders, written once


def run_data_steps(
    data_dir: Path,
    output_dir: Path,
    beam_args: Sequence[str] = (),
    enable_cache: bool = True,
    image_size: int = 28,
    last_component: str = "Transform",
):
    """Runs the DAG up to `last_component` with LocalDagRunner; returns (seconds, the run's MLMD record)."""
    from tfx.orchestration.local.local_dag_runner import LocalDagRunner
    from tfx.orchestration.metadata import sqlite_metadata_connection_config

    from components.transform.options import ImageOptions
    from pipeline import config as config_lib
    from pipeline import dag, run_record
    from pipeline.beam_packaging import beam_args as all_beam_args

    config = config_lib.PipelineConfig(
        data=config_lib.DataConfig(data_dir=str(data_dir)),
        image=ImageOptions(image_size=image_size),
        runtime=config_lib.RuntimeConfig(
            output_dir=str(output_dir),
            enable_cache=enable_cache,
            beam_args=all_beam_args(beam_args, str(config_lib.SETUP_FILE)),
        ),
    )
    pipeline = dag.create_pipeline(
        config,
        metadata_connection_config=sqlite_metadata_connection_config(config.runtime.metadata_path),
        last_component=last_component,
    )
    with Timer() as timer:
        LocalDagRunner().run(pipeline)
    store = run_record.open_store(config.runtime.metadata_path)
    return timer.seconds, run_record.read_run(store, config.runtime.pipeline_name)


def each_size_in_its_own_process(script: str, sizes: Sequence[int], beam_args: Sequence[str]) -> list:
    """Runs `script --one N` for each size in a fresh process (so peak memory is that size's) and
    returns the JSON each printed last."""
    runs = []
    for n in sizes:
        command = [sys.executable, script, "--one", str(n), *(f"--beam-arg={a}" for a in beam_args)]
        result = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
        if result.returncode:
            sys.exit(f"size {n} failed:\n{result.stderr[-3000:]}")
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
        print(f"{n} images: {runs[-1]['seconds']} s, peak {runs[-1]['peak_rss_mib']} MiB", file=sys.stderr)
    return runs


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start


def time_budget(seconds: float):
    """A Keras callback that stops training before an epoch that would not finish within `seconds`
    of its creation (judged by the longest epoch so far)."""
    import tensorflow as tf

    class TimeBudget(tf.keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.started, self.longest = time.perf_counter(), 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.longest = max(self.longest, time.perf_counter() - self.epoch_started)
            if time.perf_counter() - self.started + self.longest > seconds:
                self.model.stop_training = True

    return TimeBudget()


def peak_rss_mib(children: bool = False) -> float:
    """Peak resident memory of this process (or of its finished children), in MiB."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF)
    return usage.ru_maxrss / 1024  # kilobytes on Linux


def machine() -> Dict:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def emit(result: Dict, how: str, argv: Sequence[str]) -> None:
    """Prints the result as JSON with how it was run."""
    print(json.dumps({**result, "how": how, "command": " ".join(["python", *argv]), "machine": machine()}, indent=2))


def run_pipeline_process(data_dir: Path, output_dir: Path, flags: Sequence[str] = ()) -> Tuple[float, Dict, Dict[str, float]]:
    """`run_local.py` on `data_dir` as a user runs it, timed as a whole: (seconds, its
    run_summary.json, each step's seconds from its progress lines). Exits with the run's output
    when it fails."""
    command = [sys.executable, str(REPO_ROOT / "pipeline" / "run_local.py"), "--data-dir", str(data_dir), "--output-dir", str(output_dir), *flags]
    started = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
    seconds = time.perf_counter() - started
    if run.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}")
    with open(Path(output_dir) / "run_summary.json") as f:
        summary = json.load(f)
    steps = {name: float(t) for name, t in re.findall(r"^\[(\w+)\] done in ([\d.]+)s", run.stdout, re.M)}
    return seconds, summary, steps

