"""model_card.json: the card beside every pushed model, in Model Card Toolkit's field names.

The top level and the names inside are those of Model Card Toolkit's JSON schema (v0.0.2:
`model_details`, `model_parameters`, `quantitative_analysis`, `considerations`, and within them
`name`, `overview`, `version`, `data`, `performance_metrics`, `limitations`, ...), with
`confidence_interval {lower_bound, upper_bound}` on a metric as its later versions name it, so
that its tools could read the card. The toolkit itself does not install beside TFX 1.16.
"""
from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional

from components.artifacts import MODEL_CARD_JSON_FILE
from components.contracts.record import Record

SCHEMA_VERSION = "0.0.2"


@dataclasses.dataclass(frozen=True)
class Version(Record):
    name: str  # the served version folder's name
    date: str  # YYYY-MM-DD, when it was pushed
    diff: str  # against the model it replaced


@dataclasses.dataclass(frozen=True)
class ModelDetails(Record):
    name: str
    overview: str
    documentation: str  # how it was trained, in sentences
    version: Version
    path: Optional[str]  # the version folder


@dataclasses.dataclass(frozen=True)
class Dataset(Record):
    name: str  # train or eval
    description: str
    class_counts: Dict[str, int]


@dataclasses.dataclass(frozen=True)
class ModelParameters(Record):
    model_architecture: str
    data: List[Dataset]
    input_format: str
    output_format: str


@dataclasses.dataclass(frozen=True)
class ConfidenceInterval(Record):
    lower_bound: float
    upper_bound: float


@dataclasses.dataclass(frozen=True)
class PerformanceMetric(Record):
    type: str  # accuracy, balanced accuracy, recall, precision, majority-class accuracy, ...
    value: float
    slice: str  # "" for the whole eval split, "class: <name>" for one class, "TF Lite float", ...
    confidence_interval: Optional[ConfidenceInterval]


@dataclasses.dataclass(frozen=True)
class QuantitativeAnalysis(Record):
    performance_metrics: List[PerformanceMetric]
    confidence_level: Optional[float]  # of the intervals: 0.95 for 95%


@dataclasses.dataclass(frozen=True)
class Description(Record):
    description: str


@dataclasses.dataclass(frozen=True)
class Considerations(Record):
    use_cases: List[Description]
    limitations: List[Description]  # drawn from the run's findings, in plain words
    tradeoffs: List[Description]


@dataclasses.dataclass(frozen=True)
class ModelCard(Record):
    """model_card.json in the ModelCard artifact and beside a pushed model."""

    FILE = MODEL_CARD_JSON_FILE

    schema_version: str
    model_details: ModelDetails
    model_parameters: ModelParameters
    quantitative_analysis: QuantitativeAnalysis
    considerations: Considerations
