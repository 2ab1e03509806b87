"""label_balance.json (the balance report) and training_hints.json (what the Trainer gets from it)."""
from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional

from components import features
from components.artifacts import LABEL_BALANCE_FILE, TRAINING_HINTS_FILE
from components.contracts.ingestion import IngestionAccount
from components.contracts.record import Record


@dataclasses.dataclass(frozen=True)
class SplitSummary(Record):
    """One split's classes: counts, shares, the largest and smallest, and how uneven."""

    total: int
    class_counts: Dict[str, int]
    class_fractions: Dict[str, float]
    majority_class: str
    majority_fraction: float  # the accuracy of always answering the largest class
    minority_class: str
    minority_count: int
    imbalance_ratio: Optional[float]  # largest / smallest class with any image; None without images
    normalized_entropy: float  # 1 = uniform, 0 = one class
    missing_classes: List[str]


@dataclasses.dataclass(frozen=True)
class SizeRange(Record):
    min: float
    mean: float
    max: float
    median: Optional[float] = None  # measured since --image-size auto


@dataclasses.dataclass(frozen=True)
class ImageSummary(Record):
    """Image formats (images per format) and pixel sizes of one split, from TFDV's statistics."""

    formats: Dict[str, int]
    width: Optional[SizeRange]
    height: Optional[SizeRange]


@dataclasses.dataclass(frozen=True)
class GalleryImage(Record):
    """A train image the data report shows for its class; `thumbnail` is relative to the artifact."""

    path: str
    thumbnail: Optional[str]


@dataclasses.dataclass(frozen=True)
class BalanceReport(Record):
    """label_balance.json: the verdict on the labels and the numbers behind it (the data report's twin).

    LabelBalance recommends how to counter an imbalance; the Trainer decides and records what it
    did in training.json.
    """

    FILE = LABEL_BALANCE_FILE
    # Written when LabelBalance chose the imbalance strategy (now TrainingOptions.imbalance_strategy).
    RETIRED = ("class_weighting", "imbalance_strategy")

    class_names: List[str]  # in label-index order
    splits: Dict[str, SplitSummary]
    imbalanced: bool
    severity: str  # none, moderate or severe
    train_eval_distance: Optional[float]  # L-infinity distance of the train and eval class shares
    # The balanced class weights of the train split (components/imbalance.py), by class.
    class_weights: Optional[Dict[str, float]]
    thresholds: Dict[str, float]
    findings: List[str]  # the verdict in sentences, most important first
    recommended_strategy: Optional[str] = None  # an ImbalanceStrategy value; None in older reports
    ingestion: Optional[IngestionAccount] = None  # ExampleGen's account, for the data report
    images: Dict[str, ImageSummary] = dataclasses.field(default_factory=dict)
    anomalies: Optional[Dict[str, List[str]]] = None  # ExampleValidator's, a line each, by split
    gallery: Optional[Dict[str, List[GalleryImage]]] = None  # by class
    report_html: Optional[str] = None  # the data report's path

    def baseline_split(self) -> Optional[SplitSummary]:
        """The split the majority-class baseline is measured on: eval, or train without one."""
        return self.splits.get(features.EVAL_SPLIT) or self.splits.get(features.TRAIN_SPLIT)


@dataclasses.dataclass(frozen=True)
class TrainingHints(Record):
    """What LabelBalance derives from the data for the Trainer and Tuner (their `training_hints` input)."""

    FILE = TRAINING_HINTS_FILE
    # Written when LabelBalance chose the imbalance strategy and weighed the classes itself.
    RETIRED = ("class_weights", "imbalance_strategy")

    class_names: List[str]  # in label-index order
    majority_fraction: float  # validation accuracy of always answering the largest class
    split_sizes: Optional[Dict[str, int]] = None  # images per split, as StatisticsGen counted them
    imbalanced: Optional[bool] = None  # LabelBalance's verdict on the train split
    train_counts: Optional[List[int]] = None  # train images per class, in label order
    recommended_strategy: Optional[str] = None  # LabelBalance's recommendation (an ImbalanceStrategy value)
    # The train images' median width and height (TFDV): what --image-size and --architecture auto read.
    median_width: Optional[float] = None
    median_height: Optional[float] = None

    @property
    def short_side(self) -> Optional[float]:
        """The train images' median short side, px (None in hints from before it was measured)."""
        sides = [side for side in (self.median_width, self.median_height) if side]
        return min(sides) if sides else None
