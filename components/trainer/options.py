"""The Trainer's settings, importable without TensorFlow (the command line is built from them)."""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Dict, Mapping, Optional

from components.imbalance import STRATEGIES, ImbalanceStrategy
from components.options import Options, from_json, require, setting, to_json
from components.paths import is_remote

# From scratch: simple_cnn, deeper_cnn, resnet_small. On an ImageNet backbone: mobilenet_v2,
# efficientnet_b0, and transfer (the name mobilenet_v2 had before EfficientNet joined it).
ARCHITECTURES = ("simple_cnn", "deeper_cnn", "resnet_small", "mobilenet_v2", "efficientnet_b0", "transfer")
BACKBONE_ARCHITECTURES = ("mobilenet_v2", "efficientnet_b0", "transfer")
IMAGENET = "imagenet"  # --pretrained-weights imagenet: Keras' own download of the official weights
CHECKPOINT_METRICS = ("balanced_accuracy", "accuracy")
# --flip value -> Keras RandomFlip mode
FLIP_MODES = {"none": None, "horizontal": "horizontal", "vertical": "vertical", "both": "horizontal_and_vertical"}


@dataclasses.dataclass(frozen=True)
class TrainingOptions(Options):
    """How the Trainer trains: the defaults are the command line's, and `train()` takes this object."""

    epochs: int = setting(30, "maximum epochs")
    batch_size: int = setting(32, "")
    learning_rate: float = setting(1e-3, "")
    early_stopping_patience: int = setting(8, "stop after this many epochs without a better checkpoint metric")
    architecture: str = setting(
        "simple_cnn",
        "from scratch: simple_cnn, deeper_cnn, resnet_small; on a backbone: mobilenet_v2, efficientnet_b0 "
        "(transfer = mobilenet_v2)",
        choices=ARCHITECTURES,
    )
    augment: bool = setting(True, "random rotation, zoom and contrast (and --flip) while training")
    # Flipping a digit or a letter changes what it is, so flips are opt-in.
    flip: str = setting(
        "none", "random flips in augmentation; only where a mirrored image keeps its label", choices=tuple(FLIP_MODES)
    )
    pretrained_weights: Optional[str] = setting(
        None,
        "the backbone's starting weights: imagenet (Keras downloads the official file once into its cache, "
        "~/.keras/models) or a local Keras weights file (include_top=False)",
        default_help="random",
    )
    # None: balanced_accuracy when LabelBalance judges the labels imbalanced, else accuracy
    # (components/trainer/metrics.py).
    checkpoint_metric: Optional[str] = setting(
        None,
        "validation metric that picks the kept epoch (best_model.keras) and stops training",
        choices=CHECKPOINT_METRICS,
        default_help="balanced_accuracy when LabelBalance finds the labels imbalanced, else accuracy",
    )
    dropout: Optional[float] = setting(
        None, "dropout before the classification layer", default_help="the architecture's own"
    )
    augment_strength: float = setting(1.0, "scales the random rotation, zoom and contrast; 0 keeps only --flip")
    # None: a tenth of the memory of the machine the Trainer runs on (components/trainer/inputs.py).
    cache_budget_mb: Optional[int] = setting(
        None,
        "memory for decoded train and eval images: within it they are decoded once and kept, above it "
        "streamed from disk and decoded each epoch; 0 always streams",
        default_help="a tenth of the memory of the machine the Trainer runs on",
    )
    imbalance_strategy: str = setting(
        ImbalanceStrategy.CLASS_WEIGHTS.value,
        "how training counters imbalanced labels: class_weights weighs each class by n_images / "
        "(n_classes * n_class_images) in the loss; oversample draws training batches with equal class "
        "probability; none does nothing",
        choices=STRATEGIES,
    )

    def __post_init__(self):
        require(
            self.architecture in ARCHITECTURES,
            "{architecture} {value} must be one of: {choices}.",
            value=self.architecture,
            choices=", ".join(ARCHITECTURES),
        )
        require(
            self.flip in FLIP_MODES, "{flip} {value} must be one of: {choices}.", value=self.flip, choices=", ".join(FLIP_MODES)
        )
        weights = self.pretrained_weights
        require(
            not weights or weights == IMAGENET or is_remote(weights) or os.path.isfile(weights),
            "{pretrained_weights} {value} is not a file: name a Keras weights file (.h5) for the backbone, "
            "say imagenet (Keras downloads the official weights once), or leave it out to start from random weights.",
            value=weights,
        )
        require(
            not weights or self.architecture in BACKBONE_ARCHITECTURES,
            "{pretrained_weights} is for a backbone architecture ({choices}); {architecture} {value} trains "
            "from scratch.",
            choices=", ".join(BACKBONE_ARCHITECTURES),
            value=self.architecture,
        )
        require(
            self.checkpoint_metric is None or self.checkpoint_metric in CHECKPOINT_METRICS,
            "{checkpoint_metric} {value} must be one of: {choices}.",
            value=self.checkpoint_metric,
            choices=", ".join(CHECKPOINT_METRICS),
        )
        require(
            self.dropout is None or 0.0 <= self.dropout < 1.0,
            "{dropout} {value} must be at least 0 and below 1 (for example 0.3).",
            value=self.dropout,
        )
        require(
            0.0 <= self.augment_strength <= 5.0,
            "{augment_strength} {value} must be between 0 and 5 (1 is the default strength).",
            value=self.augment_strength,
        )
        require(1 <= self.epochs <= 10_000, "{epochs} {value} must be a positive number of epochs.", value=self.epochs)
        require(
            1 <= self.batch_size <= 65_536,
            "{batch_size} {value} must be a positive number of images.",
            value=self.batch_size,
        )
        require(
            0.0 <= self.learning_rate <= 10.0,
            "{learning_rate} {value} must be between 0 and 10 (for example 0.001).",
            value=self.learning_rate,
        )
        require(self.early_stopping_patience >= 1, "{early_stopping_patience} must be at least 1 epoch.")
        require(
            self.imbalance_strategy in STRATEGIES,
            "{imbalance_strategy} {value} must be one of: {choices}.",
            value=self.imbalance_strategy,
            choices=", ".join(STRATEGIES),
        )
        require(
            self.cache_budget_mb is None or self.cache_budget_mb >= 0,
            "{cache_budget_mb} {value} must be 0 (always stream) or more megabytes.",
            value=self.cache_budget_mb,
        )

    def to_custom_config(self) -> Dict[str, Any]:
        """The Trainer component's `custom_config`; `run_fn` reads it back with `from_custom_config`."""
        return to_json(self)

    @classmethod
    def from_custom_config(cls, custom_config: Mapping[str, Any]) -> "TrainingOptions":
        return from_json(cls, custom_config)


@dataclasses.dataclass(frozen=True)
class TuningOptions(Options):
    """Whether a run tunes, with how much budget, and whether it reuses an earlier result."""

    tune: bool = setting(
        False,
        "add TFX's Tuner before the Trainer: a random search over architecture, learning rate, dropout, "
        "batch size, augmentation strength and imbalance strategy, on validation balanced accuracy",
    )
    tune_trials: int = setting(6, "models the search trains")
    tune_epochs: int = setting(4, "epochs per trial (the best epoch of each counts)")
    reuse_tuning: bool = setting(
        True,
        "without --tune, train with the best hyperparameters of the latest tuning in this output dir "
        "while the data and the search space are unchanged",
    )

    def __post_init__(self):
        require(
            1 <= self.tune_trials <= 1000, "{tune_trials} {value} must be between 1 and 1000.", value=self.tune_trials
        )
        require(
            1 <= self.tune_epochs <= 1000, "{tune_epochs} {value} must be between 1 and 1000.", value=self.tune_epochs
        )

    def to_custom_config(self) -> Dict[str, Any]:
        return to_json(self)

    @classmethod
    def from_custom_config(cls, values: Mapping[str, Any]) -> "TuningOptions":
        return from_json(cls, values)
