"""The statistics of the data the served model was trained on, found through ML Metadata.

The served model is the latest blessed one (as the PromotionGate blessed it and the Pusher pushed
it). Its lineage leads to its data: the Trainer execution that wrote it, the examples that
execution read, and the statistics TFDV computed over them. With --drop-label-issues the Trainer
read the cleaned examples; those were made from ExampleGen's, which StatisticsGen read, so the
walk goes one producer up until it meets statistics.

`served_model_statistics()` is the Resolver node (pipeline/dag.py adds it): every model, blessing
and statistics artifact in, `statistics` resolved to that one artifact, or to nothing before any
model is blessed, and `model` to the served model.
"""
from typing import Dict, List, Optional

from ml_metadata.proto import metadata_store_pb2
from tfx import types
from tfx.dsl.components.common import resolver
from tfx.types import Channel, standard_artifacts

from components import artifacts

MODEL_KEY = "model"
BLESSING_KEY = "model_blessing"
STATISTICS_KEY = "statistics"
EXAMPLES_INPUT = "examples"  # the input key of the examples a Trainer, and a cleaning step, read
_HOPS = 3  # producers walked up from the Trainer's examples: ExampleGen's are at most one away


def latest_blessed_model_id(models: List[types.Artifact], blessings: List[types.Artifact]) -> Optional[int]:
    """The id of the blessed model with the highest id (the PromotionGate's blessing properties)."""
    blessed = artifacts.blessings_by_model(blessings)
    ids = [model.id for model in models if model.id in blessed]
    return max(ids) if ids else None


def _events(store, artifact_ids) -> List[metadata_store_pb2.Event]:
    return store.get_events_by_artifact_ids(list(artifact_ids)) if artifact_ids else []


def _execution_events(store, execution_ids) -> List[metadata_store_pb2.Event]:
    return store.get_events_by_execution_ids(list(execution_ids)) if execution_ids else []


def _inputs_named(store, execution_ids, key: str) -> List[int]:
    return [
        e.artifact_id
        for e in _execution_events(store, execution_ids)
        if e.type == metadata_store_pb2.Event.INPUT and e.path.steps and e.path.steps[0].key == key
    ]


def _producers(store, artifact_ids) -> List[int]:
    return [e.execution_id for e in _events(store, artifact_ids) if e.type == metadata_store_pb2.Event.OUTPUT]


def training_statistics_id(store, model_id: int, statistics_ids) -> Optional[int]:
    """The id, among `statistics_ids`, of the statistics of the examples model `model_id` was
    trained on (or of the examples they were made from); None when its lineage has none."""
    statistics_ids = set(statistics_ids)
    examples = _inputs_named(store, _producers(store, [model_id]), EXAMPLES_INPUT)
    for _ in range(_HOPS):
        if not examples:
            return None
        readers = [e.execution_id for e in _events(store, examples) if e.type == metadata_store_pb2.Event.INPUT]
        found = [
            e.artifact_id
            for e in _execution_events(store, readers)
            if e.type == metadata_store_pb2.Event.OUTPUT and e.artifact_id in statistics_ids
        ]
        if found:
            return max(found)
        examples = _inputs_named(store, _producers(store, examples), EXAMPLES_INPUT)
    return None


class TrainingStatisticsOfServedModelStrategy(resolver.ResolverStrategy):
    """Resolves `statistics` to the training data statistics of the latest blessed model."""

    def resolve_artifacts(self, store, input_dict: Dict[str, List[types.Artifact]]) -> Dict[str, List[types.Artifact]]:
        if set(input_dict) != {MODEL_KEY, BLESSING_KEY, STATISTICS_KEY}:
            raise ValueError(f"Expected the inputs {MODEL_KEY}, {BLESSING_KEY} and {STATISTICS_KEY}; got {sorted(input_dict)}.")
        model_id = latest_blessed_model_id(input_dict[MODEL_KEY], input_dict[BLESSING_KEY])
        statistics = {a.id: a for a in input_dict[STATISTICS_KEY] if a.type_name == standard_artifacts.ExampleStatistics.TYPE_NAME}
        found = training_statistics_id(store, model_id, statistics) if model_id is not None else None
        models = [m for m in input_dict[MODEL_KEY] if m.id == model_id]
        return {
            MODEL_KEY: models,
            BLESSING_KEY: [],
            STATISTICS_KEY: [statistics[found]] if found is not None else [],
        }


def served_model_statistics() -> resolver.Resolver:
    """The Resolver node of TrainingStatisticsOfServedModelStrategy over every model, blessing and
    statistics artifact of the pipeline."""
    return resolver.Resolver(
        strategy_class=TrainingStatisticsOfServedModelStrategy,
        **{
            MODEL_KEY: Channel(type=standard_artifacts.Model),
            BLESSING_KEY: Channel(type=standard_artifacts.ModelBlessing),
            STATISTICS_KEY: Channel(type=standard_artifacts.ExampleStatistics),
        },
    )
