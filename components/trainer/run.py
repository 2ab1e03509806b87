"""The Trainer's entry point: a thin adapter from TFX's FnArgs to `train` and `export_serving_model`."""
from __future__ import annotations

import dataclasses
import os

from tfx.components.trainer.fn_args_utils import FnArgs

from components import artifacts
from components.contracts import record
from components.contracts.training import InputRecord, TrainingRecord
from components.trainer.curves import plot_training
from components.trainer.dynamics import analyze_history
from components.trainer.export import export_serving_model
from components.trainer.inputs import InputPlan
from components.trainer.metrics import choose_checkpoint_metric
from components.trainer.options import TrainingOptions, TuningOptions
from components.trainer.choice import backbone_fits, choose_architecture
from components.trainer.plan import TRAINING_KEY, TUNED_FROM_KEY, TUNING_KEY, decide_imbalance, training_data
from components.trainer.train import TrainingResult, prediction_shares, train
from components.trainer.tuning import DATA_FINGERPRINT, SPACE_FINGERPRINT, apply, search_space, space_fingerprint, tuned_values


# TFX Trainer will call this function.
def run_fn(fn_args: FnArgs) -> None:
    """Trains on the train split through the Transform graph, validates on eval, exports the best epoch.

    `fn_args.custom_config` holds `TrainingOptions.to_custom_config()` (TRAINING_KEY), the
    `TuningOptions` (TUNING_KEY: whether a Tuner ran before, whether to reuse an earlier one),
    and what the executor added
    (components/trainer/component.py): LabelBalance's `artifacts.TrainingHints` and where the
    tuned hyperparameters come from. `fn_args.hyperparameters` is the Tuner's best
    hyperparameters (this run's, or the latest earlier tuning's), or None.
    `fn_args.train_files` and `eval_files` are the raw examples.
    """
    config = fn_args.custom_config
    options = TrainingOptions.from_custom_config(config[TRAINING_KEY])
    data = training_data(fn_args, options)
    tuning = TuningOptions.from_custom_config(config[TUNING_KEY])
    tuned_from = config.get(TUNED_FROM_KEY) or {}
    space = search_space(options, backbone_fits(data.hints.short_side, data.image_size))
    tuned = tuned_values(
        fn_args.hyperparameters,
        found_on=tuned_from,
        now={DATA_FINGERPRINT: tuned_from.get("current_data"), SPACE_FINGERPRINT: space_fingerprint(space)},
        tuned_in_this_run=tuning.tune,
        reuse=tuning.reuse_tuning,
        uri=tuned_from.get("uri"),
    )
    print(f"Hyperparameters: {tuned.reason}.", flush=True)
    tuned_keys = set(tuned.values or {})
    if tuned.values:
        options = apply(options, tuned.values)
        print(f"Tuned: {', '.join(f'{k}={v}' for k, v in sorted(tuned.values.items()))}", flush=True)
    architecture, architecture_reason = choose_architecture(
        options.architecture, data.hints.short_side, data.image_size, tuned="architecture" in tuned_keys
    )
    options = dataclasses.replace(options, architecture=architecture)
    print(f"Architecture: {architecture} ({architecture_reason}).", flush=True)
    imbalance = decide_imbalance(options.imbalance_strategy, data.hints, tuned="imbalance_strategy" in tuned_keys)
    metric, metric_reason = choose_checkpoint_metric(options.checkpoint_metric, data.hints.imbalanced)
    options = dataclasses.replace(options, checkpoint_metric=metric)
    print(f"Trainer input: {data.plan.describe()}", flush=True)
    print(f"Keeping the epoch with the best validation {metric}: {metric_reason}.", flush=True)
    train_dataset, eval_dataset, class_weight = data.datasets(options.batch_size, imbalance.strategy)
    result = train(
        train_dataset,
        eval_dataset,
        input_shape=data.input_shape,
        num_classes=data.num_classes,
        model_dir=fn_args.model_run_dir,
        options=options,
        class_weight=class_weight,
    )
    export_serving_model(
        result.model, data.transform_output, data.hints.class_names, fn_args.serving_model_dir, data.hints.train_counts
    )
    explain_training(
        result,
        fn_args.model_run_dir,
        majority_fraction=data.hints.majority_fraction,
        shares=prediction_shares(result.model, eval_dataset, data.hints.class_names),
        input_plan=data.plan,
        checkpoint_reason=metric_reason,
        imbalance_strategy=imbalance.strategy,
        imbalance_reason=imbalance.reason,
        class_weights=imbalance.class_weights,
        hyperparameters=options.to_custom_config(),
        tuning=tuned,
        architecture=architecture,
        architecture_reason=architecture_reason,
        image_size=data.image_size,
        image_size_reason=data.size_choice.reason if data.size_choice else "set when the Transform graph was written",
    )


def explain_training(
    result: TrainingResult, model_run_dir: str, majority_fraction, shares, input_plan: InputPlan, **extra
) -> TrainingRecord:
    """Findings about the training curves, plots of them, and training.json in `model_run_dir`
    (`extra`: the record's fields on the choices made before training)."""
    findings = analyze_history(result.history, majority_fraction=majority_fraction, prediction_shares=shares)
    balanced = result.history.get("val_balanced_accuracy")
    training = TrainingRecord(
        epochs_run=len(result.history["val_accuracy"]),
        best_epoch=result.best_epoch,
        best_val_accuracy=result.history["val_accuracy"][result.best_epoch - 1],
        best_val_balanced_accuracy=balanced[result.best_epoch - 1] if balanced else None,
        checkpoint_metric=result.checkpoint_metric,
        stopped_early=result.stopped_early,
        majority_fraction=majority_fraction,
        prediction_shares=shares,
        findings=findings,
        plots=plot_training(result.history, model_run_dir, result.best_epoch, majority_fraction, result.fine_tune_epoch),
        history_csv=os.path.join(model_run_dir, artifacts.HISTORY_CSV_FILE),
        tensorboard_logs=os.path.join(model_run_dir, "logs"),
        input=InputRecord.from_json(input_plan.to_json()),
        fine_tune_epoch=result.fine_tune_epoch,
        **extra,
    )
    record.write(training, model_run_dir)
    return training
