"""What the model got wrong, from its predictions on the eval split: pure numpy, no TFX.

* `Mistakes` streams batches of (labels, probabilities, paths) and keeps, within fixed memory,
  the highest-loss images and the most frequent confusions (with a few images each);
* `average_precision` and `precision_recall_curve`: one class against the rest, with the
  definition scikit-learn uses (`sklearn.metrics.average_precision_score`);
* `reliability`: the reliability diagram of the top-1 confidence and its expected calibration
  error (ECE: the confidence gap averaged over equal-width bins, weighted by their images);
* `threshold_table`: precision and recall per class when the model answers only above a
  confidence threshold, from TFMA's `MultiClassConfusionMatrixAtThresholds`.
"""
from __future__ import annotations

import dataclasses
import heapq
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

EPSILON = 1e-7  # probabilities are clipped to [EPSILON, 1 - EPSILON] before the log, as Keras and our TFMA loss do
NO_PREDICTION = -1  # TFMA's predicted class id when no class reaches the threshold


def losses(labels: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Cross-entropy per image: -log(probability of the true class)."""
    true = probabilities[np.arange(len(labels)), labels]
    return -np.log(np.clip(true.astype(np.float64), EPSILON, 1 - EPSILON))


@dataclasses.dataclass(order=True)
class Mistake:
    """One eval image the model got wrong (or, among the top losses, right but unsure)."""

    loss: float
    path: str  # second in the ordering: ties in loss are broken by path, so the choice is stable
    actual: int = dataclasses.field(compare=False)
    predicted: int = dataclasses.field(compare=False)
    confidence: float = dataclasses.field(compare=False)  # the probability of the predicted class
    image: Optional[bytes] = dataclasses.field(default=None, compare=False, repr=False)


class _Largest:
    """The `size` largest items seen, in memory bounded by `size`."""

    def __init__(self, size: int):
        self.size, self._heap = size, []

    def offer(self, item) -> bool:
        """Keeps `item` if it is among the largest so far; says whether it was kept."""
        if len(self._heap) < self.size:
            heapq.heappush(self._heap, item)
            return True
        if self._heap and item > self._heap[0]:
            heapq.heapreplace(self._heap, item)
            return True
        return False

    def sorted(self) -> list:
        return sorted(self._heap, reverse=True)


class Mistakes:
    """The top losses and the confused pairs of a stream of predictions, in bounded memory.

    Memory: `top` images, plus `per_pair` thumbnails for each (actual, predicted) pair that
    occurs (at most classes x (classes - 1) pairs), whatever the number of eval images.
    `shrink` turns an image's bytes into its thumbnail's (kept as they are when None).
    """

    def __init__(self, top: int = 16, per_pair: int = 3, shrink: Optional[Callable[[bytes], bytes]] = None):
        self._top = _Largest(top)
        self._per_pair = per_pair
        self._shrink = shrink
        self._pairs: Dict[Tuple[int, int], _Largest] = {}
        self.counts: Dict[Tuple[int, int], int] = {}

    def add(self, labels: np.ndarray, probabilities: np.ndarray, paths: Sequence[str], images: Sequence[bytes]) -> None:
        predicted = probabilities.argmax(axis=1)
        for i, loss in enumerate(losses(labels, probabilities)):
            actual, guess = int(labels[i]), int(predicted[i])
            mistake = Mistake(float(loss), paths[i], actual, guess, float(probabilities[i, guess]), images[i])
            self._top.offer(mistake)
            if actual != guess:
                pair = (actual, guess)
                self.counts[pair] = self.counts.get(pair, 0) + 1
                kept = dataclasses.replace(mistake)
                if self._pairs.setdefault(pair, _Largest(self._per_pair)).offer(kept) and self._shrink:
                    kept.image = self._shrink(kept.image)

    def top_losses(self) -> List[Mistake]:
        """Highest loss first."""
        return self._top.sorted()

    def most_confused(self, limit: int) -> List[Tuple[Tuple[int, int], int, List[Mistake]]]:
        """((actual, predicted), count, its highest-loss images) for the `limit` most frequent pairs."""
        pairs = sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
        return [(pair, count, self._pairs[pair].sorted()) for pair, count in pairs]


def _binary_counts(is_positive: np.ndarray, scores: np.ndarray):
    """True and false positives at each distinct score, highest score first (sklearn's _binary_clf_curve)."""
    order = np.argsort(scores, kind="mergesort")[::-1]
    scores, is_positive = scores[order], is_positive[order].astype(np.float64)
    distinct = np.where(np.diff(scores))[0]
    ends = np.r_[distinct, is_positive.size - 1]
    true_positives = np.cumsum(is_positive)[ends]
    return true_positives, 1 + ends - true_positives, scores[ends]


def precision_recall_curve(is_positive: np.ndarray, scores: np.ndarray):
    """(precision, recall, thresholds), one point per distinct score, highest threshold first."""
    true_positives, false_positives, thresholds = _binary_counts(np.asarray(is_positive), np.asarray(scores))
    precision = true_positives / (true_positives + false_positives)
    positives = true_positives[-1] if true_positives.size else 0
    recall = true_positives / positives if positives else np.zeros_like(true_positives)
    return precision, recall, thresholds


def average_precision(is_positive: np.ndarray, scores: np.ndarray) -> Optional[float]:
    """Sum over thresholds of (recall gained) x precision; None when there are no positives."""
    is_positive = np.asarray(is_positive)
    if not is_positive.any():
        return None
    precision, recall, _ = precision_recall_curve(is_positive, scores)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def curve_points(precision: np.ndarray, recall: np.ndarray, points: int = 60) -> List[Tuple[float, float]]:
    """At most `points` (recall, precision) pairs along the curve for drawing, its ends kept, from
    (0, 1) as scikit-learn's curve starts."""
    if precision.size <= points:
        keep = np.arange(precision.size)
    else:
        keep = np.unique(np.r_[np.linspace(0, precision.size - 1, points).round().astype(int)])
    return [(0.0, 1.0)] + [(round(float(recall[i]), 4), round(float(precision[i]), 4)) for i in keep]


def per_class_curves(labels: np.ndarray, probabilities: np.ndarray, class_names: Sequence[str]) -> Dict[str, Dict]:
    """Per class: its average precision, the number of eval images, and points of its PR curve."""
    curves = {}
    for index, name in enumerate(class_names):
        is_positive = labels == index
        precision, recall, _ = precision_recall_curve(is_positive, probabilities[:, index])
        curves[name] = {
            "average_precision": average_precision(is_positive, probabilities[:, index]),
            "images": int(is_positive.sum()),
            "curve": curve_points(precision, recall) if is_positive.any() else [],
        }
    return curves


def reliability(labels: np.ndarray, probabilities: np.ndarray, bins: int = 10) -> Dict:
    """The reliability diagram of the top-1 confidence: per bin, images, mean confidence and
    accuracy; and the expected calibration error over the bins."""
    confidence = probabilities.max(axis=1).astype(np.float64)
    correct = probabilities.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    rows, gap = [], 0.0
    for b in range(bins):
        members = which == b
        n = int(members.sum())
        row = {"low": round(float(edges[b]), 4), "high": round(float(edges[b + 1]), 4), "images": n}
        if n:
            row["confidence"] = float(confidence[members].mean())
            row["accuracy"] = float(correct[members].mean())
            gap += n * abs(row["accuracy"] - row["confidence"])
        rows.append(row)
    total = len(labels)
    return {"bins": rows, "expected_calibration_error": gap / total if total else None}


def threshold_table(matrices: Dict[float, Dict[Tuple[int, int], float]], class_names: Sequence[str]) -> List[Dict]:
    """Per confidence threshold: the share of images the model answers (its top class reaches the
    threshold), its accuracy on those, and per class precision and recall.

    `matrices` maps threshold -> {(actual class, predicted class or NO_PREDICTION): images}, as
    TFMA's MultiClassConfusionMatrixAtThresholds counts them. Recall counts an unanswered image
    of the class as missed; precision is over the answers naming the class (None without any).
    """
    rows = []
    for threshold in sorted(matrices):
        matrix = matrices[threshold]
        total = sum(matrix.values())
        answered = sum(n for (_, p), n in matrix.items() if p != NO_PREDICTION)
        correct = sum(n for (a, p), n in matrix.items() if a == p)
        per_class = {}
        for index, name in enumerate(class_names):
            hits = matrix.get((index, index), 0.0)
            actual = sum(n for (a, _), n in matrix.items() if a == index)
            named = sum(n for (_, p), n in matrix.items() if p == index)
            per_class[name] = {
                "precision": hits / named if named else None,
                "recall": hits / actual if actual else None,
            }
        rows.append(
            {
                "threshold": round(float(threshold), 4),
                "answered": answered / total if total else None,
                "accuracy_when_answered": correct / answered if answered else None,
                "per_class": per_class,
            }
        )
    return rows
