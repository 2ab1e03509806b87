"""Where the model looks: Grad-CAM heatmaps, computed inside the exported model.

Grad-CAM (Selvaraju et al., 2017) weighs the channels of the last spatial feature map by the
gradient of the class score over them, keeps the positive part, and scales it to [0, 1]. It goes
into the SavedModel as the `serving_explain` signature (`export.py`), so the pipeline's error
analysis, `predict.py --explain` and any client of the served model get the same heatmap from the
same graph, for every architecture: the "last spatial feature map" is the output of the last
layer whose output is a 4-D image-shaped tensor (a convolution block, or the backbone of a
transfer model).
"""
from __future__ import annotations

import tensorflow as tf


def feature_map_layer(model: tf.keras.Model) -> tf.keras.layers.Layer:
    """The last top-level layer whose output is [batch, height, width, channels].

    A map of 1 x 1 (an ImageNet backbone on 32 px images) gives a flat heatmap: nothing to see
    at that size.
    """
    for layer in reversed(model.layers):
        if not layer.inbound_nodes:  # not part of the model's graph (an attribute, like the Transform layer)
            continue
        shape = layer.get_output_shape_at(-1)
        if isinstance(shape, tuple) and len(shape) == 4:
            return layer
    raise ValueError(f"Model {model.name!r} has no layer with a spatial (4-D) output to explain.")


class Explainer(tf.Module):
    """Grad-CAM for one Keras model, sharing its weights (so it can be saved beside it).

    Grad-CAM differentiates the class score before the softmax, which does not flatten out when
    the model is sure: the logits when the model ends in a softmax Dense layer (every model
    `build_model` makes), otherwise the log-probabilities.
    """

    def __init__(self, model: tf.keras.Model):
        super().__init__(name="explainer")
        layer = feature_map_layer(model)
        last = model.layers[-1]
        self._head = None
        head_input = model.output
        if isinstance(last, tf.keras.layers.Dense) and last.activation is tf.keras.activations.softmax:
            self._head, head_input = last, last.input
        # A nested model (a transfer backbone) has its own graph too: take its output in this one.
        self._model = tf.keras.Model(model.inputs, [layer.get_output_at(-1), head_input, model.output])

    def __call__(self, pixels: tf.Tensor, class_index: tf.Tensor = None):
        """(heatmaps [batch, height, width] in [0, 1] at the pixels' size, probabilities).

        The heatmap is for `class_index` per image, or the predicted class when None. An image
        whose class score does not depend on the feature map gets a heatmap of zeros.
        """
        with tf.GradientTape() as tape:
            feature_map, head_input, probabilities = self._model(pixels, training=False)
            if self._head is not None:
                scores = tf.matmul(tf.cast(head_input, tf.float32), self._head.kernel) + self._head.bias
            else:
                scores = tf.math.log(tf.cast(probabilities, tf.float32) + 1e-12)
            if class_index is None:
                class_index = tf.argmax(probabilities, axis=-1)
            score = tf.gather(scores, class_index, axis=1, batch_dims=1)
        gradients = tf.cast(tape.gradient(score, feature_map), tf.float32)
        feature_map = tf.cast(feature_map, tf.float32)
        channel_weights = tf.reduce_mean(gradients, axis=[1, 2], keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(channel_weights * feature_map, axis=-1))
        cam = cam / (tf.reduce_max(cam, axis=[1, 2], keepdims=True) + 1e-12)
        heatmaps = tf.image.resize(cam[..., tf.newaxis], tf.shape(pixels)[1:3], method="bilinear")[..., 0]
        return tf.clip_by_value(heatmaps, 0.0, 1.0), probabilities
