"""One image file as the tf.Example ExampleGen writes: its bytes, path, format and size, the label
and class name (training), and the fingerprints the data-quality checks use; or a reject with
the reason, when the file cannot be read or is not an image the model can take."""
from __future__ import annotations

import posixpath
from typing import Mapping, Tuple

import apache_beam as beam
import tensorflow as tf

from components import features
from components.image_example_gen import ingestion

# The tagged outputs of ReadImage besides the examples: files rejected when read, conversion notes.
REJECTED, CONVERTED = "rejected", "converted"


def _bytes_feature(value: bytes) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _int_feature(*values: int) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))


def _float_feature(value: float) -> tf.train.Feature:
    return tf.train.Feature(float_list=tf.train.FloatList(value=[value]))


class ReadImage(beam.DoFn):
    """(path relative to data dir, class, split) -> (split, tf.Example), or a reject on REJECTED."""

    def __init__(self, data_dir: str, class_index: Mapping[str, int], max_image_pixels: int, fingerprints: bool = True):
        self._data_dir = data_dir
        self._class_index = dict(class_index)
        self._max_image_pixels = max_image_pixels
        self._fingerprints = fingerprints  # not for images to classify: nothing checks them for duplicates

    def process(self, image: Tuple[str, str, int]):
        rel_path, class_name, split = image
        try:
            with tf.io.gfile.GFile(posixpath.join(self._data_dir, rel_path), "rb") as f:
                image_bytes = f.read()
        except (OSError, tf.errors.OpError) as error:
            reason = getattr(error, "strerror", None) or getattr(error, "message", None) or str(error)
            yield beam.pvalue.TaggedOutput(
                REJECTED, {"path": rel_path, "reason": f"cannot be read ({reason}); check its permissions"}
            )
            return
        found = ingestion.inspect(image_bytes, self._max_image_pixels, self._fingerprints)
        if found.reason:
            yield beam.pvalue.TaggedOutput(REJECTED, {"path": rel_path, "reason": found.reason})
            return
        for note in found.notes:
            yield beam.pvalue.TaggedOutput(CONVERTED, {"path": rel_path, "note": note})
        feature = {
            features.IMAGE_KEY: _bytes_feature(image_bytes),
            features.PATH_KEY: _bytes_feature(rel_path.encode("utf-8")),
            features.IMAGE_FORMAT_KEY: _bytes_feature(found.image_format.encode("ascii")),
            features.IMAGE_WIDTH_KEY: _int_feature(found.width),
            features.IMAGE_HEIGHT_KEY: _int_feature(found.height),
        }
        if class_name:  # unlabelled images (batch prediction) have neither
            feature[features.LABEL_KEY] = _int_feature(self._class_index[class_name])
            feature[features.CLASS_NAME_KEY] = _bytes_feature(class_name.encode("utf-8"))
        printed = found.fingerprint
        if printed is not None:
            feature.update(
                {
                    features.PIXEL_HASH_KEY: _bytes_feature(printed.pixel_hash.encode("ascii")),
                    features.PERCEPTUAL_HASH_KEY: _int_feature(printed.perceptual_hash),
                    features.CROP_HASHES_KEY: _int_feature(*printed.crop_hashes),
                    features.THUMBNAIL_KEY: _bytes_feature(printed.thumbnail),
                    features.BRIGHTNESS_KEY: _float_feature(printed.brightness),
                    features.CONTRAST_KEY: _float_feature(printed.contrast),
                    features.SHARPNESS_KEY: _float_feature(printed.sharpness),
                }
            )
        yield split, tf.train.Example(features=tf.train.Features(feature=feature))
