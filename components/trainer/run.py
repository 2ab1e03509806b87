"""The Trainer's entry point: a thin adapter from TFX's FnArgs to `train` and `export_serving_model`."""
from __future__ import annotations

import json
import os

import tensorflow as tf
import tensorflow_transform as tft
from tfx.components.trainer.fn_args_utils import FnArgs

from components import features
from components.trainer.curves import plot_training
from components.trainer.dynamics import analyze_history
from components.trainer.export import export_serving_model
from components.trainer.train import TrainingResult, make_dataset, prediction_shares, train
from pipeline.config import TrainingConfig


# TFX Trainer will call this function.
def run_fn(fn_args: FnArgs) -> None:
    """Trains on the transformed train split, validates on eval, exports the best epoch.

    `fn_args.custom_config` holds a `TrainingConfig` as a dict; `fn_args.hyperparameters` holds the
    label-balance step's training hints: class names in label order, and class weights (a list in
    the same order, or null when class weighting is off).
    """
    settings = TrainingConfig(**fn_args.custom_config)
    class_names = fn_args.hyperparameters["class_names"]
    weights = fn_args.hyperparameters.get("class_weights")
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    schema = tf_transform_output.transformed_metadata.schema
    input_shape = tf_transform_output.transformed_feature_spec()[features.TRANSFORMED_IMAGE_KEY].shape

    def dataset(files, shuffle):
        return make_dataset(files, fn_args.data_accessor, schema, settings.batch_size, shuffle=shuffle)

    eval_dataset = dataset(fn_args.eval_files, shuffle=False)
    result = train(
        dataset(fn_args.train_files, shuffle=True),
        eval_dataset,
        input_shape=input_shape,
        num_classes=len(class_names),
        model_dir=fn_args.model_run_dir,
        epochs=settings.epochs,
        learning_rate=settings.learning_rate,
        early_stopping_patience=settings.early_stopping_patience,
        class_weight=dict(enumerate(weights)) if weights else None,
        architecture=settings.architecture,
        augment=settings.augment,
        flip=settings.flip,
        pretrained_weights=settings.pretrained_weights,
    )
    export_serving_model(result.model, tf_transform_output, class_names, fn_args.serving_model_dir)
    explain_training(
        result,
        fn_args.model_run_dir,
        majority_fraction=fn_args.hyperparameters.get("majority_fraction"),
        shares=prediction_shares(result.model, eval_dataset, class_names),
    )


def explain_training(result: TrainingResult, model_run_dir: str, majority_fraction, shares) -> dict:
    """Findings about the training curves, plots of them, and training.json in `model_run_dir`."""
    findings = analyze_history(result.history, majority_fraction=majority_fraction, prediction_shares=shares)
    summary = {
        "epochs_run": len(result.history["val_accuracy"]),
        "best_epoch": result.best_epoch,
        "best_val_accuracy": result.history["val_accuracy"][result.best_epoch - 1],
        "stopped_early": result.stopped_early,
        "majority_fraction": majority_fraction,
        "prediction_shares": shares,
        "findings": [f.to_dict() for f in findings],
        "plots": plot_training(result.history, model_run_dir, result.best_epoch, majority_fraction),
        "history_csv": os.path.join(model_run_dir, features.HISTORY_CSV_FILE),
        "tensorboard_logs": os.path.join(model_run_dir, "logs"),
    }
    with tf.io.gfile.GFile(os.path.join(model_run_dir, features.TRAINING_FILE), "w") as f:
        json.dump(summary, f, indent=2)
    return summary
