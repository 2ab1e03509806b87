"""The error analysis's settings (light to import: the command line reads them)."""
from __future__ import annotations

import dataclasses
from typing import Dict

from components.options import require


@dataclasses.dataclass(frozen=True)
class AnalysisOptions:
    """How many images the error analysis keeps: they bound its memory and the report's size.
    The ErrorAnalysis step's Parameters, one per field."""

    top_losses: int = 16  # eval images with the highest loss, shown with their heatmaps
    confused_pairs: int = 10  # the most frequent (actual, predicted) pairs shown
    images_per_pair: int = 3

    def __post_init__(self):
        for name, value in dataclasses.asdict(self).items():
            require(0 <= value <= 200, "{%s} {value} must be between 0 and 200." % name, value=value)

    def parameters(self) -> Dict[str, int]:
        return dataclasses.asdict(self)
