"""training.json (what the Trainer did and found) and trials.json (what the Tuner tried)."""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Optional

from components.artifacts import TRAINING_FILE, TRIALS_FILE
from components.contracts.record import Record, key


@dataclasses.dataclass(frozen=True)
class Finding(Record):
    """Something the training curves show that a person should act on."""

    code: str  # majority_class_collapse, underfitting, overfitting, flat_validation, ...
    message: str
    evidence: Dict[str, Any]
    suggestion: str = dataclasses.field(metadata=key("try"))


@dataclasses.dataclass(frozen=True)
class InputRecord(Record):
    """How decoded images reached the model, and why (the Trainer's input plan)."""

    mode: str  # memory or stream
    images: int  # train and eval
    bytes_per_image: int  # decoded uint8 pixels
    decoded_bytes: int
    budget_bytes: int
    reason: str


@dataclasses.dataclass(frozen=True)
class TuningRecord(Record):
    """The best hyperparameters the Trainer received, and whether it used them."""

    values: Optional[Dict[str, Any]]  # None: not used
    source: Optional[str]  # "tuner" (this run's Tuner, --tune), "reused" (an earlier run's), or None
    reason: str
    uri: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class TrainingRecord(Record):
    """training.json in the ModelRun artifact."""

    FILE = TRAINING_FILE

    epochs_run: int
    best_epoch: int  # 1-based: the epoch best_model.keras and the exported model hold
    best_val_accuracy: float
    best_val_balanced_accuracy: Optional[float]
    checkpoint_metric: Optional[str]  # the validation metric that picked the epoch
    stopped_early: bool
    majority_fraction: Optional[float]  # validation accuracy of always answering the largest class
    prediction_shares: Optional[Dict[str, float]]  # share of eval images the model gives each class
    findings: List[Finding]
    plots: List[str]  # PNG paths: the curves, the learning rate
    history_csv: Optional[str] = None
    tensorboard_logs: Optional[str] = None
    input: Optional[InputRecord] = None
    checkpoint_reason: Optional[str] = None
    imbalance_strategy: Optional[str] = None  # an ImbalanceStrategy value: what training did
    hyperparameters: Optional[Dict[str, Any]] = None  # the TrainingOptions trained with, after tuning
    tuning: Optional[TuningRecord] = None
    imbalance_reason: Optional[str] = None  # why that strategy, and what it did, in a sentence
    class_weights: Optional[Dict[str, float]] = None  # by class, when training weighed the classes
    architecture: Optional[str] = None  # the network trained (--architecture auto resolved)
    architecture_reason: Optional[str] = None
    image_size: Optional[int] = None  # the size the Transform graph resizes to (--image-size auto resolved)
    image_size_reason: Optional[str] = None
    fine_tune_epoch: Optional[int] = None  # 1-based: where a pretrained backbone's second phase began


@dataclasses.dataclass(frozen=True)
class Trial(Record):
    """One trial of the Tuner (a line of trials.json, a list)."""

    FILE = TRIALS_FILE
    ADDED = {"seconds": None}  # timed since a later version

    trial_id: str
    status: str
    values: Dict[str, Any]
    objective: Optional[float]  # the best validation balanced accuracy of its epochs; None: failed
    seconds: Optional[float]
    best: bool
    epochs_run: Optional[int] = None
    best_epoch: Optional[int] = None
