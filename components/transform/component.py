"""TFX's own Transform (its spec and executor), with one more input: LabelBalance's training hints,
from which `--image-size auto` is decided when the step runs (`sizing.choose_image_size`).

The executor hands TFX's the options with the chosen size in `custom_config`, so the graph is
written for a number, and records the choice in the TransformGraph artifact (`image_size.json`,
`contracts.transform.SizeChoice`), where the Trainer reads why.
"""
from __future__ import annotations

import json
from typing import Any, Dict

from tfx import types
from tfx.components.transform import executor as transform_executor
from tfx.components.transform.component import Transform
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import standard_artifacts, standard_component_specs
from tfx.types.component_spec import ChannelParameter
from tfx.utils import json_utils

from components import artifacts
from components.artifacts import ArtifactDict
from components.contracts import record
from components.contracts.balance import TrainingHints
from components.transform.options import ImageOptions
from components.transform.sizing import choose_image_size

HINTS_INPUT = "training_hints"


class Executor(transform_executor.Executor):
    """TFX's Transform executor, after deciding the image size from the hints."""

    def Do(self, input_dict: ArtifactDict, output_dict: ArtifactDict, exec_properties: Dict[str, Any]) -> None:
        key = standard_component_specs.CUSTOM_CONFIG_KEY
        options = ImageOptions.from_custom_config(json.loads(exec_properties[key]))
        hints = record.read(TrainingHints, input_dict[HINTS_INPUT][0].uri)
        train_images = (hints.split_sizes or {}).get("train")
        choice = choose_image_size(options.image_size, hints.short_side, train_images)
        resolved = ImageOptions(image_size=choice.image_size, channels=options.channels)
        super().Do(input_dict, output_dict, {**exec_properties, key: json.dumps(resolved.to_custom_config())})
        record.write(choice, output_dict[standard_component_specs.TRANSFORM_GRAPH_KEY][0].uri)


class ImageTransformSpec(standard_component_specs.TransformSpec):
    INPUTS = {**standard_component_specs.TransformSpec.INPUTS, HINTS_INPUT: ChannelParameter(type=artifacts.TrainingHintsArtifact)}


class ImageTransform(Transform):
    """Transform(examples=, schema=, training_hints=, preprocessing_fn=, custom_config=): TFX's in-place
    Transform, with the training hints as one more input. No transformed examples: the graph
    (decode, resize, 8-bit pixels) needs no statistics of the data, so TFX writes it without a
    pass over the data, and the Trainer applies it to the raw examples (trainer/inputs.py);
    materialised, 224 px photos took 5x the raw examples' disk as float32. No statistics either:
    StatisticsGen already describes the raw data."""

    SPEC_CLASS = ImageTransformSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(Executor)

    def __init__(self, *, examples, schema, training_hints, preprocessing_fn: str, custom_config: Dict[str, Any]):
        spec = ImageTransformSpec(
            examples=examples,
            schema=schema,
            training_hints=training_hints,
            preprocessing_fn=preprocessing_fn,
            custom_config=json_utils.dumps(custom_config),
            force_tf_compat_v1=0,
            disable_statistics=1,
            transform_graph=types.Channel(type=standard_artifacts.TransformGraph),
            updated_analyzer_cache=types.Channel(type=standard_artifacts.TransformCache),
        )
        base_beam_component.BaseBeamComponent.__init__(self, spec=spec)
