"""Batch prediction's settings (light to import: the command line reads them)."""
from __future__ import annotations

import dataclasses

from components.options import Options, setting


@dataclasses.dataclass(frozen=True)
class PredictionOptions(Options):
    """The PredictionWriter step's one JSON Parameter."""

    drift_threshold: float = setting(
        0.1,
        "warn when a class's share of the predictions differs from its share of the training images "
        "by more than this",
        at_least=0.0,
        at_most=1.0,
        example=0.1,
    )
