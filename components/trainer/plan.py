"""What one Trainer or Tuner execution trains on: the hints, the Transform graph, and datasets
for a batch size and an imbalance strategy (each tuning trial may pick others); and what that
strategy does, in words."""
from __future__ import annotations

import dataclasses
import logging
from typing import Dict, List, Optional, Tuple

import tensorflow_transform as tft

from components import features
from components.contracts import record
from components.contracts.balance import TrainingHints
from components.contracts.transform import SizeChoice
from components.imbalance import ImbalanceStrategy, balanced_class_weights
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
    hints: TrainingHints
    transform_output: tft.TFTransformOutput
    input_shape: Tuple[int, ...]
    sizes: Dict[str, int]  # images per split
    plan: InputPlan
    size_choice: Optional[SizeChoice] = None  # why the graph resizes to input_shape (None: an older graph)

    @property
    def image_size(self) -> int:
        return int(self.input_shape[0])

    @property
    def num_classes(self) -> int:
        return len(self.hints.class_names)

    def class_weights(self) -> Optional[List[float]]:
        """Balanced class weights from the train counts (None without them: hints of an old run)."""
        return balanced_class_weights(self.hints.train_counts) if self.hints.train_counts else None

    def datasets(self, batch_size: int, strategy: str, seed: int = 0):
        """(train, eval, class_weight) for `strategy`, an ImbalanceStrategy value."""
        class_weight, rates = None, None
        if strategy != ImbalanceStrategy.NONE and not self.hints.train_counts:
            logging.warning("No train class counts in the training hints: %s is off for this run.", strategy)
        elif strategy == ImbalanceStrategy.CLASS_WEIGHTS:
            class_weight = dict(enumerate(self.class_weights()))
        elif strategy == ImbalanceStrategy.OVERSAMPLE:
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
    hints = TrainingHints.from_json(fn_args.custom_config[HINTS_KEY])
    transform_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    input_shape = tuple(transform_output.transformed_feature_spec()[features.TRANSFORMED_IMAGE_KEY].shape)
    # Hints written before they carried the split sizes (a LabelBalance result from the cache).
    sizes = hints.split_sizes or {
        features.TRAIN_SPLIT: count_examples(fn_args.train_files),
        features.EVAL_SPLIT: count_examples(fn_args.eval_files),
    }
    budget = cache_budget_bytes(options.cache_budget_mb)
    plan = plan_input(sizes[features.TRAIN_SPLIT], sizes[features.EVAL_SPLIT], input_shape, budget)
    size_choice = record.read_if_present(SizeChoice, fn_args.transform_graph_path)
    return TrainingData(fn_args, hints, transform_output, input_shape, sizes, plan, size_choice)


@dataclasses.dataclass(frozen=True)
class ImbalanceDecision:
    """What training does about imbalanced labels, and why (training.json records it)."""

    strategy: str  # an ImbalanceStrategy value
    class_weights: Optional[Dict[str, float]]  # by class, when the loss weighs them
    reason: str


def decide_imbalance(strategy: str, hints: TrainingHints, tuned: bool) -> ImbalanceDecision:
    """The Trainer's decision on imbalance: `strategy` (--imbalance-strategy, or the Tuner's
    value when `tuned`), what it does to these labels, and how it stands to LabelBalance's
    recommendation."""
    names, counts = hints.class_names, hints.train_counts
    weights = None
    if strategy != ImbalanceStrategy.NONE and not counts:
        what = f"No train class counts in the training hints: {strategy} is off for this run."
    elif strategy == ImbalanceStrategy.CLASS_WEIGHTS:
        weights = dict(zip(names, balanced_class_weights(counts)))
        heaviest, lightest = max(weights, key=weights.get), min(weights, key=weights.get)
        what = (
            f"Class weights are on (balanced): a '{lightest}' image counts {weights[lightest]:.2f} in the "
            f"loss, a '{heaviest}' image {weights[heaviest]:.2f}."
        )
    elif strategy == ImbalanceStrategy.OVERSAMPLE:
        what = (
            "Oversampling is on: training batches draw every class with equal probability, so each epoch "
            "shows the small classes' images several times."
        )
    else:
        what = "--imbalance-strategy none: training does nothing about the imbalance."
    chosen = "the Tuner's best trial chose it" if tuned else f"--imbalance-strategy {strategy}"
    recommended = hints.recommended_strategy
    advice = f"; LabelBalance recommends {recommended} for these labels" if recommended else ""
    return ImbalanceDecision(strategy, weights, f"{what} ({chosen}{advice}.)")
