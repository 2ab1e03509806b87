"""The image ExampleGen's settings (light to import: the command line reads them)."""
from __future__ import annotations

import dataclasses

from components.options import Options, setting


@dataclasses.dataclass(frozen=True)
class IngestionLimits(Options):
    """What the image ExampleGen accepts before it stops the run."""

    # 50 megapixels: a 48 MP phone photo still passes; larger images are rejected as decompression bombs.
    max_image_pixels: int = setting(
        50_000_000, "reject images with more pixels than this (decompression bombs)", at_least=1
    )
    max_rejected_fraction: float = setting(
        0.05,
        "stop when more than this share of the files is rejected (unreadable, not an image, ...); "
        "every reject is listed either way",
        at_least=0.0,
        at_most=1.0,
        example=0.05,
    )
    # A group spanning classes is kept whole: which label is right is for a person.
    drop_duplicates: bool = setting(
        False,
        "keep one image of each group with the same pixels and class, listing the others as dropped "
        "(a group spanning classes is kept whole)",
    )
