"""Decoding, channel conversion, resizing and scaling, alone and inside a real tf.Transform run."""
import io

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform.beam as tft_beam
from PIL import Image

from components import features
from components.transform.preprocessing import decode_image, decode_images, preprocessing_fn, to_pixels
from helpers import raw_image_metadata

RED = (200, 30, 30)


def encoded(fmt: str, colour=RED, size=(20, 10), mode="RGB") -> bytes:
    image = Image.new("RGB", size, colour)
    if mode != "RGB":
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP"])
def test_every_format_decodes_to_the_configured_size_scaled_to_unit_range(fmt):
    image = decode_image(tf.constant(encoded(fmt)), image_size=16, channels=3).numpy()
    assert image.shape == (16, 16, 3) and image.dtype == np.float32
    # Lossy JPEG and GIF's palette move colours a little; the colour must survive.
    np.testing.assert_allclose(image.mean(axis=(0, 1)), np.array(RED) / 255.0, atol=0.03)


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "LA"])
def test_grayscale_palette_and_alpha_images_become_rgb(mode):
    data = encoded("PNG", mode=mode)
    image = decode_image(tf.constant(data), image_size=8, channels=3).numpy()
    assert image.shape == (8, 8, 3)
    # What PIL itself shows for the same file (palette conversion dithers, so compare means).
    expected = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), np.float32).mean(axis=(0, 1)) / 255.0
    np.testing.assert_allclose(image.mean(axis=(0, 1)), expected, atol=0.02)


def test_one_channel_is_luminance():
    image = decode_image(tf.constant(encoded("PNG", colour=(255, 255, 255))), image_size=8, channels=1).numpy()
    assert image.shape == (8, 8, 1)
    np.testing.assert_allclose(image, 1.0, atol=1e-3)


def test_batch_keeps_order():
    batch = tf.constant([[encoded("PNG", (0, 0, 0))], [encoded("BMP", (255, 255, 255))]])
    images = decode_images(batch, image_size=4, channels=3).numpy()
    assert images.shape == (2, 4, 4, 3)
    assert images[0].max() < 0.01 and images[1].min() > 0.99


def test_compact_pixels_are_the_float_image_within_half_a_level():
    """What the Trainer caches and the model scales back: the float decode, rounded to 8 bits."""
    data = encoded("JPEG", colour=(13, 200, 77), size=(37, 23))
    reference = decode_image(tf.constant(data), image_size=16, channels=3).numpy()
    pixels = to_pixels(decode_images(tf.constant([data]), image_size=16, channels=3)).numpy()[0]
    assert pixels.dtype == np.uint8 and np.abs(pixels / 255.0 - reference).max() <= 0.5 / 255 + 1e-6


def test_preprocessing_fn_runs_in_tf_transform(tmp_path):
    raw_metadata = raw_image_metadata()
    raw = [
        {features.IMAGE_KEY: [encoded("PNG", (0, 0, 0))], features.LABEL_KEY: [0]},
        {features.IMAGE_KEY: [encoded("JPEG", (255, 255, 255))], features.LABEL_KEY: [1]},
    ]
    with tft_beam.Context(temp_dir=str(tmp_path)):
        (transformed, _), _ = (raw, raw_metadata) | tft_beam.AnalyzeAndTransformDataset(
            lambda inputs: preprocessing_fn(inputs, {"image_size": 8, "channels": 1}), output_record_batches=False
        )
    assert [int(t[features.TRANSFORMED_LABEL_KEY]) for t in transformed] == [0, 1]
    images = [np.asarray(t[features.TRANSFORMED_IMAGE_KEY]).reshape(8, 8, 1) for t in transformed]
    assert images[0].max() < 0.01 and images[1].min() > 0.97
