"""The Trainer's input pipeline: raw examples through a real Transform graph, in memory or streamed."""
import io
import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from PIL import Image
from tensorflow_transform.tf_metadata import metadata_io
from tfx.components.trainer.fn_args_utils import DataAccessor
from tfx.components.util import tfxio_utils
from tfx.types import standard_artifacts

from components import features
from components.trainer import inputs
from components.transform.preprocessing import decode_image, preprocessing_fn, to_pixels
from helpers import raw_image_metadata

SIZE = 16
MIB = 2**20


def test_images_are_kept_in_memory_only_within_the_budget():
    shape = (224, 224, 3)  # 147 KB an image
    plan = inputs.plan_input(1600, 400, shape, budget_bytes=300 * MIB)
    assert plan.in_memory and plan.decoded_bytes == 2000 * 150_528
    assert plan.describe().startswith("decoded once and kept in memory (2,000 images x 147.0 KB decoded = 287 MB")
    plan = inputs.plan_input(16_000, 4_000, shape, budget_bytes=2400 * MIB)
    assert not plan.in_memory
    assert plan.describe() == (
        "streamed from disk and decoded each epoch (20,000 images x 147.0 KB decoded = 2,871 MB, "
        "over the 2,400 MB memory budget, --cache-budget-mb)."
    )
    assert plan.to_json()["mode"] == "stream" and plan.to_json()["reason"] == plan.describe()
    # A zero budget always streams, whatever the size.
    assert not inputs.plan_input(10, 0, (8, 8, 1), budget_bytes=0).in_memory


def test_the_default_budget_is_a_tenth_of_the_memory_or_of_a_container_limit(tmp_path, monkeypatch):
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    monkeypatch.setattr(inputs, "_CGROUP_LIMITS", (str(tmp_path / "missing"),))
    assert inputs.machine_memory_bytes() == physical
    assert inputs.cache_budget_bytes(None) == int(0.1 * physical)
    assert inputs.cache_budget_bytes(512) == 512 * MIB
    limit = tmp_path / "memory.max"
    limit.write_text(f"{4 * 2**30}\n")
    monkeypatch.setattr(inputs, "_CGROUP_LIMITS", (str(tmp_path / "missing"), str(limit)))
    assert inputs.machine_memory_bytes() == min(physical, 4 * 2**30)
    limit.write_text("max\n")  # cgroup v2 without a limit
    assert inputs.machine_memory_bytes() == physical


def encoded(colour, fmt="PNG", size=(37, 23)) -> bytes:
    rng = np.random.default_rng(sum(colour))
    pixels = np.clip(np.array(colour) + rng.normal(0, 25, (size[1], size[0], 3)), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def raw_data(tmp_path_factory):
    """Raw examples as ImageExampleGen writes them (gzip TFRecords in Split-train) and a real
    Transform graph for them, written the way the Transform component does."""
    root = tmp_path_factory.mktemp("inputs")
    images = [encoded((40 * i % 255, 90, 200 - 7 * i), "JPEG" if i % 3 else "PNG") for i in range(24)]
    labels = [i % 3 for i in range(24)]
    split_dir = root / "examples" / "Split-train"
    split_dir.mkdir(parents=True)
    with tf.io.TFRecordWriter(str(split_dir / "data.gz"), options="GZIP") as writer:
        for image, label in zip(images, labels):
            feature = {
                features.IMAGE_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[image])),
                features.LABEL_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
            }
            writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
    examples = standard_artifacts.Examples()
    examples.uri = str(root / "examples")
    examples.split_names = '["train"]'
    accessor = DataAccessor(
        tf_dataset_factory=tfxio_utils.get_tf_dataset_factory_from_artifact([examples], []),
        record_batch_factory=None,
        data_view_decode_fn=None,
    )
    raw_metadata = raw_image_metadata()
    graph = str(root / "transform_graph")
    with tft_beam.Context(temp_dir=str(root / "tft_tmp")):
        transform_fn = ([{features.IMAGE_KEY: [images[0]], features.LABEL_KEY: [0]}], raw_metadata) | (
            tft_beam.AnalyzeDataset(lambda raw: preprocessing_fn(raw, {"image_size": SIZE, "channels": 3}))
        )
        _ = transform_fn | tft_beam.WriteTransformFn(graph)
    metadata_io.write_metadata(raw_metadata, os.path.join(graph, tft.TFTransformOutput.RAW_METADATA_DIR))
    return images, labels, [str(split_dir / "*")], accessor, tft.TFTransformOutput(graph)


def read_all(dataset):
    pixels, labels = zip(*((x.numpy(), y.numpy()) for x, y in dataset))
    return np.concatenate(pixels), np.concatenate(labels)


@pytest.mark.parametrize("in_memory", [True, False])
def test_training_sees_the_float_images_within_half_a_level_in_memory_or_streamed(raw_data, in_memory):
    images, labels, files, accessor, transform_output = raw_data
    dataset = inputs.make_dataset(files, accessor, transform_output, 5, shuffle=False, in_memory=in_memory, images=24)
    pixels, seen_labels = read_all(dataset)
    assert pixels.dtype == np.uint8 and pixels.shape == (24, SIZE, SIZE, 3)
    assert list(seen_labels) == labels
    # What the model trains on (uint8 / 255, its first layer) against what the float pipeline fed it.
    reference = np.stack([decode_image(tf.constant(image), SIZE, 3).numpy() for image in images])
    assert np.abs(pixels / 255.0 - reference).max() <= 0.5 / 255 + 1e-6
    # Serving and the Evaluator run the same graph on the raw bytes: the very same pixels.
    served = transform_output.transform_raw_features({features.IMAGE_KEY: tf.constant([[i] for i in images])})
    np.testing.assert_array_equal(to_pixels(served[features.TRANSFORMED_IMAGE_KEY]).numpy(), pixels)


@pytest.mark.parametrize("in_memory", [True, False])
def test_every_image_comes_once_per_epoch_in_a_new_order(raw_data, in_memory):
    images, labels, files, accessor, transform_output = raw_data
    dataset = inputs.make_dataset(files, accessor, transform_output, 4, shuffle=True, in_memory=in_memory, images=24)
    first, first_labels = read_all(dataset)
    second, _ = read_all(dataset)
    assert sorted(first_labels) == sorted(labels)
    key = lambda batch: sorted(image.tobytes() for image in batch)  # noqa: E731
    assert key(first) == key(second)  # the same images ...
    assert not np.array_equal(first, second)  # ... in another order


def test_examples_are_counted_when_the_hints_do_not_say(raw_data):
    _, labels, files, _, _ = raw_data
    assert inputs.count_examples(files) == len(labels) == 24
