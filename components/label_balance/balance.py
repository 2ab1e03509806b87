"""Pure functions from TFDV statistics to class counts, imbalance measures, a verdict and a
recommendation for training (`contracts.balance.BalanceReport`).

Definitions (also in the README, "Label balance"):

* imbalance ratio: images in the largest class / images in the smallest class with any image;
* normalised entropy: entropy of the class fractions / log(number of classes); 1 = uniform;
* train/eval distance: the largest difference between a class's train and eval fractions
  (L-infinity, as TFDV's skew comparator measures);
* balanced class weights: `components.imbalance.balanced_class_weights`.

LabelBalance recommends; the Trainer decides what training does about an imbalance
(`TrainingOptions.imbalance_strategy`) and records it.
"""
from __future__ import annotations

import math
from typing import Dict, List, Mapping, Optional, Sequence

from tensorflow_metadata.proto.v0 import statistics_pb2

from components.statistics import feature_statistics

from components import features
from components.contracts.balance import BalanceReport, SplitSummary
from components.imbalance import balanced_class_weights, recommended_strategy
from components.label_balance.options import BalanceOptions


class LabelStatisticsError(ValueError):
    """The statistics carry no per-class counts for the label."""


class DataStopError(RuntimeError):
    """The data report found what the run was asked to stop on."""


class ImbalanceError(DataStopError):
    """Labels are imbalanced and the run was asked to stop on that."""


class LeakageError(DataStopError):
    """Eval images also appear in train and the run was asked to stop on that (--fail-on-leakage)."""


class MissingClassError(ImbalanceError):
    """A class has no images in a split: it cannot be learned (train) or measured (eval)."""


def missing_class_problem(report: BalanceReport) -> Optional[str]:
    """Why a run must stop because a split lacks a class, or None."""
    problems = []
    for split, summary in report.splits.items():
        missing = summary.missing_classes
        if missing:
            consequence = "the model cannot learn" if split == features.TRAIN_SPLIT else "nobody can measure the model on"
            names = ", ".join(f"'{name}'" for name in missing)
            problems.append(f"No {split} images for {names}: {consequence} {'it' if len(missing) == 1 else 'them'}.")
    if not problems:
        return None
    return " ".join(problems) + (
        " Add images for each class to every split (with class folders only, a class needs enough images "
        "that the hash split puts some in each; raising --eval-fraction helps), or remove the class folder."
    )


def label_counts(
    statistics: statistics_pb2.DatasetFeatureStatisticsList, label_key: str, num_classes: int
) -> List[int]:
    """Count of examples per class index, read from TFDV's value counts of the label.

    TFDV counts values of an int feature only when the schema marks it categorical
    (`int_domain { is_categorical: true }`); that is what schemas/schema.pbtxt does.
    """
    feature = feature_statistics(statistics, label_key)
    if feature is None:
        raise LabelStatisticsError(f"TFDV statistics have no feature '{label_key}'.")
    buckets = [(b.label, b.sample_count) for b in feature.string_stats.rank_histogram.buckets]
    if not buckets:
        buckets = [(v.value, v.frequency) for v in feature.string_stats.top_values]
    if not buckets:
        raise LabelStatisticsError(
            f"TFDV statistics have no value counts for '{label_key}': the schema given to "
            "StatisticsGen must mark it `int_domain { is_categorical: true }`."
        )
    counts = [0] * num_classes
    for value, count in buckets:
        index = int(value)
        if not 0 <= index < num_classes:
            raise LabelStatisticsError(f"Label value {index} is outside the {num_classes} known classes.")
        counts[index] += int(round(count))
    return counts


def normalised_entropy(counts: Sequence[int]) -> float:
    """Entropy of the class distribution over log(number of classes): 1 = uniform, 0 = one class."""
    total = sum(counts)
    if total == 0 or len(counts) < 2:
        return 0.0
    entropy = -sum(c / total * math.log(c / total) for c in counts if c)
    return entropy / math.log(len(counts))


def split_summary(class_names: Sequence[str], counts: Sequence[int]) -> SplitSummary:
    """Counts, fractions, majority and minority, imbalance ratio and entropy of one split."""
    total = int(sum(counts))
    present = [i for i, c in enumerate(counts) if c]
    majority = max(range(len(counts)), key=lambda i: counts[i])
    minority = min(present, key=lambda i: counts[i]) if present else majority
    return SplitSummary(
        total=total,
        class_counts={name: int(c) for name, c in zip(class_names, counts)},
        class_fractions=class_fractions(dict(zip(class_names, counts))),
        majority_class=class_names[majority],
        majority_fraction=counts[majority] / total if total else 0.0,
        minority_class=class_names[minority],
        minority_count=int(counts[minority]),
        imbalance_ratio=counts[majority] / counts[minority] if present else None,
        normalized_entropy=normalised_entropy(counts),
        missing_classes=[name for name, c in zip(class_names, counts) if not c],
    )


def class_fractions(counts: Mapping[str, int]) -> Dict[str, float]:
    """Each class's share of the images counted (all 0.0 when none were)."""
    total = sum(counts.values())
    return {name: (n / total if total else 0.0) for name, n in counts.items()}


def distribution_distance(a: Dict[str, float], b: Dict[str, float]) -> float:
    """L-infinity distance between two class-fraction mappings over the same classes."""
    return max((abs(a[name] - b.get(name, 0.0)) for name in a), default=0.0)


def severity(ratio: Optional[float], missing_in_train: Sequence[str], options: BalanceOptions) -> str:
    if missing_in_train or (ratio is not None and ratio >= options.severe_ratio):
        return "severe"
    if ratio is not None and ratio >= options.imbalance_ratio:
        return "moderate"
    return "none"


def percent(x: float) -> str:
    return f"{100 * x:.1f}%"


def findings(
    splits: Dict[str, SplitSummary],
    level: str,
    distance: Optional[float],
    weights: Optional[Dict[str, float]],
    options: BalanceOptions,
) -> List[str]:
    """The verdict in plain sentences, most important first, ending with the recommendation."""
    train, evaluation = splits.get(features.TRAIN_SPLIT), splits.get(features.EVAL_SPLIT)
    lines = []
    if train:
        ratio = train.imbalance_ratio
        if level == "none":
            lines.append(
                f"Labels are balanced enough: the largest train class ('{train.majority_class}') has "
                f"{ratio:.1f}x the images of the smallest (threshold {options.imbalance_ratio:g}x)."
            )
        else:
            lines.append(
                f"Labels are {'severely' if level == 'severe' else 'moderately'} imbalanced: "
                f"'{train.majority_class}' is {percent(train.majority_fraction)} of train images, "
                f"{ratio:.1f}x the smallest class ('{train.minority_class}', {train.minority_count} images)."
            )
    baseline = evaluation or train
    if baseline:
        split_name = features.EVAL_SPLIT if evaluation else features.TRAIN_SPLIT
        lines.append(
            f"A model that always answers '{baseline.majority_class}' scores "
            f"{percent(baseline.majority_fraction)} on {split_name}; any accuracy near that means the "
            "model learned nothing."
        )
    if train and train.missing_classes:
        lines.append(f"No training images for: {', '.join(train.missing_classes)}. The model cannot learn them.")
    if evaluation and evaluation.missing_classes:
        lines.append(
            f"No eval images for: {', '.join(evaluation.missing_classes)}. "
            "Accuracy on those classes cannot be measured."
        )
    if distance is not None and distance > options.train_eval_distance:
        lines.append(
            f"Train and eval label mixes differ by up to {percent(distance)} of a split "
            f"(threshold {percent(options.train_eval_distance)}): eval measures a different mix than train."
        )
    if level != "none" and weights:
        heaviest, lightest = max(weights, key=weights.get), min(weights, key=weights.get)
        lines.append(
            f"Recommended for training: balanced class weights (--imbalance-strategy class_weights): a "
            f"'{lightest}' image would count {weights[lightest]:.2f} in the loss, a '{heaviest}' image "
            f"{weights[heaviest]:.2f}. The Trainer says what it did."
        )
    return lines


def analyze(
    class_names: Sequence[str],
    counts_by_split: Dict[str, Sequence[int]],
    options: BalanceOptions = BalanceOptions(),
) -> BalanceReport:
    """The label-balance report (the JSON twin of the HTML report), without the parts read from
    other artifacts (ingestion, images, anomalies, gallery), which the component adds."""
    splits = {split: split_summary(class_names, counts) for split, counts in counts_by_split.items()}
    train = splits.get(features.TRAIN_SPLIT)
    distance = None
    if train and features.EVAL_SPLIT in splits:
        distance = distribution_distance(train.class_fractions, splits[features.EVAL_SPLIT].class_fractions)
    level = severity(train.imbalance_ratio, train.missing_classes, options) if train else "none"
    weights = None
    if train:
        weights = dict(zip(class_names, balanced_class_weights(counts_by_split[features.TRAIN_SPLIT])))
    return BalanceReport(
        class_names=list(class_names),
        splits=splits,
        imbalanced=level != "none",
        severity=level,
        train_eval_distance=distance,
        class_weights=weights,
        thresholds=options.thresholds(),
        findings=findings(splits, level, distance, weights, options),
        recommended_strategy=recommended_strategy(level != "none").value,
    )
