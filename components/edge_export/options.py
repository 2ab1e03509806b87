"""The edge export's settings (light to import: the command line reads them)."""
from __future__ import annotations

import dataclasses

from components.options import Options, setting


@dataclasses.dataclass(frozen=True)
class EdgeOptions(Options):
    """The EdgeExport step's one JSON Parameter."""

    edge_export: bool = setting(True, "write no TF Lite models of the pushed model", flag="--no-edge-export")
    min_int8_agreement: float = setting(
        0.98,
        "the int8 model is published only when its top class is the SavedModel's on at least this share "
        "of eval images",
        at_least=0.0,
        at_most=1.0,
    )
    parity_images: int = setting(2000, "eval images the TF Lite models are checked on (the first N)", at_least=1)
    representative_images: int = setting(
        200, "train images that calibrate the int8 model's value ranges", at_least=1, at_most=5000
    )
