"""The Trainer's settings, importable without TensorFlow (the command line is built from them)."""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Dict, Mapping, Optional

from components.options import from_json, require, to_json
from components.paths import is_remote

ARCHITECTURES = ("simple_cnn", "deeper_cnn", "transfer")
# --flip value -> Keras RandomFlip mode
FLIP_MODES = {"none": None, "horizontal": "horizontal", "vertical": "vertical", "both": "horizontal_and_vertical"}


@dataclasses.dataclass(frozen=True)
class TrainingOptions:
    """How the Trainer trains: the defaults are the command line's, and `train()` takes this object."""

    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 1e-3
    early_stopping_patience: int = 8
    architecture: str = "simple_cnn"
    augment: bool = True
    flip: str = "none"  # flipping a digit or a letter changes what it is, so flips are opt-in
    pretrained_weights: Optional[str] = None  # a Keras weights file for the transfer backbone
    # Memory for decoded train and eval images; above it they are streamed from disk each epoch.
    # None: a tenth of the memory of the machine the Trainer runs on (components/trainer/inputs.py).
    cache_budget_mb: Optional[int] = None

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
            not weights or is_remote(weights) or os.path.isfile(weights),
            "{pretrained_weights} {value} is not a file: name a Keras weights file (.h5) for the MobileNetV2 "
            "backbone, or leave it out to start from random weights.",
            value=weights,
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
