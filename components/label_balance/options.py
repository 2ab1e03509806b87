"""LabelBalance's settings (light to import: the command line reads them)."""
from __future__ import annotations

import dataclasses
from typing import Dict

from components.options import NO_FLAG, Options, require, setting


@dataclasses.dataclass(frozen=True)
class BalanceOptions(Options):
    """When the train split counts as imbalanced, and badly; whether the run stops on what the
    data report finds.

    A ratio of 2 means the largest class already pulls twice as hard on the loss as the smallest;
    at 10 a model can reach a high accuracy while ignoring the small classes entirely.
    """

    imbalance_ratio: float = setting(2.0, "largest / smallest train class at which labels count as imbalanced")
    severe_ratio: float = setting(
        10.0, "ratio at which the imbalance counts as severe", flag="--severe-imbalance-ratio"
    )
    train_eval_distance: float = setting(
        0.1,
        "above this, eval measures a different mix than train",
        flag=NO_FLAG,
        spelled="train/eval distance threshold",
        at_least=0.0,
        at_most=1.0,
    )
    fail_on_imbalance: bool = setting(False, "stop the run, after the data report, when labels are imbalanced")
    fail_on_leakage: bool = setting(
        False,
        "stop the run, after the data report, when eval images also appear in train (the same picture or a near copy)",
    )

    def __post_init__(self):
        super().__post_init__()
        require(
            1.0 <= self.imbalance_ratio <= self.severe_ratio,
            "{imbalance_ratio} {value} must be at least 1 and at most {severe_ratio} {severe}.",
            value=self.imbalance_ratio,
            severe=self.severe_ratio,
        )

    def thresholds(self) -> Dict[str, float]:
        """The thresholds the verdict used, as label_balance.json records them."""
        return {
            "imbalance_ratio": self.imbalance_ratio,
            "severe_ratio": self.severe_ratio,
            "train_eval_distance": self.train_eval_distance,
        }
