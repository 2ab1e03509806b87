"""The training loop, callable without a pipeline: phases, callbacks, the best epoch kept."""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Dict, List, Optional, Sequence

import numpy as np
import tensorflow as tf

from components import artifacts
from components.trainer.choice import choose_architecture
from components.trainer.inputs import cache_budget_bytes
from components.trainer.metrics import best_epoch, choose_checkpoint_metric
from components.trainer.model import model_for
from components.trainer.options import AUTO, TrainingOptions
from components.trainer.phases import KeepBest, fit_phases

class _LearningRateLogger(tf.keras.callbacks.Callback):
    """Puts the learning rate used in each epoch into the logs (history, CSV, TensorBoard)."""

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(tf.keras.backend.get_value(self.model.optimizer.learning_rate))


class _EarlyStopping(tf.keras.callbacks.Callback):
    """Stops after `patience` epochs in which neither the checkpoint metric rose nor the validation
    loss fell. On imbalanced data balanced accuracy often sits at chance for the first epochs while
    the loss falls; that is a slow start, not a dead end, and training goes on."""

    def __init__(self, monitor: str, patience: int):
        super().__init__()
        self.monitor, self.patience = monitor, patience
        self.best_metric, self.best_loss, self.waited = -np.inf, np.inf, 0

    def on_train_begin(self, logs=None):
        self.waited = 0  # a new phase gets its full patience; the bests carry over

    def on_epoch_end(self, epoch, logs=None):
        metric, loss = logs.get(self.monitor), logs.get("val_loss")
        improved = False
        if metric is not None and metric > self.best_metric:
            self.best_metric, improved = metric, True
        if loss is not None and loss < self.best_loss:
            self.best_loss, improved = loss, True
        self.waited = 0 if improved else self.waited + 1
        if self.waited >= self.patience:
            self.model.stop_training = True


@dataclasses.dataclass
class TrainingResult:
    model: tf.keras.Model  # the best epoch's model, reloaded from best_model.keras
    history: Dict[str, List[float]]
    best_epoch: int  # 1-based
    stopped_early: bool
    checkpoint_metric: str  # the validation metric that chose best_epoch
    fine_tune_epoch: Optional[int] = None  # 1-based: where a pretrained backbone's second phase began


def train(
    train_dataset: tf.data.Dataset,
    eval_dataset: tf.data.Dataset,
    input_shape,
    num_classes: int,
    model_dir: str,
    options: TrainingOptions,
    class_weight: Optional[Dict[int, float]] = None,
    seed: int = 0,
    callbacks: Sequence[tf.keras.callbacks.Callback] = (),
) -> TrainingResult:
    """Trains a model as `options` say, keeps the epoch with the best validation
    `options.checkpoint_metric` (accuracy when None), and returns that model.

    Every epoch logs accuracy and balanced accuracy (train and validation); early stopping
    follows the checkpoint metric too.

    A pretrained backbone trains in two phases (`phases.py`): the head on the frozen backbone for
    the first half of the epochs, then all layers at the fine-tuning learning rate; the best epoch
    is kept across both. A random backbone has nothing to preserve and trains in one phase.
    Writes `best_model.keras`, `history.json`, `history.csv` and TensorBoard logs into `model_dir`.
    `callbacks` are added to the Trainer's own (a time limit, say).
    On a GPU it trains in mixed precision (`precision_policy`); the returned model is float32.
    """
    if options.architecture == AUTO:  # called without the Trainer's choice (run.py): decided by the input size
        options = dataclasses.replace(options, architecture=choose_architecture(AUTO, input_shape[0], input_shape[0])[0])
    policy = precision_policy(len(tf.config.list_physical_devices("GPU")))
    tf.keras.mixed_precision.set_global_policy(policy)
    try:
        result = _train(
            train_dataset, eval_dataset, input_shape, num_classes, model_dir, options, class_weight, seed, callbacks
        )
    finally:
        tf.keras.mixed_precision.set_global_policy("float32")
    if policy != "float32":
        # The served model computes in float32: TF Serving, TFMA and predict.py often run on CPUs,
        # where float16 is slow. Mixed-precision variables are float32, so the weights carry over.
        serving_model = model_for(options, input_shape, num_classes)
        serving_model.set_weights(result.model.get_weights())
        result = dataclasses.replace(result, model=serving_model)
    return result


def precision_policy(gpus: int) -> str:
    """Keras' precision policy for training: mixed_float16 on GPUs (their float16 units run it
    2-3x faster, in half the memory), float32 on CPUs, where nothing would change."""
    return "mixed_float16" if gpus else "float32"


def _train(train_dataset, eval_dataset, input_shape, num_classes, model_dir, options, class_weight, seed, extra_callbacks):
    tf.keras.utils.set_random_seed(seed)
    tf.io.gfile.makedirs(model_dir)
    patience = options.early_stopping_patience
    model = model_for(options, input_shape, num_classes)
    monitor, _ = choose_checkpoint_metric(options.checkpoint_metric, imbalanced=False)
    best_model_path = os.path.join(model_dir, artifacts.BEST_MODEL_FILE)
    callbacks = [
        _LearningRateLogger(),
        KeepBest(model, best_model_path, "val_" + monitor),
        _EarlyStopping("val_" + monitor, patience),
        # Halve the step when validation loss stalls, well before early stopping gives up.
        tf.keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=0.5, patience=max(1, patience // 3), min_lr=1e-6
        ),
        # Appended to by each phase of a pretrained backbone (the folder is new for every training).
        tf.keras.callbacks.CSVLogger(os.path.join(model_dir, artifacts.HISTORY_CSV_FILE), append=True),
        tf.keras.callbacks.TensorBoard(log_dir=os.path.join(model_dir, "logs"), histogram_freq=0),
        *extra_callbacks,
    ]
    history, fine_tune_epoch = fit_phases(
        model, train_dataset, eval_dataset, options, num_classes, callbacks, class_weight,
        feature_budget=cache_budget_bytes(options.cache_budget_mb),
    )  # fmt: skip
    epochs_run = len(history["val_" + monitor])
    kept = best_epoch(history, monitor)
    with tf.io.gfile.GFile(os.path.join(model_dir, artifacts.HISTORY_FILE), "w") as f:
        record = {
            "epochs_run": epochs_run, "best_epoch": kept, "checkpoint_metric": monitor, "fine_tune_epoch": fine_tune_epoch,
            "history": history,
        }  # fmt: skip
        json.dump(record, f, indent=2)
    # Compiled with Keras' own loss and accuracy only: the served model carries no optimizer state
    # and no metric of ours, so tf.keras.models.load_model works without this project installed.
    best_model = tf.keras.models.load_model(best_model_path, compile=False)
    best_model.compile(
        loss=tf.keras.losses.SparseCategoricalCrossentropy(),
        metrics=[tf.keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return TrainingResult(
        model=best_model,
        history=history,
        best_epoch=kept,
        stopped_early=epochs_run < options.epochs,
        checkpoint_metric=monitor,
        fine_tune_epoch=fine_tune_epoch,
    )


def prediction_shares(model: tf.keras.Model, dataset: tf.data.Dataset, class_names: Sequence[str]) -> Dict[str, float]:
    """Share of the dataset's images the model assigns to each class."""
    predicted = np.concatenate([np.argmax(model.predict_on_batch(images), axis=1) for images, _ in dataset])
    counts = np.bincount(predicted, minlength=len(class_names))
    return {name: float(c) / max(1, len(predicted)) for name, c in zip(class_names, counts)}
