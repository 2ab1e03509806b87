"""Balanced accuracy, one definition for every step that computes it: the recall of each class
averaged over the classes that have examples, so a model that always answers the largest class
scores 1 / number of classes, whatever its share.

The PromotionGate and TFMA compute it from confusion counts (`recall_by_class`), EdgeExport and
the benchmarks from plain label sequences (`balanced_accuracy`); the Trainer's Keras metric
(trainer/metrics.py) counts the same over an epoch. No TensorFlow here.
"""
from __future__ import annotations

from typing import Dict, List, Mapping, Sequence, Tuple


def recall_by_class(matrix: Mapping[Tuple[int, int], float]) -> Dict[int, float]:
    """Recall of each actual class that has examples, from (actual, predicted) counts."""
    totals: Dict[int, float] = {}
    for (actual, _), n in matrix.items():
        totals[actual] = totals.get(actual, 0.0) + n
    return {actual: matrix.get((actual, actual), 0.0) / n for actual, n in totals.items() if n}


def balanced_accuracy(labels: Sequence[int], predicted: Sequence[int]) -> float:
    """The same figure from plain sequences of labels and predicted classes."""
    per_class: Dict[int, List[int]] = {}
    for label, guess in zip(labels, predicted):
        per_class.setdefault(int(label), []).append(int(label) == int(guess))
    return float(sum(sum(h) / len(h) for h in per_class.values()) / max(1, len(per_class)))
