"""Reads one pipeline run back from ML Metadata and turns it into run_summary.json.

The summary is a contract other programs read (README: "run_summary.json"); fields are only added.
"""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Dict, List, Optional

import tensorflow as tf
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

from components import features
from components.image_example_gen import ingestion
from components.promotion_gate.component import DECISION_FILE
from pipeline import dag

SUMMARY_VERSION = 1
_OUTPUT_EVENTS = (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)


class NoRunError(LookupError):
    """ML Metadata holds no run of the pipeline."""


@dataclasses.dataclass
class NodeRun:
    state: str  # COMPLETE, CACHED, FAILED, ... (MLMD's execution state)
    outputs: Dict[str, List[metadata_store_pb2.Artifact]]


@dataclasses.dataclass
class RunRecord:
    run_id: str
    nodes: Dict[str, NodeRun]

    def artifact(self, node_id: str, key: str) -> Optional[metadata_store_pb2.Artifact]:
        node = self.nodes.get(node_id)
        artifacts = node.outputs.get(key, []) if node else []
        return artifacts[0] if artifacts else None


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
    artifacts = {a.id: a for a in store.get_artifacts_by_id({e.artifact_id for e in events})}
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
                outputs.setdefault(event.path.steps[0].key, []).append(artifacts[event.artifact_id])
        node_id = node_contexts[0][len(pipeline_name) + 1 :]
        nodes[node_id] = NodeRun(state=metadata_store_pb2.Execution.State.Name(execution.last_known_state), outputs=outputs)
    return nodes


def _read_json(directory: str, filename: str):
    with tf.io.gfile.GFile(os.path.join(directory, filename)) as f:
        return json.load(f)


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
    """What one run's artifacts say, read once for both the summary and the report."""

    balance: Optional[Dict]  # label_balance.json
    training: Optional[Dict]  # the Trainer's training.json
    metrics: Dict[str, float]  # TFMA overall metrics of the candidate
    decision: Optional[Dict]  # the PromotionGate's decision.json
    blessed: bool
    pushed_model: Optional[str]
    ingestion: Optional[Dict] = None  # the ExampleGen's ingestion.json


def collect(record: RunRecord) -> RunArtifacts:
    balance_artifact = record.artifact(dag.LABEL_BALANCE, "balance")
    model_run = record.artifact(dag.TRAINER, "model_run")
    training = None
    if model_run and tf.io.gfile.exists(os.path.join(model_run.uri, features.TRAINING_FILE)):
        training = _read_json(model_run.uri, features.TRAINING_FILE)
    evaluation_artifact = record.artifact(dag.EVALUATOR, "evaluation")
    pushed_artifact = record.artifact(dag.PUSHER, "pushed_model")
    pushed_model = None
    if _custom_int(pushed_artifact, "pushed") == 1:
        pushed_model = pushed_artifact.custom_properties["pushed_destination"].string_value
    blessing = record.artifact(dag.PROMOTION_GATE, "blessing")
    examples = record.artifact(dag.EXAMPLE_GEN, "examples")
    return RunArtifacts(
        ingestion=ingestion.read(examples.uri) if examples else None,
        balance=_read_json(balance_artifact.uri, features.LABEL_BALANCE_FILE) if balance_artifact else None,
        training=training,
        metrics=read_overall_metrics(evaluation_artifact.uri) if evaluation_artifact else {},
        decision=_read_json(blessing.uri, DECISION_FILE) if blessing else None,
        blessed=_custom_int(blessing, "blessed") == 1,
        pushed_model=pushed_model,
    )


def build_summary(
    record: RunRecord, artifacts: RunArtifacts, data_dir: Optional[str], report_html: Optional[str]
) -> Dict:
    """The run_summary.json payload for one run."""
    balance, metrics = artifacts.balance, artifacts.metrics
    training = None
    if artifacts.training:
        trained = artifacts.training
        training = {
            key: trained[key] for key in ("epochs_run", "best_epoch", "best_val_accuracy", "stopped_early", "plots")
        }
        training["findings"] = [{"code": f["code"], "message": f["message"]} for f in trained["findings"]]
    splits = balance["splits"] if balance else {}
    balance_summary = None
    if balance:
        split_keys = (
            "class_counts",
            "majority_class",
            "majority_fraction",
            "imbalance_ratio",
            "normalized_entropy",
            "missing_classes",
        )
        balance_summary = {
            **{split: {k: s[k] for k in split_keys} for split, s in splits.items()},
            "imbalanced": balance["imbalanced"],
            "severity": balance["severity"],
            "class_weights": balance["class_weights"],
            "train_eval_distance": balance["train_eval_distance"],
            "findings": balance["findings"],
            "report_html": balance["report_html"],
        }
    return {
        "summary_version": SUMMARY_VERSION,
        "run_id": record.run_id,
        "data": {
            "data_dir": data_dir,
            "class_names": balance["class_names"] if balance else [],
            "class_counts": {split: s["class_counts"] for split, s in splits.items()},
            "split_sizes": {split: s["total"] for split, s in splits.items()},
        },
        "evaluation": {
            "accuracy": metrics.get(dag.ACCURACY_METRIC),
            "example_count": metrics.get("example_count"),
            "loss": metrics.get("loss"),
            "majority_class": splits.get(features.EVAL_SPLIT, {}).get("majority_class"),
            "majority_fraction": splits.get(features.EVAL_SPLIT, {}).get("majority_fraction"),
            **_gate_fields(artifacts.decision),
        },
        "ingestion": artifacts.ingestion,
        "balance": balance_summary,
        "training": training,
        "blessed": artifacts.blessed,
        "pushed_model": artifacts.pushed_model,
        "report_html": report_html,
        "components": {node_id: node.state for node_id, node in sorted(record.nodes.items())},
    }


def _gate_fields(decision: Optional[Dict]) -> Dict:
    if decision is None:
        return {}
    candidate = decision["candidate"]
    return {
        "balanced_accuracy": candidate["balanced_accuracy"],
        "per_class_recall": candidate["per_class_recall"],
        "per_class_precision": candidate["per_class_precision"],
        "majority_baseline": decision["majority_baseline"],
        "baseline_model": decision["baseline_model"],
        "reasons": decision["reasons"],
    }


def write_atomically(text: str, path: str) -> None:
    """Writes the file whole: to a temporary file first, then renamed over the old one."""
    tmp = path + ".tmp"
    with tf.io.gfile.GFile(tmp, "w") as f:
        f.write(text)
    tf.io.gfile.rename(tmp, path, overwrite=True)


def describe(summary: Dict, summary_path: str) -> List[str]:
    """A few lines for a person: what was trained on, how it scored, what happened to it."""
    data, evaluation = summary["data"], summary["evaluation"]
    sizes = ", ".join(f"{split} {n}" for split, n in data["split_sizes"].items())
    states = list(summary["components"].values())
    lines = [
        f"Run {summary['run_id']}: {sum(data['split_sizes'].values())} images in "
        f"{len(data['class_names'])} classes ({sizes}); {len(states)} components, "
        f"{states.count('CACHED')} from cache.",
    ]
    account = summary.get("ingestion")
    if account:
        rejected = len(account["rejected"])
        outcome = "none rejected."
        if rejected:
            outcome = f"{rejected} rejected ({account['rejected_fraction']:.1%}), each listed with its reason in the reports."
        lines.append(f"Ingested {account['ingested']} of {account['files_seen']} files; {outcome}")
    balance = summary.get("balance")
    if balance:
        lines.append(balance["findings"][0])
        lines.append(f"Data report: {balance['report_html']}")
    training = summary.get("training")
    if training:
        stop = "stopped early" if training["stopped_early"] else "all epochs"
        lines.append(
            f"Trained {training['epochs_run']} epochs ({stop}); best epoch {training['best_epoch']} "
            f"with validation accuracy {training['best_val_accuracy']:.3f}."
        )
        for finding in training["findings"]:
            lines.append(f"Training finding [{finding['code']}]: {finding['message']}")
    if evaluation["accuracy"] is not None:
        line = f"Eval accuracy {evaluation['accuracy']:.3f}"
        if evaluation["majority_fraction"] is not None:
            line += (
                f" (always answering '{evaluation['majority_class']}' would score "
                f"{evaluation['majority_fraction']:.3f})"
            )
        lines.append(line + ".")
    if summary["pushed_model"]:
        lines.append(f"Model blessed and pushed to {summary['pushed_model']}")
    elif summary["blessed"]:
        lines.append("Model blessed but not pushed.")
    else:
        lines.append("Model NOT blessed: nothing was pushed; the served model is unchanged.")
    for reason in evaluation.get("reasons", []):
        lines.append(f"  - {reason}")
    if summary.get("report_html"):
        lines.append(f"Report: {summary['report_html']}")
    lines.append(f"Summary: {summary_path}")
    return lines
