"""The Drift step's settings (light to import: the command line reads them)."""
from __future__ import annotations

import dataclasses

from components.options import Options, setting


@dataclasses.dataclass(frozen=True)
class DriftOptions(Options):
    """How far this run's train images may move from those the served model was trained on
    before the run says so. TFDV measures both (components/drift/compare.py): class shares by
    the L-infinity distance (the largest change of one class's share), image properties by the
    Jensen-Shannon divergence of their histograms (0: the same, 1: disjoint)."""

    class_share_drift: float = setting(
        0.05,
        "a class's share of train images may move by this much (L-infinity distance) before the run says so",
        at_least=0.0,
        at_most=1.0,
    )
    image_drift: float = setting(
        0.1,
        "Jensen-Shannon divergence of image width, height, brightness or contrast at which the run says they moved",
        at_least=0.0,
        at_most=1.0,
    )
