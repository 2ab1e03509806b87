"""Input pipeline and training loop, callable without a pipeline."""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Dict, List, Optional

import tensorflow as tf
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

from components import features
from components.trainer.model import make_simple_cnn

_SHUFFLE_BUFFER = 10_000


def make_dataset(
    file_pattern: List[str],
    data_accessor: tfx.components.DataAccessor,
    schema,
    batch_size: int,
    shuffle: bool,
    seed: int = 0,
) -> tf.data.Dataset:
    """(image, label) batches from transformed examples, cached in memory after the first epoch."""
    dataset = data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(
            batch_size=batch_size, shuffle=False, num_epochs=1, label_key=features.TRANSFORMED_LABEL_KEY
        ),
        schema,
    )
    dataset = dataset.map(lambda x, y: (x[features.TRANSFORMED_IMAGE_KEY], y)).unbatch().cache()
    if shuffle:
        dataset = dataset.shuffle(_SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


@dataclasses.dataclass
class TrainingResult:
    model: tf.keras.Model  # the best epoch's model, reloaded from best_model.keras
    history: Dict[str, List[float]]
    best_epoch: int  # 1-based
    best_model_path: str


def train(
    train_dataset: tf.data.Dataset,
    eval_dataset: tf.data.Dataset,
    input_shape,
    num_classes: int,
    model_dir: str,
    epochs: int,
    learning_rate: float,
    early_stopping_patience: int,
    class_weight: Optional[Dict[int, float]] = None,
    seed: int = 0,
) -> TrainingResult:
    """Trains a CNN, keeps the epoch with the best validation accuracy, and returns that model.

    Writes `best_model.keras` and `history.json` into `model_dir`.
    """
    tf.keras.utils.set_random_seed(seed)
    tf.io.gfile.makedirs(model_dir)
    model = make_simple_cnn(input_shape, num_classes)
    model.compile(
        optimizer=tf.keras.optimizers.Adam(learning_rate=learning_rate),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    best_model_path = os.path.join(model_dir, features.BEST_MODEL_FILE)
    callbacks = [
        tf.keras.callbacks.ModelCheckpoint(
            best_model_path, monitor="val_accuracy", mode="max", save_best_only=True, verbose=0
        ),
        # Validation loss keeps falling while accuracy sits on the majority-class plateau, so it
        # is the signal that tells a slow start from a dead end.
        tf.keras.callbacks.EarlyStopping(
            monitor="val_loss", mode="min", patience=early_stopping_patience, restore_best_weights=True
        ),
    ]
    fit = model.fit(
        train_dataset,
        validation_data=eval_dataset,
        epochs=epochs,
        callbacks=callbacks,
        class_weight=class_weight,
        verbose=2,
    )
    history = {name: [float(v) for v in values] for name, values in fit.history.items()}
    val_accuracy = history["val_accuracy"]
    # ModelCheckpoint saves on strict improvement only, so ties resolve to the first best epoch.
    best_epoch = val_accuracy.index(max(val_accuracy)) + 1
    with tf.io.gfile.GFile(os.path.join(model_dir, features.HISTORY_FILE), "w") as f:
        json.dump({"epochs_run": len(val_accuracy), "best_epoch": best_epoch, "history": history}, f, indent=2)
    best_model = tf.keras.models.load_model(best_model_path)
    return TrainingResult(model=best_model, history=history, best_epoch=best_epoch, best_model_path=best_model_path)
