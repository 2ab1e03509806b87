"""TF Lite models load in TF Lite's interpreter and agree with the SavedModel; an int8 model that
does not agree enough is not published."""
import io
import json
import os

import numpy as np
import tensorflow as tf
from PIL import Image

from components import artifacts, features
from components.edge_export.component import publish
from components.edge_export.convert import FILE_NAMES, FLOAT, INT8, TFLiteClassifier
from components.edge_export.export import export_edge_models
from components.edge_export.options import EdgeOptions
from components.contracts.edge import EdgeRecord
from components.edge_export.parity import describe, publish_int8
from components.trainer.export import export_serving_model
from components.trainer.model import build_model
from pipeline.summary import edge_fields
from test_trainer import SIZE, dark_and_bright, train_dark_and_bright, transform_output  # noqa: F401 - a fixture

CLASSES = [f"c{k}" for k in range(10)]


def write_split(path, pixel_arrays, labels):
    """A gzipped tf.Example file as ExampleGen writes it: PNG bytes, label, path."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path, options="GZIP") as writer:
        for k, (pixels, label) in enumerate(zip(pixel_arrays, labels)):
            buffer = io.BytesIO()
            Image.fromarray(pixels).save(buffer, format="PNG")
            feature = {
                features.IMAGE_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[buffer.getvalue()])),
                features.LABEL_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)])),
                features.PATH_KEY: tf.train.Feature(bytes_list=tf.train.BytesList(value=[f"{k}.png".encode()])),
            }
            writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())
    return path


def edge_models(tmp_path, model, transform_output, class_names, train_pixels, eval_pixels, eval_labels):  # noqa: F811
    """export_edge_models over an exported `model` and example files of the given pixels."""
    export_dir = str(tmp_path / "serving")
    export_serving_model(model, transform_output, class_names, export_dir)
    train_pattern = write_split(str(tmp_path / "Split-train" / "data.gz"), train_pixels, [0] * len(train_pixels))
    eval_pattern = write_split(str(tmp_path / "Split-eval" / "data.gz"), eval_pixels, eval_labels)
    out = tmp_path / "edge"
    out.mkdir()
    options = EdgeOptions(parity_images=1000, representative_images=32)
    layer = transform_output.transform_features_layer()
    return export_edge_models(export_dir, layer, train_pattern, eval_pattern, options, str(out))


def test_a_trained_model_survives_both_conversions_and_is_published(tmp_path, transform_output):  # noqa: F811
    result = train_dark_and_bright(str(tmp_path / "run"))
    pixels, labels = map(np.concatenate, zip(*[(x.numpy(), y.numpy()) for x, y in dark_and_bright(20, seed=2)]))
    record = edge_models(tmp_path, result.model, transform_output, ["dark", "bright"], pixels[:32], pixels, labels)
    assert record.parity_images == 40 and record.saved_model.accuracy == 1.0
    for key in (FLOAT, INT8):
        model = getattr(record, key)
        assert model.agreement == 1.0 and model.accuracy == 1.0 and model.published, key
        assert model.bytes == os.path.getsize(model.path)
    # The files load in TF Lite's interpreter; the float model gives the Keras model's probabilities.
    keras_probabilities = result.model(pixels, training=False).numpy()
    float_model = TFLiteClassifier(model_path=record.tflite_float.path)
    assert float_model.input_shape == (SIZE, SIZE, 3)
    np.testing.assert_allclose(float_model.probabilities(pixels), keras_probabilities, atol=1e-5)
    int8 = TFLiteClassifier(model_path=record.tflite_int8.path).probabilities(pixels)
    np.testing.assert_allclose(int8, keras_probabilities, atol=0.05)
    assert record.tflite_int8.bytes < record.tflite_float.bytes

    published = publish(record, str(tmp_path / "published"), "17", ["dark", "bright"])
    folder = published.folder
    assert sorted(os.listdir(folder)) == sorted(
        [FILE_NAMES[FLOAT], FILE_NAMES[INT8], artifacts.INPUT_SPEC_FILE, artifacts.CLASS_NAMES_FILE, artifacts.EDGE_EXPORT_FILE]
    )
    assert published.tflite_int8.path == os.path.join(folder, FILE_NAMES[INT8])  # the summary names the published file
    assert not [name for name in os.listdir(tmp_path / "published") if name.startswith(".")]


def test_an_int8_model_below_the_agreement_threshold_is_not_published(tmp_path, transform_output):  # noqa: F811
    # An untrained ten-class model answers almost uniformly: 8-bit probabilities tie and its top
    # class changes, the way a model with small margins loses its answers to quantisation.
    tf.keras.utils.set_random_seed(0)
    model = build_model("simple_cnn", (SIZE, SIZE, 3), num_classes=len(CLASSES))
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (64, SIZE, SIZE, 3), dtype=np.uint8)
    record = edge_models(tmp_path, model, transform_output, CLASSES, pixels[:32], pixels, rng.integers(0, 10, 64))
    assert record.tflite_float.agreement == 1.0 and record.tflite_float.published
    int8 = record.tflite_int8
    assert int8.agreement < 0.98 and not int8.published
    assert "is not published" in int8.reason and "--min-int8-agreement" in int8.reason

    published = publish(record, str(tmp_path / "published"), "3", CLASSES)
    folder = published.folder
    assert FILE_NAMES[INT8] not in os.listdir(folder) and FILE_NAMES[FLOAT] in os.listdir(folder)
    with open(os.path.join(folder, artifacts.EDGE_EXPORT_FILE)) as f:
        assert json.load(f)[INT8]["published"] is False
    assert os.path.exists(int8.path)  # kept in the artifact, to be looked at
    fields = edge_fields(published)
    assert fields[INT8]["published"] is False and fields[FLOAT]["path"] == os.path.join(folder, FILE_NAMES[FLOAT])
    assert any("int8" in line and "not published" in line for line in describe(published))


def test_the_int8_threshold_and_the_lines_without_a_model():
    assert publish_int8(0.98, 0.98) is None
    assert publish_int8(0.975, 0.98).startswith("the int8 model agrees with the SavedModel on 97.5% of eval images")
    assert describe(EdgeRecord(exported=False, reason="the model was not pushed", min_int8_agreement=0.98)) == [
        "Edge: no TF Lite models: the model was not pushed."
    ]
