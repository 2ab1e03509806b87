"""Decode, convert and resize images inside the tf.Transform graph.

The same graph runs in the Trainer's input pipeline (over the training data) and inside the served
model (over a client's raw image bytes), so training and serving cannot disagree. The graph needs
no statistics of the data, so the Transform component writes it without reading or writing any
example (TFX's in-place Transform). tf.Transform outputs float32, not uint8, so right after the
graph both the Trainer and the served model round its [0, 1] values to 8-bit pixels (`to_pixels`):
a quarter of float32's bytes, so the Trainer keeps 4x more decoded images in memory. The model
scales them back to [0, 1] itself (`components/trainer/model.py`).
"""
from __future__ import annotations

from typing import Any, Dict

import tensorflow as tf

from components import features
from components.transform.options import ImageOptions


def decode_rgb(image_bytes: tf.Tensor) -> tf.Tensor:
    """One encoded PNG, JPEG, GIF or BMP -> uint8 [height, width, 3].

    Grayscale and palette images are expanded, alpha is dropped, CMYK is converted, 16-bit samples
    are reduced to 8 bits, and an animated GIF gives its first frame. ExampleGen runs this same
    function on every file, so an image it ingests is one this graph can decode.
    """
    return tf.io.decode_image(image_bytes, channels=3, expand_animations=False)


def decode_image(image_bytes: tf.Tensor, image_size: int, channels: int) -> tf.Tensor:
    """One encoded PNG, JPEG, GIF or BMP -> float32 [image_size, image_size, channels] in [0, 1].

    Decodes to RGB first (a GIF always decodes to RGB; grayscale and palette images are expanded,
    alpha is dropped), then reduces to one channel when asked; animated GIFs give their first frame.
    """
    image = decode_rgb(image_bytes)
    if channels == 1:
        image = tf.image.rgb_to_grayscale(image)
    image = tf.image.convert_image_dtype(image, tf.float32)
    image = tf.image.resize(image, [image_size, image_size], antialias=True)
    # Antialiased resizing can overshoot slightly at sharp edges.
    return tf.clip_by_value(image, 0.0, 1.0)


def to_pixels(image: tf.Tensor) -> tf.Tensor:
    """Float values in [0, 1] -> the nearest uint8 values, 0 to 255 (at most 0.5 / 255 away)."""
    return tf.cast(tf.round(image * 255.0), tf.uint8)


def decode_images(image_bytes: tf.Tensor, image_size: int, channels: int) -> tf.Tensor:
    """A batch of encoded images (any shape with one image per element) -> [batch, H, W, C]."""
    return tf.map_fn(
        lambda one: decode_image(one, image_size, channels),
        tf.reshape(image_bytes, [-1]),
        fn_output_signature=tf.TensorSpec([image_size, image_size, channels], tf.float32),
    )


# TFX Transform will call this function.
def preprocessing_fn(inputs: Dict[str, tf.Tensor], custom_config: Dict[str, Any]) -> Dict[str, tf.Tensor]:
    """Raw features -> {'image': float [batch, H, W, C] in [0, 1], 'label': int64 [batch]}.

    `custom_config` is `ImageOptions.to_custom_config()`: the image size and channel count.
    """
    options = ImageOptions.from_custom_config(custom_config)
    outputs = {features.TRANSFORMED_IMAGE_KEY: decode_images(inputs[features.IMAGE_KEY], options.image_size, options.channels)}
    if features.LABEL_KEY in inputs:
        outputs[features.TRANSFORMED_LABEL_KEY] = tf.reshape(inputs[features.LABEL_KEY], [-1])
    return outputs


def input_spec(image_size: int, channels: int) -> Dict:
    """What the model's pixel input is, once the graph has decoded and resized an image: written
    beside a TF Lite model (which has no decode step) and into the SavedModel's assets.extra/, so
    that a phone or camera app can prepare images as training did."""
    return {
        "input": "pixels",
        "shape": [None, image_size, image_size, channels],
        "layout": "NHWC",
        "dtype": "uint8",
        "range": [0, 255],
        "color": "RGB" if channels == 3 else "grayscale (ITU-R 601-2 luma: 0.299 R + 0.587 G + 0.114 B)",
        "resize": (
            f"the whole image stretched to {image_size}x{image_size} (aspect ratio not kept), bilinear with "
            "antialiasing, from values in [0, 1]; then rounded to the nearest 8-bit value"
        ),
        "scaling": "none outside the model: it divides by 255 itself",
        "output": "probabilities: float32 [batch, classes], in the order of class_names.json",
    }
