"""Model builders: pure functions from input shape and class count to an uncompiled tf.keras model."""
from __future__ import annotations

from typing import Sequence

import tensorflow as tf

from components import features


def make_simple_cnn(input_shape: Sequence[int], num_classes: int) -> tf.keras.Model:
    """Three conv blocks, flattened into a small dense head: the kind of CNN people start with.

    (Flatten keeps where a feature was seen; on the sample it learns several times faster than
    global average pooling.)

    Input: float images in [0, 1] named like the transformed feature; output: class probabilities.
    """
    if num_classes < 2:
        raise ValueError(f"A classifier needs at least 2 classes, got {num_classes}.")
    inputs = tf.keras.Input(shape=tuple(input_shape), name=features.TRANSFORMED_IMAGE_KEY)
    x = inputs
    for filters in (32, 64, 128):
        x = tf.keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = tf.keras.layers.MaxPooling2D()(x)
    x = tf.keras.layers.Flatten()(x)
    x = tf.keras.layers.Dense(128, activation="relu")(x)
    x = tf.keras.layers.Dropout(0.3)(x)
    outputs = tf.keras.layers.Dense(num_classes, activation="softmax", name=features.PROBABILITIES_OUTPUT)(x)
    return tf.keras.Model(inputs, outputs, name="simple_cnn")
