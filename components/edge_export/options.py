"""The edge export's settings (light to import: the command line reads them)."""
from __future__ import annotations

import dataclasses

from components.options import Options, require, setting


@dataclasses.dataclass(frozen=True)
class EdgeOptions(Options):
    """The EdgeExport step's one JSON Parameter."""

    edge_export: bool = setting(True, "write no TF Lite models of the pushed model", flag="--no-edge-export")
    min_int8_agreement: float = setting(
        0.98,
        "the int8 model is published only when its top class is the SavedModel's on at least this share "
        "of eval images",
    )
    parity_images: int = setting(2000, "eval images the TF Lite models are checked on (the first N)")
    representative_images: int = setting(200, "train images that calibrate the int8 model's value ranges")

    def __post_init__(self):
        require(0.0 <= self.min_int8_agreement <= 1.0, "{min_int8_agreement} {value} must be between 0 and 1.", value=self.min_int8_agreement)
        require(self.parity_images >= 1, "{parity_images} {value} must be at least 1.", value=self.parity_images)
        require(
            1 <= self.representative_images <= 5000,
            "{representative_images} {value} must be between 1 and 5000.",
            value=self.representative_images,
        )
