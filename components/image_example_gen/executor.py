"""Beam executor for the image ExampleGen: image files -> tf.Example with bytes, label, class, path."""
from __future__ import annotations

import io
import json
import posixpath
from typing import Any, Dict, List, Mapping, Tuple

import apache_beam as beam
import tensorflow as tf
from PIL import Image
from tfx import types
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.types import artifact_utils, standard_component_specs

from components import features
from components.image_example_gen.layout import DataLayout, detect_layout

# Where `Do` hands the layout it read to the per-split PTransform, so both see the same classes.
_LAYOUT_KEY = "_image_data_layout"
CLASS_NAMES_PROPERTY = "class_names"


def _bytes_feature(value: bytes) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _int_feature(value: int) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))


class UnreadableImageError(ValueError):
    """An image file whose header cannot be read."""


def read_header(image_bytes: bytes, rel_path: str) -> Tuple[str, int, int]:
    """(format, width, height) from the image header; nothing is decoded."""
    try:
        with Image.open(io.BytesIO(image_bytes)) as image:
            return image.format.lower(), image.width, image.height
    except Exception as error:  # PIL raises many types for a bad file
        raise UnreadableImageError(f"{rel_path} is not a readable image ({error}); fix or remove it.") from error


def image_to_example(image: Tuple[str, str], data_dir: str, class_index: Mapping[str, int]) -> tf.train.Example:
    """Reads one image file into a tf.Example; `image` is (path relative to data_dir, class name)."""
    rel_path, class_name = image
    with tf.io.gfile.GFile(posixpath.join(data_dir, rel_path), "rb") as f:
        image_bytes = f.read()
    image_format, width, height = read_header(image_bytes, rel_path)
    return tf.train.Example(
        features=tf.train.Features(
            feature={
                features.IMAGE_KEY: _bytes_feature(image_bytes),
                features.LABEL_KEY: _int_feature(class_index[class_name]),
                features.CLASS_NAME_KEY: _bytes_feature(class_name.encode("utf-8")),
                features.PATH_KEY: _bytes_feature(rel_path.encode("utf-8")),
                features.IMAGE_FORMAT_KEY: _bytes_feature(image_format.encode("ascii")),
                features.IMAGE_WIDTH_KEY: _int_feature(width),
                features.IMAGE_HEIGHT_KEY: _int_feature(height),
            }
        )
    )


@beam.ptransform_fn
@beam.typehints.with_input_types(beam.Pipeline)
@beam.typehints.with_output_types(tf.train.Example)
def _ImagesToExample(pipeline: beam.Pipeline, exec_properties: Dict[str, Any], split_pattern: str):
    layout: DataLayout = exec_properties[_LAYOUT_KEY]
    class_index = {name: index for index, name in enumerate(layout.class_names)}
    return (
        pipeline
        | "ListImages" >> beam.Create(layout.list_images(split_pattern))
        # Spread file reads over workers; Create alone may keep them on one.
        | "Distribute" >> beam.Reshuffle()
        | "ToExample" >> beam.Map(image_to_example, data_dir=layout.data_dir, class_index=class_index)
    )


class Executor(BaseExampleGenExecutor):
    """Reads `input_base` as image folders (see `layout`) and writes tf.Examples per split.

    Besides the splits, the Examples artifact gets `class_names.json` and a `class_names` custom
    property: the class list in label-index order, for the Trainer and the served model.
    """

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        return _ImagesToExample

    def Do(
        self,
        input_dict: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, List[types.Artifact]],
        exec_properties: Dict[str, Any],
    ) -> None:
        layout = detect_layout(exec_properties[standard_component_specs.INPUT_BASE_KEY])
        super().Do(input_dict, output_dict, {**exec_properties, _LAYOUT_KEY: layout})
        examples = artifact_utils.get_single_instance(output_dict[standard_component_specs.EXAMPLES_KEY])
        class_names = json.dumps(list(layout.class_names))
        with tf.io.gfile.GFile(posixpath.join(examples.uri, features.CLASS_NAMES_FILE), "w") as f:
            f.write(class_names)
        examples.set_string_custom_property(CLASS_NAMES_PROPERTY, class_names)


def read_class_names(examples_uri: str) -> List[str]:
    """The class names an image ExampleGen recorded, in label-index order."""
    with tf.io.gfile.GFile(posixpath.join(examples_uri, features.CLASS_NAMES_FILE)) as f:
        return json.load(f)
