"""The PromotionGate's settings (light to import: the command line reads them)."""
from __future__ import annotations

import dataclasses
from typing import Dict

from components.options import Options, require, setting


@dataclasses.dataclass(frozen=True)
class GateThresholds(Options):
    """The margins of rules (a) to (c). They are the PromotionGate's Parameters, one per field (not
    one JSON parameter as other steps take: each is a runtime parameter on Kubeflow / Vertex), so
    they are checked again when the gate runs."""

    majority_margin: float = setting(0.02, "accuracy must beat the eval share of the largest class by this much")
    chance_margin: float = setting(0.05, "balanced accuracy must beat 1 / number of classes by this much")
    max_regression: float = setting(
        0.01, "largest drop of accuracy or balanced accuracy tolerated against the last blessed model"
    )

    def __post_init__(self):
        for name, value in dataclasses.asdict(self).items():
            require(0.0 <= value <= 1.0, "{%s} {value} must be between 0 and 1." % name, value=value)

    def parameters(self) -> Dict[str, float]:
        """The PromotionGate component's Parameters, by name (also the runtime parameters)."""
        return self.to_json()
