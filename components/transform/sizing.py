"""`--image-size auto`: the size the Transform graph resizes every image to, chosen from the images.

Decided when the Transform runs, from what LabelBalance measured of the train split (the median
width and height from TFDV's statistics, and the number of images), so a Kubeflow or Vertex run,
whose data root is a runtime parameter, decides as a local one does.

* Small images (the short side below LARGE_IMAGE, 64 px: digits, Fashion-MNIST, icons) carry too
  little detail for ImageNet features; they go to SMALL_SIZE (32 px), where the from-scratch CNNs
  train in seconds an epoch.
* Larger images go to the backbone's sizes: the short side rounded down to a multiple of 32,
  between MIN_BACKBONE_SIZE (96) and MAX_AUTO_SIZE (224), and no more than fits the CPU budget:
  PIXEL_BUDGET pixels of training images an epoch, about a minute of fine-tuning EfficientNet-Lite0
  with augmentation on two cores (40 ms an image at 224 px, 20 at 160, 5 at 96:
  `benchmarks/backbone.py --speed`). 1,500 photos train at 224 px, 3,000 at 160, 6,000 at 128,
  12,000 and more at 96.
"""
from __future__ import annotations

import math
from typing import Optional

from components.contracts.transform import SizeChoice
from components.transform.options import MAX_AUTO_SIZE

LARGE_IMAGE = 64  # short side (px) from which images carry detail an ImageNet backbone uses
SMALL_SIZE = 32
MIN_BACKBONE_SIZE = 96
SIZE_STEP = 32
PIXEL_BUDGET = 1500 * 224 * 224  # training pixels an epoch: about a minute of fine-tuning on 2 cores


def large(short_side: Optional[float]) -> bool:
    """Images big enough for a pretrained backbone's features to help."""
    return short_side is not None and short_side >= LARGE_IMAGE


def choose_image_size(requested: Optional[int], short_side: Optional[float], train_images: Optional[int]) -> SizeChoice:
    """The size for `requested` (None: auto) given the train images' median short side and count."""
    if requested is not None:
        return SizeChoice(requested, requested, f"--image-size {requested}", short_side)
    if short_side is None:
        return SizeChoice(SMALL_SIZE, None, "auto: the image sizes are not known (an older LabelBalance result)", None)
    if not large(short_side):
        reason = f"auto: the images are {short_side:g} px on the short side, under {LARGE_IMAGE}"
        return SizeChoice(SMALL_SIZE, None, reason, short_side)
    native = max(MIN_BACKBONE_SIZE, min(MAX_AUTO_SIZE, int(short_side) // SIZE_STEP * SIZE_STEP))
    affordable = MAX_AUTO_SIZE
    if train_images:
        affordable = round(math.sqrt(PIXEL_BUDGET / train_images) / SIZE_STEP) * SIZE_STEP
    size = max(MIN_BACKBONE_SIZE, min(native, affordable))
    reason = f"auto: the images are {short_side:g} px on the short side"
    if size < native:
        reason += f"; {native} px for {train_images:,} train images would pass the CPU budget of an epoch"
    return SizeChoice(size, None, reason, short_side)
