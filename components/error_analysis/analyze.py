"""Runs the exported model over the eval split and writes what it got wrong (no TFX here).

The model is the SavedModel the Trainer exported (the one TFMA evaluated and the Pusher serves),
through its own signatures: `serving_default` for the probabilities of every eval image,
`serving_explain` for the heatmaps of the top losses. So the analysis needs nothing from the
training code and works for every architecture.
"""
from __future__ import annotations

import dataclasses
import posixpath
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from components import artifacts, features
from components.contracts.evaluation import (
    ConfusedPair, ErrorAnalysisRecord, LeakFree, Mistake as MistakeRecord, PairedCounts,
)  # fmt: skip
from components.error_analysis.analysis import Mistake, Mistakes, per_class_curves, reliability, threshold_table
from components.error_analysis.options import AnalysisOptions
from components.reporting.images import heatmap_overlay, thumbnail



@dataclasses.dataclass
class Predictions:
    """Labels and probabilities of the whole eval split (4 bytes x classes per image), and the mistakes."""

    labels: np.ndarray
    probabilities: np.ndarray
    mistakes: Mistakes
    leaked: Optional[np.ndarray] = None  # per image: its pixels are also in train (DataQuality)
    leaked_paths: Sequence[str] = ()
    baseline_predicted: Optional[np.ndarray] = None  # per image: the last blessed model's class
    baseline_uri: Optional[str] = None


def paired_counts(predictions: Predictions, classes: int) -> Optional[PairedCounts]:
    """Per actual class, [both right, only the candidate, only the baseline, both wrong], for the
    PromotionGate's paired rule; None without a baseline's predictions."""
    if predictions.baseline_predicted is None:
        return None
    labels = predictions.labels
    candidate = predictions.probabilities.argmax(axis=1) == labels
    baseline = predictions.baseline_predicted == labels
    cell = np.where(candidate, np.where(baseline, 0, 1), np.where(baseline, 2, 3))
    counts = np.zeros((classes, 4), dtype=np.int64)
    np.add.at(counts, (labels, cell), 1)
    return PairedCounts(baseline_uri=predictions.baseline_uri or "", per_class=counts.tolist())


def leak_free(predictions: Predictions, class_names: Sequence[str]) -> Optional[LeakFree]:
    """The eval split without its leaked images, for the PromotionGate: the confusion counts
    ([actual, predicted, images]), the majority class and its share there, and what was left out;
    None when nothing leaked."""
    if predictions.leaked is None or not predictions.leaked.any():
        return None
    keep = ~predictions.leaked
    labels, predicted = predictions.labels[keep], predictions.probabilities[keep].argmax(axis=1)
    pairs, counts = np.unique(np.stack([labels, predicted], axis=1), axis=0, return_counts=True)
    per_class = np.bincount(labels, minlength=len(class_names))
    majority = int(per_class.argmax())
    return LeakFree(
        confusion=[[int(a), int(p), int(n)] for (a, p), n in zip(pairs, counts)],
        majority_class=class_names[majority],
        majority_fraction=float(per_class[majority] / max(1, labels.size)),
        excluded=sorted(predictions.leaked_paths),
    )


BATCH_SIZE = 64


def predict_split(
    model, file_pattern: str, options: AnalysisOptions, leaked: Sequence[str] = (), baseline=None,
    baseline_uri: Optional[str] = None,
) -> Predictions:  # fmt: skip
    """Streams the split's tf.Examples through the model's serving signature, a batch at a time;
    marks the images whose paths are in `leaked`. With `baseline` (the last blessed model, loaded),
    the same batches go through it too, for the paired comparison."""
    serve = model.signatures[features.SERVING_SIGNATURE]
    serve_baseline = baseline.signatures[features.SERVING_SIGNATURE] if baseline is not None else None
    mistakes = Mistakes(options.top_losses, options.images_per_pair, shrink=thumbnail)
    labels, probabilities, marks, leaked, before = [], [], [], set(leaked), []
    for batch in artifacts.image_example_batches(file_pattern, BATCH_SIZE):
        probs = serve(examples=batch.serialized)[features.PROBABILITIES_OUTPUT].numpy()
        mistakes.add(batch.labels, probs, batch.paths, batch.images)
        labels.append(batch.labels)
        probabilities.append(probs.astype(np.float32))
        marks.append(np.array([path in leaked for path in batch.paths], dtype=bool))
        if serve_baseline is not None:
            theirs = serve_baseline(examples=batch.serialized)[features.PROBABILITIES_OUTPUT].numpy()
            if theirs.shape != probs.shape:  # a model of other classes: no image-by-image comparison
                serve_baseline, before = None, []
            else:
                before.append(theirs.argmax(axis=1))
    if not labels:
        raise FileNotFoundError(f"No examples match {file_pattern}.")
    return Predictions(
        np.concatenate(labels), np.concatenate(probabilities), mistakes, np.concatenate(marks), sorted(leaked),
        np.concatenate(before) if serve_baseline is not None else None, baseline_uri,
    )  # fmt: skip


def explain(model, images: Sequence[bytes], batch_size: int = 16) -> List[Tuple[np.ndarray, np.ndarray]]:
    """(pixels the model saw, Grad-CAM heatmap) per image, from the model's `serving_explain`."""
    signature = model.signatures.get(features.EXPLAIN_SIGNATURE)
    if signature is None:
        return [(None, None)] * len(images)
    explained = []
    for start in range(0, len(images), batch_size):
        out = signature(image_bytes=tf.constant(list(images[start : start + batch_size])))
        explained += list(zip(out[features.PIXELS_OUTPUT].numpy(), out[features.HEATMAP_OUTPUT].numpy()))
    return explained


class _ImageWriter:
    """Writes JPEGs into the artifact's images/ folder; returns their names relative to it."""

    def __init__(self, out_dir: str):
        self.out_dir = out_dir
        tf.io.gfile.makedirs(posixpath.join(out_dir, artifacts.ERROR_IMAGES_DIR))

    def __call__(self, name: str, jpeg: Optional[bytes]) -> Optional[str]:
        if not jpeg:
            return None
        relative = posixpath.join(artifacts.ERROR_IMAGES_DIR, name)
        artifacts.write_bytes(self.out_dir, relative, jpeg)
        return relative


def _mistake_record(mistake: Mistake, class_names: Sequence[str], **images: Optional[str]) -> MistakeRecord:
    return MistakeRecord(
        path=mistake.path,
        actual=class_names[mistake.actual],
        predicted=class_names[mistake.predicted],
        confidence=mistake.confidence,
        loss=mistake.loss,
        **images,
    )


def analyze_errors(
    model,
    file_pattern: str,
    class_names: Sequence[str],
    out_dir: str,
    options: AnalysisOptions,
    thresholds: Optional[Dict[float, Dict[Tuple[int, int], float]]] = None,
    leaked: Sequence[str] = (),
    baseline=None,
    baseline_uri: Optional[str] = None,
) -> ErrorAnalysisRecord:
    """The error analysis of the eval split by the exported `model`; its JPEGs go into `out_dir`.
    `leaked`: eval paths whose pixels are also in train (they get a leak-free confusion matrix);
    `baseline`: the last blessed model (loaded), compared image by image."""
    return summarize(
        predict_split(model, file_pattern, options, leaked, baseline, baseline_uri),
        lambda images: explain(model, images),
        class_names,
        out_dir,
        options,
        thresholds,
    )


Explain = Callable[[Sequence[bytes]], List[Tuple[Optional[np.ndarray], Optional[np.ndarray]]]]


def summarize(
    predictions: Predictions,
    explain_images: Explain,
    class_names: Sequence[str],
    out_dir: str,
    options: AnalysisOptions,
    thresholds: Optional[Dict[float, Dict[Tuple[int, int], float]]] = None,
) -> ErrorAnalysisRecord:
    """error_analysis.json's record from the predictions; `explain_images` gives (pixels,
    heatmap) per top-loss image. The thumbnails and heatmaps are written into `out_dir`."""
    write = _ImageWriter(out_dir)
    top = predictions.mistakes.top_losses()
    top_losses = []
    for i, (mistake, (pixels, heatmap)) in enumerate(zip(top, explain_images([m.image for m in top]))):
        overlay = None if heatmap is None else heatmap_overlay(pixels, heatmap)
        top_losses.append(
            _mistake_record(
                mistake,
                class_names,
                thumbnail=write(f"top_loss_{i:03d}.jpg", thumbnail(mistake.image)),
                heatmap=write(f"top_loss_{i:03d}_heatmap.jpg", overlay),
            )
        )
    confused = []
    for (actual, predicted), count, examples in predictions.mistakes.most_confused(options.confused_pairs):
        confused.append(
            ConfusedPair(
                actual=class_names[actual],
                predicted=class_names[predicted],
                count=count,
                examples=[
                    _mistake_record(m, class_names, thumbnail=write(f"pair_{actual}_{predicted}_{j}.jpg", m.image))
                    for j, m in enumerate(examples)
                ],
            )
        )
    curves = per_class_curves(predictions.labels, predictions.probabilities, class_names)
    precisions = [c["average_precision"] for c in curves.values() if c["average_precision"] is not None]
    calibration = reliability(predictions.labels, predictions.probabilities)
    return ErrorAnalysisRecord(
        class_names=list(class_names),
        images=int(predictions.labels.size),
        mistakes=int(sum(predictions.mistakes.counts.values())),
        top_losses=top_losses,
        most_confused=confused,
        average_precision={name: c["average_precision"] for name, c in curves.items()},
        mean_average_precision=float(np.mean(precisions)) if precisions else None,
        pr_curves={name: [list(point) for point in c["curve"]] for name, c in curves.items()},
        calibration=calibration,
        expected_calibration_error=calibration["expected_calibration_error"],
        thresholds=threshold_table(thresholds, class_names) if thresholds else [],
        leak_free=leak_free(predictions, class_names),
        paired=paired_counts(predictions, len(class_names)),
    )
