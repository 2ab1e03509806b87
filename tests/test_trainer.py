"""Model builder, training loop (best epoch kept) and export (Transform graph inside)."""
import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from PIL import Image
from tensorflow_transform.tf_metadata import metadata_io

from components import artifacts, features
from components.trainer.export import export_serving_model
from components.trainer.model import BACKBONE_LAYER, augmentation, build_model
from components.trainer.options import TrainingOptions
from components.trainer.train import train
from components.transform.preprocessing import preprocessing_fn
from helpers import raw_image_metadata

SIZE = 8


def dark_and_bright(n_per_class, seed, size=SIZE):
    """Class 0: dark noisy images; class 1: bright ones; uint8 pixels, as the Transform graph gives."""
    rng = np.random.default_rng(seed)
    dark = rng.uniform(0.0, 0.4, (n_per_class, size, size, 3))
    bright = rng.uniform(0.6, 1.0, (n_per_class, size, size, 3))
    x = np.round(np.concatenate([dark, bright]) * 255).astype(np.uint8)
    y = np.array([0] * n_per_class + [1] * n_per_class, np.int64)
    return tf.data.Dataset.from_tensor_slices((x, y)).shuffle(2 * n_per_class, seed=seed).batch(8)


def train_dark_and_bright(model_dir: str, eval_data=None):
    """`train` on dark_and_bright: a model that separates the two classes in a few epochs."""
    return train(
        dark_and_bright(32, seed=0),
        eval_data if eval_data is not None else dark_and_bright(16, seed=1),
        input_shape=(SIZE, SIZE, 3),
        num_classes=2,
        model_dir=model_dir,
        options=TrainingOptions(epochs=6, learning_rate=3e-3, early_stopping_patience=6, augment=False),
    )


@pytest.mark.parametrize(
    "architecture, channels",
    [("simple_cnn", 3), ("deeper_cnn", 3), ("deeper_cnn", 1), ("resnet_small", 1), ("transfer", 1), ("efficientnet_b0", 3)],
)
def test_every_architecture_outputs_a_probability_per_class(architecture, channels):
    size = 32  # MobileNetV2's smallest input
    model = build_model(architecture, (size, size, channels), num_classes=4, augment=True)
    probabilities = model(np.zeros((2, size, size, channels), np.uint8)).numpy()
    assert probabilities.shape == (2, 4)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("architecture", ["simple_cnn", "deeper_cnn", "resnet_small", "transfer"])
def test_parameters_stay_bounded_as_images_grow(architecture):
    """A Flatten head over 224 px feature maps had 12.8 M weights; every model now ends at a fixed
    size (4x4 or global pooling), so 224 px costs at most a fifth more parameters than 32 px."""
    small = build_model(architecture, (32, 32, 3), num_classes=10, augment=True).count_params()
    large = build_model(architecture, (224, 224, 3), num_classes=10, augment=True).count_params()
    assert large <= 1.2 * small and large < 3_000_000, (small, large)


def test_simple_cnn_at_32_px_is_the_three_block_model_people_start_with():
    model = build_model("simple_cnn", (32, 32, 1), num_classes=10)
    convs = [layer for layer in model.layers if isinstance(layer, tf.keras.layers.Conv2D)]
    assert [conv.filters for conv in convs] == [32, 64, 128] and not any(c.name.startswith("stem") for c in convs)
    # A 224 px image is first brought down by stride-2 convolutions, then pooled to 3x3.
    large = build_model("simple_cnn", (224, 224, 1), num_classes=10)
    assert [layer.name for layer in large.layers if layer.name.startswith("stem")] == ["stem_0", "stem_1"]
    (flatten,) = [layer for layer in large.layers if isinstance(layer, tf.keras.layers.Flatten)]
    assert flatten.input_shape[1:] == (3, 3, 128)


def test_a_gpu_trains_in_mixed_precision_and_exports_float32(tmp_path, monkeypatch):
    from components.trainer import train as train_module

    assert train_module.precision_policy(0) == "float32"
    assert train_module.precision_policy(1) == "mixed_float16"
    # This machine has no GPU: the mixed policy is forced, and float16 runs on the CPU, slowly.
    monkeypatch.setattr(train_module, "precision_policy", lambda gpus: "mixed_float16")
    result = train(
        dark_and_bright(16, seed=0),
        dark_and_bright(8, seed=1),
        input_shape=(SIZE, SIZE, 3),
        num_classes=2,
        model_dir=str(tmp_path),
        options=TrainingOptions(epochs=2, learning_rate=3e-3, augment=False),
    )
    assert tf.keras.mixed_precision.global_policy().name == "float32"  # restored for what follows
    assert {layer.dtype_policy.name for layer in result.model.layers[1:]} == {"float32"}  # after the uint8 input
    trained = tf.keras.models.load_model(os.path.join(tmp_path, artifacts.BEST_MODEL_FILE))
    assert trained.get_layer("probabilities").dtype_policy.name == "float32"
    assert any(layer.dtype_policy.name == "mixed_float16" for layer in trained.layers)
    images = next(iter(dark_and_bright(4, seed=2)))[0]
    np.testing.assert_allclose(result.model(images).numpy(), trained(images).numpy(), atol=2e-3)


def test_augmentation_changes_images_in_training_only():
    images = tf.constant(np.random.default_rng(0).uniform(0, 1, (4, 16, 16, 3)), tf.float32)  # after scaling
    block = augmentation("horizontal")
    np.testing.assert_array_equal(block(images, training=False).numpy(), images.numpy())
    assert not np.allclose(block(images, training=True).numpy(), images.numpy())
    assert any(isinstance(layer, tf.keras.layers.RandomFlip) for layer in block.layers)
    assert not any(isinstance(layer, tf.keras.layers.RandomFlip) for layer in augmentation("none").layers)


def test_transfer_loads_a_local_weights_file_and_trains_frozen_then_fine_tuned(tmp_path):
    source = tf.keras.applications.MobileNetV2(input_shape=(32, 32, 3), include_top=False, weights=None)
    weights = str(tmp_path / "mobilenet_v2_no_top.h5")
    source.save_weights(weights)
    model = build_model("transfer", (32, 32, 3), num_classes=2, pretrained_weights=weights)
    for loaded, saved in zip(model.get_layer(BACKBONE_LAYER).get_weights(), source.get_weights()):
        np.testing.assert_array_equal(loaded, saved)

    result = train(
        dark_and_bright(8, seed=0, size=32),
        dark_and_bright(4, seed=1, size=32),
        input_shape=(32, 32, 3),
        num_classes=2,
        model_dir=str(tmp_path / "run"),
        options=TrainingOptions(
            epochs=2,
            learning_rate=1e-3,
            early_stopping_patience=2,
            architecture="transfer",
            augment=False,
            pretrained_weights=weights,
        ),
    )
    # One frozen epoch at the learning rate, then one fine-tuning epoch at a tenth of it.
    assert result.history["learning_rate"] == pytest.approx([1e-3, 1e-4])
    assert os.path.exists(os.path.join(tmp_path / "run", artifacts.BEST_MODEL_FILE))


def test_imagenet_weights_come_from_keras_cache_without_the_network(tmp_path, monkeypatch):
    """MobileNetV2: Keras checks no hash, so a file in $KERAS_HOME/models is what it loads (the
    official file is fetched there once by the same call on a machine with internet)."""
    from components.trainer.weights import imagenet_weights

    os.makedirs(tmp_path / "keras")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")  # any download attempt fails at once
    source = tf.keras.applications.MobileNetV2(input_shape=(32, 32, 3), include_top=False, weights=None)
    cached = imagenet_weights("mobilenet_v2", 32)
    assert cached.file_name == "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"  # 32 px: 224's
    assert cached.cache_path == str(tmp_path / "keras" / "models" / cached.file_name)
    os.makedirs(os.path.dirname(cached.cache_path))
    source.save_weights(cached.cache_path)
    model = build_model("mobilenet_v2", (32, 32, 1), num_classes=3, pretrained_weights="imagenet")
    for loaded, saved in zip(model.get_layer(BACKBONE_LAYER).get_weights(), source.get_weights()):
        np.testing.assert_array_equal(loaded, saved)


def test_without_the_network_or_a_cached_file_one_line_says_what_to_fetch_and_where(tmp_path, monkeypatch):
    from components.trainer.weights import WeightsUnavailableError

    os.makedirs(tmp_path / "keras")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:9")
    with pytest.raises(WeightsUnavailableError) as raised:
        build_model("efficientnet_b0", (32, 32, 3), num_classes=2, pretrained_weights="imagenet")
    message = str(raised.value)
    assert "\n" not in message
    assert "https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5" in message
    assert str(tmp_path / "keras" / "models" / "efficientnetb0_notop.h5") in message


def test_efficientnet_loads_a_named_weights_file(tmp_path):
    """Keras checks EfficientNet's cached file against the official hash (a made-up file would be
    fetched again), so the test names its file instead: the same loading code after the fetch."""
    source = tf.keras.applications.EfficientNetB0(input_shape=(32, 32, 3), include_top=False, weights=None)
    weights = str(tmp_path / "efficientnetb0_notop.h5")
    source.save_weights(weights)
    model = build_model("efficientnet_b0", (32, 32, 3), num_classes=2, pretrained_weights=weights)
    for loaded, saved in zip(model.get_layer(BACKBONE_LAYER).get_weights(), source.get_weights()):
        np.testing.assert_array_equal(loaded, saved)


def test_model_needs_two_classes():
    with pytest.raises(ValueError, match="at least 2 classes"):
        build_model("simple_cnn", (SIZE, SIZE, 3), num_classes=1)


def test_training_learns_and_returns_the_best_epochs_model(tmp_path):
    eval_data = dark_and_bright(16, seed=1)
    result = train_dark_and_bright(str(tmp_path), eval_data)
    val_accuracy = result.history["val_accuracy"]
    assert result.best_epoch == val_accuracy.index(max(val_accuracy)) + 1
    assert max(val_accuracy) > 0.9
    # The returned model is the checkpointed best epoch: it scores that epoch's validation accuracy.
    _, accuracy = result.model.evaluate(eval_data, verbose=0)
    assert accuracy == pytest.approx(max(val_accuracy), abs=1e-6)
    assert os.path.exists(os.path.join(tmp_path, artifacts.BEST_MODEL_FILE))
    with open(os.path.join(tmp_path, artifacts.HISTORY_FILE)) as f:
        saved = json.load(f)
    assert saved["best_epoch"] == result.best_epoch and saved["epochs_run"] == len(val_accuracy)


def png(value: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 12), (value, value, value)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def transform_output(tmp_path):
    """A real Transform graph for SIZE x SIZE RGB images, written the way the Transform component does."""
    raw_metadata = raw_image_metadata()
    raw = [{features.IMAGE_KEY: [png(0)], features.LABEL_KEY: [0]}]
    out = str(tmp_path / "transform_graph")
    with tft_beam.Context(temp_dir=str(tmp_path / "tft_tmp")):
        transform_fn = (raw, raw_metadata) | tft_beam.AnalyzeDataset(
            lambda inputs: preprocessing_fn(inputs, {"image_size": SIZE, "channels": 3})
        )
        _ = transform_fn | tft_beam.WriteTransformFn(out)
    metadata_io.write_metadata(raw_metadata, os.path.join(out, tft.TFTransformOutput.RAW_METADATA_DIR))
    return tft.TFTransformOutput(out)


def test_exported_model_classifies_raw_images_through_both_signatures(tmp_path, transform_output):
    result = train_dark_and_bright(str(tmp_path / "run"))
    export_dir = str(tmp_path / "serving")
    export_serving_model(result.model, transform_output, ["dark", "bright"], export_dir, train_counts=[32, 32])

    loaded = tf.saved_model.load(export_dir)
    images = [png(10), png(250)]
    by_image = loaded.signatures[features.IMAGE_SIGNATURE](image_bytes=tf.constant(images))
    assert [n.decode() for n in by_image["class_name"].numpy()] == ["dark", "bright"]
    assert list(by_image["class_index"].numpy()) == [0, 1]
    # The explaining signature answers the same and adds where the model looked, on what it saw.
    explained = loaded.signatures[features.EXPLAIN_SIGNATURE](image_bytes=tf.constant(images))
    np.testing.assert_allclose(
        explained[features.PROBABILITIES_OUTPUT].numpy(), by_image[features.PROBABILITIES_OUTPUT].numpy(), rtol=1e-5
    )
    heatmaps, pixels = explained[features.HEATMAP_OUTPUT].numpy(), explained[features.PIXELS_OUTPUT].numpy()
    assert heatmaps.shape == (2, SIZE, SIZE) and 0 <= heatmaps.min() and heatmaps.max() <= 1
    assert pixels.dtype == np.uint8 and pixels.shape == (2, SIZE, SIZE, 3)
    assert pixels[0].max() <= 10 and pixels[1].min() >= 250  # the dark and the bright image, decoded

    examples = [
        tf.train.Example(
            features=tf.train.Features(
                feature={features.IMAGE_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[image]))}
            )
        ).SerializeToString()
        for image in images
    ]
    by_example = loaded.signatures[features.SERVING_SIGNATURE](examples=tf.constant(examples))
    np.testing.assert_allclose(
        by_example[features.PROBABILITIES_OUTPUT].numpy(), by_image[features.PROBABILITIES_OUTPUT].numpy(), rtol=1e-5
    )
    with open(os.path.join(export_dir, "assets.extra", artifacts.CLASS_NAMES_FILE)) as f:
        assert json.load(f) == ["dark", "bright"]
    # What the TF Lite models take, and the training classes batch prediction compares with.
    with open(os.path.join(export_dir, "assets.extra", artifacts.INPUT_SPEC_FILE)) as f:
        spec = json.load(f)
    assert spec["shape"] == [None, SIZE, SIZE, 3] and spec["dtype"] == "uint8" and spec["range"] == [0, 255]
    with open(os.path.join(export_dir, "assets.extra", artifacts.TRAIN_CLASS_COUNTS_FILE)) as f:
        assert json.load(f) == {"dark": 32, "bright": 32}

    # TensorFlow's own tool sees both signatures and runs them on raw bytes (fed as .npy files).
    cli = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")

    def saved_model_cli(*argv):
        result = subprocess.run([cli, *argv], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    shown = saved_model_cli("show", "--dir", export_dir, "--all")
    assert f"signature_def['{features.SERVING_SIGNATURE}']" in shown
    assert f"signature_def['{features.IMAGE_SIGNATURE}']" in shown
    assert f"signature_def['{features.EXPLAIN_SIGNATURE}']" in shown
    np.save(tmp_path / "images.npy", np.array([png(250)]))
    ran = saved_model_cli(
        "run", "--dir", export_dir, "--tag_set", "serve", "--signature_def", features.IMAGE_SIGNATURE,
        "--inputs", f"image_bytes={tmp_path / 'images.npy'}",
    )
    assert "[b'bright']" in ran
    np.save(tmp_path / "examples.npy", np.array([examples[1]]))
    ran = saved_model_cli(
        "run", "--dir", export_dir, "--tag_set", "serve", "--signature_def", features.SERVING_SIGNATURE,
        "--inputs", f"examples={tmp_path / 'examples.npy'}",
    )
    assert "Result for output key probabilities" in ran


def test_a_weights_file_on_a_remote_file_system_is_copied_to_local_disk_for_keras(tmp_path):
    import tensorflow as tf

    from components.trainer.model import _local_copy

    source = tmp_path / "w.h5"
    source.write_bytes(b"weights")
    remote = "ram://bucket/w.h5"  # TensorFlow's in-memory file system stands in for gs://
    tf.io.gfile.copy(str(source), remote, overwrite=True)
    local = _local_copy(remote)
    assert "://" not in local and local.endswith("w.h5") and open(local, "rb").read() == b"weights"
    assert _local_copy(str(source)) == str(source)


def test_autograph_leaves_keras_own_code_alone():
    """AutoGraph rewrote tf_keras' whole training step (about 12 s of every first epoch) because
    its skip list names `keras` but not `tf_keras`; the trainer adds it."""
    import tf_keras
    from tensorflow.python.autograph.impl import conversion

    import components.trainer.model  # noqa: F401 - importing it applies the rule

    assert conversion.is_allowlisted(tf_keras.Model.train_step)
    assert not conversion.is_allowlisted(test_autograph_leaves_keras_own_code_alone)
