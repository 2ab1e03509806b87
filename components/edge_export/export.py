"""Write the TF Lite models of an exported model and check them on the eval split (no TFX here).

The SavedModel's answers come from its own `serving_default` signature over the eval split's
tf.Examples (decode and resize inside, as served); the TF Lite models get the same images as
pixels from the Transform graph, the step a device app does itself. So the agreement measures
everything a device changes: no decode in the model, TF Lite kernels, and int8 arithmetic.
"""
from __future__ import annotations

import itertools
from typing import Dict, Iterator, List, Tuple

import numpy as np
import tensorflow as tf

from components import artifacts, features
from components.edge_export.convert import FILE_NAMES, FLOAT, INT8, TFLiteClassifier, input_spec, to_tflite
from components.edge_export.options import EdgeOptions
from components.edge_export.parity import publish_int8, scores
from components.transform.preprocessing import to_pixels

BATCH_SIZE = 64


def pixel_batches(tft_layer, file_pattern: str, limit: int) -> Iterator[Tuple[tf.Tensor, np.ndarray, np.ndarray]]:
    """(serialized tf.Examples, their uint8 pixels as the model sees them, labels) for the first
    `limit` examples matching `file_pattern`, a batch at a time."""
    batches = artifacts.image_example_batches(file_pattern, BATCH_SIZE)
    seen = 0
    for batch in batches:
        take = min(len(batch.images), limit - seen)
        if take <= 0:
            return
        image_bytes = tf.reshape(tf.constant(batch.images[:take]), [-1, 1])
        transformed = tft_layer({features.IMAGE_KEY: image_bytes})
        pixels = to_pixels(transformed[features.TRANSFORMED_IMAGE_KEY]).numpy()
        yield batch.serialized[:take], pixels, batch.labels[:take]
        seen += take


def export_edge_models(
    serving_model_dir: str, tft_layer, train_pattern: str, eval_pattern: str, options: EdgeOptions, out_dir: str
) -> Dict:
    """Writes FILE_NAMES' TF Lite models into `out_dir` and returns the edge_export.json record:
    per model its file, size, agreement with the SavedModel, accuracy, balanced accuracy, and
    whether it may be published (the int8 model only at `options.min_int8_agreement` or more)."""
    keras_model = tf.keras.models.load_model(serving_model_dir, compile=False)
    served = tf.saved_model.load(serving_model_dir).signatures[features.SERVING_SIGNATURE]
    representative = itertools.chain.from_iterable(
        pixels for _, pixels, _ in pixel_batches(tft_layer, train_pattern, options.representative_images)
    )
    flatbuffers, failures = {}, {}
    for key, calibration in ((FLOAT, None), (INT8, representative)):
        try:
            flatbuffers[key] = to_tflite(keras_model, calibration)
        except Exception as error:  # noqa: BLE001 - the converter names the op; the run goes on without that model
            first_line = (str(error).strip().splitlines() or [""])[0][:300]
            failures[key] = f"TF Lite could not convert the model ({type(error).__name__}: {first_line})"
    classifiers = {key: TFLiteClassifier(model_content=content) for key, content in flatbuffers.items()}
    labels, reference, predicted = [], [], {key: [] for key in flatbuffers}
    for serialized, pixels, batch_labels in pixel_batches(tft_layer, eval_pattern, options.parity_images):
        labels.append(batch_labels)
        reference.append(served(examples=serialized)[features.PROBABILITIES_OUTPUT].numpy().argmax(axis=1))
        for key, classifier in classifiers.items():
            predicted[key].append(classifier.probabilities(pixels).argmax(axis=1))
    if not labels:
        raise FileNotFoundError(f"No eval examples match {eval_pattern}: the TF Lite models cannot be checked.")
    labels, reference = np.concatenate(labels), np.concatenate(reference)
    record = {
        "exported": True,
        "reason": None,
        "parity_images": int(labels.size),
        "min_int8_agreement": options.min_int8_agreement,
        "representative_images": options.representative_images,
        "saved_model": scores(labels, reference),
        "input_spec": input_spec_of(keras_model),
    }
    for key, content in flatbuffers.items():
        path = artifacts.write_bytes(out_dir, FILE_NAMES[key], content)
        model = {"path": path, "bytes": len(content), **scores(labels, np.concatenate(predicted[key]), reference)}
        reason = publish_int8(model["agreement"], options.min_int8_agreement) if key == INT8 else None
        record[key] = {**model, "published": reason is None, "reason": reason}
    for key, reason in failures.items():
        empty = dict.fromkeys(("path", "bytes", "agreement", "accuracy", "balanced_accuracy"))
        record[key] = {**empty, "published": False, "reason": reason}
    return record


def input_spec_of(keras_model: tf.keras.Model) -> Dict:
    _, height, _, channels = keras_model.inputs[0].shape
    return input_spec(int(height), int(channels))


def published_models(record: Dict) -> List[Dict]:
    """The record's TF Lite models that go to the edge folder (the int8 one only when it agrees
    enough); the record and input spec are written there by the caller."""
    return [model for model in (record.get(FLOAT), record.get(INT8)) if model and model["published"]]
