"""The Trainer's entry point: a thin adapter from TFX's FnArgs to `train` and `export_serving_model`."""
from __future__ import annotations

import os

import tensorflow_transform as tft
from tfx.components.trainer.fn_args_utils import FnArgs

from components import artifacts, features
from components.trainer.curves import plot_training
from components.trainer.dynamics import analyze_history
from components.trainer.export import export_serving_model
from components.trainer.inputs import InputPlan, cache_budget_bytes, count_examples, make_dataset, plan_input
from components.trainer.options import TrainingOptions
from components.trainer.train import TrainingResult, prediction_shares, train


# TFX Trainer will call this function.
def run_fn(fn_args: FnArgs) -> None:
    """Trains on the train split through the Transform graph, validates on eval, exports the best epoch.

    `fn_args.custom_config` is `TrainingOptions.to_custom_config()`; `fn_args.hyperparameters` is the
    label-balance step's `artifacts.TrainingHints`: class names in label order, class weights in the
    same order (or null when class weighting is off), the majority class's share of eval, and the
    images per split. `fn_args.train_files` and `eval_files` are the raw examples.
    """
    options = TrainingOptions.from_custom_config(fn_args.custom_config)
    hints = artifacts.TrainingHints.from_json(fn_args.hyperparameters)
    tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
    input_shape = tf_transform_output.transformed_feature_spec()[features.TRANSFORMED_IMAGE_KEY].shape
    # Hints written before they carried the split sizes (a LabelBalance result from the cache).
    sizes = hints.split_sizes or {
        features.TRAIN_SPLIT: count_examples(fn_args.train_files),
        features.EVAL_SPLIT: count_examples(fn_args.eval_files),
    }
    budget = cache_budget_bytes(options.cache_budget_mb)
    plan = plan_input(sizes[features.TRAIN_SPLIT], sizes[features.EVAL_SPLIT], input_shape, budget)
    print(f"Trainer input: {plan.describe()}", flush=True)

    def dataset(files, split, shuffle):
        return make_dataset(
            files, fn_args.data_accessor, tf_transform_output, options.batch_size, shuffle, plan.in_memory, sizes[split]
        )

    eval_dataset = dataset(fn_args.eval_files, features.EVAL_SPLIT, shuffle=False)
    result = train(
        dataset(fn_args.train_files, features.TRAIN_SPLIT, shuffle=True),
        eval_dataset,
        input_shape=input_shape,
        num_classes=len(hints.class_names),
        model_dir=fn_args.model_run_dir,
        options=options,
        class_weight=dict(enumerate(hints.class_weights)) if hints.class_weights else None,
    )
    export_serving_model(result.model, tf_transform_output, hints.class_names, fn_args.serving_model_dir)
    explain_training(
        result,
        fn_args.model_run_dir,
        majority_fraction=hints.majority_fraction,
        shares=prediction_shares(result.model, eval_dataset, hints.class_names),
        input_plan=plan,
    )


def explain_training(
    result: TrainingResult, model_run_dir: str, majority_fraction, shares, input_plan: InputPlan
) -> dict:
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
        "history_csv": os.path.join(model_run_dir, artifacts.HISTORY_CSV_FILE),
        "tensorboard_logs": os.path.join(model_run_dir, "logs"),
        "input": input_plan.to_json(),
    }
    artifacts.write_json(model_run_dir, artifacts.TRAINING_FILE, summary)
    return summary
