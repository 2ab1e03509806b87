"""The image ExampleGen's settings (light to import: the command line reads them)."""
from __future__ import annotations

import dataclasses

from components.options import Options, require, setting


@dataclasses.dataclass(frozen=True)
class IngestionLimits(Options):
    """What the image ExampleGen accepts before it stops the run."""

    # 50 megapixels: a 48 MP phone photo still passes; larger images are rejected as decompression bombs.
    max_image_pixels: int = setting(50_000_000, "reject images with more pixels than this (decompression bombs)")
    max_rejected_fraction: float = setting(
        0.05,
        "stop when more than this share of the files is rejected (unreadable, not an image, ...); "
        "every reject is listed either way",
    )
    # A group spanning classes is kept whole: which label is right is for a person.
    drop_duplicates: bool = setting(
        False,
        "keep one image of each group with the same pixels and class, listing the others as dropped "
        "(a group spanning classes is kept whole)",
    )

    def __post_init__(self):
        require(
            0.0 <= self.max_rejected_fraction <= 1.0,
            "{max_rejected_fraction} {value} must be between 0 and 1 (for example 0.05).",
            value=self.max_rejected_fraction,
        )
        require(self.max_image_pixels >= 1, "{max_image_pixels} {value} must be positive.", value=self.max_image_pixels)
