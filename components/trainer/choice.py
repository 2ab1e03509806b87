"""`--architecture auto`: the network the Trainer trains, chosen from the images.

EfficientNet-Lite0 on ImageNet weights (installed with the project, no download) when the train
images are large enough for its features to help (64 px and more on the short side: the
Transform then resizes them to at least 96 px, `transform/sizing.py`); the from-scratch
simple_cnn for smaller ones (digits, Fashion-MNIST, icons), which trains in seconds an epoch at
32 px. An architecture named on the command line (or tuned) is kept.
"""
from __future__ import annotations

from typing import Optional, Tuple

from components.trainer.options import AUTO, BUNDLED_BACKBONE
from components.transform.sizing import LARGE_IMAGE, MIN_BACKBONE_SIZE, large

SMALL_IMAGES = "simple_cnn"


def backbone_fits(short_side: Optional[float], image_size: int) -> bool:
    """Large images, resized to a size the backbone sees detail at."""
    return large(short_side) and image_size >= MIN_BACKBONE_SIZE


def choose_architecture(requested: str, short_side: Optional[float], image_size: int, tuned: bool = False) -> Tuple[str, str]:
    """(architecture, why) for `requested` (--architecture, or the tuned value), the train images'
    median short side (px) and the size the Transform graph resizes them to."""
    if requested != AUTO:
        return requested, "the Tuner's best trial" if tuned else f"--architecture {requested}"
    if short_side is None:
        return SMALL_IMAGES, "auto: the image sizes are not known (an older LabelBalance result)"
    if backbone_fits(short_side, image_size):
        return BUNDLED_BACKBONE, (
            f"auto: the images are {short_side:g} px on the short side, at least the {LARGE_IMAGE} px that "
            f"ImageNet features need, seen at {image_size} px"
        )
    if large(short_side):
        return SMALL_IMAGES, (
            f"auto: the images are {short_side:g} px on the short side, but --image-size {image_size} is "
            f"under the {MIN_BACKBONE_SIZE} px a backbone needs"
        )
    return SMALL_IMAGES, f"auto: the images are {short_side:g} px on the short side, under {LARGE_IMAGE}"
