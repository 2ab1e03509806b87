"""The run_summary.json contract and the console lines of one run.

The summary is a contract other programs read (README: "run_summary.json"); fields are only added.
It is built from what `run_record` read of the run from ML Metadata and its artifacts.
"""
from __future__ import annotations

import posixpath
from typing import Dict, List, Optional

import tensorflow as tf

from components import features
from components.edge_export.parity import summary_fields as edge_fields
from pipeline import dag
from pipeline.run_record import RunArtifacts, RunRecord

SUMMARY_VERSION = 1


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
        training["input"] = trained.get("input")
        # Fields from training.json that Trainers before them did not write: None then.
        for key in ("checkpoint_metric", "checkpoint_reason", "best_val_balanced_accuracy", "imbalance_strategy"):
            training[key] = trained.get(key)
        training["hyperparameters"] = trained.get("hyperparameters")
        training["tuning"] = trained.get("tuning")
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
            # The data report's example images per class (paths relative to the data dir).
            "gallery": {name: [e["path"] for e in entries] for name, entries in (balance.get("gallery") or {}).items()},
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
            **_error_fields(artifacts.errors, artifacts.errors_uri),
        },
        "ingestion": artifacts.ingestion,
        "data_quality": _quality_fields(artifacts.quality),
        "balance": balance_summary,
        "training": training,
        "tuning": {"trials": artifacts.trials} if artifacts.trials else None,
        "blessed": artifacts.blessed,
        "pushed_model": artifacts.pushed_model,
        "edge": edge_fields(artifacts.edge),
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
        # The metrics the gate judged when eval images are also in train: without them.
        "leak_free": decision.get("leak_free"),
    }


def _quality_fields(quality: Optional[Dict]) -> Optional[Dict]:
    """The DataQuality step's findings: groups as lists of paths, outliers with their measure."""
    if quality is None:
        return None

    def paths(groups):
        return [[image["path"] for image in group["images"]] for group in groups]

    return {
        "exact_duplicates": paths(quality["exact_duplicates"]),
        "near_duplicates": paths(quality.get("near_duplicates") or []),
        "conflicting_labels": paths(quality["conflicting_labels"]),
        "train_eval_leaks": paths(quality["train_eval_leaks"]),
        "leaked_eval_images": quality["leaked_eval_images"],
        "outliers": [{k: o[k] for k in ("path", "kind", "value")} for o in quality["outliers"]],
        "counts": quality["counts"],
        "findings": quality["findings"],
    }


def _error_fields(errors: Optional[Dict], uri: Optional[str]) -> Dict:
    """The ErrorAnalysis step's findings; image files as paths a program can open."""
    if errors is None:
        return {}

    def located(name: Optional[str]) -> Optional[str]:
        return posixpath.join(uri, name) if name else None

    keys = ("path", "actual", "predicted", "confidence", "loss")
    return {
        "top_losses": [
            {**{k: item[k] for k in keys}, "thumbnail": located(item["thumbnail"]), "heatmap": located(item["heatmap"])}
            for item in errors["top_losses"]
        ],
        "most_confused": [
            {
                "actual": pair["actual"],
                "predicted": pair["predicted"],
                "count": pair["count"],
                "examples": [example["path"] for example in pair["examples"]],
            }
            for pair in errors["most_confused"]
        ],
        "average_precision": errors["average_precision"],
        "mean_average_precision": errors["mean_average_precision"],
        "expected_calibration_error": errors["expected_calibration_error"],
        "thresholds": errors["thresholds"],
        "error_analysis": uri,
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
        dropped = len(account.get("dropped") or [])
        if dropped:
            outcome += f" {dropped} exact duplicate{'s' if dropped > 1 else ''} dropped (--drop-duplicates), each listed in the reports."
        lines.append(f"Ingested {account['ingested']} of {account['files_seen']} files; {outcome}")
    quality = summary.get("data_quality")
    if quality:
        lines += [f"Data quality: {line}" for line in quality["findings"]] or [
            "Data quality: no exact duplicates, conflicting labels, train/eval leaks or odd images."
        ]
    balance = summary.get("balance")
    if balance:
        lines.append(balance["findings"][0])
        lines.append(f"Data report: {balance['report_html']}")
    training = summary.get("training")
    if training:
        stop = "stopped early" if training["stopped_early"] else "all epochs"
        line = (
            f"Trained {training['epochs_run']} epochs ({stop}); best epoch {training['best_epoch']} "
            f"with validation accuracy {training['best_val_accuracy']:.3f}"
        )
        if training.get("checkpoint_metric"):
            line += (
                f", balanced accuracy {training['best_val_balanced_accuracy']:.3f}; kept by "
                f"{training['checkpoint_metric'].replace('_', ' ')}: {training['checkpoint_reason']}"
            )
        lines.append(line + ".")
        if training.get("imbalance_strategy"):
            lines.append(f"Imbalance strategy: {training['imbalance_strategy']}.")
        tuned = training.get("tuning")
        if tuned:
            lines.append(f"Hyperparameters: {tuned['reason']}.")
        if training.get("input"):
            lines.append(f"Trainer input: {training['input']['reason']}")
        for finding in training["findings"]:
            lines.append(f"Training finding [{finding['code']}]: {finding['message']}")
    tuning = summary.get("tuning")
    if tuning:
        best = next((t for t in tuning["trials"] if t["best"]), None)
        if best:
            lines.append(
                f"Tuner: {len(tuning['trials'])} trials; the best (trial {best['trial_id']}) reached validation "
                f"balanced accuracy {best['objective']:.3f}."
            )
    if evaluation["accuracy"] is not None:
        line = f"Eval accuracy {evaluation['accuracy']:.3f}"
        if evaluation["majority_fraction"] is not None:
            line += (
                f" (always answering '{evaluation['majority_class']}' would score "
                f"{evaluation['majority_fraction']:.3f})"
            )
        leaked = (quality or {}).get("leaked_eval_images")
        if leaked:
            line += f"; overstated: {len(leaked)} eval image{'s are' if len(leaked) > 1 else ' is'} also in train"
        lines.append(line + ".")
    lines += _mistake_lines(evaluation)
    if summary["pushed_model"]:
        lines.append(f"Model blessed and pushed to {summary['pushed_model']}")
    elif summary["blessed"]:
        lines.append("Model blessed but not pushed.")
    else:
        lines.append("Model NOT blessed: nothing was pushed; the served model is unchanged.")
    for reason in evaluation.get("reasons", []):
        lines.append(f"  - {reason}")
    if summary.get("edge") and summary["pushed_model"]:
        lines += summary["edge"]["findings"]
    if summary.get("report_html"):
        lines.append(f"Report: {summary['report_html']}")
    lines.append(f"Summary: {summary_path}")
    return lines


def _mistake_lines(evaluation: Dict) -> List[str]:
    lines = []
    confused = evaluation.get("most_confused")
    if confused:
        pairs = ", ".join(f"'{p['actual']}' taken for '{p['predicted']}' {p['count']}x" for p in confused[:3])
        lines.append(f"Most confused: {pairs}.")
    top = evaluation.get("top_losses")
    if top:
        worst = top[0]
        lines.append(
            f"Highest loss: {worst['path']} ('{worst['actual']}', predicted '{worst['predicted']}' at "
            f"{worst['confidence']:.0%}); {len(top)} top losses with heatmaps in the report."
        )
    if evaluation.get("mean_average_precision") is not None:
        lines.append(
            f"Mean average precision {evaluation['mean_average_precision']:.3f}; expected calibration error "
            f"{evaluation['expected_calibration_error']:.3f}."
        )
    return lines
