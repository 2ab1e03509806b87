"""drift.json: the Drift step's comparison of this run's train images with the served model's."""
from __future__ import annotations

import dataclasses
from typing import List, Optional

from components.artifacts import DRIFT_FILE
from components.contracts.record import Record


@dataclasses.dataclass(frozen=True)
class DriftMeasure(Record):
    """One feature compared by TFDV's drift comparator."""

    feature: str  # class_name, image_width, image_height, brightness, contrast
    measure: str  # "L-infinity distance" or "Jensen-Shannon divergence"
    value: float  # TFDV's measurement
    threshold: float
    drifted: bool  # value above threshold
    detail: str  # what moved, in words: "'zero' 67.3% -> 40.0% of train images", "median brightness 0.31 -> 0.52"


@dataclasses.dataclass(frozen=True)
class DriftRecord(Record):
    """drift.json in the DriftReport artifact."""

    FILE = DRIFT_FILE

    compared: bool  # False on a first run, or without a blessed model's statistics
    reason: str  # what was compared with, or why nothing was
    previous_statistics: Optional[str]  # the ExampleStatistics artifact of the served model's training data
    previous_model: Optional[str]  # that model's artifact
    measures: List[DriftMeasure]
    findings: List[str]  # one line per drifted feature; empty when nothing moved
