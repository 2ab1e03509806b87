"""image_size.json: the size the Transform graph resizes every image to, and why."""
from __future__ import annotations

import dataclasses
from typing import Optional

from components.artifacts import IMAGE_SIZE_FILE
from components.contracts.record import Record


@dataclasses.dataclass(frozen=True)
class SizeChoice(Record):
    """In the TransformGraph artifact, beside TFX's files; read by the Trainer."""

    FILE = IMAGE_SIZE_FILE

    image_size: int
    requested: Optional[int]  # --image-size; None: auto
    reason: str
    short_side: Optional[float] = None  # the median short side of the train images, px
