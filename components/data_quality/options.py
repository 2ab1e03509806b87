"""The DataQuality step's settings (light to import: the command line reads them)."""
from __future__ import annotations

import dataclasses

from components.options import Options, require, setting


@dataclasses.dataclass(frozen=True)
class QualityOptions(Options):
    """The DataQuality step's thresholds (its one JSON Parameter)."""

    near_constant_contrast: float = setting(
        0.02, "an image whose luminance standard deviation (0-1) is below this is near-constant"
    )
    max_aspect_ratio: float = setting(4.0, "longer / shorter side above which an image is odd")
    blur_fraction: float = setting(
        0.05, "an image whose sharpness is below this share of its class's median is called blurry"
    )
    near_duplicate_bits: int = setting(
        10,
        "two images are compared pixel by pixel when their perceptual hashes (or one's and the other's "
        "5%% crop hashes) are at most this many bits apart",
    )
    near_duplicate_difference: float = setting(
        0.2,
        "largest difference of two such images, aligned on their best crop (98th percentile of the absolute "
        "difference in standard deviations), that still makes them near duplicates",
    )

    def __post_init__(self):
        require(
            0.0 <= self.near_constant_contrast <= 0.5,
            "{near_constant_contrast} {value} must be between 0 and 0.5.",
            value=self.near_constant_contrast,
        )
        require(self.max_aspect_ratio >= 1.0, "{max_aspect_ratio} {value} must be at least 1.", value=self.max_aspect_ratio)
        require(0.0 <= self.blur_fraction < 1.0, "{blur_fraction} {value} must be in [0, 1).", value=self.blur_fraction)
        require(
            0 <= self.near_duplicate_bits <= 24,
            "{near_duplicate_bits} {value} must be between 0 and 24 (0 finds only copies with the same pHash).",
            value=self.near_duplicate_bits,
        )
        require(
            0.0 <= self.near_duplicate_difference <= 2.0,
            "{near_duplicate_difference} {value} must be between 0 and 2.",
            value=self.near_duplicate_difference,
        )
