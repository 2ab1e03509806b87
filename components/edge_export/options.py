"""The edge export's settings (light to import: the command line reads them)."""
from __future__ import annotations

import dataclasses
from typing import Dict, Union

from components.options import require


@dataclasses.dataclass(frozen=True)
class EdgeOptions:
    """The EdgeExport step's Parameters, one per field."""

    edge_export: bool = True  # write TF Lite models of a pushed model at all (--no-edge-export: no)
    min_int8_agreement: float = 0.98  # the int8 model is published only when it agrees this often
    parity_images: int = 2000  # eval images the TF Lite models are checked on (the first N)
    representative_images: int = 200  # train images that calibrate the int8 model's value ranges

    def __post_init__(self):
        require(0.0 <= self.min_int8_agreement <= 1.0, "{min_int8_agreement} {value} must be between 0 and 1.", value=self.min_int8_agreement)
        require(self.parity_images >= 1, "{parity_images} {value} must be at least 1.", value=self.parity_images)
        require(
            1 <= self.representative_images <= 5000,
            "{representative_images} {value} must be between 1 and 5000.",
            value=self.representative_images,
        )

    def parameters(self) -> Dict[str, Union[bool, int, float]]:
        return dataclasses.asdict(self)
