"""Beam executor for the image ExampleGen: image files -> tf.Example with bytes, label, class, path.

Every file under the class folders is accounted for: the walk (`inventory`) and the per-file
checks (`ingestion.inspect`, run on the Beam workers) either ingest it or reject it with a reason,
and `ingestion.json` in the Examples artifact lists both. Too many rejects stop the run.
"""
from __future__ import annotations

import json
import posixpath
from typing import Any, Dict, List, Mapping, Tuple

import apache_beam as beam
import tensorflow as tf
from google.protobuf import wrappers_pb2
from tfx import types
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils

from components import artifacts, features
from components.image_example_gen import ingestion, inventory
from components.image_example_gen.ingestion import IngestionLimits
from components.image_example_gen.layout import DataLayout, detect_layout, split_assignment
from components.options import from_json, to_json

# What `Do` hands the per-split PTransform, so both see the same classes and files.
_LAYOUT_KEY = "_image_data_layout"
_INVENTORY_KEY = "_image_inventory"
_LIMITS_KEY = "_ingestion_limits"
_PARTS_KEY = "_ingestion_parts_dir"
REJECTED, CONVERTED = "rejected", "converted"  # the per-file outputs besides the examples


def _bytes_feature(value: bytes) -> tf.train.Feature:
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))


def _int_feature(value: int) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))


def limits_config(limits: IngestionLimits) -> example_gen_pb2.CustomConfig:
    """ExampleGen's `custom_config` carrying `limits`, as JSON (a protobuf Struct would turn the
    pixel count into a double)."""
    config = example_gen_pb2.CustomConfig()
    config.custom_config.Pack(wrappers_pb2.StringValue(value=json.dumps(to_json(limits))))
    return config


def limits_from(exec_properties: Dict[str, Any]) -> IngestionLimits:
    """The IngestionLimits that `limits_config` packed into the component's `custom_config`."""
    serialized = exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY)
    if not serialized:
        return IngestionLimits()
    config = example_gen_pb2.CustomConfig()
    proto_utils.json_to_proto(serialized, config)
    packed = wrappers_pb2.StringValue()
    if not config.custom_config.Unpack(packed):
        raise ValueError(f"ImageExampleGen's custom_config holds {config.custom_config.type_url}, not its limits.")
    return from_json(IngestionLimits, json.loads(packed.value))


class _ReadImage(beam.DoFn):
    """(path relative to data dir, class) -> a tf.Example, or a reject on the REJECTED output."""

    def __init__(self, data_dir: str, class_index: Mapping[str, int], max_image_pixels: int):
        self._data_dir = data_dir
        self._class_index = dict(class_index)
        self._max_image_pixels = max_image_pixels

    def process(self, image: Tuple[str, str]):
        rel_path, class_name = image
        try:
            with tf.io.gfile.GFile(posixpath.join(self._data_dir, rel_path), "rb") as f:
                image_bytes = f.read()
        except (OSError, tf.errors.OpError) as error:
            reason = getattr(error, "strerror", None) or getattr(error, "message", None) or str(error)
            yield beam.pvalue.TaggedOutput(
                REJECTED, {"path": rel_path, "reason": f"cannot be read ({reason}); check its permissions"}
            )
            return
        found = ingestion.inspect(image_bytes, self._max_image_pixels)
        if found.reason:
            yield beam.pvalue.TaggedOutput(REJECTED, {"path": rel_path, "reason": found.reason})
            return
        for note in found.notes:
            yield beam.pvalue.TaggedOutput(CONVERTED, {"path": rel_path, "note": note})
        yield tf.train.Example(
            features=tf.train.Features(
                feature={
                    features.IMAGE_KEY: _bytes_feature(image_bytes),
                    features.LABEL_KEY: _int_feature(self._class_index[class_name]),
                    features.CLASS_NAME_KEY: _bytes_feature(class_name.encode("utf-8")),
                    features.PATH_KEY: _bytes_feature(rel_path.encode("utf-8")),
                    features.IMAGE_FORMAT_KEY: _bytes_feature(found.image_format.encode("ascii")),
                    features.IMAGE_WIDTH_KEY: _int_feature(found.width),
                    features.IMAGE_HEIGHT_KEY: _int_feature(found.height),
                }
            )
        )


@beam.ptransform_fn
@beam.typehints.with_input_types(beam.Pipeline)
@beam.typehints.with_output_types(tf.train.Example)
def _ImagesToExample(pipeline: beam.Pipeline, exec_properties: Dict[str, Any], images: List[Tuple[str, str]]):
    """(path, class) pairs -> tf.Examples; rejects and conversion notes go to files in the parts dir."""
    layout: DataLayout = exec_properties[_LAYOUT_KEY]
    class_index = {name: index for index, name in enumerate(layout.class_names)}
    outcomes = (
        pipeline
        | "ListImages" >> beam.Create(images)
        # Spread file reads over workers; Create alone may keep them on one.
        | "Distribute" >> beam.Reshuffle()
        | "ReadImages"
        >> beam.ParDo(
            _ReadImage(layout.data_dir, class_index, exec_properties[_LIMITS_KEY].max_image_pixels)
        ).with_outputs(REJECTED, CONVERTED, main="examples")
    )
    # Do gathers these into ingestion.json once the pipeline is done.
    for tag in (REJECTED, CONVERTED):
        _ = (
            outcomes[tag]
            | f"Encode{tag}" >> beam.Map(json.dumps)
            | f"Write{tag}"
            >> beam.io.WriteToText(
                posixpath.join(exec_properties[_PARTS_KEY], tag), file_name_suffix=".jsonl", shard_name_template=""
            )
        )
    return outcomes.examples


@beam.typehints.with_input_types(tf.train.Example)
def _split_of(example: tf.train.Example, num_splits: int, assignment: Mapping[str, int]) -> int:
    return assignment[example.features.feature[features.PATH_KEY].bytes_list.value[0].decode("utf-8")]


class Executor(BaseExampleGenExecutor):
    """Reads `input_base` as image folders (see `layout`) and writes tf.Examples per split.

    Besides the splits, the Examples artifact gets `class_names.json` and a `class_names` custom
    property: the class list in label-index order, for the Trainer and the served model.
    """

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        return _ImagesToExample  # called by GenerateExamplesByBeam below, with the image list

    def GenerateExamplesByBeam(self, pipeline: beam.Pipeline, exec_properties: Dict[str, Any]):
        """Every image of the data dir through one Beam transform, then partitioned into the splits.

        The layout is read here, at run time (the pipeline is compiled without reading the data):
        split folders are taken as they are; class folders are split by `layout.split_assignment`
        (TFX's path hash, fixed up so that every class has images in every split).
        """
        layout: DataLayout = exec_properties[_LAYOUT_KEY]
        listing: inventory.Inventory = exec_properties[_INVENTORY_KEY]
        output_config = example_gen_pb2.Output()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY], output_config)
        splits = [split.name for split in output_config.split_config.splits]
        if layout.has_split_folders:
            images, assignment = [], {}
            for split, subdir in layout.split_dirs:
                for rel_path, class_name in listing.candidates[subdir]:
                    images.append((rel_path, class_name))
                    assignment[rel_path] = splits.index(split)
        else:
            images = listing.candidates[""]
            assignment = split_assignment(images, [s.hash_buckets for s in output_config.split_config.splits])
        partitions = (
            pipeline
            | "InputToRecord" >> self.GetInputSourceToExamplePTransform()(exec_properties, images)
            | "SplitData" >> beam.Partition(_split_of, len(splits), assignment)
        )
        return {name: partitions[index] for index, name in enumerate(splits)}

    def Do(
        self,
        input_dict: Dict[str, List[types.Artifact]],
        output_dict: Dict[str, List[types.Artifact]],
        exec_properties: Dict[str, Any],
    ) -> None:
        layout = detect_layout(exec_properties[standard_component_specs.INPUT_BASE_KEY])
        listing = inventory.take_inventory(layout)
        limits = limits_from(exec_properties)
        examples = artifact_utils.get_single_instance(output_dict[standard_component_specs.EXAMPLES_KEY])
        parts_dir = posixpath.join(examples.uri, ".ingestion-parts")
        super().Do(
            input_dict,
            output_dict,
            {
                **exec_properties,
                _LAYOUT_KEY: layout,
                _INVENTORY_KEY: listing,
                _LIMITS_KEY: limits,
                _PARTS_KEY: parts_dir,
            },
        )
        parts = {tag: _read_parts(parts_dir, tag) for tag in (REJECTED, CONVERTED)}
        if tf.io.gfile.exists(parts_dir):
            tf.io.gfile.rmtree(parts_dir)
        account = ingestion.build(
            listing.rejected,
            sum(len(images) for images in listing.candidates.values()),
            parts[REJECTED],
            parts[CONVERTED],
            limits.max_rejected_fraction,
        )
        ingestion_path = artifacts.write_json(examples.uri, artifacts.INGESTION_FILE, account.to_json())
        for name in ("files_seen", "ingested"):
            examples.set_int_custom_property(name, getattr(account, name))
        examples.set_int_custom_property("rejected", len(account.rejected))
        artifacts.write_class_names(examples, layout.class_names)
        problem = account.problem(ingestion_path)
        if problem:
            raise ingestion.RejectedFilesError(problem)


def _read_parts(parts_dir: str, tag: str) -> List[Dict[str, str]]:
    records = []
    for path in sorted(tf.io.gfile.glob(posixpath.join(parts_dir, f"{tag}*.jsonl"))):
        with tf.io.gfile.GFile(path) as f:
            records.extend(json.loads(line) for line in f if line.strip())
    return records

