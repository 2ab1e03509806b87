"""Write the TF Lite models of an exported model and check them on the eval split (no TFX here).

The SavedModel's answers come from its own `serving_default` signature over the eval split's
tf.Examples (decode and resize inside, as served); the TF Lite models get the same images as
pixels from the Transform graph, the step a device app does itself. So the agreement measures
everything a device changes: no decode in the model, TF Lite kernels, and int8 arithmetic.
"""
from __future__ import annotations

import itertools
from typing import Dict, Iterator, Tuple

import numpy as np
import tensorflow as tf

from components import artifacts, features
from components.contracts.edge import EdgeRecord, TFLiteModel
from components.edge_export.convert import FILE_NAMES, FLOAT, INT8, TFLiteClassifier, to_tflite
from components.edge_export.options import EdgeOptions
from components.edge_export.parity import agreement, publish_int8, scores
from components.transform.preprocessing import input_spec, to_pixels

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
) -> EdgeRecord:
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
    models = {}
    for key, content in flatbuffers.items():
        classes = np.concatenate(predicted[key])
        agrees, quality = agreement(classes, reference), scores(labels, classes)
        reason = publish_int8(agrees, options.min_int8_agreement) if key == INT8 else None
        models[key] = TFLiteModel(
            path=artifacts.write_bytes(out_dir, FILE_NAMES[key], content),
            bytes=len(content),
            agreement=agrees,
            accuracy=quality.accuracy,
            balanced_accuracy=quality.balanced_accuracy,
            published=reason is None,
            reason=reason,
        )
    for key, reason in failures.items():
        models[key] = TFLiteModel(None, None, None, None, None, published=False, reason=reason)
    return EdgeRecord(
        exported=True,
        reason=None,
        min_int8_agreement=options.min_int8_agreement,
        parity_images=int(labels.size),
        representative_images=options.representative_images,
        saved_model=scores(labels, reference),
        input_spec=input_spec_of(keras_model),
        **models,
    )


def input_spec_of(keras_model: tf.keras.Model) -> Dict:
    _, height, _, channels = keras_model.inputs[0].shape
    return input_spec(int(height), int(channels))


def published_keys(record: EdgeRecord) -> Tuple[str, ...]:
    """The record's TF Lite models (FLOAT, INT8) that go to the edge folder: the int8 one only
    when it agrees enough; the record and input spec are written there by the caller."""
    return tuple(key for key in (FLOAT, INT8) if getattr(record, key) and getattr(record, key).published)
