"""edge_export.json: the TF Lite models of a pushed model and how far they agree with it."""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Optional

from components.artifacts import EDGE_EXPORT_FILE
from components.contracts.record import Record


@dataclasses.dataclass(frozen=True)
class Scores(Record):
    accuracy: float
    balanced_accuracy: float


@dataclasses.dataclass(frozen=True)
class TFLiteModel(Record):
    """One TF Lite model; the numbers are None when the converter failed (`reason` says why)."""

    path: Optional[str]
    bytes: Optional[int]
    agreement: Optional[float]  # share of parity images whose top class is the SavedModel's
    accuracy: Optional[float]
    balanced_accuracy: Optional[float]
    published: bool
    reason: Optional[str]  # why it is not published


@dataclasses.dataclass(frozen=True)
class EdgeRecord(Record):
    """edge_export.json, in the EdgeModels artifact and in the published edge folder."""

    FILE = EDGE_EXPORT_FILE

    exported: bool
    reason: Optional[str]  # why nothing was exported
    min_int8_agreement: float
    parity_images: Optional[int] = None
    representative_images: Optional[int] = None
    saved_model: Optional[Scores] = None  # the SavedModel's own scores on the parity images
    input_spec: Optional[Dict[str, Any]] = None  # what the models take (input_spec.json)
    tflite_float: Optional[TFLiteModel] = None
    tflite_int8: Optional[TFLiteModel] = None
    folder: Optional[str] = None  # the published edge folder

    def models(self) -> List[TFLiteModel]:
        return [model for model in (self.tflite_float, self.tflite_int8) if model]
