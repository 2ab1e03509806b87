"""error_analysis.json (what the model gets wrong) and decision.json (the PromotionGate's verdict)."""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Optional

from components.artifacts import DECISION_FILE, ERROR_ANALYSIS_FILE
from components.contracts.record import Record, key


@dataclasses.dataclass(frozen=True)
class Mistake(Record):
    """An eval image the model got wrong, or was least sure of; images relative to the artifact."""

    path: str
    actual: str
    predicted: str
    confidence: float  # the probability of the predicted class
    loss: float
    thumbnail: Optional[str] = None
    heatmap: Optional[str] = None  # top losses: Grad-CAM over the pixels the model saw


@dataclasses.dataclass(frozen=True)
class ConfusedPair(Record):
    actual: str
    predicted: str
    count: int
    examples: List[Mistake]  # the highest-loss images of the pair


@dataclasses.dataclass(frozen=True)
class LeakFree(Record):
    """The eval split without its images that are also in train (for the PromotionGate)."""

    confusion: List[List[int]]  # [actual, predicted, images]
    majority_class: str
    majority_fraction: float
    excluded: List[str]  # the leaked eval paths, sorted


@dataclasses.dataclass(frozen=True)
class PairedCounts(Record):
    """The candidate and the last blessed model on the same eval images (for the PromotionGate's
    paired rule): per actual class, in class-index order, [both right, only the candidate right,
    only the baseline right, both wrong]."""

    baseline_uri: str  # the last blessed model's artifact
    per_class: List[List[int]]


@dataclasses.dataclass(frozen=True)
class ErrorAnalysisRecord(Record):
    """error_analysis.json in the ErrorAnalysis artifact (its JPEGs under images/)."""

    FILE = ERROR_ANALYSIS_FILE
    # leak_free: counted since eval images also in train are left out of the gate; paired: since
    # the gate compares with the last blessed model image by image.
    ADDED = {"leak_free": None, "paired": None}

    class_names: List[str]
    images: int  # eval images analysed
    mistakes: int
    top_losses: List[Mistake]
    most_confused: List[ConfusedPair]
    average_precision: Dict[str, Optional[float]]  # by class, one against the rest
    mean_average_precision: Optional[float]
    pr_curves: Dict[str, List[List[float]]]  # by class: [recall, precision] points
    calibration: Dict[str, Any]  # {bins: [{low, high, images, confidence?, accuracy?}], expected_calibration_error}
    expected_calibration_error: Optional[float]
    thresholds: List[Dict[str, Any]]  # per confidence threshold: answered, accuracy_when_answered, per_class
    leak_free: Optional[LeakFree]  # None when no eval image is also in train
    paired: Optional[PairedCounts]  # None without a last blessed model (or one with other classes)


# Intervals: [low, high] at the GateThresholds' confidence (components/promotion_gate/intervals.py).
Interval = Optional[List[float]]


@dataclasses.dataclass(frozen=True)
class GateMetrics(Record):
    """A model's metrics on the eval split, from its confusion matrix, with their intervals."""

    # Intervals were added later: a decision written before them has none (None).
    ADDED = {
        "confidence": None, "accuracy_interval": None, "balanced_accuracy_interval": None,
        "per_class_recall_interval": None, "per_class_precision_interval": None,
    }  # fmt: skip

    accuracy: float
    balanced_accuracy: float  # recall averaged over the classes eval has
    per_class_recall: Dict[str, float]
    per_class_precision: Dict[str, float]
    example_count: float
    confidence: Optional[float]  # the level of the intervals, 0.95 for 95%
    accuracy_interval: Interval
    balanced_accuracy_interval: Interval
    per_class_recall_interval: Optional[Dict[str, List[float]]]
    per_class_precision_interval: Optional[Dict[str, List[float]]]


@dataclasses.dataclass(frozen=True)
class JudgedMetrics(GateMetrics):
    """The candidate's metrics without the leaked eval images: what rules (a) and (b) judged."""

    excluded: List[str]
    majority_class: str
    majority_fraction: float


@dataclasses.dataclass(frozen=True)
class MajorityBaseline(Record):
    class_name: str = dataclasses.field(metadata=key("class"))
    accuracy: float  # the accuracy of always answering it


@dataclasses.dataclass(frozen=True)
class PairedRule(Record):
    """Rule (c) for one figure: the candidate against the last blessed model on the same images."""

    metric: str  # accuracy or balanced_accuracy
    candidate: float
    baseline: float
    candidate_only: int  # images only the candidate gets right
    baseline_only: int  # images only the last blessed model gets right
    p_value: float  # one-sided: the chance of a drop at least this large between equal models
    test: str  # how p_value was computed
    regression: bool  # the drop is over the tolerance and p_value under 1 - confidence


@dataclasses.dataclass(frozen=True)
class DecisionRecord(Record):
    """decision.json in the ModelBlessing: whether the candidate is blessed, and every rule's reason."""

    FILE = DECISION_FILE
    # leak_free: judged since eval images also in train are left out; paired: since rule (c)
    # compares image by image.
    ADDED = {"leak_free": None, "paired": None}

    blessed: bool
    reasons: List[str]
    leak_free: Optional[JudgedMetrics]
    candidate: GateMetrics
    baseline_model: Optional[GateMetrics]  # the last blessed model's, on the same eval split
    majority_baseline: MajorityBaseline
    chance: float  # 1 / number of classes
    confusion_matrix: List[List[float]]  # rows: actual class, columns: predicted, in class-index order
    thresholds: Dict[str, float]  # the GateThresholds applied
    paired: Optional[List[PairedRule]]  # rule (c) judged image by image; None before any blessed model
