"""How a model is fitted: in one phase from scratch, in two on a pretrained backbone.

A pretrained backbone trains the way fastai's `fine_tune` does:

1. the new head on the frozen backbone, at --learning-rate, for the first half of the epochs.
   The backbone is frozen and the head sees no augmentation, so the backbone's pooled features
   are computed once, one pass over the train and eval images, and the head trains on them in
   seconds an epoch (when they fit the Trainer's memory budget; else through the frozen backbone);
2. every layer, at --fine-tune-learning-rate (a tenth of --learning-rate by default), with
   augmentation, for the rest. The backbone keeps its batch-norm statistics (it runs in inference
   mode, `model.py`), so a small batch does not overwrite ImageNet's.

The callbacks span both phases: the kept epoch is the best of either (`KeepBest` saves the whole
model), early stopping and the learning-rate schedule go on counting, and the history is one.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

from components.trainer.metrics import BalancedAccuracy
from components.trainer.model import BACKBONE_LAYER, POOLED_LAYER
from components.trainer.options import TrainingOptions


class KeepBest(tf.keras.callbacks.Callback):
    """Saves `model` (the whole classifier, also while phase 1 fits only its head) at every epoch
    whose `monitor` beats all before it, in either phase; ties keep the first, as Keras does."""

    def __init__(self, model: tf.keras.Model, path: str, monitor: str):
        super().__init__()
        self.classifier, self.path, self.monitor, self.best = model, path, monitor, -np.inf

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is not None and value > self.best:
            self.best = value
            self.classifier.save(self.path)


def compile_for(model: tf.keras.Model, learning_rate: float, num_classes: int) -> None:
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate=learning_rate),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(),
        # Explicit: TFMA reads the string "accuracy" of a saved model as exact-match Accuracy
        # on the probability vector, which reports nonsense for a softmax classifier.
        metrics=[tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy"), BalancedAccuracy(num_classes)],
    )


def pooled_features(dataset: tf.data.Dataset, features: tf.keras.Model, limit_bytes: int) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """(features, labels) of one pass over `dataset`, or None once they would pass `limit_bytes`."""
    chunks, labels, size = [], [], 0
    for images, batch_labels in dataset:
        chunk = features.predict_on_batch(images)
        size += chunk.nbytes
        if size > limit_bytes:
            return None
        chunks.append(chunk)
        labels.append(np.asarray(batch_labels))
    return np.concatenate(chunks), np.concatenate(labels)


def _head_on_features(model, train_dataset, eval_dataset, limit_bytes: int):
    """(head model, train features and labels, eval features and labels), or None when the
    features do not fit `limit_bytes`. The head shares the classifier's own layers."""
    pooled = model.get_layer(POOLED_LAYER)
    features = tf.keras.Model(model.inputs, pooled.output)
    train = pooled_features(train_dataset, features, limit_bytes)
    evaluation = pooled_features(eval_dataset, features, limit_bytes - (train[0].nbytes if train else 0)) if train else None
    if evaluation is None:
        return None
    inputs = tf.keras.Input(shape=pooled.output.shape[1:])
    x, after = inputs, False
    for layer in model.layers:  # the layers after the pooled features: dropout, the classifier
        if after:
            x = layer(x)
        after = after or layer is pooled
    return tf.keras.Model(inputs, x), train, evaluation


def fit_phases(
    model: tf.keras.Model,
    train_dataset: tf.data.Dataset,
    eval_dataset: tf.data.Dataset,
    options: TrainingOptions,
    num_classes: int,
    callbacks: Sequence[tf.keras.callbacks.Callback],
    class_weight: Optional[Dict[int, float]] = None,
    feature_budget: int = 1 << 30,
) -> Tuple[Dict[str, List[float]], Optional[int]]:
    """(the history of every epoch, the 1-based epoch phase 2 began at, or None in one phase)."""
    history: Dict[str, List[float]] = {}

    def fit(fitted, data: tuple, validation, start: int, end: int, **kwargs) -> int:
        result = fitted.fit(
            *data, validation_data=validation, initial_epoch=start, epochs=end, callbacks=list(callbacks),
            class_weight=class_weight, verbose=2, **kwargs,
        )  # fmt: skip
        for name, values in result.history.items():
            if name != "lr":
                history.setdefault(name, []).extend(float(v) for v in values)
        return start + len(result.history["loss"])

    if not options.pretrained:
        compile_for(model, options.learning_rate, num_classes)
        fit(model, (train_dataset,), eval_dataset, 0, options.epochs)
        return history, None
    backbone = model.get_layer(BACKBONE_LAYER)
    backbone.trainable = False
    head_epochs = max(1, options.epochs // 2)
    cached = _head_on_features(model, train_dataset, eval_dataset, feature_budget)
    if cached:
        head, (x, y), (eval_x, eval_y) = cached
        compile_for(head, options.learning_rate, num_classes)
        done = fit(head, (x, y), (eval_x, eval_y), 0, head_epochs, batch_size=options.batch_size, shuffle=True)
    else:
        compile_for(model, options.learning_rate, num_classes)
        done = fit(model, (train_dataset,), eval_dataset, 0, head_epochs)
    if done >= options.epochs:
        return history, None
    # When early stopping ends the frozen phase, the head has converged: fine-tuning goes on.
    backbone.trainable = True
    compile_for(model, options.phase_two_learning_rate, num_classes)
    fit(model, (train_dataset,), eval_dataset, done, options.epochs)
    return history, done + 1
