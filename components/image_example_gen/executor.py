"""Beam executor for the image ExampleGen: image files -> tf.Example with bytes, label, class, path.

Every file under the class folders is accounted for: the walk (`inventory`) and the per-file
checks (`examples.ReadImage`, `ingestion.inspect`) either ingest it or reject it with a reason, and `ingestion.json` in
the Examples artifact lists both. Too many rejects stop the run. This process reads only the top
of the data dir (its class folders); the Beam workers list each class folder and read its files,
so neither this process nor the Beam job graph holds a list of the images, however many.
"""
from __future__ import annotations

import json
import posixpath
import time
from typing import Any, Dict, List

import apache_beam as beam
import tensorflow as tf
from google.protobuf import wrappers_pb2
from tfx.components.example_gen import utils as example_gen_utils
from tfx.components.example_gen import write_split
from tfx.components.example_gen.base_example_gen_executor import BaseExampleGenExecutor
from tfx.components.util import examples_utils
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import proto_utils

from components import artifacts, progress
from components.artifacts import ArtifactDict, features
from components.contracts import record
from components.contracts.ingestion import IngestionAccount
from components.image_example_gen import ingestion, inventory, listing
from components.image_example_gen.examples import CONVERTED, REJECTED, ReadImage
from components.image_example_gen.options import IngestionLimits
from components.image_example_gen.layout import DataLayout, detect_layout, unlabelled_layout
from components.options import from_json, to_json

# What `Do` hands the per-split PTransform, so both see the same classes and files.
PROGRESS_STEP = "ImageExampleGen"  # the progress lines' name: the node's
_LAYOUT_KEY = "_image_data_layout"
_FOLDERS_KEY = "_image_class_folders"
_LIMITS_KEY = "_ingestion_limits"
_PARTS_KEY = "_ingestion_parts_dir"
# What the Beam steps write to the parts dir besides the examples: entries the walk rejected, the
# count of image files listed, files rejected when read, and conversion notes.
WALK_REJECTED, LISTED, DROPPED = "walk_rejected", "listed", "dropped"


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


def _write_parts(pcoll, parts_dir: str, tag: str):
    """One JSON line per element into parts_dir/<tag>.jsonl, which Do gathers once Beam is done."""
    return (
        pcoll
        | f"Encode{tag}" >> beam.Map(json.dumps)
        | f"Write{tag}" >> beam.io.WriteToText(posixpath.join(parts_dir, tag), file_name_suffix=".jsonl", shard_name_template="")
    )


@beam.ptransform_fn
@beam.typehints.with_input_types(beam.Pipeline)
def _ImagesToExample(pipeline: beam.Pipeline, exec_properties: Dict[str, Any], splits: List[str], hash_buckets: List[int]):
    """The class folders -> (split index, tf.Example). Folders are listed and files read on the
    workers, so no file list passes through this process or the job graph; rejects, conversion
    notes and the count of listed images go to files in the parts dir."""
    layout: DataLayout = exec_properties[_LAYOUT_KEY]
    folders: List[inventory.ClassFolder] = exec_properties[_FOLDERS_KEY]
    parts_dir = exec_properties[_PARTS_KEY]
    class_index = {name: index for index, name in enumerate(layout.class_names)}
    images, walk_rejects = pipeline | "ListImages" >> listing.ListImages(layout, folders, splits, hash_buckets)
    listed = images | "CountListed" >> beam.combiners.Count.Globally()
    outcomes = (
        progress.counted(images | "DistributeFiles" >> beam.Reshuffle(), PROGRESS_STEP, "files", total=listed)
        | "ReadImages"
        >> beam.ParDo(
            ReadImage(
                layout.data_dir, class_index, exec_properties[_LIMITS_KEY].max_image_pixels, not layout.unlabelled
            )
        ).with_outputs(REJECTED, CONVERTED, main="examples")
    )
    _write_parts(walk_rejects, parts_dir, WALK_REJECTED)
    _write_parts(listed, parts_dir, LISTED)
    for tag in (REJECTED, CONVERTED):
        _write_parts(outcomes[tag], parts_dir, tag)
    examples = outcomes.examples
    if exec_properties[_LIMITS_KEY].drop_duplicates:
        examples = examples | "DropDuplicates" >> _DropDuplicates(parts_dir, splits)
    return examples


def _text(example: tf.train.Example, key: str) -> str:
    return example.features.feature[key].bytes_list.value[0].decode("utf-8")


@beam.ptransform_fn
def _DropDuplicates(examples, parts_dir: str, splits: List[str]):
    """(split index, tf.Example) without the exact duplicates `ingestion.duplicates_to_drop` names,
    which go to the DROPPED part. Only (hash, path, class, split) is grouped, never image bytes;
    the paths to drop reach the filter as a side input (as many as there are duplicates)."""
    dropped = (
        examples
        | "ByPixels" >> beam.Map(
            lambda se: (
                _text(se[1], features.PIXEL_HASH_KEY),
                (_text(se[1], features.PATH_KEY), _text(se[1], features.CLASS_NAME_KEY), splits[se[0]]),
            )
        )
        | "SamePixels" >> beam.GroupByKey()
        | "ToDrop" >> beam.FlatMap(lambda kv: ingestion.duplicates_to_drop(list(kv[1])) if len(kv[1]) > 1 else [])
    )
    _write_parts(dropped, parts_dir, DROPPED)
    return examples | "Keep" >> beam.Filter(
        lambda se, drop: _text(se[1], features.PATH_KEY) not in drop,
        drop=beam.pvalue.AsDict(dropped | "DropKeys" >> beam.Map(lambda d: (d["path"], True))),
    )


class Executor(BaseExampleGenExecutor):
    """Reads `input_base` as image folders (see `layout`) and writes tf.Examples per split.

    Besides the splits, the Examples artifact gets `class_names.json` and a `class_names` custom
    property: the class list in label-index order, for the Trainer and the served model.
    """

    read_layout = staticmethod(detect_layout)

    def GetInputSourceToExamplePTransform(self) -> beam.PTransform:
        return _ImagesToExample  # called by GenerateExamplesByBeam below

    def GenerateExamplesByBeam(self, pipeline: beam.Pipeline, exec_properties: Dict[str, Any]):
        """Every image of the data dir through one Beam transform, then partitioned into the splits.

        The layout is read here, at run time (the pipeline is compiled without reading the data):
        split folders are taken as they are; class folders are split by `layout.split_assignment`
        (TFX's path hash, fixed up so that every class has images in every split).
        """
        output_config = example_gen_pb2.Output()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY], output_config)
        splits = [split.name for split in output_config.split_config.splits]
        hash_buckets = [split.hash_buckets for split in output_config.split_config.splits]
        partitions = (
            pipeline
            | "InputToRecord" >> self.GetInputSourceToExamplePTransform()(exec_properties, splits, hash_buckets)
            | "SplitData" >> beam.Partition(lambda split_example, _: split_example[0], len(splits))
        )
        return {
            name: partitions[index] | f"Examples{name}" >> beam.Map(lambda split_example: split_example[1])
            for index, name in enumerate(splits)
        }

    def Do(self, input_dict: ArtifactDict, output_dict: ArtifactDict, exec_properties: Dict[str, Any]) -> None:
        """Writes the splits, ingestion.json and the class names into the `examples` artifact.

        TFX's BaseExampleGenExecutor.Do, with one change: each split is written as it comes, not
        reshuffled first. TFX's write reshuffles the whole split, image bytes and all, which Beam's
        in-process runner holds in memory (a folder of camera photos would not fit); the images
        are already in a random order here, as their paths were shuffled before they were read.
        Keys: `input_base`, `input_config`, `output_config`, `output_data_format`,
        `output_file_format`, `custom_config` (`limits_config`).
        """
        self._log_startup(input_dict, output_dict, exec_properties)
        started = time.monotonic()
        layout = self.read_layout(exec_properties[standard_component_specs.INPUT_BASE_KEY])
        # Only the top of the walk happens here; Beam's workers list the class folders.
        folders, top_rejects = inventory.plan_listing(layout)
        limits = limits_from(exec_properties)
        examples = artifact_utils.get_single_instance(output_dict[standard_component_specs.EXAMPLES_KEY])
        input_config, output_config = example_gen_pb2.Input(), example_gen_pb2.Output()
        proto_utils.json_to_proto(exec_properties[standard_component_specs.INPUT_CONFIG_KEY], input_config)
        proto_utils.json_to_proto(exec_properties[standard_component_specs.OUTPUT_CONFIG_KEY], output_config)
        examples.split_names = artifact_utils.encode_split_names(
            example_gen_utils.generate_output_split_names(input_config, output_config)
        )
        parts_dir = posixpath.join(examples.uri, ".ingestion-parts")
        properties = {**exec_properties, _LAYOUT_KEY: layout, _FOLDERS_KEY: folders, _LIMITS_KEY: limits, _PARTS_KEY: parts_dir}
        with self._make_beam_pipeline() as pipeline:
            for split, split_examples in self.GenerateExamplesByBeam(pipeline, properties).items():
                _ = (
                    split_examples
                    | f"Serialize[{split}]" >> beam.Map(lambda example: example.SerializeToString(deterministic=True))
                    | f"Write[{split}]"
                    >> beam.io.WriteToTFRecord(
                        posixpath.join(artifact_utils.get_split_uri([examples], split), write_split.DEFAULT_FILE_NAME),
                        file_name_suffix=".gz",
                    )
                )
        examples_utils.set_payload_format(examples, exec_properties[standard_component_specs.OUTPUT_DATA_FORMAT_KEY])
        file_format = exec_properties.get(standard_component_specs.OUTPUT_FILE_FORMAT_KEY)
        if file_format:
            examples_utils.set_file_format(examples, write_split.to_file_format_str(file_format))
        account = self._account(examples, layout, limits, top_rejects, parts_dir)
        progress.final_count(PROGRESS_STEP, account.files_seen, time.monotonic() - started, "files")

    @staticmethod
    def _account(examples, layout: DataLayout, limits: IngestionLimits, top_rejects, parts_dir: str) -> IngestionAccount:
        """ingestion.json and the class names from the parts the Beam job wrote; stops on rejects."""
        parts = {tag: _read_parts(parts_dir, tag) for tag in (WALK_REJECTED, LISTED, REJECTED, CONVERTED, DROPPED)}
        if tf.io.gfile.exists(parts_dir):
            tf.io.gfile.rmtree(parts_dir)
        walk_rejects = top_rejects + [(r["path"], r["reason"]) for r in parts[WALK_REJECTED]]
        account = ingestion.build(
            walk_rejects,
            sum(parts[LISTED]),
            parts[REJECTED],
            parts[CONVERTED],
            limits.max_rejected_fraction,
            parts[DROPPED],
        )
        ingestion_path = record.write(account, examples.uri)
        for name in ("files_seen", "ingested"):
            examples.set_int_custom_property(name, getattr(account, name))
        examples.set_int_custom_property("rejected", len(account.rejected))
        artifacts.write_class_names(examples, layout.class_names)
        problem = ingestion.problem(account, ingestion_path)
        if problem:
            raise ingestion.RejectedFilesError(problem)
        return account


class UnlabelledExecutor(Executor):
    """Every image file under `input_base` (flat or nested), without labels, in one split: the
    images batch prediction classifies, accounted for as in training."""

    read_layout = staticmethod(unlabelled_layout)


def _read_parts(parts_dir: str, tag: str) -> List[Dict[str, str]]:
    records = []
    for path in sorted(tf.io.gfile.glob(posixpath.join(parts_dir, f"{tag}*.jsonl"))):
        with tf.io.gfile.GFile(path) as f:
            records.extend(json.loads(line) for line in f if line.strip())
    return records

