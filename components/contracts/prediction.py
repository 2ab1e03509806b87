"""batch_summary.json: what one batch prediction run predicted, and how far from training."""
from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional

from components.artifacts import BATCH_SUMMARY_FILE
from components.contracts.record import Record


@dataclasses.dataclass(frozen=True)
class BatchSummary(Record):
    FILE = BATCH_SUMMARY_FILE

    model_version: str
    files_seen: int
    predicted: int
    rejected: int
    class_counts: Dict[str, int]  # predictions per class
    class_shares: Dict[str, float]
    train_shares: Optional[Dict[str, float]]  # None: the model records no training classes
    drift_distance: Optional[float]  # L-infinity distance of the two mixes
    drift_threshold: float
    drift: bool
    lines: List[str]  # the console lines
