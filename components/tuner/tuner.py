"""The Tuner's entry point: KerasTuner's random search, each trial trained by the Trainer's `train()`.

KerasTuner 1.4.8 builds models with Keras 3 and refuses the tf_keras models TFX needs, so the
search does not use a build function: `TrainingTuner.run_trial` trains a trial's model through
the same `train()` and datasets as the Trainer and reports the objective (the best validation
balanced accuracy of its epochs).
"""
from __future__ import annotations

import dataclasses
import os
import time
from typing import Dict, List

import keras_tuner
from tfx.components.tuner.component import TunerFnResult
from tfx.components.trainer.fn_args_utils import FnArgs

from components.contracts.training import Trial
from components.trainer.choice import backbone_fits
from components.trainer.options import TrainingOptions, TuningOptions
from components.trainer.plan import TRAINING_KEY, TUNING_KEY, TrainingData, training_data
from components.trainer.train import train
from components.trainer.tuning import OBJECTIVE, apply, search_space, space_fingerprint


class TrainingTuner(keras_tuner.RandomSearch):
    """Random search over `search_space(options)`; each trial trains `tuning.tune_epochs` epochs."""

    def __init__(self, data: TrainingData, options: TrainingOptions, tuning: TuningOptions, directory: str):
        self.data, self.options, self.tuning = data, options, tuning
        self.space = search_space(options, backbone_fits(data.hints.short_side, data.image_size))
        self.space_fingerprint = space_fingerprint(self.space)
        self.seconds: Dict[str, float] = {}
        self.epochs: Dict[str, Dict[str, int]] = {}
        hyperparameters = keras_tuner.HyperParameters()
        for name, values in self.space:
            hyperparameters.Choice(name, values)
        super().__init__(
            objective=keras_tuner.Objective(OBJECTIVE, direction="max"),
            max_trials=tuning.tune_trials,
            hyperparameters=hyperparameters,
            tune_new_entries=False,
            seed=0,
            directory=directory,
            project_name="search",
            overwrite=True,
        )

    def run_trial(self, trial, *args, **kwargs):
        options = apply(self.options, trial.hyperparameters.values)
        options = dataclasses.replace(
            options,
            epochs=self.tuning.tune_epochs,
            checkpoint_metric="balanced_accuracy",
            early_stopping_patience=max(self.options.early_stopping_patience, self.tuning.tune_epochs),
        )
        train_dataset, eval_dataset, class_weight = self.data.datasets(options.batch_size, options.imbalance_strategy)
        started = time.perf_counter()
        result = train(
            train_dataset,
            eval_dataset,
            input_shape=self.data.input_shape,
            num_classes=self.data.num_classes,
            model_dir=os.path.join(self.project_dir, f"trial_{trial.trial_id}"),
            options=options,
            class_weight=class_weight,
        )
        self.seconds[trial.trial_id] = round(time.perf_counter() - started, 1)
        self.epochs[trial.trial_id] = {"epochs_run": len(result.history["loss"]), "best_epoch": result.best_epoch}
        return {OBJECTIVE: max(result.history[OBJECTIVE])}

    def trials_table(self) -> List[Trial]:
        """Every trial: its values, objective, time and epochs, the best one marked (trials.json)."""
        best = self.oracle.get_best_trials(1)
        best_id = best[0].trial_id if best else None
        return [
            Trial(
                trial_id=trial_id,
                status=str(trial.status),
                values=dict(trial.hyperparameters.values),
                objective=trial.score,
                seconds=self.seconds.get(trial_id),
                best=trial_id == best_id,
                **self.epochs.get(trial_id, {}),
            )
            for trial_id, trial in sorted(self.oracle.trials.items())
        ]


# TFX Tuner will call this function.
def tuner_fn(fn_args: FnArgs) -> TunerFnResult:
    """A `TrainingTuner` on the Trainer's data and options; custom_config as the Tuner's executor
    passes it (components/tuner/component.py)."""
    options = TrainingOptions.from_custom_config(fn_args.custom_config[TRAINING_KEY])
    tuning = TuningOptions.from_custom_config(fn_args.custom_config[TUNING_KEY])
    data = training_data(fn_args, options)
    return TunerFnResult(tuner=TrainingTuner(data, options, tuning, fn_args.working_dir), fit_kwargs={})
