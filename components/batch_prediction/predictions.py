"""BulkInferrer's prediction logs -> predictions.jsonl lines, and what the run says about them.

No Beam and no TFX here: `writer` runs these functions on Beam's workers.
"""
from __future__ import annotations

import dataclasses
import posixpath
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

from components import features
from components.contracts.ingestion import IngestionAccount
from components.contracts.prediction import BatchSummary
from components.label_balance.balance import class_fractions, distribution_distance


def prediction_line(log, class_names: Sequence[str], model_version: str, images_root: str) -> Dict:
    """One PredictionLog of the `serving_default` signature (its request holds the tf.Example the
    ExampleGen wrote) -> {path, class, confidence, probabilities by class name, model_version}."""
    import tensorflow as tf

    predict = log.predict_log
    request = next(iter(predict.request.inputs.values()))
    example = tf.train.Example.FromString(request.string_val[0])
    rel_path = example.features.feature[features.PATH_KEY].bytes_list.value[0].decode("utf-8")
    probabilities = tf.make_ndarray(predict.response.outputs[features.PROBABILITIES_OUTPUT]).reshape(-1)
    if probabilities.size != len(class_names):
        raise ValueError(
            f"The model gives {probabilities.size} probabilities per image but names {len(class_names)} classes "
            "(its class_names.json): it was not exported by this pipeline."
        )
    best = int(np.argmax(probabilities))
    return {
        "path": posixpath.join(images_root, rel_path),
        "class": class_names[best],
        "confidence": round(float(probabilities[best]), 6),
        "probabilities": {name: round(float(p), 6) for name, p in zip(class_names, probabilities)},
        "model_version": model_version,
    }


def batch_summary(
    predicted: Mapping[str, int],
    class_names: Sequence[str],
    train_counts: Optional[Mapping[str, int]],
    account: IngestionAccount,
    model_version: str,
    drift_threshold: float,
) -> BatchSummary:
    """batch_summary.json: counts, the class distribution of the predictions, and how far it is
    from the training distribution (the largest difference of one class's share: the first sign
    of drift, or of a folder unlike the training data)."""
    counts = {name: int(predicted.get(name, 0)) for name in class_names}
    predicted_shares = class_fractions(counts)
    train_shares = class_fractions({n: train_counts.get(n, 0) for n in class_names}) if train_counts else None
    distance = None
    if train_shares and sum(counts.values()):
        distance = distribution_distance(train_shares, predicted_shares)
    summary = BatchSummary(
        model_version=model_version,
        files_seen=account.files_seen,
        predicted=sum(counts.values()),
        rejected=len(account.rejected),
        class_counts=counts,
        class_shares=predicted_shares,
        train_shares=train_shares,
        drift_distance=distance,
        drift_threshold=drift_threshold,
        drift=distance is not None and distance > drift_threshold,
        lines=[],
    )
    return dataclasses.replace(summary, lines=describe(summary))


def describe(summary: BatchSummary) -> List[str]:
    """The console lines of a batch prediction run."""
    counts, shares = summary.class_counts, summary.class_shares
    top = sorted(counts, key=lambda name: (-counts[name], name))
    mix = ", ".join(f"{name} {shares[name]:.1%}" for name in top[:5] if counts[name])
    more = f", and {sum(1 for n in top[5:] if counts[n])} more classes" if sum(1 for n in top[5:] if counts[n]) else ""
    lines = [
        f"Predicted {summary.predicted} of {summary.files_seen} files with model {summary.model_version}; "
        f"{summary.rejected} rejected, each listed with its reason. Predicted classes: {mix or 'none'}{more}."
    ]
    distance = summary.drift_distance
    if distance is None:
        lines.append("No drift check: the model does not record its training classes (exported before that), or nothing was predicted.")
    elif summary.drift:
        name = max(counts, key=lambda n: abs(shares[n] - summary.train_shares[n]))
        lines.append(
            f"warning: the predictions' class mix differs from training by up to {distance:.1%} of images "
            f"('{name}': {shares[name]:.1%} of predictions, {summary.train_shares[name]:.1%} of "
            f"training images; threshold {summary.drift_threshold:.0%}): the images may not be like the training "
            "data (drift), or the model fails on them. Look at a sample before trusting the answers."
        )
    else:
        lines.append(
            f"The predictions' class mix is within {distance:.1%} of training's (threshold {summary.drift_threshold:.0%})."
        )
    return lines
