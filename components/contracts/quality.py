"""data_quality.json: exact and near duplicates, conflicting labels, train/eval leaks and odd images."""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Optional

from components.artifacts import DATA_QUALITY_FILE
from components.contracts.record import Record, key


@dataclasses.dataclass(frozen=True)
class GroupImage(Record):
    path: str
    split: str
    class_name: str = dataclasses.field(metadata=key("class"))


@dataclasses.dataclass(frozen=True)
class ImageGroup(Record):
    """Images with the same pixels (match "exact"), or a confirmed pair of near copies ("near")."""

    ADDED = {"match": "exact"}  # groups from before near copies were found

    images: List[GroupImage]  # sorted by path
    match: str  # exact or near
    pixel_hash: Optional[str] = None  # exact groups
    difference: Optional[float] = None  # near pairs: their pixel difference (near.difference)
    hash_bits: Optional[int] = None  # near pairs found by perceptual hashes (before embeddings)
    similarity: Optional[float] = None  # near pairs: the cosine similarity of their embeddings


@dataclasses.dataclass(frozen=True)
class Outlier(Record):
    path: str
    split: str
    class_name: str = dataclasses.field(metadata=key("class"))
    kind: str  # near_constant, aspect_ratio, blurry or far_from_class
    value: float  # the measure that made it odd


@dataclasses.dataclass(frozen=True)
class LabelIssue(Record):
    """An image that is probably filed under the wrong class (confident learning)."""

    path: str
    split: str
    class_name: str = dataclasses.field(metadata=key("class"))  # the class it is filed under
    suggested: str  # the class the out-of-sample classifier gives it
    score: float  # its self-confidence: the out-of-sample probability of its given class; lower is worse


@dataclasses.dataclass(frozen=True)
class LabelCheck(Record):
    """How the labels were judged, and how far to trust the judgement."""

    judged: bool
    reason: str  # why not judged, or how
    images: int
    folds: int
    classifier_accuracy: Optional[float]  # out of sample, against the given labels
    classifier_balanced_accuracy: Optional[float]
    estimated_label_errors: Optional[int]  # confident learning's count (n x the joint's off-diagonal mass)


@dataclasses.dataclass(frozen=True)
class QualityCounts(Record):
    ADDED = {"near_duplicates": 0, "near_duplicate_images": 0}  # counted since near copies are found

    exact_duplicates: int  # groups
    duplicate_images: int  # images beyond the first of each group
    near_duplicates: int  # pairs
    near_duplicate_images: int
    conflicting_labels: int
    train_eval_leaks: int  # groups
    leaked_eval_images: int
    near_constant: int
    aspect_ratio: int
    blurry: int
    far_from_class: int = 0  # since embeddings
    label_issues: int = 0  # since embeddings


@dataclasses.dataclass(frozen=True)
class QualityRecord(Record):
    """data_quality.json. A group spanning classes is also in `conflicting_labels`, one spanning
    splits also in `train_eval_leaks`."""

    FILE = DATA_QUALITY_FILE
    ADDED = {"near_duplicates": []}  # found since a later version

    exact_duplicates: List[ImageGroup]
    near_duplicates: List[ImageGroup]
    conflicting_labels: List[ImageGroup]
    train_eval_leaks: List[ImageGroup]
    leaked_eval_images: List[str]  # eval paths whose picture (or a near copy) is also in train, sorted
    outliers: List[Outlier]
    options: Dict[str, Any]  # the DataQuality step's QualityOptions
    counts: QualityCounts
    findings: List[str]  # the verdict in sentences, most serious first
    thumbnails: Dict[str, str] = dataclasses.field(default_factory=dict)  # path -> JPEG in the artifact
    label_issues: List[LabelIssue] = dataclasses.field(default_factory=list)  # worst (lowest score) first
    label_check: Optional[LabelCheck] = None  # None: written before embeddings
    seconds: Dict[str, float] = dataclasses.field(default_factory=dict)  # each stage's wall time
