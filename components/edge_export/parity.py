"""How far a TF Lite model agrees with the SavedModel, and whether to publish it. No TF Lite here."""
from __future__ import annotations

from typing import Dict, List, Optional

import numpy as np

from components.edge_export.convert import FLOAT, INT8
from components.trainer.metrics import balanced_accuracy


def scores(labels: np.ndarray, predicted: np.ndarray, reference: Optional[np.ndarray] = None) -> Dict[str, float]:
    """Accuracy and balanced accuracy of `predicted` classes; with `reference` (the SavedModel's
    classes for the same images), their top-1 agreement too."""
    result = {
        "accuracy": float(np.mean(predicted == labels)) if labels.size else 0.0,
        "balanced_accuracy": balanced_accuracy(labels, predicted),
    }
    if reference is not None:
        result["agreement"] = float(np.mean(predicted == reference)) if labels.size else 0.0
    return result


def publish_int8(agreement: float, min_agreement: float) -> Optional[str]:
    """None when the int8 model may be published; otherwise why not, in words."""
    if agreement >= min_agreement:
        return None
    return (
        f"the int8 model agrees with the SavedModel on {agreement:.1%} of eval images, below the "
        f"{min_agreement:.1%} --min-int8-agreement: it is not published. Use the float model, or "
        "quantise a model with more representative images or quantisation-aware training"
    )


def describe(record: Dict) -> List[str]:
    """Console lines for the edge_export.json record (also the report's lines)."""
    if not record.get("exported"):
        return [f"Edge: no TF Lite models: {record['reason']}."]
    lines = []
    for key, name in ((FLOAT, "float"), (INT8, "int8")):
        model = record.get(key)
        if not model:
            continue
        if model["bytes"] is None:
            lines.append(f"Edge: no TF Lite {name} model: {model['reason']}.")
            continue
        where = model["path"] if model["published"] else f"not published ({model['reason']})"
        lines.append(
            f"Edge: TF Lite {name} {model['bytes'] / 1e6:.2f} MB, agrees with the SavedModel on "
            f"{model['agreement']:.1%} of {record['parity_images']} eval images, accuracy {model['accuracy']:.3f}, "
            f"balanced accuracy {model['balanced_accuracy']:.3f}; {where}."
        )
    return lines


def summary_fields(record: Optional[Dict]) -> Optional[Dict]:
    """run_summary.json's `edge`: per TF Lite model {path, bytes, agreement, accuracy, balanced_accuracy,
    published, reason}, the SavedModel's own scores on the same images, and the input the models take."""
    if record is None:
        return None
    keys = ("path", "bytes", "agreement", "accuracy", "balanced_accuracy", "published", "reason")
    return {
        "exported": record["exported"],
        "reason": record.get("reason"),
        FLOAT: {k: record[FLOAT][k] for k in keys} if record.get(FLOAT) else None,
        INT8: {k: record[INT8][k] for k in keys} if record.get(INT8) else None,
        "saved_model": record.get("saved_model"),
        "parity_images": record.get("parity_images"),
        "min_int8_agreement": record.get("min_int8_agreement"),
        "input_spec": record.get("input_spec"),
        "folder": record.get("folder"),
        "findings": describe(record),
    }
