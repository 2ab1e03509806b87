"""The training section of the run report: the numbers, the findings and the curves."""
from __future__ import annotations

from components.contracts.training import TrainingRecord
from components.reporting import html


def training_section(training: TrainingRecord) -> str:
    """`training` is the Trainer's record (training.json)."""
    findings = training.findings
    if findings:
        verdict = html.verdict_box(
            html.BAD if any(f.code in ("majority_class_collapse", "underfitting") for f in findings) else html.WARNING,
            [f"[{f.code}] {f.message} Try: {f.suggestion}" for f in findings],
        )
    else:
        verdict = html.verdict_box(html.GOOD, ["Nothing in the training curves needs explaining."])
    stop = "stopped early" if training.stopped_early else "ran all epochs"
    numbers = html.table(
        ["epochs run", "best epoch", "best validation accuracy", "always the largest class", "early stop"],
        [
            [
                training.epochs_run,
                training.best_epoch,
                f"{training.best_val_accuracy:.3f}",
                "n/a" if training.majority_fraction is None else f"{training.majority_fraction:.3f}",
                stop,
            ]
        ],
    )
    plots = "".join(html.png(path, "training curves") for path in training.plots)
    fed = f"<p>Trainer input: {html.escape(training.input.reason)}</p>" if training.input else ""
    return html.section("Training", verdict, numbers, _choices(training), fed, plots)


def _choices(training: TrainingRecord) -> str:
    """Which epoch was kept and why, how imbalance was countered, where the hyperparameters came from."""
    if not training.checkpoint_metric:
        return ""  # a Trainer from before these were recorded
    lines = []
    if training.architecture:
        why = training.architecture_reason
        if training.image_size_reason and training.image_size_reason not in why:
            why += f"; image size: {training.image_size_reason}"
        lines.append(f"Model: {training.architecture} at {training.image_size} px ({why}).")
    if training.fine_tune_epoch:
        lines.append(
            f"Two phases: the new head on the frozen ImageNet backbone, then every layer fine-tuned from epoch "
            f"{training.fine_tune_epoch} (the brown line in the curves)."
        )
    lines += [
        f"Kept epoch {training.best_epoch} by validation {training.checkpoint_metric.replace('_', ' ')} "
        f"(balanced accuracy {training.best_val_balanced_accuracy:.3f}): {training.checkpoint_reason}.",
        f"Imbalance strategy: {training.imbalance_strategy}."
        + (f" {training.imbalance_reason}" if training.imbalance_reason else ""),
    ]
    if training.tuning and training.tuning.reason:
        lines.append(f"Hyperparameters: {training.tuning.reason}.")
    values = training.hyperparameters or {}
    shown = ("architecture", "learning_rate", "batch_size", "dropout", "augment_strength", "epochs")
    described = {k: "the architecture's" if values.get(k) is None else values[k] for k in shown if k in values}
    if training.fine_tune_epoch and "fine_tune_learning_rate" in values:
        described["fine_tune_learning_rate"] = values["fine_tune_learning_rate"] or "a tenth of learning_rate"
    lines.append("Trained with " + ", ".join(f"{k} {v}" for k, v in described.items()) + ".")
    return "".join(f"<p>{html.escape(line)}</p>" for line in lines)
