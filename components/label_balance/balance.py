"""Pure functions from TFDV statistics to class counts, imbalance measures, a verdict and class weights.

Definitions (also in the README, "Label balance"):

* imbalance ratio: images in the largest class / images in the smallest class with any image;
* normalised entropy: entropy of the class fractions / log(number of classes); 1 = uniform;
* train/eval distance: the largest difference between a class's train and eval fractions
  (L-infinity, as TFDV's skew comparator measures);
* balanced class weights: n_images / (n_classes_present * n_images_of_class), so every class
  carries the same total weight and the weights average to 1 over the training images.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Dict, List, Mapping, Optional, Sequence

from tensorflow_metadata.proto.v0 import statistics_pb2

from components.options import require

# How the Trainer counters imbalance: balanced class weights in the loss, batches drawn with
# equal class probability (components/trainer/inputs.py), or nothing.
IMBALANCE_STRATEGIES = ("class_weights", "oversample", "none")


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


def missing_class_problem(report: Dict) -> Optional[str]:
    """Why a run must stop because a split lacks a class, or None."""
    problems = []
    for split, summary in report["splits"].items():
        missing = summary["missing_classes"]
        if missing:
            consequence = "the model cannot learn" if split == "train" else "nobody can measure the model on"
            names = ", ".join(f"'{name}'" for name in missing)
            problems.append(f"No {split} images for {names}: {consequence} {'it' if len(missing) == 1 else 'them'}.")
    if not problems:
        return None
    return " ".join(problems) + (
        " Add images for each class to every split (with class folders only, a class needs enough images "
        "that the hash split puts some in each; raising --eval-fraction helps), or remove the class folder."
    )


@dataclasses.dataclass(frozen=True)
class BalanceOptions:
    """When the train split counts as imbalanced, and badly; what training does about it.

    A ratio of 2 means the largest class already pulls twice as hard on the loss as the smallest;
    at 10 a model can reach a high accuracy while ignoring the small classes entirely.
    """

    imbalance_ratio: float = 2.0
    severe_ratio: float = 10.0
    train_eval_distance: float = 0.1  # above this, eval measures a different mix than train
    imbalance_strategy: str = "class_weights"  # one of IMBALANCE_STRATEGIES
    fail_on_imbalance: bool = False  # stop the run, after the report, when labels are imbalanced
    fail_on_leakage: bool = False  # stop the run, after the report, when eval images are also in train

    def __post_init__(self):
        require(
            1.0 <= self.imbalance_ratio <= self.severe_ratio,
            "{imbalance_ratio} {value} must be at least 1 and at most {severe_ratio} {severe}.",
            value=self.imbalance_ratio,
            severe=self.severe_ratio,
        )
        require(
            0.0 <= self.train_eval_distance <= 1.0,
            "{train_eval_distance} {value} must be between 0 and 1.",
            value=self.train_eval_distance,
        )
        require(
            self.imbalance_strategy in IMBALANCE_STRATEGIES,
            "{imbalance_strategy} {value} must be one of: {choices}.",
            value=self.imbalance_strategy,
            choices=", ".join(IMBALANCE_STRATEGIES),
        )

    def parameters(self) -> Dict:
        """The LabelBalance component's Parameters (one per field)."""
        return dataclasses.asdict(self)

    def thresholds(self) -> Dict[str, float]:
        """The thresholds the verdict used, as label_balance.json records them."""
        return {
            "imbalance_ratio": self.imbalance_ratio,
            "severe_ratio": self.severe_ratio,
            "train_eval_distance": self.train_eval_distance,
        }


def feature_statistics(statistics: statistics_pb2.DatasetFeatureStatisticsList, name: str):
    """The statistics of feature `name` in the first dataset, or None."""
    for feature in statistics.datasets[0].features:
        if (feature.name or ".".join(feature.path.step)) == name:
            return feature
    return None


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


def split_summary(class_names: Sequence[str], counts: Sequence[int]) -> Dict:
    """Counts, fractions, majority and minority, imbalance ratio and entropy of one split."""
    total = int(sum(counts))
    present = [i for i, c in enumerate(counts) if c]
    majority = max(range(len(counts)), key=lambda i: counts[i])
    minority = min(present, key=lambda i: counts[i]) if present else majority
    return {
        "total": total,
        "class_counts": {name: int(c) for name, c in zip(class_names, counts)},
        "class_fractions": class_fractions(dict(zip(class_names, counts))),
        "majority_class": class_names[majority],
        "majority_fraction": counts[majority] / total if total else 0.0,
        "minority_class": class_names[minority],
        "minority_count": int(counts[minority]),
        "imbalance_ratio": counts[majority] / counts[minority] if present else None,
        "normalized_entropy": normalised_entropy(counts),
        "missing_classes": [name for name, c in zip(class_names, counts) if not c],
    }


def class_fractions(counts: Mapping[str, int]) -> Dict[str, float]:
    """Each class's share of the images counted (all 0.0 when none were)."""
    total = sum(counts.values())
    return {name: (n / total if total else 0.0) for name, n in counts.items()}


def distribution_distance(a: Dict[str, float], b: Dict[str, float]) -> float:
    """L-infinity distance between two class-fraction mappings over the same classes."""
    return max((abs(a[name] - b.get(name, 0.0)) for name in a), default=0.0)


def balanced_class_weights(counts: Sequence[int]) -> List[float]:
    """Balanced weights (see module docstring); a class with no training image gets 1.0, unused."""
    total = sum(counts)
    present = sum(1 for c in counts if c)
    return [total / (present * c) if c else 1.0 for c in counts]


def severity(ratio: Optional[float], missing_in_train: Sequence[str], options: BalanceOptions) -> str:
    if missing_in_train or (ratio is not None and ratio >= options.severe_ratio):
        return "severe"
    if ratio is not None and ratio >= options.imbalance_ratio:
        return "moderate"
    return "none"


def percent(x: float) -> str:
    return f"{100 * x:.1f}%"


def findings(report: Dict, options: BalanceOptions) -> List[str]:
    """The verdict in plain sentences, most important first."""
    splits = report["splits"]
    train, evaluation = splits.get("train"), splits.get("eval")
    lines = []
    if train:
        ratio = train["imbalance_ratio"]
        if report["severity"] == "none":
            lines.append(
                f"Labels are balanced enough: the largest train class ('{train['majority_class']}') has "
                f"{ratio:.1f}x the images of the smallest (threshold {options.imbalance_ratio:g}x)."
            )
        else:
            lines.append(
                f"Labels are {'severely' if report['severity'] == 'severe' else 'moderately'} imbalanced: "
                f"'{train['majority_class']}' is {percent(train['majority_fraction'])} of train images, "
                f"{ratio:.1f}x the smallest class ('{train['minority_class']}', {train['minority_count']} images)."
            )
    baseline = evaluation or train
    if baseline:
        split_name = "eval" if evaluation else "train"
        lines.append(
            f"A model that always answers '{baseline['majority_class']}' scores "
            f"{percent(baseline['majority_fraction'])} on {split_name}; any accuracy near that means the "
            "model learned nothing."
        )
    if train and train["missing_classes"]:
        lines.append(f"No training images for: {', '.join(train['missing_classes'])}. The model cannot learn them.")
    if evaluation and evaluation["missing_classes"]:
        lines.append(
            f"No eval images for: {', '.join(evaluation['missing_classes'])}. "
            "Accuracy on those classes cannot be measured."
        )
    distance = report["train_eval_distance"]
    if distance is not None and distance > options.train_eval_distance:
        lines.append(
            f"Train and eval label mixes differ by up to {percent(distance)} of a split "
            f"(threshold {percent(options.train_eval_distance)}): eval measures a different mix than train."
        )
    weights = report["class_weights"]
    if weights:
        heaviest = max(weights, key=weights.get)
        lightest = min(weights, key=weights.get)
        lines.append(
            f"Class weights are on (balanced): a '{lightest}' image counts {weights[lightest]:.2f} in the "
            f"loss, a '{heaviest}' image {weights[heaviest]:.2f}."
        )
    elif report["severity"] != "none" and options.imbalance_strategy == "oversample":
        lines.append(
            "Oversampling is on: training batches draw every class with equal probability, so each epoch "
            "shows the small classes' images several times."
        )
    elif report["severity"] != "none":
        lines.append("--imbalance-strategy none: training does nothing about the imbalance.")
    return lines


def analyze(
    class_names: Sequence[str],
    counts_by_split: Dict[str, Sequence[int]],
    options: BalanceOptions = BalanceOptions(),
) -> Dict:
    """The label-balance report (the JSON twin of the HTML report)."""
    splits = {split: split_summary(class_names, counts) for split, counts in counts_by_split.items()}
    train = splits.get("train")
    distance = None
    if train and "eval" in splits:
        distance = distribution_distance(train["class_fractions"], splits["eval"]["class_fractions"])
    level = severity(train["imbalance_ratio"], train["missing_classes"], options) if train else "none"
    weights = None
    if options.imbalance_strategy == "class_weights" and "train" in counts_by_split:
        weights = dict(zip(class_names, balanced_class_weights(counts_by_split["train"])))
    report = {
        "class_names": list(class_names),
        "splits": splits,
        "imbalanced": level != "none",
        "severity": level,
        "train_eval_distance": distance,
        # "balanced" when class weights are on, else "none" (the field predates imbalance_strategy).
        "class_weighting": "balanced" if weights else "none",
        "imbalance_strategy": options.imbalance_strategy,
        "class_weights": weights,
        "thresholds": options.thresholds(),
    }
    report["findings"] = findings(report, options)
    return report
