"""Balanced accuracy as a Keras metric, and which validation metric picks the epoch that is kept.

Balanced accuracy is the recall of each class averaged over the classes that have examples: a
model that always answers the largest class scores 1 / number of classes, whatever its share.
The metric counts hits and examples per class over the whole epoch (Keras resets it at each
epoch's start), so the validation figure is that of the whole eval split, not a mean of batches.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import tensorflow as tf

from components.trainer.options import CHECKPOINT_METRICS


@tf.keras.utils.register_keras_serializable(package="image_pipeline")
class BalancedAccuracy(tf.keras.metrics.Metric):
    """Mean per-class recall of sparse labels against class probabilities.

    A sample weight scales an example's count in both its class's hits and its class's total, so
    class weights (constant within a class) leave the figure unchanged.
    """

    def __init__(self, num_classes: int, name: str = "balanced_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_classes = int(num_classes)
        self.hits = self.add_weight(name="hits", shape=(self.num_classes,), initializer="zeros", dtype=tf.float64)
        self.totals = self.add_weight(name="totals", shape=(self.num_classes,), initializer="zeros", dtype=tf.float64)

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels = tf.cast(tf.reshape(y_true, [-1]), tf.int32)
        predicted = tf.cast(tf.argmax(tf.reshape(y_pred, [tf.shape(labels)[0], -1]), axis=-1), tf.int32)
        weights = tf.ones_like(labels, tf.float64)
        if sample_weight is not None:
            weights = tf.cast(tf.reshape(sample_weight, [-1]), tf.float64)
        hit = tf.cast(tf.equal(labels, predicted), tf.float64) * weights
        self.hits.assign_add(tf.math.unsorted_segment_sum(hit, labels, self.num_classes))
        self.totals.assign_add(tf.math.unsorted_segment_sum(weights, labels, self.num_classes))

    def result(self):
        present = self.totals > 0
        recalls = tf.boolean_mask(self.hits, present) / tf.boolean_mask(self.totals, present)
        return tf.cast(tf.math.divide_no_nan(tf.reduce_sum(recalls), tf.reduce_sum(tf.cast(present, tf.float64))), tf.float32)

    def reset_state(self):
        self.hits.assign(tf.zeros_like(self.hits))
        self.totals.assign(tf.zeros_like(self.totals))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


def choose_checkpoint_metric(requested: Optional[str], imbalanced: Optional[bool]) -> Tuple[str, str]:
    """(metric, why): the validation metric that picks the kept epoch and stops training.

    `requested` is --checkpoint-metric (None: decide from the data); `imbalanced` is LabelBalance's
    verdict on the train split (None when it is not known).
    """
    if requested:
        if requested not in CHECKPOINT_METRICS:
            raise ValueError(f"checkpoint metric {requested!r} must be one of {', '.join(CHECKPOINT_METRICS)}.")
        return requested, f"--checkpoint-metric {requested}"
    if imbalanced:
        return "balanced_accuracy", (
            "the labels are imbalanced (LabelBalance): accuracy would reward answering the largest class"
        )
    if imbalanced is None:
        return "accuracy", "LabelBalance gave no verdict on the labels' balance"
    return "accuracy", "the labels are balanced (LabelBalance), so accuracy weighs every class alike"


def best_epoch(history: Dict[str, List[float]], metric: str) -> int:
    """The 1-based epoch with the highest validation `metric`; ties go to the first, as Keras'
    ModelCheckpoint saves on strict improvement only."""
    values = history["val_" + metric]
    return values.index(max(values)) + 1
