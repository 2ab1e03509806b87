"""Console output shared by the commands: quiet libraries, one progress line per component, and
the lines that end a run (from its run_summary.json)."""
from __future__ import annotations

import logging
import os
import sys
import time
import warnings
from typing import Any, Callable, Dict, List, Tuple, Type


class ProgressFilter(logging.Filter):
    """Turns LocalDagRunner's 'Component X is running.' log records into one short line each and,
    unless verbose, drops the other INFO records of TFX's (absl) logger."""

    def __init__(self, verbose: bool):
        super().__init__()
        self.verbose = verbose
        self.started = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return self.verbose
        message = record.getMessage()
        if message.startswith("Component ") and message.endswith(" is running."):
            node = message[len("Component ") : -len(" is running.")]
            self.started[node] = time.time()
            print(f"[{node}] running", flush=True)
        elif message.startswith("Component ") and message.endswith(" is finished."):
            node = message[len("Component ") : -len(" is finished.")]
            print(f"[{node}] done in {time.time() - self.started.get(node, time.time()):.1f}s", flush=True)
        return self.verbose


def run_explaining_errors(
    work: Callable[[], Any],
    verbose: bool,
    failed: str,
    errors: Tuple[Type[BaseException], ...] = (),
    stops: Tuple[Type[BaseException], ...] = (),
) -> Tuple[int, Any]:
    """(exit code, `work()`'s result): 0 when it ran; otherwise one line on stderr and the code:
    2 for `errors` (a setting or a folder to fix), 1 for `stops` (the run stopped on what it
    found) and for any other failure ("`failed` failed", the traceback with `verbose`), 130
    when interrupted."""
    try:
        return 0, work()
    except errors as error:
        print(f"error: {error}", file=sys.stderr)
        return 2, None
    except stops as error:
        print(f"stopped: {error}", file=sys.stderr)
        return 1, None
    except KeyboardInterrupt:
        print("interrupted: run the same command again to finish; finished steps come from the cache.", file=sys.stderr)
        return 130, None
    except Exception as error:  # noqa: BLE001 - one readable line instead of a TFX traceback
        if verbose:
            raise
        print(f"error: {failed} failed: {type(error).__name__}: {error}", file=sys.stderr)
        print("Run again with --verbose for the full logs and traceback.", file=sys.stderr)
        return 1, None


def quiet_libraries(verbose: bool, show_progress: bool = False) -> None:
    """TensorFlow, Beam and the Google client libraries log far more than a user needs.

    Call before TensorFlow is imported. With `show_progress`, LocalDagRunner's component
    start and finish records become one short line each.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0" if verbose else "3")
    if not verbose:
        # Also for the processes Beam's multi-processing runner starts, which inherit the environment.
        os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning,ignore::DeprecationWarning,ignore::UserWarning")
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=UserWarning)
    from absl import logging as absl_logging

    if show_progress:
        absl_logging.set_verbosity(absl_logging.INFO)
        logging.getLogger("absl").addFilter(ProgressFilter(verbose))
    elif not verbose:
        absl_logging.set_verbosity(absl_logging.ERROR)
    if not verbose:
        import tensorflow as tf

        tf.get_logger().setLevel(logging.ERROR)
        logging.getLogger("apache_beam").setLevel(logging.ERROR)
        # Retry notices before a clear error line; the child logger, as kfp resets "urllib3" itself.
        logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)


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
        from components.contracts.ingestion import LABEL_ISSUE_REASON

        listed = account.get("dropped") or []
        mislabelled = sum(d["reason"].startswith(LABEL_ISSUE_REASON) for d in listed)
        dropped = len(listed) - mislabelled
        if dropped:
            outcome += f" {dropped} exact duplicate{'s' if dropped > 1 else ''} dropped (--drop-duplicates), each listed in the reports."
        if mislabelled:
            outcome += (
                f" {mislabelled} label issue{'s' if mislabelled > 1 else ''} dropped (--drop-label-issues), "
                "each listed in the run report."
            )
        lines.append(f"Ingested {account['ingested']} of {account['files_seen']} files; {outcome}")
    quality = summary.get("data_quality")
    if quality:
        lines += [f"Data quality: {line}" for line in quality["findings"]] or [
            "Data quality: no exact duplicates, conflicting labels, train/eval leaks or odd images."
        ]
        check = quality.get("label_check")
        if check and not check["judged"]:
            lines.append(f"Data quality: labels {check['reason']}.")
    drift = summary.get("drift")
    if drift:
        lines += [f"Drift: {line}." for line in drift["findings"]]
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
        if training.get("architecture"):
            lines.append(model_line(training))
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
        line, notes = f"Eval accuracy {evaluation['accuracy']:.3f}", []
        interval = evaluation.get("accuracy_interval")
        if interval:
            notes.append(f"{evaluation['confidence_level']:.0%} interval {interval[0]:.3f} to {interval[1]:.3f}")
        if evaluation["majority_fraction"] is not None:
            notes.append(
                f"always answering '{evaluation['majority_class']}' would score {evaluation['majority_fraction']:.3f}"
            )
        line += f" ({'; '.join(notes)})" if notes else ""
        balanced = evaluation.get("balanced_accuracy_interval")
        if balanced:
            line += f", balanced accuracy {evaluation['balanced_accuracy']:.3f} ({balanced[0]:.3f} to {balanced[1]:.3f})"
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
    card = summary.get("model_card")
    if card and card["beside_pushed_model"]:
        lines.append(f"Model card: {card['html']} ({len(card['limitations'])} limitations named)")
    if summary.get("report_html"):
        lines.append(f"Report: {summary['report_html']}")
    lines.append(f"Summary: {summary_path}")
    return lines


def model_line(training: Dict) -> str:
    """What was trained, at what size, and why (the summary's `training`; the report says it too)."""
    why = training["architecture_reason"]
    size_why = training["image_size_reason"]
    if size_why and size_why not in why:
        why += f"; image size: {size_why}"
    phase_two = f"; fine-tuned from epoch {training['fine_tune_epoch']}" if training.get("fine_tune_epoch") else ""
    return f"Model: {training['architecture']} at {training['image_size']} px ({why}){phase_two}."


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
