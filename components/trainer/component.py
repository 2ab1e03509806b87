"""TFX's own Trainer (and its GenericExecutor), with one more input: LabelBalance's training hints.

TFX's `hyperparameters` input keeps its TFX meaning: the Tuner's best hyperparameters, from this
run's Tuner (--tune) or the latest earlier tuning (which run_fn reuses only for the same data and
search space). The hints travel beside them, in `training_hints`, an artifact of their own type
(`artifacts.TrainingHintsArtifact`), so that no resolver of HyperParameters picks them up. The
executor hands both to `run_fn` through `fn_args.custom_config` (components/trainer/plan.py's
keys), with the fingerprints that decide the reuse.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from tfx import types
from tfx.components.example_gen import utils as example_gen_utils
from tfx.components.trainer import executor as trainer_executor
from tfx.components.trainer.component import Trainer
from tfx.dsl.components.base import base_component, executor_spec
from tfx.proto import trainer_pb2
from tfx.types import standard_artifacts, standard_component_specs
from tfx.types.component_spec import ChannelParameter
from tfx.utils import json_utils

from components import artifacts
from components.contracts import record
from components.contracts.balance import TrainingHints
from components.trainer.plan import HINTS_KEY, TUNED_FROM_KEY
from components.trainer.tuning import DATA_FINGERPRINT, SPACE_FINGERPRINT, data_fingerprint

HINTS_INPUT = "training_hints"


def read_hints(input_dict: Dict[str, List[types.Artifact]]) -> TrainingHints:
    """LabelBalance's training hints, from the `training_hints` input."""
    return record.read(TrainingHints, input_dict[HINTS_INPUT][0].uri)


def current_data_fingerprint(input_dict: Dict[str, List[types.Artifact]], hints: TrainingHints) -> str:
    """The data this execution trains on: ExampleGen's fingerprint of the files (the examples'
    URI where an orchestrator records none) and the labels."""
    examples = input_dict[standard_component_specs.EXAMPLES_KEY][0]
    files = examples.get_string_custom_property(example_gen_utils.FINGERPRINT_PROPERTY_NAME) or examples.uri
    return data_fingerprint(files, hints.to_json())


def _tuned_from(input_dict, hints) -> Optional[Dict[str, Any]]:
    tuned = input_dict.get(standard_component_specs.HYPERPARAMETERS_KEY) or []
    if not tuned:
        return None
    return {
        "uri": tuned[0].uri,
        DATA_FINGERPRINT: tuned[0].get_string_custom_property(DATA_FINGERPRINT) or None,
        SPACE_FINGERPRINT: tuned[0].get_string_custom_property(SPACE_FINGERPRINT) or None,
        "current_data": current_data_fingerprint(input_dict, hints),
    }


class Executor(trainer_executor.GenericExecutor):
    """TFX's GenericExecutor; `run_fn` also gets the hints and where the tuned values come from."""

    def _GetFnArgs(self, input_dict, output_dict, exec_properties):
        fn_args = super()._GetFnArgs(input_dict, output_dict, exec_properties)
        hints = read_hints(input_dict)
        fn_args.custom_config = {
            **(fn_args.custom_config or {}),
            HINTS_KEY: hints.to_json(),
            TUNED_FROM_KEY: _tuned_from(input_dict, hints),
        }
        return fn_args


def with_training_hints(inputs: Dict[str, ChannelParameter]) -> Dict[str, ChannelParameter]:
    """A TFX component spec's INPUTS plus HINTS_INPUT (the Trainer's here, the Tuner's too)."""
    return {**inputs, HINTS_INPUT: ChannelParameter(type=artifacts.TrainingHintsArtifact)}


class ImageTrainerSpec(standard_component_specs.TrainerSpec):
    INPUTS = with_training_hints(standard_component_specs.TrainerSpec.INPUTS)


class WithTrainingHints:
    """The construction TFX's Trainer and Tuner share here: their own component spec with the
    training hints, empty TrainArgs and EvalArgs (run_fn and tuner_fn read the splits
    themselves), custom_config as JSON, and OUTPUTS' channels. Keyword arguments only."""

    OUTPUTS: Dict[str, type] = {}

    def __init__(self, *, examples, transform_graph, training_hints, custom_config: Dict[str, Any], **fields):
        spec = self.SPEC_CLASS(
            examples=examples,
            transform_graph=transform_graph,
            training_hints=training_hints,
            train_args=trainer_pb2.TrainArgs(),
            eval_args=trainer_pb2.EvalArgs(),
            custom_config=json_utils.dumps(custom_config),
            **{key: types.Channel(type=artifact_type) for key, artifact_type in self.OUTPUTS.items()},
            **fields,
        )
        base_component.BaseComponent.__init__(self, spec=spec)


class ImageTrainer(WithTrainingHints, Trainer):
    """Trainer(examples=, transform_graph=, training_hints=, run_fn=, custom_config=, hyperparameters=None)."""

    SPEC_CLASS = ImageTrainerSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)
    OUTPUTS = {"model": standard_artifacts.Model, "model_run": standard_artifacts.ModelRun}
