"""What the Evaluator computes for the PromotionGate: TFMA's config over the served signature."""
from __future__ import annotations

import json

import tensorflow_model_analysis as tfma
from google.protobuf.wrappers_pb2 import BoolValue

from components import features
from components.promotion_gate.tfma_metrics import CONFIDENCE_THRESHOLDS, THRESHOLDS_METRIC

TFMA_METRICS_MODULE = "components.promotion_gate.tfma_metrics"


def eval_config() -> tfma.EvalConfig:
    """What TFMA computes for the candidate and the last blessed model; the PromotionGate decides.

    The confusion matrix gives per-class recall and precision and the balanced accuracy without
    knowing the number of classes when the pipeline is built; the confusion matrices at confidence
    thresholds 0.1 ... 0.9 give precision and recall when the model answers only above one (the
    report's threshold table). TFMA's default metrics (the model's compiled ones) are off: the
    loss comes from our own metric, without reloading the model.
    """
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                label_key=features.LABEL_KEY,
                signature_name=features.SERVING_SIGNATURE,
                prediction_key=features.PROBABILITIES_OUTPUT,
            )
        ],
        slicing_specs=[tfma.SlicingSpec()],
        metrics_specs=[
            tfma.MetricsSpec(
                metrics=[
                    tfma.MetricConfig(class_name="ExampleCount"),
                    tfma.MetricConfig(class_name="SparseCategoricalAccuracy"),
                    tfma.MetricConfig(class_name="MultiClassConfusionMatrixPlot"),
                    tfma.MetricConfig(
                        class_name="ConfusionMatricesAtThresholds",
                        module=TFMA_METRICS_MODULE,
                        config=json.dumps({"name": THRESHOLDS_METRIC, "thresholds": CONFIDENCE_THRESHOLDS}),
                    ),
                    tfma.MetricConfig(class_name="MacroAveragedRecall", module=TFMA_METRICS_MODULE),
                    tfma.MetricConfig(class_name="SparseCategoricalCrossentropy", module=TFMA_METRICS_MODULE),
                ]
            )
        ],
        options=tfma.Options(include_default_metrics=BoolValue(value=False)),
    )
