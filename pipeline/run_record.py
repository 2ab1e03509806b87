"""Reads one pipeline run back from ML Metadata, and what its artifacts say.

`read_run` finds a run's executions and output artifacts; `collect` reads the files the summary
and the report need from them, each through its record (components/contracts/).
"""
from __future__ import annotations

import dataclasses
import os
from typing import Dict, List, Optional

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

from components import artifacts
from components.contracts import record as contracts
from components.contracts.balance import BalanceReport
from components.contracts.drift import DriftRecord
from components.contracts.edge import EdgeRecord
from components.contracts.evaluation import DecisionRecord, ErrorAnalysisRecord
from components.contracts.ingestion import IngestionAccount
from components.contracts.model_card import ModelCard
from components.contracts.quality import QualityRecord
from components.contracts.training import TrainingRecord, Trial
from pipeline import dag

_OUTPUT_EVENTS = (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)


class NoRunError(LookupError):
    """ML Metadata holds no run of the pipeline."""


@dataclasses.dataclass
class NodeRun:
    state: str  # COMPLETE, CACHED, FAILED, ... (MLMD's execution state)
    outputs: Dict[str, List[metadata_store_pb2.Artifact]]
    seconds: Optional[float] = None  # from the execution's creation to its last update in MLMD


@dataclasses.dataclass
class RunRecord:
    run_id: str
    nodes: Dict[str, NodeRun]

    def artifact(self, node_id: str, key: str) -> Optional[metadata_store_pb2.Artifact]:
        node = self.nodes.get(node_id)
        outputs = node.outputs.get(key, []) if node else []
        return outputs[0] if outputs else None


def open_store(metadata_path: str) -> metadata_store.MetadataStore:
    if not os.path.exists(metadata_path):
        raise NoRunError(f"No ML Metadata store at {metadata_path}: has the pipeline run with this --output-dir?")
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = metadata_path
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return metadata_store.MetadataStore(config)


def read_run(store: metadata_store.MetadataStore, pipeline_name: str, run_id: Optional[str] = None) -> RunRecord:
    """The executions and output artifacts of one run (the newest when `run_id` is None)."""
    pipeline_context = store.get_context_by_type_and_name("pipeline", pipeline_name)
    if pipeline_context is None:
        raise NoRunError(f"ML Metadata has no pipeline named {pipeline_name!r}.")
    pipeline_executions = {e.id for e in store.get_executions_by_context(pipeline_context.id)}
    runs = sorted(store.get_contexts_by_type("pipeline_run"), key=lambda c: c.create_time_since_epoch, reverse=True)
    for run in runs:
        if run_id is not None and run.name != run_id:
            continue
        executions = [e for e in store.get_executions_by_context(run.id) if e.id in pipeline_executions]
        if executions:
            return RunRecord(run_id=run.name, nodes=_node_runs(store, pipeline_name, executions))
    which = f"run {run_id}" if run_id else "run"
    raise NoRunError(f"ML Metadata has no {which} of pipeline {pipeline_name!r}.")


def _node_runs(store, pipeline_name: str, executions) -> Dict[str, NodeRun]:
    events = store.get_events_by_execution_ids([e.id for e in executions])
    by_id = {a.id: a for a in store.get_artifacts_by_id({e.artifact_id for e in events})}
    nodes = {}
    for execution in executions:
        node_contexts = [
            c.name for c in store.get_contexts_by_execution(execution.id) if c.name.startswith(pipeline_name + ".")
        ]
        if not node_contexts:
            continue
        outputs: Dict[str, List[metadata_store_pb2.Artifact]] = {}
        for event in events:
            if event.execution_id == execution.id and event.type in _OUTPUT_EVENTS:
                outputs.setdefault(event.path.steps[0].key, []).append(by_id[event.artifact_id])
        node_id = node_contexts[0][len(pipeline_name) + 1 :]
        nodes[node_id] = NodeRun(
            state=metadata_store_pb2.Execution.State.Name(execution.last_known_state),
            outputs=outputs,
            seconds=(execution.last_update_time_since_epoch - execution.create_time_since_epoch) / 1000,
        )
    return nodes


def _custom_int(artifact: Optional[metadata_store_pb2.Artifact], name: str) -> Optional[int]:
    if artifact is None or name not in artifact.custom_properties:
        return None
    return artifact.custom_properties[name].int_value


def read_overall_metrics(evaluation_uri: str) -> Dict[str, float]:
    """TFMA's overall-slice metrics of the candidate model, by metric name."""
    import tensorflow_model_analysis as tfma

    result = tfma.load_eval_result(evaluation_uri)
    metrics: Dict[str, float] = {}
    for slice_key, slice_metrics in result.slicing_metrics:
        if slice_key != ():
            continue
        for name, value in slice_metrics.get("", {}).get("", {}).items():
            if "doubleValue" in value:
                metrics[name] = float(value["doubleValue"])
    return metrics


@dataclasses.dataclass
class RunArtifacts:
    """What one run's artifacts say, read once for both the summary and the report, each file
    through its record (components/contracts/)."""

    balance: Optional[BalanceReport]
    training: Optional[TrainingRecord]
    metrics: Dict[str, float]  # TFMA overall metrics of the candidate
    decision: Optional[DecisionRecord]
    blessed: bool
    pushed_model: Optional[str]
    ingestion: Optional[IngestionAccount] = None
    trials: Optional[List[Trial]] = None  # when this run has a Tuner
    errors: Optional[ErrorAnalysisRecord] = None
    errors_uri: Optional[str] = None  # its artifact folder, where the JPEGs it names are
    balance_uri: Optional[str] = None  # LabelBalance's artifact folder: the gallery's JPEGs
    quality: Optional[QualityRecord] = None
    quality_uri: Optional[str] = None  # its artifact folder: the thumbnails it names
    edge: Optional[EdgeRecord] = None
    drift: Optional[DriftRecord] = None
    model_card: Optional[ModelCard] = None
    model_card_uri: Optional[str] = None  # the ModelCard artifact (the card is also beside a pushed model)


def _uri(artifact: Optional[metadata_store_pb2.Artifact]) -> Optional[str]:
    return artifact.uri if artifact else None


def collect(record: RunRecord) -> RunArtifacts:
    pushed = record.artifact(dag.PUSHER, "pushed_model")
    pushed_model = None
    if _custom_int(pushed, artifacts.PUSHED_PROPERTY) == 1:
        pushed_model = pushed.custom_properties[artifacts.PUSHED_DESTINATION_PROPERTY].string_value
    blessing = record.artifact(dag.PROMOTION_GATE, "blessing")
    evaluation = record.artifact(dag.EVALUATOR, "evaluation")
    balance = _uri(record.artifact(dag.LABEL_BALANCE, "balance"))
    errors = _uri(record.artifact(dag.ERROR_ANALYSIS, "analysis"))
    quality = _uri(record.artifact(dag.DATA_QUALITY, "quality"))
    card = _uri(record.artifact(dag.MODEL_CARD, "card"))
    return RunArtifacts(
        balance=contracts.read_if_present(BalanceReport, balance),
        training=contracts.read_if_present(TrainingRecord, _uri(record.artifact(dag.TRAINER, "model_run"))),
        metrics=read_overall_metrics(evaluation.uri) if evaluation else {},
        decision=contracts.read_if_present(DecisionRecord, _uri(blessing)),
        blessed=_custom_int(blessing, artifacts.BLESSED_PROPERTY) == 1,
        pushed_model=pushed_model,
        # With --drop-label-issues, DropLabelIssues' account: ExampleGen's with those images dropped.
        ingestion=contracts.read_if_present(
            IngestionAccount,
            _uri(record.artifact(dag.DROP_LABEL_ISSUES, "cleaned") or record.artifact(dag.EXAMPLE_GEN, "examples")),
        ),
        trials=contracts.read_list_if_present(Trial, _uri(record.artifact(dag.TUNER, "tuner_results"))),
        errors=contracts.read_if_present(ErrorAnalysisRecord, errors),
        errors_uri=errors,
        balance_uri=balance,
        quality=contracts.read_if_present(QualityRecord, quality),
        quality_uri=quality,
        edge=contracts.read_if_present(EdgeRecord, _uri(record.artifact(dag.EDGE_EXPORT, "edge"))),
        drift=contracts.read_if_present(DriftRecord, _uri(record.artifact(dag.DRIFT, "drift"))),
        model_card=contracts.read_if_present(ModelCard, card),
        model_card_uri=card,
    )
