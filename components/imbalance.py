"""How training can counter imbalanced labels: the strategies' names and the balanced class weights.

One definition for LabelBalance, which measures the imbalance and recommends a strategy, and for
the Trainer and Tuner, which decide (`TrainingOptions.imbalance_strategy`, or a tuned value) and
apply it. No TensorFlow here.

Balanced class weights: n_images / (n_classes_present * n_images_of_class), so every class carries
the same total weight and the weights average to 1 over the training images.
"""
from __future__ import annotations

import enum
from typing import List, Optional, Sequence


class ImbalanceStrategy(str, enum.Enum):
    """What training does about imbalanced labels (--imbalance-strategy)."""

    CLASS_WEIGHTS = "class_weights"  # each class weighs balanced_class_weights() in the loss
    OVERSAMPLE = "oversample"  # training batches draw every class with equal probability
    NONE = "none"  # nothing


STRATEGIES = tuple(strategy.value for strategy in ImbalanceStrategy)


def balanced_class_weights(counts: Sequence[int]) -> List[float]:
    """Balanced weights (see module docstring); a class with no training image gets 1.0, unused."""
    total = sum(counts)
    present = sum(1 for c in counts if c)
    return [total / (present * c) if c else 1.0 for c in counts]


def recommended_strategy(imbalanced: Optional[bool]) -> ImbalanceStrategy:
    """What LabelBalance recommends: class weights for imbalanced labels (they change no image and
    add no training time), nothing for balanced ones."""
    return ImbalanceStrategy.CLASS_WEIGHTS if imbalanced else ImbalanceStrategy.NONE
