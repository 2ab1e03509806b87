"""This run's train images against those the served model was trained on, by TFDV's own drift
comparators (no TFX here).

`tfdv.validate_statistics(current, schema, previous_statistics=previous)` measures every feature
whose schema entry has a `drift_comparator`: the L-infinity distance of the class shares (the
largest change of one class's share: 0.2 when 'zero' goes from 60% to 40% of train images) and
the approximate Jensen-Shannon divergence of the histograms of image width, height, brightness
and contrast. Its measurements, each against its threshold, are the record; the words say which
class or property moved and from what to what, read from the same statistics.
"""
from __future__ import annotations

from typing import Dict, List, Optional

import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2

from components import features
from components.contracts.drift import DriftMeasure
from components.drift.options import DriftOptions
from components.statistics import feature_statistics

CLASS_FEATURE = features.CLASS_NAME_KEY  # by name, so that a class added or removed shifts no index
IMAGE_FEATURES = {
    features.IMAGE_WIDTH_KEY: "image width",
    features.IMAGE_HEIGHT_KEY: "image height",
    features.BRIGHTNESS_KEY: "brightness",
    features.CONTRAST_KEY: "contrast",
}
L_INFINITY, JENSEN_SHANNON = "L-infinity distance", "Jensen-Shannon divergence"
_MEASURES = {
    anomalies_pb2.DriftSkewInfo.Measurement.L_INFTY: L_INFINITY,
    anomalies_pb2.DriftSkewInfo.Measurement.JENSEN_SHANNON_DIVERGENCE: JENSEN_SHANNON,
}


def drift_schema(schema: schema_pb2.Schema, options: DriftOptions) -> schema_pb2.Schema:
    """A copy of `schema` with a drift comparator on the class name and the image properties."""
    with_drift = schema_pb2.Schema()
    with_drift.CopyFrom(schema)
    tfdv.get_feature(with_drift, CLASS_FEATURE).drift_comparator.infinity_norm.threshold = options.class_share_drift
    for name in IMAGE_FEATURES:
        tfdv.get_feature(with_drift, name).drift_comparator.jensen_shannon_divergence.threshold = options.image_drift
    return with_drift


def class_shares(statistics: statistics_pb2.DatasetFeatureStatisticsList) -> Dict[str, float]:
    """{class name: share of the images}, from TFDV's value counts of the class name."""
    feature = feature_statistics(statistics, CLASS_FEATURE)
    if feature is None:
        return {}
    counts = {b.label: b.sample_count for b in feature.string_stats.rank_histogram.buckets}
    if not counts:
        counts = {v.value: v.frequency for v in feature.string_stats.top_values}
    total = sum(counts.values())
    return {name: count / total for name, count in counts.items()} if total else {}


def _median(statistics, name: str) -> Optional[float]:
    feature = feature_statistics(statistics, name)
    return feature.num_stats.median if feature is not None and feature.HasField("num_stats") else None


def _detail(feature: str, current, previous) -> str:
    if feature == CLASS_FEATURE:
        now, before = class_shares(current), class_shares(previous)
        moved = max(set(now) | set(before), key=lambda name: abs(now.get(name, 0.0) - before.get(name, 0.0)), default=None)
        if moved is None:
            return "no class counts"
        return f"'{moved}' {before.get(moved, 0.0):.1%} -> {now.get(moved, 0.0):.1%} of train images"
    now, before = _median(current, feature), _median(previous, feature)
    if now is None or before is None:
        return "no statistics"
    digits = 0 if feature in (features.IMAGE_WIDTH_KEY, features.IMAGE_HEIGHT_KEY) else 2
    return f"median {IMAGE_FEATURES[feature]} {before:.{digits}f} -> {now:.{digits}f}"


def compare(
    current: statistics_pb2.DatasetFeatureStatisticsList,
    previous: statistics_pb2.DatasetFeatureStatisticsList,
    schema: schema_pb2.Schema,
    options: DriftOptions,
) -> List[DriftMeasure]:
    """TFDV's drift measurements of `current` against `previous` (train split statistics), class
    shares first, then the image properties in IMAGE_FEATURES' order."""
    anomalies = tfdv.validate_statistics(current, drift_schema(schema, options), previous_statistics=previous)
    measured = {}
    for info in anomalies.drift_skew_info:
        for measurement in info.drift_measurements:
            if measurement.type in _MEASURES:
                measured[".".join(info.path.step)] = (_MEASURES[measurement.type], measurement.value, measurement.threshold)
    measures = []
    for name in (CLASS_FEATURE, *IMAGE_FEATURES):
        if name not in measured:
            continue  # a feature TFDV has no statistics of in one of the two (an older run)
        measure, value, threshold = measured[name]
        measures.append(
            DriftMeasure(
                feature=name, measure=measure, value=float(value), threshold=float(threshold),
                drifted=value > threshold, detail=_detail(name, current, previous),
            )  # fmt: skip
        )
    return measures


def finding(measure: DriftMeasure) -> str:
    """One line for a drifted feature."""
    what = "class shares" if measure.feature == CLASS_FEATURE else IMAGE_FEATURES[measure.feature]
    return (
        f"{what} moved since the served model's training data: {measure.detail} "
        f"({measure.measure} {measure.value:.3f}, above {measure.threshold:g})"
    )
