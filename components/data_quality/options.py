"""The DataQuality step's settings (light to import: the command line reads them)."""
from __future__ import annotations

import dataclasses

from components.options import Options, setting


@dataclasses.dataclass(frozen=True)
class QualityOptions(Options):
    """The DataQuality step's thresholds (its one JSON Parameter)."""

    near_constant_contrast: float = setting(
        0.02, "an image whose luminance standard deviation (0-1) is below this is near-constant", at_least=0.0, at_most=0.5
    )
    max_aspect_ratio: float = setting(4.0, "longer / shorter side above which an image is odd", at_least=1.0)
    blur_fraction: float = setting(
        0.05, "an image whose sharpness is below this share of its class's median is called blurry", at_least=0.0, below=1.0
    )
    near_duplicate_bits: int = setting(
        10,
        "two images are compared pixel by pixel when their perceptual hashes (or one's and the other's "
        "5%% crop hashes) are at most this many bits apart",
        at_least=0,
        at_most=24,
        note="0 finds only copies with the same pHash",
    )
    near_duplicate_difference: float = setting(
        0.2,
        "largest difference of two such images, aligned on their best crop (98th percentile of the absolute "
        "difference in standard deviations), that still makes them near duplicates",
        at_least=0.0,
        at_most=2.0,
    )
