"""The error analysis's settings (light to import: the command line reads them)."""
from __future__ import annotations

import dataclasses

from components.options import Options, require, setting


@dataclasses.dataclass(frozen=True)
class AnalysisOptions(Options):
    """How many images the error analysis keeps: they bound its memory and the report's size.
    The ErrorAnalysis step's one JSON Parameter."""

    top_losses: int = setting(16, "eval images with the highest loss shown, with heatmaps")
    confused_pairs: int = setting(10, "most frequent (actual, predicted) pairs shown")
    images_per_pair: int = setting(3, "images shown for each of those pairs")

    def __post_init__(self):
        for name, value in dataclasses.asdict(self).items():
            require(0 <= value <= 200, "{%s} {value} must be between 0 and 200." % name, value=value)
