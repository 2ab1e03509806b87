"""What one Trainer or Tuner execution trains on: the hints, the Transform graph, and datasets
for a batch size and an imbalance strategy (each tuning trial may pick others)."""
from __future__ import annotations

import dataclasses
import logging
from typing import Dict, List, Optional, Tuple

import tensorflow_transform as tft

from components import artifacts, features
from components.label_balance.balance import balanced_class_weights
from components.trainer.inputs import (
    InputPlan,
    cache_budget_bytes,
    count_examples,
    make_dataset,
    oversampling_rates,
    plan_input,
)
from components.trainer.options import TrainingOptions

# The Trainer's and the Tuner's custom_config: TrainingOptions and TuningOptions (pipeline/dag.py),
# and what their executors add (components/trainer/component.py): the hints, the tuning's origin.
TRAINING_KEY = "training"
TUNING_KEY = "tuning"
HINTS_KEY = "training_hints"
TUNED_FROM_KEY = "tuned_from"


@dataclasses.dataclass
class TrainingData:
    fn_args: object  # TFX's FnArgs: train_files, eval_files, data_accessor, transform_graph_path
    hints: artifacts.TrainingHints
    transform_output: tft.TFTransformOutput
    input_shape: Tuple[int, ...]
    sizes: Dict[str, int]  # images per split
    plan: InputPlan

    @property
    def num_classes(self) -> int:
        return len(self.hints.class_names)

    def class_weights(self) -> Optional[List[float]]:
        """Balanced class weights: LabelBalance's, or from the train counts when it made none."""
        if self.hints.class_weights:
            return list(self.hints.class_weights)
        return balanced_class_weights(self.hints.train_counts) if self.hints.train_counts else None

    def datasets(self, batch_size: int, strategy: str, seed: int = 0):
        """(train, eval, class_weight) for `strategy`: class_weights, oversample or none."""
        class_weight, rates = None, None
        if strategy in ("class_weights", "oversample") and not self.hints.train_counts and not self.hints.class_weights:
            logging.warning("No train class counts in the training hints: %s is off for this run.", strategy)
        elif strategy == "class_weights":
            class_weight = dict(enumerate(self.class_weights()))
        elif strategy == "oversample":
            rates = oversampling_rates(self.hints.train_counts)

        def dataset(files, split, shuffle, oversampling=None):
            return make_dataset(
                files,
                self.fn_args.data_accessor,
                self.transform_output,
                batch_size,
                shuffle,
                self.plan.in_memory,
                self.sizes[split],
                seed=seed,
                oversampling=oversampling,
            )

        train = dataset(self.fn_args.train_files, features.TRAIN_SPLIT, True, rates)
        return train, dataset(self.fn_args.eval_files, features.EVAL_SPLIT, False), class_weight


def training_data(fn_args, options: TrainingOptions) -> TrainingData:
    """Reads the hints the executor put in custom_config and plans how images reach the model."""
    hints = artifacts.TrainingHints.from_json(fn_args.custom_config[HINTS_KEY])
    transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    input_shape = tuple(transform_output.transformed_feature_spec()[features.TRANSFORMED_IMAGE_KEY].shape)
    # Hints written before they carried the split sizes (a LabelBalance result from the cache).
    sizes = hints.split_sizes or {
        features.TRAIN_SPLIT: count_examples(fn_args.train_files),
        features.EVAL_SPLIT: count_examples(fn_args.eval_files),
    }
    budget = cache_budget_bytes(options.cache_budget_mb)
    plan = plan_input(sizes[features.TRAIN_SPLIT], sizes[features.EVAL_SPLIT], input_shape, budget)
    return TrainingData(fn_args, hints, transform_output, input_shape, sizes, plan)


def strategy_of(hints: artifacts.TrainingHints) -> str:
    """The imbalance strategy LabelBalance passed on; hints from before it had one meant class
    weights when they carried any."""
    if hints.imbalance_strategy:
        return hints.imbalance_strategy
    return "class_weights" if hints.class_weights else "none"
