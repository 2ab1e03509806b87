"""The ModelCard step's settings (light to import: the command line reads them)."""
from __future__ import annotations

import dataclasses
from typing import Optional

from components.options import Options, setting


@dataclasses.dataclass(frozen=True)
class ModelCardOptions(Options):
    """What the model card beside every pushed model says beyond what the run measured."""

    model_name: Optional[str] = setting(
        None, "the model's name on its card", default_help="'image classifier'"
    )
    min_eval_images_per_class: int = setting(
        10,
        "a class with fewer eval images than this is named on the card as one its figures cannot vouch for",
        at_least=1,
        flag="--card-min-eval-images",
    )
