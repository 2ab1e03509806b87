"""The error analysis's settings (light to import: the command line reads them)."""
from __future__ import annotations

import dataclasses

from components.options import Options, setting


@dataclasses.dataclass(frozen=True)
class AnalysisOptions(Options):
    """How many images the error analysis keeps: they bound its memory and the report's size.
    The ErrorAnalysis step's one JSON Parameter."""

    top_losses: int = setting(16, "eval images with the highest loss shown, with heatmaps", at_least=0, at_most=200)
    confused_pairs: int = setting(10, "most frequent (actual, predicted) pairs shown", at_least=0, at_most=200)
    images_per_pair: int = setting(3, "images shown for each of those pairs", at_least=0, at_most=200)
