"""The edge section of the run report: each TF Lite model beside the SavedModel, and what it takes."""
from __future__ import annotations

from components.contracts.edge import EdgeRecord
from components.edge_export.convert import FLOAT, INT8
from components.edge_export.parity import describe
from components.reporting import html


def edge_section(record: EdgeRecord) -> str:
    """`record` is the EdgeExport step's record (edge_export.json)."""
    if not record.exported:
        return html.section("Edge models (TF Lite)", html.verdict_box(html.WARNING, describe(record)))
    tone = html.GOOD if record.tflite_int8 and record.tflite_int8.published else html.WARNING
    saved = record.saved_model
    rows = [["SavedModel (served)", "", "100.0%", f"{saved.accuracy:.3f}", f"{saved.balanced_accuracy:.3f}", "yes"]]
    for key, name in ((FLOAT, "TF Lite float"), (INT8, "TF Lite int8")):
        model = getattr(record, key)
        if model and model.bytes is None:
            rows.append([name, "not written", "", "", "", "no"])
        elif model:
            rows.append(
                [
                    name,
                    f"{model.bytes / 1e6:.2f} MB",
                    f"{model.agreement:.1%}",
                    f"{model.accuracy:.3f}",
                    f"{model.balanced_accuracy:.3f}",
                    "yes" if model.published else "no",
                ]
            )
    spec = record.input_spec
    intro = (
        f"<p>Checked on the first {record.parity_images} eval images: agreement is the share of images "
        "where the TF Lite model's top class is the SavedModel's. The int8 model is published only at "
        f"{record.min_int8_agreement:.1%} agreement or more (--min-int8-agreement). Folder: "
        f"{html.escape(record.folder or '')}</p>"
    )
    takes = (
        f"<p>Input: {html.escape(spec['dtype'])} pixels [{', '.join(str(n or 'batch') for n in spec['shape'])}] "
        f"({html.escape(spec['layout'])}), "
        f"{spec['range'][0]} to {spec['range'][1]}, {html.escape(spec['color'])}; {html.escape(spec['resize'])}. "
        "The decode step is not in a TF Lite model: the app decodes and resizes (input_spec.json).</p>"
    )
    return html.section(
        "Edge models (TF Lite)",
        html.verdict_box(tone, describe(record)),
        intro,
        html.table(["model", "size", "agreement", "accuracy", "balanced accuracy", "published"], rows),
        takes,
    )
