"""Transform's settings, importable without TensorFlow (the command line is built from them)."""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, Mapping, Optional

from components.options import Options, from_json, require, setting, to_json

MAX_AUTO_SIZE = 224  # the largest size `--image-size auto` chooses (sizing.py)


@dataclasses.dataclass(frozen=True)
class ImageOptions(Options):
    """What every image becomes: SIZE x SIZE pixels, with 1 (grayscale) or 3 (RGB) channels.

    `image_size` None (auto) is chosen from the images when the Transform runs (`sizing.py`);
    the graph is always written with a number."""

    image_size: Optional[int] = setting(
        None,
        "images are resized to SIZE x SIZE; auto: from the images' own size and number (transform/sizing.py)",
        at_least=8,
        at_most=1024,
        unit="pixels",
        example=32,
        auto=True,
        default_help="auto",
    )
    channels: int = setting(3, "1 = grayscale, 3 = RGB")

    def __post_init__(self):
        super().__post_init__()
        require(self.channels in (1, 3), "{channels} {value} must be 1 (grayscale) or 3 (RGB).", value=self.channels)

    def to_custom_config(self) -> Dict[str, Any]:
        """The Transform component's `custom_config`, which TFX hands to `preprocessing_fn`."""
        return to_json(self)

    @classmethod
    def from_custom_config(cls, custom_config: Mapping[str, Any]) -> "ImageOptions":
        return from_json(cls, custom_config)
