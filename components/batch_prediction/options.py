"""Batch prediction's settings (light to import: the command line reads them)."""
from __future__ import annotations

import dataclasses

from components.options import Options, require, setting


@dataclasses.dataclass(frozen=True)
class PredictionOptions(Options):
    """The PredictionWriter step's one JSON Parameter."""

    drift_threshold: float = setting(
        0.1,
        "warn when a class's share of the predictions differs from its share of the training images "
        "by more than this",
    )

    def __post_init__(self):
        require(
            0.0 <= self.drift_threshold <= 1.0,
            "{drift_threshold} {value} must be between 0 and 1 (for example 0.1).",
            value=self.drift_threshold,
        )
