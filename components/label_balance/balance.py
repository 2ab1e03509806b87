"""Pure functions from TFDV statistics to class counts and their summary."""
from __future__ import annotations

from typing import Dict, List, Sequence

from tensorflow_metadata.proto.v0 import statistics_pb2


class LabelStatisticsError(ValueError):
    """The statistics carry no per-class counts for the label."""


def label_counts(
    statistics: statistics_pb2.DatasetFeatureStatisticsList, label_key: str, num_classes: int
) -> List[int]:
    """Count of examples per class index, read from TFDV's value counts of the label.

    TFDV counts values of an int feature only when the schema marks it categorical
    (`int_domain { is_categorical: true }`); that is what schemas/schema.pbtxt does.
    """
    dataset = statistics.datasets[0]
    for feature in dataset.features:
        name = feature.name or ".".join(feature.path.step)
        if name != label_key:
            continue
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
    raise LabelStatisticsError(f"TFDV statistics have no feature '{label_key}'.")


def split_summary(class_names: Sequence[str], counts: Sequence[int]) -> Dict:
    """Counts by class name, total, and the majority class with its share (the accuracy of
    always predicting it)."""
    total = int(sum(counts))
    majority = max(range(len(counts)), key=lambda i: counts[i])
    return {
        "total": total,
        "class_counts": {name: int(count) for name, count in zip(class_names, counts)},
        "majority_class": class_names[majority],
        "majority_fraction": counts[majority] / total if total else 0.0,
    }
