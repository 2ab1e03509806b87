"""The Drift step: this run's train images against those the served model was trained on.

It runs before the Trainer, on StatisticsGen's statistics and the schema, with the statistics
the resolver in `resolver.py` found through ML Metadata (none on a first run). Writes drift.json
(`contracts.drift.DriftRecord`) and prints one line per feature that moved, so a person reads it
before training starts; a run on unchanged data prints nothing.
"""
from tfx.dsl.component.experimental.annotations import InputArtifact, OutputArtifact, Parameter
from tfx.dsl.component.experimental.decorators import component
from tfx.types.standard_artifacts import ExampleStatistics, Model, Schema

from components import artifacts, features
from components.contracts import record
from components.contracts.drift import DriftRecord
from components.drift.compare import compare, finding
from components.drift.options import DriftOptions
from components.statistics import read_schema, read_split_statistics


@component
def Drift(
    statistics: InputArtifact[ExampleStatistics], schema: InputArtifact[Schema],
    drift: OutputArtifact[artifacts.DriftReport],
    options: Parameter[str],
    previous_statistics: InputArtifact[ExampleStatistics] = None, served_model: InputArtifact[Model] = None,
) -> None:  # fmt: skip - the inputs, then the outputs, then the parameters; the optional inputs last
    """Compares the train split's statistics with `previous_statistics` (the served model's
    training data) by TFDV's drift comparators. `options` is `DriftOptions.to_parameter()`."""
    settings = DriftOptions.from_parameter(options)
    model_uri = served_model.uri if served_model is not None else None
    if previous_statistics is None or previous_statistics.id == statistics.id:
        reason = (
            "no blessed model yet: nothing to compare with"
            if previous_statistics is None
            else "the served model was trained on these very images"
        )
        result = DriftRecord(False, reason, None, model_uri, [], [])
    else:
        measures = compare(
            read_split_statistics(statistics, features.TRAIN_SPLIT),
            read_split_statistics(previous_statistics, features.TRAIN_SPLIT),
            read_schema(schema.uri),
            settings,
        )
        result = DriftRecord(
            compared=True,
            reason=f"this run's train images against those of the served model ({model_uri})",
            previous_statistics=previous_statistics.uri,
            previous_model=model_uri,
            measures=measures,
            findings=[finding(m) for m in measures if m.drifted],
        )
    record.write(result, drift.uri)
    for line in result.findings:  # before the Trainer runs: LocalDagRunner runs the steps in order
        print(f"Drift: {line}.", flush=True)
