"""TFX's own Tuner (its component spec, `search` and result files), with one more input: the
training hints, which the Trainer gets too (components/trainer/component.py).

Besides TFX's best_hyperparameters.txt and tuner_results.json, the executor records on the
best_hyperparameters artifact the data and search space it was found on (DATA_FINGERPRINT,
SPACE_FINGERPRINT: later runs reuse it only while both hold), and writes trials.json next to
tuner_results.json (`contracts.training.Trial`): every trial's values, objective, time and
epochs, the best one marked.
"""
from __future__ import annotations

import json
from typing import Any, Dict

from tfx.components.tuner import executor as tuner_executor
from tfx.components.tuner.component import Tuner
from tfx.dsl.components.base import executor_spec
from tfx.types import standard_artifacts, standard_component_specs
from tfx.utils import json_utils

from components.contracts import record
from components.contracts.training import Trial
from components.trainer.component import WithTrainingHints, current_data_fingerprint, read_hints, with_training_hints
from components.trainer.plan import HINTS_KEY
from components.trainer.tuning import DATA_FINGERPRINT, SPACE_FINGERPRINT


class Executor(tuner_executor.Executor):
    def Do(self, input_dict, output_dict, exec_properties: Dict[str, Any]) -> None:
        hints = read_hints(input_dict)
        config = json_utils.loads(exec_properties.get(standard_component_specs.CUSTOM_CONFIG_KEY) or "null") or {}
        exec_properties = {
            **exec_properties,
            standard_component_specs.CUSTOM_CONFIG_KEY: json.dumps({**config, HINTS_KEY: hints.to_json()}),
        }
        tuner = tuner_executor.search(input_dict, exec_properties, self._get_tmp_dir())
        tuner_executor.write_best_hyperparameters(tuner, output_dict)
        best = output_dict[standard_component_specs.BEST_HYPERPARAMETERS_KEY][0]
        best.set_string_custom_property(DATA_FINGERPRINT, current_data_fingerprint(input_dict, hints))
        best.set_string_custom_property(SPACE_FINGERPRINT, tuner.space_fingerprint)
        results = output_dict[standard_component_specs.TUNER_RESULTS_KEY][0]
        record.write_list(Trial, tuner.trials_table(), results.uri)


class ImageTunerSpec(standard_component_specs.TunerSpec):
    INPUTS = with_training_hints(standard_component_specs.TunerSpec.INPUTS)


class ImageTuner(WithTrainingHints, Tuner):
    """Tuner(examples=, transform_graph=, training_hints=, tuner_fn=, custom_config=)."""

    SPEC_CLASS = ImageTunerSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(Executor)
    OUTPUTS = {"best_hyperparameters": standard_artifacts.HyperParameters, "tuner_results": standard_artifacts.TunerResults}
