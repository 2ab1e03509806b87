"""How far a TF Lite model agrees with the SavedModel, and whether to publish it. No TF Lite here."""
from __future__ import annotations

from typing import List, Optional

import numpy as np

from components.contracts.edge import EdgeRecord, Scores
from components.edge_export.convert import FLOAT, INT8
from components.metrics import balanced_accuracy


def scores(labels: np.ndarray, predicted: np.ndarray) -> Scores:
    """Accuracy and balanced accuracy of `predicted` classes."""
    return Scores(
        accuracy=float(np.mean(predicted == labels)) if labels.size else 0.0,
        balanced_accuracy=balanced_accuracy(labels, predicted),
    )


def agreement(predicted: np.ndarray, reference: np.ndarray) -> float:
    """Top-1 agreement with `reference`: the SavedModel's classes for the same images."""
    return float(np.mean(predicted == reference)) if reference.size else 0.0


def publish_int8(agreement: float, min_agreement: float) -> Optional[str]:
    """None when the int8 model may be published; otherwise why not, in words."""
    if agreement >= min_agreement:
        return None
    return (
        f"the int8 model agrees with the SavedModel on {agreement:.1%} of eval images, below the "
        f"{min_agreement:.1%} --min-int8-agreement: it is not published. Use the float model, or "
        "quantise a model with more representative images or quantisation-aware training"
    )


def describe(record: EdgeRecord) -> List[str]:
    """Console lines for the edge_export.json record (also the report's and the summary's lines)."""
    if not record.exported:
        return [f"Edge: no TF Lite models: {record.reason}."]
    lines = []
    for key, name in ((FLOAT, "float"), (INT8, "int8")):
        model = getattr(record, key)
        if not model:
            continue
        if model.bytes is None:
            lines.append(f"Edge: no TF Lite {name} model: {model.reason}.")
            continue
        where = model.path if model.published else f"not published ({model.reason})"
        lines.append(
            f"Edge: TF Lite {name} {model.bytes / 1e6:.2f} MB, agrees with the SavedModel on "
            f"{model.agreement:.1%} of {record.parity_images} eval images, accuracy {model.accuracy:.3f}, "
            f"balanced accuracy {model.balanced_accuracy:.3f}; {where}."
        )
    return lines
