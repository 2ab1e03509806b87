"""The run_summary.json contract: built from a run's records (its console lines: `console.describe`).

The summary is a contract other programs read (README: "run_summary.json"); fields are only added.
It is built from what `run_record` read of the run from ML Metadata and its artifacts.
"""
from __future__ import annotations

import posixpath
from typing import Dict, Optional

import tensorflow as tf

from components import features
from components.artifacts import MODEL_CARD_HTML_FILE, MODEL_CARD_JSON_FILE
from components.contracts.balance import BalanceReport
from components.contracts.edge import EdgeRecord
from components.contracts.evaluation import DecisionRecord, ErrorAnalysisRecord
from components.contracts.quality import QualityRecord
from components.contracts.training import TrainingRecord
from components.edge_export.parity import describe as describe_edge
from components.imbalance import ImbalanceStrategy
from components.promotion_gate.tfma_metrics import ACCURACY_METRIC
from pipeline.run_record import RunArtifacts, RunRecord

SUMMARY_VERSION = 1


def build_summary(
    record: RunRecord, artifacts: RunArtifacts, data_dir: Optional[str], report_html: Optional[str]
) -> Dict:
    """The run_summary.json payload for one run."""
    balance, metrics = artifacts.balance, artifacts.metrics
    splits = balance.splits if balance else {}
    eval_split = splits.get(features.EVAL_SPLIT)
    return {
        "summary_version": SUMMARY_VERSION,
        "run_id": record.run_id,
        "data": {
            "data_dir": data_dir,
            "class_names": balance.class_names if balance else [],
            "class_counts": {split: s.class_counts for split, s in splits.items()},
            "split_sizes": {split: s.total for split, s in splits.items()},
        },
        "evaluation": {
            "accuracy": metrics.get(ACCURACY_METRIC),
            "example_count": metrics.get("example_count"),
            "loss": metrics.get("loss"),
            "majority_class": eval_split.majority_class if eval_split else None,
            "majority_fraction": eval_split.majority_fraction if eval_split else None,
            **_gate_fields(artifacts.decision),
            **_error_fields(artifacts.errors, artifacts.errors_uri),
        },
        "ingestion": artifacts.ingestion.to_json() if artifacts.ingestion else None,
        "data_quality": _quality_fields(artifacts.quality),
        "balance": _balance_fields(balance, artifacts.training),
        "training": _training_fields(artifacts.training),
        "tuning": {"trials": [trial.to_json() for trial in artifacts.trials]} if artifacts.trials else None,
        "blessed": artifacts.blessed,
        "pushed_model": artifacts.pushed_model,
        "edge": edge_fields(artifacts.edge),
        # Added with the Drift step: null in a run without it (a compiled pipeline, an older run).
        "drift": artifacts.drift.to_json() if artifacts.drift else None,
        # Added with the ModelCard step: null in a run without it.
        "model_card": model_card_fields(artifacts),
        "report_html": report_html,
        "components": {node_id: node.state for node_id, node in sorted(record.nodes.items())},
    }


def _training_fields(training: Optional[TrainingRecord]) -> Optional[Dict]:
    if training is None:
        return None
    return {
        "epochs_run": training.epochs_run,
        "best_epoch": training.best_epoch,
        "best_val_accuracy": training.best_val_accuracy,
        "stopped_early": training.stopped_early,
        "plots": training.plots,
        "input": training.input.to_json() if training.input else None,
        # Fields that Trainers before them did not write: None then.
        "checkpoint_metric": training.checkpoint_metric,
        "checkpoint_reason": training.checkpoint_reason,
        "best_val_balanced_accuracy": training.best_val_balanced_accuracy,
        "imbalance_strategy": training.imbalance_strategy,
        "hyperparameters": training.hyperparameters,
        "tuning": training.tuning.to_json() if training.tuning else None,
        "findings": [{"code": f.code, "message": f.message} for f in training.findings],
        # Added with --architecture and --image-size auto, and the Trainer's own imbalance decision.
        "architecture": training.architecture,
        "architecture_reason": training.architecture_reason,
        "image_size": training.image_size,
        "image_size_reason": training.image_size_reason,
        "fine_tune_epoch": training.fine_tune_epoch,
        "imbalance_reason": training.imbalance_reason,
    }


def _class_weights_used(balance: BalanceReport, training: Optional[TrainingRecord]) -> Optional[Dict[str, float]]:
    """The class weights training used. A Trainer from before it decided the strategy itself
    recorded none; LabelBalance's report then held the weights it passed on."""
    if training is None:
        return None
    if training.imbalance_reason is None and training.imbalance_strategy == ImbalanceStrategy.CLASS_WEIGHTS:
        return balance.class_weights
    return training.class_weights


def _balance_fields(balance: Optional[BalanceReport], training: Optional[TrainingRecord]) -> Optional[Dict]:
    if balance is None:
        return None
    split_keys = ("class_counts", "majority_class", "majority_fraction", "imbalance_ratio", "normalized_entropy", "missing_classes")
    return {
        **{split: {k: getattr(s, k) for k in split_keys} for split, s in balance.splits.items()},
        "imbalanced": balance.imbalanced,
        "severity": balance.severity,
        "class_weights": _class_weights_used(balance, training),
        "train_eval_distance": balance.train_eval_distance,
        "findings": balance.findings,
        "report_html": balance.report_html,
        # The data report's example images per class (paths relative to the data dir).
        "gallery": {name: [e.path for e in entries] for name, entries in (balance.gallery or {}).items()},
    }


def _gate_fields(decision: Optional[DecisionRecord]) -> Dict:
    if decision is None:
        return {}
    candidate = decision.candidate
    return {
        "balanced_accuracy": candidate.balanced_accuracy,
        "per_class_recall": candidate.per_class_recall,
        "per_class_precision": candidate.per_class_precision,
        "majority_baseline": decision.majority_baseline.to_json(),
        "baseline_model": decision.baseline_model.to_json() if decision.baseline_model else None,
        "reasons": decision.reasons,
        # The metrics the gate judged when eval images are also in train: without them.
        "leak_free": decision.leak_free.to_json() if decision.leak_free else None,
        # Added with the intervals: [low, high] at confidence_level (null from a gate before them),
        # and rule (c) image by image against the last blessed model (null before any).
        "confidence_level": candidate.confidence,
        "accuracy_interval": candidate.accuracy_interval,
        "balanced_accuracy_interval": candidate.balanced_accuracy_interval,
        "per_class_recall_interval": candidate.per_class_recall_interval,
        "per_class_precision_interval": candidate.per_class_precision_interval,
        "paired": [rule.to_json() for rule in decision.paired] if decision.paired else None,
    }


def _quality_fields(quality: Optional[QualityRecord]) -> Optional[Dict]:
    """The DataQuality step's findings: groups as lists of paths, outliers with their measure."""
    if quality is None:
        return None

    def paths(groups):
        return [[image.path for image in group.images] for group in groups]

    return {
        "exact_duplicates": paths(quality.exact_duplicates),
        "near_duplicates": paths(quality.near_duplicates),
        "conflicting_labels": paths(quality.conflicting_labels),
        "train_eval_leaks": paths(quality.train_eval_leaks),
        "leaked_eval_images": quality.leaked_eval_images,
        "outliers": [{"path": o.path, "kind": o.kind, "value": o.value} for o in quality.outliers],
        "counts": quality.counts.to_json(),
        "findings": quality.findings,
        # Images probably filed under the wrong class, worst first (the lowest score), and how
        # they were judged; empty and None when the run had no embeddings.
        "label_issues": [
            {"path": i.path, "split": i.split, "given": i.class_name, "suggested": i.suggested, "score": i.score}
            for i in quality.label_issues
        ],
        "label_check": quality.label_check.to_json() if quality.label_check else None,
    }


def _error_fields(errors: Optional[ErrorAnalysisRecord], uri: Optional[str]) -> Dict:
    """The ErrorAnalysis step's findings; image files as paths a program can open."""
    if errors is None:
        return {}

    def located(name: Optional[str]) -> Optional[str]:
        return posixpath.join(uri, name) if name else None

    return {
        "top_losses": [
            {
                "path": item.path,
                "actual": item.actual,
                "predicted": item.predicted,
                "confidence": item.confidence,
                "loss": item.loss,
                "thumbnail": located(item.thumbnail),
                "heatmap": located(item.heatmap),
            }
            for item in errors.top_losses
        ],
        "most_confused": [
            {
                "actual": pair.actual,
                "predicted": pair.predicted,
                "count": pair.count,
                "examples": [example.path for example in pair.examples],
            }
            for pair in errors.most_confused
        ],
        "average_precision": errors.average_precision,
        "mean_average_precision": errors.mean_average_precision,
        "expected_calibration_error": errors.expected_calibration_error,
        "thresholds": errors.thresholds,
        "error_analysis": uri,
    }


def edge_fields(edge: Optional[EdgeRecord]) -> Optional[Dict]:
    """`edge`: per TF Lite model {path, bytes, agreement, accuracy, balanced_accuracy, published,
    reason}, the SavedModel's own scores on the same images, and the input the models take."""
    if edge is None:
        return None
    return {
        "exported": edge.exported,
        "reason": edge.reason,
        "tflite_float": edge.tflite_float.to_json() if edge.tflite_float else None,
        "tflite_int8": edge.tflite_int8.to_json() if edge.tflite_int8 else None,
        "saved_model": edge.saved_model.to_json() if edge.saved_model else None,
        "parity_images": edge.parity_images,
        "min_int8_agreement": edge.min_int8_agreement,
        "input_spec": edge.input_spec,
        "folder": edge.folder,
        "findings": describe_edge(edge),
    }


def model_card_fields(artifacts: RunArtifacts) -> Optional[Dict]:
    """Where the card is (beside the pushed model, else in its artifact) and its limitations."""
    card = artifacts.model_card
    if card is None:
        return None
    folder = card.model_details.path or artifacts.model_card_uri
    return {
        "json": posixpath.join(folder, MODEL_CARD_JSON_FILE),
        "html": posixpath.join(folder, MODEL_CARD_HTML_FILE),
        "beside_pushed_model": card.model_details.path is not None,
        "limitations": [limitation.description for limitation in card.considerations.limitations],
    }


def write_atomically(text: str, path: str) -> None:
    """Writes the file whole: to a temporary file first, then renamed over the old one."""
    tmp = path + ".tmp"
    with tf.io.gfile.GFile(tmp, "w") as f:
        f.write(text)
    tf.io.gfile.rename(tmp, path, overwrite=True)
