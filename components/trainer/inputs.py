"""The Trainer's input pipeline: raw examples through the Transform graph, in memory or streamed.

Transform writes no transformed examples (the graph needs no statistics of the data), so the
Trainer applies the graph itself, in tf.data, with parallel decoding, and rounds what comes out to
compact uint8 pixels: image_size^2 x channels bytes an image (147 KB at 224 x 224 x 3, 3 KB at 32).

`plan_input` decides how the decoded images reach the model, from their size alone:

* in memory: every decoded train and eval image is kept after the first epoch (tf.data `cache`),
  when they all fit the budget; later epochs decode nothing;
* streamed: otherwise each epoch reads the examples from disk again and decodes them in parallel
  while the model trains, so memory stays flat whatever the number of images. Records are shuffled
  in a buffer bounded in bytes (SHUFFLE_BUFFER_BYTES), and files are read in a new order each epoch.

The budget defaults to a tenth of this machine's memory (or of the container's limit), so that a
laptop keeps room for everything else a run holds; `--cache-budget-mb` sets it.

Oversampling (`--imbalance-strategy oversample`) resamples the training stream as it flows, in
either mode, without copying anything on disk: each image appears N / (K * N_c) times on average
(N images, K classes, N_c images of its class; a fraction is a chance of appearing once more), so
every class makes up about 1/K of an epoch. Epochs keep N images, the same number of steps.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Dict, List, Optional, Sequence

import tensorflow as tf
from tensorflow_transform.tf_metadata import schema_utils
from tfx.components.trainer.fn_args_utils import DataAccessor
from tfx_bsl.public import tfxio

from components import features
from components.transform.preprocessing import to_pixels

DEFAULT_BUDGET_SHARE = 0.10  # of the machine's memory, for decoded images
MAX_SHUFFLE_IMAGES = 10_000
SHUFFLE_BUFFER_BYTES = 256 * 2**20  # for encoded records when streaming
_CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
MIB = 2**20
MIX_BUFFER_BYTES = 64 * MIB  # decoded images that mix an oversampled image's copies into other batches


def machine_memory_bytes() -> int:
    """Physical memory, or the container's limit when that is lower (cgroup v2 or v1)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in _CGROUP_LIMITS:
        try:
            with open(path) as f:
                limit = f.read().strip()
        except OSError:
            continue
        if limit.isdigit():
            total = min(total, int(limit))
    return total


def cache_budget_bytes(cache_budget_mb: Optional[int]) -> int:
    """`--cache-budget-mb` in bytes, or DEFAULT_BUDGET_SHARE of the machine's memory when unset."""
    if cache_budget_mb is None:
        return int(DEFAULT_BUDGET_SHARE * machine_memory_bytes())
    return cache_budget_mb * MIB


def _mb(n_bytes: float) -> str:
    if n_bytes < 10 * MIB:
        return f"{n_bytes / MIB:.1f} MB"
    return f"{n_bytes / MIB:,.0f} MB" if n_bytes < 10 * 2**30 else f"{n_bytes / 2**30:,.1f} GB"


@dataclasses.dataclass(frozen=True)
class InputPlan:
    """How decoded images reach the model, and why (training.json and run_summary.json: `input`)."""

    in_memory: bool
    images: int  # train and eval
    bytes_per_image: int  # decoded uint8 pixels
    budget_bytes: int

    @property
    def decoded_bytes(self) -> int:
        return self.images * self.bytes_per_image

    def describe(self) -> str:
        size = f"{self.images:,} images x {self.bytes_per_image / 1024:,.1f} KB decoded = {_mb(self.decoded_bytes)}"
        if self.in_memory:
            return f"decoded once and kept in memory ({size}, within the {_mb(self.budget_bytes)} budget)."
        return (
            f"streamed from disk and decoded each epoch ({size}, over the {_mb(self.budget_bytes)} "
            "memory budget, --cache-budget-mb)."
        )

    def to_json(self) -> Dict:
        return {
            "mode": "memory" if self.in_memory else "stream",
            "images": self.images,
            "bytes_per_image": self.bytes_per_image,
            "decoded_bytes": self.decoded_bytes,
            "budget_bytes": self.budget_bytes,
            "reason": self.describe(),
        }


def plan_input(train_images: int, eval_images: int, image_shape: Sequence[int], budget_bytes: int) -> InputPlan:
    """In memory when every decoded train and eval image fits `budget_bytes`, else streamed."""
    bytes_per_image = pixel_bytes(image_shape)
    images = train_images + eval_images
    return InputPlan(images * bytes_per_image <= budget_bytes, images, bytes_per_image, budget_bytes)


def pixel_bytes(image_shape: Sequence[int]) -> int:
    """Bytes of one decoded uint8 image of `image_shape`."""
    n_bytes = 1
    for dim in image_shape:
        n_bytes *= int(dim)
    return n_bytes


def oversampling_rates(class_counts: Sequence[int]) -> List[float]:
    """How many times, on average, an image of each class appears in an oversampled epoch:
    N / (K * N_c), so that each of the K classes present makes up 1/K of the N images."""
    present = [c for c in class_counts if c > 0]
    total = sum(present)
    return [total / (len(present) * c) if c > 0 else 0.0 for c in class_counts]


def oversample(dataset: tf.data.Dataset, rates: Sequence[float], images: int, bytes_per_image: int, seed: int = 0):
    """An unbatched (image, label) dataset resampled by class: each element is repeated
    floor(rate) times plus once more with probability frac(rate), copies mixed in a buffer of
    MIX_BUFFER_BYTES, and each pass cut to `images` elements (the data repeats when a pass falls
    short), so an epoch keeps its number of steps."""
    rate_of = tf.constant(list(rates), tf.float32)

    def copies(image, label):
        rate = tf.gather(rate_of, tf.cast(label, tf.int32))
        whole = tf.floor(rate)
        extra = tf.cast(tf.random.uniform([], seed=seed) < rate - whole, tf.float32)
        return tf.data.Dataset.from_tensors((image, label)).repeat(tf.cast(whole + extra, tf.int64))

    mix = int(max(64, min(MAX_SHUFFLE_IMAGES, MIX_BUFFER_BYTES // max(1, bytes_per_image))))
    return dataset.flat_map(copies).shuffle(mix, seed=seed).repeat().take(images)


def _files(file_pattern: List[str]) -> List[str]:
    """The files the Trainer's file patterns (TFX's `fn_args.train_files`) match."""
    return [path for pattern in file_pattern for path in tf.io.gfile.glob(pattern)]


def count_examples(file_pattern: List[str]) -> int:
    """The records in gzip'd TFRecord files: one pass over them (when the hints do not say)."""
    return int(tf.data.TFRecordDataset(_files(file_pattern), compression_type="GZIP").reduce(0, lambda n, _: n + 1))


def _shuffle_records(file_pattern: List[str], images: int, batch_size: int) -> int:
    """How many encoded records a streaming shuffle holds: SHUFFLE_BUFFER_BYTES' worth, by the
    average record size on disk, between one batch and MAX_SHUFFLE_IMAGES."""
    on_disk = sum(tf.io.gfile.stat(path).length for path in _files(file_pattern))
    per_record = max(1, on_disk // max(1, images))
    return int(min(MAX_SHUFFLE_IMAGES, max(batch_size, SHUFFLE_BUFFER_BYTES // per_record)))


def make_dataset(
    file_pattern: List[str],
    data_accessor: DataAccessor,
    tf_transform_output,
    batch_size: int,
    shuffle: bool,
    in_memory: bool,
    images: int,
    seed: int = 0,
    oversampling: Optional[Sequence[float]] = None,
) -> tf.data.Dataset:
    """(uint8 image, label) batches from raw examples, through the Transform graph.

    `images` is the number of examples in `file_pattern` (it sizes the shuffle buffers). In memory,
    decoded images are cached after the first epoch and shuffled each epoch; streamed, records are
    shuffled before decoding, in a buffer bounded in bytes. `oversampling`: per-class rates from
    `oversampling_rates`, to draw the classes evenly (training only).
    """
    raw_spec = tf_transform_output.raw_feature_spec()
    wanted = {features.IMAGE_KEY: raw_spec[features.IMAGE_KEY], features.LABEL_KEY: raw_spec[features.LABEL_KEY]}
    schema = schema_utils.schema_from_feature_spec(wanted)
    streamed_shuffle = shuffle and not in_memory
    dataset = data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(
            batch_size=batch_size,
            shuffle=streamed_shuffle,
            shuffle_buffer_size=_shuffle_records(file_pattern, images, batch_size) if streamed_shuffle else 1,
            shuffle_seed=seed,
            num_epochs=1,
        ),
        schema,
    )
    transform = tf_transform_output.transform_features_layer()

    def pixels_and_label(raw):
        transformed = transform(raw)
        return to_pixels(transformed[features.TRANSFORMED_IMAGE_KEY]), transformed[features.TRANSFORMED_LABEL_KEY]

    dataset = dataset.map(pixels_and_label, num_parallel_calls=tf.data.AUTOTUNE)
    if in_memory or oversampling:
        dataset = dataset.unbatch()
        if in_memory:
            dataset = dataset.cache()
            if shuffle:
                dataset = dataset.shuffle(min(images, MAX_SHUFFLE_IMAGES), seed=seed, reshuffle_each_iteration=True)
        if oversampling:
            image_shape = tf_transform_output.transformed_feature_spec()[features.TRANSFORMED_IMAGE_KEY].shape
            dataset = oversample(dataset, oversampling, images, pixel_bytes(image_shape), seed)
        dataset = dataset.batch(batch_size)
    return dataset.prefetch(tf.data.AUTOTUNE)
