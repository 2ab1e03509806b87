"""The PromotionGate's settings (light to import: the command line reads them)."""
from __future__ import annotations

import dataclasses
from typing import Dict

from components.options import Options, setting


@dataclasses.dataclass(frozen=True)
class GateThresholds(Options):
    """The margins of rules (a) to (c) and how sure the gate must be. They are the PromotionGate's
    Parameters, one per field (not one JSON parameter as other steps take: each is a runtime
    parameter on Kubeflow / Vertex), so they are checked again when the gate runs."""

    majority_margin: float = setting(
        0.02, "accuracy must beat the eval share of the largest class by this much", at_least=0.0, at_most=1.0
    )
    chance_margin: float = setting(
        0.05, "balanced accuracy must beat 1 / number of classes by this much", at_least=0.0, at_most=1.0
    )
    max_regression: float = setting(
        0.01,
        "largest drop of accuracy or balanced accuracy tolerated against the last blessed model",
        at_least=0.0,
        at_most=1.0,
    )
    confidence_level: float = setting(
        0.95,
        "level of the intervals whose lower bounds rules (a) and (b) judge; a regression is rejected "
        "only at a p-value under 1 - this",
        at_least=0.5,
        at_most=0.999,
    )

    def parameters(self) -> Dict[str, float]:
        """The PromotionGate component's Parameters, by name (also the runtime parameters)."""
        return self.to_json()
